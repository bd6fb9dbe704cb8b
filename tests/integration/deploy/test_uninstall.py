"""scripts/uninstall.sh on a staged root: removes programs and units, keeps
configs, users and models; --purge removes those too."""

import os

from conftest import SCRIPTS, accounts, install_into as install, run

UNINSTALL = os.path.join(SCRIPTS, "uninstall.sh")


def uninstall(root, *args, check=True):
    return run([UNINSTALL, "--root", root, *args], check=check)


def exists(root, path):
    return os.path.lexists(os.path.join(root, path.lstrip("/")))


def test_uninstall_keeps_configs_then_purge_removes_them(installed_root):
    root = installed_root
    model = os.path.join(root, "var/lib/hailo/clip/fetched.hef")
    with open(model, "wb") as f:
        f.write(b"HEF")

    out = uninstall(root).stdout
    assert "Configs, users and models were kept" in out
    for path in ("/usr/local/bin/hailo-device-manager", "/usr/local/bin/hailo-devctl",
                 "/usr/local/bin/hailo-clip", "/usr/local/bin/hailo-vision",
                 "/etc/systemd/system/hailo-device-manager.socket",
                 "/etc/systemd/system/hailo-device-manager.service",
                 "/etc/systemd/system/hailo-clip.service",
                 "/etc/systemd/system/hailo-vision.service",
                 "/usr/local/bin/hailo-whisper", "/etc/systemd/system/hailo-whisper.service",
                 "/etc/systemd/system/multi-user.target.wants/hailo-clip.service",
                 "/etc/systemd/system/sockets.target.wants/hailo-device-manager.socket"):
        assert not exists(root, path), path
    for path in ("/etc/hailo/hailo-device-manager.yaml", "/etc/hailo/hailo-clip.yaml",
                 "/etc/hailo/hailo-vision.yaml", "/etc/hailo/hailo-whisper.yaml",
                 "/var/lib/hailo/clip/fetched.hef"):
        assert exists(root, path), path
    assert {"hailo-dm", "hailo-clip", "hailo-vision",
            "hailo-whisper"} <= set(accounts(root, "passwd"))

    # Installing again picks the kept configs up without a .dist.
    out = install(root).stdout
    assert ".dist" not in out
    assert "= group hailo exists" in out

    out = uninstall(root, "--purge").stdout
    for path in ("/etc/hailo", "/var/lib/hailo", "/usr/local/share/hailo-ai-services",
                 "/usr/local/bin/hailo-clip"):
        assert not exists(root, path), path
    assert set(accounts(root, "passwd")) == {"root"}
    assert set(accounts(root, "group")) == {"root"}


def test_uninstall_one_service(installed_root):
    root = installed_root
    uninstall(root, "vision", "--purge")
    assert not exists(root, "/usr/local/bin/hailo-vision")
    assert not exists(root, "/etc/hailo/hailo-vision.yaml")
    assert not exists(root, "/var/lib/hailo/vision")
    assert "hailo-vision" not in accounts(root, "passwd")
    # The rest stays.
    assert exists(root, "/usr/local/bin/hailo-clip")
    assert exists(root, "/etc/hailo/hailo-clip.yaml")
    assert {"hailo", "hailo-models"} <= set(accounts(root, "group"))
    # Nothing left to do for vision.
    assert "Nothing to remove" in uninstall(root, "vision").stdout


def test_manager_kept_while_a_service_needs_it(installed_root):
    root = installed_root
    p = uninstall(root, "manager", check=False)
    assert p.returncode != 0 and "still installed and needs the manager" in p.stderr
    assert exists(root, "/usr/local/bin/hailo-device-manager")


def test_dry_run_removes_nothing(installed_root):
    root = installed_root
    out = uninstall(root, "--purge", "--dry-run").stdout
    assert "[dry-run] would remove" in out
    assert exists(root, "/usr/local/bin/hailo-device-manager")
    assert exists(root, "/etc/hailo/hailo-clip.yaml")
