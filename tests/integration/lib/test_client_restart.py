"""A libhailodm client keeps calling while the manager is killed and started
again: it must recover by itself (reconnect, load its model again, retry the
interrupted call once), so every call the helper makes succeeds."""

import os
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

HELPER = os.path.join(hdmtest.BUILD_DIR, "tests", "hdm-client-restart")


def wait_lines(proc, lines, n, timeout=20.0):
    """Reads the helper's stdout until n "ok" lines have come (or it ends).
    The pipe is unbuffered (bufsize=0): a buffered reader would read ahead,
    and communicate() later reads the descriptor itself, so lines the
    buffer held would be lost."""
    deadline = time.monotonic() + timeout
    while sum(1 for l in lines if l.startswith("ok")) < n and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.decode().strip())


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_client_recovers_after_restart(how):
    first = hdmtest.Manager()
    first.start()
    second = None
    helper = None
    try:
        model = os.path.realpath(first.make_model("depth-restart.hef"))
        helper = subprocess.Popen([HELPER, first.socket, "depth", model, "80", "25", "3"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        lines = []
        wait_lines(helper, lines, 15)
        assert lines[0] == "loaded", lines
        assert "ok 1" in lines

        first.send_signal(how)
        first.proc.wait(15)
        # The helper's threads keep calling into the dead socket while the
        # second manager starts (calls every 25 ms; a start takes longer).
        second = hdmtest.Manager(socket_path=first.socket, workdir=first.workdir)
        second.start()

        out, err = helper.communicate(timeout=60)
        out, err = out.decode(), err.decode()
        lines += out.split("\n")
        assert helper.returncode == 0, "helper failed:\n%s\n%s" % ("\n".join(lines), err)
        assert "done failures=0" in lines
        # Every status call listed the model: after the restart only the
        # library's replay can have loaded it.
        oks = [l for l in lines if l.startswith("ok")]
        assert len(oks) == 3 * 80 and all(l == "ok 1" for l in oks)
        st = second.request({"action": "status"})
        assert any(m["model_path"] == model for m in st["loaded_models"]), st
        assert second.stop() == 0, second.log()
    finally:
        if helper is not None and helper.poll() is None:
            helper.kill()
            helper.wait()
        if second is not None and second.proc is not None and second.proc.poll() is None:
            second.proc.kill()
            second.proc.wait()
        first.cleanup()
