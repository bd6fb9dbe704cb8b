"""Malformed requests to hailo-llm: each answers a clear status with a
message naming the problem, in Ollama's error shape ({"error": "..."}) on
/api and OpenAI's on /v1, and the service then serves a good request.
The body limit is the default 4 MiB; generation.max_tokens is lowered to 8
so the cap of num_predict shows in the answer."""

import json
import os
import socket
import sys

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

MODEL = "qwen2.5-1.5b-instruct"
CAP = 8


@pytest.fixture(scope="module")
def llm():
    st = hdmtest.SimStack(prefix="hdm-bad-llm-")
    with open(os.path.join(st.root, "hailo-llm.yaml")) as f:
        text = f.read()
    text = text.replace("max_tokens: 512", "max_tokens: %d" % CAP)
    cfg = os.path.join(st.root, "llm-bad.yaml")
    with open(cfg, "w") as f:
        f.write(text)
    svc = hdmtest.Service(st, "hailo-llm", config=cfg)
    try:
        st.start_manager()
        svc.start()
        yield svc
        assert svc.alive(), "hailo-llm died:\n" + svc.log()[-3000:]
        svc.stop()
    finally:
        st.cleanup([svc])


def still_serves(llm):
    r = llm.post("/api/chat", {"model": MODEL, "stream": False,
                               "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200, r.text
    assert r.json()["done"] is True


def ollama_error(r, status, *needles):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"} and isinstance(body["error"], str), body
    for n in needles:
        assert n in body["error"], (n, body)
    return body["error"]


def chat(llm, body):
    return llm.post("/api/chat", body)


USER = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("body,status,needles", [
    ({"model": "mistral:7b", "messages": USER}, 404,
     ['model "mistral:7b" not found', MODEL, "qwen2.5-coder-1.5b-instruct"]),
    ({"messages": USER}, 400, ["model is required"]),
    ({"model": 7, "messages": USER}, 400, ["model must be a string"]),
    ({"model": MODEL, "messages": "hi"}, 400, ["messages must be a list"]),
    ({"model": MODEL, "messages": [{"role": "wizard", "content": "x"}]}, 400,
     ['messages[0].role must be', '"wizard"']),
    ({"model": MODEL, "messages": [{"content": "x"}]}, 400, ["messages[0].role must be a string"]),
    ({"model": MODEL, "messages": [{"role": "user", "content": ["x"]}]}, 400,
     ["messages[0].content must be a string"]),
    ({"model": MODEL, "messages": [{"role": "user", "content": "x", "images": ["AAAA"]}]}, 400,
     ["text only"]),
    ({"model": MODEL, "messages": [{"role": "user", "content": "x", "tool_calls": []}]}, 400,
     ["only assistant messages carry tool calls"]),
    ({"model": MODEL, "messages": USER, "stream": "yes"}, 400, ["stream must be true or false"]),
    ({"model": MODEL, "messages": USER, "options": []}, 400, ["options must be an object"]),
    ({"model": MODEL, "messages": USER, "options": {"temperature": "hot"}}, 400,
     ["options.temperature must be a number"]),
    ({"model": MODEL, "messages": USER, "options": {"num_predict": 1.5}}, 400,
     ["options.num_predict must be an integer"]),
    ({"model": MODEL, "messages": USER, "options": {"seed": 2**40}}, 400, ["options.seed"]),
    ({"model": MODEL, "messages": USER, "options": {"stop": [1]}}, 400,
     ["options.stop[0] must be a string"]),
    ({"model": MODEL, "messages": USER, "options": {"stop": ["s%d" % i for i in range(17)]}}, 400,
     ["more than 16 stop sequences"]),
    ({"model": MODEL, "messages": USER, "keep_alive": "forever"}, 400, ["keep_alive must be"]),
    ({"model": MODEL, "messages": USER, "keep_alive": [1]}, 400, ["keep_alive must be"]),
    ({"model": MODEL, "messages": USER, "format": "xml"}, 400, ['format must be "json"']),
    ({"model": MODEL, "messages": USER, "format": {"type": "object"}}, 400, ["JSON schema"]),
    ({"model": MODEL, "messages": USER, "think": True}, 400, ["does not support thinking"]),
    ({"model": MODEL, "messages": USER, "tools": {"x": 1}}, 400, ["tools must be a list"]),
    ({"model": MODEL, "messages": USER, "tools": [{"type": "function"}]}, 400, ["tools[0] must be"]),
    ({"model": MODEL, "messages": [{"role": "user", "content": "x" * 100}] * 300}, 400,
     ["more than 256 entries"]),
])
def test_bad_chat(llm, body, status, needles):
    ollama_error(chat(llm, body), status, *needles)
    still_serves(llm)


@pytest.mark.parametrize("body,needles", [
    ({"model": MODEL, "prompt": "x", "suffix": "y"}, ["suffix"]),
    ({"model": MODEL, "prompt": "x", "template": "{{ .Prompt }}"}, ["template is not supported"]),
    ({"model": MODEL, "prompt": "x", "context": [1, 2, 3]}, ["context"]),
    ({"model": MODEL, "prompt": "x", "images": ["AAAA"]}, ["text only"]),
    ({"model": MODEL, "prompt": 5}, ["prompt must be a string"]),
    ({"model": MODEL, "prompt": "x", "system": 5}, ["system must be a string"]),
    ({"model": MODEL, "prompt": "x", "raw": "yes"}, ["raw must be true or false"]),
])
def test_bad_generate(llm, body, needles):
    ollama_error(llm.post("/api/generate", body), 400, *needles)


def test_empty_messages(llm):
    # Ollama's rule (`ollama run` relies on it): an empty conversation loads the model.
    r = chat(llm, {"model": MODEL, "messages": []})
    assert r.status_code == 200 and r.json()["done_reason"] == "load"
    r = llm.post("/api/generate", {"model": MODEL, "prompt": "", "keep_alive": 0})
    assert r.status_code == 200 and r.json()["done_reason"] == "unload"
    # OpenAI's: an error naming the parameter.
    r = llm.post("/v1/chat/completions", {"model": MODEL, "messages": []})
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages"
    # An empty message is a message (the model answers it).
    r = chat(llm, {"model": MODEL, "stream": False, "messages": [{"role": "user", "content": ""}]})
    assert r.status_code == 200


def test_huge_messages(llm):
    # 10 MB: beyond the body limit, refused before it is read.
    big = "word " * (2 * 1024 * 1024)
    r = requests.post(llm.url + "/api/chat", timeout=60,
                      json={"model": MODEL, "messages": [{"role": "user", "content": big}]})
    ollama_error(r, 413, "exceeds the limit")
    r = requests.post(llm.url + "/v1/chat/completions", timeout=60,
                      json={"model": MODEL, "messages": [{"role": "user", "content": big}]})
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
    # 2 MB within the body limit: beyond what the manager takes, said by the service.
    mid = "x" * (2 * 1024 * 1024)
    ollama_error(chat(llm, {"model": MODEL, "messages": [{"role": "user", "content": mid}]}), 413,
                 "at most 1048576")
    # 500 kB: the manager takes it, the model's context does not.
    small = "word " * 100000
    ollama_error(chat(llm, {"model": MODEL, "stream": False,
                            "messages": [{"role": "user", "content": small}]}), 400,
                 "context holds 2048")
    # Streamed, the same error comes as a line of the stream.
    r = requests.post(llm.url + "/api/chat", timeout=60, stream=True,
                      json={"model": MODEL, "messages": [{"role": "user", "content": small}]})
    lines = [json.loads(x) for x in r.iter_lines() if x]
    assert "context holds 2048" in lines[-1]["error"]
    still_serves(llm)


def test_num_predict_capped(llm):
    for n in (10**9, -1, -2):
        r = chat(llm, {"model": MODEL, "stream": False, "options": {"num_predict": n},
                       "messages": [{"role": "user", "content": "Tell me about trains"}]})
        assert r.status_code == 200, r.text
        assert r.json()["eval_count"] == CAP and r.json()["done_reason"] == "length"
    r = llm.post("/v1/chat/completions", {"model": MODEL, "max_tokens": 10**9,
                                          "messages": [{"role": "user", "content": "trains"}]})
    assert r.json()["usage"]["completion_tokens"] == CAP


def test_malformed_json(llm):
    for path in ("/api/chat", "/api/generate", "/api/show", "/api/pull"):
        r = requests.post(llm.url + path, data=b'{"model": "x", ', timeout=10)
        ollama_error(r, 400, "invalid JSON body")
        r = requests.post(llm.url + path, data=b"\xff\xfe", timeout=10)
        assert r.status_code == 400
        r = requests.post(llm.url + path, data=b"[1, 2]", timeout=10)
        ollama_error(r, 400)
    r = requests.post(llm.url + "/v1/chat/completions", data=b"{", timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    # Chunked bodies are refused by the HTTP layer (sent whole, so the answer
    # cannot race the upload); the service carries on.
    body = b'{"model": "x"}'
    raw = (b"POST /api/chat HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
           b"Connection: close\r\n\r\n" + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
    with socket.create_connection(("127.0.0.1", llm.port), timeout=10) as sock:
        sock.sendall(raw)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 411"), answer[:200]
    still_serves(llm)


def test_unknown_paths_and_methods(llm):
    assert requests.get(llm.url + "/api/nothing", timeout=10).status_code == 404
    r = requests.get(llm.url + "/api/chat", timeout=10)
    assert r.status_code == 405
    r = requests.post(llm.url + "/api/show", json={"model": "../../etc/passwd"}, timeout=10)
    ollama_error(r, 404, "not found")
    r = requests.post(llm.url + "/api/chat", timeout=10,
                      json={"model": "../llm/" + MODEL, "messages": USER})
    ollama_error(r, 404, "not found")
    still_serves(llm)
