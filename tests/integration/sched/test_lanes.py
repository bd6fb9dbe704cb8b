"""The dense lane beside the GenAI lane (issue 16, docs/SCHEDULING.md): a
dense job answers while a VLM answer streams, the stream stays whole and in
order, `parallel_genai: off` keeps the old one-at-a-time order, evictions and
GenAI swaps across lanes wait for the model in use, cancel and deadlines
work in both lanes, keep-alive expiry in both, SIGTERM with both lanes busy.

Order is asserted on one connection (pipelined requests): the manager writes
a connection's frames in the order they were produced, so the position of
the dense answer among the stream's frames says which finished first.  Tests
wait for states, never for fixed times."""

import signal
import threading
import time

from schedutil import depth_model, infer, manager, status, wait_running, wait_until

import hdmtest

PROMPT = "Describe the picture in detail, every object and colour please"


def vlm_model(m, name="vlm.hef", token_ms=40, infer_ms=5, **sidecar):
    return m.make_model(name, infer_ms=infer_ms, token_ms=token_ms, **sidecar)


def stream_req(path, rid, **fields):
    req = {"action": "infer", "model_type": "vlm_chat", "model_path": path, "stream": True,
           "request_id": rid,
           "input_data": {"prompt": PROMPT, "max_generated_tokens": 200, "temperature": 0}}
    req.update(fields)
    return req


def solo_answer(m, path):
    """The answer the stream gives alone (the sim is deterministic)."""
    with m.client(timeout=60) as c:
        c.send(stream_req(path, "solo"))
        frames = read_until(c, {"solo"})
    deltas = [f["delta"] for f in frames if not f.get("done")]
    final = frames[-1]
    assert final["status"] == "ok", final
    assert "".join(deltas) == final["result"]
    return final


def read_until(c, finals, timeout=60):
    """Frames of connection c, in arrival order, until every request_id in
    `finals` has had its final answer (a non-stream answer or done: true)."""
    frames, left = [], set(finals)
    while left:
        f = c.recv(timeout=timeout)
        frames.append(f)
        if f.get("done", True):
            left.discard(f.get("request_id"))
    return frames


def finish(c, frames, finals):
    """frames plus what c sends until every id in finals has had its final
    answer, counting those already among frames."""
    done = {f.get("request_id") for f in frames if f.get("done", True)}
    return frames + read_until(c, set(finals) - done)


def stream_frames(frames, rid):
    return [f for f in frames if f.get("request_id") == rid]


def index_of(frames, pred):
    for i, f in enumerate(frames):
        if pred(f):
            return i
    raise AssertionError("no such frame in %r" % frames)


def assert_whole_stream(frames, rid, solo):
    """The stream's deltas, in order, are exactly its final result, and that
    is the answer it gives alone."""
    mine = stream_frames(frames, rid)
    final = mine[-1]
    assert final["done"] is True and final["status"] == "ok", final
    assert all(f["done"] is False for f in mine[:-1])
    assert "".join(f["delta"] for f in mine[:-1]) == final["result"]
    assert final["result"] == solo["result"]
    assert final["usage"] == solo["usage"]


def start_stream_then(c, rid, n_deltas=2):
    """Sends nothing; reads c until rid has streamed n_deltas pieces."""
    got = []
    while len([f for f in got if f.get("request_id") == rid and not f.get("done")]) < n_deltas:
        f = c.recv(timeout=30)
        assert not f.get("done"), f
        got.append(f)
    return got


def test_dense_answer_arrives_while_the_answer_streams():
    with manager() as m:
        vlm = vlm_model(m)
        depth = depth_model(m, "depth.hef", infer_ms=20)
        solo = solo_answer(m, vlm)
        with m.client(timeout=60) as c:
            c.send(stream_req(vlm, "s"))
            frames = start_stream_then(c, "s")
            c.send(infer(depth, "d", client_name="dense-client"))
            frames = finish(c, frames, {"s", "d"})
        d = index_of(frames, lambda f: f.get("request_id") == "d")
        done = index_of(frames, lambda f: f.get("request_id") == "s" and f.get("done"))
        assert frames[d]["status"] == "ok", frames[d]
        assert d < done
        # The stream went on after the dense answer: it ran between tokens.
        assert any(f.get("request_id") == "s" for f in frames[d + 1:done])
        assert_whole_stream(frames, "s", solo)
        st = status(m)
        assert st["scheduler"]["parallel_genai"] is True
        names = {x["name"]: x for x in st["clients"]}
        assert names["dense-client"]["requests"] == 1
        # The simulated chip says both lanes used it and waited for each other.
        dt = st["device_time"]
        assert dt["dense"]["operations"] >= 1 and dt["genai"]["operations"] >= 10
        assert dt["dense"]["switches"] >= 1


def test_parallel_genai_off_keeps_one_job_at_a_time():
    with manager(config="parallel_genai: off\n") as m:
        vlm = vlm_model(m)
        depth = depth_model(m, "depth.hef", infer_ms=20)
        solo = solo_answer(m, vlm)
        with m.client(timeout=60) as c:
            c.send(stream_req(vlm, "s"))
            frames = start_stream_then(c, "s")
            c.send(infer(depth, "d"))
            frames = finish(c, frames, {"s", "d"})
        d = index_of(frames, lambda f: f.get("request_id") == "d")
        done = index_of(frames, lambda f: f.get("request_id") == "s" and f.get("done"))
        assert done < d  # the dense job waited for the whole answer
        assert frames[d]["status"] == "ok"
        assert_whole_stream(frames, "s", solo)
        assert status(m)["scheduler"]["parallel_genai"] is False
        assert "one worker runs every job in turn (parallel_genai off)" in m.log()


def test_dense_load_waits_for_the_streaming_model_it_evicts():
    # 3000 MiB: the VLM (2800) and the depth model (300) do not fit together.
    sim = hdmtest.SIM_ZERO_LATENCY + "memory_mb: 3000\n"
    with manager(sim_config=sim) as m:
        vlm = vlm_model(m, footprint_mb=2800)
        depth = depth_model(m, "depth.hef", infer_ms=5, footprint_mb=300)
        solo = solo_answer(m, vlm)
        with m.client(timeout=60) as c:
            c.send(stream_req(vlm, "s"))
            frames = start_stream_then(c, "s")
            c.send(infer(depth, "d"))
            wait_until(lambda: any(x.get("draining") for x in status(m)["loaded_models"]),
                       what="the VLM to be marked draining")
            frames = finish(c, frames, {"s", "d"})
        d = index_of(frames, lambda f: f.get("request_id") == "d")
        done = index_of(frames, lambda f: f.get("request_id") == "s" and f.get("done"))
        assert done < d
        assert frames[d]["status"] == "ok", frames[d]
        assert_whole_stream(frames, "s", solo)
        st = status(m)
        assert [x["model_path"] for x in st["loaded_models"]] == [depth]
        assert st["total_lru_evictions"] >= 1
        assert st["memory"]["used_bytes"] <= st["memory"]["total_bytes"]
        assert "waiting for %s to be released" % vlm in m.log()


def test_genai_load_waits_for_the_dense_model_it_evicts():
    sim = hdmtest.SIM_ZERO_LATENCY + "memory_mb: 3000\n"
    with manager(sim_config=sim) as m:
        vlm = vlm_model(m, footprint_mb=2800, token_ms=1)
        depth = depth_model(m, "depth.hef", infer_ms=1500, footprint_mb=300)
        with m.client(timeout=60) as c:
            c.send(infer(depth, "d"))
            wait_running(m)
            c.send(stream_req(vlm, "s"))
            frames = read_until(c, {"s", "d"})
        assert frames[0]["request_id"] == "d" and frames[0]["status"] == "ok", frames[0]
        assert stream_frames(frames, "s")[-1]["status"] == "ok"
        st = status(m)
        assert [x["model_path"] for x in st["loaded_models"]] == [vlm]


def test_swaps_and_evictions_across_lanes_keep_the_budget():
    """Two VLMs swapping on the GenAI lane while the dense lane cycles three
    models through a tight memory: every answer right, the accounting never
    over the device's memory, evictions and swaps counted."""
    sim = hdmtest.SIM_ZERO_LATENCY + "memory_mb: 4000\n"
    with manager(sim_config=sim) as m:
        vlms = [vlm_model(m, "vlm-%d.hef" % i, footprint_mb=2800, token_ms=1) for i in range(2)]
        depths = [depth_model(m, "d%d.hef" % i, infer_ms=2, footprint_mb=500) for i in range(3)]
        errors, over = [], []
        stop = threading.Event()

        def genai():
            with m.client(timeout=60) as c:
                for i in range(12):
                    req = stream_req(vlms[i % 2], "g%d" % i)
                    req["input_data"]["max_generated_tokens"] = 6
                    c.send(req)
                    frames = read_until(c, {req["request_id"]})
                    final = frames[-1]
                    if final.get("status") != "ok" or \
                            "".join(f["delta"] for f in frames[:-1]) != final["result"]:
                        errors.append(final)

        def dense():
            with m.client(timeout=60) as c:
                for i in range(45):
                    a = c.request(infer(depths[i % 3], "d%d" % i), timeout=60)
                    if a.get("status") != "ok":
                        errors.append(a)

        def watch():
            while not stop.is_set():
                st = status(m)
                if st["memory"]["used_bytes"] > st["memory"]["total_bytes"]:
                    over.append(st["memory"])
                time.sleep(0.005)

        def guarded(body):
            try:
                body()
            except Exception as e:  # noqa: BLE001 - reported by the assert below
                errors.append("%s: %r" % (body.__name__, e))

        threads = [threading.Thread(target=guarded, args=(f,)) for f in (genai, dense)]
        watcher = threading.Thread(target=watch)
        watcher.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        stop.set()
        watcher.join(30)
        assert not any(t.is_alive() for t in threads)
        assert errors == [] and over == []
        st = status(m)
        # Each of the 11 changes of VLM found the other one gone: swapped out
        # by the GenAI lane, or evicted by the dense lane's loads.
        assert st["registry"]["genai_swaps"] + st["total_lru_evictions"] >= 11
        assert st["total_lru_evictions"] >= 1
        assert sum(1 for x in st["loaded_models"] if x["model_type"] == "vlm_chat") <= 1


def test_cancel_and_deadline_in_both_lanes():
    with manager() as m:
        vlm = vlm_model(m, token_ms=30)
        slow = depth_model(m, "slow.hef", infer_ms=60000)
        solo = solo_answer(m, vlm)
        with m.client(timeout=60) as c:
            # A dense job cancelled while a stream runs: the stream is unharmed.
            c.send(stream_req(vlm, "s1"))
            frames = start_stream_then(c, "s1")
            c.send(infer(slow, "d1"))
            wait_until(lambda: status(m)["scheduler"]["running"] == 2, what="both lanes busy")
            c.send({"action": "cancel", "request_id": "k1", "target_request_id": "d1"})
            frames = finish(c, frames, {"s1", "d1", "k1"})
            d1 = [f for f in frames if f.get("request_id") == "d1"][0]
            assert d1["code"] == "cancelled", d1
            assert_whole_stream(frames, "s1", solo)

            # A stream cancelled while a dense job runs: the dense job is unharmed.
            mid = depth_model(m, "mid.hef", infer_ms=400)
            c.send(infer(mid, "d2"))
            wait_running(m)
            c.send(stream_req(vlm, "s2"))
            frames = start_stream_then(c, "s2", n_deltas=1)
            c.send({"action": "cancel", "request_id": "k2", "target_request_id": "s2"})
            frames = finish(c, frames, {"s2", "d2", "k2"})
            s2 = stream_frames(frames, "s2")[-1]
            assert s2["code"] == "cancelled" and s2["done"] is True, s2
            assert [f for f in frames if f.get("request_id") == "d2"][0]["status"] == "ok"

            # Deadlines: a running dense job and a running stream each stop at theirs.
            c.send(stream_req(vlm, "s3", timeout_ms=500))
            c.send(infer(slow, "d3", timeout_ms=700))
            frames = read_until(c, {"s3", "d3"})
            assert stream_frames(frames, "s3")[-1]["code"] == "deadline_exceeded"
            assert [f for f in frames if f.get("request_id") == "d3"][0]["code"] == \
                "deadline_exceeded"
        st = status(m)
        assert st["scheduler"]["running"] == 0
        assert st["scheduler"]["cancelled_request"] >= 2


def test_keep_alive_expires_in_both_lanes():
    with manager() as m:
        vlm = vlm_model(m, token_ms=1)
        depth = depth_model(m, "depth.hef")
        with m.client(timeout=60) as c:
            c.send(stream_req(vlm, "s", keep_alive=0.5))
            read_until(c, {"s"})
            assert c.request(infer(depth, "d", keep_alive=0.5))["status"] == "ok"
        wait_until(lambda: status(m)["loaded_models"] == [], what="both models to expire")
        assert status(m)["registry"]["evictions_keep_alive"] == 2


def test_sigterm_with_both_lanes_busy():
    with manager(config="limits:\n  stop_timeout_ms: 2000\n") as m:
        vlm = vlm_model(m, token_ms=200)
        slow = depth_model(m, "slow.hef", infer_ms=60000)
        queued = depth_model(m, "queued.hef")
        c = m.client(timeout=60)
        c.send(stream_req(vlm, "s"))
        start_stream_then(c, "s", n_deltas=1)
        c.send(infer(slow, "d"))
        wait_until(lambda: status(m)["scheduler"]["running"] == 2, what="both lanes busy")
        c.send(infer(queued, "q"))
        wait_until(lambda: status(m)["queue_depth"] == 1, what="one job queued")
        m.send_signal(signal.SIGTERM)
        frames = finish(c, [], {"s", "d", "q"})
        answers = {f["request_id"]: f for f in frames if f.get("done", True)}
        assert answers["q"]["error"] == "Device manager is shutting down"
        # The running jobs of both lanes were cancelled at half the stop time.
        assert answers["d"]["code"] == "cancelled", answers["d"]
        assert answers["s"]["code"] == "cancelled" and answers["s"]["done"] is True
        c.close()
        assert m.proc.wait(30) == 0, m.log()


def test_pipelined_answers_on_one_connection_are_all_there():
    """Dense and GenAI jobs pipelined on one connection complete in any
    order across lanes but every one is answered exactly once."""
    with manager() as m:
        vlm = vlm_model(m, token_ms=2)
        depth = depth_model(m, "depth.hef", infer_ms=3)
        with m.client(timeout=60) as c:
            want = set()
            for i in range(6):
                c.send(stream_req(vlm, "s%d" % i))
                want.add("s%d" % i)
                for k in range(3):
                    c.send(infer(depth, "d%d-%d" % (i, k)))
                    want.add("d%d-%d" % (i, k))
            frames = read_until(c, want)
        finals = [f for f in frames if f.get("done", True)]
        assert sorted(f["request_id"] for f in finals) == sorted(want)
        assert all(f["status"] == "ok" for f in finals)
        for i in range(6):
            mine = stream_frames(frames, "s%d" % i)
            assert "".join(f["delta"] for f in mine[:-1]) == mine[-1]["result"]
