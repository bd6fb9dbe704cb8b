"""Fixtures of the hailo-ocr black-box tests.

Each test file gets its own simulated stack: sim assets in a temporary
directory (tools/make-sim-assets --fast, which writes hailo-ocr.yaml with
English and a second language), a hailo-device-manager on a temporary
socket with the sim backend, and hailo-ocr on a free port pointed at it.
"""

import base64
import io
import json
import os
import sys

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402  (tests/integration/hdmtest.py)

SOURCE = hdmtest.SOURCE_DIR
PAGE = os.path.join(SOURCE, "tests", "data", "ocr", "text-page.png")
PAGE_META = os.path.join(SOURCE, "tests", "data", "ocr", "text-page.json")
wait_until = hdmtest.wait_until


def b64(data):
    return base64.b64encode(data).decode()


def data_uri(data, mime="image/png"):
    return "data:%s;base64,%s" % (mime, b64(data))


def page_bytes():
    with open(PAGE, "rb") as f:
        return f.read()


def page_meta():
    with open(PAGE_META) as f:
        return json.load(f)


def pil_image(size, color="white", text=None, at=(50, 40), fmt="JPEG", **save):
    """An image made with PIL (as the original's tests make theirs)."""
    from PIL import Image, ImageDraw
    img = Image.new("RGB", size, color=color)
    if text:
        ImageDraw.Draw(img).text(at, text, fill="black")
    out = io.BytesIO()
    img.save(out, format=fmt, **save)
    return out.getvalue()


class Ocr(hdmtest.Service):
    """hailo-ocr of a SimStack on a free port (/health/ready is its probe)."""

    def __init__(self, stack, config=None, extra_args=()):
        super().__init__(stack, "hailo-ocr", config=config or ocr_config(stack),
                         extra_args=extra_args)
        self.ready_path = "/health/ready"

    def extract(self, body=None, timeout=60, **kw):
        if body is not None:
            return requests.post(self.url + "/v1/ocr/extract", json=body, timeout=timeout, **kw)
        return requests.post(self.url + "/v1/ocr/extract", timeout=timeout, **kw)


def ocr_config(stack, extra=""):
    """The stack's hailo-ocr.yaml, with `extra` YAML appended (a new file)."""
    path = os.path.join(stack.root, "hailo-ocr.yaml")
    if not extra:
        return path
    with open(path) as f:
        text = f.read()
    out = os.path.join(stack.root, "hailo-ocr-%d.yaml" % (abs(hash(extra)) % 100000))
    with open(out, "w") as f:
        f.write(text + extra)
    return out


@pytest.fixture(scope="module")
def stack():
    st = hdmtest.SimStack(prefix="hdm-ocr-")
    st.start_manager()
    yield st
    st.cleanup()


@pytest.fixture(scope="module")
def ocr(stack):
    svc = Ocr(stack)
    svc.start()
    yield svc
    alive = svc.alive()
    svc.stop()
    assert alive, "hailo-ocr died during the tests:\n" + svc.log()[-3000:]


def assert_error(resp, status, contains=None):
    """A JSON {"success": false, "error": "..."} answer with this status."""
    assert resp.status_code == status, "%s: %s" % (resp.status_code, resp.text)
    assert resp.headers["Content-Type"].startswith("application/json"), resp.headers
    body = resp.json()
    assert body.get("success") is False, body
    assert isinstance(body.get("error"), str) and body["error"], body
    if contains is not None:
        assert contains in body["error"], body
    return body["error"]
