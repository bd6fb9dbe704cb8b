"""Fixtures of the hailo-pose black-box tests.

Each test file gets its own simulated stack: sim assets in a temporary
directory (tools/make-sim-assets --fast, which also writes hailo-pose.yaml),
a hailo-device-manager on a temporary socket with the sim backend, and
hailo-pose on a free port.  The sim's yolov8s_pose finds one person per
bright blob of the image (src/backends/sim-pose.c); `figures_png` draws such
images.
"""

import base64
import io
import os
import sys

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402  (tests/integration/hdmtest.py)

HERE = os.path.dirname(os.path.abspath(__file__))
KEYPOINTS = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
             "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
             "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"]
# The original's skeleton, 0-based, in the order it emits the pairs.
SKELETON = [(15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7),
            (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6)]

# GM's test image (tests/test_hailo_pose_service.py), meant as a 1x1 JPEG.
# Its Huffman table is corrupt: libjpeg, PIL ("broken data stream when
# reading image file") and OpenCV all refuse it, so the original answers 500
# "Failed to decode image" where GM's tests expect 200 (docs/POSE.md).
GM_JPEG_1X1 = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEAYABgAAD/2wBDAAIBAQIBAQICAgICAgICAwUDAwMD"
    "AwYEBAMFBwYHBwcGBwcICQsJCAgKCAcHCg0KCgsMDAwMBwkODw0MDgsMDAz/"
    "2wBDAQICAgMDAwYDAwYMCAcIDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM"
    "DAwMDAwMDAwMDAwMDAwMDAwMDAwMDAz/wAARCAABAAEDASIAAhEBAxEB/8QA"
    "HQAAAAEZBQEAAAAAAAAAAAAAAAEHCAMECQQBBQYHAP/EAB8QAAEEAgIDAQAA"
    "AAAAAAAAAAEAAgMEBQYHERITITH/xAAZAQEBAQEBAQAAAAAAAAAAAAAAAwEE"
    "AgUG/8QAIREBAAEDBAIDAAAAAAAAAAAAAQARAgMhMRIxQQRRYXGh/9oADAMB"
    "AAIRAxEAPwDyrqOoahqU7Mx2YtY7R47lGMz9VJK+R7m6qx5Y1oJIhAJPQABJ"
    "JPygCNz08WA//9k=")


def jpeg_1x1():
    """A valid 1x1 JPEG: what GM's tests meant to send."""
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (1, 1), (255, 0, 0)).save(out, format="JPEG", quality=90)
    return out.getvalue()


def b64(data):
    return base64.b64encode(data).decode()


def figures_image(w, h, boxes, fmt="PNG", ground=(40, 50, 60), colour=(245, 245, 245), **save):
    """An image of w x h with one solid bright figure per (x0, y0, x1, y1)
    box (inclusive pixels) on a dark ground, encoded as fmt."""
    from PIL import Image, ImageDraw
    im = Image.new("RGB", (w, h), ground)
    d = ImageDraw.Draw(im)
    for box in boxes:
        d.rectangle(box, fill=colour)
    out = io.BytesIO()
    im.save(out, format=fmt, **save)
    return out.getvalue()


class Pose(hdmtest.Service):
    """hailo-pose of a SimStack on a free port (ready = /health/ready 200)."""

    def __init__(self, stack, config=None, extra_args=()):
        super().__init__(stack, "hailo-pose",
                         config=config or os.path.join(stack.root, "hailo-pose.yaml"),
                         extra_args=extra_args)

    def detect(self, image=None, fields=None, json_body=None, timeout=60, **kw):
        """POST /v1/pose/detect: multipart with `image` (bytes) and text
        `fields`, or JSON `json_body`."""
        url = self.url + "/v1/pose/detect"
        if json_body is not None:
            return requests.post(url, json=json_body, timeout=timeout, **kw)
        files = {"image": ("image", image)} if image is not None else None
        return requests.post(url, files=files, data=fields or {}, timeout=timeout, **kw)


def write_config(stack, name, replace=(), append=""):
    """A copy of the stack's hailo-pose.yaml with text replaced/appended."""
    with open(os.path.join(stack.root, "hailo-pose.yaml")) as f:
        text = f.read()
    for old, new in replace:
        assert old in text, old
        text = text.replace(old, new)
    path = os.path.join(stack.root, name)
    with open(path, "w") as f:
        f.write(text + append)
    return path


@pytest.fixture(scope="module")
def stack():
    """Assets + a running manager for one test file."""
    st = hdmtest.SimStack(prefix="hdm-pose-")
    services = []
    st.services = services
    try:
        st.start_manager()
        yield st
    finally:
        st.cleanup(services)


@pytest.fixture(scope="module")
def pose(stack):
    """hailo-pose on the stack's manager, ready."""
    svc = Pose(stack)
    stack.services.append(svc)
    svc.start()
    yield svc
    assert svc.alive(), "hailo-pose died during the tests:\n" + svc.log()[-3000:]
    svc.stop()


def assert_error(resp, status, contains=None, type_=None):
    """The original's error shape {"error": {"message", "type"}} with this
    status (and words); returns the message."""
    assert resp.status_code == status, "%s: %s" % (resp.status_code, resp.text)
    assert resp.headers["Content-Type"].startswith("application/json"), resp.headers
    err = resp.json()["error"]
    assert isinstance(err, dict) and set(err) == {"message", "type"}, err
    assert isinstance(err["message"], str) and err["message"], err
    if type_ is None:
        type_ = "invalid_request_error" if status < 500 else (
            "service_unavailable" if status == 503 else "internal_error")
    assert err["type"] == type_, err
    if contains is not None:
        assert contains in err["message"], err
    return err["message"]
