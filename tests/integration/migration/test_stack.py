"""The proof of issue 15: on a staged install of the original Python stack,
after scripts/install.sh, our manager, hailo-clip and hailo-vision start
from the installed units and the original's own /etc/hailo files (on the
sim backend, with stand-in models where the original keeps its HEFs), each
as its unit's user inside the root; and a client behaving as the original
device_client.py, run as the original services' users, loads and runs every
model type and gets the original's shapes, types and error sentences."""

import base64
import json
import os
import shutil
import struct
import tempfile

import pytest
import requests

import hdmtest
from conftest import (HEFS, RES, SCRIPTS, StagedSystem, install, need_root_and_namespaces,
                      put, stage_original, wait)

CLIENT = "/opt/migration-test/original_client.py"
CLIP_PARAMS = {"image_hef_path": HEFS["clip_image"], "text_hef_path": HEFS["clip_text"],
               "text_input_layer": "clip_vit_b_32_text_encoder/input_layer1",
               "text_output_layer": "clip_vit_b_32_text_encoder/normalization25"}
OCR_PARAMS = {"detection_hef_path": HEFS["ocr_det"], "recognition_hefs": {"en": HEFS["ocr_rec"]},
              "batch_sizes": {"en": 8}}


def tensor(dtype, shape, fill=1):
    n = 1
    for d in shape:
        n *= d
    size = {"uint8": 1, "float32": 4}[dtype]
    raw = bytes([fill]) * (n * size) if dtype == "uint8" else struct.pack("<f", 0.25) * n
    return {"dtype": dtype, "shape": list(shape), "data_b64": base64.b64encode(raw).decode()}


def shape_of(t):
    assert set(t) == {"dtype", "shape", "data_b64"}, t
    n = 1
    for d in t["shape"]:
        n *= d
    assert len(base64.b64decode(t["data_b64"])) == n * 4 and t["dtype"] == "float32", t["shape"]
    return t["shape"]


@pytest.fixture(scope="module")
def stack():
    need_root_and_namespaces()
    path = tempfile.mkdtemp(prefix="hdm-migrate-run-")
    staged = None
    try:
        root = stage_original(os.path.join(path, "root"))
        install(root)
        staged = StagedSystem(root, path)
        put(root, "/tmp/sim.yaml", hdmtest.SIM_ZERO_LATENCY)
        with open(os.path.join(os.path.dirname(__file__), "original_client.py")) as f:
            put(root, CLIENT, f.read(), mode=0o755)
        os.chmod(os.path.join(root, "opt/migration-test"), 0o755)
        staged.start_unit("hailo-device-manager.service",
                          ["--backend", "sim", "--sim-config", "/tmp/sim.yaml", "--http-bind", "off"])
        # The original configs bind 0.0.0.0 on fixed ports: only those two change.
        staged.clip_port, staged.vision_port = hdmtest.free_tcp_port(), hdmtest.free_tcp_port()
        staged.start_unit("hailo-clip.service",
                          ["--host", "127.0.0.1", "--port", str(staged.clip_port)])
        staged.start_unit("hailo-vision.service",
                          ["--host", "127.0.0.1", "--port", str(staged.vision_port)])
        staged.clip = f"http://127.0.0.1:{staged.clip_port}"
        staged.vision = f"http://127.0.0.1:{staged.vision_port}"
        # Our hailo-pose replaced the original's unit and reads its config.
        staged.pose_port = hdmtest.free_tcp_port()
        staged.start_unit("hailo-pose.service",
                          ["--host", "127.0.0.1", "--port", str(staged.pose_port)])
        staged.pose = f"http://127.0.0.1:{staged.pose_port}"
        def up(url, check):
            for p in staged.procs:
                if p.poll() is not None:
                    pytest.fail(f"{p.unit} exited with {p.returncode}:\n" + staged.log_text())
            return check(requests.get(url, timeout=2))

        try:
            wait(lambda: up(staged.clip + "/health", lambda r: r.json()["model_loaded"]),
                 90, "hailo-clip to load its model")
            wait(lambda: up(staged.vision + "/health/ready", lambda r: r.status_code == 200),
                 90, "hailo-vision to be ready")
            wait(lambda: up(staged.pose + "/health/ready", lambda r: r.status_code == 200),
                 90, "hailo-pose to be ready")
        except BaseException:
            print(staged.log_text())
            raise
        yield staged
        alive = [p.poll() is None for p in staged.procs]
        assert all(alive), staged.log_text()
    finally:
        if staged:
            staged.stop()
            reports = [line for line in staged.log_text().splitlines()
                       if any(m in line for m in hdmtest.Manager.SANITIZER_MARKERS)]
            staged.check_unmounted()
            assert not reports, staged.log_text()
        shutil.rmtree(path, ignore_errors=True)


def client(stack, user, steps, timeout=120):
    """Runs the original-style client as `user` inside the root."""
    p = stack.run_as(user, ["/usr/bin/python3", CLIENT], stdin=json.dumps(steps).encode(),
                     timeout=timeout)
    assert p.returncode == 0, p.stderr.decode(errors="replace") + "\n" + stack.log_text()
    out = json.loads(p.stdout)
    assert len(out) == len(steps)
    return out


def ok(result):
    assert "ok" in result, result
    return result["ok"]


def raised(result, exc="RuntimeError"):
    assert result.get("raised") == exc, result
    return result["message"]


def test_services_start_from_the_original_files(stack):
    # hailo-vision found the original's model where the original keeps it
    # (hef_path: null), and said which keys of the original file it ignores.
    log = stack.log_text()
    assert f"using {HEFS['vlm']}" in log, log
    assert "/etc/hailo/hailo-vision.yaml:" in log and "resource_limits.memory_max" in log, log
    assert "/etc/hailo/hailo-clip.yaml:" in log and "logging.level" in log, log
    # hailo-clip read CLIP's text files where the original keeps them.
    assert RES + "/json/clip_tokenizer.json" in log, log

    h = requests.get(stack.clip + "/health", timeout=10).json()
    assert h["status"] == "healthy" and h["model"] == "clip-vit-b-32"
    png = base64.b64encode(hdmtest.png_bytes(64, 48, (200, 40, 40))).decode()
    r = requests.post(stack.clip + "/v1/classify", timeout=60, json={
        "image": png, "prompts": ["a photo of a cat", "a photo of a dog"]})
    assert r.status_code == 200, r.text
    assert len(r.json()["classifications"]) == 2
    # One prompt: the raw cosine similarity, as the original returned.
    r = requests.post(stack.clip + "/v1/classify", timeout=60, json={
        "image": png, "prompts": ["a photo of a cat"]})
    s = r.json()["classifications"][0]["score"]
    assert isinstance(s, float) and -1.0 <= s <= 1.0 and s != 1.0, r.text

    m = requests.get(stack.vision + "/v1/models", timeout=10).json()
    assert [d["id"] for d in m["data"]] == ["qwen2-vl-2b-instruct"]
    r = requests.post(stack.vision + "/v1/chat/completions", timeout=60, json={
        "model": "gpt-4-vision-preview", "max_tokens": 5, "messages": [{"role": "user", "content": [
            {"type": "image", "source": png}, {"type": "text", "text": "What is it?"}]}]})
    assert r.status_code == 200, r.text
    r = requests.post(stack.vision + "/v1/vision/analyze", timeout=60, json={
        "images": ["data:image/png;base64," + png] * 2, "prompt": "Describe.", "max_tokens": 5})
    assert r.status_code == 200 and len(r.json()["results"]) == 2, r.text


def test_every_model_type_through_the_original_client(stack):
    frame = tensor("uint8", [336, 336, 3])
    # vlm (the default model_type) and vlm_chat, as hailo-vision's user.
    res = client(stack, "hailo-vision", [
        {"op": "load_model", "model_path": HEFS["vlm"]},
        {"op": "load_model", "model_path": HEFS["vlm"]},
        {"op": "infer", "model_path": HEFS["vlm"],
         "input_data": {"prompt": "Describe the room.", "max_generated_tokens": 8}},
        {"op": "infer", "model_path": HEFS["vlm"], "model_type": "vlm_chat", "input_data": {
            "prompt": [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
                       {"role": "user", "content": [{"type": "image"},
                                                    {"type": "text", "text": "What is here?"}]}],
            "frames": [frame], "temperature": 0.7, "seed": None, "max_generated_tokens": 8}},
    ])
    # hailo-vision holds it (as vlm_chat, which vlm is an alias of).
    assert ok(res[0])["message"] in ("Model loaded", "Model already loaded")
    assert ok(res[1])["message"] == "Model already loaded"
    for r in res[2:]:
        a = ok(r)
        assert isinstance(a["result"], str) and a["result"]
        assert isinstance(a["inference_time_ms"], int)

    # clip, as hailo-clip's user.
    res = client(stack, "hailo-clip", [
        {"op": "load_model", "model_path": HEFS["clip_image"], "model_type": "clip",
         "model_params": CLIP_PARAMS},
        {"op": "infer", "model_path": HEFS["clip_image"], "model_type": "clip",
         "input_data": {"mode": "image", "tensor": tensor("uint8", [224, 224, 3]),
                        "timeout_ms": 1000}},
        {"op": "infer", "model_path": HEFS["clip_image"], "model_type": "clip",
         "input_data": {"mode": "text", "tensor": tensor("float32", [1, 77, 512])}},
    ])
    # hailo-clip loaded it already, keyed by its image HEF as the original's was.
    assert ok(res[0])["message"] == "Model already loaded"
    assert shape_of(ok(res[1])["result"]) == [512]
    assert shape_of(ok(res[2])["result"]) == [1, 77, 512]

    # whisper, as hailo-whisper's user: the model the download left 0600.
    res = client(stack, "hailo-whisper", [
        {"op": "load_model", "model_path": HEFS["whisper"], "model_type": "whisper"},
        {"op": "infer", "model_path": HEFS["whisper"], "model_type": "whisper",
         "input_data": {"audio": [0.0, 0.25, -0.25, 0.5] * 8000, "language": "en",
                        "task": "transcribe"}},
    ])
    ok(res[0])
    segs = ok(res[1])["result"]["segments"]
    assert segs
    for s in segs:
        assert set(s) == {"id", "start", "end", "text"}, s
        assert isinstance(s["start"], float) and isinstance(s["end"], float), s  # 0.0, not 0

    # ocr, as hailo-ocr's user: detection map per frame, recognition a list.
    res = client(stack, "hailo-ocr", [
        {"op": "load_model", "model_path": HEFS["ocr_det"], "model_type": "ocr",
         "model_params": OCR_PARAMS},
        {"op": "infer", "model_path": HEFS["ocr_det"], "model_type": "ocr",
         "model_params": OCR_PARAMS,
         "input_data": {"mode": "detection", "image": tensor("uint8", [64, 96, 3])}},
        {"op": "infer", "model_path": HEFS["ocr_det"], "model_type": "ocr",
         "model_params": OCR_PARAMS,
         "input_data": {"mode": "recognition", "language": "en", "batch_size": 8,
                        "crops": [tensor("uint8", [48, 320, 3])] * 3}},
    ])
    assert ok(res[0])["model_info"]["detection_input_shape"] == [64, 96, 3]
    assert shape_of(ok(res[1])["result"]) == [64, 96, 1]  # the original's raw[:, :, 0]
    rec = ok(res[2])["result"]
    assert isinstance(rec, list) and [shape_of(t) for t in rec] == [[1, 40, 97]] * 3

    # depth, as hailo-depth's user (its tree is 0750: the group lets us in).
    res = client(stack, "hailo-depth", [
        {"op": "load_model", "model_path": HEFS["depth"], "model_type": "depth"},
        {"op": "infer", "model_path": HEFS["depth"], "model_type": "depth",
         "input_data": {"input": tensor("uint8", [256, 320, 3])}},
    ])
    ok(res[0])
    assert shape_of(ok(res[1])["result"]) == [256, 320, 1]

    # pose, as hailo-pose's user: nine outputs by name, per-frame shapes.
    res = client(stack, "hailo-pose", [
        {"op": "load_model", "model_path": HEFS["pose"], "model_type": "pose"},
        {"op": "infer", "model_path": HEFS["pose"], "model_type": "pose",
         "input_data": {"input": tensor("uint8", [640, 640, 3])}},
    ])
    ok(res[0])
    outs = ok(res[1])["result"]
    assert isinstance(outs, dict) and len(outs) == 9, outs.keys()
    shapes = sorted(shape_of(t) for t in outs.values())
    assert [80, 80, 64] in shapes and all(len(s) == 3 for s in shapes), shapes


def test_the_original_errors(stack):
    outside = "/etc/hailo/hailo-vision.yaml"  # exists, but is no model directory
    missing = "/var/lib/hailo-ocr/resources/models/hailo10h/none.hef"
    res = client(stack, "hailo-ocr", [
        {"op": "load_model", "model_path": missing, "model_type": "ocr"},
        {"op": "infer", "model_path": missing, "model_type": "depth",
         "input_data": {"input": tensor("uint8", [4, 4, 3])}},
        {"op": "infer", "model_path": outside, "model_type": "depth",
         "input_data": {"input": tensor("uint8", [4, 4, 3])}},
        {"op": "load_model", "model_path": HEFS["ocr_rec"], "model_type": "florence"},
        {"op": "load_model", "model_path": HEFS["ocr_rec"], "model_type": "clip"},
        {"op": "send", "request": {"action": "ping", "request_id": 42}},
        {"op": "send", "request": {"action": "ping", "request_id": {"n": [1, 2.5]}}},
        {"op": "status"},
    ])
    # The client's own check, then the manager's, worded as the original.
    assert raised(res[0], "FileNotFoundError") == f"Model file not found: {missing}"
    assert raised(res[1]) == f"Device manager error: Model file not found: {missing}"
    # Outside the model directories: the same sentence, no existence oracle.
    assert raised(res[2]) == f"Device manager error: Model file not found: {outside}"
    assert raised(res[3]) == "Device manager error: Unsupported model_type: florence"
    assert raised(res[4]).startswith("Device manager error: Failed to load model: "), res[4]
    assert ok(res[5])["request_id"] == 42
    assert ok(res[6])["request_id"] == {"n": [1, 2.5]}
    st = ok(res[7])
    assert isinstance(st["uptime_seconds"], float)

    res = client(stack, "hailo-whisper", [
        {"op": "infer", "model_path": HEFS["whisper"], "model_type": "whisper",
         "input_data": {"audio": []}},
    ])
    assert raised(res[0]) == ("Device manager error: Inference failed: audio data is required "
                              "for whisper")


def test_idle_models_stay_resident(stack):
    """The original kept models until memory pressure evicted them: the
    installed config says so, and the registry shows no idle timer on the
    models the original client loaded (no waiting 300 s needed)."""
    with open(os.path.join(stack.root, "etc/hailo/hailo-device-manager.yaml")) as f:
        assert "\n  default_keep_alive: none\n" in f.read()
    res = client(stack, "hailo-depth", [
        {"op": "infer", "model_path": HEFS["depth"], "model_type": "depth",
         "input_data": {"input": tensor("uint8", [256, 320, 3])}},
        {"op": "status"},
    ])
    models = {m["model_path"]: m for m in ok(res[1])["loaded_models"]}
    m = models[HEFS["depth"]]
    assert m["keep_alive"] is None and m["pinned"] is False, m
    assert "expires_in_seconds" not in m, m
    assert isinstance(m["loaded_at"], float) and isinstance(m["last_used"], float)


def test_socket_group_and_client_limits(stack):
    # Someone who is no service of the original cannot reach the socket.
    res = client(stack, "pi", [{"op": "ping"}])
    assert raised(res[0]) == ("Failed to connect to device manager: [Errno 13] Permission denied"
                              ), res
    # Every original service user can.
    for u in ("hailo-device-mgr", "hailo-ocr", "hailo-depth", "hailo-pose", "hailo-whisper",
              "hailo-vision", "hailo-clip"):
        assert ok(client(stack, u, [{"op": "ping"}])[0])["status"] == "ok", u

    # The 8 MiB cap of the original client, both ways, over our manager.
    big_in = tensor("uint8", [1200, 1500, 3])  # 7.2 MB as JSON; its map is 9.6 MB
    res = client(stack, "hailo-ocr", [
        {"op": "load_model", "model_path": HEFS["ocr_big"], "model_type": "ocr",
         "model_params": dict(OCR_PARAMS, detection_hef_path=HEFS["ocr_big"])},
        {"op": "infer", "model_path": HEFS["ocr_big"], "model_type": "ocr",
         "input_data": {"mode": "detection", "image": big_in}},
        {"op": "infer", "model_path": HEFS["ocr_big"], "model_type": "ocr",
         "input_data": {"mode": "detection", "image": tensor("uint8", [1700, 1700, 3])}},
        {"op": "ping"},
    ], timeout=300)
    assert ok(res[0])["model_info"]["detection_input_shape"] == [1200, 1500, 3]
    assert raised(res[1]).startswith("Request failed: Response too large: "), res[1]
    assert raised(res[2]).startswith("Request failed: Request too large: "), res[2]
    assert ok(res[3])["status"] == "ok"  # the client reconnects, the manager carries on

    # The client's timeout: an inference slower than it.
    res = client(stack, "hailo-depth", [
        {"op": "infer", "model_path": HEFS["depth_slow"], "model_type": "depth",
         "client": {"timeout": 1.0}, "input_data": {"input": tensor("uint8", [256, 320, 3])}},
        {"op": "ping"},
    ])
    assert raised(res[0]) == "Request timeout"
    assert ok(res[1])["status"] == "ok"


def test_verify_on_the_upgraded_system(stack):
    """scripts/verify.sh, run as root inside the root, passes on the upgraded
    system and checks the original's model trees; a model the manager cannot
    read fails it."""
    dest = os.path.join(stack.root, "opt/migration-test/scripts")
    if not os.path.isdir(dest):
        shutil.copytree(SCRIPTS, dest)
    # The three parts this test starts (install.sh all installed more).
    verify = ["/bin/bash", "/opt/migration-test/scripts/verify.sh", "manager", "clip", "vision",
              "--devctl",
              "/usr/local/bin/hailo-devctl", "--clip-url", stack.clip, "--vision-url",
              stack.vision, "--pose-url", stack.pose, "--timeout", "30"]
    p = stack.run_as("root", verify)
    out = p.stdout.decode()
    assert p.returncode == 0 and "verify: all checks passed" in out, out + p.stderr.decode()
    for tree in ("vision", "whisper", "ocr", "depth", "pose"):
        assert "PASS  hailo-dm can read the " in out and f"model(s) in /var/lib/hailo-{tree}" \
            in out, out
    hef = os.path.join(stack.root, HEFS["whisper"].lstrip("/"))
    os.chmod(hef, 0o600)
    try:
        p = stack.run_as("root", verify)
        out = p.stdout.decode()
        assert p.returncode == 1 and f"FAIL  hailo-dm cannot read {HEFS['whisper']}" in out, out
    finally:
        os.chmod(hef, 0o640)
