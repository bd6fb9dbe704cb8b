"""hailo-vision streaming (Server-Sent Events) end to end on the sim backend."""

import re

import requests

from conftest import MODEL, data_uri, png_bytes, sse_events


def stream(vision, body):
    r = requests.post(vision.url + "/v1/chat/completions", json=dict(body, stream=True),
                      stream=True, timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/event-stream")
    events = sse_events(r)
    r.close()
    return events


def check_chunks(events, include_usage=False):
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1 and re.fullmatch(r"chatcmpl-[0-9a-f]{24}", ids.pop())
    assert len({c["created"] for c in chunks}) == 1
    for c in chunks:
        assert c["object"] == "chat.completion.chunk"
        assert c["model"] == MODEL
        if include_usage:
            assert "usage" in c
        else:
            assert "usage" not in c
    first = chunks[0]["choices"][0]
    assert first["index"] == 0
    assert first["delta"] == {"role": "assistant", "content": ""}
    assert first["finish_reason"] is None
    usage = None
    if include_usage:
        last = chunks[-1]
        assert last["choices"] == []
        usage = last["usage"]
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
        chunks = chunks[:-1]
        for c in chunks:
            assert c["usage"] is None
    final = chunks[-1]["choices"][0]
    assert final["delta"] == {}
    assert final["finish_reason"] in ("stop", "length")
    middle = chunks[1:-1]
    for c in middle:
        ch = c["choices"][0]
        assert set(ch["delta"]) == {"content"} and ch["finish_reason"] is None
    text = "".join(c["choices"][0]["delta"]["content"] for c in middle)
    return text, final["finish_reason"], usage, len(middle)


def test_stream_matches_non_streamed(vision):
    body = {"model": MODEL, "seed": 5, "temperature": 0.3, "max_tokens": 60,
            "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": data_uri(png_bytes(30, 30, (9, 99, 199)))}},
                {"type": "text", "text": "What is in this picture?"}]}]}
    text, finish, _, n = check_chunks(stream(vision, body))
    plain = requests.post(vision.url + "/v1/chat/completions", json=body, timeout=60).json()
    assert text == plain["choices"][0]["message"]["content"]
    assert finish == plain["choices"][0]["finish_reason"]
    # Token by token: many content events, not one blob.
    assert n >= 5


def test_stream_include_usage(vision):
    body = {"model": MODEL, "seed": 2, "max_tokens": 4,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "Tell me about the sea."}]}
    text, finish, usage, n = check_chunks(stream(vision, body), include_usage=True)
    assert finish == "length"
    assert usage["completion_tokens"] == 4
    assert usage["prompt_tokens"] > 0
    assert text


def test_stream_stop(vision):
    body = {"model": MODEL, "temperature": 0, "max_tokens": 50,
            "messages": [{"role": "user", "content": "Describe a forest."}]}
    full, _, _, _ = check_chunks(stream(vision, body))
    stop = "simulated"
    assert stop in full
    text, finish, usage, _ = check_chunks(stream(vision, dict(
        body, stop=stop, stream_options={"include_usage": True})), include_usage=True)
    assert text == full[:full.index(stop)]
    assert finish == "stop"
    assert usage["completion_tokens"] < 50


def test_stream_bad_request_is_plain_json_error(vision):
    r = requests.post(vision.url + "/v1/chat/completions", timeout=30, json={
        "model": MODEL, "stream": True, "messages": []})
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"
