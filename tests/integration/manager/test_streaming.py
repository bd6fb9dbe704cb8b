"""The streaming extension: delta frames then one final frame."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402


@pytest.fixture(scope="module")
def mgr():
    m = hdmtest.Manager()
    m.start()
    yield m
    assert m.stop() == 0, m.log()
    m.cleanup()


def collect(c, rid):
    deltas, final = [], None
    while final is None:
        r = c.recv(timeout=30)
        assert r["request_id"] == rid
        assert "error" not in r, r
        if r["done"]:
            final = r
        else:
            assert r["status"] == "ok" and isinstance(r["delta"], str)
            assert set(r) == {"request_id", "status", "delta", "done"}
            deltas.append(r["delta"])
    return deltas, final


def test_stream_deltas_then_final(mgr):
    path = mgr.make_model("vlm-stream.hef")
    req = {"action": "infer", "model_type": "vlm_chat", "model_path": path, "stream": True,
           "request_id": "s1",
           "input_data": {"prompt": "Tell me about streams", "max_generated_tokens": 25,
                          "seed": 3}}
    with mgr.client() as c:
        c.send(req)
        deltas, final = collect(c, "s1")
        assert len(deltas) >= 2
        assert final["status"] == "ok" and final["done"] is True
        assert "".join(deltas) == final["result"]
        assert isinstance(final["inference_time_ms"], int)
        assert final["usage"]["completion_tokens"] >= 1
        plain = c.request(dict(req, stream=False, request_id="p"))
        assert "done" not in plain
        assert plain["result"] == final["result"]


def test_stream_in_binary_frames(mgr):
    path = mgr.make_model("vlm-stream-bin.hef")
    req = {"action": "infer", "model_type": "vlm", "model_path": path, "stream": True,
           "request_id": "b", "input_data": {"prompt": "hi", "max_generated_tokens": 10}}
    with mgr.client() as c:
        c.send(req, binary=True)
        deltas, final = collect(c, "b")
        assert c.last_binary
        assert "".join(deltas) == final["result"]


def test_two_streams_interleave_on_one_connection(mgr):
    path = mgr.make_model("vlm-two.hef")
    with mgr.client() as c:
        for rid in ("x", "y"):
            c.send({"action": "infer", "model_path": path, "stream": True, "request_id": rid,
                    "input_data": {"prompt": "p " + rid, "max_generated_tokens": 8}})
        finals = {}
        texts = {"x": "", "y": ""}
        while len(finals) < 2:
            r = c.recv()
            if r["done"]:
                finals[r["request_id"]] = r
            else:
                texts[r["request_id"]] += r["delta"]
        for rid in ("x", "y"):
            assert texts[rid] == finals[rid]["result"]


def test_client_leaving_mid_stream_cancels_generation(mgr):
    path = mgr.make_model("vlm-leave.hef", token_ms=50)
    c = mgr.client()
    c.send({"action": "infer", "model_path": path, "stream": True, "request_id": "gone",
            "client_name": "leaver",
            "input_data": {"prompt": "long story", "max_generated_tokens": 400}})
    first = c.recv()
    assert first["done"] is False
    c.close()

    def leaver():
        st = mgr.request({"action": "status"})
        return st["scheduler"]["running"] == 0 and \
            next(x for x in st["clients"] if x["name"] == "leaver")

    # The generation (400 x 50 ms) ends cancelled, an error of its client,
    # rather than running to its end.
    figures = hdmtest.wait_until(leaver, 60, "the abandoned generation to stop")
    assert figures["requests"] == 1 and figures["errors"] == 1, figures
    r = mgr.request({"action": "infer", "model_path": path,
                     "input_data": {"prompt": "short", "max_generated_tokens": 1}})
    assert r["status"] == "ok"


def test_cancel_running_stream(mgr):
    path = mgr.make_model("vlm-cancel.hef", token_ms=50)
    with mgr.client() as c:
        c.send({"action": "infer", "model_path": path, "stream": True, "request_id": "run",
                "input_data": {"prompt": "long", "max_generated_tokens": 400}})
        assert c.recv()["done"] is False
        c.send({"action": "cancel", "target_request_id": "run", "request_id": "k"})
        got_cancel_ack = False
        while True:
            r = c.recv(timeout=20)
            if r["request_id"] == "k":
                assert r["status"] == "ok"
                got_cancel_ack = True
            elif r.get("done"):
                assert r["code"] == "cancelled", r
                break
        assert got_cancel_ack
