"""Malformed HTTP requests to hailo-clip: each answers the exact status and
an error naming the problem, and the service then serves a good request.
The body limit is lowered to 1 MiB so 413 is cheap to provoke."""

import base64
import json
import os
import sys

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

LIMIT = 1 << 20


@pytest.fixture(scope="module")
def clip():
    st = hdmtest.SimStack(prefix="hdm-bad-clip-")
    with open(st.clip_config) as f:
        text = f.read().replace("max_body_bytes: 16777216", "max_body_bytes: %d" % LIMIT)
    cfg = os.path.join(st.root, "clip-bad.yaml")
    with open(cfg, "w") as f:
        f.write(text)
    svc = hdmtest.Service(st, "hailo-clip", config=cfg)
    try:
        st.start_manager()
        svc.start()
        svc.png = hdmtest.png_bytes(32, 24)
        yield svc
        assert svc.alive(), "hailo-clip died:\n" + svc.log()[-3000:]
        svc.stop()
    finally:
        st.cleanup([svc])


def still_serves(clip):
    r = clip.post("/v1/embed/text", {"text": "a photo of a cat"})
    assert r.status_code == 200, r.text
    assert len(r.json()["embedding"]) == r.json()["dimension"]


def expect(clip, resp, status, text):
    assert resp.status_code == status, "%s: %s" % (resp.status_code, resp.text)
    assert resp.headers["Content-Type"].startswith("application/json"), resp.headers
    body = resp.json()
    assert isinstance(body.get("error"), str), body
    assert text in body["error"], body
    still_serves(clip)


def b64(data):
    return base64.b64encode(data).decode()


def test_body_not_json(clip):
    r = clip.post("/v1/embed/text", data=b"{text: nope", headers={"Content-Type":
                                                                   "application/json"})
    expect(clip, r, 400, "JSON")


def test_body_is_a_list(clip):
    expect(clip, clip.post("/v1/embed/text", [1, 2]), 400, "expected a JSON object")


def test_body_deeply_nested(clip):
    r = clip.post("/v1/classify", data=b"[" * 100000 + b"]" * 100000,
                  headers={"Content-Type": "application/json"})
    expect(clip, r, 400, "JSON")


def test_body_over_limit(clip):
    body = json.dumps({"text": "x" * (LIMIT + 10)}).encode()
    r = clip.post("/v1/embed/text", data=body, headers={"Content-Type": "application/json"})
    expect(clip, r, 413, "")


def test_missing_image(clip):
    expect(clip, clip.post("/v1/embed/image", {}), 400,
           "image is required (base64, optionally a data: URI)")


def test_image_wrong_type(clip):
    expect(clip, clip.post("/v1/embed/image", {"image": 12}), 400,
           "image must be a non-empty base64 string")


def test_image_empty(clip):
    expect(clip, clip.post("/v1/embed/image", {"image": ""}), 400,
           "image must be a non-empty base64 string")


def test_image_invalid_base64(clip):
    expect(clip, clip.post("/v1/embed/image", {"image": "@@@not*base64@@@"}), 400, "base64")


def test_image_empty_data_uri(clip):
    expect(clip, clip.post("/v1/embed/image", {"image": "data:image/png;base64,"}), 400,
           "image")


def test_image_not_an_image(clip):
    expect(clip, clip.post("/v1/embed/image", {"image": b64(b"hello, this is text" * 4)}), 400,
           "unsupported image format")


def test_image_truncated_png(clip):
    expect(clip, clip.post("/v1/embed/image", {"image": b64(clip.png[:40])}), 400, "truncated")


def test_image_decompression_bomb(clip):
    bomb = hdmtest.png_header_only(60000, 60000)
    expect(clip, clip.post("/v1/embed/image", {"image": b64(bomb)}), 400, "60000x60000")


def test_classify_prompts_missing(clip):
    expect(clip, clip.post("/v1/classify", {"image": b64(clip.png)}), 400, "prompts")


def test_classify_prompts_empty(clip):
    expect(clip, clip.post("/v1/classify", {"image": b64(clip.png), "prompts": []}), 400,
           "prompts")


def test_classify_prompt_not_a_string(clip):
    expect(clip, clip.post("/v1/classify", {"image": b64(clip.png), "prompts": ["a", 3]}), 400,
           "prompts[1]")


def test_classify_too_many_prompts(clip):
    expect(clip, clip.post("/v1/classify", {"image": b64(clip.png),
                                            "prompts": ["cat"] * 1001}), 400, "1000")


def test_classify_top_k_fraction(clip):
    # 1.5 below the prompt count crashed the original; above it was capped
    expect(clip, clip.post("/v1/classify", {"image": b64(clip.png), "prompts": ["cat", "dog"],
                                            "top_k": 1.5}), 400, "top_k")


def test_classify_top_k_negative(clip):
    expect(clip, clip.post("/v1/classify", {"image": b64(clip.png), "prompts": ["cat"],
                                            "top_k": -3}), 400, "top_k must not be negative")


def test_classify_top_k_huge_is_capped(clip):
    """A huge top_k is not an error (SERVICES.md: capped at the number of
    prompts), and must not overflow an int on the way."""
    r = clip.post("/v1/classify", {"image": b64(clip.png), "prompts": ["cat", "dog"],
                                   "top_k": 1e308})
    assert r.status_code == 200, r.text
    assert len(r.json()["classifications"]) == 2


def test_classify_threshold_not_a_number(clip):
    # any number is a threshold, as in the original; a string crashed it
    expect(clip, clip.post("/v1/classify", {"image": b64(clip.png), "prompts": ["cat"],
                                            "threshold": "0.5"}), 400, "threshold")


def test_text_wrong_type(clip):
    expect(clip, clip.post("/v1/embed/text", {"text": ["a"]}), 400, "text must be a string")


def test_text_missing(clip):
    expect(clip, clip.post("/v1/embed/text", {}), 400, "text is required")


def test_unknown_path(clip):
    expect(clip, clip.post("/v1/nothing", {}), 404, "")


def test_wrong_method(clip):
    r = requests.get(clip.url + "/v1/classify", timeout=10)
    expect(clip, r, 405, "")
