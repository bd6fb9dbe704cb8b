"""hailo-ocr's life around the device manager: serving before the manager is
up, a manager restart healing by itself, missing model files, signals,
--check-config and bad configs."""

import json
import os
import signal
import subprocess

import requests

import hdmtest
from conftest import Ocr, assert_error, data_uri, ocr_config, page_bytes, wait_until


def ready(svc):
    return requests.get(svc.url + "/health/ready", timeout=5).status_code == 200


def test_before_the_manager_and_after_a_restart():
    st = hdmtest.SimStack(prefix="hdm-ocr-life-")
    svc = Ocr(st)
    try:
        svc.start(wait_ready=False)
        # Serving, not ready: /health says why, /health/ready is 503, work is 503.
        h = svc.get("/health").json()
        assert h["status"] == "ok" and h["models_loaded"] is False
        assert h["manager_reachable"] is False and "reason" in h
        r = svc.get("/health/ready")
        assert r.status_code == 503
        assert r.json()["ready"] is False and r.json()["reason"] == "models_loading"
        assert svc.get("/models").json()["data"][0]["status"] == "pending"
        page = {"image": data_uri(page_bytes())}
        r = svc.extract(page)
        assert_error(r, 503, "model not ready")
        assert r.headers.get("Retry-After") == "1"

        st.start_manager()
        wait_until(lambda: ready(svc), 30, "hailo-ocr ready after the manager came up")
        assert svc.extract(page).status_code == 200

        # The manager dies: requests fail cleanly (503), then the keeper
        # loads the model again once it is back.
        st.kill_manager()
        r = svc.extract(page)
        assert_error(r, 503)
        wait_until(lambda: not ready(svc), 30, "hailo-ocr to notice the manager is gone")
        st.start_manager()
        wait_until(lambda: ready(svc), 30, "hailo-ocr ready after the manager restart")
        r = svc.extract(page)
        assert r.status_code == 200, r.text
        assert len(r.json()["regions"]) == 10
        assert svc.get("/health").json()["model_loads"] >= 2
        assert svc.alive()
    finally:
        st.cleanup([svc])


def test_missing_model_files():
    """A language whose file is missing is skipped, as the original did; a
    missing detection model keeps the service unready with the manager's
    sentence."""
    st = hdmtest.SimStack(prefix="hdm-ocr-miss-")
    base = os.path.join(st.root, "hailo-ocr.yaml")
    with open(base) as f:
        text = f.read()
    extra = text.replace("    zh: ocr_chinese.hef\n", "    zh: ocr_chinese.hef\n    fr: missing.hef\n")
    cfg = os.path.join(st.root, "ocr-fr.yaml")
    with open(cfg, "w") as f:
        f.write(extra)
    nodet = os.path.join(st.root, "ocr-nodet.yaml")
    with open(nodet, "w") as f:
        f.write(text.replace("detection_hef: ocr_det.hef", "detection_hef: gone.hef"))
    svc, bad = Ocr(st, config=cfg), Ocr(st, config=nodet)
    try:
        st.start_manager()
        svc.start()
        h = svc.get("/health").json()
        assert h["languages_supported"] == ["en", "zh"]
        models = {m["id"]: m["status"] for m in svc.get("/models").json()["data"]}
        assert models == {"detection": "loaded", "recognition_en": "loaded",
                          "recognition_zh": "loaded", "recognition_fr": "not_found"}
        assert_error(svc.extract({"image": data_uri(page_bytes()), "languages": ["fr"]}), 400,
                     "Unsupported language: 'fr'. Available: ['en', 'zh']")

        bad.start(wait_ready=False)
        wait_until(lambda: "not found" in bad.get("/health").json().get("reason", ""), 30,
                   "the missing detection model in /health")
        assert "gone.hef" in bad.get("/health").json()["reason"]
        assert bad.get("/health/ready").status_code == 503
    finally:
        st.cleanup([svc, bad])


def test_signals():
    st = hdmtest.SimStack(prefix="hdm-ocr-sig-")
    svc = Ocr(st)
    try:
        st.start_manager()
        svc.start()
        svc.proc.send_signal(signal.SIGHUP)  # never stops the service
        wait_until(lambda: "SIGHUP" in svc.log(), 10, "the SIGHUP log line")
        assert svc.extract({"image": data_uri(page_bytes())}).status_code == 200
        assert svc.stop() == 0  # SIGTERM: a clean exit 0
    finally:
        st.cleanup([svc])


def run(*args, env=None):
    return subprocess.run([hdmtest.binary("hailo-ocr"), *args], capture_output=True, text=True,
                          env=env, timeout=30)


def test_check_config_and_flags(tmp_path):
    st = hdmtest.SimStack(prefix="hdm-ocr-cfg-")
    try:
        cfg = os.path.join(st.root, "hailo-ocr.yaml")
        p = run("--config", cfg, "--check-config", env=st.env)
        assert p.returncode == 0, p.stderr
        assert "ocr_det.hef" in p.stdout and "recognition en:" in p.stdout and "OK" in p.stdout
        # the shipped config names files that are not on this machine
        shipped = os.path.join(hdmtest.SOURCE_DIR, "config", "hailo-ocr.yaml")
        p = run("--config", shipped, "--check-config", env=st.env)
        assert p.returncode == 1 and "missing" in p.stderr
        # bad values: file:line
        bad = tmp_path / "bad.yaml"
        bad.write_text("server:\n  port: [1]\n")
        p = run("--config", str(bad), "--check-config")
        assert p.returncode == 1 and "bad.yaml:2" in p.stderr, p.stderr
        bad.write_text("hailo_models:\n  recognition_hefs: ocr.hef\n")
        p = run("--config", str(bad), "--check-config")
        assert p.returncode == 1 and "must be a mapping" in p.stderr, p.stderr
        # unknown keys warn
        odd = tmp_path / "odd.yaml"
        odd.write_text(open(cfg).read() + "logging:\n  level: info\n")
        p = run("--config", str(odd), "--check-config", env=st.env)
        assert p.returncode == 0 and "odd.yaml:" in p.stderr and "unknown key logging.level" in p.stderr
        # flags
        assert run("--version").stdout.startswith("hailo-ocr ")
        assert "--check-config" in run("--help").stdout
        assert run("--port", "nope", "--config", cfg, "--check-config").returncode == 2
        assert run("--config", "/nonexistent.yaml").returncode == 1
    finally:
        st.cleanup()
