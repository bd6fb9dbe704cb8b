"""Malformed requests to hailo-pose: each answers a 4xx in the original's
error shape {"error": {"message", "type"}} naming what was wrong (where the
original answered 500 or misbehaved, a 400), and the service then serves a
good request.  The body limit is lowered to 1 MiB so 413 is cheap to
provoke."""

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
def pose():
    st = hdmtest.SimStack(prefix="hdm-bad-pose-")
    with open(os.path.join(st.root, "hailo-pose.yaml")) as f:
        text = f.read()
    cfg = os.path.join(st.root, "pose-bad.yaml")
    with open(cfg, "w") as f:
        f.write(text.replace("server:\n", "server:\n  max_body_bytes: %d\n" % LIMIT, 1))
    svc = hdmtest.Service(st, "hailo-pose", config=cfg)
    try:
        st.start_manager()
        svc.start()
        svc.png = hdmtest.png_bytes(32, 24)
        yield svc
        assert svc.alive(), "hailo-pose died:\n" + svc.log()[-3000:]
        svc.stop()
    finally:
        st.cleanup([svc])


def url(pose):
    return pose.url + "/v1/pose/detect"


def still_serves(pose):
    r = requests.post(url(pose), files={"image": ("a.png", pose.png)}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["image_size"] == {"width": 32, "height": 24}


def expect(pose, resp, status, text):
    assert resp.status_code == status, "%s: %s" % (resp.status_code, resp.text)
    assert resp.headers["Content-Type"].startswith("application/json"), resp.headers
    err = resp.json()["error"]
    assert err["type"] == "invalid_request_error", err
    assert text in err["message"], err
    still_serves(pose)


def b64(data):
    return base64.b64encode(data).decode()


def form(pose, image=None, **fields):
    files = {"image": ("img", image if image is not None else pose.png)}
    return requests.post(url(pose), files=files, data=fields, timeout=30)


def js(pose, body):
    if isinstance(body, dict) and "image" not in body:
        body = dict(body, image=b64(pose.png))
    return requests.post(url(pose), json=body, timeout=30)


# ---- images -------------------------------------------------------------------------

def test_1x1_image_is_fine(pose):
    # The original's test sends a 1x1 image and expects 200: nobody in it.
    r = form(pose, hdmtest.png_bytes(1, 1))
    assert r.status_code == 200, r.text
    assert r.json()["count"] == 0


def test_too_thin_image(pose):
    # 1 x 2000 scales to 0 pixels across: cv2.resize fails there (a 500).
    expect(pose, form(pose, hdmtest.png_bytes(1, 2000)), 400, "too thin")


def test_not_an_image(pose):
    expect(pose, form(pose, b"hello, this is text" * 4), 400,
           "Failed to decode image: unsupported image format")
    expect(pose, js(pose, {"image": b64(b"GIF89a not really")}), 400, "Failed to decode image")


def test_truncated_png(pose):
    expect(pose, form(pose, pose.png[:40]), 400, "Failed to decode image")


def test_decompression_bomb(pose):
    r = form(pose, hdmtest.png_header_only(16000, 16000))
    assert r.status_code == 413, r.text
    assert "images.max_pixels" in r.json()["error"]["message"]
    still_serves(pose)
    r = js(pose, {"image": b64(hdmtest.png_header_only(60000, 60000))})
    assert r.status_code == 413, r.text
    assert "60000x60000" in r.json()["error"]["message"]
    still_serves(pose)


def test_empty_image_part(pose):
    expect(pose, form(pose, b""), 400, "Missing 'image' field")


def test_no_image_part(pose):
    r = requests.post(url(pose), files={"picture": ("x", pose.png)}, timeout=30)
    expect(pose, r, 400, "Missing 'image' field")


@pytest.mark.parametrize("image,words", [
    (None, "Missing 'image' field"),
    ("", "Missing 'image' field"),
    (0, "Missing 'image' field"),
    ([], "Missing 'image' field"),
    (12, "'image' must be a string"),
    (True, "'image' must be a string"),
    ({"url": "x"}, "'image' must be a string"),
    ("not-valid-base64!!!", "Invalid base64: "),
    ("QUJ", "Invalid base64: Incorrect padding"),
    ("QUJD=", "Failed to decode image: image is too short"),  # b64decode gives b"ABC"
    ("A", "Invalid base64: Invalid base64-encoded string"),
    ("\u00e9\u00e9\u00e9\u00e9", "Invalid base64: string argument should contain only ASCII"),
    ("data:image/png;base64", "Invalid base64: a data: URI needs a comma"),
    ("====", "the base64 data decodes to no bytes"),
])
def test_bad_json_image(pose, image, words):
    expect(pose, js(pose, {"image": image}), 400, words)


# ---- parameters ---------------------------------------------------------------------

@pytest.mark.parametrize("name,value,words", [
    ("confidence_threshold", "1.5", "field 'confidence_threshold' must be a number between 0 and 1"),
    ("confidence_threshold", "-0.1", "field 'confidence_threshold' must be a number"),
    ("confidence_threshold", "0", "confidence_threshold 0 is outside (0, 1]"),
    ("confidence_threshold", "abc", "field 'confidence_threshold' must be a number"),
    ("confidence_threshold", "", "field 'confidence_threshold' must be a number"),
    ("confidence_threshold", "nan", "field 'confidence_threshold' must be a number"),
    ("iou_threshold", "1.01", "field 'iou_threshold' must be a number between 0 and 1"),
    ("iou_threshold", "-1", "field 'iou_threshold' must be a number"),
    ("keypoint_threshold", "2", "field 'keypoint_threshold' must be a number between 0 and 1"),
    ("max_detections", "0", "field 'max_detections' must be an integer between 1 and 1000"),
    ("max_detections", "1000000000", "field 'max_detections' must be an integer between 1"),
    ("max_detections", "-3", "field 'max_detections' must be an integer"),
    ("max_detections", "5.5", "field 'max_detections' must be an integer"),
    ("max_detections", "ten", "field 'max_detections' must be an integer"),
])
def test_bad_form_parameters(pose, name, value, words):
    expect(pose, form(pose, **{name: value}), 400, words)


@pytest.mark.parametrize("name,value,words", [
    ("confidence_threshold", 1.5, "confidence_threshold 1.5 is outside (0, 1]"),
    ("confidence_threshold", 0, "confidence_threshold 0 is outside (0, 1]"),
    ("confidence_threshold", -1, "confidence_threshold -1 is outside (0, 1]"),
    ("confidence_threshold", "abc", "confidence_threshold must be a number, got \"abc\""),
    ("confidence_threshold", True, "confidence_threshold must be a number, got true"),
    ("confidence_threshold", [0.5], "confidence_threshold must be a number"),
    ("iou_threshold", 2, "iou_threshold 2 is outside [0, 1]"),
    ("iou_threshold", "0x1p-1", "iou_threshold must be a number"),
    ("keypoint_threshold", -0.5, "keypoint_threshold -0.5 is outside [0, 1]"),
    ("keypoint_threshold", {"v": 1}, "keypoint_threshold must be a number"),
    ("max_detections", 0, "max_detections 0 is outside 1..1000"),
    ("max_detections", 10 ** 9, "max_detections 1000000000 is outside 1..1000"),
    ("max_detections", 1e300, "max_detections 1.0000000000000001e+300 is outside 1..1000"),
    ("max_detections", 5.5, "max_detections must be a whole number, got 5.5"),
    ("max_detections", "5.0", "max_detections must be a whole number"),
    ("max_detections", "many", "max_detections must be a number"),
])
def test_bad_json_parameters(pose, name, value, words):
    expect(pose, js(pose, {name: value}), 400, words)


def test_lenient_values_the_original_took(pose):
    """Numeric strings and nulls, as the original's float()/int() and its
    `is not None` took them."""
    for body in ({"confidence_threshold": "0.6"}, {"max_detections": "3"},
                 {"iou_threshold": None, "confidence_threshold": " 0.7 "},
                 {"max_detections": 4.0}):
        r = js(pose, body)
        assert r.status_code == 200, (body, r.text)


# ---- bodies -------------------------------------------------------------------------

def test_body_not_json(pose):
    r = requests.post(url(pose), data=b"{image: nope", headers={"Content-Type": "application/json"},
                      timeout=30)
    expect(pose, r, 400, "Invalid JSON: ")


def test_body_is_a_list(pose):
    expect(pose, requests.post(url(pose), json=[1, 2], timeout=30), 400,
           "Invalid JSON: expected a JSON object")


def test_body_deeply_nested(pose):
    r = requests.post(url(pose), data=b"[" * 100000 + b"]" * 100000,
                      headers={"Content-Type": "application/json"}, timeout=30)
    expect(pose, r, 400, "Invalid JSON")


def test_empty_body(pose):
    r = requests.post(url(pose), data=b"", headers={"Content-Type": "application/json"},
                      timeout=30)
    expect(pose, r, 400, "Invalid JSON")


def test_huge_multipart(pose):
    r = form(pose, b"\xff\xd8" + b"x" * (LIMIT + 10))
    assert r.status_code == 413, r.text
    msg = r.json()["error"]["message"]
    assert "exceeds the limit of %d bytes" % LIMIT in msg and "server.max_body_bytes" in msg
    still_serves(pose)


def test_huge_json(pose):
    r = requests.post(url(pose), data=json.dumps({"image": "A" * (LIMIT + 10)}),
                      headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 413, r.text
    still_serves(pose)


def test_multipart_without_boundary(pose):
    r = requests.post(url(pose), data=b"--x\r\n\r\n", timeout=30,
                      headers={"Content-Type": "multipart/form-data"})
    expect(pose, r, 400, "boundary")


def test_image_part_twice(pose):
    r = requests.post(url(pose), files=[("image", ("a", pose.png)), ("image", ("b", pose.png))],
                      timeout=30)
    expect(pose, r, 400, "image")


def test_wrong_content_type(pose):
    r = requests.post(url(pose), data=json.dumps({"image": b64(pose.png)}),
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    assert r.status_code == 415, r.text
    assert "application/json or multipart/form-data" in r.json()["error"]["message"]
    still_serves(pose)
