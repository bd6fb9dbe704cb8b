"""make demo's script runs to completion on the simulator and exits 0
(HDM_DEMO_FAST=1: zero simulated latencies; scripts/demo.sh run directly on
this build so the test does not rebuild)."""

import os
import re

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
