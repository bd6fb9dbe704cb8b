"""Fixtures of the hailo-depth black-box tests.

Each test file gets its own simulated stack: sim assets in a temporary
directory (tools/make-sim-assets --fast, which writes hailo-depth.yaml), a
hailo-device-manager on a temporary socket with the sim backend, and
hailo-depth on a free port, pointed at the manager through
HAILO_DEVICE_SOCKET.
"""

import base64
import io
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402  (tests/integration/hdmtest.py)

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")


def depth_config(stack, name="hailo-depth-test.yaml", replace=(), append=""):
    """A copy of the stack's hailo-depth.yaml with text replaced / appended."""
    with open(os.path.join(stack.root, "hailo-depth.yaml")) as f:
        text = f.read()
    for old, new in replace:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = os.path.join(stack.root, name)
    with open(path, "w") as f:
        f.write(text + append)
    return path


def start_depth(stack, config=None, wait_ready=True, extra_args=()):
    svc = hdmtest.Service(stack, "hailo-depth",
                          config=config or os.path.join(stack.root, "hailo-depth.yaml"),
                          extra_args=extra_args)
    return svc.start(wait_ready=wait_ready)


@pytest.fixture(scope="module")
def stack():
    st = hdmtest.SimStack(prefix="hdm-depth-")
    st.start_manager()
    yield st
    st.cleanup()


@pytest.fixture(scope="module")
def depth(stack):
    """hailo-depth on the stack's manager, ready."""
    svc = start_depth(stack)
    yield svc
    alive = svc.alive()
    svc.stop()
    assert alive, "hailo-depth died during the tests:\n" + svc.log()[-3000:]


def gradient_jpeg():
    """GM's sample_image fixture: a 640x480 gradient JPEG, quality 90."""
    import numpy as np
    from PIL import Image
    w, h = 640, 480
    a = np.zeros((h, w, 3), dtype=np.uint8)
    a[..., 0] = (np.arange(w) * 255 / w).astype(np.uint8)[None, :]
    a[..., 1] = (np.arange(h) * 255 / h).astype(np.uint8)[:, None]
    a[..., 2] = 128
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def b64(data):
    return base64.b64encode(data).decode()


def npz_depth(b64text):
    import numpy as np
    return np.load(io.BytesIO(base64.b64decode(b64text)))["depth"]


def png(b64text):
    from PIL import Image
    return Image.open(io.BytesIO(base64.b64decode(b64text)))


def estimate(svc, image=None, json_body=None, fields=None, timeout=60):
    """POST /v1/depth/estimate: multipart (image bytes + text fields) or JSON."""
    import requests
    url = svc.url + "/v1/depth/estimate"
    if json_body is not None:
        return requests.post(url, json=json_body, timeout=timeout)
    return requests.post(url, files={"image": ("test.jpg", image, "image/jpeg")},
                         data=fields or {}, timeout=timeout)


def assert_error(resp, status, contains=None):
    """The original's error shape {"error": {"message", "type"}} with this status."""
    assert resp.status_code == status, f"{resp.status_code}: {resp.text[:500]}"
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8", resp.headers
    body = resp.json()
    err = body.get("error")
    assert isinstance(err, dict) and isinstance(err.get("message"), str), body
    assert err["type"] == ("invalid_request" if status < 500 else
                           "service_unavailable" if status == 503 else "internal_error"), body
    if contains is not None:
        assert contains in err["message"], body
    return err["message"]
