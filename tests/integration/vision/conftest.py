"""Fixtures of the hailo-vision black-box tests.

Each test file gets its own simulated stack: sim assets in a temporary
directory (tools/make-sim-assets --fast), a hailo-device-manager on a
temporary socket with the sim backend, and hailo-vision on a free port.  The
VLM's sidecar is rewritten so tokens come at a small fixed pace (TOKEN_MS),
fast for the suite yet slow enough that a stream really is a stream; a
second, slow copy of the model serves the hang-up test.
"""

import base64
import json
import os
import shutil
import signal
import sys
import tempfile

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402  (tests/integration/hdmtest.py)

BUILD = os.environ.get("HDM_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../../build"))
SOURCE = os.environ.get("HDM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../../.."))
BIN = os.path.join(BUILD, "bin")
MODEL = "qwen2-vl-2b-instruct"
TOKEN_MS = 2         # fast model: per generated token
SLOW_TOKEN_MS = 300  # slow model (hang-up test): a ~80-token answer takes ~25 s


free_port = hdmtest.free_tcp_port
manager_call = hdmtest.manager_call
wait_until = hdmtest.wait_until
png_bytes = hdmtest.png_bytes


def data_uri(png):
    return "data:image/png;base64," + base64.b64encode(png).decode()


class Manager(hdmtest.Manager):
    """hdmtest's manager (sim backend, temporary socket, optional
    $HDM_MANAGER_WRAPPER) working in the stack's directory, whose models/
    make-sim-assets filled; plus the few calls these tests need."""

    def __init__(self, root):
        super().__init__(workdir=root, socket_path=os.path.join(root, "run", "device.sock"))
        self.sock = self.socket
        self.log_file = self.log_path

    def start(self, sim_extra=""):
        """Starts (again); sim_extra is appended to the sim config (faults)."""
        with open(self.sim_config_path, "w") as f:
            f.write(hdmtest.SIM_ZERO_LATENCY + sim_extra)
        self.proc = None
        super().start(timeout=60 if hdmtest.manager_wrapped() else 20)
        return self

    def status(self):
        return manager_call(self.sock, {"action": "status"})

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=20)


class Vision:
    def __init__(self, root, config, env, name="vision"):
        self.root = root
        self.config = config
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.log = os.path.join(root, f"{name}.log")

    def start(self, wait_ready=True):
        self.proc = hdmtest.start_service_process("hailo-vision", self.config, self.port,
                                                  self.env, self.log)
        try:
            hdmtest.wait_for_health(self.url + "/health", (200,), "hailo-vision to answer /health")
            if wait_ready:
                self.wait_ready()
        except BaseException:
            self.proc.kill()  # never leave a service behind
            self.proc.wait()
            self.proc = None
            raise

    def wait_ready(self, timeout=30):
        try:
            wait_until(lambda: requests.get(self.url + "/health/ready", timeout=2).status_code
                       == 200, timeout, "hailo-vision to be ready")
        except AssertionError as e:
            raise AssertionError(f"{e}\n--- {self.log}:\n{self.log_text()[-2000:]}") from None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        hdmtest.stop_service_process(self.proc, "hailo-vision")
        self.proc = None

    def log_text(self):
        with open(self.log, "r", errors="replace") as f:
            return f.read()


def write_sidecar(hef, token_ms):
    with open(hef + ".sim.json", "w") as f:
        json.dump({"footprint_mb": 2400, "load_ms": 0, "infer_ms": 0, "token_ms": token_ms}, f)


def vision_yaml(stack, hef=None, extra="", max_tokens=200, keep_alive=-1):
    """Writes a hailo-vision config for this stack; returns its path."""
    hef = hef or stack["hef"]
    key = abs(hash((hef, extra, max_tokens, keep_alive)))
    path = os.path.join(stack["root"], f"vision-{key}.yaml")
    with open(path, "w") as f:
        f.write(f"""server:
  host: 127.0.0.1
  port: 11435
  max_body_bytes: 4000000
  threads: 8
manager:
  socket: {json.dumps(stack['manager'].sock)}
model:
  name: {MODEL}
  hef_path: {json.dumps(hef)}
  keep_alive: {keep_alive}
generation:
  temperature: 0.7
  max_tokens: {max_tokens}
  top_p: 0.9
images:
  allowed_dirs:
    - {json.dumps(stack['images'])}
  max_bytes: 1000000
  max_pixels: 4000000
{extra}""")
    return path


@pytest.fixture(scope="module")
def stack():
    """Assets + manager for one test file."""
    root = tempfile.mkdtemp(prefix="hv-test-")
    env = dict(os.environ)
    env.pop("HAILO_DEVICE_SOCKET", None)
    env.pop("HAILO_VISION_TOKEN", None)
    hdmtest.make_sim_assets(root, os.path.join(root, "run", "device.sock"), env,
                            python=sys.executable)
    models = os.path.join(root, "models")
    hef = os.path.join(models, "vlm", "qwen2-vl-2b-instruct.hef")
    slow = os.path.join(models, "vlm", "qwen2-vl-slow.hef")
    shutil.copyfile(hef, slow)
    write_sidecar(hef, TOKEN_MS)
    write_sidecar(slow, SLOW_TOKEN_MS)
    env["HAILO_DEVICE_MODEL_DIRS"] = models
    mgr = Manager(root)
    mgr.start()
    images = os.path.join(root, "images")
    with open(os.path.join(images, "green.png"), "wb") as f:
        f.write(png_bytes(40, 30, (10, 200, 30)))
    st = {"root": root, "env": env, "manager": mgr, "hef": hef, "slow_hef": slow,
          "images": images}
    st["config"] = vision_yaml(st)
    yield st
    mgr.stop()
    if mgr._log:
        mgr._log.close()
        mgr._log = None
    hdmtest.finish_stack_dir(root)


@pytest.fixture(scope="module")
def vision(stack):
    """hailo-vision on the stack's manager, ready."""
    v = Vision(stack["root"], stack["config"], stack["env"])
    v.start()
    yield v
    alive = v.alive()
    v.stop()
    assert alive, "hailo-vision died during the tests:\n" + v.log_text()[-3000:]


def chat(vision, body, **kw):
    return requests.post(vision.url + "/v1/chat/completions", json=body, timeout=60, **kw)


def sse_events(resp):
    """Parses a text/event-stream response as a client does: the data lines."""
    events = []
    for line in resp.iter_lines(decode_unicode=True):
        if line is None or line == "":
            continue
        assert line.startswith("data: "), f"unexpected SSE line {line!r}"
        data = line[6:]
        if data == "[DONE]":
            events.append("[DONE]")
            break
        events.append(json.loads(data))
    return events


def assert_openai_error(resp, status, etype="invalid_request_error", param=None, code=None,
                        contains=None):
    assert resp.status_code == status, f"{resp.status_code}: {resp.text}"
    assert resp.headers["Content-Type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert {"message", "type", "param", "code"} <= set(err), err
    assert isinstance(err["message"], str) and err["message"]
    assert err["type"] == etype, err
    if param is not None:
        assert err["param"] == param, err
    if code is not None:
        assert err["code"] == code, err
    if contains is not None:
        assert contains in err["message"], err
    return err
