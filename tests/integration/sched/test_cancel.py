"""Cancellation: queued work of a closed connection is dropped and counted;
`cancel` by target_request_id answers the target `cancelled` (issue 5)."""

from schedutil import depth_model, infer, manager, recv_all, status, wait_running, wait_until


def test_disconnect_drops_queued_work():
    with manager() as m:  # schedutil runs it with --log-level debug
        slow = depth_model(m, "slow.hef", infer_ms=300)
        other = depth_model(m, "other.hef")
        with m.client() as keep:
            keep.send(infer(slow, "blocker", client_name="keep"))
            wait_running(m)
            gone = m.client()
            for i in range(3):
                gone.send(infer(other, "g%d" % i, client_name="gone"))
            wait_until(lambda: status(m)["queue_depth"] == 3, what="3 queued jobs")
            gone.close()
            wait_until(lambda: status(m)["scheduler"]["cancelled_disconnect"] == 3,
                       what="the queued jobs to be dropped")
            assert keep.recv(timeout=5)["status"] == "ok"
        st = status(m)
        assert st["queue_depth"] == 0
        # The dropped jobs never ran: their model was never loaded.
        assert all(x["model_path"] != other for x in st["loaded_models"])
        gone_stats = {c["name"]: c for c in st["clients"]}["gone"]
        assert gone_stats["errors"] == 3
        assert "closed connection" in m.log() or "dropped 3" in m.log()


def test_cancel_by_request_id():
    with manager() as m:
        slow = depth_model(m, "slow.hef", infer_ms=300)
        fast = depth_model(m, "fast.hef")
        with m.client() as c:
            c.send(infer(slow, "blocker"))
            wait_running(m)
            c.send(infer(fast, "victim"))
            c.send(infer(fast, "survivor"))
            c.send({"action": "cancel", "request_id": "cx", "target_request_id": "victim"})
            answers = {a["request_id"]: a for a in recv_all(c, 4)}
        assert answers["cx"]["status"] == "ok"
        assert answers["victim"]["code"] == "cancelled"
        assert "cancelled" in answers["victim"]["error"]
        assert answers["survivor"]["status"] == "ok"
        assert answers["blocker"]["status"] == "ok"


def test_cancel_unknown_or_other_connection():
    with manager() as m:
        slow = depth_model(m, "slow.hef", infer_ms=300)
        with m.client() as owner, m.client() as stranger:
            owner.send(infer(slow, "blocker"))
            wait_running(m)
            owner.send(infer(slow, "mine"))
            a = stranger.request({"action": "cancel", "request_id": "s",
                                  "target_request_id": "mine"})
            assert a["code"] == "not_found"
            a = stranger.request({"action": "cancel", "request_id": "s2"})
            assert a["code"] == "bad_request"
            answers = recv_all(owner, 2)
            assert all(x["status"] == "ok" for x in answers)
