#!/usr/bin/python3
"""The demo: the whole stack on the simulated Hailo-10H, driven with real requests.

    scripts/demo.py BUILD_DIR [--fast] [--hold]

Generates simulated assets in a temporary directory, starts hailo-device-manager
(sim backend), hailo-clip and hailo-vision on free loopback ports, sends CLIP
classifications and vision chats at the same time (one chat streamed, printed as
it arrives), asks hailo-depth for a depth map (written to BUILD_DIR/demo-depth.png),
detects people with hailo-pose (the drawn poses saved as BUILD_DIR/demo-pose.png),
transcribes speech with hailo-whisper, then has every service answer at the same
time while a VLM answer streams (a table of each service's answers and latencies),
shows what the manager did (queueing, residency, latencies), and
stops everything cleanly - also on Ctrl-C.  --fast (or HDM_DEMO_FAST=1) uses
zero simulated latencies, for the test suite.  The manager's dashboard URL is
printed when the stack is up; --hold (make demo HOLD=1) keeps the stack up at
the end, with a light trickle of requests, until Ctrl-C.  Python standard
library only.
"""

import base64
import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BOLD = "\033[1m" if sys.stdout.isatty() else ""
DIM = "\033[2m" if sys.stdout.isatty() else ""
RESET = "\033[0m" if sys.stdout.isatty() else ""


def say(text=""):
    print(text, flush=True)


def heading(text):
    say()
    say(f"{BOLD}== {text}{RESET}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(method, url, body=None, timeout=120):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            payload = json.loads(resp.read() or b"null")
            status = resp.status
    except urllib.error.HTTPError as e:
        status = e.code
        try:
            payload = json.loads(e.read() or b"null")
        except ValueError:
            payload = None
    return status, payload, (time.monotonic() - started) * 1000.0


class Stack:
    """The three processes, started and stopped in order."""

    def __init__(self, build, workdir, fast):
        self.bin = os.path.join(build, "bin")
        self.dir = workdir
        self.fast = fast
        self.procs = []
        self.socket = os.path.join(workdir, "run", "device.sock")
        self.clip_port = free_port()
        self.vision_port = free_port()
        self.status_port = free_port()
        # Every service's port, known before the manager starts: its
        # dashboard probes their /health.
        self.ports = {"hailo-clip": self.clip_port, "hailo-vision": self.vision_port}
        for name in ("hailo-ocr", "hailo-llm", "hailo-depth", "hailo-pose", "hailo-whisper"):
            self.ports[name] = free_port()
        self.logs = {}
        # Each service's URL and the input its section sent, for the
        # section where every service answers at once.
        self.urls = {}
        self.inputs = {}

    def assets(self):
        tool = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools",
                            "make-sim-assets")
        args = [sys.executable, tool, self.dir, "--socket", self.socket,
                "--clip-port", str(self.clip_port), "--vision-port", str(self.vision_port)]
        if self.fast:
            args.append("--fast")
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        self.env = dict(os.environ)
        with open(os.path.join(self.dir, "manager.env")) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    k, v = line.split("=", 1)
                    self.env[k] = v
        self.env["HAILO_DEVICE_SOCKET"] = self.socket
        self.env["HAILO_DEVICE_DASHBOARD_SERVICES"] = ",".join(
            f"{name}=http://127.0.0.1:{port}/health" for name, port in self.ports.items())

    def start(self, name, args):
        log = open(os.path.join(self.dir, name + ".log"), "w")
        self.logs[name] = log.name
        p = subprocess.Popen([os.path.join(self.bin, name)] + args, env=self.env,
                             stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
        self.procs.append((name, p))
        return p

    def wait_until(self, what, check, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{name} exited with {p.returncode}; see {self.logs[name]}")
            try:
                if check():
                    return
            except (OSError, ValueError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}")

    def up(self):
        manager = ["--backend", "sim", "--socket", self.socket,
                   "--http-bind", f"127.0.0.1:{self.status_port}", "--log-level", "info"]
        sim_config = os.path.join(self.dir, "sim-config.json")
        if os.path.exists(sim_config):
            manager += ["--sim-config", sim_config]
        t0 = time.monotonic()
        self.start("hailo-device-manager", manager)
        self.wait_until("the device manager", lambda: self.devctl("ping").returncode == 0, 20)
        say(f"  hailo-device-manager  ready in {(time.monotonic() - t0) * 1000:.0f} ms"
            f"   socket {self.socket}")
        say(f"  dashboard             {self.dashboard_url}   (open it in a browser)")
        t0 = time.monotonic()
        self.start("hailo-clip", ["--config", os.path.join(self.dir, "hailo-clip.yaml"),
                                  "--host", "127.0.0.1", "--port", str(self.clip_port)])
        self.start("hailo-vision", ["--config", os.path.join(self.dir, "hailo-vision.yaml"),
                                    "--host", "127.0.0.1", "--port", str(self.vision_port)])
        self.wait_until("hailo-clip", lambda: http_json(
            "GET", f"{self.clip_url}/health", timeout=2)[1].get("model_loaded") is True, 60)
        say(f"  hailo-clip            ready in {(time.monotonic() - t0) * 1000:.0f} ms"
            f"   {self.clip_url}")
        self.wait_until("hailo-vision", lambda: http_json(
            "GET", f"{self.vision_url}/health/ready", timeout=2)[0] == 200, 90)
        say(f"  hailo-vision          ready in {(time.monotonic() - t0) * 1000:.0f} ms"
            f"   {self.vision_url}/v1 (OpenAI-compatible)")

    @property
    def dashboard_url(self):
        return f"http://127.0.0.1:{self.status_port}/"

    @property
    def clip_url(self):
        return f"http://127.0.0.1:{self.clip_port}"

    @property
    def vision_url(self):
        return f"http://127.0.0.1:{self.vision_port}"

    def devctl(self, *args):
        return subprocess.run([os.path.join(self.bin, "hailo-devctl"), "--socket", self.socket,
                               *args], env=self.env, capture_output=True, text=True, timeout=30)

    def down(self):
        # Services first, then the manager, each with SIGTERM and a grace period.
        codes = {}
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            codes[name] = p.returncode
        self.procs = []
        return codes


def image_b64(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def classify(stack, image_path, prompts):
    status, body, ms = http_json("POST", f"{stack.clip_url}/v1/classify",
                                 {"image": image_b64(image_path), "prompts": prompts, "top_k": 3})
    return image_path, status, body, ms


def chat(stack, question, image_path):
    url = "data:image/png;base64," + image_b64(image_path)
    body = {"model": "qwen2-vl-2b-instruct", "max_tokens": 48,
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": question},
                {"type": "image_url", "image_url": {"url": url}}]}]}
    status, payload, ms = http_json("POST", f"{stack.vision_url}/v1/chat/completions", body)
    return question, status, payload, ms


def chat_streamed(stack, question, image_path, max_tokens=40, on_first_token=None):
    """Streams a vision chat to the terminal; on_first_token() is called
    when the first piece arrives."""
    url = "data:image/png;base64," + image_b64(image_path)
    body = json.dumps({"model": "qwen2-vl-2b-instruct", "max_tokens": max_tokens, "stream": True,
                       "stream_options": {"include_usage": True},
                       "messages": [
                           {"role": "system", "content": "You describe pictures briefly."},
                           {"role": "user", "content": [
                               {"type": "text", "text": question},
                               {"type": "image_url", "image_url": {"url": url}}]}]})
    conn = http.client.HTTPConnection("127.0.0.1", stack.vision_port, timeout=120)
    started = time.monotonic()
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    first_token_ms = None
    usage = None
    sys.stdout.write(f"  {DIM}assistant (streamed):{RESET} ")
    for raw in resp:
        line = raw.decode().strip()
        if not line.startswith("data: "):
            continue
        data = line[6:]
        if data == "[DONE]":
            break
        chunk = json.loads(data)
        if chunk.get("usage"):
            usage = chunk["usage"]
        for choice in chunk.get("choices", []):
            text = choice.get("delta", {}).get("content")
            if text:
                if first_token_ms is None:
                    first_token_ms = (time.monotonic() - started) * 1000.0
                    if on_first_token:
                        on_first_token()
                sys.stdout.write(text)
                sys.stdout.flush()
    conn.close()
    total = (time.monotonic() - started) * 1000.0
    say()
    say(f"  {DIM}first token after {first_token_ms or 0:.0f} ms, done after {total:.0f} ms,"
        f" usage {usage}{RESET}")


def demo_ocr(stack):
    """hailo-ocr reads the rendered test page (tests/data/ocr/text-page.png)
    on the simulated NPU; started here, stopped with the rest.  True when it
    answered."""
    heading("OCR: a rendered page of text")
    port = stack.ports["hailo-ocr"]
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    stack.start("hailo-ocr", ["--config", os.path.join(stack.dir, "hailo-ocr.yaml"),
                              "--host", "127.0.0.1", "--port", str(port)])
    stack.wait_until("hailo-ocr", lambda: http_json(
        "GET", f"{url}/health/ready", timeout=2)[0] == 200, 60)
    say(f"  hailo-ocr             ready in {(time.monotonic() - t0) * 1000:.0f} ms   {url}")
    stack.urls["hailo-ocr"] = url
    page = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "ocr",
                        "text-page.png")
    status, body, ms = http_json("POST", f"{url}/v1/ocr/extract",
                                 {"image": "data:image/png;base64," + image_b64(page),
                                  "languages": ["en"]})
    if status != 200 or not body.get("regions"):
        say(f"  FAILED text-page.png: HTTP {status} {body}")
        return False
    perf = body["performance"]
    say(f"  ocr    text-page.png  {ms:6.0f} ms  {len(body['regions'])} lines"
        f" (detection {perf['detection_time_ms']} ms, recognition {perf['recognition_time_ms']} ms)")
    for r in body["regions"]:
        (x0, y0), _, (x1, y1), _ = r["bbox"]
        say(f"         [{x0:4d},{y0:4d} {x1 - x0:4d}x{y1 - y0:<3d}] {r['confidence']:.3f}"
            f"  {r['text']!r}")
    say(f"  {DIM}The boxes are the page's lines; the simulated recognizer reads one character"
        f" per glyph, chosen by its shape{RESET}")
    say(f"  {DIM}(deterministic, but not the page's words: a real model reads the text).{RESET}")
    return True
def demo_llm(stack, image_path):
    """hailo-llm: a streamed Ollama chat (then a second turn) while CLIP
    classifications keep running; the LLM takes the GenAI slot from the VLM."""
    heading("hailo-llm: an LLM chat through the Ollama API while CLIP requests run")
    port = stack.ports["hailo-llm"]
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    stack.start("hailo-llm", ["--config", os.path.join(stack.dir, "hailo-llm.yaml"),
                              "--host", "127.0.0.1", "--port", str(port)])
    stack.wait_until("hailo-llm", lambda: http_json("GET", f"{url}/health/ready",
                                                    timeout=2)[0] == 200, 60)
    stack.urls["hailo-llm"] = url
    models = [m["name"] for m in http_json("GET", f"{url}/api/tags")[1]["models"]]
    say(f"  hailo-llm             ready in {(time.monotonic() - t0) * 1000:.0f} ms"
        f"   {url}/api (Ollama), {url}/v1 (OpenAI); models: {', '.join(models)}")
    done = threading.Event()
    clip_ms = []

    def clip_loop():
        while not done.is_set():
            _, status, _, ms = classify(stack, image_path, ["a photo of a cat", "a photo of a dog"])
            if status == 200:
                clip_ms.append(ms)

    clip = threading.Thread(target=clip_loop)
    clip.start()
    messages = [{"role": "user", "content": "Tell me about lighthouses and their keepers."}]
    body = json.dumps({"model": "qwen2.5-1.5b-instruct", "messages": messages,
                       "options": {"num_predict": 60, "seed": 7}})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.monotonic()
    conn.request("POST", "/api/chat", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    first, final, answer = None, {}, ""
    sys.stdout.write(f"  {DIM}assistant (NDJSON stream):{RESET} ")
    for raw in resp:
        line = json.loads(raw)
        if line.get("done"):
            final = line
            break
        if first is None:
            first = (time.monotonic() - started) * 1000.0
        answer += line["message"]["content"]
        sys.stdout.write(line["message"]["content"])
        sys.stdout.flush()
    conn.close()
    say()
    say(f"  {DIM}first token after {first or 0:.0f} ms (the model loads on its first request),"
        f" {final.get('prompt_eval_count')} prompt + {final.get('eval_count')} generated"
        f" tokens{RESET}")
    messages += [{"role": "assistant", "content": answer},
                 {"role": "user", "content": "How did they spend the winter?"}]
    status, second, ms = http_json("POST", f"{url}/api/chat", {
        "model": "qwen2.5-1.5b-instruct", "stream": False, "messages": messages,
        "options": {"num_predict": 40}})
    done.set()
    clip.join()
    if status != 200:
        raise RuntimeError(f"hailo-llm second turn: HTTP {status} {second}")
    say(f"  second turn ({second['prompt_eval_count']} prompt tokens, the whole conversation),"
        f" {ms:.0f} ms: {second['message']['content']}")
    say(f"  meanwhile hailo-clip answered {len(clip_ms)} classifications"
        + (f", median {sorted(clip_ms)[len(clip_ms) // 2]:.0f} ms" if clip_ms else ""))
    _, metrics, _ = http_json("GET", f"http://127.0.0.1:{stack.status_port}/v1/device/status")
    swaps = (metrics or {}).get("registry", {}).get("genai_swaps")
    if swaps is not None:
        say(f"  {DIM}GenAI swaps so far (VLM <-> LLM in the one KV cache): {swaps}{RESET}")
def demo_depth(stack):
    """hailo-depth: one depth map of a generated street-like scene, with
    output_format both; the colour PNG is written to BUILD/demo-depth.png."""
    import struct
    import zlib
    port = stack.ports["hailo-depth"]
    stack.start("hailo-depth", ["--config", os.path.join(stack.dir, "hailo-depth.yaml"),
                                "--host", "127.0.0.1", "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    stack.wait_until("hailo-depth", lambda: http_json(
        "GET", f"{url}/health/ready", timeout=2)[0] == 200, 60)
    say(f"  hailo-depth           ready in {(time.monotonic() - t0) * 1000:.0f} ms   {url}")
    stack.urls["hailo-depth"] = url
    # A scene: sky, a bright road narrowing to the horizon, a dark block.
    w, h = 480, 320
    rows = []
    for y in range(h):
        row = bytearray(b"\0")
        for x in range(w):
            if y < h * 0.45:
                px = (120 + y // 4, 170 + y // 6, 235)
            elif abs(x - w / 2) < (y - h * 0.45) * 1.2:
                px = (200 + y // 8, 200 + y // 8, 190)
            else:
                px = (60 + y // 5, 110 + y // 6, 50)
            if 300 < x < 380 and 90 < y < 220:
                px = (40, 35, 30)
            row.extend(px)
        rows.append(bytes(row))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(
            ">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))
    stack.inputs["hailo-depth"] = png
    boundary = "demo-depth-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
            f"filename=\"scene.png\"\r\nContent-Type: image/png\r\n\r\n").encode() + png + (
        f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"output_format\"\r\n\r\n"
        f"both\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"colormap\"\r\n\r\n"
        f"turbo\r\n--{boundary}--\r\n").encode()
    req = urllib.request.Request(f"{url}/v1/depth/estimate", data=body, method="POST",
                                 headers={"Content-Type":
                                          f"multipart/form-data; boundary={boundary}"})
    started = time.monotonic()
    with urllib.request.urlopen(req, timeout=120) as resp:
        answer = json.loads(resp.read())
    ms = (time.monotonic() - started) * 1000.0
    out = os.path.join(os.path.dirname(stack.bin), "demo-depth.png")
    with open(out, "wb") as f:
        f.write(base64.b64decode(answer["depth_image"]))
    st = answer["stats"]
    say(f"  depth  scene {w}x{h} {ms:6.0f} ms  (service: {answer['inference_time_ms']} ms)"
        f"  map {answer['depth_shape'][1]}x{answer['depth_shape'][0]},"
        f" .npz {len(base64.b64decode(answer['depth_map'])) // 1024} KB,"
        f" stats min {st['min']:.3f} mean {st['mean']:.3f} p95 {st['p95']:.3f}")
    say(f"  depth  colour map (turbo, near = red) written to {out}")


def demo_pose(stack):
    """hailo-pose on the same manager: a picture of three bright figures (the
    simulator's yolov8s_pose finds one person per bright blob), their boxes
    and keypoints, and the picture with the poses drawn (render=true) saved
    next to the build for a look."""
    import struct
    import zlib
    port = stack.ports["hailo-pose"]
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    stack.start("hailo-pose", ["--config", os.path.join(stack.dir, "hailo-pose.yaml"),
                               "--host", "127.0.0.1", "--port", str(port)])
    stack.wait_until("hailo-pose", lambda: http_json(
        "GET", f"{url}/health/ready", timeout=2)[0] == 200, 60)
    say(f"  hailo-pose            ready in {(time.monotonic() - t0) * 1000:.0f} ms   {url}")
    stack.urls["hailo-pose"] = url
    w, h = 960, 540
    figures = [(120, 60, 300, 500, 250), (420, 140, 540, 470, 225), (690, 40, 880, 520, 240)]
    rows = []
    for y in range(h):
        row = bytearray(b"\0")
        for x in range(w):
            v = next((lum for x0, y0, x1, y1, lum in figures
                      if x0 <= x < x1 and y0 <= y < y1 and
                      (y - y0 > (x1 - x0) // 2 or abs(x - (x0 + x1) // 2) < (x1 - x0) // 4)),
                     None)
            row += bytes((v, v, v - 10) if v else (40 + x // 24, 50 + y // 18, 70))
        rows.append(bytes(row))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I",
                                                                          zlib.crc32(kind + data))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))
    stack.inputs["hailo-pose"] = png
    status, body, ms = http_json("POST", f"{url}/v1/pose/detect",
                                 {"image": base64.b64encode(png).decode(), "render": True,
                                  "render_format": "png"})
    if status != 200:
        say(f"  FAILED pose: HTTP {status} {body}")
        return False
    say(f"  /v1/pose/detect {w}x{h}: {body['count']} people in {ms:.0f} ms"
        f" (device round trip {body['inference_time_ms']} ms)")
    for p in body["poses"]:
        b = p["bbox"]
        seen = [k for k in p["keypoints"] if k["confidence"] >= 0.3]
        nose = p["keypoints"][0]
        say(f"    person {p['person_id']}: box {b['width']}x{b['height']} at ({b['x']},{b['y']}),"
            f" score {p['bbox_confidence']:.2f}, {len(seen)}/17 keypoints seen,"
            f" {len(p['skeleton'])} limbs; nose at ({nose['x']},{nose['y']})")
    out = os.path.join(os.path.dirname(stack.bin), "demo-pose.png")
    with open(out, "wb") as f:
        f.write(base64.b64decode(body["rendered"]["data"]))
    say(f"  the poses drawn (render=true): {out}")
    return True


def show_manager(stack):
    status, body, _ = http_json("GET", f"http://127.0.0.1:{stack.status_port}/v1/device/status")
    if status != 200:
        say(f"  status endpoint answered {status}")
        return
    dev = body.get("device", {})
    say(f"  device {dev.get('device_id')}  {dev.get('architecture')}  fw {dev.get('fw_version')}"
        f"  {dev.get('temperature_celsius')} C")
    out = stack.devctl("status")
    for line in out.stdout.splitlines():
        say("  " + line)


def hold_stack(stack):
    """`make demo HOLD=1`: keeps the stack up until Ctrl-C (or SIGTERM) so a
    person can open the dashboard; a CLIP text embedding every two seconds
    keeps its numbers and charts moving."""
    heading("Holding the stack up")
    say(f"  Dashboard: {BOLD}{stack.dashboard_url}{RESET}")
    say(f"  Status:    http://127.0.0.1:{stack.status_port}/v1/device/status")
    say("  Press Ctrl-C to stop.")
    texts = ["a photo of a cat", "a photo of a dog", "a red car", "a sunset over the sea"]
    i = 0
    try:
        while True:
            for name, p in stack.procs:
                if p.poll() is not None:
                    say(f"  {name} exited with {p.returncode}; stopping")
                    return
            http_json("POST", f"{stack.clip_url}/v1/embed/text", {"text": texts[i % len(texts)]})
            i += 1
            time.sleep(2.0)
    except KeyboardInterrupt:
        say("")


def demo_whisper(stack):
    """hailo-whisper: espeak-ng says two sentences with a pause; the service
    decodes the WAV, the sim's Whisper model gives one segment per voiced
    stretch (its words are made up: it is a simulator), once as
    verbose_json and once streamed."""
    import uuid
    port = stack.ports["hailo-whisper"]
    url = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    stack.start("hailo-whisper", ["--config", os.path.join(stack.dir, "hailo-whisper.yaml"),
                                  "--host", "127.0.0.1", "--port", str(port)])
    stack.wait_until("hailo-whisper", lambda: http_json(
        "GET", f"{url}/health/ready", timeout=2)[0] == 200, 60)
    say(f"  hailo-whisper         ready in {(time.monotonic() - t0) * 1000:.0f} ms"
        f"   {url}/v1 (OpenAI-compatible)")
    stack.urls["hailo-whisper"] = url
    wav = os.path.join(stack.dir, "speech.wav")
    try:
        for i, text in enumerate(["Hello from the Raspberry Pi.",
                                  "This sentence comes after a pause."]):
            subprocess.run(["espeak-ng", "-v", "en", "-s", "150", "-w", f"{wav}.{i}", text],
                           check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        say(f"  espeak-ng could not speak ({e}): apt-get install espeak-ng")
        return False
    # Both sentences in one WAV with 1.5 s of silence between: the samples of
    # espeak's two mono files and a gap, rewritten with the standard library.
    import wave
    frames, params = [], None
    for i in range(2):
        with wave.open(f"{wav}.{i}", "rb") as w:
            params = w.getparams()
            frames.append(w.readframes(w.getnframes()))
    gap = b"\0" * (params.sampwidth * params.framerate * 3 // 2)
    with wave.open(wav, "wb") as w:
        w.setparams(params)
        w.writeframes(frames[0] + gap + frames[1])
    with open(wav, "rb") as f:
        audio = f.read()
    stack.inputs["hailo-whisper"] = audio

    boundary = uuid.uuid4().hex
    def form(fields):
        out = b""
        for name, value in fields:
            out += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"".encode()
            if name == "file":
                out += b'; filename="speech.wav"\r\nContent-Type: audio/wav\r\n\r\n' + value
            else:
                out += b"\r\n\r\n" + value.encode()
            out += b"\r\n"
        return out + f"--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    started = time.monotonic()
    req = urllib.request.Request(f"{url}/v1/audio/transcriptions", method="POST", headers=headers,
                                 data=form([("file", audio), ("model", "Whisper-Base"),
                                            ("response_format", "verbose_json")]))
    with urllib.request.urlopen(req, timeout=120) as resp:
        body = json.loads(resp.read())
    ms = (time.monotonic() - started) * 1000
    say(f"  POST /v1/audio/transcriptions  {len(audio) // 1024} KiB WAV, {body['duration']:.2f} s"
        f" of audio, answered in {ms:.0f} ms")
    for s in body["segments"]:
        say(f"    [{s['start']:6.2f} -> {s['end']:6.2f}] {s['text'].strip()}")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("POST", "/v1/audio/transcriptions",
                 form([("file", audio), ("model", "Whisper-Base"), ("stream", "true")]), headers)
    resp = conn.getresponse()
    sys.stdout.write(f"  {DIM}streamed:{RESET} ")
    for raw in resp:
        line = raw.decode().strip()
        if line.startswith("data: "):
            event = json.loads(line[6:])
            if event.get("type") == "transcript.text.delta":
                sys.stdout.write(event["delta"])
                sys.stdout.flush()
    conn.close()
    say()
    return resp.status == 200 and len(body["segments"]) == 2


def tone_wav(seconds=1.5, hz=220, rate=16000):
    """A WAV of a tone (what hailo-whisper hears when espeak-ng is missing)."""
    import math
    import struct
    pcm = b"".join(struct.pack("<h", int(9000 * math.sin(2 * math.pi * hz * i / rate)))
                   for i in range(int(seconds * rate)))
    return (b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
            + b"data" + struct.pack("<I", len(pcm)) + pcm)


def post_form(url, fields, timeout=300):
    """(status, JSON answer) of a multipart POST; fields are (name, str or
    (filename, bytes, content type))."""
    import uuid
    boundary = uuid.uuid4().hex
    body = b""
    for name, value in fields:
        body += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"".encode()
        if isinstance(value, tuple):
            body += (f"; filename=\"{value[0]}\"\r\nContent-Type: {value[2]}\r\n\r\n".encode()
                     + value[1])
        else:
            body += b"\r\n\r\n" + value.encode()
        body += b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, None


def demo_all_at_once(stack, image_path):
    """Every service at the same time: hailo-vision streams an answer on the
    main thread and, from its first token on, one thread per other service
    sends request after request (each at least one) until the answer is
    complete; then a table of what each service answered, how fast, and how
    many answers came while the stream was still running.  False when a
    request failed."""
    heading("Every service at the same time, while a VLM answer streams")
    prompts = ["a photo of a cat", "a photo of a dog", "a photo of a car"]
    page = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "ocr",
                        "text-page.png")
    depth_png = base64.b64encode(stack.inputs["hailo-depth"]).decode()
    pose_png = base64.b64encode(stack.inputs["hailo-pose"]).decode()
    audio = stack.inputs.get("hailo-whisper") or tone_wav()
    u = stack.urls

    def clip():
        _, status, body, _ = classify(stack, image_path, prompts)
        top = body["classifications"][0] if status == 200 else None
        return status, top and f"{top['text']!r} {top['score']:.3f}"

    def ocr():
        status, body, _ = http_json("POST", f"{u['hailo-ocr']}/v1/ocr/extract", {
            "image": "data:image/png;base64," + image_b64(page), "languages": ["en"]})
        return status, status == 200 and f"{len(body['regions'])} lines of text"

    def depth():
        status, body, _ = http_json("POST", f"{u['hailo-depth']}/v1/depth/estimate", {
            "image": depth_png, "output_format": "numpy"})
        return status, status == 200 and (f"depth map {body['depth_shape'][1]}x"
                                          f"{body['depth_shape'][0]}")

    def pose():
        status, body, _ = http_json("POST", f"{u['hailo-pose']}/v1/pose/detect",
                                    {"image": pose_png})
        return status, status == 200 and f"{body['count']} people"

    def whisper():
        status, body = post_form(f"{u['hailo-whisper']}/v1/audio/transcriptions",
                                 [("file", ("speech.wav", audio, "audio/wav")),
                                  ("model", "Whisper-Base")])
        return status, status == 200 and repr(body["text"].strip()[:40])

    def llm():
        status, body, _ = http_json("POST", f"{u['hailo-llm']}/api/chat", {
            "model": "qwen2.5-1.5b-instruct", "stream": False,
            "messages": [{"role": "user", "content": "Say something about the sea."}],
            "options": {"num_predict": 16}}, timeout=300)
        return status, status == 200 and repr(body["message"]["content"][:40])

    drivers = [("hailo-clip", clip), ("hailo-ocr", ocr), ("hailo-depth", depth),
               ("hailo-pose", pose), ("hailo-whisper", whisper), ("hailo-llm", llm)]
    results = {name: [] for name, _ in drivers}  # (done at, ms, status, answer)
    stream_done = threading.Event()

    def loop(name, fn):
        while True:
            started = time.monotonic()
            try:
                status, answer = fn()
            except (OSError, ValueError, KeyError, http.client.HTTPException) as e:
                status, answer = None, f"{e!r}"
            results[name].append((time.monotonic(), (time.monotonic() - started) * 1000.0,
                                  status, answer))
            if stream_done.is_set() or status != 200:
                return

    # The VLM takes the GenAI slot back from hailo-llm's model first (the
    # chip has one KV cache), so the stream below is the VLM answering.
    t0 = time.monotonic()
    chat(stack, "Warm up.", image_path)
    say(f"  {DIM}the VLM took the one GenAI slot back from the LLM in"
        f" {(time.monotonic() - t0) * 1000:.0f} ms{RESET}")
    threads = [threading.Thread(target=loop, args=d) for d in drivers]

    started = []

    def start_all():
        if not started:
            started.append(time.monotonic())
            for t in threads:
                t.start()
    chat_streamed(stack, "What is happening in this picture?", image_path, max_tokens=100,
                  on_first_token=start_all)
    start_all()  # an answer without a token: the others still get their turn
    stream_end = time.monotonic()
    stream_done.set()
    for t in threads:
        t.join()
    say()
    say(f"  {'service':<15} {'answers':>7} {'during the stream':>17} {'p50 ms':>7}"
        f" {'max ms':>7}  last answer")
    failed = False
    for name, _ in drivers:
        rows = results[name]
        ok = [r for r in rows if r[2] == 200]
        lat = sorted(r[1] for r in ok)
        during = sum(1 for r in ok if r[0] <= stream_end)
        last = rows[-1]
        if len(ok) != len(rows):
            failed = True
            say(f"  FAILED {name}: HTTP {last[2]} {last[3]}")
            continue
        say(f"  {name:<15} {len(ok):>7} {during:>17} {lat[len(lat) // 2]:>7.0f} {lat[-1]:>7.0f}"
            f"  {last[3]}")
    say(f"  {DIM}CLIP, OCR, depth and pose run in the dense lane beside the generation; whisper"
        f" and the LLM{RESET}")
    say(f"  {DIM}generate in the GenAI lane, one generation at a time, so they answer after the"
        f" VLM's turn{RESET}")
    say(f"  {DIM}(the LLM first swaps back into the one KV cache).{RESET}")
    return not failed


def main():
    build = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "build"
    fast = "--fast" in sys.argv or os.environ.get("HDM_DEMO_FAST") == "1"
    hold = "--hold" in sys.argv
    workdir = tempfile.mkdtemp(prefix="hailo-demo-")
    stack = Stack(os.path.abspath(build), workdir, fast)
    ok = False
    try:
        heading("Starting the stack on the simulated Hailo-10H"
                + (" (zero latency)" if fast else " (realistic latencies)"))
        stack.assets()
        stack.up()

        images = sorted(os.path.join(workdir, "images", f)
                        for f in os.listdir(os.path.join(workdir, "images")))
        prompts = ["a photo of a cat", "a photo of a dog", "a photo of a car",
                   "a photo of a sunset", "a photo of a house"]

        heading("Concurrent requests: 6 CLIP classifications and 2 vision chats")
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            jobs = [pool.submit(classify, stack, images[i % len(images)], prompts)
                    for i in range(6)]
            jobs += [pool.submit(chat, stack, q, images[i % len(images)]) for i, q in
                     enumerate(["What is in this picture?", "Describe the colours."])]
            failures = 0
            for job in jobs:
                what, status, body, ms = job.result()
                if status != 200:
                    failures += 1
                    say(f"  FAILED {os.path.basename(what)}: HTTP {status} {body}")
                elif "classifications" in body:
                    top = ", ".join(f"{c['text']!r} {c['score']:.3f}"
                                    for c in body["classifications"])
                    say(f"  clip   {os.path.basename(what):<14} {ms:6.0f} ms  {top}")
                else:
                    msg = body["choices"][0]["message"]["content"]
                    usage = body.get("usage", {})
                    say(f"  vision {what!r} {ms:6.0f} ms  ({usage.get('prompt_tokens')} prompt +"
                        f" {usage.get('completion_tokens')} completion tokens)")
                    say(f"         {msg}")

        say(f"  {DIM}The NPU runs one operation at a time and a VLM answer is one long operation"
            f" (prefill + tokens):{RESET}")
        say(f"  {DIM}CLIP work arriving meanwhile waits for it; fair share lets each client's"
            f" next operation in between.{RESET}")

        heading("A streamed vision chat, shown as the tokens arrive")
        chat_streamed(stack, "What do you see?", images[0])
        demo_llm(stack, images[0])

        failures += 0 if demo_ocr(stack) else 1
        heading("A depth map (hailo-depth)")
        demo_depth(stack)

        heading("Pose estimation: hailo-pose, with the poses drawn")
        failures += 0 if demo_pose(stack) else 1

        heading("Speech to text: hailo-whisper transcribes espeak-ng's voice")
        failures += 0 if demo_whisper(stack) else 1

        failures += 0 if demo_all_at_once(stack, images[0]) else 1

        heading("Text embedding and the device manager's view")
        status, body, ms = http_json("POST", f"{stack.clip_url}/v1/embed/text",
                                     {"text": "a photo of a cat"})
        if status == 200:
            say(f"  /v1/embed/text: dimension {body['dimension']}, {ms:.0f} ms")
        show_manager(stack)
        ok = failures == 0
        if hold:
            hold_stack(stack)
    except KeyboardInterrupt:
        say("\ninterrupted: stopping the stack")
    except Exception as e:  # noqa: BLE001 - the demo reports and cleans up
        say(f"\ndemo failed: {e}")
        for name, path in stack.logs.items():
            say(f"--- last lines of {name} ({path})")
            with open(path) as f:
                for line in f.readlines()[-15:]:
                    say("  " + line.rstrip())
    finally:
        heading("Stopping")
        codes = stack.down()
        for name, code in codes.items():
            say(f"  {name:<22} exited {code}")
        if any(code != 0 for code in codes.values()):
            ok = False
    say()
    if ok:
        shutil.rmtree(workdir, ignore_errors=True)
        say("Demo finished.")
    else:
        say(f"Demo FAILED (logs kept in {workdir}).")
    return 0 if ok else 1


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    sys.exit(main())
