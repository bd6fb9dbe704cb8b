"""A client hanging up mid-stream cancels the generation on the manager;
concurrent clients are all answered, each with its own answer."""

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from conftest import MODEL, Vision, chat, sse_events, vision_yaml, wait_until


def read_events(sock, want):
    """Reads raw HTTP from sock until `want` content deltas were seen."""
    data = b""
    seen = 0
    deadline = time.monotonic() + 30
    while seen < want and time.monotonic() < deadline:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
        seen = data.count(b'"delta":{"content"')
    return data, seen


def test_hangup_cancels_generation(stack):
    mgr = stack["manager"]
    # The slow model: ~80 tokens at 300 ms each, so a generation runs ~25 s.
    v = Vision(stack["root"], vision_yaml(stack, hef=stack["slow_hef"]), stack["env"],
               name="vision-slow")
    v.start()
    try:
        body = json.dumps({"model": MODEL, "stream": True, "max_tokens": 200,
                           "messages": [{"role": "user", "content": "Describe a city."}]})
        req = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{v.port}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}")
        s = socket.create_connection(("127.0.0.1", v.port), timeout=30)
        s.sendall(req.encode())
        data, seen = read_events(s, 2)
        assert b"200 OK" in data.split(b"\r\n", 1)[0], data[:200]
        assert seen >= 2, data
        st = mgr.status()
        assert st["scheduler"]["running"] == 1, st["scheduler"]
        hung_up = time.monotonic()
        s.close()
        # The manager stops generating long before the ~25 s the answer would take.
        wait_until(lambda: mgr.status()["scheduler"]["running"] == 0, 10,
                   "the manager to drop the cancelled generation")
        assert time.monotonic() - hung_up < 10
        wait_until(lambda: "client went away" in v.log_text(), 10, "the service to log it")
        # The service is healthy and serves the next request.
        assert requests.get(v.url + "/health/ready", timeout=5).status_code == 200
        r = chat(v, {"model": MODEL, "max_tokens": 2,
                     "messages": [{"role": "user", "content": "Hi"}]})
        assert r.status_code == 200, r.text
        assert r.json()["usage"]["completion_tokens"] == 2
        assert v.alive()
    finally:
        v.stop()


def test_concurrent_clients(vision, stack):
    prompts = [f"Tell me about the {w}." for w in
               ("cat", "dog", "sea", "sky", "tree", "car", "boat", "cake")]

    def ask(prompt, streamed):
        body = {"model": MODEL, "temperature": 0, "max_tokens": 40,
                "messages": [{"role": "user", "content": prompt}]}
        if not streamed:
            r = chat(vision, body)
            assert r.status_code == 200, r.text
            return r.json()["choices"][0]["message"]["content"]
        r = requests.post(vision.url + "/v1/chat/completions", json=dict(body, stream=True),
                          stream=True, timeout=60)
        assert r.status_code == 200, r.text
        ev = sse_events(r)
        assert ev[-1] == "[DONE]"
        return "".join(c["choices"][0]["delta"].get("content", "")
                       for c in ev[:-1] if c["choices"])

    expected = {p: ask(p, False) for p in prompts}
    assert len(set(expected.values())) > 1
    jobs = [(p, i % 2 == 0) for i, p in enumerate(prompts * 3)]
    with ThreadPoolExecutor(max_workers=8) as ex:
        answers = list(ex.map(lambda j: ask(*j), jobs))
    for (p, _), a in zip(jobs, answers):
        assert a == expected[p], (p, a)
    st = stack["manager"].status()
    assert st["queue_depth"] == 0
    clients = {c["name"]: c for c in st.get("clients", [])}
    assert clients["hailo-vision"]["requests"] >= len(jobs) + len(prompts)
