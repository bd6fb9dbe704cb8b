"""scripts/install.sh over an existing install of the original Python stack
(issue 15 items 1, 2 and 6): its users join the socket group and are told so,
the manager reads the original model trees through their own groups (the
kernel says so, inside the staged root), no file is opened to other users,
model places the original configs name are added to the manager's
model_dirs without overwriting edits, the original configs are kept as they
are, a second run changes nothing, and uninstall.sh undoes exactly what the
install did."""

import filecmp
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import (HEFS, ORIGINAL, SERVICES, SOURCE, StagedSystem, accounts, install,
                      need_root_and_namespaces, snapshot, stage_original, uninstall)

# The original's units this stack's `install.sh all` replaces (kept for
# uninstall); the staged original also has hailo-piper, which it does not.
REPLACED = ("hailo-device-manager", "hailo-vision", "hailo-clip", "hailo-ocr")
SOCKET_USERS = {"hailo-device-mgr", "hailo-piper"} | {"hailo-" + s for s in SERVICES}


@pytest.fixture
def root():
    need_root_and_namespaces()
    path = tempfile.mkdtemp(prefix="hdm-migrate-inst-")
    try:
        yield stage_original(os.path.join(path, "root"))
    finally:
        shutil.rmtree(path, ignore_errors=True)


def members(root, group):
    return set(filter(None, accounts(root, "group")[group][3].split(",")))


def tree_modes(snap):
    return {p: v for p, v in snap.items() if p.startswith("var/lib/hailo-")}


def test_install_over_the_original(root):
    before = snapshot(root)
    out = install(root).stdout

    # Every service user of the original reaches the socket, and is told so.
    assert SOCKET_USERS <= members(root, "hailo")
    assert "pi" not in members(root, "hailo")
    for u in SOCKET_USERS:
        assert f"add user {u} to group hailo (to reach the device manager's socket)" in out, out
    # The manager reads each original tree through that tree's own group.
    for s in ("vision", "whisper", "ocr", "depth", "pose"):
        assert "hailo-dm" in members(root, "hailo-" + s), s
        assert f"add user hailo-dm to group hailo-{s} (to read the models in /var/lib/hailo-{s})" \
            in out
    assert "hailo-dm" not in members(root, "hailo-clip")  # no model tree of its own there

    # Nothing was opened to other users; owners stay; only the whisper model
    # (written 0600 by its download) gained the group's read bit.
    after = snapshot(root)
    changed = {p: (before[p], after[p]) for p in tree_modes(before) if before[p] != after[p]}
    whisper = {HEFS["whisper"].lstrip("/"), HEFS["whisper"].lstrip("/") + ".sim.json"}
    assert set(changed) == whisper, changed
    for p, (old, new) in changed.items():
        assert (old[1], new[1]) == ("0o600", "0o640") and old[2:] == new[2:], (p, old, new)
    assert set(tree_modes(after)) == set(tree_modes(before))
    assert "readable by group hailo-whisper (its own group; nothing is opened to other users)" \
        in out

    # The kernel agrees: as the manager's user, inside the root, every model
    # reads; as someone else, the closed trees stay closed.
    staged = StagedSystem(root, os.path.dirname(root))
    for key, hef in HEFS.items():
        if hef.startswith("/var/lib/"):
            p = staged.run_as("hailo-dm", ["/usr/bin/test", "-r", hef])
            assert p.returncode == 0, (key, p.stderr)
    p = staged.run_as("pi", ["/usr/bin/test", "-r", HEFS["vlm"]])
    assert p.returncode == 1, p.stderr
    staged.check_unmounted()

    # The original configs are kept as they ship, with ours beside them.
    for s in ("vision", "clip"):
        conf = os.path.join(root, f"etc/hailo/hailo-{s}.yaml")
        assert filecmp.cmp(conf, os.path.join(ORIGINAL, f"hailo-{s}.yaml"), shallow=False)
        assert after[f"etc/hailo/hailo-{s}.yaml"][1:4] == ("0o644", 0, 0)
        assert filecmp.cmp(conf + ".dist", os.path.join(SOURCE, "config", f"hailo-{s}.yaml"),
                           shallow=False)
        assert f"hailo-{s}.yaml is not ours (the original service's): kept as it is" in out
    assert after["etc/hailo/device-manager.env"] == before["etc/hailo/device-manager.env"]
    # The shipped configs name no model place outside the defaults.
    assert filecmp.cmp(os.path.join(root, "etc/hailo/hailo-device-manager.yaml"),
                       os.path.join(SOURCE, "config/hailo-device-manager.yaml"), shallow=False)

    # The original's units we replace are kept for uninstall; the others stay.
    for u in REPLACED:
        kept = os.path.join(root, f"usr/local/share/hailo-ai-services/replaced/{u}.service")
        assert after[os.path.relpath(kept, root)][4] == before[f"etc/systemd/system/{u}.service"][4]
        assert f"keep the original stack's {u}.service in" in out
        assert "hailo-ai-services" in open(os.path.join(root, f"etc/systemd/system/{u}.service")).read()
    assert after["etc/systemd/system/hailo-piper.service"] == \
        before["etc/systemd/system/hailo-piper.service"]
    assert os.path.islink(os.path.join(
        root, "etc/systemd/system/multi-user.target.wants/hailo-piper.service"))
    assert "restart the original stack's services: systemctl restart hailo-piper.service" in out

    # Idempotent.
    out = install(root).stdout
    assert "Nothing to change" in out, [line for line in out.splitlines() if "=" not in line]
    assert snapshot(root) == after


def test_model_places_in_the_original_configs(root):
    """Places the original configs name outside the default model_dirs go
    into the manager config we install; a manager config edited since gets
    them in .dist and a note, never overwritten."""
    etc = os.path.join(root, "etc/hailo")

    def edit(name, old, new):
        path = os.path.join(etc, name)
        with open(path) as f:
            text = f.read()
        assert old in text, (name, old)
        with open(path, "w") as f:
            f.write(text.replace(old, new))

    edit("hailo-vision.yaml", "hef_path: null", 'hef_path: "/srv/vlm/Qwen2-VL-2B-Instruct.hef"')
    edit("hailo-depth.yaml", "model_dir: /var/lib/hailo-depth/resources/models",
         "model_dir: /opt/depth-models/   # moved")
    edit("hailo-ocr.yaml", "  batch_size_det: 1", "  models_root: /data/ocr\n  batch_size_det: 1")
    vendor = os.path.join(root, "opt/hailo-ocr/vendor/hailo-apps/local_resources/models/hailo10h")
    os.makedirs(vendor)
    with open(os.path.join(vendor, "ocr.hef"), "wb") as f:  # found where the original looks
        f.write(b"HEF")
    out = install(root).stdout
    places = ["/srv/vlm", "/opt/depth-models", "/data/ocr",
              "/opt/hailo-ocr/vendor/hailo-apps/local_resources/models/hailo10h"]
    conf = os.path.join(etc, "hailo-device-manager.yaml")
    with open(conf) as f:
        text = f.read()
    for d in places:
        assert f"\n  - {d}\n" in text, (d, text)
        assert f"model directory {d} (" in out
    assert "(/etc/hailo/hailo-ocr.yaml: hailo_models.recognition_hefs.en)" in out
    # The result is a config the manager accepts, with the places allowed.
    p = subprocess.run([os.path.join(root, "usr/local/bin/hailo-device-manager"), "--config",
                        conf, "--check-config"], capture_output=True, text=True)
    assert p.returncode == 0 and "configuration OK" in p.stdout, p.stdout + p.stderr
    assert "Nothing to change" in install(root).stdout

    # The owner edits the manager config; a new place then goes to .dist.
    with open(conf, "a") as f:
        f.write("# edited\n")
    edit("hailo-pose.yaml", "resource_limits:", "resource_limits:")  # unchanged file
    edit("hailo-whisper.yaml", "resources_dir: \"/var/lib/hailo-whisper/resources\"",
         "resources_dir: /home/pi/whisper")
    p = install(root)
    out = p.stdout + p.stderr
    with open(conf) as f:
        assert f.read().endswith("# edited\n")
    assert "NOTE: add to model_dirs in /etc/hailo/hailo-device-manager.yaml" in out
    assert "/home/pi/whisper" in out and "ProtectHome" in out
    with open(conf + ".dist") as f:
        assert "\n  - /home/pi/whisper\n" in f.read()


def test_uninstall_undoes_exactly_the_install(root):
    before = snapshot(root)
    install(root)
    install(root)

    # Plain uninstall: programs and our units go, the original's units come
    # back (enabled as they were); configs, users and groups stay.
    out = uninstall(root).stdout
    for u in REPLACED:
        assert f"restore the original stack's {u}.service (enabled)" in out
    snap = snapshot(root)
    for u in REPLACED + ("hailo-piper",):
        rel = f"etc/systemd/system/{u}.service"
        assert snap[rel] == before[rel], u
        link = f"etc/systemd/system/multi-user.target.wants/{u}.service"
        assert snap[link] == before[link], u
    assert not os.path.exists(os.path.join(root, "usr/local/bin/hailo-device-manager"))
    assert not os.path.exists(os.path.join(root, "etc/systemd/system/hailo-device-manager.socket"))
    assert "hailo-dm" in accounts(root, "passwd")

    # --purge: everything the install made or changed is undone, and only that.
    out = uninstall(root, "--purge").stdout
    assert "kept user hailo-vision: it was there before the install" in out
    assert "etc/hailo/hailo-vision.yaml: the original service's, not ours" in out
    after = snapshot(root)
    differ = {p: (before[p], after.get(p)) for p in before if after.get(p) != before[p]}
    assert not differ, differ
    # Left behind: only empty system directories the install made.
    extra = set(after) - set(before)
    assert extra <= {"usr/local/bin", "usr/local/share", "usr/local/share/doc",
                     "etc/systemd/system/sockets.target.wants"}, extra
    for p in extra:
        left = [n for n in os.listdir(os.path.join(root, p)) if os.path.join(p, n) not in extra]
        assert os.path.isdir(os.path.join(root, p)) and not left, (p, left)


def test_files_of_another_group_in_a_tree(root):
    """A model root downloaded into a service's tree (root:root 0600) gets
    the tree's group and its read bit; one others may read already is left
    alone; --purge puts the first back."""
    d = "var/lib/hailo-pose/resources/models/hailo10h"
    closed, open_ = os.path.join(root, d, "root-0600.hef"), os.path.join(root, d, "root-0644.hef")
    for path, mode in ((closed, 0o600), (open_, 0o644)):
        with open(path, "wb") as f:
            f.write(b"HEF")
        os.chmod(path, mode)
    pose = int(accounts(root, "group")["hailo-pose"][2])
    install(root)
    st = os.stat(closed)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (0, pose, 0o640)
    st = os.stat(open_)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (0, 0, 0o644)
    uninstall(root, "--purge")
    st = os.stat(closed)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (0, 0, 0o600)
