"""A client hanging up cancels its generation on the manager, on each API
(streamed or not); concurrent clients are each answered with their own
answer."""

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from conftest import MODEL, SLOW, post, user, wait_until


def running(stack):
    return stack.manager.request({"action": "status"})["scheduler"]["running"]


def hang_up_after(llm, path, body, marker, want):
    """Sends body raw, reads until `want` occurrences of marker (0: just the
    status line), then closes the socket."""
    data = json.dumps(body)
    req = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(data)}\r\n\r\n{data}")
    s = socket.create_connection(("127.0.0.1", llm.port), timeout=30)
    s.sendall(req.encode())
    got = b""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and got.count(marker) < want:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    return s, got


def check_cancelled(llm, stack, s):
    hung_up = time.monotonic()
    s.close()
    # The slow answer would take ~12 s; the manager drops it as soon as it hears.
    wait_until(lambda: running(stack) == 0, 10, "the manager to drop the generation")
    assert time.monotonic() - hung_up < 10
    r = post(llm, "/api/chat", {"model": MODEL, "stream": False, "options": {"num_predict": 2},
                                "messages": [user("hi")]})
    assert r.status_code == 200 and r.json()["eval_count"] == 2


def test_hangup_ollama_stream(llm, stack):
    s, got = hang_up_after(llm, "/api/chat", {"model": SLOW, "messages": [user("A long story")]},
                           b'"done":false', 2)
    assert b"200 OK" in got.split(b"\r\n", 1)[0] and b"application/x-ndjson" in got
    assert running(stack) == 1
    before = llm.log().count("client went away")
    check_cancelled(llm, stack, s)
    wait_until(lambda: llm.log().count("client went away") > before, 10, "the log line")


def test_hangup_openai_stream(llm, stack):
    s, got = hang_up_after(llm, "/v1/chat/completions",
                           {"model": SLOW, "stream": True, "messages": [user("A long story")]},
                           b'"delta":{"content"', 2)
    assert got.count(b'"delta":{"content"') >= 2
    check_cancelled(llm, stack, s)


def test_hangup_while_not_streaming(llm, stack):
    # Nothing is written until the answer is whole: the hang-up hook cancels it.
    s, _ = hang_up_after(llm, "/api/generate",
                         {"model": SLOW, "stream": False, "prompt": "A long story"}, b"", 0)
    wait_until(lambda: running(stack) == 1, 10, "the generation to start")
    check_cancelled(llm, stack, s)


def test_concurrent_clients(llm):
    topics = ["cats", "rivers", "castles", "bridges", "comets", "forests"]

    def ask(topic, streamed):
        body = {"model": MODEL, "messages": [user(f"Tell me about {topic}")],
                "options": {"temperature": 0}}
        if streamed:
            r = post(llm, "/api/chat", body, stream=True)
            lines = [json.loads(x) for x in r.iter_lines() if x]
            return "".join(x["message"]["content"] for x in lines)
        return post(llm, "/api/chat", dict(body, stream=False)).json()["message"]["content"]

    with ThreadPoolExecutor(12) as ex:
        futures = [(t, ex.submit(ask, t, i % 2 == 0)) for i, t in enumerate(topics * 2)]
        answers = {}
        for t, f in futures:
            a = f.result(timeout=120)
            assert t in a
            answers.setdefault(t, set()).add(a)
    # Greedy: the same question, streamed or not, the same answer.
    assert all(len(v) == 1 for v in answers.values()), answers
