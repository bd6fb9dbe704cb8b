"""GET /metrics: Prometheus text that promtool accepts, with the queue,
wait/service histograms, request/error counters, model and memory figures
(issue 5)."""

import shutil
import subprocess

import pytest

from schedutil import depth_model, infer, load, manager, recv_all, wait_running


def scrape(m):
    code, body = m.http_get("/metrics")
    assert code == 200
    return body.decode("utf-8")


def exercise(m):
    slow = depth_model(m, "slow.hef", infer_ms=200)
    fast = depth_model(m, "fast.hef")
    assert m.request(load(fast, keep_alive=-1))["status"] == "ok"
    with m.client() as c:
        c.send(infer(slow, "blocker", client_name="weird \"name\"\\x"))
        wait_running(m)
        c.send(infer(fast, "late", timeout_ms=20, priority="batch"))
        c.send(infer(fast, "ok", priority="interactive"))
        recv_all(c, 3)
    m.request(infer("/nonexistent/model.hef", "bad"))


def test_metrics_families_and_values():
    with manager(http=True) as m:
        exercise(m)
        text = scrape(m)
        for family in ("hailo_queue_depth", "hailo_queue_wait_seconds", "hailo_service_seconds",
                       "hailo_requests_total", "hailo_errors_total", "hailo_cancellations_total",
                       "hailo_deadline_expired_total", "hailo_busy_rejections_total",
                       "hailo_model_loads_total", "hailo_model_evictions_total",
                       "hailo_model_resident_bytes", "hailo_device_memory_total_bytes",
                       "hailo_device_temperature_celsius", "hailo_model_recreations_total"):
            assert "# TYPE %s " % family in text, family
        assert "hailo_model_recreations_total 0" in text  # the sim never shuts a model down
        for p in ("realtime", "interactive", "normal", "batch"):
            assert 'hailo_queue_depth{priority="%s"} 0' % p in text
        assert 'hailo_queue_wait_seconds_count{model_type="depth"} 3' in text  # load, blocker, ok
        assert "hailo_deadline_expired_total 1" in text
        assert 'hailo_errors_total{code="deadline_exceeded"} 1' in text
        assert 'hailo_client_requests_total{client="weird \\"name\\"\\\\x"} 1' in text
        assert 'pinned="true"' in text


def test_promtool_accepts_metrics():
    promtool = shutil.which("promtool")
    if not promtool:
        pytest.skip("promtool not installed (Debian package `prometheus`); "
                    "cannot check the exposition format")
    with manager(http=True) as m:
        exercise(m)
        text = scrape(m)
    r = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=30)
    out = (r.stdout + r.stderr).decode()
    assert r.returncode == 0, out
