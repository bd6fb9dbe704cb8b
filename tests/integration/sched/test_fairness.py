"""Fair share between clients: a flood from one client delays another
client's single request by about one device operation (issue 5)."""

import threading
import time

from schedutil import depth_model, infer, manager, recv_all, wait_running

FLOOD = 20


def flood_vs_single(mode):
    """Returns how many flood requests finished between the single request's
    send and its answer."""
    with manager(args=["--scheduler", mode]) as m:
        op = depth_model(m, "op.hef", infer_ms=40)
        events = []  # (monotonic time, what)
        lock = threading.Lock()
        with m.client() as flood, m.client() as single:
            for i in range(FLOOD):
                flood.send(infer(op, "f%d" % i, client_name="flooder"))
            wait_running(m)

            def reader():
                for a in recv_all(flood, FLOOD, timeout=30):
                    assert a.get("status") == "ok", a
                    with lock:
                        events.append((time.monotonic(), a["request_id"]))

            t = threading.Thread(target=reader)
            t.start()
            sent = time.monotonic()
            a = single.request(infer(op, "single", client_name="single"), timeout=30)
            answered = time.monotonic()
            assert a.get("status") == "ok", a
            t.join()
        with lock:
            return sum(1 for ts, _ in events if sent < ts < answered)


def test_single_request_waits_about_one_operation_in_fair_mode():
    # The operation in hand finishes, then the single client is next; slack of one.
    assert flood_vs_single("fair") <= 2


def test_fifo_mode_makes_it_wait_behind_the_flood():
    assert flood_vs_single("fifo") >= FLOOD // 2


def test_per_client_figures_in_status():
    with manager() as m:
        op = depth_model(m, "op.hef", infer_ms=1)
        for i in range(3):
            assert m.request(infer(op, "a%d" % i, client_name="alpha"))["status"] == "ok"
        assert m.request(infer(op, "b", client_name="beta"))["status"] == "ok"
        st = m.request({"action": "status"})
        clients = {c["name"]: c for c in st["clients"]}
        assert clients["alpha"]["requests"] == 3
        assert clients["alpha"]["errors"] == 0
        assert clients["beta"]["requests"] == 1
        for key in ("p50", "p90", "p99"):
            assert clients["alpha"]["wait_ms"][key] >= 0
        assert clients["alpha"]["service_ms"]["p99"] >= 1
        assert st["queue_depth"] == 0
        assert set(st["queue_by_priority"]) == {"realtime", "interactive", "normal", "batch"}
        assert st["scheduler"]["mode"] == "fair"
        kinds = {k["model_type"]: k for k in st["model_types"]}
        assert kinds["depth"]["service_ms"]["count"] == 4
