"""hailo-devctl against a real manager (sim backend): every verb, the readable
tables and --json, tensors from .npy and raw files, and its errors."""

import json
import os
import struct
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

DEVCTL = hdmtest.binary("hailo-devctl")


@pytest.fixture(scope="module")
def mgr():
    m = hdmtest.Manager()
    m.start()
    yield m
    assert m.stop() == 0, m.log()
    m.cleanup()


def devctl(mgr, *args, socket=None, check=None):
    """Runs hailo-devctl against the manager; returns the CompletedProcess."""
    cmd = [DEVCTL, "--socket", socket or mgr.socket, "--timeout", "10000"] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if check is not None:
        assert p.returncode == check, "%s\nstdout: %s\nstderr: %s" % (cmd, p.stdout, p.stderr)
    return p


def write_npy(path, dtype_descr, shape, raw):
    """A minimal .npy (format 1.0) writer: numpy is not a dependency."""
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        dtype_descr, "".join("%d, " % d for d in shape) if len(shape) != 1 else "%d," % shape[0])
    pad = (64 - (10 + len(header) + 1) % 64) % 64
    header = header + " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + raw)


def read_npy_header(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY"
    (hlen,) = struct.unpack("<H", data[8:10])
    return data[10:10 + hlen].decode(), data[10 + hlen:]


def test_ping(mgr):
    p = devctl(mgr, "ping", check=0)
    assert p.stdout.startswith("ok: ") and " ms" in p.stdout


def test_ping_json_and_prefix_verb(mgr):
    p = devctl(mgr, "--json", "pi", check=0)
    assert json.loads(p.stdout)["status"] == "ok"


def test_status_table_and_json(mgr):
    p = devctl(mgr, "status", check=0)
    for word in ("device", "socket", "uptime", "queue", "memory", "runtime     ok"):
        assert word in p.stdout, p.stdout
    assert mgr.socket in p.stdout
    j = json.loads(devctl(mgr, "--json", "status", check=0).stdout)
    assert j["socket_path"] == mgr.socket and "loaded_models" in j


def test_load_models_unload(mgr):
    path, params = mgr.make_clip("clipdev")
    p = devctl(mgr, "load", "clip", path, "--params", json.dumps(params), "--keep-alive", "-1",
               check=0)
    assert p.stdout.startswith("Model loaded"), p.stdout
    p = devctl(mgr, "load", "clip", path, "--params", json.dumps(params), check=0)
    assert p.stdout.startswith("Model already loaded")
    p = devctl(mgr, "models", check=0)
    assert "TYPE" in p.stdout and "PATH" in p.stdout
    line = [l for l in p.stdout.splitlines() if path in l]
    assert line and line[0].startswith("clip") and "pinned" in line[0], p.stdout
    models = json.loads(devctl(mgr, "--json", "models", check=0).stdout)
    assert any(m["model_path"] == path for m in models)
    p = devctl(mgr, "unload", "clip", path, check=0)
    assert p.stdout.startswith("Model unloaded")
    p = devctl(mgr, "unload", "clip", path, check=0)
    assert p.stdout.startswith("Model was not loaded")


def test_infer_clip_image_from_npy_and_out(mgr, tmp_path):
    path, params = mgr.make_clip("clipimg")
    devctl(mgr, "load", "clip", path, "--params", json.dumps(params), check=0)
    src = tmp_path / "image.npy"
    write_npy(src, "|u1", (1, 224, 224, 3), hdmtest.tensor_bytes("uint8", [1, 224, 224, 3]))
    out = tmp_path / "emb.npy"
    p = devctl(mgr, "infer", "clip", path, "--mode", "image", "--tensor", str(src),
               "--out", str(out), check=0)
    assert "result: float32 [1,512]" in p.stdout, p.stdout
    assert "inference_time_ms:" in p.stdout
    header, raw = read_npy_header(out)
    assert "'<f4'" in header and "(1, 512," in header
    assert len(raw) == 512 * 4
    # The same through v1 JSON with --json: the embedding arrives as a tensor object.
    j = json.loads(devctl(mgr, "--json", "infer", "clip", path, "--mode", "image", "--tensor",
                          str(src), check=0).stdout)
    assert j["result"]["dtype"] == "float32" and j["result"]["shape"] == [1, 512]


def test_infer_clip_text_from_raw_file(mgr, tmp_path):
    path, params = mgr.make_clip("cliptxt")
    raw = tmp_path / "tokens.f32"
    raw.write_bytes(hdmtest.tensor_bytes("float32", [1, 77, 512]))
    p = devctl(mgr, "infer", "clip", path, "--params", json.dumps(params), "--mode", "text",
               "--tensor", str(raw), "--dtype", "float32", "--shape", "1,77,512", check=0)
    assert "result: float32 [1,77,512]" in p.stdout, p.stdout


def test_infer_raw_file_errors(mgr, tmp_path):
    path, params = mgr.make_clip("clipbad")
    raw = tmp_path / "short.bin"
    raw.write_bytes(b"\0" * 10)
    p = devctl(mgr, "infer", "clip", path, "--mode", "image", "--tensor", str(raw), check=1)
    assert "give --dtype and --shape" in p.stderr
    p = devctl(mgr, "infer", "clip", path, "--mode", "image", "--tensor", str(raw),
               "--dtype", "uint8", "--shape", "1,224,224,3", check=1)
    assert "holds 10 data bytes" in p.stderr
    p = devctl(mgr, "infer", "clip", path, "--tensor", str(tmp_path / "missing.npy"), check=1)
    assert "cannot open" in p.stderr
    p = devctl(mgr, "infer", "clip", path, "--dtype", "complex64", check=2)
    assert "unknown --dtype complex64" in p.stderr


def test_infer_vlm_prompt_and_stream(mgr):
    path = mgr.make_model("vlm-devctl.hef")
    p = devctl(mgr, "infer", "vlm_chat", path, "--prompt", "Describe the scene.",
               "--max-tokens", "8", check=0)
    text = p.stdout.splitlines()[0]
    assert text.strip(), p.stdout
    s = devctl(mgr, "infer", "vlm_chat", path, "--prompt", "Describe the scene.",
               "--max-tokens", "8", "--stream", check=0)
    # Streaming prints the same deterministic text, delta by delta.
    assert s.stdout.splitlines()[0] == text
    p = devctl(mgr, "infer", "clip", path, "--stream", check=2)
    assert "--stream is for vlm" in p.stderr


def test_manager_errors_are_reported(mgr):
    p = devctl(mgr, "load", "nosuchtype", mgr.make_model("x.hef"), check=1)
    assert "Unsupported model_type: nosuchtype" in p.stderr
    p = devctl(mgr, "--json", "load", "nosuchtype", mgr.make_model("x.hef"), check=1)
    assert "Unsupported model_type" in json.loads(p.stdout)["error"]


def test_watch_count(mgr):
    p = devctl(mgr, "watch", "--interval", "0.05", "--count", "3", check=0)
    assert p.stdout.count("hailo-devctl watch") == 3
    assert "queue" in p.stdout and "memory" in p.stdout
    p = devctl(mgr, "--json", "watch", "--interval", "0.05", "--count", "2", check=0)
    assert p.stdout.count('"socket_path"') == 2


def test_usage_errors(mgr):
    assert "unknown verb: frobnicate" in devctl(mgr, "frobnicate", check=2).stderr
    assert "wants TYPE and PATH" in devctl(mgr, "load", "clip", check=2).stderr
    assert "--params wants a JSON object" in devctl(mgr, "load", "clip", "/x", "--params", "[1]",
                                                    check=2).stderr
    assert "--count wants" in devctl(mgr, "watch", "--count", "0", check=2).stderr
    assert "unexpected argument" in devctl(mgr, "status", "extra", check=2).stderr
    p = subprocess.run([DEVCTL, "--help"], capture_output=True, text=True, check=True)
    for verb in ("status", "models", "ping", "load", "unload", "infer", "watch"):
        assert "  " + verb in p.stdout


def test_manager_not_running(tmp_path):
    sock = str(tmp_path / "none.sock")
    p = subprocess.run([DEVCTL, "--socket", sock, "--timeout", "200", "ping"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "device manager not reachable at %s: No such file or directory" % sock in p.stderr


def test_infer_depth_and_vlm_frames_from_raw_files(mgr, tmp_path):
    depth = mgr.make_model("depth-devctl.hef", input_height=32, input_width=48)
    img = tmp_path / "img.u8"
    img.write_bytes(hdmtest.tensor_bytes("uint8", [32, 48, 3]))
    p = devctl(mgr, "infer", "depth", depth, "--tensor", str(img), "--dtype", "uint8",
               "--shape", "32x48x3", check=0)
    assert p.stdout.startswith("result: float32 [1,32,48,1]"), p.stdout
    # vlm takes its tensors as a list of frames.
    vlm = mgr.make_model("vlm-frames.hef")
    frame = tmp_path / "frame.u8"
    frame.write_bytes(hdmtest.tensor_bytes("uint8", [336, 336, 3]))
    p = devctl(mgr, "--json", "infer", "vlm_chat", vlm, "--prompt", "What is this?",
               "--tensor", str(frame), "--tensor", str(frame), "--dtype", "uint8",
               "--shape", "336,336,3", "--max-tokens", "4", check=0)
    assert isinstance(json.loads(p.stdout)["result"], str)
    p = devctl(mgr, "infer", "depth", depth, "--tensor", str(img), "--tensor", str(img),
               "--dtype", "uint8", "--shape", "32,48,3", check=2)
    assert "takes one --tensor" in p.stderr
