"""hailo-depth as a program: flags, --check-config, --preprocess, the
shipped config, start before the manager, a manager restart, a missing
model file, the bearer token, a clean SIGTERM."""

import io
import os
import signal
import subprocess

import numpy as np
import requests
from PIL import Image

import hdmtest
from conftest import (assert_error, b64, depth_config, estimate, gradient_jpeg, start_depth)

SAMPLE = gradient_jpeg()
BIN = hdmtest.binary("hailo-depth")
SHIPPED = os.path.join(hdmtest.SOURCE_DIR, "config", "hailo-depth.yaml")


def run(*args, env=None):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=60,
                          env=env or dict(os.environ, HAILO_DEPTH_CONFIG=""))


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("hailo-depth ")
    r = run("--help")
    assert r.returncode == 0 and "--preprocess IMAGE" in r.stdout
    assert run("--bogus").returncode == 2


def test_check_config(stack):
    cfg = os.path.join(stack.root, "hailo-depth.yaml")
    r = run("--check-config", "--config", cfg)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == cfg + ": OK"
    bad = depth_config(stack, "bad-format.yaml", replace=[("  format: both\n", "  format: png\n")])
    r = run("--check-config", "--config", bad)
    assert r.returncode == 1
    assert "output.format must be one of numpy, image, both, depth_png_16" in r.stderr
    nohef = depth_config(stack, "no-hef.yaml", replace=[("models/depth", "models/nowhere")])
    r = run("--check-config", "--config", nohef)
    assert r.returncode == 1 and "Model HEF not found at" in r.stderr
    unknown = depth_config(stack, "unknown-key.yaml", append="extra:\n  key: 1\n")
    r = run("--check-config", "--config", unknown)
    assert r.returncode == 0
    assert "unknown-key.yaml:" in r.stderr and "extra.key" in r.stderr
    r = run("--check-config", "--config", "/nonexistent/hailo-depth.yaml")
    assert r.returncode == 1


def test_shipped_config():
    """config/hailo-depth.yaml: every key loads and checks; only the model
    file (not on this machine) is missing.  127.0.0.1:11439."""
    r = run("--check-config", "--config", SHIPPED)
    assert r.returncode == 1, r.stderr
    assert "Model HEF not found at /var/lib/hailo-depth/resources/models/scdepthv3.hef" \
        in r.stderr
    assert "unknown key" not in r.stderr
    text = open(SHIPPED).read()
    assert "  host: 127.0.0.1\n" in text and "  port: 11439\n" in text


def test_preprocess_is_pillows():
    """--preprocess: the tensor the original sent, i.e. PIL's
    Image.open().convert("RGB").resize((320, 256), BILINEAR)."""
    path = os.path.join(os.path.dirname(__file__), "golden", "inputs", "rgba-200x150.png")
    r = subprocess.run([BIN, "--preprocess", path], capture_output=True, timeout=60,
                       env=dict(os.environ, HAILO_DEPTH_CONFIG=""))
    assert r.returncode == 0, r.stderr
    want = np.array(Image.open(path).convert("RGB").resize((320, 256), Image.BILINEAR))
    assert r.stdout == want.tobytes()


def test_start_before_manager():
    st = hdmtest.SimStack(prefix="hdm-depth-late-")
    svc = None
    try:
        svc = start_depth(st, wait_ready=False)
        r = requests.get(svc.url + "/health/ready", timeout=10)
        assert r.status_code == 503
        body = r.json()
        assert body["ready"] is False and body["reason"] == "model_loading"
        h = requests.get(svc.url + "/health", timeout=10).json()
        assert h["status"] == "ok" and h["model_loaded"] is False
        assert isinstance(h["last_error"], str) and h["last_error"]
        assert h["manager_reachable"] is False
        assert_error(estimate(svc, SAMPLE), 503, "model not ready")
        st.start_manager()
        hdmtest.wait_until(svc.ready, 30, "hailo-depth to become ready")
        assert estimate(svc, SAMPLE).status_code == 200
        # The manager dies and comes back: the service heals by itself.
        st.kill_manager()
        hdmtest.wait_until(lambda: not svc.ready(), 30, "hailo-depth to notice")
        assert estimate(svc, SAMPLE).status_code == 503
        st.start_manager()
        hdmtest.wait_until(svc.ready, 30, "hailo-depth to recover")
        assert estimate(svc, SAMPLE).status_code == 200
        assert svc.alive()
    finally:
        st.cleanup([svc] if svc else [])


def test_missing_model_file(stack):
    cfg = depth_config(stack, "depth-nomodel.yaml",
                       replace=[("models/depth", "models/nowhere")])
    svc = start_depth(stack, cfg, wait_ready=False)
    try:
        def reported():
            h = requests.get(svc.url + "/health", timeout=10).json()
            return h["last_error"] and "Model file not found" in h["last_error"]
        hdmtest.wait_until(reported, 30, "the manager's answer in /health")
        assert requests.get(svc.url + "/health/ready", timeout=10).status_code == 503
        assert_error(estimate(svc, SAMPLE), 503)
    finally:
        svc.stop()


def test_bearer_token(stack):
    cfg = depth_config(stack, "depth-token.yaml",
                       replace=[("  port:", "  bearer_token: s3cret\n  port:")])
    svc = start_depth(stack, cfg)
    try:
        r = estimate(svc, SAMPLE)
        assert r.status_code == 401
        assert r.json()["error"]["type"] == "authentication_error"
        r = requests.post(svc.url + "/v1/depth/estimate", json={"image": b64(SAMPLE)},
                          headers={"Authorization": "Bearer s3cret"}, timeout=30)
        assert r.status_code == 200
        assert requests.get(svc.url + "/health", timeout=10).status_code == 200
    finally:
        svc.stop()


def test_sigterm_while_serving(stack):
    svc = start_depth(stack)
    assert estimate(svc, SAMPLE).status_code == 200
    svc.proc.send_signal(signal.SIGHUP)  # re-opens the log, keeps serving
    assert estimate(svc, SAMPLE).status_code == 200
    assert svc.stop() == 0


def test_image_formats(depth):
    """JPEG, PNG and WebP decode; other formats Pillow reads (GIF, BMP) are
    refused with 400 (see docs/DEPTH.md)."""
    img = Image.open(io.BytesIO(SAMPLE))
    for fmt, ok in (("WEBP", True), ("PNG", True), ("GIF", False), ("BMP", False)):
        buf = io.BytesIO()
        img.save(buf, format=fmt)
        r = estimate(depth, buf.getvalue(), fields={"output_format": "numpy"})
        if ok:
            assert r.status_code == 200, (fmt, r.text)
        else:
            assert_error(r, 400, "unsupported image format")
