"""Every bad request to hailo-vision gets the right status and OpenAI's error shape."""

import base64
import http.server
import os
import socketserver
import threading

import pytest
import requests

from conftest import (MODEL, Vision, assert_openai_error, chat, data_uri, png_bytes,
                      vision_yaml)

USER = [{"role": "user", "content": "hi"}]


def img_msg(url_or_part):
    part = url_or_part if isinstance(url_or_part, dict) else \
        {"type": "image_url", "image_url": {"url": url_or_part}}
    return [{"role": "user", "content": [part, {"type": "text", "text": "what?"}]}]


def post_raw(vision, data, path="/v1/chat/completions", headers=None):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    return requests.post(vision.url + path, data=data, headers=h, timeout=30)


def test_bad_json_and_bodies(vision):
    assert_openai_error(post_raw(vision, b"{not json"), 400, code="invalid_json")
    assert_openai_error(post_raw(vision, b"[1,2]"), 400)
    assert_openai_error(post_raw(vision, b""), 400)
    assert_openai_error(post_raw(vision, b"{\"messages\": [}"), 400)


@pytest.mark.parametrize("body,param,needle", [
    ({"model": MODEL}, "messages", "messages"),
    ({"model": MODEL, "messages": []}, "messages", "non-empty"),
    ({"model": MODEL, "messages": "hello"}, "messages", "messages"),
    ({"model": MODEL, "messages": [{"role": "tool", "content": "x"}]}, "messages", "tool"),
    ({"model": MODEL, "messages": [{"role": "user"}]}, "messages", "content"),
    ({"model": MODEL, "messages": [{"role": "user", "content": [{"type": "video"}]}]},
     "messages", "video"),
    ({"model": MODEL, "messages": [{"role": "assistant", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]},
     "messages", "user messages"),
    ({"model": MODEL, "messages": USER, "temperature": 2.5}, "temperature", "temperature"),
    ({"model": MODEL, "messages": USER, "top_p": -1}, "top_p", "top_p"),
    ({"model": MODEL, "messages": USER, "max_tokens": 0}, "max_tokens", "max_tokens"),
    ({"model": MODEL, "messages": USER, "max_tokens": "many"}, "max_tokens", "max_tokens"),
    ({"model": MODEL, "messages": USER, "stop": ["a", "b", "c", "d", "e"]}, "stop", "stop"),
    ({"model": MODEL, "messages": USER, "n": 3}, "n", "n must be"),
    ({"model": MODEL, "messages": USER, "stream": "yes"}, "stream", "stream"),
    ({"model": MODEL, "messages": USER, "seed": "x"}, "seed", "seed"),
])
def test_invalid_requests(vision, body, param, needle):
    assert_openai_error(chat(vision, body), 400, param=param, contains=needle)


def test_layer_errors_are_openai_shaped(vision):
    assert_openai_error(requests.get(vision.url + "/v1/nothing", timeout=10), 404)
    assert_openai_error(requests.get(vision.url + "/v1/chat/completions", timeout=10), 405)
    big = b"{\"messages\": \"" + b"x" * 4_100_000 + b"\"}"
    assert_openai_error(post_raw(vision, big), 413)


@pytest.mark.parametrize("part,status,needle", [
    ("data:image/png;base64,bm90IGFuIGltYWdl", 400, "messages[0].content[0]"),
    ("data:image/png;base64,@@@@", 400, "messages[0].content[0]"),
    ("data:text/plain;base64,aGVsbG8=", 400, "not an image"),
    ("data:image/png,rawbytes", 400, "base64"),
    ("ftp://example.com/a.png", 400, "unsupported image URL"),
    ("http://127.0.0.1:9/a.png", 400, "allow_remote"),
    ("file:///etc/passwd", 400, "allowed_dirs"),
    ({"type": "image", "image": "!!!notbase64"}, 400, "messages[0].content[0]"),
])
def test_bad_images(vision, part, status, needle):
    assert_openai_error(chat(vision, {"model": MODEL, "messages": img_msg(part)}), status,
                        contains=needle)


def test_file_confinement(vision, stack):
    images = stack["images"]
    escape = "file://" + images + "/../hailo-vision.yaml"
    assert_openai_error(chat(vision, {"messages": img_msg(escape)}), 400,
                        contains="allowed_dirs")
    link = os.path.join(images, "link.png")
    if not os.path.islink(link):
        os.symlink("/etc/hostname", link)
    assert_openai_error(chat(vision, {"messages": img_msg("file://" + link)}), 400,
                        contains="allowed_dirs")
    assert_openai_error(chat(vision, {"messages": img_msg("file://" + images + "/none.png")}),
                        400, contains="no readable image file")
    ok = chat(vision, {"messages": img_msg("file://" + images + "/green.png"), "max_tokens": 3})
    assert ok.status_code == 200, ok.text


def test_image_limits(vision):
    # images.max_bytes is 1 MB in the test config: checked before decoding.
    blob = "data:image/png;base64," + base64.b64encode(os.urandom(1_200_000)).decode()
    assert_openai_error(chat(vision, {"messages": img_msg(blob)}), 413)
    # images.max_pixels is 4 M: checked from the header.
    huge = png_bytes(2500, 2000, (5, 5, 5))
    assert len(huge) < 1_000_000
    err = assert_openai_error(chat(vision, {"messages": img_msg(data_uri(huge))}), 413)
    assert "2500" in err["message"] or "pixel" in err["message"]


def test_analyze_errors(vision):
    url = vision.url + "/v1/vision/analyze"
    assert_openai_error(requests.post(url, json={"prompt": "x"}, timeout=30), 400,
                        param="images")
    assert_openai_error(requests.post(url, json={"images": []}, timeout=30), 400,
                        param="images")
    assert_openai_error(requests.post(url, json={"images": [5]}, timeout=30), 400)
    assert_openai_error(requests.post(url, json={"images": ["data:image/png;base64,AAAA"]},
                                      timeout=30), 400, contains="images[0]")
    assert_openai_error(requests.post(url, json={
        "images": [data_uri(png_bytes(4, 4, (1, 2, 3)))], "prompt": 7}, timeout=30), 400,
        param="prompt")
    assert_openai_error(requests.post(url, json={
        "images": [data_uri(png_bytes(4, 4, (1, 2, 3)))], "temperature": 9}, timeout=30), 400,
        param="temperature")


def test_service_still_healthy(vision):
    r = chat(vision, {"messages": USER, "max_tokens": 2})
    assert r.status_code == 200, r.text
    assert requests.get(vision.url + "/health/ready", timeout=5).status_code == 200


def test_bearer_token(stack):
    cfg = vision_yaml(stack, extra="")
    env = dict(stack["env"], HAILO_VISION_TOKEN="s3cret")
    v = Vision(stack["root"], cfg, env, name="vision-token")
    v.start()
    try:
        assert_openai_error(chat(v, {"messages": USER}), 401, code="invalid_api_key")
        assert_openai_error(chat(v, {"messages": USER},
                                 headers={"Authorization": "Bearer wrong"}), 401,
                            code="invalid_api_key")
        assert_openai_error(requests.get(v.url + "/v1/models", timeout=5), 401,
                            code="invalid_api_key")
        r = chat(v, {"messages": USER, "max_tokens": 2},
                 headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 200, r.text
        assert requests.get(v.url + "/health", timeout=5).status_code == 200
        assert requests.get(v.url + "/health/ready", timeout=5).status_code == 200
    finally:
        v.stop()


class _Handler(http.server.BaseHTTPRequestHandler):
    files = {}

    def do_GET(self):
        if self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
            return
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/red.png")
            self.end_headers()
            return
        data = self.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_remote_images(stack):
    _Handler.files = {"/red.png": png_bytes(20, 20, (200, 0, 0)),
                      "/big.png": os.urandom(1_500_000)}
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_address[1]}"
    # The test server is on loopback, which remote fetches refuse unless allowed.
    cfg = vision_yaml(stack, extra="  allow_remote: true\n  fetch_timeout_ms: 3000\n"
                      "  remote_allowed_networks: [127.0.0.1/32]\n")
    # The extra keys belong under images:, which vision_yaml writes last.
    v = Vision(stack["root"], cfg, stack["env"], name="vision-remote")
    v.start()
    try:
        r = chat(v, {"messages": img_msg(base + "/red.png"), "max_tokens": 3})
        assert r.status_code == 200, r.text
        r = chat(v, {"messages": img_msg(base + "/redirect"), "max_tokens": 3})
        assert r.status_code == 200, r.text
        assert_openai_error(chat(v, {"messages": img_msg(base + "/missing.png")}), 400,
                            contains="cannot fetch")
        assert_openai_error(chat(v, {"messages": img_msg(base + "/loop")}), 400,
                            contains="cannot fetch")
        assert_openai_error(chat(v, {"messages": img_msg(base + "/big.png")}), 413)
    finally:
        v.stop()
        srv.shutdown()
