"""Device faults injected by the sim backend (src/backends/backend-sim-config.c):
the manager answers each with the right error, keeps serving, and recovers
by itself: eviction on HAILO_RESOURCE_EXHAUSTED, a clear resource_exhausted
when nothing can be evicted, a device timeout in the middle of inference,
and a lost device (runtime reset, runtime_broken_reason shown, then cleared
once the device works again)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402
from hdmtest import tensor  # noqa: E402

TIMEOUT = 60 if hdmtest.manager_wrapped() else 15


def depth(m, path, **extra):
    req = {"action": "infer", "model_path": path, "model_type": "depth",
           "input_data": {"input": tensor("uint8", [4, 4, 3])}}
    req.update(extra)
    return m.request(req, timeout=TIMEOUT)


def status(m):
    return m.request({"action": "status"}, timeout=TIMEOUT)


def loaded(m):
    return [x["model_path"] for x in status(m)["loaded_models"]]


def manager(faults, memory_mb=None, config=None):
    sim = hdmtest.SIM_ZERO_LATENCY
    if faults:
        sim += "faults:\n" + "".join("  %s: %d\n" % kv for kv in faults.items())
    if memory_mb:
        sim = "memory_mb: %d\n" % memory_mb + sim
    m = hdmtest.Manager(sim_config=sim)
    if config:
        path = os.path.join(m.workdir, "manager.yaml")
        with open(path, "w") as f:
            f.write(config)
        m.args = ["--config", path]
    try:
        m.start(timeout=TIMEOUT * 2)
    except BaseException:
        m.cleanup()
        raise
    return m


def test_resource_exhausted_at_load_evicts_then_succeeds():
    with manager({"fail_load_nth": 2}) as m:
        a = m.make_model("a.hef", input_height=4, input_width=4)
        b = m.make_model("b.hef", input_height=4, input_width=4)
        assert depth(m, a)["status"] == "ok"
        r = depth(m, b)
        assert r["status"] == "ok", r
        st = status(m)
        assert st["total_lru_evictions"] == 1, st
        assert st["last_capacity_event_model"] == a, st
        assert st["last_capacity_event_reason"] == "lru_eviction", st
        assert loaded(m) == [b]
        # the fault fired once: both fit again afterwards
        assert depth(m, a)["status"] == "ok"


def test_resource_exhausted_with_nothing_to_evict():
    with manager({"load_resource_exhausted_every": 1}) as m:
        a = m.make_model("a.hef", input_height=4, input_width=4)
        for _ in range(3):
            r = depth(m, a)
            assert r["code"] == "resource_exhausted", r
            assert "HAILO_RESOURCE_EXHAUSTED" in r["error"], r
        assert loaded(m) == []
        st = status(m)
        assert st["runtime_broken_reason"] is None, st  # memory pressure is not a sick device
        assert st["queue_depth"] == 0
        assert m.request({"action": "ping"})["status"] == "ok"


def test_pinned_models_leave_no_room():
    with manager({}, memory_mb=1000) as m:
        a = m.make_model("pin.hef", footprint_mb=800, input_height=4, input_width=4)
        b = m.make_model("other.hef", footprint_mb=800, input_height=4, input_width=4)
        assert depth(m, a, keep_alive=-1)["status"] == "ok"
        r = depth(m, b)
        assert r["code"] == "resource_exhausted", r
        assert a in loaded(m)


def test_device_timeout_mid_inference():
    with manager({"infer_timeout_nth": 2}) as m:
        a = m.make_model("t.hef", input_height=4, input_width=4)
        assert depth(m, a)["status"] == "ok"
        r = depth(m, a)
        assert r["code"] == "deadline_exceeded", r
        assert "HAILO_TIMEOUT" in r["error"], r
        # one timeout is not enough to reset the runtime; the next call works
        r = depth(m, a)
        assert r["status"] == "ok", r
        st = status(m)
        assert st["runtime_broken_reason"] is None and a in loaded(m), st


def test_device_lost_reset_and_recovery():
    cfg = "registry:\n  reset_after_errors: 2\n"
    with manager({"device_lost_nth": 2}, config=cfg) as m:
        a = m.make_model("lost.hef", input_height=4, input_width=4)
        assert depth(m, a)["status"] == "ok"
        r = depth(m, a)                      # the device is lost here
        assert r["code"] == "device_error" and "HAILO_DRIVER_FAIL" in r["error"], r
        assert status(m)["runtime_broken_reason"] is None   # one error: not yet
        r = depth(m, a)                      # second consecutive error: reset
        assert r["code"] == "device_error", r
        st = status(m)
        reason = st["runtime_broken_reason"]
        assert reason and "runtime context was reset" in reason, st
        assert loaded(m) == [], st           # a reset unloads everything
        r = depth(m, a)                      # loads again on the fresh runtime
        assert r["status"] == "ok", r
        st = status(m)
        assert st["runtime_broken_reason"] is None, st
        assert loaded(m) == [a]


def test_device_lost_reset_fails_once_then_recovers():
    cfg = "registry:\n  reset_after_errors: 1\n"
    with manager({"device_lost_nth": 1, "reset_fail_count": 1}, config=cfg) as m:
        a = m.make_model("lost2.hef", input_height=4, input_width=4)
        r = depth(m, a)
        assert r["code"] == "device_error", r
        st = status(m)
        assert "runtime reset failed" in (st["runtime_broken_reason"] or ""), st
        # the device is still lost: the next call fails and resets again (this one works)
        r = depth(m, a)
        assert r["code"] == "device_error", r
        assert "runtime context was reset" in (status(m)["runtime_broken_reason"] or "")
        r = depth(m, a)
        assert r["status"] == "ok", r
        assert status(m)["runtime_broken_reason"] is None


def test_device_lost_during_load():
    cfg = "registry:\n  reset_after_errors: 1\n"
    with manager({"device_lost_load_nth": 1}, config=cfg) as m:
        a = m.make_model("ll.hef", input_height=4, input_width=4)
        r = m.request({"action": "load_model", "model_path": a, "model_type": "depth"},
                      timeout=TIMEOUT)
        assert r["code"] == "device_error", r
        assert status(m)["runtime_broken_reason"]
        r = m.request({"action": "load_model", "model_path": a, "model_type": "depth"},
                      timeout=TIMEOUT)
        assert r["status"] == "ok" and r["message"] == "Model loaded", r
        assert status(m)["runtime_broken_reason"] is None
