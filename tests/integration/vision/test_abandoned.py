"""Issue 20, item 3: clients that hang up must not keep the device busy.

A non-streamed chat gives its client nothing to read until the end, so only
the HTTP layer's hang-up watcher can notice that the client left; the
service then cancels the call on the manager (libhailodm closes the
connection).  Requests still waiting for a handler thread are dropped
unrun, and a stream whose client leaves while its work is queued on the
manager is cancelled there too.  Every assertion is on states (the
manager's scheduler counters and queue, the service's log), never on time.
"""

import json
import socket

import requests

from conftest import MODEL, Vision, chat, vision_yaml, wait_until

ABANDONED = 20
THREADS = 8  # server.threads in vision_yaml


def raw_chat(port, stream=False, max_tokens=200):
    body = json.dumps({"model": MODEL, "stream": stream, "max_tokens": max_tokens,
                       "messages": [{"role": "user", "content": "Describe a city."}]})
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall((f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
               f"{body}").encode())
    return s


def sched(mgr):
    st = mgr.status()
    return st["scheduler"], st["queue_depth"]


def client_errors(mgr):
    """Calls of hailo-vision on the manager that ended in an error (cancelled)."""
    for c in mgr.status().get("clients", []):
        if c["name"] == "hailo-vision":
            return c["errors"]
    return 0


def test_abandoned_chats_are_cancelled(stack):
    mgr = stack["manager"]
    # The slow model: a generation of 200 tokens takes about a minute, so 20
    # that ran to the end would keep the device busy for twenty.
    v = Vision(stack["root"], vision_yaml(stack, hef=stack["slow_hef"]), stack["env"],
               name="vision-abandoned")
    v.start()
    try:
        before = sched(mgr)[0]["cancelled_disconnect"]
        errors_before = client_errors(mgr)
        socks = [raw_chat(v.port) for _ in range(ABANDONED)]
        # THREADS handlers reach the manager: one runs, the rest queue there;
        # the other requests wait for a handler thread in the service.
        wait_until(lambda: sched(mgr)[0]["running"] == 1 and sched(mgr)[1] >= THREADS - 1, 30,
                   "the first chats to reach the manager")
        for s in socks:
            s.close()
        # The device goes idle: every call on the manager was cancelled ...
        wait_until(lambda: sched(mgr)[0]["running"] == 0 and sched(mgr)[1] == 0, 30,
                   "the manager to drop the abandoned chats")
        # Every call that reached the manager ended unfinished: the queued
        # ones count as cancelled for a disconnect, the running one (and any
        # the scheduler started before it saw the hang-up) is stopped
        # mid-generation; none completed.
        wait_until(lambda: client_errors(mgr) - errors_before >= THREADS, 10,
                   "the manager to end the abandoned calls")
        assert sched(mgr)[0]["cancelled_disconnect"] > before
        # ... and every request ended without an answer: cancelled on the
        # manager (499 in the log), dropped while it waited for a handler
        # thread, or closed before it was read whole (which of the last two
        # depends on how far the service had read it; the unit test
        # test_abandoned_in_queue pins the queue case down).
        def ended():
            lines = [ln for ln in v.log_text().splitlines() if "POST /v1/chat/completions" in ln]
            return len(lines) == ABANDONED and lines
        lines = wait_until(ended, 20, "every abandoned request to end")
        assert not [ln for ln in lines if " 200 " in ln], lines
        assert sched(mgr)[0]["running"] == 0 and sched(mgr)[1] == 0
        # A real request is answered.
        r = chat(v, {"model": MODEL, "max_tokens": 2,
                     "messages": [{"role": "user", "content": "Hi"}]})
        assert r.status_code == 200, r.text
        assert r.json()["usage"]["completion_tokens"] == 2
        assert v.alive()
    finally:
        v.stop()


def test_stream_abandoned_while_queued(stack):
    mgr = stack["manager"]
    v = Vision(stack["root"], vision_yaml(stack, hef=stack["slow_hef"]), stack["env"],
               name="vision-abandoned-stream")
    v.start()
    try:
        before = sched(mgr)[0]["cancelled_disconnect"]
        busy = raw_chat(v.port)  # keeps the device generating
        wait_until(lambda: sched(mgr)[0]["running"] == 1, 30, "the first chat to run")
        streams = [raw_chat(v.port, stream=True) for _ in range(3)]
        for s in streams:  # the stream started: headers and the role chunk
            data = b""
            while b"\r\n\r\n" not in data:
                data += s.recv(4096)
            assert data.startswith(b"HTTP/1.1 200"), data[:200]
        wait_until(lambda: sched(mgr)[1] == 3, 30, "the streams to queue on the manager")
        for s in streams:
            s.close()
        wait_until(lambda: sched(mgr)[1] == 0, 30, "the manager to drop the queued streams")
        wait_until(lambda: sched(mgr)[0]["cancelled_disconnect"] - before == 3, 10,
                   "the manager to count the three cancellations")
        assert sched(mgr)[0]["running"] == 1  # the chat whose client stayed goes on
        busy.close()
        wait_until(lambda: sched(mgr)[0]["running"] == 0, 30, "the last chat to be cancelled")
        assert requests.get(v.url + "/health/ready", timeout=5).status_code == 200
    finally:
        v.stop()
