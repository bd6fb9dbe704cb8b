#!/usr/bin/python3
"""bench-whisper.py --build BUILD - the "hailo-whisper" section of
docs/BENCHMARKS.md: the whole service through HTTP on the simulated stack
(tools/make-sim-assets --fast: latency_scale 0, so the figures are the
host's: upload, decoding, windows over the manager socket, stitching,
rendering).

  1. A 1-hour MP3 (16 kHz mono 32 kb/s, 14 MiB, 120+ windows) transcribed in
     one request: the service's peak RSS (VmHWM of a fresh process, so
     start-up, the upload, libav and every buffer count) and the time.
  2. The 10-minute MP3 (44.1 kHz stereo 128 kb/s) in one request: time.
  3. 8 concurrent clients sending the 6-s speech WAV (json): time per
     request (median, p90), requests per second, and the service's peak RSS.
  4. The simulator's own cost per window (the manager's service time for
     whisper, p50), which the times above include.
Prints Markdown.  BENCH_WHISPER_REQUESTS (default 64) sets the requests of 3.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
MODEL = "Whisper-Base"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_of(sock):
    data = json.dumps({"action": "status"}).encode()
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(sock)
        s.sendall(struct.pack(">I", len(data)) + data)
        head = s.recv(4, socket.MSG_WAITALL)
        n = struct.unpack(">I", head)[0]
        body = b""
        while len(body) < n:
            body += s.recv(n - len(body))
    return json.loads(body)


def peak_kb(pid, field="VmHWM"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Stack:
    def __init__(self, build):
        self.bin = os.path.join(build, "bin")
        self.dir = tempfile.mkdtemp(prefix="bench-whisper-")
        self.sock = os.path.join(self.dir, "run", "device.sock")
        subprocess.run([sys.executable, os.path.join(SRC, "tools", "make-sim-assets"), self.dir,
                        "--fast", "--socket", self.sock], check=True, stdout=subprocess.DEVNULL)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HAILO_")}
        self.env["HAILO_DEVICE_SOCKET"] = self.sock
        self.env["HAILO_DEVICE_MODEL_DIRS"] = os.path.join(self.dir, "models")
        with open(os.path.join(self.dir, "hailo-whisper.yaml")) as f:
            text = f.read()
        with open(os.path.join(self.dir, "bench.yaml"), "w") as f:
            f.write(text.replace("max_audio_duration_seconds: 300",
                                 "max_audio_duration_seconds: 3600"))
        self.procs = []
        self.manager = self.start(["hailo-device-manager", "--backend", "sim", "--socket",
                                   self.sock, "--http-bind", "off", "--sim-config",
                                   os.path.join(self.dir, "sim-config.json")], "manager")
        self.wait(lambda: os.path.exists(self.sock) and status_of(self.sock), "the manager")

    def start(self, argv, name):
        log = open(os.path.join(self.dir, name + ".log"), "ab")
        p = subprocess.Popen([os.path.join(self.bin, argv[0])] + argv[1:], env=self.env,
                             stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def wait(self, pred, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if pred():
                    return
            except (OSError, ValueError, requests.RequestException):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"timed out waiting for {what}")

    def whisper(self):
        """A fresh hailo-whisper (its VmHWM starts from nothing); returns (proc, url)."""
        port = free_port()
        p = self.start(["hailo-whisper", "--config", os.path.join(self.dir, "bench.yaml"),
                        "--port", str(port)], f"whisper-{port}")
        url = f"http://127.0.0.1:{port}"
        self.wait(lambda: requests.get(url + "/health/ready", timeout=2).status_code == 200,
                  "hailo-whisper")
        return p, url

    @staticmethod
    def stop(p):
        p.send_signal(signal.SIGTERM)
        p.wait(30)

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                self.stop(p)
        shutil.rmtree(self.dir, ignore_errors=True)


def transcribe(url, data, name, fmt="json"):
    t0 = time.perf_counter()
    r = requests.post(url + "/v1/audio/transcriptions", data={"model": MODEL,
                                                              "response_format": fmt},
                      files={"file": (name, data)}, timeout=600)
    ms = (time.perf_counter() - t0) * 1000
    if r.status_code != 200:
        raise RuntimeError(f"{name}: HTTP {r.status_code} {r.text[:200]}")
    return ms, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    audio = os.path.join(build, "tests", "data", "audio")
    subprocess.run([os.path.join(SRC, "tests", "data", "audio", "make-audio.sh"), audio,
                    "--long"], check=True, stdout=subprocess.DEVNULL)
    read = lambda n: open(os.path.join(audio, n), "rb").read()  # noqa: E731
    hour, ten, speech = read("long-1h.mp3"), read("long-10min.mp3"), read("speech.wav")
    n_req = int(os.environ.get("BENCH_WHISPER_REQUESTS", "64"))

    stack = Stack(build)
    try:
        # 1. one hour, fresh process
        p, url = stack.whisper()
        idle_kb = peak_kb(p.pid, "VmRSS")
        ms_hour, r = transcribe(url, hour, "long-1h.mp3", "verbose_json")
        body = r.json()
        hour_kb = peak_kb(p.pid)
        segments, duration = len(body["segments"]), body["duration"]
        # 2. ten minutes, same process
        ms_ten = statistics.median(transcribe(url, ten, "long-10min.mp3")[0] for _ in range(3))
        stack.stop(p)

        # 3. 8 concurrent clients, fresh process
        p, url = stack.whisper()
        transcribe(url, speech, "speech.wav")
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            times = list(pool.map(lambda _: transcribe(url, speech, "speech.wav")[0],
                                  range(n_req)))
        wall = time.perf_counter() - t0
        conc_kb = peak_kb(p.pid)
        st = status_of(stack.sock)
        stack.stop(p)
        sim = next((m["service_ms"] for m in st.get("model_types", [])
                    if m["model_type"] == "whisper"), {})
    finally:
        stack.close()

    times.sort()
    print("## hailo-whisper")
    print()
    print("`bench/run.sh BUILD whisper`: the service through HTTP on the simulated stack "
          "(`tools/make-sim-assets --fast`, latency_scale 0), so every figure is host-side work: "
          "receiving the upload, decoding it in place (src/audio), one binary float32 tensor per "
          "30-s window over the manager socket, stitching and rendering.  Machine load when it "
          f"ran: {open('/proc/loadavg').read().split()[0]}.")
    print()
    print("| measurement | result |")
    print("|---|---:|")
    print(f"| 1-hour MP3 ({len(hour) / 2**20:.1f} MiB, {duration:.0f} s, {segments} segments), "
          f"one request, verbose_json | {ms_hour / 1000:.2f} s |")
    print(f"| **service peak RSS** during it (VmHWM of a fresh process; {idle_kb / 1024:.1f} MiB "
          f"when idle) | **{hour_kb / 1024:.1f} MiB** (target <= 60 MB) |")
    print(f"| 10-minute MP3 ({len(ten) / 2**20:.1f} MiB, 44.1 kHz stereo 128 kb/s), one request, "
          f"median of 3 | {ms_ten:.0f} ms |")
    print(f"| 6-s speech WAV, {n_req} requests from 8 concurrent clients: per request p50 / p90 | "
          f"{times[len(times) // 2]:.1f} / {times[int(len(times) * 0.9)]:.1f} ms |")
    print(f"| the same: throughput | {n_req / wall:.1f} requests/s |")
    print(f"| the same: service peak RSS (fresh process) | {conc_kb / 1024:.1f} MiB |")
    print(f"| the simulator's own cost per window (manager service time p50 / p99) | "
          f"{sim.get('p50', 0):.1f} / {sim.get('p99', 0):.1f} ms |")


if __name__ == "__main__":
    main()
