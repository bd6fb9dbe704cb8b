#!/usr/bin/python3
"""bench-concurrency.py - every service at once on one NPU (issue 16), the
"Concurrency" section of make bench.  Runs the manager on the sim backend
with its realistic latencies (tools/make-sim-assets without --fast;
latency_scale 1; the lanes share one simulated NPU, sim-npu.c) and the
service binaries this build has.

1. CLIP classify (hailo-clip /v1/classify, one image, 5 prompts, one client
   at a time) alone, then while hailo-vision streams long answers back to
   back; the VLM's tokens/s alone and meanwhile; the share of device time
   the dense lane used meanwhile (the sim's device_time: the dense jobs'
   busy time and every network switch).  Under parallel_genai auto (lanes)
   and off (the old one-at-a-time order).  Targets: classify p95 during
   the stream <= max(3 x solo p95, solo p95 + 250 ms); the VLM's tokens/s
   drop <= the dense share.
2. Every service alone and all together: p50/p99 per service, one client
   per service alone, two per service together.  Services are found by
   their binaries; a service without a driver here is listed as such, so a
   new one shows up the day it lands (add its driver to DRIVERS).

Usage: bench-concurrency.py [--build BUILD] [--quick] [--json OUT]
Exits 1 when a target is missed.
"""
import argparse
import base64
import http.client
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = "qwen2-vl-2b-instruct"
KNOWN_SERVICES = ("hailo-clip", "hailo-vision", "hailo-ocr", "hailo-depth", "hailo-pose",
                  "hailo-whisper", "hailo-llm")
PROMPTS = ["a photo of a cat", "a photo of a dog", "a red car", "a beach at sunset",
           "a mountain landscape"]


def png_bytes(w, h, rgb):
    raw = b"".join(b"\0" + bytes(rgb) * w for _ in range(h))

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


IMAGE = base64.b64encode(png_bytes(320, 240, (40, 120, 200))).decode()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


class Stack:
    """Manager + services on temporary sockets and ports, realistic sim."""

    def __init__(self, build, tmp, parallel):
        self.build, self.tmp = build, tmp
        self.bin = os.path.join(build, "bin")
        self.sock = os.path.join(tmp, "run", "device.sock")
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "..", "tools", "make-sim-assets"),
                        tmp, "--socket", self.sock], check=True, stdout=subprocess.DEVNULL)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HAILO_")}
        self.env.update(HAILO_DEVICE_SOCKET=self.sock,
                        HAILO_DEVICE_MODEL_DIRS=os.path.join(tmp, "models"))
        self.procs, self.ports = [], {}
        self.log = open(os.path.join(tmp, "stack.log"), "ab")
        self.spawn([os.path.join(self.bin, "hailo-device-manager"), "--backend", "sim",
                    "--http-bind", "off", "--log-level", "warn", "--parallel-genai", parallel])
        self.wait(lambda: self.status() is not None, "the manager")

    def spawn(self, argv):
        p = subprocess.Popen(argv, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def wait(self, cond, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if cond():
                    return
            except (OSError, ValueError, http.client.HTTPException):
                pass
            time.sleep(0.05)
        raise RuntimeError("%s did not come up (see %s)" % (what, self.log.name))

    def service(self, name):
        port = free_port()
        cfg = os.path.join(self.tmp, name + ".yaml")
        self.spawn([os.path.join(self.bin, name), "--config", cfg, "--host", "127.0.0.1",
                    "--port", str(port), "--log-level", "warn"])
        path = "/health" if name == "hailo-clip" else "/health/ready"
        self.wait(lambda: http_get(port, path) == 200, name)
        self.ports[name] = port
        return port

    def status(self):
        data = json.dumps({"action": "status"}).encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.sock)
            s.sendall(struct.pack(">I", len(data)) + data)
            buf = b""
            while len(buf) < 4:
                c = s.recv(4 - len(buf))
                if not c:
                    return None
                buf += c
            n = struct.unpack(">I", buf)[0]
            body = b""
            while len(body) < n:
                c = s.recv(n - len(body))
                if not c:
                    return None
                body += c
        return json.loads(body)

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.log.close()


def http_get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        c.request("GET", path)
        return c.getresponse().status
    finally:
        c.close()


class Http:
    """One keep-alive connection."""

    def __init__(self, port):
        self.port = port
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def post(self, path, body):
        data = json.dumps(body).encode()
        self.c.request("POST", path, body=data, headers={"Content-Type": "application/json"})
        return self.c.getresponse()

    def post_form(self, path, fields):
        """A multipart POST: fields are (name, str or (filename, bytes, type))."""
        boundary = "bench-concurrency-boundary"
        data = b""
        for name, value in fields:
            data += ('--%s\r\nContent-Disposition: form-data; name="%s"' % (boundary, name)).encode()
            if isinstance(value, tuple):
                data += ('; filename="%s"\r\nContent-Type: %s\r\n\r\n' % (value[0], value[2])
                         ).encode() + value[1]
            else:
                data += b"\r\n\r\n" + value.encode()
            data += b"\r\n"
        data += ("--%s--\r\n" % boundary).encode()
        self.c.request("POST", path, body=data, headers={
            "Content-Type": "multipart/form-data; boundary=" + boundary})
        return self.c.getresponse()


# ---- service drivers: one timed request, checked ---------------------------

def clip_classify(conn):
    r = conn.post("/v1/classify", {"image": IMAGE, "prompts": PROMPTS, "top_k": 3})
    body = r.read()
    if r.status != 200 or len(json.loads(body)["classifications"]) != 3:
        raise RuntimeError("classify: %d %s" % (r.status, body[:200]))


def vision_chat(conn, max_tokens=32):
    r = conn.post("/v1/chat/completions", {
        "model": MODEL, "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "Describe the picture."},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64," + IMAGE}}]}]})
    body = r.read()
    if r.status != 200 or not json.loads(body)["choices"][0]["message"]["content"]:
        raise RuntimeError("chat: %d %s" % (r.status, body[:200]))


def vision_stream(conn, max_tokens=200, on_piece=None):
    """One streamed answer: (pieces, seconds from the first piece to the
    last); on_piece(t) is called with the arrival time of each piece."""
    r = conn.post("/v1/chat/completions", {
        "model": MODEL, "max_tokens": max_tokens, "stream": True,
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "Describe the picture in as much detail as you can."},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64," + IMAGE}}]}]})
    if r.status != 200:
        raise RuntimeError("stream: %d %s" % (r.status, r.read()[:200]))
    pieces, first, last, done = 0, None, None, False
    for raw in r:
        line = raw.decode().strip()
        if line == "data: [DONE]":
            done = True
            break
        if line.startswith("data: {"):
            chunk = json.loads(line[6:])
            if "error" in chunk:
                raise RuntimeError("stream error: %s" % line[:200])
            if chunk["choices"][0]["delta"].get("content"):
                pieces += 1
                last = time.monotonic()
                first = first or last
                if on_piece:
                    on_piece(last)
    r.read()
    if not done:
        raise RuntimeError("stream ended without [DONE]")
    return pieces, (last - first) if first and last and last > first else float("nan")


def wav_bytes(parts, rate=16000):
    """A 16 kHz mono WAV of (seconds, hz) parts: a tone, or silence at hz 0
    (the sim's Whisper gives one segment per voiced stretch)."""
    import math
    pcm = b"".join(struct.pack("<h", int(9000 * math.sin(2 * math.pi * hz * i / rate)) if hz
                               else 0)
                   for seconds, hz in parts for i in range(int(seconds * rate)))
    return (b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
            + b"data" + struct.pack("<I", len(pcm)) + pcm)


with open(os.path.join(HERE, "..", "tests", "data", "ocr", "text-page.png"), "rb") as _f:
    OCR_PAGE = "data:image/png;base64," + base64.b64encode(_f.read()).decode()


def figures_png(w, h, boxes):
    """A PNG of bright figures (x0, y0, x1, y1) on a dark ground: the sim's
    yolov8s_pose finds one person per bright blob."""
    rows = []
    for y in range(h):
        row = bytearray(b"\0")
        for x in range(w):
            inside = any(x0 <= x <= x1 and y0 <= y <= y1 for x0, y0, x1, y1 in boxes)
            row += bytes((245, 245, 245) if inside else (40, 50, 60))
        rows.append(bytes(row))

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


FIGURES = base64.b64encode(figures_png(320, 240, [(40, 30, 110, 220),
                                                  (200, 60, 270, 220)])).decode()
SPEECH = wav_bytes([(2.0, 220), (0.8, 0), (1.5, 330)])
LLM_MODEL = "qwen2.5-1.5b-instruct"


def checked(r, what, ok):
    body = r.read()
    if r.status != 200 or not ok(json.loads(body)):
        raise RuntimeError("%s: %d %s" % (what, r.status, body[:200]))


def ocr_extract(conn):
    checked(conn.post("/v1/ocr/extract", {"image": OCR_PAGE, "languages": ["en"]}), "ocr",
            lambda b: len(b["regions"]) >= 5)


def depth_estimate(conn):
    checked(conn.post("/v1/depth/estimate", {"image": IMAGE, "output_format": "numpy"}),
            "depth", lambda b: b["depth_map"])


def pose_detect(conn):
    checked(conn.post("/v1/pose/detect", {"image": FIGURES}), "pose", lambda b: b["count"] == 2)


def whisper_transcribe(conn):
    checked(conn.post_form("/v1/audio/transcriptions", [
        ("file", ("speech.wav", SPEECH, "audio/wav")), ("model", "Whisper-Base")]),
        "whisper", lambda b: b["text"])


def llm_chat(conn):
    checked(conn.post("/api/chat", {
        "model": LLM_MODEL, "stream": False,
        "messages": [{"role": "user", "content": "Tell me about lighthouses."}],
        "options": {"num_predict": 32}}), "llm", lambda b: b["message"]["content"])


DRIVERS = {"hailo-clip": clip_classify, "hailo-vision": vision_chat, "hailo-ocr": ocr_extract,
           "hailo-depth": depth_estimate, "hailo-pose": pose_detect,
           "hailo-whisper": whisper_transcribe, "hailo-llm": llm_chat}
# What each request is, for the table.
REQUESTS = {"hailo-clip": "classify, 320x240 PNG, 5 prompts",
            "hailo-vision": "a 32-token answer about the same image, not streamed",
            "hailo-ocr": "the 1280x720 test page (tests/data/ocr), English",
            "hailo-depth": "the same 320x240 PNG, output_format numpy",
            "hailo-pose": "a 320x240 PNG of two figures",
            "hailo-whisper": "4.3 s WAV (two tones and a pause), json",
            "hailo-llm": "Ollama /api/chat, 32 tokens, not streamed"}


def manager_cpu_s(pid):
    """CPU seconds (user + system, every thread) the process has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(fn, conn):
    t0 = time.monotonic()
    fn(conn)
    return (time.monotonic() - t0) * 1000.0


# ---- 1. classify during a long answer ------------------------------------------

def device_shares(before, after, wall_ms):
    """(dense, idle) shares of the window's device time: what the dense lane
    caused (its busy time and every network switch), and what nobody used
    (the simulated chip between operations: host thread hand-overs)."""
    b, a = before["device_time"], after["device_time"]

    def d(lane, k):
        return a[lane][k] - b[lane][k]
    dense = d("dense", "busy_ms") + d("dense", "switch_ms") + d("genai", "switch_ms")
    used = dense + d("genai", "busy_ms")
    return dense / wall_ms, 1 - used / wall_ms


def classify_during_stream(build, parallel, quick):
    tmp = tempfile.mkdtemp(prefix="hdm-bench-conc-", dir="/tmp")
    st = Stack(build, tmp, parallel)
    try:
        clip, vision = Http(st.service("hailo-clip")), Http(st.service("hailo-vision"))
        clip_classify(clip)          # loads CLIP
        vision_chat(vision, 4)       # loads the VLM
        n_solo = 20 if quick else 60
        solo = [timed(clip_classify, clip) for _ in range(n_solo)]
        pieces, _ = vision_stream(vision)

        # Answers back to back for both windows, so the VLM's rate alone and
        # during the CLIP requests are measured over the same pattern of
        # prefills and tokens: pieces that arrived in a window, per second.
        stop = threading.Event()
        piece_times, errors = [], []

        def streamer():
            conn = Http(st.ports["hailo-vision"])
            try:
                while not stop.is_set():
                    vision_stream(conn, on_piece=piece_times.append)
            except Exception as e:  # noqa: BLE001 - reported
                errors.append(repr(e))

        t = threading.Thread(target=streamer)
        t.start()
        # Measure only while answers are under way on the GenAI lane (in the
        # off mode, the one worker runs them).
        st.wait(lambda: st.status()["scheduler"]["running_by_lane"]["genai"] >= 1,
                "a generation to start")
        window = 8 if quick else 20

        def rate(t0, t1):
            return sum(1 for x in list(piece_times) if t0 <= x < t1) / (t1 - t0)
        before, t0 = st.status(), time.monotonic()
        time.sleep(window)  # the VLM alone for one window
        after, t1 = st.status(), time.monotonic()
        tps_solo = rate(t0, t1)
        _, idle_solo = device_shares(before, after, (t1 - t0) * 1000)
        before, t0 = after, time.monotonic()
        during = []
        while time.monotonic() - t0 < window and len(during) < 300:
            during.append(timed(clip_classify, clip))
        after, t1 = st.status(), time.monotonic()
        tps_during = rate(t0, t1)
        share, idle = device_shares(before, after, (t1 - t0) * 1000)
        stop.set()
        t.join(300)
        if errors:
            raise RuntimeError(errors[0])
        return {"parallel_genai": parallel, "solo": solo, "during": during,
                "tps_solo": tps_solo, "tps_during": tps_during, "answer_pieces": pieces,
                "dense_share": share, "idle_solo": idle_solo, "idle_during": idle,
                "lanes": after["scheduler"]["parallel_genai"]}
    finally:
        st.close()
        shutil.rmtree(tmp, ignore_errors=True)


# ---- 2. every service alone and together ----------------------------------------

def services_table(build, quick):
    tmp = tempfile.mkdtemp(prefix="hdm-bench-all-", dir="/tmp")
    st = Stack(build, tmp, "auto")
    present = [s for s in KNOWN_SERVICES if os.path.exists(os.path.join(st.bin, s))]
    driven = [s for s in present if s in DRIVERS]
    rows = {}
    try:
        for s in driven:
            st.service(s)
            DRIVERS[s](Http(st.ports[s]))  # loads its model
        alone_s, together_s = (4, 8) if quick else (10, 30)
        for s in driven:
            conn = Http(st.ports[s])
            DRIVERS[s](conn)  # untimed: brings its model back (the VLM and LLM swap)
            lat, t0 = [], time.monotonic()
            while time.monotonic() - t0 < alone_s or len(lat) < 3:
                lat.append(timed(DRIVERS[s], conn))
            rows[s] = {"alone": lat}
        lats = {s: [] for s in driven}
        errors, stop = [], threading.Event()

        def client(s):
            conn = Http(st.ports[s])
            try:
                while not stop.is_set():
                    lats[s].append(timed(DRIVERS[s], conn))
            except Exception as e:  # noqa: BLE001 - reported
                errors.append("%s: %r" % (s, e))

        threads = [threading.Thread(target=client, args=(s,)) for s in driven for _ in range(2)]
        before, cpu0, t0 = st.status(), manager_cpu_s(st.procs[0].pid), time.monotonic()
        for t in threads:
            t.start()
        time.sleep(together_s)  # the load's duration
        after, cpu1, t1 = st.status(), manager_cpu_s(st.procs[0].pid), time.monotonic()
        stop.set()
        for t in threads:
            t.join(300)
        if errors:
            raise RuntimeError(errors[0])
        for s in driven:
            rows[s]["together"] = lats[s]
        wall_ms = (t1 - t0) * 1000.0
        dt = {lane: {k: after["device_time"][lane][k] - before["device_time"][lane][k]
                     for k in ("busy_ms", "switch_ms")} for lane in ("dense", "genai")}
        load = {"dense_busy": dt["dense"]["busy_ms"] / wall_ms,
                "genai_busy": dt["genai"]["busy_ms"] / wall_ms,
                "switch": (dt["dense"]["switch_ms"] + dt["genai"]["switch_ms"]) / wall_ms,
                "manager_cpu": (cpu1 - cpu0) / (t1 - t0),
                "genai_swaps": after["registry"]["genai_swaps"] - before["registry"]["genai_swaps"],
                "seconds": t1 - t0}
        return present, driven, rows, load
    finally:
        st.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    for p in ("hailo-device-manager", "hailo-clip", "hailo-vision"):
        if not os.path.exists(os.path.join(build, "bin", p)):
            sys.exit("bench-concurrency.py: %s/bin/%s is missing (build first)" % (build, p))

    print("## Concurrency: every service at once on one NPU")
    print()
    missed = []
    runs = [classify_during_stream(build, mode, args.quick) for mode in ("auto", "off")]
    print("Sim backend, latency_scale 1, the sidecars of tools/make-sim-assets (CLIP image "
          "25 ms + text 15 ms, VLM prefill 400 ms per image and per prompt, 60 ms per token; "
          "a network switch costs a tenth of the operation after it); the two lanes share one "
          "simulated NPU (sim-npu.c).  hailo-clip `/v1/classify` (320x240 PNG, 5 prompts, one "
          "client, one request at a time) alone, then while hailo-vision streams answers back "
          "to back (max_tokens 200; the sim's answer is %d pieces).  The VLM's rate: pieces "
          "received per second over a window of answers back to back, alone and during the "
          "CLIP requests.  Dense share: the dense lane's busy time plus every network switch, "
          "over the window; idle: the simulated chip's time between operations (host thread "
          "hand-overs), alone -> during (the sim's `device_time`).  The drop may exceed the "
          "dense share by at most 2 points of that idle time." % runs[0]["answer_pieces"])
    print()
    print("| parallel_genai | classify alone p50 / p95 / p99 ms | during the stream p50 / p95 / "
          "p99 ms (n) | target p95 | VLM tok/s alone / during | drop | dense share | idle | |")
    print("|---|---|---|---:|---|---:|---:|---|---|")
    for r in runs:
        s95, d95 = pct(r["solo"], 95), pct(r["during"], 95)
        bound = max(3 * s95, s95 + 250)
        drop = 1 - r["tps_during"] / r["tps_solo"]
        ok_lat, ok_tps = d95 <= bound, drop <= r["dense_share"] + 0.02
        verdict = "met" if ok_lat and ok_tps else "not met"
        if r["parallel_genai"] == "auto" and not (ok_lat and ok_tps):
            missed.append("classify p95 %.0f ms (bound %.0f), tokens/s drop %.0f%% vs dense "
                          "share %.0f%%" % (d95, bound, drop * 100, r["dense_share"] * 100))
        if r["parallel_genai"] == "off":
            verdict = "(the old order, for comparison)"
        print("| %s | %.0f / %.0f / %.0f | %.0f / %.0f / %.0f (%d) | %.0f | %.1f / %.1f | %.0f%% "
              "| %.0f%% | %.0f%% -> %.0f%% | %s |" % (
                  r["parallel_genai"], pct(r["solo"], 50), s95, pct(r["solo"], 99),
                  pct(r["during"], 50), d95, pct(r["during"], 99), len(r["during"]), bound,
                  r["tps_solo"], r["tps_during"], drop * 100, r["dense_share"] * 100,
                  r["idle_solo"] * 100, r["idle_during"] * 100, verdict))
    print()

    present, driven, rows, load = services_table(build, args.quick)
    print("Every service alone (one client, one request at a time, after one untimed request "
          "that loads its model) and all together (two clients per service at once for "
          "%.0f s), same stack (parallel_genai auto, the sidecars above: OCR detection 30 ms "
          "+ 12 ms per recognition batch, depth 25 ms, pose 20 ms, Whisper 250 ms + 40 ms per "
          "token, LLM prefill 300 ms + 120 ms per token; loads: VLM 9 s, LLM 14 s)." %
          load["seconds"])
    print()
    print("| service | request | alone p50 / p99 ms (n) | together p50 / p99 ms (n) |")
    print("|---|---|---|---|")
    for s in driven:
        a, t = rows[s]["alone"], rows[s]["together"]
        print("| %s | %s | %.0f / %.0f (%d) | %.0f / %.0f (%d) |" % (
            s, REQUESTS[s], pct(a, 50), pct(a, 99), len(a), pct(t, 50), pct(t, 99), len(t)))
    print()
    print("Together: the simulated NPU was busy %.0f%% of the time with dense work and %.0f%% "
          "with GenAI work, %.0f%% switching networks; GenAI swaps: %d (the VLM and the LLM "
          "share the chip's one KV cache: each swap is a load); the manager process (with "
          "the sim computing every output on the host) used %.2f CPU cores." % (
              load["dense_busy"] * 100, load["genai_busy"] * 100, load["switch"] * 100,
              load["genai_swaps"], load["manager_cpu"]))
    absent = [s for s in KNOWN_SERVICES if s not in present]
    undriven = [s for s in present if s not in DRIVERS]
    if absent:
        print("\nNot in this build (rows appear when they land): %s." % ", ".join(absent))
    if undriven:
        print("\nIn this build without a driver in bench/bench-concurrency.py: %s." %
              ", ".join(undriven))
    print("\nCommand: `bench/run.sh BUILD concurrency` (or `make bench`).")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"runs": runs, "services": rows, "together": load}, f)
    if missed:
        print("\nMissed: " + "; ".join(missed))
        sys.exit(1)


if __name__ == "__main__":
    main()
