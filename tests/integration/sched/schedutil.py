"""
schedutil - helpers for the scheduler/residency black-box tests (issue 5),
on top of hdmtest: a manager with a YAML --config, small depth models with
fixed sim latencies, infer requests, and reading pipelined answers.
"""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

IMG = hdmtest.tensor("uint8", [8, 8, 3])


def manager(config="", args=(), http=False, sim_config=hdmtest.SIM_ZERO_LATENCY):
    """A started hdmtest.Manager whose --config file holds `config` (YAML)."""
    workdir = tempfile.mkdtemp(prefix="hdm-sched-", dir="/tmp")
    cfg = os.path.join(workdir, "manager.yaml")
    with open(cfg, "w") as f:
        f.write(config)
    m = hdmtest.Manager(args=["--config", cfg, "--log-level", "debug"] + list(args), http=http,
                        workdir=workdir, sim_config=sim_config)
    return m


def depth_model(m, name, infer_ms=0, load_ms=0, footprint_mb=120):
    """A depth model taking uint8 [8,8,3] with the given sim latencies."""
    return m.make_model(name, footprint_mb=footprint_mb, load_ms=load_ms, infer_ms=infer_ms,
                        input_height=8, input_width=8)


def infer(path, rid, **fields):
    req = {"action": "infer", "model_type": "depth", "model_path": path, "request_id": rid,
           "input_data": {"input": IMG}}
    req.update(fields)
    return req


def load(path, rid="load", **fields):
    req = {"action": "load_model", "model_type": "depth", "model_path": path, "request_id": rid}
    req.update(fields)
    return req


def recv_all(client, n, timeout=20.0):
    """The next n answers of a connection, in arrival order."""
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        left = deadline - time.monotonic()
        assert left > 0, "only %d of %d answers arrived: %r" % (len(out), n, out)
        out.append(client.recv(timeout=left))
    return out


def status(m):
    return m.request({"action": "status"})


def wait_until(pred, timeout=10.0, what="condition"):
    """Polls pred() until it returns a true value; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


def wait_running(m, timeout=5.0):
    """Waits until the worker has a job in hand (status scheduler.running)."""
    wait_until(lambda: status(m).get("scheduler", {}).get("running") == 1, timeout,
               "the worker to take a job")
