"""hailo-llm's Ollama API, black box: every endpoint, streaming and not,
multi-turn conversations, options, keep_alive, load and unload, JSON mode,
tools, and what it answers for what it does not do."""

import json

import requests

from conftest import CODER, MODEL, ndjson, post, user, wait_until


def chat(llm, body, **kw):
    return post(llm, "/api/chat", body, **kw)


def test_root_version_tags(llm):
    r = requests.get(llm.url + "/", timeout=10)
    assert r.status_code == 200 and r.text == "Ollama is running"
    v = requests.get(llm.url + "/api/version", timeout=10).json()
    assert isinstance(v["version"], str) and v["version"]
    tags = requests.get(llm.url + "/api/tags", timeout=10).json()["models"]
    names = [t["name"] for t in tags]
    assert names == sorted(names) and f"{MODEL}:latest" in names and f"{CODER}:latest" in names
    t = next(t for t in tags if t["name"] == f"{MODEL}:latest")
    assert t["model"] == t["name"] and t["size"] > 0 and len(t["digest"]) == 16
    assert t["modified_at"].endswith("Z")
    assert t["details"] == {"parent_model": "", "format": "hef", "family": "qwen2.5",
                            "families": ["qwen2.5"], "parameter_size": "1.5B",
                            "quantization_level": ""}
    assert next(t for t in tags if t["name"] == f"{CODER}:latest")["details"]["family"] == \
        "qwen2.5-coder"


def test_show(llm):
    s = post(llm, "/api/show", {"model": MODEL})
    assert s.status_code == 200, s.text
    body = s.json()
    assert body["details"]["parameter_size"] == "1.5B"
    assert f"{MODEL}.hef" in body["modelfile"]
    assert body["capabilities"] == ["completion", "tools"]
    assert body["model_info"]["general.architecture"] == "qwen2.5"
    # The older "name" field, and an unknown model.
    assert post(llm, "/api/show", {"name": f"{MODEL}:latest"}).status_code == 200
    r = post(llm, "/api/show", {"model": "llama9"})
    assert r.status_code == 404 and MODEL in r.json()["error"]


def test_chat_not_streamed(llm):
    r = chat(llm, {"model": MODEL, "stream": False,
                   "messages": [user("Tell me about volcanoes")]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == MODEL and body["done"] is True and body["done_reason"] == "stop"
    assert body["message"]["role"] == "assistant"
    assert "volcanoes" in body["message"]["content"]
    assert body["prompt_eval_count"] > 10 and body["eval_count"] > 5
    for k in ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration"):
        assert isinstance(body[k], int) and body[k] >= 0, k
    assert body["created_at"].endswith("Z")


def test_chat_streamed_by_default(llm):
    r = chat(llm, {"model": MODEL, "messages": [user("Tell me about volcanoes")]}, stream=True)
    assert r.status_code == 200
    lines = ndjson(r)
    assert len(lines) > 5 and all(not ln["done"] for ln in lines[:-1])
    final = lines[-1]
    assert final["done"] is True and final["message"]["content"] == ""
    text = "".join(ln["message"]["content"] for ln in lines[:-1])
    # The same answer as unstreamed (same conversation, default sampling, no seed: the sim
    # is deterministic in the conversation).
    plain = chat(llm, {"model": MODEL, "stream": False,
                       "messages": [user("Tell me about volcanoes")]}).json()
    assert text == plain["message"]["content"]
    assert final["eval_count"] == plain["eval_count"]


def test_multi_turn_counts(llm):
    msgs = [{"role": "system", "content": "You are brief."}, user("What do otters eat?")]
    a = chat(llm, {"model": MODEL, "stream": False, "messages": msgs}).json()
    msgs += [a["message"], user("And where do they sleep?")]
    b = chat(llm, {"model": MODEL, "stream": False, "messages": msgs}).json()
    assert "Earlier you mentioned otters" in b["message"]["content"]
    # The second prompt holds the first prompt, the first answer and the new turn.
    assert b["prompt_eval_count"] > a["prompt_eval_count"] + a["eval_count"]


def test_generate(llm):
    r = post(llm, "/api/generate", {"model": MODEL, "prompt": "Why is the sea salty?",
                                    "stream": False})
    assert r.status_code == 200, r.text
    body = r.json()
    assert "salty" in body["response"] and body["done"] and body["done_reason"] == "stop"
    assert "context" not in body  # no token ids are invented
    with_system = post(llm, "/api/generate", {"model": MODEL, "prompt": "Why is the sea salty?",
                                              "system": "Answer like a pirate.",
                                              "stream": False}).json()
    assert with_system["prompt_eval_count"] != body["prompt_eval_count"]
    raw = post(llm, "/api/generate", {"model": MODEL, "raw": True, "stream": False,
                                      "prompt": "<|im_start|>user\nsalt<|im_end|>\n"}).json()
    assert raw["prompt_eval_count"] < body["prompt_eval_count"]
    lines = ndjson(post(llm, "/api/generate", {"model": MODEL, "prompt": "Hi"}, stream=True))
    assert lines[-1]["done"] and lines[-1]["response"] == ""
    assert "".join(ln["response"] for ln in lines[:-1]).startswith("This is a simulated")


def test_options(llm):
    base = {"model": MODEL, "stream": False, "messages": [user("Describe a lighthouse")]}
    r = chat(llm, dict(base, options={"num_predict": 3})).json()
    assert r["eval_count"] == 3 and r["done_reason"] == "length"
    r = chat(llm, dict(base, options={"stop": ["simulated answer"]})).json()
    assert r["message"]["content"] == "This is a " and r["done_reason"] == "stop"
    s1 = chat(llm, dict(base, options={"seed": 11, "temperature": 0.9})).json()
    s2 = chat(llm, dict(base, options={"seed": 11, "temperature": 0.9})).json()
    assert s1["message"]["content"] == s2["message"]["content"]
    # num_predict -1 (no limit) and a huge one are capped at generation.max_tokens.
    r = chat(llm, dict(base, options={"num_predict": 10**9, "top_k": 40, "top_p": 0.8,
                                      "frequency_penalty": 0.5, "num_ctx": 4096,
                                      "repeat_penalty": 1.1}))
    assert r.status_code == 200, r.text
    assert chat(llm, dict(base, options={"num_predict": -1})).status_code == 200


def test_keep_alive_load_unload_and_ps(llm, stack):
    mgr = stack.manager

    def resident():
        return [m for m in mgr.request({"action": "status"})["loaded_models"]
                if m["model_type"] == "llm"]

    r = chat(llm, {"model": CODER, "messages": [], "keep_alive": "10m"})
    assert r.status_code == 200, r.text
    assert r.json()["done_reason"] == "load" and r.json()["done"] is True
    assert [m["model_path"].rsplit("/", 1)[1] for m in resident()] == [CODER + ".hef"]
    ps = requests.get(llm.url + "/api/ps", timeout=10).json()["models"]
    assert [p["name"] for p in ps] == [f"{CODER}:latest"]
    assert ps[0]["size_vram"] > 0 and ps[0]["expires_at"].endswith("Z")
    left = resident()[0]["expires_in_seconds"]
    assert 500 < left <= 600
    # keep_alive 0 with no messages unloads; -1 pins; a number is seconds.
    r = post(llm, "/api/generate", {"model": CODER, "keep_alive": 0})
    assert r.json()["done_reason"] == "unload"
    wait_until(lambda: not resident(), 10, "the model to be unloaded")
    assert requests.get(llm.url + "/api/ps", timeout=10).json() == {"models": []}
    chat(llm, {"model": MODEL, "stream": False, "keep_alive": -1, "messages": [user("hi")]})
    assert resident()[0]["pinned"] is True
    chat(llm, {"model": MODEL, "stream": False, "keep_alive": 90, "messages": [user("hi")]})
    assert 80 < resident()[0]["expires_in_seconds"] <= 90
    chat(llm, {"model": MODEL, "stream": False, "keep_alive": "1h30m", "messages": [user("hi")]})
    assert resident()[0]["keep_alive"] == 5400.0
    # keep_alive 0 on a generation: unloaded right after it.
    chat(llm, {"model": MODEL, "stream": False, "keep_alive": "0s", "messages": [user("hi")]})
    wait_until(lambda: not resident(), 10, "keep_alive 0 to unload the model")
    r = chat(llm, {"model": MODEL, "messages": [], "keep_alive": "soon"})
    assert r.status_code == 400 and "keep_alive" in r.json()["error"]


def test_aliases(llm):
    for name in (f"{MODEL}:latest", "qwen2.5-instruct:1.5b", "QWEN2.5:1.5B", "qwen2.5-coder:1.5b"):
        r = chat(llm, {"model": name, "stream": False, "messages": [user("hi")]})
        assert r.status_code == 200, (name, r.text)
        assert r.json()["model"] == name


def test_json_format(llm):
    r = chat(llm, {"model": MODEL, "stream": False, "format": "json",
                   "messages": [user("List some rivers")]}).json()
    body = json.loads(r["message"]["content"])
    assert "rivers" in body["topics"]
    lines = ndjson(post(llm, "/api/generate", {"model": MODEL, "format": "json",
                                               "prompt": "Name a moon"}, stream=True))
    assert json.loads("".join(ln["response"] for ln in lines[:-1]))["simulated"] is True
    r = chat(llm, {"model": MODEL, "format": {"type": "object"}, "messages": [user("x")]})
    assert r.status_code == 400 and "JSON schema" in r.json()["error"]


TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Current weather of a city",
    "parameters": {"type": "object", "required": ["city"],
                   "properties": {"city": {"type": "string"},
                                  "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}}}]


def test_tools(llm):
    msgs = [user("What is the weather in Lisbon?")]
    r = chat(llm, {"model": MODEL, "stream": False, "tools": TOOLS, "messages": msgs}).json()
    calls = r["message"]["tool_calls"]
    assert calls == [{"function": {"name": "get_weather",
                                   "arguments": {"city": "lisbon", "unit": "celsius"}}}]
    assert r["message"]["content"] == "" and r["done_reason"] == "stop"
    # Streamed: no markup in the text; the calls come in their own line.
    lines = ndjson(chat(llm, {"model": MODEL, "tools": TOOLS, "messages": msgs}, stream=True))
    assert "tool_call" not in "".join(ln["message"]["content"] for ln in lines)
    assert [ln["message"]["tool_calls"] for ln in lines if "tool_calls" in ln["message"]] == \
        [calls]
    # The tool's answer comes back; the model's reply quotes it.
    msgs += [r["message"], {"role": "tool", "tool_name": "get_weather",
                            "content": "21 degrees, clear"}]
    r = chat(llm, {"model": MODEL, "stream": False, "tools": TOOLS, "messages": msgs}).json()
    assert 'The tool get_weather answered: "21 degrees, clear"' in r["message"]["content"]
    assert "tool_calls" not in r["message"]


def test_pull_and_unsupported(llm):
    r = post(llm, "/api/pull", {"model": MODEL, "stream": False})
    assert r.status_code == 200 and r.json() == {"status": "success"}
    r = post(llm, "/api/pull", {"model": "llama3.2:1b"})
    assert r.status_code == 404
    err = r.json()["error"]
    assert "does not download models" in err and MODEL in err and "/models/llm" in err
    r = requests.delete(llm.url + "/api/delete", json={"model": MODEL}, timeout=10)
    assert r.status_code == 501 and "does not delete" in r.json()["error"]
    r = post(llm, "/api/embed", {"model": MODEL, "input": "x"})
    assert r.status_code == 501 and "hailo-clip" in r.json()["error"]


def test_form_encoded_body_as_ollama_accepts_it(llm):
    # `curl -d '{...}'` sends application/x-www-form-urlencoded; Ollama reads JSON anyway.
    r = requests.post(llm.url + "/api/generate", timeout=30,
                      data=json.dumps({"model": MODEL, "prompt": "hi", "stream": False}),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200, r.text
    assert r.json()["done"] is True


def test_health(llm):
    h = requests.get(llm.url + "/health", timeout=10).json()
    assert h["status"] == "ok" and h["service"] == "hailo-llm" and h["models"] == 3
    assert h["manager_reachable"] is True and h["backend"] == "sim"
    assert requests.get(llm.url + "/health/ready", timeout=10).json() == {"ready": True}
