"""Nothing may wedge the device worker for good (issue 20 item 7).  A FIFO
where a model file or its sidecar should be is refused before anything
reads from it; and when the worker is busy in a device call that does not
notice cancellation (a long model load), SIGTERM still stops the manager:
the running job is cancelled after half of limits.stop_timeout_ms and the
manager exits without it after all of it (status 1, logged)."""

import os
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

TIMEOUT = 60 if hdmtest.manager_wrapped() else 20


def load(path, model_type="depth", **extra):
    return dict({"action": "load_model", "model_type": model_type, "model_path": path}, **extra)


def test_fifo_model_file_and_sidecar_are_refused():
    with hdmtest.Manager() as m:
        fifo = os.path.join(m.models_dir, "fifo.hef")
        os.mkfifo(fifo)
        r = m.request(load(fifo), timeout=TIMEOUT)
        assert r.get("code") == "bad_request" and "not a regular file" in r["error"], r
        # The sidecar read by the simulator: the model is loaded without it.
        model = m.make_model("with-fifo-sidecar.hef", sidecar=False)
        os.mkfifo(model + ".sim.json")
        r = m.request(load(model), timeout=TIMEOUT)
        assert r.get("code") == "bad_request" and "model sidecar is not a readable file" in \
            r["error"], r
        # As a clip model_params path too.
        path, params = m.make_clip("clip-fifo")
        os.remove(params["text_hef_path"])
        os.mkfifo(params["text_hef_path"])
        r = m.request(load(path, "clip", model_params=params), timeout=TIMEOUT)
        assert r.get("code") == "bad_request" and "not a regular file" in r["error"], r
        # The worker is free: other work is served.
        ok = m.make_model("fine.hef")
        assert m.request(load(ok), timeout=TIMEOUT)["status"] == "ok"


def test_sigterm_stops_a_manager_whose_worker_is_stuck(tmp_path):
    cfg = tmp_path / "manager.yaml"
    cfg.write_text("limits:\n  stop_timeout_ms: 1000\n")
    with hdmtest.Manager(args=["--config", str(cfg)]) as m:
        # Loading takes ten minutes on this "chip" and cannot be interrupted.
        slow = m.make_model("slow-load.hef", load_ms=600000)
        c = m.client(TIMEOUT)
        c.send(load(slow))
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            st = m.request({"action": "status"})
            if st.get("scheduler", {}).get("running"):
                break
            time.sleep(0.02)
        assert st["scheduler"]["running"] == 1, st
        m.proc.send_signal(signal.SIGTERM)
        try:
            rc = m.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError("SIGTERM did not stop the manager:\n" + m.log())
        assert rc == 1, (rc, m.log())
        log = m.log()
        assert "cancelling it" in log and "did not finish within 1000 ms" in log, log
        assert not os.path.exists(m.socket), "the socket file stays behind"
        c.close()
