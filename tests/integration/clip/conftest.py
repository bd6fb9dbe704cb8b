"""Fixtures of the hailo-clip black-box tests.

Each test file gets its own simulated stack: sim assets in a temporary
directory (tools/make-sim-assets --fast), a hailo-device-manager on a
temporary socket with the sim backend, and hailo-clip on a free port,
pointed at the manager through HAILO_DEVICE_SOCKET.
"""

import base64
import math
import os
import struct
import sys
import tempfile
import zlib

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402  (tests/integration/hdmtest.py)

BUILD = os.environ.get("HDM_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../../build"))
SOURCE = os.environ.get("HDM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../../.."))
BIN = os.path.join(BUILD, "bin")
DIM = 512


free_port = hdmtest.free_tcp_port
manager_call = hdmtest.manager_call
wait_until = hdmtest.wait_until


def png_bytes(w, h, pixel):
    """A valid RGB PNG; pixel(x, y) -> (r, g, b).  Stdlib only."""
    raw = bytearray()
    for y in range(h):
        raw.append(0)
        for x in range(w):
            raw.extend(pixel(x, y))

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""))


def b64(data):
    return base64.b64encode(data).decode()


def norm(v):
    return math.sqrt(sum(x * x for x in v))


def dot(a, b):
    return sum(x * y for x, y in zip(a, b))


class Manager(hdmtest.Manager):
    """The shared hdmtest manager (sim backend, zero latency, sanitizer
    check at cleanup) working in the stack's directory, so its allowed
    model directory is the one make-sim-assets filled."""

    def __init__(self, root):
        super().__init__(workdir=root)

    @property
    def sock(self):
        return self.socket

    def start(self):
        return super().start(wait=True, timeout=20.0)


class Clip:
    def __init__(self, stack, config=None, name="clip"):
        self.root = stack["root"]
        self.config = config or stack["config"]
        self.env = stack["env"]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.log = os.path.join(self.root, f"{name}.log")

    def start(self, wait_ready=True, extra_args=()):
        self.proc = hdmtest.start_service_process("hailo-clip", self.config, self.port, self.env,
                                                  self.log, extra_args)
        # /health answers as soon as the server is up: 200 ready, 503 starting.
        hdmtest.wait_for_health(self.url + "/health", (200, 503), "hailo-clip to answer /health")
        if wait_ready:
            self.wait_ready()

    def health(self):
        return requests.get(self.url + "/health", timeout=5)

    def wait_ready(self, timeout=30):
        wait_until(lambda: self.health().status_code == 200, timeout, "hailo-clip to be ready")

    def post(self, path, body=None, **kw):
        kw.setdefault("timeout", 30)
        if body is not None and not isinstance(body, (bytes, str)):
            return requests.post(self.url + path, json=body, **kw)
        return requests.post(self.url + path, data=body, **kw)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        hdmtest.stop_service_process(self.proc, "hailo-clip")
        self.proc = None

    def log_text(self):
        with open(self.log, "r", errors="replace") as f:
            return f.read()


def make_stack(start_manager=True):
    root = tempfile.mkdtemp(prefix="hclip-")
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("HAILO_") or k in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID"):
            del env[k]
    sock = os.path.join(root, "run", "device.sock")
    hdmtest.make_sim_assets(root, sock, env, python=sys.executable)
    env["HAILO_DEVICE_SOCKET"] = sock
    env["HAILO_DEVICE_MODEL_DIRS"] = os.path.join(root, "models")
    mgr = Manager(root)
    if start_manager:
        mgr.start()
    images = os.path.join(root, "images")
    st = {"root": root, "env": env, "manager": mgr, "images": images,
          "config": os.path.join(root, "hailo-clip.yaml")}
    for name in ("red", "blue", "gradient"):
        with open(os.path.join(images, name + ".png"), "rb") as f:
            st[name] = f.read()
    return st


SANITIZER_MARKERS = hdmtest.Manager.SANITIZER_MARKERS


def cleanup(st):
    """Stops the manager, removes the stack's directory (kept with
    HDM_KEEP_TEST_DIRS=1 for its logs) and fails on a sanitizer report in
    any log of the stack."""
    st["manager"].stop()
    hdmtest.finish_stack_dir(st["root"])


@pytest.fixture(scope="module")
def stack():
    """Assets + a running manager for one test file."""
    st = make_stack()
    yield st
    cleanup(st)


@pytest.fixture(scope="module")
def clip(stack):
    """hailo-clip on the stack's manager, ready."""
    c = Clip(stack)
    c.start()
    yield c
    alive = c.alive()
    c.stop()
    assert alive, "hailo-clip died during the tests:\n" + c.log_text()[-3000:]


def assert_error(resp, status, contains=None):
    """A JSON {"error": "..."} answer with this status (and words)."""
    assert resp.status_code == status, f"{resp.status_code}: {resp.text}"
    assert resp.headers["Content-Type"].startswith("application/json"), resp.headers
    body = resp.json()
    assert isinstance(body.get("error"), str) and body["error"], body
    if contains is not None:
        assert contains in body["error"], body
    return body["error"]
