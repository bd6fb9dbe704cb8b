"""Fixtures of the hailo-whisper black-box tests.

Each test file gets its own simulated stack: sim assets in a temporary
directory (tools/make-sim-assets --fast), a hailo-device-manager on a
temporary socket with the sim backend, and hailo-whisper on a free port.
The audio is the generated test audio of src/audio (tests/data/audio/
make-audio.sh, run by ctest's audio_files fixture into
$HDM_TEST_AUDIO): espeak-ng speech, silence, tones, every container format
and a 10-minute MP3 of phrases.wav over and over.  The sim's Whisper model
answers one segment per voiced stretch, so times can be checked end to end.
"""

import json
import os
import subprocess
import sys

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402  (tests/integration/hdmtest.py)

MODEL = "Whisper-Base"
free_port = hdmtest.free_tcp_port
wait_until = hdmtest.wait_until
manager_call = hdmtest.manager_call


def audio_dir():
    """The generated test audio; made here when ctest's fixture did not run
    (a pytest run by hand), with the same script and the same stamp."""
    d = os.environ.get("HDM_TEST_AUDIO") or os.path.join(hdmtest.BUILD_DIR, "tests", "data",
                                                         "audio")
    if not os.path.exists(os.path.join(d, ".stamp")):
        subprocess.run([os.path.join(hdmtest.SOURCE_DIR, "tests", "data", "audio",
                                     "make-audio.sh"), d], check=True, stdout=subprocess.DEVNULL)
    return d


def audio(name):
    with open(os.path.join(audio_dir(), name), "rb") as f:
        return f.read()


class Whisper:
    """hailo-whisper on a free port of the stack, with its own config."""

    def __init__(self, stack, config, name="whisper"):
        self.stack = stack
        self.config = config
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.log = os.path.join(stack.root, f"{name}-{self.port}.log")

    def start(self, wait_ready=True, timeout=30):
        self.proc = hdmtest.start_service_process("hailo-whisper", self.config, self.port,
                                                  self.stack.env, self.log)
        try:
            hdmtest.wait_for_health(self.url + "/health", (200,), "hailo-whisper to answer")
            if wait_ready:
                self.wait_ready(timeout)
        except BaseException:
            self.proc.kill()  # never leave a service behind
            self.proc.wait()
            self.proc = None
            raise
        return self

    def wait_ready(self, timeout=30):
        try:
            wait_until(lambda: requests.get(self.url + "/health/ready", timeout=2).status_code
                       == 200, timeout, "hailo-whisper to be ready")
        except AssertionError as e:
            raise AssertionError(f"{e}\n--- {self.log}:\n{self.log_text()[-2000:]}") from None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        hdmtest.stop_service_process(self.proc, "hailo-whisper")
        self.proc = None

    def log_text(self):
        try:
            with open(self.log, "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def get(self, path, **kw):
        kw.setdefault("timeout", 30)
        return requests.get(self.url + path, **kw)

    def transcribe(self, data, fields=None, filename="audio.wav", content_type=None,
                   path="/v1/audio/transcriptions", **kw):
        """POST the file with model=Whisper-Base and `fields` (a dict, or a
        list of pairs for repeated names)."""
        kw.setdefault("timeout", 120)
        form = [("model", MODEL)]
        if isinstance(fields, dict):
            form += list(fields.items())
        elif fields:
            form += list(fields)
        files = {"file": (filename, data, content_type) if content_type else (filename, data)}
        return requests.post(self.url + path, data=form, files=files, **kw)


def whisper_yaml(stack, name="whisper", hef=None, extra_transcription="", extra_server="",
                 keep_alive=-1, max_seconds=300):
    """A hailo-whisper config for this stack; returns its path."""
    hef = hef or os.path.join(stack.models, "whisper", "whisper-base.hef")
    path = os.path.join(stack.root, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(f"""server:
  host: 127.0.0.1
  port: 11437
{extra_server}manager:
  socket: {json.dumps(stack.socket)}
model:
  name: {MODEL}
  hef_path: {json.dumps(hef)}
  keep_alive: {keep_alive}
transcription:
  language: null
  temperature: 0.0
  vad_filter: true
  max_audio_duration_seconds: {max_seconds}
{extra_transcription}""")
    return path


def slow_model(stack, name, infer_ms, token_ms=0):
    """A copy of the sim Whisper model whose windows take infer_ms each."""
    src = os.path.join(stack.models, "whisper", "whisper-base.hef")
    path = os.path.join(stack.models, "whisper", name)
    with open(src, "rb") as f, open(path, "wb") as g:
        g.write(f.read())
    with open(path + ".sim.json", "w") as f:
        json.dump({"footprint_mb": 450, "load_ms": 0, "infer_ms": infer_ms,
                   "token_ms": token_ms}, f)
    return path


def model_requests(stack, hef):
    """Inferences the manager ran on model `hef` so far (0 when not resident)."""
    st = manager_call(stack.socket, {"action": "status"})
    for m in st.get("loaded_models", []):
        if m["model_path"] == hef:
            return m["requests"]
    return 0


def assert_error(resp, status, contains=None):
    """An {"error": {"message", "type"}} answer with this status (and words)."""
    assert resp.status_code == status, f"{resp.status_code}: {resp.text[:500]}"
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8", resp.headers
    body = resp.json()
    assert list(body) == ["error"] and list(body["error"]) == ["message", "type"], body
    assert body["error"]["type"] == ("internal_error" if status >= 500
                                     else "invalid_request_error"), body
    if contains is not None:
        assert contains in body["error"]["message"], body
    return body["error"]["message"]


def sse_events(resp):
    """The JSON of each `data:` line of a streamed answer, in order."""
    out = []
    for line in resp.iter_lines(decode_unicode=True):
        if line and line.startswith("data: "):
            out.append(json.loads(line[6:]))
    return out


@pytest.fixture(scope="module")
def stack():
    """Sim assets + a running manager for one test file."""
    st = hdmtest.SimStack(prefix="hwhisper-")
    st.start_manager()
    yield st
    st.cleanup()


@pytest.fixture(scope="module")
def whisper(stack):
    """hailo-whisper on the stack's manager, ready."""
    w = Whisper(stack, whisper_yaml(stack)).start()
    yield w
    alive = w.alive()
    w.stop()
    assert alive, "hailo-whisper died during the tests:\n" + w.log_text()[-3000:]


@pytest.fixture(scope="session")
def audio_files():
    return audio_dir()


def raw_request(w, data, fields=(), filename="audio.mp3", path="/v1/audio/transcriptions"):
    """Sends a transcription request on a raw socket and returns the socket
    (the caller reads or hangs up)."""
    import socket
    prepared = requests.Request("POST", w.url + path, data=[("model", MODEL), *fields],
                                files={"file": (filename, data)}).prepare()
    s = socket.create_connection(("127.0.0.1", w.port), timeout=60)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    head += f"Content-Type: {prepared.headers['Content-Type']}\r\n"
    head += f"Content-Length: {len(prepared.body)}\r\n\r\n"
    s.sendall(head.encode() + prepared.body)
    return s
