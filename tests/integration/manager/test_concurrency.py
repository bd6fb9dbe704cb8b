"""Many clients at once, clients that go away, clients that do not read,
cancellation and deadlines."""

import os
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402


@pytest.fixture()
def mgr():
    m = hdmtest.Manager()
    m.start()
    yield m
    assert m.stop() == 0, m.log()
    m.cleanup()


def sched_figures(mgr):
    return mgr.request({"action": "status"}).get("scheduler", {})


def test_8_clients_x_500_mixed_requests_all_matched(mgr):
    clip_path, clip_params = mgr.make_clip("clip-mix")
    depth = mgr.make_model("depth-mix.hef")
    img = hdmtest.tensor("uint8", [1, 224, 224, 3])
    dimg = hdmtest.tensor("uint8", [1, 256, 320, 3])
    errors = []

    def make(cid, i):
        rid = "c%d-%d" % (cid, i)
        kind = i % 5
        if kind == 0:
            return rid, {"action": "ping", "request_id": rid}
        if kind == 1:
            return rid, {"action": "status", "request_id": rid}
        if kind == 2:
            return rid, {"action": "infer", "model_type": "clip", "model_path": clip_path,
                         "model_params": clip_params, "request_id": rid,
                         "client_name": "client-%d" % cid,
                         "input_data": {"mode": "image", "tensor": img}}
        if kind == 3:
            return rid, {"action": "infer", "model_type": "depth", "model_path": depth,
                         "request_id": rid, "input_data": {"input": dimg}}
        return rid, {"action": "load_model", "model_type": "depth", "model_path": depth,
                     "request_id": rid}

    def run(cid):
        try:
            with mgr.client(timeout=60) as c:
                i = 0
                while i < 500:
                    batch = [make(cid, j) for j in range(i, min(i + 8, 500))]
                    c.send_raw(b"".join(hdmtest.frame_v1(req) for _, req in batch))
                    want = {rid for rid, _ in batch}
                    for _ in batch:
                        r = c.recv()
                        if r.get("status") != "ok":
                            errors.append(r)
                        want.discard(r.get("request_id"))
                    if want:
                        errors.append("unanswered: %s" % sorted(want))
                    i += len(batch)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=run, args=(cid,)) for cid in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []


def wait_until(cond, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def model_requests(mgr, path):
    """Inferences the registry counted for a resident model (0 when not loaded)."""
    for m in mgr.request({"action": "status"})["loaded_models"]:
        if m["model_path"] == path:
            return m["requests"]
    return 0


def test_client_disconnecting_with_work_queued(mgr):
    """Issue 20 item 3 (manager side): the queued work of a client that went
    away is dropped before it starts, for every kind of request: v1 and
    binary inferences, streams, loads.  Waits for states, not for time.
    Dense and GenAI jobs run in lanes of their own (docs/SCHEDULING.md), so
    a blocker holds each lane."""
    blocker = mgr.make_model("blocker.hef", infer_ms=60000)
    blocker_vlm = mgr.make_model("blocker-vlm.hef", infer_ms=60000)
    victim_depth = mgr.make_model("victim-depth.hef")
    victim_vlm = mgr.make_model("victim-vlm.hef")
    victim_load = mgr.make_model("victim-load.hef")
    dimg = hdmtest.tensor("uint8", [1, 256, 320, 3])
    busy = mgr.client(timeout=60)
    busy.send({"action": "infer", "model_path": blocker, "model_type": "depth",
               "request_id": "blocker", "input_data": {"input": dimg}})
    busy.send({"action": "infer", "model_path": blocker_vlm, "model_type": "vlm_chat",
               "request_id": "blocker-vlm", "input_data": {"prompt": "hold the lane"}})
    wait_until(lambda: sched_figures(mgr).get("running") == 2, "the blockers to run")

    c = mgr.client()
    frames = []
    for i in range(4):
        frames.append(hdmtest.frame_v1({"action": "infer", "model_path": victim_depth,
                                        "model_type": "depth", "request_id": "v%d" % i,
                                        "input_data": {"input": dimg}}))
        frames.append(hdmtest.frame_v1({"action": "infer", "model_path": victim_vlm,
                                        "model_type": "vlm_chat", "request_id": "s%d" % i,
                                        "stream": True, "input_data": {"prompt": "hello"}}))
    raw = hdmtest.tensor_bytes("uint8", [1, 256, 320, 3])
    frames.append(hdmtest.frame_binary({"action": "infer", "model_path": victim_depth,
                                        "model_type": "depth", "request_id": "b",
                                        "input_data": {"input": hdmtest.tensor_ref(
                                            "uint8", [1, 256, 320, 3], 0)}}, [raw]))
    frames.append(hdmtest.frame_v1({"action": "load_model", "model_path": victim_load,
                                    "model_type": "depth", "request_id": "l"}))
    c.send_raw(b"".join(frames))
    queued = len(frames)
    wait_until(lambda: mgr.request({"action": "status"})["queue_depth"] == queued,
               "all of it queued")
    before = sched_figures(mgr).get("cancelled_disconnect", 0)
    c.close()
    wait_until(lambda: sched_figures(mgr).get("cancelled_disconnect", 0) - before == queued,
               "the gone client's work to be dropped")
    st = mgr.request({"action": "status"})
    assert st["queue_depth"] == 0, st
    # None of it ever reached the device: no victim model was loaded or run.
    loaded = {m["model_path"] for m in st["loaded_models"]}
    assert not loaded & {victim_depth, victim_vlm, victim_load}, loaded
    assert model_requests(mgr, blocker) == 0  # still running, untouched
    assert model_requests(mgr, blocker_vlm) == 0
    busy.close()  # the blockers' client leaves too: its running jobs are cancelled
    wait_until(lambda: sched_figures(mgr).get("running") == 0, "the blockers to stop")


def test_slow_reader_does_not_stall_others(mgr):
    path, params = mgr.make_clip("clip-slow-reader")
    req = {"action": "infer", "model_type": "clip", "model_path": path, "model_params": params,
           "client_name": "lazy",
           "input_data": {"mode": "text", "tensor": hdmtest.tensor("float32", [1, 77, 512])}}

    def lazy_answered():
        for c in mgr.request({"action": "status"})["clients"]:
            if c["name"] == "lazy":
                return c["service_ms"]["count"]
        return 0

    with mgr.client(timeout=60) as lazy, mgr.client(timeout=60) as busy_reader:
        n = 60  # ~12 MB of answers (210 KB each) the lazy client does not read for now
        data = b"".join(hdmtest.frame_v1(dict(req, request_id=str(i))) for i in range(n))
        # The manager stops reading a client whose answers pile up, so the
        # lazy client's sendall blocks until it reads: send from a thread.
        sender = threading.Thread(target=lazy.send_raw, args=(data,))
        sender.start()
        # 20 answers (4.2 MB) make the 4 MiB backlog after which the manager
        # stops reading the lazy client (a little more than 20 fit before it
        # stops, depending on the socket's buffer).
        hdmtest.wait_until(lambda: lazy_answered() >= 20, 60,
                           "the lazy client's answers to pile up")
        for i in range(50):
            assert busy_reader.request({"action": "ping", "request_id": str(i)})["status"] == "ok"
        got = {lazy.recv()["request_id"] for _ in range(n)}
        sender.join(30)
        assert got == {str(i) for i in range(n)}


def test_cancel_queued_request(mgr):
    # The first job runs until it is cancelled, so the second stays queued.
    slow = mgr.make_model("slow-cancel.hef", infer_ms=600000)
    body = {"action": "infer", "model_type": "depth", "model_path": slow,
            "input_data": {"input": hdmtest.tensor("uint8", [1, 256, 320, 3])}}
    with mgr.client(timeout=60) as c:
        c.send(dict(body, request_id="run"))
        hdmtest.wait_until(lambda: sched_figures(mgr).get("running") == 1, 60,
                           "the first job to run")
        c.send(dict(body, request_id="victim"))
        hdmtest.wait_until(lambda: mgr.request({"action": "status"}).get("queue_depth") == 1, 60,
                           "the second job to be queued")
        c.send({"action": "cancel", "target_request_id": "victim", "request_id": "k"})
        answers = {}
        for _ in range(2):
            r = c.recv()
            answers[r["request_id"]] = r
        assert answers["k"]["status"] == "ok"
        assert answers["victim"]["code"] == "cancelled"
        # The queued job went while the running one carries on.
        figures = sched_figures(mgr)
        assert figures.get("running") == 1 and figures.get("cancelled_request") == 1
        # Cancelling the running job stops it too.
        c.send({"action": "cancel", "target_request_id": "run", "request_id": "k2"})
        for _ in range(2):
            r = c.recv()
            answers[r["request_id"]] = r
        assert answers["k2"]["status"] == "ok"
        assert answers["run"]["code"] == "cancelled", answers["run"]


def test_deadline_exceeded_in_queue(mgr):
    slow = mgr.make_model("slow-deadline.hef", infer_ms=300)
    body = {"action": "infer", "model_type": "depth", "model_path": slow,
            "input_data": {"input": hdmtest.tensor("uint8", [1, 256, 320, 3])}}
    with mgr.client() as c:
        c.send(dict(body, request_id="first"))
        c.send(dict(body, request_id="late", timeout_ms=50))
        answers = {}
        for _ in range(2):
            r = c.recv()
            answers[r["request_id"]] = r
        assert answers["first"]["status"] == "ok"
        assert answers["late"]["code"] == "deadline_exceeded", answers["late"]


def test_many_connections(mgr):
    clients = [mgr.client() for _ in range(200)]
    try:
        for i, c in enumerate(clients):
            c.send({"action": "ping", "request_id": str(i)})
        for i, c in enumerate(clients):
            assert c.recv()["request_id"] == str(i)
    finally:
        for c in clients:
            c.close()
