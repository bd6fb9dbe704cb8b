"""Malformed and hostile requests to hailo-ocr: each gets a clear JSON answer
naming the problem (a 4xx for the client's mistakes), nothing crashes, and
the service serves a good request afterwards.  The body limit is lowered to
2 MiB so 413 is cheap to provoke.

Degenerate but valid images (1x1, all white, all black) are not errors:
they are answered 200 with no text, as the original answers them.
"""

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

LIMIT = 2 << 20
PAGE = os.path.join(hdmtest.SOURCE_DIR, "tests", "data", "ocr", "text-page.png")


@pytest.fixture(scope="module")
def ocr():
    st = hdmtest.SimStack(prefix="hdm-bad-ocr-")
    path = os.path.join(st.root, "hailo-ocr.yaml")
    with open(path) as f:
        text = f.read().replace("server:\n", "server:\n  max_body_bytes: %d\n" % LIMIT, 1)
    cfg = os.path.join(st.root, "ocr-bad.yaml")
    with open(cfg, "w") as f:
        f.write(text)
    svc = hdmtest.Service(st, "hailo-ocr", config=cfg)
    svc.ready_path = "/health/ready"
    try:
        st.start_manager()
        svc.start()
        with open(PAGE, "rb") as f:
            svc.page = f.read()
        yield svc
        assert svc.alive(), "hailo-ocr died:\n" + svc.log()[-3000:]
        svc.stop()
    finally:
        st.cleanup([svc])


def b64(data):
    return base64.b64encode(data).decode()


def post(ocr, body=None, data=None, headers=None, **kw):
    url = ocr.url + "/v1/ocr/extract"
    if data is not None:
        return requests.post(url, data=data, headers=headers, timeout=60, **kw)
    if body is not None:
        return requests.post(url, json=body, headers=headers, timeout=60, **kw)
    return requests.post(url, headers=headers, timeout=60, **kw)


def still_serves(ocr):
    r = post(ocr, {"image": b64(ocr.page)})
    assert r.status_code == 200, r.text
    assert len(r.json()["regions"]) == 10


def expect(ocr, resp, status, text):
    assert resp.status_code == status, "%s: %s" % (resp.status_code, resp.text)
    assert resp.headers["Content-Type"].startswith("application/json"), resp.headers
    body = resp.json()
    assert body.get("success") is False and isinstance(body.get("error"), str), body
    assert text in body["error"], body
    still_serves(ocr)


def image(size, color="white", fmt="PNG", draw=None, **save):
    from PIL import Image, ImageDraw
    img = Image.new("RGB", size, color=color)
    if draw:
        draw(ImageDraw.Draw(img))
    out = io.BytesIO()
    img.save(out, format=fmt, **save)
    return out.getvalue()


# ---- the body --------------------------------------------------------------------------

def test_body_not_json(ocr):
    r = post(ocr, data=b"{image: nope", headers={"Content-Type": "application/json"})
    expect(ocr, r, 400, "invalid JSON body")


def test_body_empty(ocr):
    expect(ocr, post(ocr, data=b"", headers={"Content-Type": "application/json"}), 400, "empty")


def test_body_not_an_object(ocr):
    """The original answered a JSON list with an unhandled 500."""
    for body in (b"[1, 2]", b"\"text\"", b"42", b"null"):
        r = post(ocr, data=body, headers={"Content-Type": "application/json"})
        expect(ocr, r, 400, "expected a JSON object")


def test_body_deeply_nested(ocr):
    r = post(ocr, data=b"[" * 100000 + b"]" * 100000, headers={"Content-Type": "application/json"})
    expect(ocr, r, 400, "invalid JSON body")


def test_body_over_limit(ocr):
    body = json.dumps({"image": "A" * (LIMIT + 10)}).encode()
    expect(ocr, post(ocr, data=body, headers={"Content-Type": "application/json"}), 413, "")


def test_wrong_content_type(ocr):
    r = post(ocr, data=b"image=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    expect(ocr, r, 415, "Content-Type must be application/json or multipart/form-data")


def test_wrong_types(ocr):
    expect(ocr, post(ocr, {}), 400, "Missing 'image' parameter")
    expect(ocr, post(ocr, {"image": ""}), 400, "Missing 'image' parameter")
    expect(ocr, post(ocr, {"image": None}), 400, "Missing 'image' parameter")
    expect(ocr, post(ocr, {"image": 12}), 400, "image must be a string")
    expect(ocr, post(ocr, {"image": {"data": "x"}}), 400, "image must be a string")
    expect(ocr, post(ocr, {"image": True}), 400, "image must be a string")
    page = b64(ocr.page)
    expect(ocr, post(ocr, {"image": page, "languages": 5}), 400, "languages must be a list")
    expect(ocr, post(ocr, {"image": page, "languages": {"en": True}}), 400,
           "languages must be a list")
    expect(ocr, post(ocr, {"image": page, "languages": [["en"]]}), 400,
           "languages[0] must be a string")
    expect(ocr, post(ocr, {"image": page, "languages": ["e n"]}), 400, "not a language code")


def test_unknown_language(ocr):
    expect(ocr, post(ocr, {"image": b64(ocr.page), "languages": ["xx"]}), 400,
           "Unsupported language: 'xx'. Available: ['en', 'zh']")


# ---- the image reference -------------------------------------------------------------

def test_invalid_base64(ocr):
    expect(ocr, post(ocr, {"image": "QUJDR"}), 400,
           "number of data characters (5) cannot be 1 more than a multiple of 4")
    expect(ocr, post(ocr, {"image": "not-valid-base64!!!"}), 400, "Failed to load image")
    expect(ocr, post(ocr, {"image": "data:image/png;base64"}), 400, "list index out of range")
    expect(ocr, post(ocr, {"image": "data:image/png;base64,"}), 400, "empty")
    expect(ocr, post(ocr, {"image": "QUJD\u00e9"}), 400, "ASCII")


def test_not_an_image(ocr):
    expect(ocr, post(ocr, {"image": b64(b"hello, this is text" * 4)}), 400,
           "Failed to load image: image")


def test_truncated_jpeg(ocr):
    jpeg = image((400, 300), fmt="JPEG", draw=lambda d: d.text((20, 20), "HELLO", fill="black"))
    expect(ocr, post(ocr, {"image": b64(jpeg[:len(jpeg) // 2])}), 400, "truncated")
    expect(ocr, post(ocr, {"image": b64(jpeg[:200])}), 400, "Failed to load image")


def test_header_20000x20000(ocr):
    bomb = hdmtest.png_header_only(20000, 20000)
    expect(ocr, post(ocr, {"image": b64(bomb)}), 413, "20000x20000")


def test_pixel_bomb_within_header_limits(ocr):
    """A few KB that decode to 25 Mpixel: over images.max_pixels (24 M)."""
    bomb = hostile_images.png_pixel_bomb(5000, 5000)
    assert len(bomb) < 64 * 1024
    expect(ocr, post(ocr, {"image": b64(bomb)}), 413, "images.max_pixels")


def test_too_thin_for_the_letterbox(ocr):
    """A side that scales to 0 pixels in the 960x544 input (the original: 500)."""
    expect(ocr, post(ocr, {"image": b64(image((4000, 1)))}), 400, "too thin")


def test_file_outside_and_bad_paths(ocr):
    for ref in ("file:///etc/passwd", "file://relative/path.png", "file://",
                "file:///proc/self/environ", "file:///dev/zero"):
        r = post(ocr, {"image": ref})
        assert r.status_code == 400, (ref, r.text)
        assert r.json()["success"] is False
    still_serves(ocr)


# ---- multipart ---------------------------------------------------------------------------

def test_multipart_without_image(ocr):
    r = post(ocr, files={"languages": (None, "en")})
    expect(ocr, r, 400, "Missing 'image' parameter")
    r = post(ocr, files={"image": ("a.png", b"", "image/png")})
    expect(ocr, r, 400, "Missing 'image' parameter")


def test_multipart_bad_languages(ocr):
    r = post(ocr, files={"image": ("p.png", ocr.page, "image/png"), "languages": (None, "[1]")})
    expect(ocr, r, 400, "languages[0] must be a string")
    r = post(ocr, files={"image": ("p.png", ocr.page, "image/png"), "languages": (None, "fr")})
    expect(ocr, r, 400, "Unsupported language: 'fr'")


def test_multipart_broken(ocr):
    r = post(ocr, data=b"--B\r\nno headers\r\n--B--",
             headers={"Content-Type": "multipart/form-data; boundary=B"})
    expect(ocr, r, 400, "multipart")
    r = post(ocr, data=b"x", headers={"Content-Type": "multipart/form-data"})
    expect(ocr, r, 400, "boundary")


# ---- degenerate and busy images: answered, not errors ---------------------------------------

@pytest.mark.parametrize("size,color", [((1, 1), "white"), ((1, 1), "black"),
                                        ((640, 480), "white"), ((640, 480), "black"),
                                        ((1920, 1080), "black")])
def test_blank_images(ocr, size, color):
    r = post(ocr, {"image": b64(image(size, color))})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True and body["regions"] == [] and body["text"] == ""


def test_thousands_of_marks(ocr):
    """3000 small marks: more contours than DB's 1000 candidates; bounded work."""
    def marks(d):
        for y in range(8, 530, 10):
            for x in range(8, 950, 16):
                d.rectangle([x, y, x + 5, y + 5], fill="black")
    r = post(ocr, {"image": b64(image((960, 544), draw=marks))})
    assert r.status_code == 200, r.text
    assert len(r.json()["regions"]) <= 1000


def test_many_text_regions(ocr):
    """As many separate words as the 960x544 detection map resolves (the
    simulator needs about 20 px of text height): every one a region with its
    own text, read in 31 recognition batches."""
    from PIL import Image, ImageDraw
    small = Image.new("RGB", (480, 272), "white")
    d = ImageDraw.Draw(small)
    n = 0
    for y in range(4, 272 - 14, 14):
        for x in range(4, 480 - 30, 36):
            d.text((x, y), "ab", fill="black")
            n += 1
    big = small.resize((960, 544), Image.NEAREST)
    out = io.BytesIO()
    big.save(out, format="PNG")
    r = post(ocr, {"image": b64(out.getvalue())})
    assert r.status_code == 200, r.text
    regions = r.json()["regions"]
    assert len(regions) == n == 247
    assert all(reg["text"] for reg in regions)


# ---- the connection ------------------------------------------------------------------------

def test_client_hangs_up_mid_request(ocr):
    """A client that sends its request and leaves: its work is dropped and
    the service goes on serving."""
    body = json.dumps({"image": b64(ocr.page)}).encode()
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", ocr.port))
        s.sendall(b"POST /v1/ocr/extract HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body)
        s.close()
    still_serves(ocr)


def test_unknown_paths_and_methods(ocr):
    expect(ocr, requests.get(ocr.url + "/v1/ocr/nope", timeout=5), 404, "")
    expect(ocr, requests.put(ocr.url + "/v1/ocr/extract", data=b"{}", timeout=5), 405, "")
    expect(ocr, requests.post(ocr.url + "/health", timeout=5), 405, "")
