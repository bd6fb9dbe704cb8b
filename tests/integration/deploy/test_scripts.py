"""The deployment shell scripts: shellcheck-clean (when Debian's shellcheck
is installed), strict mode, and the default configs accepted by the programs
that read them (--check-config)."""

import glob
import os
import shutil
import tempfile

import pytest

from conftest import BIN, SCRIPTS, SOURCE, need_programs, run

SHELL_FILES = sorted(glob.glob(os.path.join(SCRIPTS, "*.sh"))
                     + glob.glob(os.path.join(SCRIPTS, "lib", "*.sh"))
                     + glob.glob(os.path.join(SCRIPTS, "lib", "components", "*.sh")))


@pytest.mark.parametrize("path", SHELL_FILES, ids=lambda p: os.path.relpath(p, SCRIPTS))
def test_shellcheck(path):
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    p = run(["shellcheck", "-x", "-P", os.path.dirname(path), path], check=False)
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("name", ["install.sh", "uninstall.sh", "verify.sh"])
def test_strict_mode_and_help(name):
    path = os.path.join(SCRIPTS, name)
    with open(path) as f:
        text = f.read()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    assert os.access(path, os.X_OK)
    p = run([path, "--help"])
    assert "Usage: scripts/" + name in p.stdout


def test_manager_config_is_accepted():
    need_programs()
    conf = os.path.join(SOURCE, "config", "hailo-device-manager.yaml")
    p = run([os.path.join(BIN, "hailo-device-manager"), "--config", conf, "--check-config"])
    assert "configuration OK" in p.stdout
    assert "unknown key" not in p.stderr


def test_vision_config_is_accepted():
    need_programs()
    conf = os.path.join(SOURCE, "config", "hailo-vision.yaml")
    p = run([os.path.join(BIN, "hailo-vision"), "--config", conf, "--check-config"])
    assert "unknown key" not in p.stdout + p.stderr


def test_whisper_config_is_accepted():
    """Every key of the shipped config is known; a model file that is not
    there (it is the manager's to open) is a warning, not a failure."""
    need_programs()
    conf = os.path.join(SOURCE, "config", "hailo-whisper.yaml")
    p = run([os.path.join(BIN, "hailo-whisper"), "--config", conf, "--check-config"])
    assert "OK" in p.stdout
    assert "unknown key" not in p.stdout + p.stderr


def test_clip_config_is_accepted():
    """hailo-clip's check also reads the tokenizer and tables: point the
    resource paths of the default config at simulator assets."""
    need_programs()
    with tempfile.TemporaryDirectory() as d:
        run([os.path.join(SOURCE, "tools", "make-sim-assets"), d, "--fast"])
        with open(os.path.join(SOURCE, "config", "hailo-clip.yaml")) as f:
            text = f.read()
        res = "/usr/local/hailo/resources"
        assert f"{res}/clip/tokenizer.json" in text
        text = text.replace(f"{res}/clip/", os.path.join(d, "models", "clip") + "/")
        text = text.replace(f"{res}/models/hailo10h/", os.path.join(d, "models", "clip") + "/")
        conf = os.path.join(d, "clip.yaml")
        with open(conf, "w") as f:
            f.write(text)
        p = run([os.path.join(BIN, "hailo-clip"), "--config", conf, "--check-config"])
        assert "unknown key" not in p.stdout + p.stderr


def units_lib(script):
    """Runs bash with lib/common.sh and lib/units.sh loaded, systemd faked as
    running, and systemctl replaced by a function that logs its arguments;
    units listed in $ACTIVE are active, in $ENABLED enabled, in $BROKEN fail
    to start.  Returns (exit code, systemctl calls, stdout, stderr)."""
    fake = r'''
systemd_running() { true; }
systemctl() {
    echo "$*" >>"$CALLS"
    case "$1" in
        is-active) [[ " $ACTIVE " = *" ${@: -1} "* ]] ;;
        is-enabled) if [[ " $ENABLED " = *" $2 "* ]]; then echo enabled; else echo disabled; return 1; fi ;;
        start | restart) [[ " $BROKEN " != *" $2 "* ]] ;;
    esac
}
'''
    with tempfile.TemporaryDirectory() as d:
        calls = os.path.join(d, "calls")
        open(calls, "w").close()
        body = (f'set -euo pipefail; . {SCRIPTS}/lib/common.sh; . {SCRIPTS}/lib/units.sh;'
                f'{fake}\n{script}')
        p = run(["bash", "-c", body], check=False,
                env=dict(os.environ, CALLS=calls, ACTIVE="", ENABLED="", BROKEN=""))
        with open(calls) as f:
            return p.returncode, [line.strip() for line in f], p.stdout, p.stderr


def test_start_units_starts_what_is_not_running():
    rc, calls, out, _ = units_lib("start_units 0 m.socket m.service")
    assert rc == 0
    assert [c for c in calls if c.startswith("start")] == ["start m.socket", "start m.service"]


def test_start_units_restarts_changed_services_only():
    rc, calls, out, _ = units_lib("ACTIVE='m.socket m.service c.service'; "
                                  "start_units 1 m.socket m.service; start_units 0 c.service")
    assert rc == 0
    acts = [c for c in calls if not c.startswith("is-active")]
    assert acts == ["restart m.service"], calls
    assert "= c.service running" in out and "= m.socket running" in out


def test_start_units_reports_a_unit_that_fails():
    rc, calls, out, err = units_lib("BROKEN=m.service; start_units 0 m.service c.service; "
                                    "echo failed=$START_FAILED")
    assert rc == 0 and "failed=1" in out
    assert "m.service did not start" in err and "journalctl -u m.service" in err
    assert "start c.service" in calls


def test_enable_units_only_once():
    rc, calls, out, _ = units_lib("ENABLED=a.service; enable_units a.service b.service")
    assert rc == 0
    assert [c for c in calls if c.startswith("enable")] == ["enable --quiet b.service"]
    assert "= a.service enabled" in out


def test_dry_run_starts_nothing():
    rc, calls, out, _ = units_lib("DRY_RUN=1; start_units 0 m.socket; enable_units m.socket")
    assert rc == 0
    assert not [c for c in calls if c.split()[0] in ("start", "enable", "restart")]
    assert "[dry-run] systemctl start m.socket" in out
    assert "[dry-run] systemctl enable m.socket" in out


def test_poll_backs_off_and_gives_up():
    """poll retries until the command succeeds, and fails after its timeout."""
    rc, _, out, _ = units_lib('n=0; try() { n=$((n + 1)); [ "$n" -ge 4 ]; }; '
                              'poll 10 try && echo "ok after $n"; '
                              'if poll 1 false; then echo bad; else echo "gave up"; fi')
    assert rc == 0 and "ok after 4" in out and "gave up" in out and "bad" not in out


def migrate_lib(script, active=""):
    """units_lib with lib/migrate.sh too, over a root whose unit directory has
    the original stack's manager and ocr units (User= hailo-device-mgr,
    hailo-ocr) and one of ours (hailo-clip)."""
    with tempfile.TemporaryDirectory() as d:
        units = os.path.join(d, "etc", "systemd", "system")
        os.makedirs(units)
        for name, user, ours in (("hailo-device-manager", "hailo-device-mgr", False),
                                 ("hailo-ocr", "hailo-ocr", False), ("hailo-clip", "hailo-clip", True)):
            with open(os.path.join(units, name + ".service"), "w") as f:
                f.write("[Service]\nUser=%s\n%s" % (
                    user, "Documentation=file:/usr/share/doc/hailo-ai-services/README.md\n"
                    if ours else ""))
        libs = "; ".join(f". {SCRIPTS}/lib/{n}.sh" for n in ("state", "files", "accounts", "migrate"))
        return units_lib(f"ROOT={d}; {libs}; ACTIVE='{active}'\n{script}")


def test_original_units_run_again_after_the_install():
    """The original's services running before the install: the one that
    stopped with its manager starts again, a running one whose user joined
    the socket group restarts, ours and the replaced ones are left alone."""
    rc, calls, out, err = migrate_lib(
        'mapfile -t before < <(original_units_active); echo "before=${before[*]}"\n'
        "ACTIVE='hailo-clip.service'\n"
        'restart_original_units "${before[@]}"\n'
        "ACTIVE='hailo-device-manager.service hailo-ocr.service hailo-clip.service'\n"
        "MIGRATED_SOCKET_USERS=(hailo-ocr)\n"
        'restart_original_units "${before[@]}" hailo-clip.service',
        active="hailo-device-manager.service hailo-ocr.service hailo-clip.service")
    assert rc == 0, err
    assert "before=hailo-device-manager.service hailo-ocr.service" in out
    acts = [c for c in calls if c.split()[0] in ("start", "restart", "stop")]
    assert acts == ["start hailo-device-manager.service", "start hailo-ocr.service",
                    "restart hailo-ocr.service"], calls
    assert "restart hailo-ocr.service (the original stack's: its user joined group hailo)" in out


def test_original_unit_kept_and_stopped_before_ours_replaces_it():
    rc, calls, out, err = migrate_lib(
        'DRY_RUN=0; STATE_FILE=$ROOT/state; keep_original_unit hailo-device-manager.service '
        '"$ROOT/replaced"; keep_original_unit hailo-clip.service "$ROOT/replaced"; '
        'keep_original_unit hailo-device-manager.service "$ROOT/replaced"; cat "$ROOT/state"; '
        'ls "$ROOT/replaced"',
        active="hailo-device-manager.service")
    assert rc == 0, err
    assert [c for c in calls if c.startswith("stop")] == ["stop hailo-device-manager.service"]
    assert out.count("keep the original stack's hailo-device-manager.service") == 1
    assert "unit\thailo-device-manager.service\tdisabled" in out
    assert "hailo-clip" not in out.split("replaced")[-1]
