"""hailo-whisper's life with the manager: a client that hangs up cancels
its remaining windows; model.keep_alive as the original meant it (0:
unloaded after each request, N: after N idle seconds, reloaded on demand);
the transcription gate; a manager restart heals; the bearer token; a clean
stop that unloads a pinned model."""

import json
import os
import threading

import pytest
import requests

from conftest import (MODEL, Whisper, assert_error, audio, manager_call, model_requests,
                      raw_request, slow_model, wait_until, whisper_yaml)


def resident(stack, hef):
    st = manager_call(stack.socket, {"action": "status"})
    return any(m["model_path"] == hef for m in st.get("loaded_models", []))


def idle(stack):
    return manager_call(stack.socket, {"action": "status"})["scheduler"]["running"] == 0


@pytest.fixture(scope="module")
def slow(stack):
    """A service on a model whose windows take 300 ms each, one
    transcription at a time and none waiting."""
    hef = slow_model(stack, "whisper-gate.hef", infer_ms=300)
    w = Whisper(stack, whisper_yaml(stack, name="gate", hef=hef, max_seconds=3600,
                                    extra_transcription="  max_concurrent: 1\n"
                                                        "  max_waiting: 0\n"),
                name="gate").start()
    w.hef = hef
    yield w
    alive = w.alive()
    w.stop()
    assert alive, w.log_text()[-3000:]


def test_hang_up_cancels_the_remaining_windows(stack, slow):
    before = model_requests(stack, slow.hef)
    s = raw_request(slow, audio("long-10min.mp3"))
    wait_until(lambda: model_requests(stack, slow.hef) - before >= 2, 30,
               "two windows on the model")
    s.close()
    wait_until(lambda: "transcription cancelled" in slow.log_text(), 30,
               "the service to notice the hang-up")
    wait_until(lambda: idle(stack), 30, "the manager to be idle")
    assert model_requests(stack, slow.hef) - before < 18
    # The slot is free again.
    assert slow.transcribe(audio("tone.wav")).status_code == 200


def test_gate_refuses_beyond_its_slots(stack, slow):
    before = model_requests(stack, slow.hef)
    result = {}
    t = threading.Thread(target=lambda: result.update(
        r=slow.transcribe(audio("long-10min.mp3"), filename="long.mp3")))
    t.start()
    try:
        wait_until(lambda: model_requests(stack, slow.hef) > before, 30, "the first window")
        r = slow.transcribe(audio("tone.wav"))
        assert_error(r, 503, "transcriptions are running")
        assert r.headers["Retry-After"] == "5"
    finally:
        t.join(120)
    assert result["r"].status_code == 200, result["r"].text


def test_keep_alive_zero_unloads_after_the_request(stack):
    hef = slow_model(stack, "whisper-ka0.hef", infer_ms=0)
    w = Whisper(stack, whisper_yaml(stack, name="ka0", hef=hef, keep_alive=0, max_seconds=3600),
                name="ka0").start()
    try:
        # Readiness with keep_alive 0 means "the manager answers": nothing is loaded ahead.
        assert not resident(stack, hef)
        loads = manager_call(stack.socket, {"action": "status"})["registry"]["loads"]
        r = w.transcribe(audio("long-10min.mp3"), filename="long.mp3")
        assert r.status_code == 200
        wait_until(lambda: not resident(stack, hef), 30, "the model to be unloaded")
        # One load for all 20 windows, not one per window.
        assert manager_call(stack.socket, {"action": "status"})["registry"]["loads"] == loads + 1
        assert w.transcribe(audio("tone.wav")).status_code == 200
        wait_until(lambda: not resident(stack, hef), 30, "the model to be unloaded again")
    finally:
        w.stop()


def test_keep_alive_seconds_reloads_on_demand(stack):
    hef = slow_model(stack, "whisper-ka1.hef", infer_ms=0)
    w = Whisper(stack, whisper_yaml(stack, name="ka1", hef=hef, keep_alive=1),
                name="ka1").start()
    try:
        assert w.transcribe(audio("tone.wav")).status_code == 200
        wait_until(lambda: not resident(stack, hef), 30, "the idle model to be unloaded")
        assert w.get("/health/ready").status_code == 200
        assert w.transcribe(audio("speech.wav")).status_code == 200
        assert resident(stack, hef)
    finally:
        w.stop()


def test_bearer_token(stack):
    path = whisper_yaml(stack, name="token", extra_server="  bearer_token: s3cret\n")
    w = Whisper(stack, path, name="token").start()
    try:
        r = w.transcribe(audio("tone.wav"))
        assert_error(r, 401)
        assert w.get("/health").status_code == 200
        r = w.transcribe(audio("tone.wav"), headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 200
    finally:
        w.stop()


def test_manager_restart_heals(stack):
    w = Whisper(stack, whisper_yaml(stack, name="restart"), name="restart").start()
    try:
        stack.kill_manager()
        wait_until(lambda: w.get("/health/ready").status_code == 503, 30, "not ready")
        body = w.get("/health/ready").json()
        assert body["ready"] is False and body["reason"] == "model_loading"
        r = w.transcribe(audio("tone.wav"))
        assert_error(r, 503, "not ready")
        stack.start_manager()
        w.wait_ready()
        assert w.transcribe(audio("tone.wav")).status_code == 200
    finally:
        w.stop()


def test_stop_unloads_the_pinned_model(stack):
    hef = slow_model(stack, "whisper-pinned.hef", infer_ms=0)
    w = Whisper(stack, whisper_yaml(stack, name="pinned", hef=hef), name="pinned").start()
    assert resident(stack, hef)
    w.stop()  # asserts exit 0
    assert not resident(stack, hef)
    assert "unloaded" in w.log_text()


def test_check_config(stack):
    import subprocess
    from conftest import hdmtest
    p = subprocess.run([hdmtest.binary("hailo-whisper"), "--config",
                        whisper_yaml(stack, name="check"), "--check-config"],
                       capture_output=True, text=True, env=stack.env, timeout=30)
    assert p.returncode == 0 and "OK" in p.stdout, p.stdout + p.stderr
    bad = os.path.join(stack.root, "bad.yaml")
    with open(bad, "w") as f:
        f.write("transcription:\n  language: 'e n'\n  vad_filter: maybe\n")
    p = subprocess.run([hdmtest.binary("hailo-whisper"), "--config", bad, "--check-config"],
                       capture_output=True, text=True, env=stack.env, timeout=30)
    assert p.returncode == 1 and "bad.yaml:3" in p.stderr, p.stderr
    with open(bad, "w") as f:
        f.write(json.dumps({"transcription": {"language": "e n"}}))
    p = subprocess.run([hdmtest.binary("hailo-whisper"), "--config", bad, "--check-config"],
                       capture_output=True, text=True, env=stack.env, timeout=30)
    assert p.returncode == 1 and "transcription.language" in p.stderr, p.stderr
