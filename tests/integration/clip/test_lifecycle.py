"""Start-up before the manager, manager restart survival, flags, config
errors and clean shutdown."""

import os
import signal
import subprocess

import pytest

from conftest import BIN, Clip, assert_error, b64, cleanup, make_stack, wait_until

PROMPTS = ["a photo of a cat", "a photo of a dog"]


@pytest.fixture(scope="module")
def cold_stack():
    """Assets, but the manager is not started yet."""
    st = make_stack(start_manager=False)
    yield st
    cleanup(st)


def classify(clip, stack):
    return clip.post("/v1/classify", {"image": b64(stack["red"]), "prompts": PROMPTS}, timeout=30)


def test_not_ready_before_manager_then_ready(cold_stack):
    clip = Clip(cold_stack)
    clip.start(wait_ready=False)
    try:
        r = clip.health()
        assert r.status_code == 503
        h = r.json()
        assert h["status"] != "healthy"
        assert h["model_loaded"] is False
        assert h["ready"] is False
        assert h["manager_reachable"] is False
        assert h["service"] == "hailo-clip"
        assert h["reason"]
        # requests are answered 503 with a reason, not hung
        assert_error(classify(clip, cold_stack), 503, "not ready")
        assert_error(clip.post("/v1/embed/text", {"text": "a cat"}), 503)
        # bad requests are still 400 while not ready
        assert_error(clip.post("/v1/classify", {"prompts": PROMPTS}), 400, "image")

        cold_stack["manager"].start()
        clip.wait_ready(timeout=30)
        h = clip.health().json()
        assert h["model_loaded"] is True and h["manager_reachable"] is True
        r = classify(clip, cold_stack)
        assert r.status_code == 200, r.text

        # manager restart: the service notices, and heals by itself
        before = r.json()
        cold_stack["manager"].stop()
        wait_until(lambda: clip.health().status_code == 503, 20, "/health to report not ready")
        assert clip.health().json()["manager_reachable"] is False
        r = classify(clip, cold_stack)
        assert r.status_code == 503, r.text
        cold_stack["manager"].start()
        clip.wait_ready(timeout=30)
        r = classify(clip, cold_stack)
        assert r.status_code == 200, r.text
        assert r.json()["classifications"] == before["classifications"]

        # a hard kill of the manager too
        cold_stack["manager"].stop(signal.SIGKILL)
        cold_stack["manager"].start()  # removes the stale socket itself
        wait_until(lambda: classify(clip, cold_stack).status_code == 200, 30,
                   "classify to work after a manager kill")
        assert clip.alive()
    finally:
        clip.stop()


def test_flags_override_config(cold_stack):
    if cold_stack["manager"].proc is None:
        cold_stack["manager"].start()
    clip = Clip(cold_stack)  # Clip passes --host 127.0.0.1 --port <free> over the file's port
    clip.start()
    try:
        assert clip.health().status_code == 200
    finally:
        clip.stop()


def test_config_env_var_and_check(cold_stack):
    env = dict(cold_stack["env"])
    env["HAILO_CLIP_CONFIG"] = cold_stack["config"]
    r = subprocess.run([os.path.join(BIN, "hailo-clip"), "--check-config"], env=env,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def test_bad_configs(cold_stack):
    root = cold_stack["root"]
    exe = os.path.join(BIN, "hailo-clip")
    env = cold_stack["env"]
    with open(cold_stack["config"]) as f:
        good = f.read()

    def run(*args):
        return subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=30)

    r = run("--config", os.path.join(root, "missing.yaml"))
    assert r.returncode != 0 and "missing.yaml" in r.stderr
    bad = write(os.path.join(root, "bad-port.yaml"), good.replace("port:", "port: notanumber\n  x:", 1))
    r = run("--config", bad, "--check-config")
    assert r.returncode != 0 and "bad-port.yaml:" in r.stderr, r.stderr
    bad = write(os.path.join(root, "bad-tok.yaml"),
                good.replace("tokenizer.json", "nonexistent-tokenizer.json"))
    r = run("--config", bad, "--check-config")
    assert r.returncode != 0 and "nonexistent-tokenizer.json" in r.stderr, r.stderr
    bad = write(os.path.join(root, "bad-dim.yaml"),
                good.replace("embedding_dimension: 512", "embedding_dimension: 256"))
    r = run("--config", bad, "--check-config")
    assert r.returncode != 0 and "256" in r.stderr, r.stderr
    # the projection file given as the token table: vocabulary does not fit
    bad = write(os.path.join(root, "bad-table.yaml"),
                good.replace("token_embedding_lut.npy", "text_projection.npy"))
    r = run("--config", bad, "--check-config")
    assert r.returncode != 0 and "rows" in r.stderr, r.stderr
    bad = write(os.path.join(root, "bad-hef.yaml"),
                good.replace("clip_vit_b_32_text_encoder.hef", "missing_text_encoder.hef"))
    r = run("--config", bad, "--check-config")
    assert r.returncode != 0 and "clip.text_hef_path" in r.stderr, r.stderr
    r = run("--port", "70000", "--config", cold_stack["config"], "--check-config")
    assert r.returncode != 0 and "server.port" in r.stderr, r.stderr
    r = run("--bogus")
    assert r.returncode == 2


def test_bearer_token(cold_stack):
    if cold_stack["manager"].proc is None:
        cold_stack["manager"].start()
    stack = dict(cold_stack)
    stack["env"] = dict(cold_stack["env"], HAILO_CLIP_TOKEN="s3cret")
    clip = Clip(stack, name="clip-token")
    clip.start()
    try:
        assert clip.health().status_code == 200  # health stays public
        r = clip.post("/v1/embed/text", {"text": "a cat"})
        assert r.status_code == 401
        r = clip.post("/v1/embed/text", {"text": "a cat"},
                      headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 200, r.text
    finally:
        clip.stop()
