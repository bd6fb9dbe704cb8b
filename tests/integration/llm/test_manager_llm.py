"""model_type llm on the manager (sim backend): the contract of
docs/PROTOCOL.md "llm" over the wire, streaming, usage from the model's
tokenizer, errors, and the GenAI swap between llm and vlm_chat (one KV
cache), counted in status and /metrics."""

import os
import sys
import threading

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402


@pytest.fixture(scope="module")
def mgr():
    m = hdmtest.Manager(http=True)
    m.start()
    m.llm = m.make_model("llm/qwen2.5-1.5b-instruct.hef", footprint_mb=1800, token_ms=1)
    m.vlm = m.make_model("vlm/qwen2-vl-2b-instruct.hef", footprint_mb=2400, token_ms=1)
    yield m
    assert m.stop() == 0, m.log()
    m.cleanup()


def infer(mgr, input_data, **kw):
    req = {"action": "infer", "model_type": "llm", "model_path": mgr.llm,
           "input_data": input_data}
    req.update(kw)
    return mgr.request(req, timeout=30)


def collect(c, rid):
    deltas = []
    while True:
        r = c.recv(timeout=30)
        assert r["request_id"] == rid and "error" not in r, r
        if r["done"]:
            return deltas, r
        deltas.append(r["delta"])


def test_chat_usage_and_determinism(mgr):
    msgs = [{"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Tell me about lighthouses"}]
    r = infer(mgr, {"messages": msgs, "seed": 5, "max_generated_tokens": 60})
    assert r["status"] == "ok", r
    assert "lighthouses" in r["result"]
    assert r["finish_reason"] in ("stop", "length")
    assert r["usage"]["prompt_tokens"] > 10 and r["usage"]["completion_tokens"] > 5
    again = infer(mgr, {"messages": msgs, "seed": 5, "max_generated_tokens": 60})
    assert again["result"] == r["result"] and again["usage"] == r["usage"]
    # A longer conversation is more prompt tokens.
    longer = infer(mgr, {"messages": msgs + [{"role": "assistant", "content": r["result"]},
                                             {"role": "user", "content": "And their keepers?"}],
                         "seed": 5})
    assert longer["usage"]["prompt_tokens"] > r["usage"]["prompt_tokens"] + \
        r["usage"]["completion_tokens"]
    assert "Earlier you mentioned lighthouses" in longer["result"]


def test_stream_stop_and_length(mgr):
    req = {"action": "infer", "model_type": "llm", "model_path": mgr.llm, "stream": True,
           "request_id": "s", "input_data": {"messages": [{"role": "user", "content": "hi"}],
                                             "stop": ["simulated answer"]}}
    with mgr.client() as c:
        c.send(req)
        deltas, final = collect(c, "s")
    assert "".join(deltas) == final["result"] == "This is a "
    assert final["finish_reason"] == "stop"
    r = infer(mgr, {"messages": [{"role": "user", "content": "hi"}], "max_generated_tokens": 3})
    assert r["finish_reason"] == "length" and r["usage"]["completion_tokens"] == 3


def test_json_and_tools(mgr):
    r = infer(mgr, {"messages": [{"role": "user", "content": "name two moons"}],
                    "format": "json"})
    import json
    body = json.loads(r["result"])
    assert body["simulated"] is True and "moons" in body["topics"]
    tools = [{"type": "function", "function": {
        "name": "lookup", "description": "Looks a word up",
        "parameters": {"type": "object", "properties": {"word": {"type": "string"}}}}}]
    r = infer(mgr, {"messages": [{"role": "user", "content": "lookup serendipity"}],
                    "tools": tools})
    assert r["result"].startswith("<tool_call>\n{") and r["result"].endswith("}\n</tool_call>")
    call = json.loads(r["result"][len("<tool_call>\n"):-len("\n</tool_call>")])
    assert call == {"name": "lookup", "arguments": {"word": "serendipity"}}


def test_errors(mgr):
    cases = [
        ({}, "input_data.messages required"),
        ({"messages": []}, "input_data.messages must not be empty"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "role must be system, user"),
        ({"messages": [{"role": "user", "content": "x"}], "max_generated_tokens": 10**9},
         "max_generated_tokens must be between 1 and 16384"),
        ({"messages": [{"role": "user", "content": [{"type": "image"}]}]}, "text only"),
    ]
    for data, text in cases:
        r = infer(mgr, data)
        assert r.get("code") == "bad_request" and text in r["error"], r
        assert r["error"].startswith("Inference failed: "), r
    # A prompt beyond the context names both sizes.
    r = infer(mgr, {"messages": [{"role": "user", "content": "word " * 3000}]})
    assert r.get("code") == "bad_request" and "context holds 2048" in r["error"], r
    # Streaming is for text generators only.
    r = mgr.request({"action": "infer", "model_type": "depth", "model_path": mgr.llm,
                     "stream": True, "input_data": {"input": hdmtest.tensor("uint8", [4, 4, 3])}})
    assert "llm, vlm_chat and vlm" in r["error"]


def metric(mgr, name):
    status, body = mgr.http_get("/metrics")
    assert status == 200
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def test_swap_with_vlm_under_load(mgr):
    """llm and vlm_chat share the KV cache: requests for both, interleaved
    from several threads, all succeed and every swap is counted."""
    swaps0 = metric(mgr, 'hailo_model_evictions_total{reason="genai_swap"}')
    errors, done = [], {"llm": 0, "vlm": 0}
    lock = threading.Lock()

    def worker(kind, n):
        for i in range(n):
            if kind == "llm":
                req = {"action": "infer", "model_type": "llm", "model_path": mgr.llm,
                       "input_data": {"messages": [{"role": "user", "content": f"turn {i}"}],
                                      "max_generated_tokens": 8}}
            else:
                req = {"action": "infer", "model_type": "vlm_chat", "model_path": mgr.vlm,
                       "input_data": {"prompt": f"describe {i}", "max_generated_tokens": 8}}
            r = mgr.request(req, timeout=60)
            with lock:
                if r.get("status") != "ok":
                    errors.append(r)
                else:
                    done[kind] += 1

    threads = [threading.Thread(target=worker, args=(k, 6)) for k in ("llm", "vlm") * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert done == {"llm": 12, "vlm": 12}
    swaps = metric(mgr, 'hailo_model_evictions_total{reason="genai_swap"}') - swaps0
    assert swaps >= 1
    status = mgr.request({"action": "status"})
    genai = [m for m in status["loaded_models"] if m["model_type"] in ("llm", "vlm_chat")]
    assert len(genai) == 1, status["loaded_models"]
