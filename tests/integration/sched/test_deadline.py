"""Deadlines: work whose timeout_ms passed while queued is not run and is
answered deadline_exceeded, on time, even while the device is busy (issue 5)."""

from schedutil import depth_model, infer, manager, recv_all, status, wait_running


def test_expired_request_is_answered_without_running():
    with manager() as m:
        slow = depth_model(m, "slow.hef", infer_ms=400)
        fast = depth_model(m, "fast.hef")
        never = depth_model(m, "never.hef")
        with m.client() as c:
            c.send(infer(slow, "blocker"))
            wait_running(m)
            c.send(infer(never, "late", timeout_ms=50))
            c.send(infer(fast, "ok", timeout_ms=60000))
            answers = recv_all(c, 3)
        ids = [a["request_id"] for a in answers]
        # The expired one is answered while the blocker still runs.
        assert ids[0] == "late", ids
        late = answers[0]
        assert late["code"] == "deadline_exceeded"
        assert "deadline exceeded after" in late["error"]
        assert "in queue" in late["error"]
        assert answers[1]["status"] == "ok" and answers[2]["status"] == "ok"
        st = status(m)
        assert st["scheduler"]["deadline_expired"] == 1
        # The expired job never ran, so its model was never loaded.
        assert all(x["model_path"] != never for x in st["loaded_models"])


def test_class_default_deadline_from_config():
    with manager("scheduler:\n  deadline_ms:\n    batch: 50\n") as m:
        slow = depth_model(m, "slow.hef", infer_ms=300)
        fast = depth_model(m, "fast.hef")
        with m.client() as c:
            c.send(infer(slow, "blocker"))
            wait_running(m)
            c.send(infer(fast, "batch", priority="batch"))
            c.send(infer(fast, "normal", priority="normal"))
            answers = {a["request_id"]: a for a in recv_all(c, 3)}
        assert answers["batch"]["code"] == "deadline_exceeded"
        assert answers["normal"]["status"] == "ok"


def test_bad_timeout_is_rejected():
    with manager() as m:
        fast = depth_model(m, "fast.hef")
        for bad in (0, -5, 1.5, "10"):
            a = m.request(infer(fast, "x", timeout_ms=bad))
            assert a.get("code") == "bad_request", a
            assert "timeout_ms" in a["error"]
