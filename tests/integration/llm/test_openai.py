"""hailo-llm's OpenAI API (/v1), black box: the shapes the SDKs read, the
parameters it honours and the ones it refuses by name, OpenAI's error shape
for its own errors and the HTTP layer's."""

import json

import requests

from conftest import MODEL, post, sse_events, user


def test_models(llm):
    r = requests.get(llm.url + "/v1/models", timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "list"
    ids = [m["id"] for m in body["data"]]
    assert MODEL in ids
    m = body["data"][ids.index(MODEL)]
    assert m["object"] == "model" and m["owned_by"] == "hailo" and m["created"] > 0


def test_completion_shape(llm):
    r = post(llm, "/v1/chat/completions", {"model": MODEL, "messages": [user("Tell me about owls")]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body)[:4] == ["id", "object", "created", "model"]
    assert body["object"] == "chat.completion" and body["model"] == MODEL
    choice = body["choices"][0]
    assert choice["message"]["role"] == "assistant" and "owls" in choice["message"]["content"]
    assert choice["finish_reason"] == "stop"
    u = body["usage"]
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]
    # Text parts are joined; developer is system.
    r2 = post(llm, "/v1/chat/completions", {
        "model": MODEL, "messages": [{"role": "developer", "content": "Be brief."},
                                     {"role": "user", "content": [{"type": "text", "text": "owls"},
                                                                  {"type": "text", "text": "again"}]}]})
    assert r2.status_code == 200, r2.text
    assert "again" in r2.json()["choices"][0]["message"]["content"]


def test_stream_shape(llm):
    r = post(llm, "/v1/chat/completions", {"model": MODEL, "stream": True, "max_tokens": 6,
                                           "messages": [user("hi")]}, stream=True)
    assert r.headers["Content-Type"] == "text/event-stream"
    ev = sse_events(r)
    assert ev[-1] == "[DONE]"
    assert ev[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in ev[1:-2])
    assert text.startswith("This is")
    assert ev[-2]["choices"][0]["finish_reason"] == "length"
    assert all("usage" not in e for e in ev[:-1])


def test_json_object_and_tools(llm):
    r = post(llm, "/v1/chat/completions", {"model": MODEL, "response_format": {"type": "json_object"},
                                           "messages": [user("name some birds")]}).json()
    assert "birds" in json.loads(r["choices"][0]["message"]["content"])["topics"]
    tools = [{"type": "function", "function": {"name": "search", "parameters": {
        "type": "object", "properties": {"query": {"type": "string"}}}}}]
    r = post(llm, "/v1/chat/completions", {"model": MODEL, "tools": tools,
                                           "messages": [user("search penguins")]}).json()
    msg = r["choices"][0]["message"]
    assert r["choices"][0]["finish_reason"] == "tool_calls" and msg["content"] is None
    assert msg["tool_calls"][0]["type"] == "function"
    assert msg["tool_calls"][0]["id"].startswith("call_")
    assert json.loads(msg["tool_calls"][0]["function"]["arguments"]) == {"query": "penguins"}
    # tool_choice none: no tools offered, a plain answer.
    r = post(llm, "/v1/chat/completions", {"model": MODEL, "tools": tools, "tool_choice": "none",
                                           "messages": [user("search penguins")]}).json()
    assert "tool_calls" not in r["choices"][0]["message"]


def openai_error(r, status, param=None, contains=None, code=None):
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert {"message", "type", "param", "code"} <= set(err)
    assert err["type"] == ("invalid_request_error" if status < 500 else "server_error")
    if param is not None:
        assert err["param"] == param, err
    if contains is not None:
        assert contains in err["message"], err
    if code is not None:
        assert err["code"] == code, err
    return err


def test_errors(llm):
    url = "/v1/chat/completions"
    openai_error(post(llm, url, {"model": "gpt-4o", "messages": [user("x")]}), 404, "model",
                 MODEL, "model_not_found")
    openai_error(post(llm, url, {"model": MODEL, "messages": []}), 400, "messages", "non-empty")
    openai_error(post(llm, url, {"model": MODEL, "messages": [{"role": "narrator", "content": "x"}]}),
                 400, "messages", "narrator")
    openai_error(post(llm, url, {"model": MODEL, "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:,"}}]}]}), 400, "messages", "text only")
    openai_error(post(llm, url, {"model": MODEL, "temperature": 5, "messages": [user("x")]}), 400,
                 "temperature")
    openai_error(post(llm, url, {"model": MODEL, "presence_penalty": 1, "messages": [user("x")]}),
                 400, "presence_penalty")
    openai_error(post(llm, url, {"model": MODEL, "response_format": {"type": "json_schema"},
                                 "messages": [user("x")]}), 400, "response_format")
    openai_error(post(llm, url, {"model": MODEL, "tool_choice": "required",
                                 "messages": [user("x")]}), 400, "tool_choice")
    # The HTTP layer's own errors on /v1 are OpenAI-shaped too.
    r = requests.post(llm.url + url, data="{not json", timeout=10,
                      headers={"Content-Type": "application/json"})
    openai_error(r, 400, code="invalid_json")
    r = requests.post(llm.url + url, data="{}", timeout=10, headers={"Content-Type": "text/plain"})
    openai_error(r, 415)
