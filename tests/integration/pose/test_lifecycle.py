"""hailo-pose's life around the manager and its config: serving before the
manager is up (not ready, 503 with the original's reason), healing after a
manager restart, a client hang-up cancelling the device work, SIGTERM
unloading the pinned model as the original did, and the config keys
(the original's and ours) taking effect."""

import json
import os
import socket
import subprocess
import time

import requests

from conftest import Pose, assert_error, figures_image, hdmtest, write_config

wait_until = hdmtest.wait_until


def manager_status(stack):
    return hdmtest.manager_call(stack.socket, {"action": "status"})


def pose_models(stack):
    return [m for m in manager_status(stack)["loaded_models"] if m["model_type"] == "pose"]


def test_not_ready_until_the_manager_answers(stack):
    stack.manager.stop()
    svc = Pose(stack)
    stack.services.append(svc)
    try:
        svc.start(wait_ready=False)
        r = requests.get(svc.url + "/health/ready", timeout=5)
        assert r.status_code == 503
        body = r.json()
        assert body["ready"] is False and body["reason"] == "model_loading" and body["detail"]
        h = requests.get(svc.url + "/health", timeout=5).json()
        assert h["status"] == "ok" and h["model_loaded"] is False and h["reason"]
        img = figures_image(64, 64, [])
        assert_error(svc.detect(img), 503, "model not ready")
        # A bad request is still the client's 400, ready or not.
        assert_error(svc.detect(json_body={}), 400, "Missing 'image' field")
        stack.start_manager()
        wait_until(svc.ready, 30, "hailo-pose to register its model")
        assert svc.detect(img).status_code == 200
        # The manager goes away and comes back: the service heals by itself.
        stack.kill_manager()
        wait_until(lambda: requests.get(svc.url + "/health", timeout=5).json()
                   ["manager_reachable"] is False, 30, "hailo-pose to notice")
        r = svc.detect(img)
        assert_error(r, 503)
        stack.start_manager()
        wait_until(svc.ready, 30, "hailo-pose to register again")
        assert svc.detect(img).status_code == 200
    finally:
        svc.stop()
    assert svc.proc.returncode == 0
    # SIGTERM unloaded the pinned model, as the original's shutdown did.
    wait_until(lambda: pose_models(stack) == [], 10, "the pose model to be unloaded")


def test_hangup_cancels_the_inference(stack):
    """A slow model (5 s per inference): the client hangs up after sending;
    the manager drops the work long before it would finish."""
    slow = os.path.join(stack.models, "pose", "slow_pose.hef")
    with open(slow, "wb") as f:
        f.write(b"HEF-SIM\0pose/slow_pose.hef\n")
    with open(slow + ".sim.json", "w") as f:
        json.dump({"footprint_mb": 60, "load_ms": 0, "infer_ms": 5000, "token_ms": 0}, f)
    cfg = write_config(stack, "slow.yaml", replace=[("pose/yolov8s_pose.hef", "pose/slow_pose.hef")])
    svc = Pose(stack, config=cfg)
    stack.services.append(svc)
    svc.start()
    try:
        img = figures_image(320, 240, [(100, 40, 180, 220)])
        boundary = "xBOUNDARYx"
        body = (b"--" + boundary.encode() + b"\r\nContent-Disposition: form-data; name=\"image\"; "
                b"filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n" + img + b"\r\n--" +
                boundary.encode() + b"--\r\n")
        head = ("POST /v1/pose/detect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                "multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n\r\n"
                % (boundary, len(body))).encode()
        s = socket.create_connection(("127.0.0.1", svc.port), timeout=30)
        s.sendall(head + body)
        wait_until(lambda: manager_status(stack)["scheduler"]["running"] == 1, 10,
                   "the inference to start")
        hung_up = time.monotonic()
        s.close()
        wait_until(lambda: manager_status(stack)["scheduler"]["running"] == 0, 10,
                   "the manager to drop the cancelled inference")
        assert time.monotonic() - hung_up < 4.5
        wait_until(lambda: "client went away" in svc.log(), 10, "the service to log it")
        assert svc.ready() and svc.alive()
    finally:
        svc.stop()


def test_config_keys_take_effect(stack):
    """The original's keys (request defaults, skeleton_connections, a null
    meaning the default, the unused keys loading) and ours (render.format)."""
    cfg = write_config(stack, "keys.yaml", replace=[
        ("confidence_threshold: 0.5", "confidence_threshold: 0.8"),
        ("max_detections: 10", "max_detections: 1"),
        ("skeleton_connections: true", "skeleton_connections: false"),
        ("iou_threshold: 0.45", "iou_threshold: null"),
    ], append="resource_limits:\n  memory_max: \"2G\"\n  cpu_quota: \"80%\"\n"
               "render:\n  format: png\nsurprise: 1\n")
    svc = Pose(stack, config=cfg)
    stack.services.append(svc)
    svc.start()
    try:
        from PIL import Image, ImageDraw
        import io
        im = Image.new("RGB", (640, 640), (30, 30, 30))
        d = ImageDraw.Draw(im)
        d.rectangle((60, 60, 200, 500), fill=(200, 200, 200))   # ~0.75
        d.rectangle((400, 60, 540, 500), fill=(252, 252, 252))  # ~0.94
        d.rectangle((260, 60, 340, 500), fill=(252, 252, 252))
        buf = io.BytesIO()
        im.save(buf, format="PNG")
        body = svc.detect(buf.getvalue(), {"render": "1"}).json()
        assert body["count"] == 1                      # max_detections 1
        assert "skeleton" not in body["poses"][0]      # skeleton_connections false
        assert body["rendered"]["format"] == "png"     # render.format
        # A request still overrides the defaults.
        assert svc.detect(buf.getvalue(), {"confidence_threshold": "0.5",
                                           "max_detections": "5"}).json()["count"] == 3
        assert "unknown key surprise" in svc.log() and "keys.yaml:" in svc.log()
    finally:
        svc.stop()


def test_keep_alive_zero_serves(stack):
    cfg = write_config(stack, "ka0.yaml", replace=[("keep_alive: -1", "keep_alive: 0")])
    svc = Pose(stack, config=cfg)
    stack.services.append(svc)
    svc.start()
    try:
        r = svc.detect(figures_image(320, 240, [(100, 40, 180, 220)]))
        assert r.status_code == 200 and r.json()["count"] == 1
    finally:
        svc.stop()


def run_pose(args, env=None):
    return subprocess.run([hdmtest.binary("hailo-pose")] + args, capture_output=True, text=True,
                          timeout=60, env=env)


def test_check_config_shipped_and_bad(stack, tmp_path):
    shipped = os.path.join(hdmtest.SOURCE_DIR, "config", "hailo-pose.yaml")
    p = run_pose(["--config", shipped, "--check-config"])
    assert p.returncode == 0 and "OK" in p.stdout, p.stdout + p.stderr
    assert "/var/lib/hailo-pose/resources/models/hailo10h/yolov8s_pose.hef" in p.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("server:\n  port: 11440\ninference:\n  iou_threshold: 7\n")
    p = run_pose(["--config", str(bad), "--check-config"])
    assert p.returncode == 1 and "bad.yaml:4:" in p.stderr and "iou_threshold" in p.stderr
    zero = tmp_path / "zero.yaml"
    zero.write_text("inference:\n  confidence_threshold: 0\n")
    p = run_pose(["--config", str(zero), "--check-config"])
    assert p.returncode == 1 and "confidence_threshold" in p.stderr
    size = tmp_path / "size.yaml"
    size.write_text("inference:\n  input_size: [640]\n")
    p = run_pose(["--config", str(size), "--check-config"])
    assert p.returncode == 1 and "input_size" in p.stderr
    p = run_pose(["--config", str(tmp_path / "missing.yaml"), "--check-config"])
    assert p.returncode == 1 and "missing.yaml" in p.stderr
    p = run_pose(["--version"])
    assert p.returncode == 0 and p.stdout.startswith("hailo-pose ")


def test_detect_flag_prints_the_answer(stack, tmp_path):
    img = tmp_path / "one.png"
    img.write_bytes(figures_image(320, 240, [(100, 40, 180, 220)]))
    p = run_pose(["--config", os.path.join(stack.root, "hailo-pose.yaml"), "--detect", str(img)],
                 env=stack.env)
    assert p.returncode == 0, p.stderr
    body = json.loads(p.stdout)
    assert body["count"] == 1 and body["image_size"] == {"width": 320, "height": 240}
