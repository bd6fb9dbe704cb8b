"""Fixtures of the hailo-clip black-box tests.

Each test file gets its own simulated stack: sim assets in a temporary
directory (tools/make-sim-assets --fast), a hailo-device-manager on a
temporary socket with the sim backend, and hailo-clip on a free port,
pointed at the manager through HAILO_DEVICE_SOCKET.
"""

import base64
import json
import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402  (tests/integration/hdmtest.py)

BUILD = os.environ.get("HDM_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../../build"))
SOURCE = os.environ.get("HDM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../../.."))
BIN = os.path.join(BUILD, "bin")
DIM = 512


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manager_call(sock_path, obj, timeout=5.0):
    """One v1 request on the manager socket; returns the answer object."""
    data = json.dumps(obj).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(struct.pack(">I", len(data)) + data)
        buf = b""
        while len(buf) < 4:
            chunk = s.recv(4 - len(buf))
            if not chunk:
                raise ConnectionError("manager closed the connection")
            buf += chunk
        n = struct.unpack(">I", buf)[0]
        body = b""
        while len(body) < n:
            chunk = s.recv(n - len(body))
            if not chunk:
                raise ConnectionError("manager closed the connection")
            body += chunk
    return json.loads(body)


def wait_until(pred, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
            if last:
                return last
        except (OSError, ValueError, requests.RequestException) as e:
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


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
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(BIN, "hailo-clip"), "--config", self.config,
             "--host", "127.0.0.1", "--port", str(self.port), *extra_args],
            env=self.env, stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        # /health answers as soon as the server is up: 200 ready, 503 starting.
        wait_until(lambda: requests.get(self.url + "/health", timeout=2).status_code in (200, 503),
                   20, "hailo-clip to answer /health")
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
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("hailo-clip did not stop on SIGTERM")
            assert rc == 0, f"hailo-clip exited {rc}"
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
    subprocess.run([sys.executable, os.path.join(SOURCE, "tools", "make-sim-assets"), root,
                    "--fast", "--socket", sock], check=True, env=env, stdout=subprocess.DEVNULL)
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
    reports = []
    for name in sorted(os.listdir(st["root"])):
        if name.endswith(".log"):
            with open(os.path.join(st["root"], name), errors="replace") as f:
                text = f.read()
            if any(m in text for m in SANITIZER_MARKERS):
                reports.append(f"{name}:\n{text[-4000:]}")
    if os.environ.get("HDM_KEEP_TEST_DIRS"):
        print(f"kept {st['root']}")
    else:
        shutil.rmtree(st["root"], ignore_errors=True)
    assert not reports, "sanitizer reports:\n" + "\n".join(reports)


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
