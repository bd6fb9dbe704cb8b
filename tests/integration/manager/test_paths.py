"""Model paths are confined to the allowed directories, canonicalised, and
refused before anything touches the file.  A file outside the allowed
directories gets the same answer as a missing one ("Model file not found"),
so the socket cannot be used to learn which files exist."""

import os
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402


@pytest.fixture(scope="module")
def mgr():
    m = hdmtest.Manager()
    m.start()
    outside = tempfile.mkdtemp(prefix="hdm-outside-", dir="/tmp")
    m.outside = outside
    secret = os.path.join(outside, "secret.hef")
    with open(secret, "w") as f:
        f.write("not for you")
    m.secret = secret
    yield m
    assert m.stop() == 0, m.log()
    m.cleanup()
    os.remove(secret)
    os.rmdir(outside)


def load(mgr, path, model_type="depth", **extra):
    return mgr.request(dict({"action": "load_model", "model_path": path, "model_type": model_type},
                            **extra))


def not_found(r, path, what="Model file"):
    return r.get("code") == "not_found" and r["error"].endswith("%s not found: %s" % (what, path))


def test_outside_allowed_dirs(mgr):
    r = load(mgr, mgr.secret)
    assert not_found(r, mgr.secret) and r["error"] == "Model file not found: " + mgr.secret, r


def test_dotdot_escape(mgr):
    escape = os.path.join(mgr.models_dir, "..", "..", os.path.relpath(mgr.secret, "/"))
    dotted = os.path.join(mgr.models_dir, "../" * 8 + mgr.secret.lstrip("/"))
    assert not_found(load(mgr, dotted), dotted)
    assert not_found(load(mgr, escape), escape)


def test_symlink_escape(mgr):
    link = os.path.join(mgr.models_dir, "innocent.hef")
    os.symlink(mgr.secret, link)
    try:
        assert not_found(load(mgr, link), link)
    finally:
        os.remove(link)


def test_symlink_inside_is_canonicalised(mgr):
    real = mgr.make_model("real-depth.hef")
    link = os.path.join(mgr.models_dir, "alias.hef")
    os.symlink(real, link)
    try:
        r = load(mgr, link)
        assert r["status"] == "ok" and r["model_path"] == real, r
        r = load(mgr, os.path.join(mgr.models_dir, ".", "sub", "..", "real-depth.hef"))
        assert r.get("message") == "Model already loaded" or r["code"] == "not_found", r
    finally:
        os.remove(link)
        mgr.request({"action": "unload_model", "model_path": real, "model_type": "depth"})


def test_relative_empty_and_missing(mgr):
    assert load(mgr, "models/x.hef")["code"] == "bad_request"
    assert load(mgr, "")["error"] == "model_path required"
    r = load(mgr, os.path.join(mgr.models_dir, "nope.hef"))
    assert r["code"] == "not_found" and "nope.hef" in r["error"]
    r = load(mgr, 42)
    assert r["error"] == "model_path required"


def test_clip_hef_paths_confined(mgr):
    path, params = mgr.make_clip("clip-conf")
    for key in ("image_hef_path", "text_hef_path"):
        p = dict(params)
        p[key] = mgr.secret
        r = load(mgr, path, "clip", model_params=p)
        assert not_found(r, mgr.secret, "model_params." + key), r
        assert r["error"].startswith("Failed to load model: "), r


def test_ocr_recognition_hefs_confined(mgr):
    path = mgr.make_model("ocr-conf.hef")
    params = {"detection_hef_path": path, "recognition_hefs": {"en": mgr.secret}}
    r = load(mgr, path, "ocr", model_params=params)
    assert not_found(r, mgr.secret, "model_params.recognition_hefs.en"), r
    params = {"detection_hef_path": mgr.secret, "recognition_hefs": {"en": path}}
    r = load(mgr, path, "ocr", model_params=params)
    assert not_found(r, mgr.secret, "model_params.detection_hef_path"), r


def test_infer_path_confined(mgr):
    r = mgr.request({"action": "infer", "model_path": mgr.secret, "model_type": "depth",
                     "input_data": {"input": hdmtest.tensor("uint8", [1, 256, 320, 3])}})
    assert not_found(r, mgr.secret), r


def test_sidecar_cannot_lead_outside(mgr):
    """A sim sidecar is read beneath its model's directory: a symlink to a
    file elsewhere is refused, not read (issue 20 item 8)."""
    model = mgr.make_model("sidecar-escape.hef", sidecar=False)
    os.symlink(mgr.secret, model + ".sim.json")
    try:
        r = load(mgr, model)
        assert r.get("code") == "bad_request" and "model sidecar" in r["error"], r
        assert "not for you" not in r["error"], r
    finally:
        os.remove(model + ".sim.json")
    assert load(mgr, model)["status"] == "ok"  # without it, the model loads


def test_resident_model_path_is_resolved_once(mgr):
    """Issue 16: a loaded model's path is resolved once, at load, not on
    every request: once resident, requests naming it by the same spelling
    (model_path and model_params paths) are served without looking at the
    file system, even after the files went away (as the original manager,
    which keyed models by the path string)."""
    path, params = mgr.make_clip("clip-once")
    req = {"action": "infer", "model_type": "clip", "model_path": path, "model_params": params,
           "input_data": {"mode": "image", "tensor": hdmtest.tensor("uint8", [224, 224, 3])}}
    assert mgr.request(req)["status"] == "ok"
    for p in (path, params["image_hef_path"], params["text_hef_path"]):
        os.rename(p, p + ".moved")
    try:
        r = mgr.request(req)
        assert r.get("status") == "ok", r
        # Another spelling of a file that is gone is looked up, and not found.
        other = os.path.join(mgr.models_dir, ".", os.path.basename(path))
        assert not_found(mgr.request(dict(req, model_path=other)), other)
    finally:
        for p in (path, params["image_hef_path"], params["text_hef_path"]):
            os.rename(p + ".moved", p)
        mgr.request({"action": "unload_model", "model_type": "clip", "model_path": path})
    # Unloaded, the spelling is forgotten: the next request checks the file again.
    os.rename(path, path + ".moved")
    try:
        assert not_found(mgr.request(req), path)
    finally:
        os.rename(path + ".moved", path)
