#!/usr/bin/python3
"""bench/bench-depth-service.py --build BUILD - the "hailo-depth" section of
docs/BENCHMARKS.md: hailo-depth end to end on a hailo-device-manager with
the sim backend at zero latency (so the figures are the host's work alone).

- Host time per request: the service process's CPU time (utime + stime of
  every thread, /proc/PID/stat) over N sequential POST /v1/depth/estimate
  requests of a 1920x1080 JPEG (multipart), divided by N; per output_format
  and .npz level.  The manager's own work (the simulated model) runs in
  another process and is not counted.
- Memory: a fresh service, one warm-up request, then 8 clients sending the
  same request (JSON, base64) back to back for BENCH_SECONDS (default 10)
  with bench-clip; the service's peak RSS (VmHWM, kept by the kernel) and
  its largest sampled VmRSS.
- A 4000x3000 JPEG, output_format both: CPU time and peak RSS of one request
  in a fresh service.

The Python path (GM's hailo_depth_server.py) is not in this repository; it
was timed outside it (PYTHON_* below: how, and what it measured).
BENCH_DEPTH_RUNS (default 15) sets N.
"""

import argparse
import base64
import http.client
import io
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, ".."))

# GM's whole request path for the same 1920x1080 JPEG and the sim's output for
# it, output_format both, run outside the repository with Debian 12's
# python3-numpy 1.24.2, python3-pil 9.4.0, python3-matplotlib 3.6.3 on the
# machine of the table below (2-core x86-64 build machine, shared, 2026-12-03):
# time.thread_time() around json.loads(body) + b64decode + estimate_depth()
# (GM's code unmodified; its device client replaced by one that serialises
# the request and parses the manager's answer text as device_client does) +
# json.dumps(result) (what web.json_response does), median of 5 runs, in 4
# rounds interleaved with 15 requests to hailo-depth measured as below.
PYTHON_BOTH_MS = 600
PYTHON_NOTE = ("GM's request path: medians of 644, 586, 592 and 608 ms in 4 rounds, "
               "interleaved with hailo-depth's 104, 100, 113 and 99 ms (5.9x); its .npz "
               "(np.savez_compressed, zlib level 6) alone is ~370 ms of that")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def photo(w, h, path):
    """A photo-like JPEG: sky, ground, a bright disc, a dark block, grain."""
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    sky = np.stack([90 + 80 * y / h, 140 + 60 * y / h, 230 - 40 * y / h], -1)
    ground = np.stack([70 + 90 * y / h, 110 + 50 * x / w, 40 + 0 * x], -1)
    img = np.where((y > h * 0.55)[..., None], ground, sky)
    img[(x - w * 0.3) ** 2 + (y - h * 0.65) ** 2 < (h * 0.18) ** 2] = [250, 240, 220]
    img[int(h * .2):int(h * .5), int(w * .6):int(w * .8)] = [30, 25, 20]
    img = img + rng.normal(0, 12, img.shape)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path, quality=90)
    with open(path, "rb") as f:
        return f.read()


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def multipart(image, fields):
    boundary = "bench-depth-boundary"
    out = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
           f"filename=\"photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".encode(), image, b"\r\n"]
    for k, v in fields.items():
        out.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n"
                   f"{v}\r\n".encode())
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


class Stack:
    def __init__(self, build):
        self.build = build
        self.bin = os.path.join(build, "bin")
        self.dir = tempfile.mkdtemp(prefix="bench-depth-")
        self.socket = os.path.join(self.dir, "run", "device.sock")
        subprocess.run([sys.executable, os.path.join(SRC, "tools", "make-sim-assets"), self.dir,
                        "--fast", "--socket", self.socket], check=True,
                       stdout=subprocess.DEVNULL)
        self.env = dict(os.environ, HAILO_DEVICE_SOCKET=self.socket,
                        HAILO_DEVICE_MODEL_DIRS=os.path.join(self.dir, "models"))
        self.procs = []
        self.start([os.path.join(self.bin, "hailo-device-manager"), "--backend", "sim",
                    "--sim-config", os.path.join(self.dir, "sim-config.json"),
                    "--http-bind", "off", "--log-level", "error"])

    def start(self, argv):
        p = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def depth(self, extra_yaml=""):
        """A fresh hailo-depth (the sim config plus extra output.* lines)."""
        cfg = os.path.join(self.dir, f"depth-{len(self.procs)}.yaml")
        with open(os.path.join(self.dir, "hailo-depth.yaml")) as f:
            text = f.read().replace("  depth_png_16: false\n",
                                    "  depth_png_16: false\n" + extra_yaml)
        with open(cfg, "w") as f:
            f.write(text)
        port = free_port()
        p = self.start([os.path.join(self.bin, "hailo-depth"), "--config", cfg, "--port",
                        str(port), "--log-level", "error"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/health/ready")
                if c.getresponse().status == 200:
                    return p, port
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("hailo-depth did not become ready")

    def stop(self, p):
        p.send_signal(signal.SIGTERM)
        p.wait(20)

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(20)
        shutil.rmtree(self.dir, ignore_errors=True)


def post(port, body, ctype):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    c.request("POST", "/v1/depth/estimate", body, {"Content-Type": ctype})
    r = c.getresponse()
    data = r.read()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}: {data[:200]}")
    return data


def cpu_per_request(stack, image, fields, extra_yaml="", runs=15):
    p, port = stack.depth(extra_yaml)
    body, ctype = multipart(image, fields)
    post(port, body, ctype)  # warm-up
    c0 = cpu_s(p.pid)
    t0 = time.monotonic()
    for _ in range(runs):
        reply = post(port, body, ctype)
    cpu_ms = (cpu_s(p.pid) - c0) / runs * 1000
    wall_ms = (time.monotonic() - t0) / runs * 1000
    service_ms = json.loads(reply)["inference_time_ms"]
    stack.stop(p)
    return cpu_ms, wall_ms, service_ms, len(reply)


def memory_under_load(stack, image, seconds, clients=8):
    p, port = stack.depth()
    body_path = os.path.join(stack.dir, "both.json")
    with open(body_path, "w") as f:
        json.dump({"image": base64.b64encode(image).decode(), "output_format": "both"}, f)
    with open(body_path, "rb") as f:
        post(port, f.read(), "application/json")
    time.sleep(0.5)  # the reply's memory goes back once the server has let go of it
    idle_kb = status_kb(p.pid, "VmRSS")
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(status_kb(p.pid, "VmRSS"))
            time.sleep(0.02)
    t = threading.Thread(target=sample)
    t.start()
    out = subprocess.run([os.path.join(stack.bin, "bench-clip"), "--port", str(port), "--path",
                          "/v1/depth/estimate", "--body", body_path, "--clients", str(clients),
                          "--seconds", str(seconds)], capture_output=True, text=True,
                         check=True).stdout
    stop.set()
    t.join()
    hwm_kb = status_kb(p.pid, "VmHWM")
    stack.stop(p)
    fields = dict(kv.split("=") for kv in out.split())
    return idle_kb, hwm_kb, max(samples), fields


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    for prog in ("hailo-device-manager", "hailo-depth", "bench-clip"):
        if not os.access(os.path.join(build, "bin", prog), os.X_OK):
            sys.exit(f"bench-depth-service.py: {build}/bin/{prog} is missing (build first)")
    runs = int(os.environ.get("BENCH_DEPTH_RUNS", "15"))
    seconds = float(os.environ.get("BENCH_SECONDS", "10"))
    stack = Stack(build)
    try:
        hd = photo(1920, 1080, os.path.join(stack.dir, "photo-1920x1080.jpg"))
        big = photo(4000, 3000, os.path.join(stack.dir, "photo-4000x3000.jpg"))
        rows = []
        for label, fields, extra in (
                ("both (default: .npz stored, PNG level 1)", {"output_format": "both"}, ""),
                ("both, .npz Huffman-only (npz_level -1)", {"output_format": "both"},
                 "  npz_level: -1\n"),
                ("both, numpy's and Pillow's level 6", {"output_format": "both"},
                 "  npz_level: 6\n  png_level: 6\n"),
                ("numpy", {"output_format": "numpy"}, ""),
                ("image", {"output_format": "image"}, ""),
                ("depth_png_16", {"output_format": "depth_png_16"}, "")):
            rows.append((label,) + cpu_per_request(stack, hd, fields, extra, runs))
        idle_kb, hwm_kb, max_kb, load = memory_under_load(stack, hd, seconds)
        big_cpu, big_wall, big_service, big_len = cpu_per_request(stack, big,
                                                                  {"output_format": "both"},
                                                                  runs=1)
        p, port = stack.depth()
        body, ctype = multipart(big, {"output_format": "both"})
        post(port, body, ctype)
        big_hwm = status_kb(p.pid, "VmHWM")
        stack.stop(p)
    finally:
        stack.close()

    print("## hailo-depth")
    print()
    print("End to end over HTTP: POST /v1/depth/estimate with a 1920x1080 JPEG "
          f"({len(hd) // 1024} KB, multipart) -> hailo-depth -> hailo-device-manager (sim backend, "
          "`latency_scale: 0`: the simulated scdepthv3 runs in the manager's process and is not "
          "counted).  \"CPU\" is hailo-depth's own CPU time per request (all threads, "
          f"/proc/PID/stat over {runs} sequential requests); \"wall\" is the client's time per "
          "request; \"service\" is the answer's inference_time_ms (decode to normalised map).  "
          "Command: `bench/run.sh BUILD_DIR depth-service`.")
    print()
    print("| output_format | CPU ms | wall ms | service ms | reply bytes | vs Python |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, cpu_ms, wall_ms, service_ms, length in rows:
        ratio = f"{PYTHON_BOTH_MS / cpu_ms:.1f}x" if label.startswith("both") else ""
        print(f"| {label} | {cpu_ms:.0f} | {wall_ms:.0f} | {service_ms:.1f} | {length} | {ratio} |")
    print()
    print(f"Python path (GM hailo-depth, output_format both): {PYTHON_BOTH_MS} ms of CPU per "
          f"request on this machine ({PYTHON_NOTE}; measured outside the repository, see the "
          "header of bench/bench-depth-service.py).")
    print()
    print(f"Memory, 8 clients back to back for {seconds:.0f} s (JSON with base64, output_format "
          f"both; the default performance.memory_budget_mb 24): peak RSS (VmHWM) "
          f"{hwm_kb / 1024:.1f} MB, largest sampled VmRSS {max_kb / 1024:.1f} MB, after one "
          f"request {idle_kb / 1024:.1f} MB; {load['requests']} requests, "
          f"{float(load['req_s']):.1f} req/s, p50 {float(load['p50_ms']):.0f} ms, "
          f"p99 {float(load['p99_ms']):.0f} ms, errors {load['errors']}.")
    print()
    print(f"A 4000x3000 JPEG ({len(big) // 1024} KB), output_format both: {big_cpu:.0f} ms CPU, "
          f"{big_wall:.0f} ms wall, a {big_len / 2**20:.0f} MB reply; peak RSS of that request "
          f"in a fresh service {big_hwm / 1024:.0f} MB (it is larger than the budget, so it "
          "runs alone).")


if __name__ == "__main__":
    main()
