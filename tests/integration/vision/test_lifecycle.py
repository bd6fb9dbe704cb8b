"""Model lifecycle through the manager: not ready until the manager is up,
transparent recovery after a manager crash, 500 on an inference failure."""

import requests

from conftest import MODEL, Vision, assert_openai_error, chat, vision_yaml, wait_until

USER = [{"role": "user", "content": "Hello there."}]


def ready_status(v):
    return requests.get(v.url + "/health/ready", timeout=5)


def test_starts_before_manager_and_becomes_ready(stack):
    mgr = stack["manager"]
    mgr.stop()
    v = Vision(stack["root"], stack["config"], stack["env"], name="vision-life")
    v.start(wait_ready=False)
    try:
        r = ready_status(v)
        assert r.status_code == 503
        body = r.json()
        assert body["ready"] is False and body["reason"]
        wait_until(lambda: "unavailable" in ready_status(v).json()["reason"], 15,
                   "the reason to name the missing manager")
        h = requests.get(v.url + "/health", timeout=5).json()
        assert h["status"] == "ok" and h["model_loaded"] is False
        assert_openai_error(chat(v, {"model": MODEL, "messages": USER}), 503,
                            etype="server_error", code="model_not_ready")
        # Bad requests are still told apart from "not ready".
        assert_openai_error(chat(v, {"model": MODEL, "messages": []}), 400)
        mgr.start()
        v.wait_ready(timeout=30)
        assert chat(v, {"model": MODEL, "messages": USER, "max_tokens": 3}).status_code == 200
        loaded = [m["model_path"] for m in mgr.status()["loaded_models"]]
        assert stack["hef"] in loaded

        # The manager crashes: the service notices, then heals by itself.
        mgr.kill()
        wait_until(lambda: ready_status(v).status_code == 503, 15, "not ready after the crash")
        r = chat(v, {"model": MODEL, "messages": USER})
        assert r.status_code == 503, r.text
        mgr.start()
        v.wait_ready(timeout=30)
        r = chat(v, {"model": MODEL, "messages": USER, "max_tokens": 3})
        assert r.status_code == 200, r.text
        assert stack["hef"] in [m["model_path"] for m in mgr.status()["loaded_models"]]
        assert v.alive()
    finally:
        v.stop()


def test_inference_failure_is_500(stack):
    mgr = stack["manager"]
    mgr.stop()
    mgr.start(sim_extra="faults:\n  device_lost_nth: 1\n")
    v = Vision(stack["root"], stack["config"], stack["env"], name="vision-fault")
    v.start()
    try:
        r = chat(v, {"model": MODEL, "messages": USER, "max_tokens": 3})
        assert_openai_error(r, 500, etype="server_error")
        assert requests.get(v.url + "/health", timeout=5).status_code == 200
        assert v.alive()
    finally:
        v.stop()
        mgr.stop()
        mgr.start()


def test_keep_alive_zero_unloads_after_each_request(stack):
    mgr = stack["manager"]
    v = Vision(stack["root"], vision_yaml(stack, keep_alive=0), stack["env"], name="vision-ka0")
    v.start()
    try:
        r = chat(v, {"model": MODEL, "messages": USER, "max_tokens": 3})
        assert r.status_code == 200, r.text
        wait_until(lambda: stack["hef"] not in
                   [m["model_path"] for m in mgr.status()["loaded_models"]], 10,
                   "the model to be unloaded after the request")
        # Still ready: the manager loads it again for the next request.
        assert ready_status(v).status_code == 200
        r = chat(v, {"model": MODEL, "messages": USER, "max_tokens": 3})
        assert r.status_code == 200, r.text
    finally:
        v.stop()


def test_clean_stop_releases_the_pin(stack):
    mgr = stack["manager"]
    v = Vision(stack["root"], stack["config"], stack["env"], name="vision-pin")
    v.start()
    assert stack["hef"] in [m["model_path"] for m in mgr.status()["loaded_models"]]
    v.stop()
    assert stack["hef"] not in [m["model_path"] for m in mgr.status()["loaded_models"]]
