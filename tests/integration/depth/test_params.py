"""Request options beyond GM's tests: image_url (file:// inside
input.allowed_dirs only with input.allow_local_paths, http(s):// to allowed
addresses only, data: URIs), the depth transform of §3.6, the size limit,
and config defaults."""

import http.server
import os
import socketserver
import threading

import numpy as np
import pytest
import requests

from conftest import (assert_error, b64, depth_config, estimate, gradient_jpeg, npz_depth,
                      start_depth)

SAMPLE = gradient_jpeg()


@pytest.fixture(scope="module")
def image_server():
    """An HTTP server on 127.0.0.1 serving SAMPLE at /sample.jpg."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/sample.jpg":
                self.send_response(200)
                self.send_header("Content-Length", str(len(SAMPLE)))
                self.end_headers()
                self.wfile.write(SAMPLE)
            else:
                self.send_error(404)

        def log_message(self, *a):
            pass

    srv = socketserver.TCPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_file_url_inside_allowed_dir(depth, stack):
    with open(os.path.join(stack.images, "sample.jpg"), "wb") as f:
        f.write(SAMPLE)
    r = estimate(depth, json_body={"image_url": "file://" + stack.images + "/sample.jpg",
                                   "output_format": "numpy"})
    assert r.status_code == 200, r.text
    ref = estimate(depth, SAMPLE, fields={"output_format": "numpy"}).json()["depth_map"]
    assert r.json()["depth_map"] == ref


def test_file_url_outside(depth, stack):
    for url in ("file:///etc/passwd", "file://" + stack.images + "/../hailo-depth.yaml",
                "file://" + stack.images + "/missing.jpg"):
        msg = assert_error(estimate(depth, json_body={"image_url": url}), 400)
        assert msg.startswith("Failed to fetch image URL: no readable image file"), msg


def test_data_url(depth):
    r = estimate(depth, json_body={"image_url": "data:image/jpeg;base64," + b64(SAMPLE),
                                   "output_format": "numpy"})
    assert r.status_code == 200, r.text


def test_remote_refused_by_default(depth, image_server):
    """127.0.0.1 is not a public address: refused, one sentence."""
    msg = assert_error(estimate(depth, json_body={"image_url": image_server + "/sample.jpg"}),
                       400)
    assert msg == "Failed to fetch image URL: cannot fetch the image URL"


def test_remote_allowed_network(stack, image_server):
    cfg = depth_config(stack, "depth-remote.yaml",
                       replace=[("  allow_image_url: true\n",
                                 "  allow_image_url: true\n  remote_allowed_networks: "
                                 "[127.0.0.1/32]\n  fetch_timeout_ms: 5000\n")])
    svc = start_depth(stack, cfg)
    try:
        r = estimate(svc, json_body={"image_url": image_server + "/sample.jpg",
                                     "output_format": "numpy"})
        assert r.status_code == 200, r.text
        assert npz_depth(r.json()["depth_map"]).shape == (480, 640)
        msg = assert_error(estimate(svc, json_body={"image_url": image_server + "/nope.jpg"}),
                           400)
        assert msg == "Failed to fetch image URL: cannot fetch the image URL"
    finally:
        svc.stop()


def test_urls_disabled(stack):
    cfg = depth_config(stack, "depth-nourl.yaml",
                       replace=[("  allow_local_paths: true\n", "  allow_local_paths: false\n"),
                                ("  allow_image_url: true\n", "  allow_image_url: false\n")])
    svc = start_depth(stack, cfg)
    try:
        msg = assert_error(estimate(svc, json_body={"image_url": "http://example.com/a.jpg"}),
                           400)
        assert msg.startswith("Missing 'image' or 'image_url' field")
        # "image" still works
        assert estimate(svc, json_body={"image": b64(SAMPLE)}).status_code == 200
    finally:
        svc.stop()
    cfg = depth_config(stack, "depth-nolocal.yaml",
                       replace=[("  allow_local_paths: true\n", "  allow_local_paths: false\n")])
    svc = start_depth(stack, cfg)
    try:
        msg = assert_error(estimate(svc, json_body={
            "image_url": "file://" + stack.images + "/red.png"}), 400)
        assert "input.allow_local_paths is false" in msg
    finally:
        svc.stop()


def test_transform_metres(depth, stack):
    """transform "metres": hailo-apps' 1 / (sigmoid(x) * 10 + 0.009) of the
    model's output (at the model's size: a 320x256 image needs no resize)."""
    from PIL import Image
    import io
    rng = np.random.default_rng(3)
    img = rng.integers(0, 255, (256, 320, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    data = buf.getvalue()
    raw = npz_depth(estimate(depth, json_body={"image": b64(data), "normalize": False,
                                               "output_format": "numpy"}).json()["depth_map"])
    r = estimate(depth, json_body={"image": b64(data), "normalize": False,
                                   "output_format": "numpy", "transform": "metres"})
    assert r.status_code == 200
    metres = npz_depth(r.json()["depth_map"])
    want = 1.0 / (1.0 / (1.0 + np.exp(-raw.astype(np.float64))) * 10 + 0.009)
    assert np.allclose(metres, want, rtol=1e-5, atol=0)
    assert 0.09 < metres.min() and metres.max() < 111.2
    # The same through multipart, and "none" is the original's raw output.
    r2 = estimate(depth, data, fields={"normalize": "false", "output_format": "numpy",
                                       "transform": "metres"})
    assert r2.json()["depth_map"] == r.json()["depth_map"]
    r3 = estimate(depth, json_body={"image": b64(data), "normalize": False,
                                    "output_format": "numpy", "transform": "none"})
    assert (npz_depth(r3.json()["depth_map"]) == raw).all()
    assert_error(estimate(depth, json_body={"image": b64(data), "transform": "feet"}), 400,
                 "transform")


def test_transform_config(stack):
    cfg = depth_config(stack, "depth-metres.yaml", append="\n")
    with open(cfg) as f:
        text = f.read().replace("  depth_png_16: false\n",
                                "  depth_png_16: false\n  transform: metres\n")
    with open(cfg, "w") as f:
        f.write(text)
    svc = start_depth(stack, cfg)
    try:
        r = estimate(svc, json_body={"image": b64(SAMPLE), "normalize": False,
                                     "output_format": "numpy"})
        assert r.status_code == 200
        assert npz_depth(r.json()["depth_map"]).min() > 0  # metres, not (negative) logits
    finally:
        svc.stop()


def test_size_limits(stack):
    """input.max_image_mb is the body limit (aiohttp's client_max_size in the
    original): a body over it is 413 before it is read."""
    cfg = depth_config(stack, "depth-small.yaml",
                       replace=[("  max_image_mb: 50\n", "  max_image_mb: 0.02\n")])
    svc = start_depth(stack, cfg)  # 20971 bytes
    try:
        data = os.urandom(16000)
        # within the limit as multipart: only "not an image"
        assert_error(estimate(svc, data), 400, "image")
        # as base64 in JSON (21.3 KB) over it
        assert_error(estimate(svc, json_body={"image": b64(data)}), 413)
        assert_error(estimate(svc, os.urandom(30000)), 413)
        assert estimate(svc, SAMPLE).status_code == 200
    finally:
        svc.stop()


def test_image_over_limit_sentence(stack):
    """"Image exceeds 1MB limit": an image above the limit in a body that fits
    cannot happen with multipart (the body holds it), so it is the fetched
    image_url that meets it."""
    cfg = depth_config(stack, "depth-1mb.yaml",
                       replace=[("  max_image_mb: 50\n", "  max_image_mb: 1\n")])
    with open(os.path.join(stack.images, "big.bin"), "wb") as f:
        f.write(os.urandom((1 << 20) + 1))
    svc = start_depth(stack, cfg)
    try:
        msg = assert_error(estimate(svc, json_body={
            "image_url": "file://" + stack.images + "/big.bin"}), 400)
        assert msg == "Image exceeds 1MB limit"
    finally:
        svc.stop()


def test_config_defaults_apply(stack):
    cfg = depth_config(stack, "depth-defaults.yaml",
                       replace=[("  format: both\n", "  format: depth_png_16\n"),
                                ("  normalize: true\n", "  normalize: false\n"),
                                ("  include_stats: true\n", "  include_stats: false\n")])
    svc = start_depth(stack, cfg)
    try:
        r = estimate(svc, SAMPLE)
        assert r.status_code == 200
        body = r.json()
        assert list(body) == ["model", "model_type", "input_shape", "depth_shape",
                              "inference_time_ms", "normalized", "depth_png_16"]
        assert body["normalized"] is False
    finally:
        svc.stop()
