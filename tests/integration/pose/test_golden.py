"""hailo-pose against the original Python service, end to end (golden/README.md):
the same images and requests, over HTTP, on the same simulated device, must
give the original's answers (bbox within 1 px, keypoints within 0.5 px,
confidences within 1e-5, same count, order and skeleton), and the tensor
sent to the device must be the original's byte for byte."""

import base64
import hashlib
import json
import os
import subprocess

import pytest
import requests

from conftest import HERE, hdmtest

GOLDEN = os.path.join(HERE, "golden")
with open(os.path.join(GOLDEN, "expected.json")) as f:
    EXPECTED = json.load(f)
CASES = EXPECTED["cases"]


def answer_of(i):
    c = CASES[i]
    return c["answer"] if "answer" in c else answer_of(c["answer_of"])


def read_input(name):
    with open(os.path.join(GOLDEN, "inputs", name), "rb") as f:
        return f.read()


@pytest.mark.parametrize("name", sorted(EXPECTED["tensor_sha256"]))
def test_device_tensor_is_the_originals(stack, name):
    out = subprocess.run([hdmtest.binary("hailo-pose"), "--config",
                          os.path.join(stack.root, "hailo-pose.yaml"), "--preprocess",
                          os.path.join(GOLDEN, "inputs", name)],
                         capture_output=True, timeout=120, env=stack.env)
    assert out.returncode == 0, out.stderr.decode(errors="replace")
    assert len(out.stdout) == 640 * 640 * 3
    assert hashlib.sha256(out.stdout).hexdigest() == EXPECTED["tensor_sha256"][name]


def send(pose, case):
    data = read_input(case["image"])
    url = pose.url + "/v1/pose/detect"
    if case["transport"] == "multipart":
        return requests.post(url, files={"image": (case["image"], data)}, data=case["params"],
                             timeout=60)
    image = base64.b64encode(data).decode()
    if case["transport"] == "datauri":
        image = "data:image/png;base64," + image
    return requests.post(url, json=dict(case["params"], image=image), timeout=60)


def compare(got, want, where):
    # The original's fields in its order (inference_time_ms, a time, is not
    # in the fixtures).
    assert list(got) == ["poses", "count", "inference_time_ms", "image_size"], (where, list(got))
    assert got["count"] == want["count"] == len(got["poses"]), where
    assert got["image_size"] == want["image_size"], where
    assert isinstance(got["inference_time_ms"], int), where
    for i, (g, w) in enumerate(zip(got["poses"], want["poses"])):
        at = "%s pose %d" % (where, i)
        assert list(g) == list(w), at
        assert g["person_id"] == w["person_id"] == i, at
        assert list(g["bbox"]) == ["x", "y", "width", "height"], at
        for k in ("x", "y", "width", "height"):
            assert isinstance(g["bbox"][k], int), at
            assert abs(g["bbox"][k] - w["bbox"][k]) <= 1, (at, g["bbox"], w["bbox"])
        assert isinstance(g["bbox_confidence"], float), at
        assert abs(g["bbox_confidence"] - w["bbox_confidence"]) <= 1e-5, at
        assert len(g["keypoints"]) == 17, at
        for gk, wk in zip(g["keypoints"], w["keypoints"]):
            assert list(gk) == ["name", "x", "y", "confidence"], at
            assert gk["name"] == wk["name"], at
            assert isinstance(gk["x"], int) and isinstance(gk["y"], int), at
            assert abs(gk["x"] - wk["x"]) <= 0.5 and abs(gk["y"] - wk["y"]) <= 0.5, (at, gk, wk)
            assert isinstance(gk["confidence"], float), at
            assert abs(gk["confidence"] - wk["confidence"]) <= 1e-5, (at, gk, wk)
        assert g["skeleton"] == w["skeleton"], at


@pytest.mark.parametrize("index", range(len(CASES)),
                         ids=["%d-%s-%s" % (i, c["image"], c["transport"])
                              for i, c in enumerate(CASES)])
def test_answer_is_the_originals(pose, index):
    case = CASES[index]
    r = send(pose, case)
    assert r.status_code == case["status"], r.text
    compare(r.json(), answer_of(index), "case %d %s %s %s" % (index, case["image"],
                                                                case["transport"], case["params"]))


def test_cases_cover_people_and_parameters():
    """The fixtures themselves: enough people, every parameter moved."""
    counts = [answer_of(i)["count"] for i in range(len(CASES))]
    assert max(counts) >= 20 and 0 in counts and sum(c > 0 for c in counts) >= 30
    moved = set()
    for c in CASES:
        moved.update(c["params"])
    assert moved == {"confidence_threshold", "iou_threshold", "max_detections",
                     "keypoint_threshold"}
    skeleton_sizes = {len(p["skeleton"]) for i in range(len(CASES))
                      for p in answer_of(i)["poses"]}
    assert min(skeleton_sizes) < 19 and 19 in skeleton_sizes
