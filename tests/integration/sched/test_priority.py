"""Priority classes, aging and per-client default priorities (issue 5)."""

from schedutil import depth_model, infer, manager, recv_all, wait_running


def run_order(m, reqs, blocker_ms=300):
    """Queues reqs behind a running blocker on one connection; returns the
    request_ids in the order their answers came (= the order they ran)."""
    slow = depth_model(m, "slow.hef", infer_ms=blocker_ms)
    with m.client() as c:
        c.send(infer(slow, "blocker", client_name="blocker"))
        wait_running(m)
        for r in reqs:
            c.send(r)
        answers = recv_all(c, len(reqs) + 1)
    for a in answers:
        assert a.get("status") == "ok", a
    order = [a["request_id"] for a in answers]
    assert order[0] == "blocker"
    return order[1:]


def test_higher_classes_first():
    with manager("scheduler:\n  aging_ms: 60000\n") as m:
        fast = depth_model(m, "fast.hef", infer_ms=5)
        reqs = [infer(fast, p, priority=p, client_name="c-" + p)
                for p in ("batch", "normal", "interactive", "realtime")]
        reqs.append(infer(fast, "default", client_name="c-default"))  # normal by default
        order = run_order(m, reqs)
        assert order.index("realtime") < order.index("interactive") < order.index("normal")
        assert order.index("interactive") < order.index("default")
        assert order[-1] == "batch"


def test_bad_priority_is_rejected():
    with manager() as m:
        fast = depth_model(m, "fast.hef")
        a = m.request(infer(fast, "x", priority="urgent"))
        assert a.get("code") == "bad_request"
        assert "priority" in a["error"]


def test_aging_lets_batch_through_a_stream_of_interactive_work():
    # With aging every 50 ms a batch job outranks fresh interactive work after
    # 100 ms; without aging it runs last.
    for aging_ms, expect_early in ((50, True), (0, False)):
        with manager("scheduler:\n  aging_ms: %d\n" % aging_ms) as m:
            op = depth_model(m, "op.hef", infer_ms=40)
            reqs = [infer(op, "batch", priority="batch", client_name="bulk")]
            reqs += [infer(op, "i%d" % i, priority="interactive", client_name="ui")
                     for i in range(12)]
            order = run_order(m, reqs, blocker_ms=150)
            pos = order.index("batch")
            if expect_early:
                assert pos <= 6, order
            else:
                assert pos == len(order) - 1, order


def test_client_default_priority_from_config():
    cfg = "scheduler:\n  aging_ms: 60000\n  client_priority:\n    - vip=realtime\n    - slow=batch\n"
    with manager(cfg) as m:
        fast = depth_model(m, "fast.hef", infer_ms=5)
        reqs = [infer(fast, "slow", client_name="slow"),
                infer(fast, "plain", client_name="plain"),
                infer(fast, "vip", client_name="vip"),
                infer(fast, "vip-but-batch", client_name="vip", priority="batch")]
        order = run_order(m, reqs)
        assert order[0] == "vip"
        assert order.index("plain") < order.index("slow")
        assert order.index("plain") < order.index("vip-but-batch")
