#!/usr/bin/python3
"""bench-sched.py - the scheduler benchmark of issue 5: the same workloads
under `--scheduler fifo` and `--scheduler fair`, on the sim backend with
fixed device-operation latencies (sidecars), so the figures measure the
scheduler and not the machine.

1. Interactive vs flood: one client keeps FLOOD requests in flight (batch
   class, or normal for the pure-fairness row) while another sends single
   requests one at a time; we report the single client's queue wait (round
   trip minus the device operation), p50/p99, in ms and in device operations.
   Target: p99 under 2 operations with `fair`.
2. Two alternating clients whose models cannot both fit: clients "x" and
   "y" each send from 4 connections, one request per connection at a time,
   so their requests reach the queue interleaved; we report completed
   requests/s and model loads.  Target: `fair` (model affinity) at least 2x `fifo`.

Usage: bench/bench-sched.py [--build BUILD_DIR] [--json OUT] [--quick]
Talks the v1 wire protocol directly (4-byte big-endian length + JSON).
"""
import argparse
import base64
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

OP_MS = 20          # one device operation in workload 1
SWAP_LOAD_MS = 150  # model load time in workload 2
SWAP_INFER_MS = 10
IMG = {"dtype": "uint8", "shape": [8, 8, 3], "data_b64": base64.b64encode(bytes(192)).decode()}


class Conn:
    """One client connection with pipelining: send() any time, recv() in order of answers."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.buf = b""
        self.lock = threading.Lock()

    def send(self, obj):
        data = json.dumps(obj).encode()
        with self.lock:
            self.s.sendall(struct.pack(">I", len(data)) + data)

    def _exact(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("manager closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        (n,) = struct.unpack(">I", self._exact(4))
        return json.loads(self._exact(n))

    def call(self, obj):
        self.send(obj)
        return self.recv()

    def close(self):
        self.s.close()


class Manager:
    def __init__(self, build, mode, tmp, models):
        self.tmp = tmp
        self.sock = os.path.join(tmp, f"dev-{mode}.sock")
        mdir = os.path.join(tmp, "models")
        os.makedirs(mdir, exist_ok=True)
        for name, side in models.items():
            with open(os.path.join(mdir, name), "wb") as f:
                f.write(b"HEF-sim " + name.encode())
            with open(os.path.join(mdir, name + ".sim.json"), "w") as f:
                json.dump(side, f)
        simcfg = os.path.join(tmp, "sim.json")
        with open(simcfg, "w") as f:
            json.dump({"memory_mb": 8192, "latency_scale": 1.0}, f)
        env = dict(os.environ, HAILO_DEVICE_MODEL_DIRS=mdir)
        self.mdir = mdir
        self.proc = subprocess.Popen(
            [os.path.join(build, "bin", "hailo-device-manager"), "--socket", self.sock,
             "--backend", "sim", "--http-bind", "off", "--sim-config", simcfg,
             "--scheduler", mode, "--log-level", "warn"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while True:
            try:
                c = Conn(self.sock)
                if c.call({"action": "ping"}).get("status") == "ok":
                    c.close()
                    break
            except OSError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("manager did not start: " + self.proc.stderr.read().decode())
            time.sleep(0.02)

    def path(self, name):
        return os.path.join(self.mdir, name)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def infer(path, rid, prio, client):
    return {"action": "infer", "model_type": "depth", "model_path": path, "request_id": rid,
            "priority": prio, "client_name": client, "input_data": {"input": IMG}}


def pct(values, p):
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def workload_flood(build, mode, flood_prio, samples, flood_depth):
    with tempfile.TemporaryDirectory(prefix="bench-sched-") as tmp:
        m = Manager(build, mode, tmp, {"op.hef": {"footprint_mb": 100, "load_ms": 0,
                                                  "infer_ms": OP_MS, "input_height": 8,
                                                  "input_width": 8}})
        try:
            model = m.path("op.hef")
            c = Conn(m.sock)
            r = c.call({"action": "load_model", "model_type": "depth", "model_path": model})
            assert r.get("status") == "ok", r
            stop = threading.Event()
            flood = Conn(m.sock)

            def flooder():
                n = 0
                for _ in range(flood_depth):
                    flood.send(infer(model, f"f{n}", flood_prio, "flood"))
                    n += 1
                while not stop.is_set():
                    ans = flood.recv()
                    if ans.get("code") == "busy":
                        time.sleep(ans.get("retry_after_ms", 10) / 1000.0)
                    flood.send(infer(model, f"f{n}", flood_prio, "flood"))
                    n += 1

            t = threading.Thread(target=flooder, daemon=True)
            t.start()
            time.sleep(OP_MS * flood_depth / 1000.0 + 0.1)  # the queue is full of flood
            waits = []
            prio = "interactive" if flood_prio == "batch" else "normal"
            for i in range(samples):
                t0 = time.monotonic()
                r = c.call(infer(model, f"i{i}", prio, "single"))
                rtt = (time.monotonic() - t0) * 1000.0
                assert r.get("status") == "ok", r
                waits.append(max(0.0, rtt - OP_MS))
                time.sleep(2 * OP_MS / 1000.0)
            stop.set()
            return {"p50_ms": pct(waits, 50), "p99_ms": pct(waits, 99),
                    "p50_ops": pct(waits, 50) / OP_MS, "p99_ops": pct(waits, 99) / OP_MS}
        finally:
            m.stop()


def workload_swap(build, mode, seconds, conns_per_client):
    """Clients "x" and "y" (by client_name), each sending from several
    connections one request at a time, so their requests arrive interleaved."""
    side = {"footprint_mb": 5000, "load_ms": SWAP_LOAD_MS, "infer_ms": SWAP_INFER_MS,
            "input_height": 8, "input_width": 8}
    with tempfile.TemporaryDirectory(prefix="bench-sched-") as tmp:
        m = Manager(build, mode, tmp, {"x.hef": side, "y.hef": side})
        try:
            done = {"x": 0, "y": 0}
            lock = threading.Lock()
            stop = threading.Event()

            def connection(name, k):
                c = Conn(m.sock)
                path = m.path(name + ".hef")
                n = 0
                while not stop.is_set():
                    r = c.call(infer(path, f"{name}{k}-{n}", "normal", name))
                    n += 1
                    if r.get("status") == "ok":
                        with lock:
                            done[name] += 1
                c.close()

            threads = []
            for k in range(conns_per_client):
                for name in ("x", "y"):
                    threads.append(threading.Thread(target=connection, args=(name, k)))
            t0 = time.monotonic()
            for t in threads:
                t.start()
                time.sleep(0.002)  # arrivals alternate x, y, x, y
            time.sleep(seconds)
            stop.set()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - t0
            st = Conn(m.sock).call({"action": "status"})
            loads = st.get("registry", {}).get("loads")
            total = done["x"] + done["y"]
            return {"req_per_s": total / elapsed, "completed": total, "loads": loads,
                    "per_client": done}
        finally:
            m.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("HDM_BUILD_DIR", "build"))
    ap.add_argument("--json", help="write the results as JSON to this file")
    ap.add_argument("--quick", action="store_true", help="fewer samples (smoke run)")
    a = ap.parse_args()
    samples = 8 if a.quick else 20
    seconds = 2 if a.quick else 6
    res = {"op_ms": OP_MS, "swap_load_ms": SWAP_LOAD_MS, "swap_infer_ms": SWAP_INFER_MS}
    for mode in ("fifo", "fair"):
        res[mode] = {
            "interactive_vs_batch": workload_flood(a.build, mode, "batch", samples, 16),
            "same_class_fairness": workload_flood(a.build, mode, "normal", samples, 16),
            "two_models_swap": workload_swap(a.build, mode, seconds, 4),
        }
    print(f"Device operation {OP_MS} ms; flood keeps 16 requests in flight.")
    print("| workload | fifo | fair |")
    print("|---|---|---|")
    for key, label in (("interactive_vs_batch", "interactive wait during batch flood"),
                       ("same_class_fairness", "single-request client wait vs same-class flood")):
        f, g = res["fifo"][key], res["fair"][key]
        print(f"| {label}: p50 / p99 | {f['p50_ms']:.0f} / {f['p99_ms']:.0f} ms "
              f"({f['p50_ops']:.1f} / {f['p99_ops']:.1f} ops) | {g['p50_ms']:.0f} / "
              f"{g['p99_ms']:.0f} ms ({g['p50_ops']:.1f} / {g['p99_ops']:.1f} ops) |")
    f, g = res["fifo"]["two_models_swap"], res["fair"]["two_models_swap"]
    print(f"| two clients, models that cannot both fit (load {SWAP_LOAD_MS} ms, infer "
          f"{SWAP_INFER_MS} ms): throughput, loads | {f['req_per_s']:.1f} req/s, {f['loads']} "
          f"loads | {g['req_per_s']:.1f} req/s, {g['loads']} loads |")
    ratio = g["req_per_s"] / f["req_per_s"] if f["req_per_s"] else float("inf")
    p99 = res["fair"]["interactive_vs_batch"]["p99_ops"]
    print(f"\nfair/fifo throughput: {ratio:.1f}x (target >= 2x); fair interactive p99 wait: "
          f"{p99:.2f} ops (target < 2)")
    res["targets"] = {"swap_ratio": ratio, "swap_ok": ratio >= 2.0,
                      "interactive_p99_ops": p99, "interactive_ok": p99 < 2.0}
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=2)
    return 0 if res["targets"]["swap_ok"] and res["targets"]["interactive_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
