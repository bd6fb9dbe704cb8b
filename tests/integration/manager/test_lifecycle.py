"""Start-up, configuration, socket ownership, systemd integration, HTTP
endpoint and shutdown of hailo-device-manager."""

import grp
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

BIN = hdmtest.MANAGER_BIN


def run(args, env=None, timeout=10):
    e = dict(os.environ)
    for k in list(e):
        if k.startswith("HAILO_DEVICE_"):
            del e[k]
    e.update(env or {})
    # $HDM_MANAGER_WRAPPER (valgrind, or qemu for an arm64 build) goes first.
    return subprocess.run(hdmtest.manager_command_prefix() + [BIN] + args, env=e,
                          capture_output=True, text=True, timeout=timeout)


def test_version_and_help():
    r = run(["--version"])
    assert r.returncode == 0 and r.stdout.startswith("hailo-device-manager ")
    r = run(["--help"])
    assert r.returncode == 0
    for flag in ("--socket", "--backend", "--http-bind", "--sim-config", "--config",
                 "--scheduler", "--log-level", "--check-config", "HAILO_DEVICE_SOCKET_MODE"):
        assert flag in r.stdout


def test_bad_flags_exit_nonzero_with_message():
    r = run(["--bogus"])
    assert r.returncode == 2 and "--bogus" in r.stderr
    r = run(["--backend", "gpu"])
    assert r.returncode == 2 and "gpu" in r.stderr
    r = run(["--http-bind", "nowhere"])
    assert r.returncode == 2 and "HOST:PORT" in r.stderr
    r = run(["--scheduler", "random"])
    assert r.returncode == 2 and "random" in r.stderr
    r = run(["--log-level", "chatty"])
    assert r.returncode == 2 and "chatty" in r.stderr
    r = run([], env={"HAILO_DEVICE_SOCKET_MODE": "999"})
    assert r.returncode == 2 and "HAILO_DEVICE_SOCKET_MODE" in r.stderr
    r = run([], env={"HAILO_DEVICE_MAX_MESSAGE_BYTES": "lots"})
    assert r.returncode == 2 and "HAILO_DEVICE_MAX_MESSAGE_BYTES" in r.stderr


def write(tmp, name, text):
    p = os.path.join(tmp, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def test_check_config_ok_and_errors(tmp_path):
    good = write(tmp_path, "good.yaml", """\
socket: /run/hailo/device.sock
socket_mode: "0660"
http_bind: off
max_message_bytes: 1048576
model_dirs:
  - /var/lib/hailo
backend: sim
scheduler:
  mode: fifo
  max_queue: 100
  deadline_ms:
    batch: 60000
  client_priority:
    - hailo-clip=interactive
    - uid:1000=batch
registry:
  max_evictions: 2
  default_keep_alive: 120
preload:
  - clip:/var/lib/hailo/clip.hef
  - '{"model_type": "depth", "model_path": "/var/lib/hailo/d.hef", "keep_alive": -1}'
""")
    r = run(["--config", good, "--check-config"])
    assert r.returncode == 0, r.stderr
    cases = [
        ("scheduler:\n  mode: fifo\n  max_queue: 0\n", 3, "max_queue"),
        ("backend: sim\nscheduler:\n  mode: lottery\n", 3, "lottery"),
        ("socket_mode: \"0999\"\n", 1, "octal"),
        ("scheduler:\n  client_priority:\n    - a=interactive\n    - b=urgent\n", 4, "urgent"),
        ("preload:\n  - clip:/x.hef\n  - nonsense\n", 3, "preload"),
        ("preload:\n  - 'llama:/x.hef'\n", 2, "Unsupported model_type: llama"),
        ("http_bind: somewhere\n", 1, "HOST:PORT"),
        ("model_dirs:\n  - relative/dir\n", 2, "absolute"),
    ]
    for text, line, needle in cases:
        p = write(tmp_path, "bad.yaml", text)
        r = run(["--config", p, "--check-config"])
        assert r.returncode != 0, text
        assert r.stderr.startswith("%s:%d:" % (p, line)), (text, r.stderr)
        assert needle in r.stderr, (text, r.stderr)
    r = run(["--config", str(tmp_path / "missing.yaml"), "--check-config"])
    assert r.returncode != 0 and "missing.yaml" in r.stderr


def test_backend_auto_refuses_without_hardware():
    with tempfile.TemporaryDirectory(dir="/tmp") as d:
        r = run(["--socket", os.path.join(d, "s.sock"), "--http-bind", "off"])
        if r.returncode == 0:
            pytest.skip("a Hailo device is present")
        assert "--backend sim" in r.stderr + r.stdout
        assert not os.path.exists(os.path.join(d, "s.sock")), "a socket nobody serves"


def test_socket_dir_created_and_default_mode():
    with hdmtest.Manager() as m:
        st = os.stat(m.socket)
        assert stat.S_ISSOCK(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o660
        assert m.stop() == 0
        assert not os.path.exists(m.socket), "a clean stop removes its socket"


def test_socket_mode_and_group_from_env():
    env = {"HAILO_DEVICE_SOCKET_MODE": "0600", "HAILO_DEVICE_SOCKET_GROUP": "daemon"}
    try:
        gid = grp.getgrnam("daemon").gr_gid
    except KeyError:
        pytest.skip("no group 'daemon'")
    with hdmtest.Manager(env=env) as m:
        st = os.stat(m.socket)
        assert stat.S_IMODE(st.st_mode) == 0o600
        if os.geteuid() == 0:
            assert st.st_gid == gid


def test_unknown_socket_group_refuses_to_start():
    m = hdmtest.Manager(env={"HAILO_DEVICE_SOCKET_GROUP": "no-such-group-hdm"})
    try:
        m.start(wait=False)
        assert m.proc.wait(10) != 0
        assert "no-such-group-hdm" in m.log()
    finally:
        m.cleanup()


def test_flag_beats_env_beats_config_file():
    with tempfile.TemporaryDirectory(dir="/tmp") as d:
        cfg = write(d, "m.yaml", "socket_mode: \"0666\"\nsocket: %s/file.sock\n" % d)
        env = {"HAILO_DEVICE_SOCKET_MODE": "0640", "HAILO_DEVICE_SOCKET": d + "/env.sock"}
        m = hdmtest.Manager(args=["--config", cfg], env=env, socket_path=d + "/flag.sock")
        try:
            m.start()
            assert os.path.exists(d + "/flag.sock")
            assert not os.path.exists(d + "/env.sock") and not os.path.exists(d + "/file.sock")
            assert stat.S_IMODE(os.stat(d + "/flag.sock").st_mode) == 0o640
            assert m.stop() == 0
        finally:
            m.cleanup()


def test_refuses_second_manager_on_live_socket():
    with hdmtest.Manager() as first:
        second = hdmtest.Manager(socket_path=first.socket)
        try:
            second.start(wait=False)
            assert second.proc.wait(10) != 0
            assert "already running" in second.log(), second.log()
        finally:
            second.cleanup()
        assert os.path.exists(first.socket)
        assert first.request({"action": "ping"})["status"] == "ok"


def test_refuses_live_non_manager_listener():
    with tempfile.TemporaryDirectory(dir="/tmp") as d:
        path = os.path.join(d, "s.sock")
        other = socket.socket(socket.AF_UNIX)
        other.bind(path)
        other.listen(1)
        m = hdmtest.Manager(socket_path=path)
        try:
            m.start(wait=False)
            assert m.proc.wait(10) != 0
            assert "listening" in m.log()
            assert os.path.exists(path)
        finally:
            m.cleanup()
            other.close()


def test_removes_stale_socket():
    with tempfile.TemporaryDirectory(dir="/tmp") as d:
        path = os.path.join(d, "s.sock")
        dead = socket.socket(socket.AF_UNIX)
        dead.bind(path)
        dead.close()  # the file stays, nobody listens
        assert os.path.exists(path)
        m = hdmtest.Manager(socket_path=path)
        try:
            m.start()
            assert m.request({"action": "ping"})["status"] == "ok"
        finally:
            m.cleanup()


def test_refuses_to_replace_a_regular_file():
    with tempfile.TemporaryDirectory(dir="/tmp") as d:
        path = os.path.join(d, "s.sock")
        write(d, "s.sock", "precious")
        m = hdmtest.Manager(socket_path=path)
        try:
            m.start(wait=False)
            assert m.proc.wait(10) != 0
            assert "not a socket" in m.log()
            with open(path) as f:
                assert f.read() == "precious"
        finally:
            m.cleanup()


def test_sigterm_with_work_in_flight_answers_everything():
    m = hdmtest.Manager()
    try:
        m.start()
        # Long enough for the state below to be seen on any machine; the
        # running job then finishes before the manager exits.
        slow = m.make_model("slow.hef", infer_ms=5000)
        body = {"action": "infer", "model_type": "depth", "model_path": slow,
                "input_data": {"input": hdmtest.tensor("uint8", [1, 256, 320, 3])}}
        c = m.client(timeout=60)
        c.send_raw(b"".join(hdmtest.frame_v1(dict(body, request_id=str(i))) for i in range(5)))

        def first_running_rest_queued():
            st = m.request({"action": "status"})
            return st["scheduler"]["running"] == 1 and st["queue_depth"] == 4

        hdmtest.wait_until(first_running_rest_queued, 60, "the first job to run, four queued")
        m.send_signal(signal.SIGTERM)
        answers = {}
        for _ in range(5):
            r = c.recv()
            answers[r["request_id"]] = r
        assert answers["0"]["status"] == "ok", "the running job finishes"
        for i in range(1, 5):
            assert answers[str(i)]["code"] in ("cancelled", "unavailable"), answers[str(i)]
            assert "shutting down" in answers[str(i)]["error"]
        assert m.proc.wait(15) == 0, m.log()
        assert not os.path.exists(m.socket)
        assert "unloaded" in m.log() or "stopped" in m.log()
        c.close()
    finally:
        m.cleanup()


def test_sigint_idle_exits_zero():
    m = hdmtest.Manager()
    try:
        m.start()
        assert m.stop(signal.SIGINT) == 0
    finally:
        m.cleanup()


def test_http_status_and_metrics():
    with hdmtest.Manager(http=True) as m:
        path = m.make_model("h.hef")
        m.request({"action": "load_model", "model_path": path, "model_type": "depth"})
        code, body = m.http_get("/v1/device/status")
        assert code == 200
        st = json.loads(body)
        assert st["status"] == "ok" and st["device"]["device_id"]
        assert st["networks"]["network_count"] == 1
        assert st["networks"]["networks"][0]["name"] == "h.hef"
        code, body = m.http_get("/metrics")
        assert code == 200
        text = body.decode()
        assert 'hailo_manager_requests_total{action="load_model"} 1' in text
        assert "hailo_manager_uptime_seconds" in text
        assert "hailo_manager_connections_total" in text
        code, _ = m.http_get("/nope")
        assert code == 404


def test_preload_before_ready(tmp_path):
    m = hdmtest.Manager()
    try:
        clip_path, params = m.make_clip("pre-clip")
        depth = m.make_model("pre-depth.hef")
        entry = json.dumps({"model_type": "clip", "model_path": clip_path,
                            "model_params": params, "keep_alive": -1})
        cfg = write(m.workdir, "m.yaml", "preload:\n  - 'depth:%s'\n  - '%s'\n" % (depth, entry))
        m.args = ["--config", cfg]
        first = m.start().wait_ready()
        loaded = {x["model_path"] for x in first["loaded_models"]}
        assert loaded == {clip_path, depth}, first
    finally:
        m.cleanup()


def test_socket_activation_and_notify():
    d = tempfile.mkdtemp(dir="/tmp", prefix="hdm-act-")
    path = os.path.join(d, "act.sock")
    notify_path = os.path.join(d, "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.settimeout(10)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(16)
    sim = write(d, "sim.yaml", hdmtest.SIM_ZERO_LATENCY)
    env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="200000",
               HAILO_DEVICE_MODEL_DIRS=d)
    fd = listener.fileno()
    # LISTEN_PID/WATCHDOG_PID must be the manager's own pid: set them in a
    # shell that then execs the manager; the socket becomes fd 3.
    script = ('export LISTEN_FDS=1 LISTEN_PID=$$ WATCHDOG_PID=$$; exec "$0" "$@"')
    proc = subprocess.Popen(
        ["/bin/sh", "-c", script] + hdmtest.manager_command_prefix() +
        [BIN, "--backend", "sim", "--sim-config", sim, "--http-bind", "off",
         "--socket", "/nonexistent/unused.sock"],
        env=env, pass_fds=(3,),
        preexec_fn=(lambda: os.dup2(fd, 3)) if fd != 3 else None,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        msgs = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any("WATCHDOG=1" in x for x in msgs):
            msgs.append(notify.recv(4096).decode())
        assert any("READY=1" in x for x in msgs), msgs
        assert any("STATUS=" in x for x in msgs), msgs
        assert any("WATCHDOG=1" in x for x in msgs), msgs
        r = hdmtest.wait_for_socket_answer(path)
        assert r["status"] == "ok"
        assert not os.path.exists("/nonexistent/unused.sock")
        proc.send_signal(signal.SIGTERM)
        while True:
            x = notify.recv(4096).decode()
            if "STOPPING=1" in x:
                break
        assert proc.wait(10) == 0
        assert os.path.exists(path), "an activated socket is systemd's: never unlinked"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        notify.close()
        listener.close()
        subprocess.run(["rm", "-rf", d])
