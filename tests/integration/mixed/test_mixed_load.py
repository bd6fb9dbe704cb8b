"""Every service at once on one simulated NPU (issue 16, phase 4): 60 s of
mixed load from several clients per service against the manager and every
service binary this build has, with the dense lane and the GenAI lane busy
together.  Every answer is checked (shape, consistency, the same answer for
the same question), the memory budget is watched all along (a small device,
so models are evicted and reloaded), evictions must happen, nothing may be
lost, and the manager must stop cleanly.

Services are found by their binaries; each has a driver below (DRIVERS).  A
service that lands later gets its driver here and is driven with the rest;
one without a driver is reported as a warning.  HDM_MIXED_SECONDS shortens
or lengthens the run (default 60).  Tests wait for states, never for times.
"""

import base64
import json
import os
import random
import sys
import threading
import time
import warnings

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

SECONDS = float(os.environ.get("HDM_MIXED_SECONDS", "60"))
CLIENTS_PER_SERVICE = 2
HTTP_TIMEOUT = 120
# A device too small for everything at once: the pinned VLM (2400 MiB),
# CLIP (300) and the manager client's depth models (250 each) cannot all
# stay, so the dense lane evicts while the GenAI lane streams.
SIM_CONFIG = hdmtest.SIM_ZERO_LATENCY + "memory_mb: 3100\n"
# Small device times so the lanes really overlap (written over --fast's zeros).
LATENCIES = {"vlm/qwen2-vl-2b-instruct.hef": {"infer_ms": 10, "token_ms": 4},
             "clip/clip_vit_b_32_image_encoder.hef": {"infer_ms": 4},
             "clip/clip_vit_b_32_text_encoder.hef": {"infer_ms": 2}}
WORDS = ("a photo of a cat dog car bird horse tree flower house beach sea mountain sky "
         "red blue green small big happy").split()
# Service binaries a build may have; those without a driver are reported.
KNOWN_SERVICES = ("hailo-clip", "hailo-vision", "hailo-ocr", "hailo-depth", "hailo-pose",
                  "hailo-whisper", "hailo-llm")


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
        self.svc = hdmtest.Service(stack, "hailo-clip").start()
        self.png = base64.b64encode(hdmtest.png_bytes(64, 48, (30, 160, 220))).decode()

    def request(self, rng, out):
        roll = rng.random()
        if roll < 0.4:
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
            r = self.svc.post("/v1/embed/text", {"text": text}, timeout=HTTP_TIMEOUT)
            if r.status_code != 200:
                return out.fail("clip-text", "%d %s" % (r.status_code, r.text[:200]))
            emb = r.json()["embedding"]
            if len(emb) != 512 or not out.same("clip-text", text, [round(x, 5) for x in emb]):
                return out.fail("clip-text", "embedding of %r wrong or changed" % text)
            return out.ok("clip-text")
        if roll < 0.7:
            r = self.svc.post("/v1/embed/image", {"image": self.png}, timeout=HTTP_TIMEOUT)
            if r.status_code != 200:
                return out.fail("clip-image", "%d %s" % (r.status_code, r.text[:200]))
            emb = r.json()["embedding"]
            if len(emb) != 512 or not out.same("clip-image", "png", [round(x, 5) for x in emb]):
                return out.fail("clip-image", "image embedding wrong or changed")
            return out.ok("clip-image")
        prompts = sorted(rng.sample(WORDS, 3))
        r = self.svc.post("/v1/classify", {"image": self.png, "prompts": prompts, "top_k": 2},
                          timeout=HTTP_TIMEOUT)
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
        self.svc = hdmtest.Service(stack, "hailo-vision").start()
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
        r = self.svc.post("/v1/chat/completions", body, timeout=HTTP_TIMEOUT)
        if r.status_code != 200:
            return out.fail(kind, "%d %s" % (r.status_code, r.text[:200]))
        if stream:
            pieces, last = [], None
            for line in r.iter_lines(decode_unicode=True):
                if not line:
                    continue
                last = line
                if line.startswith("data: {"):
                    chunk = json.loads(line[6:])
                    if "error" in chunk:
                        return out.fail(kind, "stream error %s" % line[:200])
                    pieces.append(chunk["choices"][0]["delta"].get("content") or "")
            if last != "data: [DONE]":
                return out.fail(kind, "stream ended without [DONE]: %r" % last)
            content = "".join(pieces)
        else:
            content = r.json()["choices"][0]["message"]["content"]
        # The same question gets the same answer, streamed or not: nothing
        # of a stream is lost, doubled or reordered.
        if not content or not out.same("vision", (question, max_tokens), content):
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
                                    footprint_mb=250, infer_ms=3) for i in range(3)]

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


DRIVERS = {"hailo-clip": ClipDriver, "hailo-vision": VisionDriver}


def test_every_service_at_once_for_a_minute():
    stack = hdmtest.SimStack(prefix="hdm-mixed-", sim_config=SIM_CONFIG)
    drivers, threads = [], []
    out = Outcomes()
    over_budget, statuses = [], []
    stop = threading.Event()
    try:
        for rel, side in LATENCIES.items():
            path = os.path.join(stack.models, rel + ".sim.json")
            with open(path) as f:
                current = json.load(f)
            current.update(side)
            with open(path, "w") as f:
                json.dump(current, f)
        m = stack.start_manager()
        present = [s for s in KNOWN_SERVICES if os.path.exists(hdmtest.binary(s))]
        undriven = [s for s in present if s not in DRIVERS]
        if undriven:
            warnings.warn("service binaries without a mixed-load driver: %s" % ", ".join(undriven))
        drivers = [DRIVERS[s](stack) for s in present if s in DRIVERS]
        drivers.append(ManagerDepthDriver(stack))
        assert any(d.name == "hailo-vision" for d in drivers), present

        def client(driver, seed):
            rng = random.Random(seed)
            while not stop.is_set():
                try:
                    driver.request(rng, out)
                except (requests.RequestException, OSError, ValueError, KeyError) as e:
                    out.fail(driver.name, "no answer: %r" % e)

        def watch():
            while not stop.is_set():
                st = hdmtest.manager_call(stack.socket, {"action": "status"}, timeout=30)
                mem = st["memory"]
                if mem["used_bytes"] > mem["total_bytes"]:
                    over_budget.append(mem)
                statuses.append(st["scheduler"]["running"])
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        for d in drivers:
            for k in range(CLIENTS_PER_SERVICE):
                threads.append(threading.Thread(target=client, args=(d, hash((d.name, k)))))
        for t in threads:
            t.start()
        time.sleep(SECONDS)  # the load's duration: what is measured is the answers, not time
        stop.set()
        for t in threads:
            t.join(HTTP_TIMEOUT + 30)
        watcher.join(60)
        assert not any(t.is_alive() for t in threads + [watcher]), "a client hung"

        st = hdmtest.manager_call(stack.socket, {"action": "status"})
        summary = json.dumps({"outcomes": out.counts, "evictions": st["total_lru_evictions"],
                              "registry": st["registry"]}, sort_keys=True)
        print(summary)  # shown with pytest -s
        assert out.failures == [], summary + "\n" + "\n".join(out.failures)
        for d in drivers:  # every service answered, many times
            assert any(v >= 5 for k, v in out.counts.items()
                       if ":" not in k and k.startswith(d.tag)), summary
        assert over_budget == [], over_budget[:3]
        assert st["total_lru_evictions"] >= 1, summary
        assert st["runtime_broken_reason"] is None, st["runtime_broken_reason"]
        assert st["registry"]["runtime_resets"] == 0
        assert max(statuses) == 2, "the two lanes never ran at the same time"
        assert st["queue_depth"] == 0
    finally:
        stop.set()
        for t in threads:
            t.join(5)
        for d in drivers:
            d.stop()
        rc = stack.manager.stop()
        stack.cleanup()
    assert rc == 0
