"""hailo-depth against GM's own Python path, end to end (golden/README.md
says how the fixtures were made): the same image and parameters sent to
hailo-depth on the simulator must give GM's answer - the same fields in the
same order, equal stats (to the bit, and printed as Python prints them),
the .npz array within 1e-6, identical PNG pixels."""

import base64
import hashlib
import io
import json
import os
import re

import numpy as np
import pytest
import requests
from PIL import Image

from conftest import GOLDEN, b64

with open(os.path.join(GOLDEN, "cases.json")) as f:
    MANIFEST = json.load(f)
CASES = MANIFEST["cases"]


def send(depth, case):
    with open(os.path.join(GOLDEN, MANIFEST["inputs"][case["image"]]["file"]), "rb") as f:
        data = f.read()
    p = case["params"]
    url = depth.url + "/v1/depth/estimate"
    if case["transport"] == "json":
        body = {"image": b64(data), "normalize": p["normalize"],
                "output_format": p["output_format"]}
        if p["colormap"] is not None:
            body["colormap"] = p["colormap"]
        return requests.post(url, json=body, timeout=60)
    fields = {"normalize": "true" if p["normalize"] else "false",
              "output_format": p["output_format"]}
    if p["colormap"] is not None:
        fields["colormap"] = p["colormap"]
    return requests.post(url, files={"image": ("in", data)}, data=fields, timeout=60)


def pixels(png_bytes):
    img = Image.open(io.BytesIO(png_bytes))
    img.load()
    return img.mode, img.size, np.array(img)


@pytest.mark.parametrize("case", CASES, ids=[f"{i:02d}-{c['image']}-{c['params']['output_format']}"
                                             for i, c in enumerate(CASES)])
def test_same_answer_as_gm(depth, case):
    r = send(depth, case)
    assert r.status_code == 200, r.text[:500]
    body = r.json()
    assert [k for k in body if k != "inference_time_ms"] == case["keys"]
    assert list(body).index("inference_time_ms") == 4
    for k in ("model", "model_type", "input_shape", "depth_shape", "normalized"):
        assert body[k] == case[k], k
    assert body["stats"] == case["stats"]
    for k, rep in case["stats_repr"].items():
        assert f'"{k}": {rep}' in r.text, (k, rep)
    if "depth_map" in case:
        got = np.load(io.BytesIO(base64.b64decode(body["depth_map"])))["depth"]
        want = np.load(os.path.join(GOLDEN, case["depth_map"]))["depth"]
        assert got.dtype == want.dtype == np.float32
        assert got.shape == want.shape
        assert np.abs(got - want).max() <= 1e-6
    else:
        assert "depth_map" not in body
    for field in ("depth_image", "depth_png_16"):
        if field in case:
            with open(os.path.join(GOLDEN, case[field]), "rb") as f:
                want_mode, want_size, want_px = pixels(f.read())
            mode, size, px = pixels(base64.b64decode(body[field]))
            assert (mode, size) == (want_mode, want_size), field
            assert px.dtype == want_px.dtype
            assert np.array_equal(px, want_px), field
        else:
            assert field not in body


def test_sim_outputs_unchanged(stack):
    """The fixtures hold the sim's scdepthv3 output for each input: if this
    fails, the simulator changed (not hailo-depth), and the fixtures must be
    made again."""
    sock = stack.socket
    hef = os.path.join(stack.models, "depth", "scdepthv3.hef")
    import subprocess
    import tempfile
    devctl = os.path.join(os.environ.get("HDM_BUILD_DIR", ""), "bin", "hailo-devctl")
    pre = os.path.join(os.environ.get("HDM_BUILD_DIR", ""), "bin", "hailo-depth")
    with tempfile.TemporaryDirectory() as tmp:
        for key, inp in MANIFEST["inputs"].items():
            out = subprocess.run([pre, "--preprocess", os.path.join(GOLDEN, inp["file"])],
                                 capture_output=True, env=dict(stack.env, HAILO_DEPTH_CONFIG=""),
                                 timeout=60)
            assert out.returncode == 0, out.stderr
            tensor = np.frombuffer(out.stdout, np.uint8).reshape(256, 320, 3)
            tpath, opath = os.path.join(tmp, key + ".npy"), os.path.join(tmp, key + "-out.npy")
            np.save(tpath, tensor)
            r = subprocess.run([devctl, "--socket", sock, "infer", "depth", hef,
                                "--tensor", tpath, "--out", opath], capture_output=True,
                               text=True, timeout=60)
            assert r.returncode == 0, r.stdout + r.stderr
            got = np.load(opath)
            assert list(got.shape) == inp["sim_output_shape"]
            assert hashlib.sha256(got.astype("<f4").tobytes()).hexdigest() == \
                inp["sim_output_sha256"], key


def test_stats_printed_as_python(depth):
    """Every stats value is printed as Python's repr (e.g. 0.0, never 0)."""
    case = CASES[0]
    r = send(depth, case)
    m = re.search(r'"stats": \{"min": ([^,]+), "max": ([^,]+), "mean": ([^,]+), '
                  r'"p95": ([^}]+)\}', r.text)
    assert m, r.text[:400]
    assert [m.group(i) for i in range(1, 5)] == [case["stats_repr"][k]
                                                 for k in ("min", "max", "mean", "p95")]
