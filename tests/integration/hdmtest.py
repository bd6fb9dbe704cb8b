"""
hdmtest - shared helpers for the black-box tests: start a real
hailo-device-manager on a temporary socket with the sim backend (zero
latency unless a model's sidecar says otherwise), talk to it with raw
frames (v1 JSON and binary), make model files with sim sidecars in a
temporary allowed directory, and always clean up.

Other components may ADD functions here; never change existing ones.
"""

import array
import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

SOURCE_DIR = os.environ.get(
    "HDM_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD_DIR = os.environ.get("HDM_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
BIN_DIR = os.path.join(BUILD_DIR, "bin")
MANAGER_BIN = os.path.join(BIN_DIR, "hailo-device-manager")

BINARY_FLAG = 0x80000000

# Every model type loads and infers instantly unless its sidecar sets latencies.
SIM_ZERO_LATENCY = """\
latency_scale: 1.0
models:
  clip: {footprint_mb: 300, load_ms: 0, infer_ms: 0, token_ms: 0}
  vlm_chat: {footprint_mb: 2800, load_ms: 0, infer_ms: 0, token_ms: 0}
  whisper: {footprint_mb: 900, load_ms: 0, infer_ms: 0, token_ms: 0}
  ocr: {footprint_mb: 150, load_ms: 0, infer_ms: 0, token_ms: 0}
  depth: {footprint_mb: 120, load_ms: 0, infer_ms: 0, token_ms: 0}
  pose: {footprint_mb: 80, load_ms: 0, infer_ms: 0, token_ms: 0}
  llm: {footprint_mb: 1850, load_ms: 0, infer_ms: 0, token_ms: 0}
"""


def binary(name):
    """Path of a program in the build's bin directory."""
    return os.path.join(BIN_DIR, name)


def free_tcp_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- framing -----------------------------------------------------------------

def encode_json(obj):
    return obj if isinstance(obj, (bytes, bytearray)) else json.dumps(obj).encode("utf-8")


def frame_v1(obj):
    """A v1 frame: u32 BE length + JSON (obj may already be bytes)."""
    body = encode_json(obj)
    return struct.pack(">I", len(body)) + body


def frame_binary(obj, attachments=()):
    """A binary frame: u32 BE 0x80000000|J, JSON, u32 BE K, K x (u64 BE len, bytes)."""
    body = encode_json(obj)
    out = [struct.pack(">I", BINARY_FLAG | len(body)), body, struct.pack(">I", len(attachments))]
    for a in attachments:
        out.append(struct.pack(">Q", len(a)))
        out.append(bytes(a))
    return b"".join(out)


# ---- tensors -------------------------------------------------------------------

_DTYPE_CODES = {"uint8": "B", "int8": "b", "uint16": "H", "int16": "h", "int32": "i",
                "float32": "f"}
_DTYPE_SIZES = {"uint8": 1, "int8": 1, "uint16": 2, "int16": 2, "int32": 4, "float16": 2,
                "float32": 4}


def prod(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def tensor_bytes(dtype, shape, fill=None):
    """Raw little-endian bytes of a tensor: a repeating pattern, or `fill` values."""
    n = prod(shape)
    if dtype == "float16":
        return bytes(2 * n)
    if fill is None:
        if dtype == "float32":
            values = [((i % 17) - 8) / 8.0 for i in range(n)]
        else:
            values = [i % 100 for i in range(n)]
    else:
        values = list(fill)
    return array.array(_DTYPE_CODES[dtype], values).tobytes()


def tensor(dtype, shape, data=None):
    """A v1 tensor object {dtype, shape, data_b64}."""
    raw = tensor_bytes(dtype, shape) if data is None else bytes(data)
    return {"dtype": dtype, "shape": list(shape), "data_b64": base64.b64encode(raw).decode()}


def tensor_ref(dtype, shape, index):
    """A binary-frame tensor object referencing attachment `index`."""
    return {"dtype": dtype, "shape": list(shape), "attachment": index}


def decode_tensor(obj, attachments=None):
    """(dtype, shape, raw bytes) of a tensor object from an answer."""
    if "data_b64" in obj:
        raw = base64.b64decode(obj["data_b64"])
    else:
        raw = attachments[obj["attachment"]]
    return obj["dtype"], list(obj["shape"]), raw


def floats(raw):
    a = array.array("f")
    a.frombytes(raw)
    return a


# ---- client ----------------------------------------------------------------------

class ConnectionClosed(Exception):
    pass


class Client:
    """A raw framing client.  recv() returns the answer dict; for binary
    frames the attachments are in .last_attachments."""

    def __init__(self, path, timeout=10.0):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.last_attachments = []
        self.last_binary = False

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, obj, binary=False, attachments=()):
        self.send_raw(frame_binary(obj, attachments) if binary else frame_v1(obj))

    def _read_exact(self, n):
        chunks = []
        while n > 0:
            c = self.sock.recv(min(n, 1 << 20))
            if not c:
                raise ConnectionClosed("connection closed by the manager")
            chunks.append(c)
            n -= len(c)
        return b"".join(chunks)

    def recv_frame(self, timeout=None):
        """(json bytes, attachments, binary) of the next frame."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        (word,) = struct.unpack(">I", self._read_exact(4))
        if word & BINARY_FLAG:
            body = self._read_exact(word & ~BINARY_FLAG)
            (k,) = struct.unpack(">I", self._read_exact(4))
            atts = []
            for _ in range(k):
                (n,) = struct.unpack(">Q", self._read_exact(8))
                atts.append(self._read_exact(n))
            return body, atts, True
        return self._read_exact(word), [], False

    def recv(self, timeout=None):
        body, atts, is_binary = self.recv_frame(timeout)
        self.last_attachments = atts
        self.last_binary = is_binary
        return json.loads(body.decode("utf-8"))

    def request(self, obj, binary=False, attachments=(), timeout=None):
        self.send(obj, binary, attachments)
        return self.recv(timeout)

    def is_closed(self, timeout=2.0):
        """True when the manager closed the connection (EOF) within timeout."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def wait_for_socket_answer(path, timeout=10.0):
    """Pings the socket until the manager answers; returns the answer."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with Client(path, timeout=2.0) as c:
                return c.request({"action": "ping", "request_id": "hdmtest-ready"})
        except (OSError, ConnectionClosed, ValueError) as e:
            last = e
            time.sleep(0.01)
    raise TimeoutError("manager on %s did not answer a ping: %s" % (path, last))


# ---- manager process ------------------------------------------------------------

class Manager:
    """A hailo-device-manager on a temporary socket with the sim backend.

    Manager(args=[...], env={...}, sim_config=text, http=True) then
    start(); models go in .models_dir (the only allowed directory);
    stop() sends SIGTERM and returns the exit code.  Use as a context
    manager to always clean up."""

    def __init__(self, args=(), env=None, sim_config=SIM_ZERO_LATENCY, http=False,
                 socket_path=None, workdir=None):
        self.workdir = workdir or tempfile.mkdtemp(prefix="hdm-", dir="/tmp")
        self.models_dir = os.path.join(self.workdir, "models")
        os.makedirs(self.models_dir, exist_ok=True)
        self.socket = socket_path or os.path.join(self.workdir, "run", "device.sock")
        self.sim_config_path = os.path.join(self.workdir, "sim.yaml")
        with open(self.sim_config_path, "w") as f:
            f.write(sim_config)
        self.http_port = free_tcp_port() if http else None
        self.args = list(args)
        self.env = dict(env or {})
        self.proc = None
        self.log_path = os.path.join(self.workdir, "manager.log")
        self._log = None

    def command(self):
        cmd = [MANAGER_BIN, "--socket", self.socket, "--backend", "sim",
               "--sim-config", self.sim_config_path,
               "--http-bind", "127.0.0.1:%d" % self.http_port if self.http_port else "off"]
        return manager_command_prefix() + cmd + self.args

    def environment(self):
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("HAILO_DEVICE_") or k in ("LISTEN_FDS", "LISTEN_PID", "NOTIFY_SOCKET",
                                                     "WATCHDOG_USEC", "WATCHDOG_PID"):
                del env[k]
        env["HAILO_DEVICE_MODEL_DIRS"] = self.models_dir
        env.update(self.env)
        return env

    def start(self, wait=True, timeout=10.0):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), env=self.environment(),
                                     stdout=self._log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("manager exited with %s:\n%s" % (self.proc.returncode,
                                                                     self.log()))
            try:
                return wait_for_socket_answer(self.socket, timeout=0.2)
            except TimeoutError:
                pass
        raise TimeoutError("manager not ready:\n" + self.log())

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def client(self, timeout=10.0):
        return Client(self.socket, timeout)

    def request(self, obj, **kw):
        """One request on a fresh connection."""
        with self.client() as c:
            return c.request(obj, **kw)

    def http_get(self, path, timeout=5.0):
        """(status, body bytes) of GET http://127.0.0.1:port/path."""
        import http.client
        deadline = time.monotonic() + timeout
        while True:  # the endpoint comes up on its own thread just after READY
            conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)
            try:
                conn.request("GET", path)
                r = conn.getresponse()
                return r.status, r.read()
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
            finally:
                conn.close()

    def make_model(self, name, footprint_mb=None, load_ms=None, infer_ms=None, token_ms=None,
                   sidecar=True, content=b"HEF simulated model\n", **extra):
        """Creates models_dir/name (and its .sim.json sidecar); returns the path."""
        path = os.path.join(self.models_dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content)
        side = {k: v for k, v in (("footprint_mb", footprint_mb), ("load_ms", load_ms),
                                  ("infer_ms", infer_ms), ("token_ms", token_ms)) if v is not None}
        side.update(extra)
        if sidecar and side:
            with open(path + ".sim.json", "w") as f:
                json.dump(side, f)
        return path

    def make_clip(self, name="clip", **sidecar):
        """A CLIP model: (model_path, model_params) with both HEFs in models_dir."""
        model_path = self.make_model(name + ".hef", **sidecar)
        image = self.make_model(name + "-image.hef")
        text = self.make_model(name + "-text.hef")
        params = {"image_hef_path": image, "text_hef_path": text,
                  "text_input_layer": "clip_text/input_layer1",
                  "text_output_layer": "clip_text/normalization25"}
        return model_path, params

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        """Signals the manager and returns its exit code (kills it after timeout)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        return self.proc.returncode

    SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                         "ThreadSanitizer:")

    def sanitizer_report(self):
        """The sanitizer findings in the manager's log ('' when none)."""
        text = self.log()
        return text if any(m in text for m in self.SANITIZER_MARKERS) else ""

    def cleanup(self):
        """Kills a still-running manager, removes the work directory, and
        fails when the manager's log holds a sanitizer report."""
        report = ""
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        finally:
            if self._log:
                self._log.close()
                self._log = None
            report = self.sanitizer_report()
            shutil.rmtree(self.workdir, ignore_errors=True)
        if report:
            raise AssertionError("sanitizer report from hailo-device-manager:\n" + report)

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        """Stops the manager with SIGTERM (so leaks at exit are reported),
        checks it exited 0 when the block succeeded, and cleans up."""
        try:
            rc = self.stop() if self.proc is not None and self.proc.poll() is None else None
            if exc_type is None and rc not in (None, 0):
                raise AssertionError("manager exited %s:\n%s" % (rc, self.log()))
        finally:
            self.cleanup()


# ---- additions for the sturdiness tests (issue 8) --------------------------------

def manager_command_prefix():
    """Words put before the manager's command: $HDM_MANAGER_WRAPPER split
    like a shell would (e.g. "valgrind --leak-check=full ..." for
    `make valgrind`); empty when unset."""
    import shlex
    return shlex.split(os.environ.get("HDM_MANAGER_WRAPPER", ""))


def manager_wrapped():
    """True when the manager runs under a wrapper (slower: wait longer)."""
    return bool(manager_command_prefix())


class SimStack:
    """tools/make-sim-assets DIR --fast, plus a Manager working in DIR (its
    allowed model directory is DIR/models), for tests that also run the
    services.  .env is the environment the services get (socket and model
    directories set, other HAILO_ variables removed)."""

    def __init__(self, prefix="hdm-stack-", manager_args=(), sim_config=SIM_ZERO_LATENCY):
        self.root = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        self.socket = os.path.join(self.root, "run", "device.sock")
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("HAILO_") or k in ("NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID"):
                del env[k]
        subprocess.run(["/usr/bin/python3", os.path.join(SOURCE_DIR, "tools", "make-sim-assets"),
                        self.root, "--fast", "--socket", self.socket],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        env["HAILO_DEVICE_SOCKET"] = self.socket
        env["HAILO_DEVICE_MODEL_DIRS"] = os.path.join(self.root, "models")
        self.env = env
        self.models = os.path.join(self.root, "models")
        self.images = os.path.join(self.root, "images")
        self.clip_config = os.path.join(self.root, "hailo-clip.yaml")
        self.vision_config = os.path.join(self.root, "hailo-vision.yaml")
        self.vlm_hef = os.path.join(self.models, "vlm", "qwen2-vl-2b-instruct.hef")
        self.manager = Manager(args=manager_args, sim_config=sim_config, workdir=self.root,
                               socket_path=self.socket)

    def start_manager(self, timeout=20.0):
        self.manager.proc = None
        self.manager.start(timeout=timeout)
        return self.manager

    def kill_manager(self, sig=signal.SIGKILL):
        p = self.manager.proc
        if p is not None and p.poll() is None:
            p.send_signal(sig)
            p.wait(20)

    def cleanup(self, services=()):
        """Stops services and the manager; fails on sanitizer reports in any
        log; removes the directory unless HDM_KEEP_TEST_DIRS is set."""
        for s in services:
            s.stop(check=False)
        try:
            self.manager.stop()
        except subprocess.TimeoutExpired:
            pass
        reports = []
        for name in sorted(os.listdir(self.root)):
            if name.endswith(".log"):
                with open(os.path.join(self.root, name), errors="replace") as f:
                    text = f.read()
                if any(m in text for m in Manager.SANITIZER_MARKERS):
                    reports.append("%s:\n%s" % (name, text[-4000:]))
        if self.manager._log:
            self.manager._log.close()
            self.manager._log = None
        if not os.environ.get("HDM_KEEP_TEST_DIRS"):
            shutil.rmtree(self.root, ignore_errors=True)
        if reports:
            raise AssertionError("sanitizer reports:\n" + "\n".join(reports))


class Service:
    """hailo-clip or hailo-vision of a SimStack on a free port."""

    def __init__(self, stack, name, config=None, extra_args=()):
        self.stack = stack
        self.name = name
        self.config = config or (stack.clip_config if name == "hailo-clip"
                                 else stack.vision_config)
        self.port = free_tcp_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.extra_args = list(extra_args)
        self.proc = None
        self.log_path = os.path.join(stack.root, "%s-%d.log" % (name, self.port))
        self.ready_path = "/health" if name == "hailo-clip" else "/health/ready"

    def start(self, wait_ready=True, timeout=30.0):
        import requests
        with open(self.log_path, "ab") as logf:
            self.proc = subprocess.Popen(
                [binary(self.name), "--config", self.config, "--host", "127.0.0.1",
                 "--port", str(self.port)] + self.extra_args,
                env=self.stack.env, stdout=logf, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited %s:\n%s" % (self.name, self.proc.returncode,
                                                           self.log()[-3000:]))
            try:
                r = requests.get(self.url + self.ready_path, timeout=2)
                if r.status_code == 200 or (not wait_ready and r.status_code == 503):
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise TimeoutError("%s not ready:\n%s" % (self.name, self.log()[-3000:]))

    def ready(self):
        import requests
        try:
            return requests.get(self.url + self.ready_path, timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def post(self, path, body=None, data=None, headers=None, timeout=30):
        import requests
        if data is not None:
            return requests.post(self.url + path, data=data, headers=headers, timeout=timeout)
        return requests.post(self.url + path, json=body, headers=headers, timeout=timeout)

    def get(self, path, timeout=10):
        import requests
        return requests.get(self.url + path, timeout=timeout)

    def stop(self, check=True):
        """SIGTERM; with check, asserts a clean exit 0."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = "timeout"
        if check:
            assert rc == 0, "%s exited %s:\n%s" % (self.name, rc, self.log()[-3000:])
        return rc


def png_bytes(w, h, rgb=(10, 200, 30)):
    """A small valid RGB PNG of one colour (stdlib only)."""
    import zlib
    raw = b"".join(b"\0" + bytes(rgb) * w for _ in range(h))

    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def png_header_only(w, h):
    """A PNG whose IHDR claims w x h but whose data is one tiny IDAT: a
    decompression bomb as far as the header goes."""
    import zlib
    def chunk(tag, data):
        c = struct.pack(">I", len(data)) + tag + data
        return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


# ---- service stacks (the clip and vision conftests) ------------------------

def wait_until(pred, timeout, what, interval=0.05):
    """Polls pred() until it returns something true (returned); connection
    and parse errors count as "not yet".  AssertionError on timeout."""
    import requests
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


def manager_call(sock_path, obj, timeout=5.0):
    """One v1 request on the manager socket; returns the answer object."""
    data = json.dumps(obj).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(sock_path)
        s.sendall(struct.pack(">I", len(data)) + data)
        head = b""
        while len(head) < 4:
            chunk = s.recv(4 - len(head))
            if not chunk:
                raise ConnectionError("manager closed the connection")
            head += chunk
        n = struct.unpack(">I", head)[0]
        body = b""
        while len(body) < n:
            chunk = s.recv(n - len(body))
            if not chunk:
                raise ConnectionError("manager closed the connection")
            body += chunk
    return json.loads(body)


def make_sim_assets(root, socket_path, env, python="/usr/bin/python3"):
    """tools/make-sim-assets ROOT --fast --socket SOCKET_PATH under env."""
    subprocess.run([python, os.path.join(SOURCE_DIR, "tools", "make-sim-assets"), root,
                    "--fast", "--socket", socket_path],
                   check=True, env=env, stdout=subprocess.DEVNULL)


def start_service_process(name, config, port, env, log_path, extra_args=()):
    """Starts hailo-clip / hailo-vision (`name`) on 127.0.0.1:port with its
    output appended to log_path; returns the Popen."""
    with open(log_path, "ab") as logf:
        return subprocess.Popen(
            [binary(name), "--config", config, "--host", "127.0.0.1", "--port", str(port),
             *extra_args],
            env=env, stdout=logf, stderr=subprocess.STDOUT)


def wait_for_health(url, statuses, what, timeout=20):
    """Waits until GET url answers with one of `statuses`."""
    import requests
    wait_until(lambda: requests.get(url, timeout=2).status_code in statuses, timeout, what)


def stop_service_process(proc, name, timeout=20):
    """SIGTERM to a running service; asserts it exits 0 within timeout
    (killed, and an AssertionError, when it does not stop)."""
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"{name} did not stop on SIGTERM")
        assert rc == 0, f"{name} exited {rc}"


def finish_stack_dir(root):
    """Fails on a sanitizer report in any *.log of root and removes root
    (kept, and its path printed, with HDM_KEEP_TEST_DIRS=1)."""
    reports = []
    for name in sorted(os.listdir(root)):
        if name.endswith(".log"):
            with open(os.path.join(root, name), errors="replace") as f:
                text = f.read()
            if any(m in text for m in Manager.SANITIZER_MARKERS):
                reports.append(f"{name}:\n{text[-4000:]}")
    if os.environ.get("HDM_KEEP_TEST_DIRS"):
        print(f"kept {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    assert not reports, "sanitizer reports:\n" + "\n".join(reports)


# ---- the official SDKs (node) -------------------------------------------------

def npm_ci(directory, timeout=300):
    """node and npm, with `npm ci` run in `directory` (its committed
    package.json and lock file) unless its node_modules is installed
    already.  Returns the path of node; fails the test when node or npm is
    missing or the install fails."""
    import pytest
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("node and npm are required for this test (Debian: apt-get install nodejs npm)")
    with open(os.path.join(directory, "package.json")) as f:
        deps = json.load(f).get("dependencies", {})
    if not all(os.path.isdir(os.path.join(directory, "node_modules", d)) for d in deps):
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=directory,
                           timeout=timeout, capture_output=True, text=True)
        assert r.returncode == 0, f"npm ci failed in {directory}:\n{r.stdout}\n{r.stderr}"
    return node
