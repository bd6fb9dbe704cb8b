"""Framing: malformed frames close only their own connection; pipelining;
binary frames; the size limit."""

import base64
import json
import os
import socket
import struct
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

LIMIT = 1 << 20


@pytest.fixture(scope="module")
def mgr():
    m = hdmtest.Manager(env={"HAILO_DEVICE_MAX_MESSAGE_BYTES": str(LIMIT)})
    m.start()
    yield m
    assert m.stop() == 0, m.log()
    m.cleanup()


def assert_alive(mgr, bystander):
    """The daemon and an unrelated open connection still work."""
    assert bystander.request({"action": "ping", "request_id": "b"})["request_id"] == "b"
    assert mgr.request({"action": "ping"})["status"] == "ok"


@pytest.mark.parametrize("payload,needle", [
    (b'{"action": "ping"', "Invalid JSON"),
    (b"[1, 2, 3]", "not a JSON object"),
    (b'"ping"', "not a JSON object"),
    (b"42", "not a JSON object"),
    (b'{"action": "ping", "x": "\xff\xfe"}', "UTF-8"),
    (b'{"action": "ping", "x": "\xc0\xaf"}', "UTF-8"),
    (b'{"action": "ping", "x": "\xed\xa0\x80"}', "UTF-8"),
    (b"", "Invalid JSON"),
    (b"[" * 5000 + b"]" * 5000, "Invalid JSON"),
])
def test_malformed_request_answered_and_closed(mgr, payload, needle):
    with mgr.client() as bystander, mgr.client() as c:
        bystander.request({"action": "ping"})
        c.send_raw(hdmtest.frame_v1(payload))
        r = c.recv()
        assert needle in r["error"], r
        assert r["code"] == "bad_request"
        assert c.is_closed()
        assert_alive(mgr, bystander)


def test_oversized_length_answered_and_closed(mgr):
    with mgr.client() as bystander, mgr.client() as c:
        n = LIMIT + 1
        c.send_raw(struct.pack(">I", n) + b"{")
        r = c.recv()
        assert r["error"] == "Message too large: %d bytes" % n
        assert r["code"] == "too_large"
        assert c.is_closed()
        assert_alive(mgr, bystander)


def test_oversized_huge_length_word(mgr):
    with mgr.client() as c:
        c.send_raw(struct.pack(">I", 0x7FFFFFFF))
        r = c.recv()
        assert r["error"] == "Message too large: %d bytes" % 0x7FFFFFFF
        assert c.is_closed()


def test_oversized_while_sending_body(mgr):
    """A client that streams its too-large body still gets the answer."""
    with mgr.client() as c:
        body = b" " * (LIMIT + 10)
        try:
            c.send_raw(struct.pack(">I", len(body)) + body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = c.recv()
        assert r["error"].startswith("Message too large")


def test_truncated_frame_answered_and_closed(mgr):
    with mgr.client() as bystander, mgr.client() as c:
        c.send_raw(struct.pack(">I", 100) + b'{"action": "pi')
        c.sock.shutdown(socket.SHUT_WR)
        r = c.recv()
        assert "Truncated frame" in r["error"] and "104" in r["error"], r
        assert c.is_closed()
        assert_alive(mgr, bystander)


def test_truncated_length_word(mgr):
    with mgr.client() as c:
        c.send_raw(b"\x00\x00")
        c.sock.shutdown(socket.SHUT_WR)
        r = c.recv()
        assert "Truncated frame" in r["error"]


def test_half_closed_client_still_gets_its_answers(mgr):
    path = mgr.make_model("half.hef")
    with mgr.client() as c:
        c.send({"action": "load_model", "model_path": path, "request_id": "h1"})
        c.send({"action": "ping", "request_id": "h2"})
        c.sock.shutdown(socket.SHUT_WR)
        ids = {c.recv()["request_id"], c.recv()["request_id"]}
        assert ids == {"h1", "h2"}
        assert c.is_closed()


def test_abrupt_close_mid_frame_leaves_daemon_alive(mgr):
    with mgr.client() as bystander:
        for _ in range(20):
            c = mgr.client()
            c.send_raw(struct.pack(">I", 1000) + b"{")
            c.close()
        assert_alive(mgr, bystander)


def test_pipelining_many_in_flight(mgr):
    path = mgr.make_model("pipe.hef")
    with mgr.client() as c:
        frames = []
        # 60 device jobs: under the per-client queue limit (64), so none is busy.
        for i in range(90):
            if i % 3 == 0:
                frames.append(hdmtest.frame_v1({"action": "ping", "request_id": "r%d" % i}))
            else:
                frames.append(hdmtest.frame_v1({
                    "action": "infer", "model_path": path, "request_id": "r%d" % i,
                    "input_data": {"prompt": "item %d" % i, "max_generated_tokens": 3}}))
        c.send_raw(b"".join(frames))
        seen = {}
        for _ in range(90):
            r = c.recv()
            assert r.get("status") == "ok", r
            seen[r["request_id"]] = r
        assert set(seen) == {"r%d" % i for i in range(90)}


def test_full_client_queue_answers_busy_at_once(mgr):
    path = mgr.make_model("slow-busy.hef", infer_ms=20)
    with mgr.client() as c:
        c.send_raw(b"".join(hdmtest.frame_v1({
            "action": "infer", "model_path": path, "request_id": "q%d" % i,
            "input_data": {"prompt": "x", "max_generated_tokens": 1}}) for i in range(100)))
        answers = [c.recv(timeout=30) for _ in range(100)]
    assert {a["request_id"] for a in answers} == {"q%d" % i for i in range(100)}
    busy = [a for a in answers if a.get("code") == "busy"]
    assert busy, "100 pipelined jobs must overflow the per-client limit of 64"
    assert all(a["retry_after_ms"] > 0 for a in busy)
    # Busy answers are immediate: they arrive before the queued work finishes.
    first_ok = min(i for i, a in enumerate(answers) if a.get("status") == "ok")
    assert answers.index(busy[0]) < first_ok


def test_pipelined_frames_split_across_writes(mgr):
    data = b"".join(hdmtest.frame_v1({"action": "ping", "request_id": str(i)}) for i in range(20))
    with mgr.client() as c:
        for i in range(0, len(data), 7):
            c.send_raw(data[i:i + 7])
        got = sorted(int(c.recv()["request_id"]) for _ in range(20))
        assert got == list(range(20))


def test_binary_frame_ping_answered_in_binary(mgr):
    with mgr.client() as c:
        c.send({"action": "ping", "request_id": "bin"}, binary=True)
        r = c.recv()
        assert c.last_binary and r["request_id"] == "bin" and c.last_attachments == []


def test_binary_clip_attachments_both_ways(mgr):
    path, params = mgr.make_clip("clip-bin")
    raw = hdmtest.tensor_bytes("uint8", [1, 224, 224, 3])
    req = {"action": "infer", "model_type": "clip", "model_path": path, "model_params": params,
           "request_id": "cb",
           "input_data": {"mode": "image", "tensor": hdmtest.tensor_ref("uint8", [1, 224, 224, 3], 0)}}
    with mgr.client() as c:
        r = c.request(req, binary=True, attachments=[raw])
        assert r["status"] == "ok", r
        assert c.last_binary
        assert "data_b64" not in r["result"]
        dtype, shape, out_bin = hdmtest.decode_tensor(r["result"], c.last_attachments)
        assert dtype == "float32" and shape == [1, 512]
        # The same input as v1 JSON gives the same numbers, base64 encoded.
        v1 = dict(req, input_data={"mode": "image",
                                   "tensor": hdmtest.tensor("uint8", [1, 224, 224, 3], raw)})
        r2 = c.request(v1)
        assert not c.last_binary
        assert hdmtest.decode_tensor(r2["result"])[2] == out_bin


def test_binary_frame_bad_attachment_index(mgr):
    path, params = mgr.make_clip("clip-bin2")
    req = {"action": "infer", "model_type": "clip", "model_path": path, "model_params": params,
           "input_data": {"mode": "image", "tensor": hdmtest.tensor_ref("uint8", [1, 224, 224, 3], 3)}}
    with mgr.client() as c:
        r = c.request(req, binary=True, attachments=[b"\0" * 10])
        assert r["code"] == "bad_request" and "attachment" in r["error"], r
        assert c.last_binary


def test_binary_frame_wrong_attachment_size(mgr):
    path, params = mgr.make_clip("clip-bin3")
    req = {"action": "infer", "model_type": "clip", "model_path": path, "model_params": params,
           "input_data": {"mode": "image", "tensor": hdmtest.tensor_ref("uint8", [1, 224, 224, 3], 0)}}
    with mgr.client() as c:
        r = c.request(req, binary=True, attachments=[b"\0" * 10])
        assert r["code"] == "bad_request", r


def test_binary_frame_total_counts_against_limit(mgr):
    with mgr.client() as c:
        try:
            c.send({"action": "ping"}, binary=True, attachments=[b"\0" * (LIMIT + 100)])
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = c.recv()
        assert r["error"].startswith("Message too large"), r
        assert r["code"] == "too_large"


def test_v1_base64_bad_data(mgr):
    path, params = mgr.make_clip("clip-b64")
    t = {"dtype": "uint8", "shape": [1, 224, 224, 3], "data_b64": "!!!notbase64"}
    r = mgr.request({"action": "infer", "model_type": "clip", "model_path": path,
                     "model_params": params, "input_data": {"mode": "image", "tensor": t}})
    assert r["code"] == "bad_request" and "150528" in r["error"], r
    t["data_b64"] = "!" * 200704
    r = mgr.request({"action": "infer", "model_type": "clip", "model_path": path,
                     "model_params": params, "input_data": {"mode": "image", "tensor": t}})
    assert r["code"] == "bad_request" and "data_b64" in r["error"], r


def test_tensor_shape_overflow_rejected(mgr):
    path, params = mgr.make_clip("clip-ovf")
    t = {"dtype": "float32", "shape": [2 ** 40, 2 ** 40, 2 ** 40],
         "data_b64": base64.b64encode(b"\0" * 8).decode()}
    r = mgr.request({"action": "infer", "model_type": "clip", "model_path": path,
                     "model_params": params, "input_data": {"mode": "text", "tensor": t}})
    assert r["code"] in ("bad_request", "too_large"), r


def test_request_over_limit_by_json_length(mgr):
    big = json.dumps({"action": "ping", "pad": "x" * (LIMIT + 1)}).encode()
    with mgr.client() as c:
        try:
            c.send_raw(hdmtest.frame_v1(big))
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert c.recv()["code"] == "too_large"
