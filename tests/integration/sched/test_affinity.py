"""Model affinity: with two models that cannot both fit, queued requests for
the resident model run before one that needs a swap, within a bound; FIFO
mode swaps on every alternation (issue 5)."""

from schedutil import depth_model, infer, load, manager, recv_all, status, wait_running, \
    wait_until


def alternating_run(config="", args=()):
    """X resident; behind a running blocker, x1 y1 x2 y2 x3 y3 x4 y4 are queued
    (clients x and y).  Returns (run order, loads caused by them).  The
    blocker runs until it is cancelled once all eight are queued, so the
    queue is complete however slow the machine is."""
    with manager(config, args=args) as m:
        x = depth_model(m, "x.hef", footprint_mb=5000, load_ms=20, infer_ms=5)
        y = depth_model(m, "y.hef", footprint_mb=5000, load_ms=20, infer_ms=5)
        z = depth_model(m, "z.hef", footprint_mb=100, infer_ms=600000)
        assert m.request(load(x))["status"] == "ok"
        assert m.request(load(z))["status"] == "ok"
        with m.client() as c:
            c.send(infer(z, "blocker", client_name="z"))
            wait_running(m)
            loads_before = status(m)["registry"]["loads"]
            for i in range(1, 5):
                c.send(infer(x, "x%d" % i, client_name="x"))
                c.send(infer(y, "y%d" % i, client_name="y"))
            wait_until(lambda: status(m)["queue_depth"] == 8, 60, "the eight jobs to be queued")
            c.send({"action": "cancel", "target_request_id": "blocker", "request_id": "stop"})
            answers = recv_all(c, 10, timeout=60)
        by_id = {a["request_id"]: a for a in answers}
        assert by_id["stop"]["status"] == "ok" and by_id["blocker"]["code"] == "cancelled", by_id
        order = [a["request_id"] for a in answers if a["request_id"] not in ("stop", "blocker")]
        assert all(by_id[r]["status"] == "ok" for r in order), answers
        return order, status(m)["registry"]["loads"] - loads_before


def test_fair_runs_resident_work_first():
    order, loads = alternating_run()
    assert order == ["x1", "x2", "x3", "x4", "y1", "y2", "y3", "y4"]
    assert loads == 1  # one swap to y


def test_affinity_is_bounded_by_count():
    order, loads = alternating_run("scheduler:\n  affinity_max_jobs: 2\n")
    assert order == ["x1", "x2", "x3", "y1", "y2", "y3", "x4", "y4"]
    assert loads == 3


def test_fifo_swaps_on_every_alternation():
    order, loads = alternating_run(args=["--scheduler", "fifo"])
    assert order == ["x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4"]
    assert loads == 7
