"""Residency: keep_alive expiry, keep_alive 0, pinning, preload, proactive
LRU eviction when memory is full, GenAI swap (issue 5)."""

from schedutil import depth_model, infer, load, manager, status, wait_until


def loaded(m):
    return {x["model_path"]: x for x in status(m)["loaded_models"]}


def test_keep_alive_expiry_and_zero():
    with manager() as m:
        short = depth_model(m, "short.hef")
        stay = depth_model(m, "stay.hef")
        once = depth_model(m, "once.hef")
        assert m.request(load(short, keep_alive=0.3))["message"] == "Model loaded"
        assert m.request(load(stay))["status"] == "ok"
        models = loaded(m)
        assert models[short]["keep_alive"] == 0.3
        # The default: resident until its memory is needed (no idle unload).
        assert models[stay]["keep_alive"] is None and "expires_in_seconds" not in models[stay]
        wait_until(lambda: short not in loaded(m), timeout=5, what="keep-alive expiry")
        assert stay in loaded(m)
        assert status(m)["registry"]["evictions_keep_alive"] >= 1
        # keep_alive 0: unloaded right after the request.
        a = m.request(infer(once, "o", keep_alive=0))
        assert a["status"] == "ok"
        assert once not in loaded(m)


def test_default_keep_alive_from_config():
    with manager("registry:\n  default_keep_alive: 0.2\n") as m:
        p = depth_model(m, "p.hef")
        assert m.request(infer(p, "a"))["status"] == "ok"
        wait_until(lambda: p not in loaded(m), timeout=5, what="default keep-alive expiry")


def test_pinned_model_is_never_evicted():
    with manager() as m:
        pinned = depth_model(m, "pinned.hef", footprint_mb=5000)
        big = depth_model(m, "big.hef", footprint_mb=5000)
        assert m.request(load(pinned, keep_alive=-1))["status"] == "ok"
        a = m.request(load(big))
        assert a["code"] == "resource_exhausted"
        assert "HAILO_RESOURCE_EXHAUSTED" in a["error"]
        assert pinned in a["error"]
        models = loaded(m)
        assert models[pinned]["pinned"] is True
        assert big not in models
        assert m.request(infer(pinned, "still-here"))["status"] == "ok"
        # An explicit unload still works for a pinned model.
        assert m.request({"action": "unload_model", "model_type": "depth",
                          "model_path": pinned})["message"] == "Model unloaded"
        assert m.request(load(big))["message"] == "Model loaded"


def test_lru_eviction_when_memory_is_full():
    with manager() as m:
        a = depth_model(m, "a.hef", footprint_mb=3000)
        b = depth_model(m, "b.hef", footprint_mb=3000)
        c = depth_model(m, "c.hef", footprint_mb=3000)
        assert m.request(load(a))["status"] == "ok"
        assert m.request(load(b))["status"] == "ok"
        assert m.request(infer(a, "touch"))["status"] == "ok"  # b is now least recent
        assert m.request(load(c))["message"] == "Model loaded"
        models = loaded(m)
        assert a in models and c in models and b not in models
        st = status(m)
        assert st["total_lru_evictions"] == 1
        assert st["last_capacity_event_model"] == b
        assert st["last_capacity_event_reason"] in ("proactive_eviction", "lru_eviction")
        assert st["last_capacity_event_at"] > 1e9
        assert st["memory"]["used_bytes"] == 6000 * 1024 * 1024
        assert st["memory"]["total_bytes"] > 0


def test_genai_models_swap():
    with manager() as m:
        v1 = m.make_model("vlm1.hef")
        v2 = m.make_model("vlm2.hef")
        for v in (v1, v2):
            a = m.request({"action": "load_model", "model_type": "vlm_chat", "model_path": v})
            assert a["message"] == "Model loaded", a
        models = loaded(m)
        assert v2 in models and v1 not in models
        st = status(m)
        assert st["registry"]["genai_swaps"] == 1
        assert st["last_capacity_event_reason"] == "genai_swap"


def test_preload_before_ready():
    m = manager()
    p = depth_model(m, "pre.hef")
    with open(m.args[1], "w") as f:  # the --config file
        f.write("preload:\n  - depth:%s\n" % p)
    with m:
        wait_until(lambda: p in loaded(m), timeout=5, what="the preloaded model")
        assert m.request(load(p))["message"] == "Model already loaded"
