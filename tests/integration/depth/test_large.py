"""Large inputs and the memory budget: a 4000x3000 photo gives a 4000x3000
map (alone: it is larger than the whole budget); concurrent requests with a
tiny budget all succeed, one after the other, with the same answers; the
service's memory goes back after a burst."""

import concurrent.futures
import io
import subprocess

import numpy as np
from PIL import Image

import hdmtest
from conftest import depth_config, estimate, gradient_jpeg, npz_depth, png, start_depth

SAMPLE = gradient_jpeg()


def photo(w, h):
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([(x * 255 // w), (y * 255 // h), ((x + y) * 127 // (w + h)) + 64], -1)
    buf = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def sanitized():
    """True for an ASan build: its allocator keeps freed memory in a
    quarantine, so RSS says nothing about what the service gave back."""
    out = subprocess.run(["ldd", hdmtest.binary("hailo-depth")], capture_output=True,
                         text=True).stdout
    return "libasan" in out


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_4000x3000(depth):
    data = photo(4000, 3000)
    r = estimate(depth, data, fields={"output_format": "both"}, timeout=300)
    assert r.status_code == 200, r.text[:300]
    body = r.json()
    assert body["input_shape"] == [3000, 4000, 3]
    assert body["depth_shape"] == [3000, 4000]
    arr = npz_depth(body["depth_map"])
    assert arr.shape == (3000, 4000) and arr.dtype == np.float32
    assert arr.min() == 0.0 and arr.max() == 1.0
    assert png(body["depth_image"]).size == (4000, 3000)
    # Its memory went back once the answer was sent: the reply and the map
    # are far larger than what the idle service holds.
    if not sanitized():
        hdmtest.wait_until(lambda: rss_kb(depth.proc.pid) < 64 * 1024, 30,
                           "hailo-depth's RSS to fall after the large request")


def test_tiny_budget_serialises(stack):
    cfg = depth_config(stack, "depth-budget.yaml",
                       append="performance:\n  memory_budget_mb: 1\n")
    svc = start_depth(stack, cfg)
    try:
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            results = list(pool.map(
                lambda i: estimate(svc, SAMPLE, fields={"output_format": "both"}), range(6)))
        assert all(r.status_code == 200 for r in results), [r.text[:200] for r in results]
        assert len({r.json()["depth_map"] for r in results}) == 1
        assert len({r.json()["depth_image"] for r in results}) == 1
    finally:
        svc.stop()
