"""Malformed and hostile requests to hailo-depth: each answers a clear 4xx
in the original's error shape {"error": {"message", "type"}} naming the
problem, and the service then serves a good request.  The body limit
(input.max_image_mb) is lowered to 4 MB so 413 is cheap to provoke.

One deliberate exception to "bad input is a 4xx": a 1x1 image is a valid
image, and the original answered it 200 with a 1x1 map (its own code path,
reproduced by the golden case tiny-1x1); we do the same."""

import base64
import io
import json
import os
import socket
import sys

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402
import hostile_images  # noqa: E402

URL = "/v1/depth/estimate"


@pytest.fixture(scope="module")
def depth():
    st = hdmtest.SimStack(prefix="hdm-bad-depth-")
    with open(os.path.join(st.root, "hailo-depth.yaml")) as f:
        text = f.read().replace("  max_image_mb: 50\n", "  max_image_mb: 4\n")
    cfg = os.path.join(st.root, "depth-bad.yaml")
    with open(cfg, "w") as f:
        f.write(text)
    svc = hdmtest.Service(st, "hailo-depth", config=cfg)
    try:
        st.start_manager()
        svc.start()
        svc.png = hdmtest.png_bytes(32, 24)
        yield svc
        assert svc.alive(), "hailo-depth died:\n" + svc.log()[-3000:]
        svc.stop()
    finally:
        st.cleanup([svc])


def post(svc, json_body=None, files=None, data=None, headers=None):
    url = svc.url + URL
    if json_body is not None:
        return requests.post(url, json=json_body, timeout=60)
    return requests.post(url, files=files, data=data, headers=headers, timeout=60)


def still_serves(svc):
    r = post(svc, files={"image": ("a.png", svc.png)}, data={"output_format": "numpy"})
    assert r.status_code == 200, r.text[:300]
    assert r.json()["depth_shape"] == [24, 32]


def expect(svc, resp, status, text):
    assert resp.status_code == status, "%s: %s" % (resp.status_code, resp.text[:300])
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8", resp.headers
    err = resp.json().get("error")
    assert isinstance(err, dict), resp.text
    assert err["type"] == "invalid_request", err
    assert text in err["message"], err
    still_serves(svc)


def b64(data):
    return base64.b64encode(data).decode()


def raw_multipart(svc, body, boundary="XyZ"):
    return requests.post(svc.url + URL, data=body, timeout=30, headers={
        "Content-Type": "multipart/form-data; boundary=" + boundary})


# ---- content type and body ---------------------------------------------------------

def test_wrong_content_type(depth):
    for ct in ("text/plain", "application/x-www-form-urlencoded", "image/jpeg"):
        r = post(depth, data=b"image=x", headers={"Content-Type": ct})
        expect(depth, r, 400, "Unsupported content type")
    expect(depth, post(depth, data=b"x"), 400, "Unsupported content type")


def test_body_not_json(depth):
    r = post(depth, data=b"{image: nope", headers={"Content-Type": "application/json"})
    expect(depth, r, 400, "JSON")


def test_body_not_an_object(depth):
    expect(depth, post(depth, json_body=[1, 2]), 400, "JSON object")


def test_body_over_limit(depth):
    r = post(depth, files={"image": ("big.jpg", os.urandom((4 << 20) + 1))})
    expect(depth, r, 413, "")


# ---- the image -------------------------------------------------------------------------

def test_missing_image(depth):
    expect(depth, post(depth, json_body={"output_format": "numpy"}), 400,
           "Missing 'image' or 'image_url' field")
    expect(depth, post(depth, files={"colormap": (None, "jet")}), 400, "Missing 'image' field")
    expect(depth, post(depth, files={"image": ("a.jpg", b"")}), 400, "Missing 'image' field")


def test_image_not_a_string(depth):
    expect(depth, post(depth, json_body={"image": 12}), 400, "'image' must be a string")
    expect(depth, post(depth, json_body={"image": None}), 400, "'image' must be a string")


def test_image_bad_base64(depth):
    expect(depth, post(depth, json_body={"image": "YWJjZ"}), 400,
           "Invalid base64 in 'image': Invalid base64-encoded string")
    expect(depth, post(depth, json_body={"image": "data:image/png;base64"}), 400,
           "data: URI must have a ','")


def test_not_an_image(depth):
    expect(depth, post(depth, files={"image": ("t.txt", b"not an image", "text/plain")}), 400,
           "unsupported image format")
    expect(depth, post(depth, json_body={"image": b64(b"hello, this is text" * 4)}), 400,
           "unsupported image format")


def test_truncated_image(depth):
    expect(depth, post(depth, files={"image": ("a.png", depth.png[:40])}), 400, "truncated")


def test_decompression_bombs(depth):
    """Pixel bombs (refused from the header, before any pixel buffer) and a
    progressive-JPEG scan bomb (refused by the scan limit)."""
    expect(depth, post(depth, files={"image": ("b.png",
                                               hdmtest.png_header_only(60000, 60000))}),
           400, "60000x60000")
    expect(depth, post(depth, files={"image": ("b.png",
                                               hostile_images.png_pixel_bomb(7000, 7000))}),
           400, "images.max_pixels")
    expect(depth, post(depth, files={"image": ("b.webp",
                                               hostile_images.webp_pixel_bomb(7000, 7000))}),
           400, "images.max_pixels")
    expect(depth, post(depth, files={"image": ("b.jpg",
                                               hostile_images.jpeg_scan_bomb(2000, 2000, 500))}),
           400, "scans")


def test_one_by_one_image_answers_like_the_original(depth):
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (1, 1), (200, 120, 40)).save(buf, format="PNG")
    r = post(depth, files={"image": ("a.png", buf.getvalue())}, data={"output_format": "both"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["depth_shape"] == [1, 1] and body["input_shape"] == [1, 1, 3]
    s = body["stats"]
    assert s["min"] == s["max"] == s["mean"] == s["p95"]  # a constant map is not normalised
    still_serves(depth)


# ---- parameters -------------------------------------------------------------------------

def test_unknown_colormap(depth):
    expect(depth, post(depth, files={"image": ("a.png", depth.png)},
                       data={"colormap": "inferno", "output_format": "image"}),
           400, "'inferno' is not a valid value for cmap")
    expect(depth, post(depth, json_body={"image": b64(depth.png), "colormap": ["jet"]}), 400,
           "colormap must be a string")


def test_bad_transform(depth):
    expect(depth, post(depth, json_body={"image": b64(depth.png), "transform": "feet"}), 400,
           "transform")


def test_text_part_not_utf8(depth):
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n\r\n"
            + depth.png + b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"colormap\"\r\n"
            b"\r\n\xff\xfe\r\n--XyZ--\r\n")
    expect(depth, raw_multipart(depth, body), 400, "colormap")


def test_invalid_utf8_in_json_is_escaped(depth):
    """A colormap name with invalid UTF-8 is echoed as U+FFFD, never raw."""
    body = b'{"image": "' + b64(depth.png).encode() + b'", "output_format": "image", ' \
           b'"colormap": "\xff\xfex"}'
    r = post(depth, data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r.content.decode("ascii")  # json.dumps style: ASCII only
    still_serves(depth)


# ---- multipart structure ---------------------------------------------------------------

def test_two_image_parts(depth):
    r = post(depth, files=[("image", ("a.png", depth.png)), ("image", ("b.png", depth.png))])
    expect(depth, r, 400, "'image' is given more than once")


def test_part_without_name(depth):
    body = (b"--XyZ\r\nContent-Disposition: form-data; filename=\"a.png\"\r\n\r\n"
            + depth.png + b"\r\n--XyZ--\r\n")
    expect(depth, raw_multipart(depth, body), 400, "name")


def test_multipart_without_boundary(depth):
    r = requests.post(depth.url + URL, data=b"--x--", timeout=30,
                      headers={"Content-Type": "multipart/form-data"})
    expect(depth, r, 400, "boundary")


def test_multipart_truncated(depth):
    body = b"--XyZ\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n" + depth.png[:30]
    expect(depth, raw_multipart(depth, body), 400, "multipart")


def test_many_parts(depth):
    body = b"".join(b"--XyZ\r\nContent-Disposition: form-data; name=\"p%d\"\r\n\r\nx\r\n" % i
                    for i in range(200)) + b"--XyZ--\r\n"
    r = raw_multipart(depth, body)
    assert r.status_code == 400
    still_serves(depth)


# ---- connections -----------------------------------------------------------------------

def test_client_hangs_up_mid_request(depth):
    """A client that sends half a body and goes away costs nothing lasting."""
    with socket.create_connection(("127.0.0.1", depth.port), timeout=10) as s:
        s.sendall(b"POST " + URL.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                  b'{"image": "')
    still_serves(depth)


def test_client_hangs_up_after_sending(depth):
    """The whole request sent, the socket closed before the answer: the
    service abandons it and goes on."""
    payload = json.dumps({"image": b64(depth.png)}).encode()
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", depth.port), timeout=10) as s:
            s.sendall(b"POST " + URL.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                      % len(payload) + payload)
    still_serves(depth)
