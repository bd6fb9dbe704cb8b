"""make demo's script runs to completion on the simulator and exits 0
(HDM_DEMO_FAST=1: zero simulated latencies; scripts/demo.sh run directly on
this build so the test does not rebuild)."""

import os
import re
import signal
import subprocess
import time
import urllib.request

from conftest import BUILD, SCRIPTS, need_programs, run

AT_ONCE = "== Every service at the same time, while a VLM answer streams"


def test_demo_runs_to_completion():
    need_programs()
    env = dict(os.environ, HDM_DEMO_FAST="1")
    p = run([os.path.join(SCRIPTS, "demo.sh"), BUILD], check=False, timeout=300, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    out = p.stdout
    assert "Demo finished." in out
    assert "FAILED" not in out
    # Both services answered, and everything stopped cleanly.
    assert "clip " in out and "vision " in out and "demo-pose.png" in out
    assert "POST /v1/audio/transcriptions" in out and "streamed:" in out
    assert "exited 0" in out
    assert re.search(r"dashboard +http://127\.0\.0\.1:\d+/", out)

    # Every service at once, after the per-service sections: the VLM answer
    # streamed, then one table row per service with its answers (at least
    # one each), how many came during the stream, p50 and max latency, and
    # its last answer.
    assert AT_ONCE in out, out
    section = out.split(AT_ONCE, 1)[1].split("\n== ", 1)[0]
    assert out.index(AT_ONCE) > out.index("POST /v1/audio/transcriptions")
    assert "assistant (streamed):" in section and "first token after" in section
    assert re.search(r"service +answers +during the stream +p50 ms +max ms +last answer", section)
    last = {}
    for name in ("hailo-clip", "hailo-ocr", "hailo-depth", "hailo-pose", "hailo-whisper",
                 "hailo-llm"):
        m = re.search(r"^  %s +(\d+) +(\d+) +(\d+) +(\d+)  (.+)$" % name, section, re.M)
        assert m, "no row for %s in:\n%s" % (name, section)
        answers, during = int(m.group(1)), int(m.group(2))
        assert answers >= 1 and 0 <= during <= answers, m.group(0)
        last[name] = m.group(5)
    assert re.match(r"'a photo of a \w+' 0\.\d{3}$", last["hailo-clip"]), last
    assert re.match(r"\d+ lines of text$", last["hailo-ocr"]), last
    assert re.match(r"depth map \d+x\d+$", last["hailo-depth"]), last
    assert last["hailo-pose"] == "3 people", last
    assert last["hailo-whisper"].startswith("'") and len(last["hailo-whisper"]) > 3, last
    assert last["hailo-llm"].startswith("'") and len(last["hailo-llm"]) > 3, last


def test_demo_hold_keeps_the_stack_up_until_interrupted():
    """HOLD=1: the stack stays up with the dashboard answering; SIGINT (a
    person's Ctrl-C) stops it cleanly."""
    need_programs()
    env = dict(os.environ, HDM_DEMO_FAST="1", HOLD="1")
    p = subprocess.Popen([os.path.join(SCRIPTS, "demo.sh"), BUILD], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = []
    try:
        url = None
        deadline = time.monotonic() + 300
        while url is None and time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                break
            out.append(line)
            m = re.search(r"Dashboard: \S*(http://127\.0\.0\.1:\d+/)", line)
            if m:
                url = m.group(1)
        assert url, "".join(out)
        with urllib.request.urlopen(url, timeout=30) as r:
            assert r.status == 200 and b"Hailo device manager" in r.read()
        p.send_signal(signal.SIGINT)
        rest, _ = p.communicate(timeout=120)
        out.append(rest)
        assert p.returncode == 0, "".join(out)
        assert "Demo finished." in rest and "exited 0" in rest
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
