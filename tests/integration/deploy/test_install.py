"""scripts/install.sh into a staged root (--root): accounts created with
useradd --root, files with their modes and owners, configs never
overwritten, model-file permissions, and a second run that changes nothing."""

import filecmp
import os
import stat

from conftest import (BIN, COMPONENTS, PROGRAMS, SERVICES, SOURCE, accounts, install_into as install,
                      manifest)


def mode_owner(root, path):
    st = os.lstat(os.path.join(root, path.lstrip("/")))
    return stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid


def test_staged_install_files_modes_owners(installed_root):
    root = installed_root

    users, groups = accounts(root, "passwd"), accounts(root, "group")
    hailo, models = int(groups["hailo"][2]), int(groups["hailo-models"][2])
    assert set(groups["hailo-models"][3].split(",")) == {c["user"] for c in COMPONENTS.values()}
    homes = {c["user"]: c["state"] for c in COMPONENTS.values()}
    for user, home in homes.items():
        fields = users[user]
        assert int(fields[3]) == hailo, f"{user}: primary group should be hailo"
        assert fields[5] == home and fields[6] == "/usr/sbin/nologin"
        assert int(fields[2]) < 1000, f"{user} should be a system user"

    for prog in PROGRAMS:
        path = os.path.join(root, "usr/local/bin", prog)
        assert mode_owner(root, f"/usr/local/bin/{prog}") == (0o755, 0, 0)
        assert filecmp.cmp(path, os.path.join(BIN, prog), shallow=False)

    for conf in (c["config"] for c in COMPONENTS.values()):
        assert mode_owner(root, f"/etc/hailo/{conf}") == (0o640, 0, hailo)
        assert filecmp.cmp(os.path.join(root, "etc/hailo", conf),
                           os.path.join(SOURCE, "config", conf), shallow=False)

    for unit in (u for c in COMPONENTS.values() for u in c["units"].split()):
        assert mode_owner(root, f"/etc/systemd/system/{unit}") == (0o644, 0, 0)
    links = {"sockets.target.wants/hailo-device-manager.socket",
             "multi-user.target.wants/hailo-device-manager.service"} | \
        {f"multi-user.target.wants/hailo-{svc}.service" for svc in SERVICES}
    for link in links:
        assert os.path.islink(os.path.join(root, "etc/systemd/system", link)), link

    # The shared model directory: setgid, group hailo-models, readable by the group.
    assert mode_owner(root, "/var/lib/hailo") == (0o2750, 0, models)
    for svc in SERVICES:
        uid = int(users[f"hailo-{svc}"][2])
        assert mode_owner(root, f"/var/lib/hailo/{svc}") == (0o2750, uid, models)


def test_second_run_changes_nothing(installed_root):
    before = manifest(installed_root)
    out = install(installed_root).stdout
    assert manifest(installed_root) == before
    assert "Nothing to change" in out
    assert "create" not in out and "install /" not in out


def test_dry_run_changes_nothing(staged_root):
    before = manifest(staged_root)
    out = install(staged_root, "--dry-run").stdout
    assert manifest(staged_root) == before
    assert "[dry-run] useradd --root" in out
    assert "would install" in out and "Dry run:" in out


def test_edited_config_is_kept_and_dist_written(installed_root):
    root = installed_root
    conf = os.path.join(root, "etc/hailo/hailo-clip.yaml")
    with open(conf, "a") as f:
        f.write("# edited by the owner\n")
    with open(conf) as f:
        edited = f.read()
    out = install(root).stdout
    with open(conf) as f:
        assert f.read() == edited
    assert "hailo-clip.yaml.dist" in out
    assert filecmp.cmp(conf + ".dist", os.path.join(SOURCE, "config/hailo-clip.yaml"),
                       shallow=False)
    # And then it is stable: the third run changes nothing either.
    before = manifest(root)
    assert "Nothing to change" in install(root).stdout
    assert manifest(root) == before


def test_unedited_old_default_is_updated(installed_root):
    """A config equal to the default this script installed earlier was never
    edited: a new default replaces it (no .dist)."""
    root = installed_root
    conf = os.path.join(root, "etc/hailo/hailo-vision.yaml")
    pristine = os.path.join(root, "usr/local/share/hailo-ai-services/defaults/hailo-vision.yaml")
    for path in (conf, pristine):
        with open(path, "w") as f:
            f.write("# an older default\nserver:\n  port: 11435\n")
    install(root)
    assert filecmp.cmp(conf, os.path.join(SOURCE, "config/hailo-vision.yaml"), shallow=False)
    assert not os.path.exists(conf + ".dist")


def test_service_installs_the_manager_first(staged_root):
    root = staged_root
    out = install(root, "clip").stdout
    assert "installing it first" in out
    for prog in ("hailo-device-manager", "hailo-devctl", "hailo-clip"):
        assert os.path.exists(os.path.join(root, "usr/local/bin", prog))
    assert not os.path.exists(os.path.join(root, "usr/local/bin/hailo-vision"))
    assert "hailo-vision" not in accounts(root, "passwd")
    # With the manager there, vision alone leaves it alone.
    out = install(root, "vision").stdout
    assert "installing it first" not in out and "hailo-device-manager" not in out.split(
        "Component vision")[1].split("systemd")[0]


def test_model_files_made_readable_for_the_manager(installed_root):
    """The seed's HAILO_OPEN_FILE_FAILURE(13): a model fetched 0600 into a
    service's directory.  The install makes it group hailo-models, g+r."""
    root = installed_root
    d = os.path.join(root, "var/lib/hailo/vision/models")
    os.makedirs(d)
    os.chmod(d, 0o700)
    hef = os.path.join(d, "model.hef")
    with open(hef, "wb") as f:
        f.write(b"HEF")
    os.chmod(hef, 0o600)
    os.chown(d, 0, 0)
    os.chown(hef, 0, 0)
    out = install(root).stdout
    assert "readable by group hailo-models" in out
    models = int(accounts(root, "group")["hailo-models"][2])
    mode, _, gid = mode_owner(root, "/var/lib/hailo/vision/models/model.hef")
    assert gid == models and mode & 0o040
    mode, _, gid = mode_owner(root, "/var/lib/hailo/vision/models")
    assert gid == models and mode & 0o2050 == 0o2050
    assert "Nothing to change" in install(root).stdout


def test_fresh_install_with_prefix(staged_root):
    root = staged_root
    out = install(root, "--prefix", "/opt/hailo").stdout
    assert "create system user hailo-dm" in out
    assert "Not starting: staged install" in out
    assert "Nothing to change" not in out
    assert os.path.exists(os.path.join(root, "opt/hailo/bin/hailo-device-manager"))
    with open(os.path.join(root, "etc/systemd/system/hailo-clip.service")) as f:
        text = f.read()
    assert "ExecStart=/opt/hailo/bin/hailo-clip --config /etc/hailo/hailo-clip.yaml" in text
    assert "/usr/local/bin" not in text


def test_bad_arguments(staged_root):
    p = install(staged_root, "nosuch", check=False)
    assert p.returncode != 0 and "unknown component 'nosuch'" in p.stderr
    p = install(staged_root, "--bogus", check=False)
    assert p.returncode != 0 and "unknown option '--bogus'" in p.stderr
    p = install(staged_root, "--prefix", "relative/dir", check=False)
    assert p.returncode != 0 and "absolute" in p.stderr
