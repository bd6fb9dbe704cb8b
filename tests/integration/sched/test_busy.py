"""Backpressure: a bounded queue per client and in total answers busy at
once with retry_after_ms (issue 5)."""

from schedutil import depth_model, infer, manager, recv_all, status, wait_running

CONFIG = "scheduler:\n  max_queue: 4\n  max_queue_per_client: 2\n"


def test_per_client_and_total_bounds():
    with manager(CONFIG, http=True) as m:
        slow = depth_model(m, "slow.hef", infer_ms=500)
        fast = depth_model(m, "fast.hef")
        with m.client() as a, m.client() as b, m.client() as c:
            a.send(infer(slow, "blocker", client_name="a"))
            wait_running(m)
            for i in range(3):
                a.send(infer(fast, "a%d" % i, client_name="a"))
            # Answered at once: before the blocker, which is still running.
            busy = a.recv(timeout=5)
            assert busy["request_id"] == "a2"
            assert busy["code"] == "busy"
            assert busy["retry_after_ms"] > 0
            assert "queue" in busy["error"].lower()

            b.send(infer(fast, "b0", client_name="b"))
            b.send(infer(fast, "b1", client_name="b"))
            c.send(infer(fast, "c0", client_name="c"))
            full = c.recv(timeout=5)
            assert full["code"] == "busy" and full["retry_after_ms"] > 0
            st = status(m)
            assert st["queue_depth"] == 4
            assert st["scheduler"]["busy_rejections"] == 2
            answers = recv_all(a, 3) + recv_all(b, 2)
            assert all(x["status"] == "ok" for x in answers)
        code, body = m.http_get("/metrics")
        assert code == 200
        assert b"hailo_busy_rejections_total 2" in body
