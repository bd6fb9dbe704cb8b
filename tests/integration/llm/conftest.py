"""Fixtures of the hailo-llm black-box tests.

Each test file gets its own simulated stack (hdmtest.SimStack: sim assets
from tools/make-sim-assets --fast, a manager on a temporary socket with the
sim backend) and hailo-llm on a free port serving DIR/models/llm.  The
LLM's sidecar is rewritten so tokens come at a small fixed pace (TOKEN_MS):
fast for the suite, slow enough that a stream really is a stream; a slow
model (SLOW) serves the hang-up tests.
"""

import json
import os
import shutil
import sys

import pytest
import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402  (tests/integration/hdmtest.py)

MODEL = "qwen2.5-1.5b-instruct"
CODER = "qwen2.5-coder-1.5b-instruct"
SLOW = "slowpoke-1.5b-instruct"
TOKEN_MS = 2
SLOW_TOKEN_MS = 300  # an answer of ~40 tokens takes ~12 s

wait_until = hdmtest.wait_until


def write_sidecar(hef, token_ms, footprint_mb=1850):
    with open(hef + ".sim.json", "w") as f:
        json.dump({"footprint_mb": footprint_mb, "load_ms": 0, "infer_ms": 0,
                   "token_ms": token_ms}, f)


def llm_yaml(stack, name="hailo-llm-test.yaml", extra=""):
    """A hailo-llm config for this stack; returns its path."""
    path = os.path.join(stack.root, name)
    with open(path, "w") as f:
        f.write(f"""server:
  host: 127.0.0.1
  port: 11434
  threads: 8
manager:
  socket: {json.dumps(stack.socket)}
models:
  dir: {json.dumps(os.path.join(stack.models, "llm"))}
  keep_alive: 5m
generation:
  max_tokens: 512
{extra}""")
    return path


def make_stack(http=False):
    st = hdmtest.SimStack(prefix="hl-test-")
    llm_dir = os.path.join(st.models, "llm")
    for name in (MODEL, CODER):
        write_sidecar(os.path.join(llm_dir, name + ".hef"), TOKEN_MS)
    slow = os.path.join(llm_dir, SLOW + ".hef")
    shutil.copyfile(os.path.join(llm_dir, MODEL + ".hef"), slow)
    write_sidecar(slow, SLOW_TOKEN_MS)
    write_sidecar(st.vlm_hef, TOKEN_MS, footprint_mb=2400)
    if http:
        st.manager.http_port = hdmtest.free_tcp_port()
    st.llm_config = llm_yaml(st)
    st.start_manager()
    return st


@pytest.fixture(scope="module")
def stack():
    st = make_stack()
    yield st
    st.cleanup()


@pytest.fixture(scope="module")
def llm(stack):
    """hailo-llm on the stack's manager, ready."""
    s = hdmtest.Service(stack, "hailo-llm", config=stack.llm_config)
    s.start()
    yield s
    alive = s.alive()
    s.stop()
    assert alive, "hailo-llm died during the tests:\n" + s.log()[-3000:]


def post(svc, path, body, timeout=60, **kw):
    return requests.post(svc.url + path, json=body, timeout=timeout, **kw)


def ndjson(resp):
    """The lines of a streamed Ollama answer, parsed."""
    assert resp.headers["Content-Type"] == "application/x-ndjson", resp.headers
    return [json.loads(line) for line in resp.iter_lines(decode_unicode=True) if line]


def sse_events(resp):
    events = []
    for line in resp.iter_lines(decode_unicode=True):
        if not line:
            continue
        assert line.startswith("data: "), line
        if line[6:] == "[DONE]":
            events.append("[DONE]")
            break
        events.append(json.loads(line[6:]))
    return events


def user(text):
    return {"role": "user", "content": text}
