"""Malformed HTTP requests to hailo-vision: each answers the exact status in
OpenAI's error shape with a message naming the problem, and the service then
serves a good request.  Limits are lowered (1 MiB bodies, 200 kB images,
1 Mpixel) so they are cheap to hit; file:// URLs are confined to the
stack's images directory and remote fetches are off (the default)."""

import base64
import json
import os
import signal
import sys

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

LIMIT = 1 << 20
MODEL = "qwen2-vl-2b-instruct"


@pytest.fixture(scope="module")
def vision():
    st = hdmtest.SimStack(prefix="hdm-bad-vision-")
    with open(st.vision_config) as f:
        text = f.read()
    text = text.replace("server:\n", "server:\n  max_body_bytes: %d\n" % LIMIT, 1)
    text = text.replace("images:\n", "images:\n  max_bytes: 200000\n  max_pixels: 1000000\n"
                        "  max_per_request: 4\n", 1)
    cfg = os.path.join(st.root, "vision-bad.yaml")
    with open(cfg, "w") as f:
        f.write(text)
    svc = hdmtest.Service(st, "hailo-vision", config=cfg)
    try:
        st.start_manager()
        svc.start()
        svc.png = hdmtest.png_bytes(40, 30)
        svc.images = st.images
        with open(os.path.join(st.images, "ok.png"), "wb") as f:
            f.write(svc.png)
        with open(os.path.join(st.root, "secret.png"), "wb") as f:
            f.write(svc.png)
        yield svc
        assert svc.alive(), "hailo-vision died:\n" + svc.log()[-3000:]
        svc.stop()
    finally:
        st.cleanup([svc])


def uri(data, mime="image/png"):
    return "data:%s;base64,%s" % (mime, base64.b64encode(data).decode())


def still_serves(vision):
    r = vision.post("/v1/chat/completions", {"model": MODEL, "max_tokens": 4, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "what is it?"},
                                     {"type": "image_url",
                                      "image_url": {"url": uri(vision.png)}}]}]})
    assert r.status_code == 200, r.text
    assert r.json()["object"] == "chat.completion"


def expect(vision, resp, status, text, etype="invalid_request_error"):
    assert resp.status_code == status, "%s: %s" % (resp.status_code, resp.text)
    assert resp.headers["Content-Type"].startswith("application/json"), resp.headers
    body = resp.json()
    err = body.get("error")
    assert isinstance(err, dict) and isinstance(err.get("message"), str), body
    assert err.get("type") == etype, body
    assert text in err["message"], body
    still_serves(vision)


def chat(vision, **body):
    return vision.post("/v1/chat/completions", body)


def user_image(url):
    return [{"role": "user", "content": [{"type": "text", "text": "describe"},
                                         {"type": "image_url", "image_url": {"url": url}}]}]


def test_body_not_json(vision):
    r = vision.post("/v1/chat/completions", data=b'{"messages": [',
                    headers={"Content-Type": "application/json"})
    expect(vision, r, 400, "JSON")


def test_body_deeply_nested(vision):
    r = vision.post("/v1/chat/completions", data=b'{"a":' * 50000 + b"1" + b"}" * 50000,
                    headers={"Content-Type": "application/json"})
    expect(vision, r, 400, "JSON")


def test_body_over_limit(vision):
    body = json.dumps({"messages": [{"role": "user", "content": "x" * (LIMIT + 1)}]}).encode()
    r = vision.post("/v1/chat/completions", data=body,
                    headers={"Content-Type": "application/json"})
    expect(vision, r, 413, "")


def test_no_messages(vision):
    expect(vision, chat(vision, model=MODEL), 400, "messages must be a non-empty list")


def test_messages_not_a_list(vision):
    expect(vision, chat(vision, messages="hello"), 400, "messages must be a non-empty list")


def test_bad_role(vision):
    expect(vision, chat(vision, messages=[{"role": "wizard", "content": "hi"}]), 400,
           "messages[0].role must be")


def test_content_wrong_type(vision):
    expect(vision, chat(vision, messages=[{"role": "user", "content": 42}]), 400,
           "messages[0].content must be a string or a list of content parts")


def test_part_without_type(vision):
    expect(vision, chat(vision, messages=[{"role": "user", "content": [{"text": "x"}]}]), 400,
           "messages[0].content[0] must be an object with a string \"type\"")


def test_image_in_system_message(vision):
    msgs = [{"role": "system", "content": [{"type": "image_url",
                                            "image_url": {"url": uri(vision.png)}}]}]
    expect(vision, chat(vision, messages=msgs), 400,
           "images are only allowed in user messages")


def test_unknown_model(vision):
    """Any model name is served by the loaded model, as the original did."""
    r = chat(vision, model="gpt-17", max_tokens=2, messages=[{"role": "user", "content": "hi"}])
    assert r.status_code == 200, r.text
    assert r.json()["model"] == MODEL


def test_temperature_out_of_range(vision):
    expect(vision, chat(vision, temperature=5, messages=[{"role": "user", "content": "hi"}]),
           400, "temperature")


def test_max_tokens_negative(vision):
    expect(vision, chat(vision, max_tokens=-1, messages=[{"role": "user", "content": "hi"}]),
           400, "max_tokens")


def test_max_tokens_huge(vision):
    expect(vision, chat(vision, max_tokens=1e20, messages=[{"role": "user", "content": "hi"}]),
           400, "max_tokens")


def test_too_many_stop_sequences(vision):
    expect(vision, chat(vision, stop=["a", "b", "c", "d", "e"],
                        messages=[{"role": "user", "content": "hi"}]), 400, "stop")


def test_n_not_one(vision):
    expect(vision, chat(vision, n=2, messages=[{"role": "user", "content": "hi"}]), 400, "n")


def test_image_invalid_base64(vision):
    expect(vision, chat(vision, messages=user_image("data:image/png;base64,@@@@")), 400,
           "base64")


def test_image_zero_length(vision):
    expect(vision, chat(vision, messages=user_image("data:image/png;base64,")), 400,
           "messages[0].content[1]")


def test_image_truncated(vision):
    expect(vision, chat(vision, messages=user_image(uri(vision.png[:45]))), 400, "truncated")


def test_image_not_an_image(vision):
    expect(vision, chat(vision, messages=user_image(uri(b"GIF89a" + bytes(64), "image/gif"))),
           400, "unsupported image format")


def test_image_decompression_bomb(vision):
    bomb = hdmtest.png_header_only(60000, 60000)
    expect(vision, chat(vision, messages=user_image(uri(bomb))), 413, "60000x60000")


def test_image_too_many_bytes(vision):
    big = b"\x89PNG\r\n\x1a\n" + bytes(300000)
    expect(vision, chat(vision, messages=user_image(uri(big))), 413, "200000")


NO_FILE = "no readable image file"


def test_file_url_outside_allowed_dirs(vision):
    expect(vision, chat(vision, messages=user_image("file:///etc/passwd")), 400, NO_FILE)


def test_file_url_dotdot_escape(vision):
    url = "file://" + os.path.join(vision.images, "..", "secret.png")
    expect(vision, chat(vision, messages=user_image(url)), 400, NO_FILE)


def test_file_url_percent_encoded_escape(vision):
    url = "file://" + vision.images + "/%2e%2e/secret.png"
    expect(vision, chat(vision, messages=user_image(url)), 400, NO_FILE)


def test_file_url_missing_file(vision):
    url = "file://" + os.path.join(vision.images, "nope.png")
    expect(vision, chat(vision, messages=user_image(url)), 400, "nope.png")


def test_file_url_no_existence_oracle(vision):
    """Issue 20 item 11: a file outside that exists and one that does not
    get the same answer (only the path they named differs)."""
    def message(path):
        r = chat(vision, messages=user_image("file://" + path))
        assert r.status_code == 400, r.text
        return r.json()["error"]["message"].replace(path, "<path>")
    exists = os.path.join(os.path.dirname(vision.images), "secret.png")
    missing = os.path.join(os.path.dirname(vision.images), "no-such.png")
    assert message(exists) == message(missing)
    assert message("/etc/passwd") == message("/etc/no-such-file")


def test_post_text_plain_is_415(vision):
    """Issue 20 item 12: a blind cross-origin form POST cannot reach the model."""
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]})
    for ctype in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"Content-Type": ctype} if ctype else {}
        r = requests.post(vision.url + "/v1/chat/completions", data=body.encode(),
                          headers=headers, timeout=10)
        if ctype is None:
            assert "Content-Type" not in r.request.headers
        expect(vision, r, 415, "Content-Type must be application/json")


def test_head_of_get_route(vision):
    r = requests.head(vision.url + "/v1/models", timeout=10)
    assert r.status_code == 200, r.text
    assert r.content == b""
    assert int(r.headers["Content-Length"]) > 0
    still_serves(vision)


def test_invalid_utf8_is_escaped(vision):
    """An unknown role with invalid UTF-8 is echoed as U+FFFD, never raw."""
    body = b'{"messages": [{"role": "us\xff\xfe", "content": "hi"}]}'
    r = vision.post("/v1/chat/completions", data=body,
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    r.content.decode("utf-8")  # strict: raises on raw bytes
    assert "\ufffd" in r.json()["error"]["message"]
    still_serves(vision)


def test_remote_url_disabled(vision):
    expect(vision, chat(vision, messages=user_image("http://127.0.0.1:9/cat.png")), 400,
           "remote")


def test_unknown_url_scheme(vision):
    expect(vision, chat(vision, messages=user_image("ftp://example.com/cat.png")), 400,
           "messages[0].content[1]")


def test_too_many_images(vision):
    parts = [{"type": "image_url", "image_url": {"url": uri(vision.png)}}] * 5
    expect(vision, chat(vision, messages=[{"role": "user", "content": parts}]), 400,
           "too many images: at most 4")


def test_analyze_no_images(vision):
    expect(vision, vision.post("/v1/vision/analyze", {"images": [], "prompt": "x"}), 400,
           "images must be a non-empty list of images")


def test_analyze_bad_image_entry(vision):
    expect(vision, vision.post("/v1/vision/analyze", {"images": [{"nope": 1}]}), 400,
           "images[0] must be an image URL, data URI or base64 string")


def test_analyze_prompt_wrong_type(vision):
    expect(vision, vision.post("/v1/vision/analyze", {"images": [uri(vision.png)],
                                                      "prompt": 3}), 400,
           "prompt must be a non-empty string")


def test_wrong_method(vision):
    r = requests.get(vision.url + "/v1/chat/completions", timeout=10)
    assert r.status_code == 405, r.text
    still_serves(vision)


def test_sighup_does_not_stop_the_service(vision):
    """Issue 20 item 6: SIGHUP re-opens the log and re-checks the model."""
    vision.proc.send_signal(signal.SIGHUP)
    hdmtest.wait_until(lambda: "SIGHUP" in vision.log(), 10, "the SIGHUP log line")
    assert vision.alive()
    still_serves(vision)


def test_file_url_toctou_swap(vision):
    """Issue 20 item 8: a directory inside images.allowed_dirs swapped for a
    symlink to an outside directory (atomically, renameat2 RENAME_EXCHANGE,
    in a loop) while requests name a file in it: none may read the outside
    file.  Inside, swap/secret.png is not an image (400 "unsupported image
    format"); outside it is a valid PNG, so an escape would answer 200."""
    import ctypes
    import threading
    libc = ctypes.CDLL(None, use_errno=True)
    at_fdcwd, rename_exchange = -100, 2
    root = os.path.dirname(vision.images)
    outside = os.path.join(root, "outside")
    os.makedirs(outside, exist_ok=True)
    with open(os.path.join(outside, "secret.png"), "wb") as f:
        f.write(vision.png)
    inside = os.path.join(vision.images, "swap")
    os.makedirs(inside, exist_ok=True)
    with open(os.path.join(inside, "secret.png"), "wb") as f:
        f.write(b"GIF89a not a png at all" + bytes(64))
    link = os.path.join(vision.images, "swap-link")
    os.symlink(outside, link)
    stop = threading.Event()
    swaps = [0]

    def swapper():
        while not stop.is_set():
            if libc.renameat2(at_fdcwd, inside.encode(), at_fdcwd, link.encode(),
                              rename_exchange) != 0:
                raise OSError(ctypes.get_errno(), "renameat2")
            swaps[0] += 1

    t = threading.Thread(target=swapper)
    t.start()
    outcomes = {"escaped": 0, "inside": 0, "refused": 0}
    try:
        url = "file://" + inside + "/secret.png"
        for _ in range(300):
            r = chat(vision, max_tokens=1, messages=user_image(url))
            if r.status_code == 200:
                outcomes["escaped"] += 1
            elif "unsupported image format" in r.text:
                outcomes["inside"] += 1
            else:
                assert NO_FILE in r.text, r.text
                outcomes["refused"] += 1
    finally:
        stop.set()
        t.join()
    # Put the directory back where it was (an even number of swaps).
    if swaps[0] % 2:
        libc.renameat2(at_fdcwd, inside.encode(), at_fdcwd, link.encode(), rename_exchange)
    assert outcomes["escaped"] == 0, outcomes
    assert outcomes["inside"] > 0 and outcomes["refused"] > 0, outcomes  # the race was on
    still_serves(vision)
