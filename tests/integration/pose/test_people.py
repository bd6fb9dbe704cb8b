"""The whole path on the simulator: images with bright figures, where the
sim's yolov8s_pose finds one person per bright blob (luminance >= 160 on
the stride-8 grid of the 640x640 letterbox), must give back those people:
one pose per figure, its box around the figure (within the sim's grid of 8
model pixels), keypoints inside the box, best score first, and the
parameters doing what they say."""

import pytest

from conftest import KEYPOINTS, b64, figures_image


def grid_px(w, h):
    """One cell of the sim's stride-8 grid, in image pixels, plus a pixel of
    truncation."""
    return 8 * max(w / 640.0, h / 640.0) + 1


def match(poses, boxes, tol):
    """For each figure box (inclusive pixels), the one pose whose bbox is
    within tol of it on every side."""
    found = []
    for (x0, y0, x1, y1) in boxes:
        hits = [p for p in poses
                if abs(p["bbox"]["x"] - x0) <= tol and abs(p["bbox"]["y"] - y0) <= tol and
                abs(p["bbox"]["x"] + p["bbox"]["width"] - (x1 + 1)) <= tol and
                abs(p["bbox"]["y"] + p["bbox"]["height"] - (y1 + 1)) <= tol]
        assert len(hits) == 1, ((x0, y0, x1, y1), [p["bbox"] for p in poses])
        found.append(hits[0])
    return found


def check_pose(p, w, h):
    b = p["bbox"]
    assert 0 <= b["x"] and 0 <= b["y"] and b["width"] > 0 and b["height"] > 0
    assert b["x"] + b["width"] <= w - 1 and b["y"] + b["height"] <= h - 1
    assert 0.6 <= p["bbox_confidence"] <= 0.95
    assert [k["name"] for k in p["keypoints"]] == KEYPOINTS
    for k in p["keypoints"]:
        assert b["x"] <= k["x"] <= b["x"] + b["width"], (k, b)
        assert b["y"] <= k["y"] <= b["y"] + b["height"], (k, b)
    # A standing figure: the nose above the hips, the hips above the ankles.
    ky = {k["name"]: k["y"] for k in p["keypoints"]}
    assert ky["nose"] < ky["left_hip"] < ky["left_ankle"]


FIGURES = [(100, 80, 260, 640), (500, 200, 620, 560), (900, 60, 1100, 700)]


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_three_people_found_where_they_are(pose, fmt):
    w, h = 1280, 720
    img = figures_image(w, h, FIGURES, fmt=fmt, **({"quality": 90} if fmt != "PNG" else {}))
    r = pose.detect(img)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 3 and body["image_size"] == {"width": w, "height": h}
    poses = body["poses"]
    assert [p["person_id"] for p in poses] == [0, 1, 2]
    scores = [p["bbox_confidence"] for p in poses]
    assert scores == sorted(scores, reverse=True)
    for p in match(poses, FIGURES, 2 * grid_px(w, h)):
        check_pose(p, w, h)
        # A solid figure: every keypoint on it is visible, every pair drawn.
        assert all(k["confidence"] > 0.9 for k in p["keypoints"])
        assert len(p["skeleton"]) == 19


def test_portrait_letterbox_offsets(pose):
    """A tall image: the padding is left and right; a figure touching the
    bottom edge keeps its box inside the image."""
    w, h = 480, 900
    boxes = [(20, 100, 140, 500), (300, 400, 460, 899)]
    body = pose.detect(figures_image(w, h, boxes)).json()
    assert body["count"] == 2
    for p in match(body["poses"], boxes, 2 * grid_px(w, h)):
        check_pose(p, w, h)


def test_brighter_figure_scores_higher_and_threshold_filters(pose):
    from PIL import Image, ImageDraw
    import io
    im = Image.new("RGB", (640, 640), (30, 30, 30))
    d = ImageDraw.Draw(im)
    d.rectangle((60, 60, 200, 500), fill=(200, 200, 200))   # score ~0.75
    d.rectangle((400, 60, 540, 500), fill=(252, 252, 252))  # score ~0.94
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    img = buf.getvalue()
    poses = pose.detect(img).json()["poses"]
    assert len(poses) == 2
    assert poses[0]["bbox"]["x"] > 300 and poses[1]["bbox"]["x"] < 300
    assert poses[0]["bbox_confidence"] > 0.9 > 0.8 > poses[1]["bbox_confidence"] > 0.7
    only = pose.detect(img, {"confidence_threshold": "0.8"}).json()
    assert only["count"] == 1 and only["poses"][0]["bbox"]["x"] > 300
    none = pose.detect(json_body={"image": b64(img), "confidence_threshold": 0.95}).json()
    assert none["count"] == 0 and none["poses"] == []


def test_max_detections_keeps_the_best(pose):
    w, h = 1280, 640
    boxes = [(20 + 140 * i, 100, 100 + 140 * i, 560) for i in range(9)]
    img = figures_image(w, h, boxes)
    every = pose.detect(img, {"max_detections": "20"}).json()
    assert every["count"] == 9
    two = pose.detect(img, {"max_detections": "2"}).json()
    assert two["count"] == 2
    assert [p["bbox"] for p in two["poses"]] == [p["bbox"] for p in every["poses"][:2]]
    default = pose.detect(img).json()   # inference.max_detections: 10
    assert default["count"] == 9


def test_nms_threshold_keeps_or_drops_the_duplicates(pose):
    """The sim repeats each person in two neighbouring cells at lower
    scores, as a detector does: NMS at 0.45 keeps one; IoU 1.0 keeps all
    three; IoU 0 keeps only the best person of the image."""
    img = figures_image(640, 640, [(100, 100, 200, 500), (400, 100, 500, 500)])
    assert pose.detect(img).json()["count"] == 2
    assert pose.detect(img, {"iou_threshold": "1.0"}).json()["count"] == 6
    assert pose.detect(img, {"iou_threshold": "0"}).json()["count"] == 1


def test_keypoint_threshold_filters_the_skeleton_only(pose):
    img = figures_image(640, 480, [(200, 60, 330, 440)])
    all_pairs = pose.detect(img, {"keypoint_threshold": "0"}).json()["poses"][0]
    none = pose.detect(img, {"keypoint_threshold": "1"}).json()["poses"][0]
    assert len(all_pairs["skeleton"]) == 19 and none["skeleton"] == []
    assert all_pairs["keypoints"] == none["keypoints"]


def test_dark_parts_lower_keypoint_confidence(pose):
    """A figure whose legs are dark: the ankle keypoints fall on the dark
    ground and lose their confidence, and with it their skeleton pairs."""
    from PIL import Image, ImageDraw
    import io
    im = Image.new("RGB", (640, 640), (20, 20, 20))
    d = ImageDraw.Draw(im)
    d.rectangle((250, 40, 390, 400), fill=(250, 250, 250))
    d.rectangle((250, 400, 270, 600), fill=(250, 250, 250))  # one thin bright leg edge
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    p = pose.detect(buf.getvalue()).json()["poses"][0]
    conf = {k["name"]: k["confidence"] for k in p["keypoints"]}
    assert conf["nose"] > 0.9 and conf["right_ankle"] < 0.1
    pairs = {(s["from"], s["to"]) for s in p["skeleton"]}
    assert ("right_ankle", "right_knee") not in pairs
    assert ("left_shoulder", "right_shoulder") in pairs


def test_empty_scene(pose):
    body = pose.detect(figures_image(800, 600, [])).json()
    assert body == {"poses": [], "count": 0, "inference_time_ms": body["inference_time_ms"],
                    "image_size": {"width": 800, "height": 600}}
