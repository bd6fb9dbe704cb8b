"""Residency: LRU eviction when device memory is full, pinned models, the
one-GenAI-model rule, and eviction on the device's resource-exhausted error."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

SIM_SMALL = hdmtest.SIM_ZERO_LATENCY + "memory_mb: 1000\n"


def loaded(m):
    return [x["model_path"] for x in m.request({"action": "status"})["loaded_models"]]


def depth(m, path, **extra):
    return m.request(dict({"action": "infer", "model_type": "depth", "model_path": path,
                           "input_data": {"input": hdmtest.tensor("uint8", [1, 256, 320, 3])}},
                          **extra))


def test_lru_eviction_when_memory_full():
    with hdmtest.Manager(sim_config=SIM_SMALL) as m:
        a, b, c = (m.make_model(n, footprint_mb=400) for n in ("a.hef", "b.hef", "c.hef"))
        assert depth(m, a)["status"] == "ok"
        assert depth(m, b)["status"] == "ok"
        assert depth(m, a)["status"] == "ok"  # b is now least recently used
        r = depth(m, c)
        assert r["status"] == "ok", r
        now = loaded(m)
        assert c in now and a in now and b not in now
        st = m.request({"action": "status"})
        assert st["total_lru_evictions"] >= 1
        assert st["last_capacity_event_reason"]


def test_pinned_models_are_not_evicted():
    with hdmtest.Manager(sim_config=SIM_SMALL) as m:
        a, b, c = (m.make_model(n, footprint_mb=450) for n in ("pa.hef", "pb.hef", "pc.hef"))
        assert depth(m, a, keep_alive=-1)["status"] == "ok"
        assert depth(m, b, keep_alive=-1)["status"] == "ok"
        r = depth(m, c)
        assert r["code"] == "resource_exhausted", r
        assert "HAILO_RESOURCE_EXHAUSTED" in r["error"]
        assert set(loaded(m)) == {a, b}


def test_keep_alive_zero_unloads_after_use():
    with hdmtest.Manager() as m:
        p = m.make_model("ka0.hef")
        assert depth(m, p, keep_alive=0)["status"] == "ok"
        assert p not in loaded(m)


def test_only_one_genai_model_resident():
    with hdmtest.Manager() as m:
        v1 = m.make_model("vlm-one.hef")
        v2 = m.make_model("vlm-two.hef")
        req = {"action": "infer", "model_type": "vlm_chat",
               "input_data": {"prompt": "hi", "max_generated_tokens": 2}}
        assert m.request(dict(req, model_path=v1))["status"] == "ok"
        assert m.request(dict(req, model_path=v2))["status"] == "ok"
        now = loaded(m)
        assert v2 in now and v1 not in now


def test_eviction_on_device_resource_exhausted():
    sim = hdmtest.SIM_ZERO_LATENCY + "faults:\n  fail_load_nth: 2\n"
    with hdmtest.Manager(sim_config=sim) as m:
        a = m.make_model("ra.hef")
        b = m.make_model("rb.hef")
        assert depth(m, a)["status"] == "ok"
        r = depth(m, b)  # the device says out of memory once: a is evicted, b retried
        assert r["status"] == "ok", r
        st = m.request({"action": "status"})
        assert st["total_lru_evictions"] >= 1
        assert st["last_capacity_event_reason"] and st["last_capacity_event_model"] == a, st


def test_idle_models_stay_until_memory_is_needed():
    """The original manager's residency (issue 15 item 5): an idle model is
    never unloaded for idleness by default; only a load that needs its memory
    evicts it (least recently used first)."""
    with hdmtest.Manager(sim_config=SIM_SMALL) as m:
        a = m.make_model("idle-a.hef", footprint_mb=400)
        b = m.make_model("idle-b.hef", footprint_mb=400)
        c = m.make_model("idle-c.hef", footprint_mb=400)
        for p in (a, b):
            assert depth(m, p)["status"] == "ok"
        st = m.request({"action": "status"})
        models = {x["model_path"]: x for x in st["loaded_models"]}
        assert set(models) == {a, b}
        assert all(x["keep_alive"] is None for x in models.values()), models
        assert all("expires_in_seconds" not in x for x in models.values()), models
        # The registry's idle timer has nothing to wait for: both stay.
        assert st["registry"]["evictions_keep_alive"] == 0
        # Memory pressure evicts the least recently used one (a).
        assert depth(m, c)["status"] == "ok"
        left = {x["model_path"] for x in m.request({"action": "status"})["loaded_models"]}
        assert left == {b, c}
