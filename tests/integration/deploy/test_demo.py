"""make demo's script runs to completion on the simulator and exits 0
(HDM_DEMO_FAST=1: zero simulated latencies; scripts/demo.sh run directly on
this build so the test does not rebuild)."""

import os

from conftest import BUILD, SCRIPTS, need_programs, run


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
    assert "exited 0" in out
