"""The device manager killed with SIGKILL and restarted while hailo-clip and
hailo-vision are under load.  The services must report not-ready while it
is gone, recover by themselves once it is back (no restart of the services),
and answer every request: 200, or a 5xx with a JSON error body; a streamed
answer ends with [DONE] or an error event.  Nothing may hang or drop a
connection without an answer."""

import base64
import json
import os
import sys
import threading
import time

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

MODEL = "qwen2-vl-2b-instruct"
HTTP_TIMEOUT = 60


class Load:
    """Client threads hammering both services; every outcome is recorded."""

    def __init__(self, clip, vision):
        self.clip, self.vision = clip, vision
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.outcomes = []          # (time, kind, status or exception text)
        self.bad = []               # answers that break the contract
        self.png = base64.b64encode(hdmtest.png_bytes(32, 24)).decode()
        self.threads = []
        self.n = 0

    def record(self, kind, status, problem=None):
        with self.lock:
            self.outcomes.append((time.monotonic(), kind, status))
            if problem:
                self.bad.append((kind, status, problem))

    def check_answer(self, kind, r, openai):
        if r.status_code == 200:
            self.record(kind, 200)
            return
        try:
            body = r.json()
            err = body.get("error")
            ok = isinstance(err, dict) and isinstance(err.get("message"), str) if openai \
                else isinstance(err, str) and err
        except ValueError:
            ok = False
        problem = None
        if r.status_code < 500 or not ok:
            problem = "unexpected answer %d: %s" % (r.status_code, r.text[:300])
        self.record(kind, r.status_code, problem)

    def clip_worker(self, i):
        k = 0
        while not self.stop.is_set():
            k += 1
            try:
                if k % 2:
                    # a text never seen before, so the cache cannot answer it
                    r = self.clip.post("/v1/embed/text", {"text": "photo %d %d" % (i, k)},
                                       timeout=HTTP_TIMEOUT)
                    kind = "clip-text"
                else:
                    r = self.clip.post("/v1/embed/image", {"image": self.png},
                                       timeout=HTTP_TIMEOUT)
                    kind = "clip-image"
                self.check_answer(kind, r, openai=False)
            except requests.RequestException as e:
                self.record("clip", "exception", "no answer: %r" % e)

    def vision_worker(self, stream):
        while not self.stop.is_set():
            body = {"model": MODEL, "max_tokens": 6, "stream": stream, "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url",
                     "image_url": {"url": "data:image/png;base64," + self.png}}]}]}
            kind = "vision-stream" if stream else "vision"
            try:
                r = self.vision.post("/v1/chat/completions", body, timeout=HTTP_TIMEOUT)
                if not stream or r.status_code != 200:
                    self.check_answer(kind, r, openai=True)
                    continue
                last = None
                for line in r.iter_lines(decode_unicode=True):
                    if line:
                        last = line
                if last == "data: [DONE]":
                    self.record(kind, 200)
                elif last and last.startswith("data: ") and "error" in json.loads(last[6:]):
                    self.record(kind, "stream-error")
                else:
                    self.record(kind, "stream-cut", "stream ended without [DONE] or an "
                                "error event (last line %r)" % last)
            except (requests.RequestException, ValueError) as e:
                self.record(kind, "exception", "no answer: %r" % e)

    def start(self):
        for i in range(3):
            self.threads.append(threading.Thread(target=self.clip_worker, args=(i,)))
        self.threads.append(threading.Thread(target=self.vision_worker, args=(False,)))
        self.threads.append(threading.Thread(target=self.vision_worker, args=(True,)))
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(HTTP_TIMEOUT + 10)
            assert not t.is_alive(), "a client thread hung"

    def ok_since(self, t0, prefix):
        with self.lock:
            return sum(1 for t, k, s in self.outcomes if t >= t0 and k.startswith(prefix)
                       and s == 200)

    def refused_since(self, t0, prefix):
        """Answers other than 200 (the 503s of a service without its manager)."""
        with self.lock:
            return sum(1 for t, k, s in self.outcomes if t >= t0 and k.startswith(prefix)
                       and s != 200)


@pytest.fixture
def stack():
    st = hdmtest.SimStack(prefix="hdm-kill-")
    clip = hdmtest.Service(st, "hailo-clip")
    vision = hdmtest.Service(st, "hailo-vision")
    try:
        st.start_manager()
        clip.start()
        vision.start()
        yield st, clip, vision
        assert clip.alive(), "hailo-clip died:\n" + clip.log()[-3000:]
        assert vision.alive(), "hailo-vision died:\n" + vision.log()[-3000:]
        clip.stop()
        vision.stop()
    finally:
        st.cleanup([clip, vision])


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def test_sigkill_and_restart_under_load(stack):
    st, clip, vision = stack
    load = Load(clip, vision)
    load.start()
    try:
        t0 = time.monotonic()
        wait_for(lambda: load.ok_since(t0, "clip") >= 5 and load.ok_since(t0, "vision") >= 2,
                 30, "traffic to flow before the kill")
        st.kill_manager()
        wait_for(lambda: not clip.ready(), 20, "hailo-clip to report not ready")
        wait_for(lambda: not vision.ready(), 20, "hailo-vision to report not ready")
        # Requests meanwhile must get answers (503s), not hang: wait for some.
        t_down = time.monotonic()
        wait_for(lambda: load.refused_since(t_down, "clip") >= 3 and
                 load.refused_since(t_down, "vision") >= 3, 30,
                 "both services to answer requests while the manager is down")
        st.start_manager()
        t_back = time.monotonic()
        wait_for(clip.ready, 30, "hailo-clip to recover by itself")
        wait_for(vision.ready, 30, "hailo-vision to recover by itself")
        wait_for(lambda: load.ok_since(t_back, "clip") >= 5 and
                 load.ok_since(t_back, "vision") >= 2, 30, "traffic to flow again")
    finally:
        load.finish()
    assert not load.bad, "contract broken:\n" + "\n".join(map(str, load.bad[:20]))
    kinds = {}
    for _, k, s in load.outcomes:
        kinds.setdefault((k, s), 0)
        kinds[(k, s)] += 1
    print("outcomes:", sorted(kinds.items(), key=str))
    assert any(s != 200 for _, _, s in load.outcomes), \
        "the kill went unnoticed: no request failed while the manager was down"
