"""Every service at once on one simulated NPU (issue 16, phase 4): 60 s of
mixed load against the manager and every service - hailo-clip,
hailo-vision, hailo-ocr, hailo-depth, hailo-pose, hailo-whisper and
hailo-llm, each driven through its own HTTP API by two clients - plus a raw
client of the manager whose depth models do not fit beside the others.
The dense lane (clip, ocr, depth, pose) and the GenAI lane (vlm, llm,
whisper) are busy together.  Every answer is checked (status, shape, and the
same answer for the same question, streamed or not), the memory budget is
watched all along (a device too small for every model, so models are
evicted and reloaded, and the VLM and the LLM swap in the one GenAI slot),
evictions must happen, both lanes must be seen running at once, nothing may
be lost, and everything must stop cleanly.

HDM_MIXED_SECONDS shortens or lengthens the load (default 60).  Tests wait
for states, never for times: the load's length is the only sleep, and no
latency is asserted (a busy 2-core machine and ASan builds run this).
"""

import base64
import hashlib
import io
import json
import os
import random
import struct
import sys
import threading
import time
import zlib

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

SECONDS = float(os.environ.get("HDM_MIXED_SECONDS", "60"))
CLIENTS_PER_SERVICE = 2
HTTP_TIMEOUT = 120
# Small device times so the lanes really overlap (written over --fast's
# zeros); infer_ms per operation (a prefill, an image, a crop), token_ms per
# generated token.
LATENCIES = {"vlm/qwen2-vl-2b-instruct.hef": {"infer_ms": 10, "token_ms": 4},
             "llm/qwen2.5-1.5b-instruct.hef": {"infer_ms": 10, "token_ms": 4},
             "whisper/whisper-base.hef": {"infer_ms": 10, "token_ms": 2},
             "clip/clip_vit_b_32_image_encoder.hef": {"infer_ms": 4},
             "clip/clip_vit_b_32_text_encoder.hef": {"infer_ms": 2},
             "ocr/ocr_det.hef": {"infer_ms": 4},
             "ocr/ocr_rec_en.hef": {"infer_ms": 2},
             "depth/scdepthv3.hef": {"infer_ms": 4},
             "pose/yolov8s_pose.hef": {"infer_ms": 4}}
# The services pin their models (keep_alive -1): these sidecars count
# against the device whatever else runs.  The VLM (2400 MiB) and the LLM
# (1850) share the GenAI slot.  The manager client's three depth models
# (DEPTH_MB each, not pinned) fit one at a time beside the pinned models and
# the VLM, so the dense lane evicts while the GenAI lane streams; the
# budget holds however the services' HEFs are counted (the CLIP text and
# OCR recognition HEFs or not).
PINNED = ("clip/clip_vit_b_32_image_encoder.hef", "clip/clip_vit_b_32_text_encoder.hef",
          "ocr/ocr_det.hef", "ocr/ocr_rec_en.hef", "ocr/ocr_chinese.hef",
          "depth/scdepthv3.hef", "pose/yolov8s_pose.hef", "whisper/whisper-base.hef")
GENAI = "vlm/qwen2-vl-2b-instruct.hef"
DEPTH_MB = 400
SERVICES = ("hailo-clip", "hailo-vision", "hailo-ocr", "hailo-depth", "hailo-pose",
            "hailo-whisper", "hailo-llm")
WORDS = ("a photo of a cat dog car bird horse tree flower house beach sea mountain sky "
         "red blue green small big happy").split()
OCR_PAGE = os.path.join(hdmtest.SOURCE_DIR, "tests", "data", "ocr", "text-page.png")


def png_bytes(w, h, pixel):
    """An RGB PNG of w x h whose pixel(x, y) gives (r, g, b) (stdlib only)."""
    raw = b"".join(b"\0" + b"".join(bytes(pixel(x, y)) for x in range(w)) for y in range(h))

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def wav_bytes(parts, rate=16000):
    """A 16 kHz mono 16-bit WAV of (seconds, hz) parts: a tone at 0.3 of
    full scale, or silence where hz is 0 (the sim's Whisper gives one
    segment per voiced stretch)."""
    import math
    samples = bytearray()
    for seconds, hz in parts:
        for i in range(int(seconds * rate)):
            v = int(0.3 * 32767 * math.sin(2 * math.pi * hz * i / rate)) if hz else 0
            samples += struct.pack("<h", v)
    return (b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
            + b"data" + struct.pack("<I", len(samples)) + bytes(samples))


def sse_content(resp):
    """The content of an OpenAI-style stream, or raises ValueError when it
    carries an error or ends without [DONE]."""
    pieces, last = [], None
    for line in resp.iter_lines(decode_unicode=True):
        if not line:
            continue
        last = line
        if line.startswith("data: {"):
            chunk = json.loads(line[6:])
            if "error" in chunk:
                raise ValueError("stream error %s" % line[:200])
            for choice in chunk.get("choices", []):
                pieces.append(choice.get("delta", {}).get("content") or "")
    if last != "data: [DONE]":
        raise ValueError("stream ended without [DONE]: %r" % last)
    return "".join(pieces)


def digest(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


class Outcomes:
    """Every request's outcome, and the first failures in detail."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.failures = []
        self.seen = {}  # consistency: key -> first answer

    def ok(self, kind):
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def fail(self, kind, what):
        with self.lock:
            self.counts[kind + ":failed"] = self.counts.get(kind + ":failed", 0) + 1
            if len(self.failures) < 20:
                self.failures.append("%s: %s" % (kind, what))

    def busy(self, kind, r):
        """A 503 with Retry-After: the service asked the client to come back
        (a correct answer under load, counted apart); anything else fails."""
        if r.status_code == 503 and r.headers.get("Retry-After"):
            with self.lock:
                self.counts[kind + ":busy"] = self.counts.get(kind + ":busy", 0) + 1
            return True
        return False

    def same(self, kind, key, value):
        """True when value equals what key answered the first time."""
        with self.lock:
            first = self.seen.setdefault((kind, key), value)
        return first == value


# ---- drivers: one per service; request() does one request and checks it ----

class ClipDriver:
    name = "hailo-clip"
    tag = "clip"  # outcome kinds start with it

    def __init__(self, stack):
        self.svc = hdmtest.Service(stack, "hailo-clip", config=stack.clip_config).start()
        self.png = base64.b64encode(hdmtest.png_bytes(64, 48, (30, 160, 220))).decode()

    def request(self, rng, out):
        roll = rng.random()
        if roll < 0.4:
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
            r = self.svc.post("/v1/embed/text", {"text": text}, timeout=HTTP_TIMEOUT)
            if out.busy("clip-text", r):
                return None
            if r.status_code != 200:
                return out.fail("clip-text", "%d %s" % (r.status_code, r.text[:200]))
            emb = r.json()["embedding"]
            if len(emb) != 512 or not out.same("clip-text", text, [round(x, 5) for x in emb]):
                return out.fail("clip-text", "embedding of %r wrong or changed" % text)
            return out.ok("clip-text")
        if roll < 0.7:
            r = self.svc.post("/v1/embed/image", {"image": self.png}, timeout=HTTP_TIMEOUT)
            if out.busy("clip-image", r):
                return None
            if r.status_code != 200:
                return out.fail("clip-image", "%d %s" % (r.status_code, r.text[:200]))
            emb = r.json()["embedding"]
            if len(emb) != 512 or not out.same("clip-image", "png", [round(x, 5) for x in emb]):
                return out.fail("clip-image", "image embedding wrong or changed")
            return out.ok("clip-image")
        prompts = sorted(rng.sample(WORDS, 3))
        r = self.svc.post("/v1/classify", {"image": self.png, "prompts": prompts, "top_k": 2},
                          timeout=HTTP_TIMEOUT)
        if out.busy("clip-classify", r):
            return None
        if r.status_code != 200:
            return out.fail("clip-classify", "%d %s" % (r.status_code, r.text[:200]))
        cls = r.json()["classifications"]
        scores = [c["score"] for c in cls]
        labels = [c["text"] for c in cls]
        if (len(cls) != 2 or scores != sorted(scores, reverse=True)
                or not set(labels) <= set(prompts)
                or not out.same("clip-classify", tuple(prompts), labels)):
            return out.fail("clip-classify", "answered %s" % r.text[:300])
        return out.ok("clip-classify")

    def stop(self):
        self.svc.stop()


class VisionDriver:
    name = "hailo-vision"
    tag = "vision"
    MODEL = "qwen2-vl-2b-instruct"

    def __init__(self, stack):
        self.svc = hdmtest.Service(stack, "hailo-vision", config=stack.vision_config).start()
        self.png = base64.b64encode(hdmtest.png_bytes(48, 32, (200, 40, 90))).decode()

    def request(self, rng, out):
        stream = rng.random() < 0.6
        kind = "vision-stream" if stream else "vision"
        max_tokens = rng.choice((8, 40, 120))
        question = rng.choice(("describe it", "what colour is it", "count the objects"))
        body = {"model": self.MODEL, "max_tokens": max_tokens, "stream": stream,
                "messages": [{"role": "user", "content": [
                    {"type": "text", "text": question},
                    {"type": "image_url",
                     "image_url": {"url": "data:image/png;base64," + self.png}}]}]}
        r = requests.post(self.svc.url + "/v1/chat/completions", json=body, stream=stream,
                          timeout=HTTP_TIMEOUT)
        if out.busy(kind, r):
            return None
        if r.status_code != 200:
            return out.fail(kind, "%d %s" % (r.status_code, r.text[:200]))
        if stream:
            try:
                content = sse_content(r)
            except ValueError as e:
                return out.fail(kind, str(e))
        else:
            content = r.json()["choices"][0]["message"]["content"]
        # The same question gets the same answer, streamed or not: nothing
        # of a stream is lost, doubled or reordered.
        if not content or not out.same("vision", (question, max_tokens), content):
            return out.fail(kind, "answer %r differs for %r" % (content[:120], question))
        return out.ok(kind)

    def stop(self):
        self.svc.stop()


class OcrDriver:
    """hailo-ocr reads the rendered test page (tests/data/ocr)."""
    name = "hailo-ocr"
    tag = "ocr"

    def __init__(self, stack):
        self.svc = hdmtest.Service(stack, "hailo-ocr",
                                   config=os.path.join(stack.root, "hailo-ocr.yaml")).start()
        with open(OCR_PAGE, "rb") as f:
            page = f.read()
        self.images = {"page": "data:image/png;base64," + base64.b64encode(page).decode()}

    def request(self, rng, out):
        which = rng.choice(sorted(self.images))
        r = self.svc.post("/v1/ocr/extract", {"image": self.images[which], "languages": ["en"]},
                          timeout=HTTP_TIMEOUT)
        if out.busy("ocr", r):
            return None
        if r.status_code != 200:
            return out.fail("ocr", "%d %s" % (r.status_code, r.text[:200]))
        body = r.json()
        regions = [(x["text"], x["bbox"], round(x["confidence"], 4)) for x in body["regions"]]
        if body.get("success") is not True or len(regions) < 5:
            return out.fail("ocr", "answered %s" % r.text[:300])
        if not out.same("ocr", which, (body["text"], regions)):
            return out.fail("ocr", "the reading of %s changed: %s" % (which, r.text[:300]))
        return out.ok("ocr")

    def stop(self):
        self.svc.stop()


class DepthDriver:
    """hailo-depth: a depth map of one of two scenes, as a NumPy .npz."""
    name = "hailo-depth"
    tag = "depth"

    def __init__(self, stack):
        self.svc = hdmtest.Service(stack, "hailo-depth",
                                   config=os.path.join(stack.root, "hailo-depth.yaml")).start()
        self.images = {
            "road": base64.b64encode(png_bytes(
                96, 64, lambda x, y: (120, 170, 235) if y < 28 else
                (200, 200, 190) if abs(x - 48) < (y - 28) else (60, 110, 50))).decode(),
            "ramp": base64.b64encode(png_bytes(
                80, 60, lambda x, y: (x * 3, y * 4, 128))).decode()}

    def request(self, rng, out):
        import numpy as np
        which = rng.choice(sorted(self.images))
        r = self.svc.post("/v1/depth/estimate", {"image": self.images[which],
                                                 "output_format": "numpy", "normalize": True},
                          timeout=HTTP_TIMEOUT)
        if out.busy("depth", r):
            return None
        if r.status_code != 200:
            return out.fail("depth", "%d %s" % (r.status_code, r.text[:200]))
        body = r.json()
        arr = np.load(io.BytesIO(base64.b64decode(body["depth_map"])))["depth"]
        if list(arr.shape) != body["depth_shape"] or arr.dtype.name != "float32" or \
                not (arr.min() == 0.0 and arr.max() == 1.0):
            return out.fail("depth", "map %s %s of shape %s" % (arr.dtype, arr.shape,
                                                                  body["depth_shape"]))
        if not out.same("depth", which, hashlib.sha256(arr.tobytes()).hexdigest()):
            return out.fail("depth", "the depth map of %s changed" % which)
        return out.ok("depth")

    def stop(self):
        self.svc.stop()


class PoseDriver:
    """hailo-pose: pictures of one or two bright figures (the sim's
    yolov8s_pose finds one person per bright blob)."""
    name = "hailo-pose"
    tag = "pose"

    def __init__(self, stack):
        self.svc = hdmtest.Service(stack, "hailo-pose",
                                   config=os.path.join(stack.root, "hailo-pose.yaml")).start()

        def figures(boxes):
            return base64.b64encode(png_bytes(160, 120, lambda x, y: (
                (245, 245, 245) if any(x0 <= x <= x1 and y0 <= y <= y1
                                       for x0, y0, x1, y1 in boxes) else (40, 50, 60)))).decode()
        self.images = {1: figures([(60, 20, 100, 110)]),
                       2: figures([(10, 10, 50, 110), (100, 30, 140, 110)])}

    def request(self, rng, out):
        people = rng.choice(sorted(self.images))
        r = self.svc.post("/v1/pose/detect", {"image": self.images[people]},
                          timeout=HTTP_TIMEOUT)
        if out.busy("pose", r):
            return None
        if r.status_code != 200:
            return out.fail("pose", "%d %s" % (r.status_code, r.text[:200]))
        body = r.json()
        if body["count"] != people or len(body["poses"]) != people or \
                any(len(p["keypoints"]) != 17 for p in body["poses"]):
            return out.fail("pose", "%d figures answered %s" % (people, r.text[:300]))
        if not out.same("pose", people, digest(body["poses"])):
            return out.fail("pose", "the poses of %d figures changed" % people)
        return out.ok("pose")

    def stop(self):
        self.svc.stop()


class WhisperDriver:
    """hailo-whisper transcribes one of two generated recordings (voiced
    stretches and pauses), as json or verbose_json."""
    name = "hailo-whisper"
    tag = "whisper"

    def __init__(self, stack):
        self.svc = hdmtest.Service(stack, "hailo-whisper",
                                   config=os.path.join(stack.root, "hailo-whisper.yaml")).start()
        self.audio = {"one": wav_bytes([(0.2, 0), (1.2, 220), (0.3, 0)]),
                      "two": wav_bytes([(0.9, 330), (1.0, 0), (0.7, 440), (0.2, 0)])}

    def request(self, rng, out):
        which = rng.choice(sorted(self.audio))
        verbose = rng.random() < 0.5
        r = requests.post(self.svc.url + "/v1/audio/transcriptions",
                          files={"file": ("speech.wav", self.audio[which], "audio/wav")},
                          data={"model": "Whisper-Base",
                                "response_format": "verbose_json" if verbose else "json"},
                          timeout=HTTP_TIMEOUT)
        if out.busy("whisper", r):
            return None
        if r.status_code != 200:
            return out.fail("whisper", "%d %s" % (r.status_code, r.text[:200]))
        body = r.json()
        segments = len(body.get("segments", [])) if verbose else None
        if not body["text"] or segments not in (None, 1 if which == "one" else 2):
            return out.fail("whisper", "%s answered %s" % (which, r.text[:300]))
        if not out.same("whisper", which, body["text"]):
            return out.fail("whisper", "the transcript of %s changed: %r" % (which, body["text"]))
        return out.ok("whisper")

    def stop(self):
        self.svc.stop()


class LlmDriver:
    """hailo-llm: Ollama chats (not streamed) and OpenAI chats (streamed);
    its model and the VLM take turns in the GenAI slot."""
    name = "hailo-llm"
    tag = "llm"
    MODEL = "qwen2.5-1.5b-instruct"

    def __init__(self, stack):
        self.svc = hdmtest.Service(stack, "hailo-llm",
                                   config=os.path.join(stack.root, "hailo-llm.yaml")).start()

    def request(self, rng, out):
        question = rng.choice(("Tell me about lighthouses.", "What do otters eat?",
                               "Name three rivers."))
        n = rng.choice((8, 30, 60))
        messages = [{"role": "user", "content": question}]
        if rng.random() < 0.5:
            kind = "llm-ollama"
            r = self.svc.post("/api/chat", {"model": self.MODEL, "messages": messages,
                                            "stream": False,
                                            "options": {"num_predict": n, "seed": 7}},
                              timeout=HTTP_TIMEOUT)
            if out.busy(kind, r):
                return None
            if r.status_code != 200:
                return out.fail(kind, "%d %s" % (r.status_code, r.text[:200]))
            body = r.json()
            content = body["message"]["content"]
            if body.get("done") is not True or not 0 < body["eval_count"] <= n:
                return out.fail(kind, "answered %s" % r.text[:300])
        else:
            kind = "llm-openai-stream"
            r = requests.post(self.svc.url + "/v1/chat/completions", stream=True,
                              json={"model": self.MODEL, "messages": messages, "stream": True,
                                    "max_tokens": n, "seed": 7},
                              timeout=HTTP_TIMEOUT)
            if out.busy(kind, r):
                return None
            if r.status_code != 200:
                return out.fail(kind, "%d %s" % (r.status_code, r.text[:200]))
            try:
                content = sse_content(r)
            except ValueError as e:
                return out.fail(kind, str(e))
        if not content or not out.same(kind, (question, n), content):
            return out.fail(kind, "answer %r differs for %r" % (content[:120], question))
        return out.ok(kind)

    def stop(self):
        self.svc.stop()


class ManagerDepthDriver:
    """A raw client of the manager with three depth models: dense work that
    does not fit beside the others, so the dense lane evicts and reloads."""
    name = "manager-depth"
    tag = "manager-depth"
    IMG = hdmtest.tensor("uint8", [8, 8, 3])

    def __init__(self, stack):
        m = stack.manager
        self.socket = stack.socket
        self.models = [m.make_model("mixed-depth-%d.hef" % i, input_height=8, input_width=8,
                                    footprint_mb=DEPTH_MB, infer_ms=3) for i in range(3)]

    def request(self, rng, out):
        path = rng.choice(self.models)
        a = hdmtest.manager_call(self.socket, {
            "action": "infer", "model_type": "depth", "model_path": path,
            "client_name": "mixed-depth", "input_data": {"input": self.IMG}}, timeout=60)
        res = a.get("result")
        if a.get("status") != "ok" or res.get("dtype") != "float32" or res.get("shape") != [8, 8, 1]:
            return out.fail("manager-depth", "answered %s" % json.dumps(a)[:200])
        if not out.same("manager-depth", path, res.get("data_b64")):
            return out.fail("manager-depth", "depth map of %s changed" % path)
        return out.ok("manager-depth")

    def stop(self):
        pass


DRIVERS = {"hailo-clip": ClipDriver, "hailo-vision": VisionDriver, "hailo-ocr": OcrDriver,
           "hailo-depth": DepthDriver, "hailo-pose": PoseDriver, "hailo-whisper": WhisperDriver,
           "hailo-llm": LlmDriver}


def prepare_models(stack):
    """Writes LATENCIES into the sidecars and returns the device's size in
    MiB: every pinned model and the VLM, one depth model of the manager
    client and a quarter of another (so two never fit beside the VLM)."""
    footprint = {}
    for rel in set(LATENCIES) | set(PINNED) | {GENAI}:
        path = os.path.join(stack.models, rel + ".sim.json")
        with open(path) as f:
            side = json.load(f)
        side.update(LATENCIES.get(rel, {}))
        with open(path, "w") as f:
            json.dump(side, f)
        footprint[rel] = side["footprint_mb"]
    return sum(footprint[p] for p in PINNED) + footprint[GENAI] + DEPTH_MB + DEPTH_MB // 4


def test_every_service_at_once_for_a_minute():
    missing = [s for s in SERVICES if not os.path.exists(hdmtest.binary(s))]
    assert not missing, "service binaries missing from the build: %s" % ", ".join(missing)
    stack = hdmtest.SimStack(prefix="hdm-mixed-")
    drivers, threads = [], []
    out = Outcomes()
    over_budget, running, genai_models = [], [], set()
    stop = threading.Event()
    rc = None
    try:
        memory_mb = prepare_models(stack)
        with open(stack.manager.sim_config_path, "w") as f:
            f.write(hdmtest.SIM_ZERO_LATENCY + "memory_mb: %d\n" % memory_mb)
        stack.start_manager(timeout=60)
        for s in SERVICES:
            drivers.append(DRIVERS[s](stack))
        drivers.append(ManagerDepthDriver(stack))

        def client(driver, seed):
            rng = random.Random(seed)
            while not stop.is_set():
                try:
                    driver.request(rng, out)
                except (requests.RequestException, OSError, ValueError, KeyError,
                        TypeError) as e:
                    out.fail(driver.name, "no answer: %r" % e)

        def watch():
            while not stop.is_set():
                st = hdmtest.manager_call(stack.socket, {"action": "status"}, timeout=30)
                mem = st["memory"]
                if mem["used_bytes"] > mem["total_bytes"]:
                    over_budget.append(mem)
                running.append(st["scheduler"]["running"])
                genai_models.update(os.path.basename(m["model_path"])
                                    for m in st["loaded_models"]
                                    if m["model_type"] in ("vlm_chat", "llm"))
                stop.wait(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        for d in drivers:
            for k in range(CLIENTS_PER_SERVICE):
                threads.append(threading.Thread(target=client, args=(d, "%s-%d" % (d.name, k))))
        for t in threads:
            t.start()
        stop.wait(SECONDS)  # the load's length: what is checked is the answers, not time
        stop.set()
        for t in threads:
            t.join(HTTP_TIMEOUT + 30)
        watcher.join(60)
        assert not any(t.is_alive() for t in threads + [watcher]), "a client hung"

        st = hdmtest.manager_call(stack.socket, {"action": "status"}, timeout=30)
        summary = json.dumps({"outcomes": out.counts, "evictions": st["total_lru_evictions"],
                              "registry": st["registry"], "memory_mb": memory_mb,
                              "both_lanes_seen": running.count(2),
                              "status_samples": len(running)}, sort_keys=True)
        print(summary)  # shown with pytest -s
        assert out.failures == [], summary + "\n" + "\n".join(out.failures)
        for d in drivers:  # every service answered, many times
            assert sum(v for k, v in out.counts.items()
                       if ":" not in k and k.startswith(d.tag)) >= 5, (d.name, summary)
        assert over_budget == [], over_budget[:3]
        assert st["total_lru_evictions"] >= 1, summary
        assert st["registry"]["genai_swaps"] >= 1, summary
        assert genai_models >= {"qwen2-vl-2b-instruct.hef", "qwen2.5-1.5b-instruct.hef"}, \
            genai_models
        assert st["runtime_broken_reason"] is None, st["runtime_broken_reason"]
        assert st["registry"]["runtime_resets"] == 0
        assert max(running) == 2, "the two lanes never ran at the same time"
        assert st["queue_depth"] == 0
        for d in drivers:  # every service is still up, then stops with 0
            d.stop()
        drivers = []
        rc = stack.manager.stop()
    finally:
        stop.set()
        for t in threads:
            t.join(5)
        for d in drivers:  # after a failure: stopped, their exit not checked
            if hasattr(d, "svc"):
                d.svc.stop(check=False)
        stack.cleanup()
    assert rc == 0
