"""hailo-vision end to end on the sim backend: endpoints and non-streaming chat."""

import base64
import os
import re
import time

import requests

from conftest import MODEL, chat, data_uri, png_bytes


def test_health_ready_models(vision):
    h = requests.get(vision.url + "/health", timeout=5).json()
    assert h["status"] == "ok"
    assert h["model"] == MODEL
    assert h["model_loaded"] is True
    assert h["uptime_seconds"] >= 0
    assert h["backend"] == "sim"
    r = requests.get(vision.url + "/health/ready", timeout=5)
    assert r.status_code == 200 and r.json() == {"ready": True}
    m = requests.get(vision.url + "/v1/models", timeout=5).json()
    assert m["object"] == "list"
    assert len(m["data"]) == 1
    d = m["data"][0]
    assert d["id"] == MODEL and d["object"] == "model" and d["owned_by"] == "hailo"
    assert abs(d["created"] - time.time()) < 3600
    one = requests.get(vision.url + "/v1/models/" + MODEL, timeout=5).json()
    assert one == d


def check_completion(body, max_tokens=None):
    assert re.fullmatch(r"chatcmpl-[0-9a-f]{24}", body["id"]), body["id"]
    assert body["object"] == "chat.completion"
    assert abs(body["created"] - time.time()) < 60
    assert body["model"] == MODEL
    assert len(body["choices"]) == 1
    c = body["choices"][0]
    assert c["index"] == 0
    assert c["message"]["role"] == "assistant"
    assert isinstance(c["message"]["content"], str) and c["message"]["content"]
    assert c["finish_reason"] in ("stop", "length")
    assert c["logprobs"] is None
    u = body["usage"]
    assert u["prompt_tokens"] > 0 and u["completion_tokens"] > 0
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]
    if max_tokens is not None:
        assert u["completion_tokens"] <= max_tokens
    p = body["performance"]
    assert p["inference_time_ms"] >= 0 and p["load_time_ms"] >= 0
    return c["message"]["content"]


def test_text_only_chat(vision):
    r = chat(vision, {"model": MODEL, "messages": [{"role": "user", "content": "Say hello."}]})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    check_completion(r.json())


def test_image_chat_every_content_form(vision, stack):
    red = data_uri(png_bytes(32, 32, (220, 10, 10)))
    green_file = "file://" + os.path.join(stack["images"], "green.png")
    raw_b64 = base64.b64encode(png_bytes(20, 50, (0, 0, 250))).decode()
    forms = [
        {"type": "image_url", "image_url": {"url": red}},
        {"type": "image_url", "image_url": red},
        {"type": "image_url", "image_url": {"url": green_file, "detail": "low"}},
        {"type": "image", "image": raw_b64},
        {"type": "image", "data": red},
        {"type": "image", "image_url": green_file},
    ]
    for part in forms:
        r = chat(vision, {"model": MODEL, "max_tokens": 20, "messages": [
            {"role": "user", "content": [part, {"type": "text", "text": "What is this?"}]}]})
        assert r.status_code == 200, (part.get("type"), r.text)
        check_completion(r.json(), max_tokens=20)


def test_several_images_count_and_change_the_answer(vision):
    red = data_uri(png_bytes(32, 32, (220, 10, 10)))
    blue = data_uri(png_bytes(32, 32, (10, 10, 220)))

    def ask(urls):
        content = [{"type": "image_url", "image_url": {"url": u}} for u in urls]
        content.append({"type": "text", "text": "Compare the pictures."})
        r = chat(vision, {"model": MODEL, "seed": 1, "temperature": 0, "max_tokens": 30,
                          "messages": [{"role": "user", "content": content}]})
        assert r.status_code == 200, r.text
        return r.json()

    one = ask([red])
    two = ask([red, blue])
    three = ask([red, blue, red])
    # Images are real input: each adds prompt tokens, and they reach the model in order.
    assert one["usage"]["prompt_tokens"] < two["usage"]["prompt_tokens"] \
        < three["usage"]["prompt_tokens"]
    again = ask([red, blue])
    assert again["choices"][0]["message"]["content"] == two["choices"][0]["message"]["content"]


def test_multi_turn_whole_conversation_is_used(vision):
    base = [{"role": "system", "content": "You describe images."},
            {"role": "user", "content": "What colour is the sky?"}]
    more = base + [{"role": "assistant", "content": "The sky is blue."},
                   {"role": "user", "content": "And the grass?"}]

    def ask(msgs):
        r = chat(vision, {"model": MODEL, "seed": 3, "temperature": 0, "max_tokens": 25,
                          "messages": msgs})
        assert r.status_code == 200, r.text
        return r.json()

    short, long_ = ask(base), ask(more)
    # Earlier turns count as prompt: the model saw the whole conversation.
    assert long_["usage"]["prompt_tokens"] > short["usage"]["prompt_tokens"]
    # Without a system message the default one is used, which also counts.
    no_sys = ask(more[1:])
    assert no_sys["usage"]["prompt_tokens"] > 0
    assert no_sys["usage"]["prompt_tokens"] != long_["usage"]["prompt_tokens"]


def test_max_tokens_length_and_seed(vision):
    body = {"model": MODEL, "seed": 7, "max_tokens": 3,
            "messages": [{"role": "user", "content": "Tell me a long story about a cat."}]}
    a = chat(vision, body).json()
    assert a["usage"]["completion_tokens"] == 3
    assert a["choices"][0]["finish_reason"] == "length"
    b = chat(vision, body).json()
    assert a["choices"][0]["message"]["content"] == b["choices"][0]["message"]["content"]
    c = chat(vision, dict(body, max_completion_tokens=2, max_tokens=None)).json()
    assert c["usage"]["completion_tokens"] == 2


def test_max_tokens_capped_by_config(vision):
    r = chat(vision, {"model": MODEL, "max_tokens": 100000,
                      "messages": [{"role": "user", "content": "Go on and on."}]})
    assert r.status_code == 200, r.text
    assert r.json()["usage"]["completion_tokens"] <= 200


def test_stop_sequence(vision):
    body = {"model": MODEL, "seed": 11, "temperature": 0, "max_tokens": 40,
            "messages": [{"role": "user", "content": "Describe a sunny beach."}]}
    full = chat(vision, body).json()["choices"][0]["message"]["content"]
    words = full.split()
    assert len(words) >= 4, full
    stop = " " + words[3]
    cut = full[:full.index(stop)]
    r = chat(vision, dict(body, stop=[stop, "\u0000never"])).json()
    assert r["choices"][0]["message"]["content"] == cut
    assert r["choices"][0]["finish_reason"] == "stop"
    # Real counts: generation ended at the stop, well before max_tokens.
    assert r["usage"]["completion_tokens"] < 40


def test_analyze(vision, stack):
    red = data_uri(png_bytes(32, 32, (220, 10, 10)))
    green_file = "file://" + os.path.join(stack["images"], "green.png")
    r = requests.post(vision.url + "/v1/vision/analyze", timeout=60, json={
        "images": [red, green_file], "prompt": "What is in the picture?", "max_tokens": 10,
        "temperature": 0.2, "return_individual_results": True})
    assert r.status_code == 200, r.text
    b = r.json()
    assert [x["index"] for x in b["results"]] == [0, 1]
    assert b["results"][0]["image_url"] == red[:100] + "..."
    assert b["results"][1]["image_url"] == green_file
    assert all(x["analysis"] for x in b["results"])
    assert b["total_inference_time_ms"] >= 0
    r = requests.post(vision.url + "/v1/vision/analyze", timeout=60, json={
        "images": [red, green_file], "prompt": "Compare.", "max_tokens": 10,
        "return_individual_results": False})
    assert r.status_code == 200, r.text
    b = r.json()
    assert len(b["results"]) == 1 and b["results"][0]["image_url"] == "combined"
    assert b["usage"]["completion_tokens"] <= 10
