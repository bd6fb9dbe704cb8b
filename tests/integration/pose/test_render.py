"""render=true (ours): the answer also carries the image with the boxes,
skeletons and keypoints drawn, as base64 JPEG or PNG under "rendered"."""

import base64
import io

import pytest
from PIL import Image

from conftest import assert_error, b64, figures_image

BOX = (40, 220, 90)
DOT = (255, 60, 60)
GROUND = (40, 50, 60)


def rendered(body):
    r = body["rendered"]
    assert list(r) == ["format", "content_type", "width", "height", "data"]
    data = base64.b64decode(r["data"], validate=True)
    im = Image.open(io.BytesIO(data))
    assert im.format == r["format"].upper()
    assert r["content_type"] == "image/" + r["format"]
    assert (r["width"], r["height"]) == im.size == (body["image_size"]["width"],
                                                     body["image_size"]["height"])
    return im.convert("RGB")


def test_png_draws_box_and_keypoints(pose):
    img = figures_image(640, 480, [(200, 60, 330, 440)])
    r = pose.detect(img, {"render": "true", "render_format": "png"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["poses", "count", "inference_time_ms", "image_size", "rendered"]
    im = rendered(body)
    assert body["rendered"]["format"] == "png"
    p = body["poses"][0]
    b = p["bbox"]
    # The box's left and right edges, half-way down.
    assert im.getpixel((b["x"], b["y"] + b["height"] // 2)) == BOX
    assert im.getpixel((b["x"] + b["width"], b["y"] + b["height"] // 2)) == BOX
    for k in p["keypoints"]:   # all visible on a solid figure: a dot each
        assert im.getpixel((k["x"], k["y"])) == DOT, k
    # Away from the person the image is untouched (PNG: exact).
    assert im.getpixel((5, 5)) == GROUND and im.getpixel((600, 470)) == GROUND


def test_json_request_jpeg_default(pose):
    img = figures_image(1920, 1080, [(300, 100, 600, 1000)], fmt="JPEG", quality=95)
    body = pose.detect(json_body={"image": b64(img), "render": True}).json()
    assert body["rendered"]["format"] == "jpeg"   # render.format: jpeg
    im = rendered(body)
    b = body["poses"][0]["bbox"]
    # 1080 / 250: 4-pixel lines, clear in a JPEG too.
    r, g, bl = im.getpixel((b["x"] + 1, b["y"] + b["height"] // 2))
    assert abs(r - BOX[0]) < 40 and abs(g - BOX[1]) < 40 and abs(bl - BOX[2]) < 40


def test_no_people_image_unchanged(pose):
    img = figures_image(320, 200, [])
    body = pose.detect(img, {"render": "yes", "render_format": "PNG"}).json()
    assert body["count"] == 0
    assert list(rendered(body).getdata()) == list(Image.open(io.BytesIO(img)).getdata())


def test_not_rendered_unless_asked(pose):
    img = figures_image(320, 200, [])
    assert "rendered" not in pose.detect(img).json()
    assert "rendered" not in pose.detect(img, {"render": "false"}).json()
    assert "rendered" not in pose.detect(json_body={"image": b64(img), "render": False}).json()


@pytest.mark.parametrize("fields,json_body,words", [
    ({"render": "maybe"}, None, "field 'render' must be true or false"),
    ({"render": "true", "render_format": "gif"}, None, "render_format must be jpeg or png"),
    (None, {"render": "true"}, "render must be true or false"),
    (None, {"render": True, "render_format": 3}, "render_format must be jpeg or png"),
    (None, {"render": True, "render_format": "bmp"}, "render_format must be jpeg or png"),
])
def test_bad_render_fields(pose, fields, json_body, words):
    img = figures_image(64, 64, [])
    if json_body is not None:
        r = pose.detect(json_body=dict(json_body, image=b64(img)))
    else:
        r = pose.detect(img, fields)
    assert_error(r, 400, words)
