"""scripts/verify.sh against the whole stack on the simulator: every check
passes on a running stack, it waits (polling with backoff) for a stack that
is still starting - the seed's socket verification race - and it reports
clear FAIL lines and exit code 1 when something does not answer."""

import os
import subprocess
import time

from conftest import BIN, SCRIPTS, SERVICES, free_port, run

VERIFY = os.path.join(SCRIPTS, "verify.sh")


def verify_args(stack, *extra):
    return [VERIFY, "--socket", stack.socket, "--devctl", os.path.join(BIN, "hailo-devctl"),
            *stack.url_args(), *extra]


def lines(out, word):
    return [line for line in out.splitlines() if line.startswith(word)]


def test_verify_passes_on_a_running_stack(sim_stack):
    sim_stack.start_manager()
    sim_stack.start_services()
    p = run(verify_args(sim_stack, "--timeout", "60"), check=False)
    assert p.returncode == 0, p.stdout + p.stderr + sim_stack.logs()
    passed = lines(p.stdout, "PASS")
    assert not lines(p.stdout, "FAIL")
    # Three manager checks, then two per service (ready, one real request).
    assert len(passed) == 3 + 2 * len(SERVICES), p.stdout
    text = "\n".join(passed)
    for what in ("socket", "ping", "manager status: backend sim", "hailo-clip classify: top a photo of",
                 "hailo-vision chat (qwen2-vl-2b-instruct)", "hailo-ocr extract: ",
                 "hailo-llm chat (qwen2.5-1.5b-instruct:latest)",
                 "hailo-depth estimate: scdepthv3 24x32 map", "hailo-pose detect: ",
                 "hailo-whisper transcription ("):
        assert what in text, p.stdout
    assert "all checks passed" in p.stdout


def test_verify_waits_for_a_stack_still_starting(sim_stack, tmp_path):
    """verify.sh started before the manager exists must not report a false
    failure: it polls until the socket and the services answer."""
    # verify.sh makes its scratch directory (mktemp -d) just before it starts
    # polling for the socket: with a TMPDIR of its own, that directory
    # appearing is the sign that it is polling.
    scratch = tmp_path / "verify-tmp"
    scratch.mkdir()
    proc = subprocess.Popen(verify_args(sim_stack, "--timeout", "60"), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, TMPDIR=str(scratch)))
    deadline = time.monotonic() + 60
    while not any(scratch.iterdir()) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert any(scratch.iterdir()), "verify.sh did not start polling"
    assert not os.path.exists(sim_stack.socket), "the manager must not be up yet"
    sim_stack.start_manager()
    sim_stack.start_services()
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + sim_stack.logs()
    assert not lines(out, "FAIL")


def test_verify_only_the_manager(sim_stack):
    sim_stack.start_manager()
    p = run(verify_args(sim_stack, "manager", "--timeout", "30"), check=False)
    assert p.returncode == 0, p.stdout + sim_stack.logs()
    assert len(lines(p.stdout, "PASS")) == 3 and "hailo-clip" not in p.stdout


def test_verify_reports_failures(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    urls = [a for svc in SERVICES for a in (f"--{svc}-url", dead)]
    p = run([VERIFY, "--socket", str(tmp_path / "none.sock"), "--devctl",
             os.path.join(BIN, "hailo-devctl"), *urls, "--timeout", "1"], check=False)
    assert p.returncode == 1, p.stdout
    failed = lines(p.stdout, "FAIL")
    assert len(failed) == 1 + len(SERVICES), p.stdout
    assert "socket" in failed[0]
    for line, svc in zip(failed[1:], SERVICES):
        assert f"hailo-{svc}" in line, (svc, line)
    assert f"{1 + len(SERVICES)} check(s) FAILED" in p.stdout


def test_verify_fails_when_a_service_is_down(sim_stack):
    sim_stack.start_manager()
    p = run(verify_args(sim_stack, "manager", "clip", "--timeout", "2"), check=False)
    assert p.returncode == 1
    assert len(lines(p.stdout, "PASS")) == 3 and len(lines(p.stdout, "FAIL")) == 1


def test_verify_bad_arguments():
    p = run([VERIFY, "--timeout", "soon"], check=False)
    assert p.returncode == 2 and "whole seconds" in p.stderr
    p = run([VERIFY, "--nope"], check=False)
    assert p.returncode == 2 and "unknown option" in p.stderr
