"""Tensor shapes (issue 15 item 3).  v1 answers carry the per-frame shape
HailoRT reports, as the original manager answered ([h,w,c], [512],
[1,77,512]); binary answers (libhailodm) keep the leading 1 they always had;
inputs are accepted with or without a leading batch 1."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402
from hdmtest import tensor, tensor_bytes, tensor_ref  # noqa: E402


@pytest.fixture(scope="module")
def mgr():
    m = hdmtest.Manager()
    m.start()
    m.depth = m.make_model("shape-depth.hef", input_height=32, input_width=48)
    m.pose = m.make_model("shape-pose.hef", input_height=64, input_width=64)
    m.ocr = m.make_model("shape-ocr.hef", input_height=32, input_width=64)
    m.clip, m.clip_params = m.make_clip("shape-clip")
    yield m
    assert m.stop() == 0, m.log()
    m.cleanup()


def infer(mgr, model_type, path, input_data, binary=False, attachments=(), **extra):
    req = dict({"action": "infer", "model_type": model_type, "model_path": path,
                "input_data": input_data}, **extra)
    with mgr.client() as c:
        r = c.request(req, binary=binary, attachments=attachments)
        assert r.get("status") == "ok", r
        return r, c.last_attachments


def test_dense_outputs_per_frame_in_v1_batched_in_binary(mgr):
    for shape in ([32, 48, 3], [1, 32, 48, 3]):  # both input forms
        r, _ = infer(mgr, "depth", mgr.depth, {"input": tensor("uint8", shape)})
        assert r["result"]["shape"] == [32, 48, 1], r["result"]["shape"]
    raw = tensor_bytes("uint8", [32, 48, 3])
    r, atts = infer(mgr, "depth", mgr.depth, {"input": tensor_ref("uint8", [32, 48, 3], 0)},
                    binary=True, attachments=[raw])
    assert r["result"]["shape"] == [1, 32, 48, 1]
    assert len(atts[0]) == 32 * 48 * 4

    r, _ = infer(mgr, "pose", mgr.pose, {"input": tensor("uint8", [1, 64, 64, 3])})
    shapes = {k: v["shape"] for k, v in r["result"].items()}
    assert all(len(s) == 3 for s in shapes.values()), shapes
    assert any(s == [8, 8, 64] for s in shapes.values()), shapes  # stride 8, bbox head

    r, _ = infer(mgr, "ocr", mgr.ocr, {"mode": "detection", "image": tensor("uint8", [32, 64, 3])},
                 model_params={"detection_hef_path": mgr.ocr,
                               "recognition_hefs": {"en": mgr.ocr}})
    assert r["result"]["shape"] == [32, 64, 1]  # the original's raw[:, :, 0] needs 3-D
    r, _ = infer(mgr, "ocr", mgr.ocr, {"mode": "recognition",
                                       "crops": [tensor("uint8", [48, 320, 3])]})
    assert r["result"][0]["shape"] == [1, 40, 97]  # one frame of a height-1 output


def test_clip_shapes(mgr):
    image = {"mode": "image", "tensor": tensor("uint8", [224, 224, 3])}
    r, _ = infer(mgr, "clip", mgr.clip, image, model_params=mgr.clip_params)
    assert r["result"]["shape"] == [512]
    raw = tensor_bytes("uint8", [1, 224, 224, 3])
    r, _ = infer(mgr, "clip", mgr.clip,
                 {"mode": "image", "tensor": tensor_ref("uint8", [1, 224, 224, 3], 0)},
                 binary=True, attachments=[raw])
    assert r["result"]["shape"] == [1, 512]
    for shape in ([77, 512], [1, 77, 512], [1, 1, 77, 512]):
        r, _ = infer(mgr, "clip", mgr.clip, {"mode": "text", "tensor": tensor("float32", shape)})
        assert r["result"]["shape"] == [1, 77, 512], (shape, r["result"]["shape"])
    with mgr.client() as c:
        r = c.request({"action": "infer", "model_type": "clip", "model_path": mgr.clip,
                       "input_data": {"mode": "text", "tensor": tensor("float32", [2, 77, 512])}})
        assert r["code"] == "bad_request" and "[1,77,512]" in r["error"], r
