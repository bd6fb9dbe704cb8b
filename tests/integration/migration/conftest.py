"""The migration tests (issue 15): a staged root laid out as the original
Python stack installs itself, scripts/install.sh over it, then our programs
started from the installed files inside that root.

Staging follows the original's install.sh scripts (read, not copied):
  - device manager: group+user hailo-device-mgr (home
    /var/lib/hailo-device-manager, 0750), in the group of /dev/hailo0
    ("video" here); /etc/hailo/device-manager.env naming that group;
  - each service S: group+user hailo-S (home /var/lib/hailo-S), in the
    device group (depth and pose also in hailo-device-mgr); its tree
    chown -R hailo-S:hailo-S, chmod -R u+rwX,g+rX,o-rwx (dirs 0750, files
    0640), except ocr (0755 dirs, files as downloaded, 0644) and whisper
    (its top directory 0755; its model written 0600 by the download);
  - models where the original puts them: /var/lib/hailo-vision/resources/
    models/hailo10h/Qwen2-VL-2B-Instruct.hef, CLIP under
    /usr/local/hailo/resources (models/hailo10h, json, npy; 0644 root),
    ocr_det.hef and ocr.hef, scdepthv3.hef, yolov8s_pose.hef, Whisper-Base.hef
    (sim stand-ins with sidecars that the sim backend reads);
  - /etc/hailo/hailo-*.yaml exactly as it ships them (original/etc-hailo);
  - its units for the manager, vision, clip and ocr, enabled.

StagedSystem runs a program inside the root as a unit would: a private
mount namespace (unshare -m) binds the host's /usr/bin, /usr/lib, /dev and
/proc into the root, chroot, then the unit's user, group and supplementary
groups (setpriv) with the unit's environment, so every permission check is
the kernel's own against the staged accounts and modes.  The socket is
made as hailo-device-manager.socket makes it (root:hailo 0660) and handed
over as socket activation does (LISTEN_FDS).
"""

import hashlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import hdmtest  # noqa: E402  (tests/integration/hdmtest.py)

_spec = importlib.util.spec_from_file_location("deploy_conftest",
                                               os.path.join(HERE, "..", "deploy", "conftest.py"))
deploy = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(deploy)

SOURCE, BUILD, BIN, SCRIPTS = deploy.SOURCE, deploy.BUILD, deploy.BIN, deploy.SCRIPTS
run, accounts, make_root = deploy.run, deploy.accounts, deploy.make_root
ORIGINAL = os.path.join(HERE, "original", "etc-hailo")
DEVICE_GROUP = "video"
CHROOT = shutil.which("chroot", path="/usr/sbin:/usr/bin:/sbin:/bin") or "/usr/sbin/chroot"
SERVICES = ("vision", "clip", "ocr", "depth", "pose", "whisper")
RES = "/usr/local/hailo/resources"
HEFS = {
    "vlm": "/var/lib/hailo-vision/resources/models/hailo10h/Qwen2-VL-2B-Instruct.hef",
    "clip_image": RES + "/models/hailo10h/clip_vit_b_32_image_encoder.hef",
    "clip_text": RES + "/models/hailo10h/clip_vit_b_32_text_encoder.hef",
    "ocr_det": "/var/lib/hailo-ocr/resources/models/hailo10h/ocr_det.hef",
    "ocr_rec": "/var/lib/hailo-ocr/resources/models/hailo10h/ocr.hef",
    "ocr_big": "/var/lib/hailo-ocr/resources/models/hailo10h/ocr_det_big.hef",
    "depth": "/var/lib/hailo-depth/resources/models/scdepthv3.hef",
    "depth_slow": "/var/lib/hailo-depth/resources/models/slow_depth.hef",
    "pose": "/var/lib/hailo-pose/resources/models/hailo10h/yolov8s_pose.hef",
    "whisper": "/var/lib/hailo-whisper/resources/models/hailo10h/Whisper-Base.hef",
}
# Sidecars of the sim stand-ins: small OCR input for fast tests; one OCR
# model whose detection map is larger than the original client's 8 MiB cap
# while its input is not; a depth model slow enough for the client to time
# out.
SIDECARS = {
    "ocr_det": {"input_height": 64, "input_width": 96},
    "ocr_big": {"input_height": 1200, "input_width": 1500},
    "depth_slow": {"infer_ms": 3000},
}


def need_root_and_namespaces():
    deploy.need_root()
    deploy.need_programs()
    p = subprocess.run(["unshare", "--mount", "--propagation", "private", "true"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip("mount namespaces are not available here (unshare -m: %s)" % p.stderr.strip())


# ---- the original install ---------------------------------------------------------

def shadow(root, *args):
    run([args[0], "--root", root, *args[1:]])


def chown_tree(root, path, user, group, dir_mode, file_mode):
    """chown -R user:group and chmod every directory/file of path (as the
    original's chmod -R u+rwX,g+rX,o-rwx gives 0750/0640)."""
    users, groups = accounts(root, "passwd"), accounts(root, "group")
    uid, gid = int(users[user][2]), int(groups[group][2])
    top = os.path.join(root, path.lstrip("/"))
    for d, dirs, files in os.walk(top):
        os.chown(d, uid, gid)
        os.chmod(d, dir_mode)
        for f in files:
            p = os.path.join(d, f)
            os.chown(p, uid, gid)
            os.chmod(p, file_mode)


def put(root, path, data, mode=0o644, uid=0, gid=0):
    p = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    os.chown(p, uid, gid)
    os.chmod(p, mode)
    return p


def stage_original(root):
    """Lays out root as the original stack installs itself (module docstring)."""
    make_root(root)
    os.makedirs(os.path.join(root, "etc", "alternatives"))  # as on any Debian system
    shadow(root, "groupadd", "--system", DEVICE_GROUP)
    shadow(root, "groupadd", "--system", "hailo-device-mgr")
    shadow(root, "useradd", "--system", "--shell", "/usr/sbin/nologin", "--home-dir",
           "/var/lib/hailo-device-manager", "--gid", "hailo-device-mgr", "--groups", DEVICE_GROUP,
           "hailo-device-mgr")
    for s in SERVICES:
        shadow(root, "groupadd", "--system", "hailo-" + s)
        extra = DEVICE_GROUP + (",hailo-device-mgr" if s in ("depth", "pose") else "")
        shadow(root, "useradd", "--system", "--shell", "/usr/sbin/nologin", "--home-dir",
               "/var/lib/hailo-" + s, "--gid", "hailo-" + s, "--groups", extra, "hailo-" + s)
    # A service of the original that this stack does not replace (CPU text to
    # speech): its unit must come through install and uninstall untouched.
    shadow(root, "groupadd", "--system", "hailo-piper")
    shadow(root, "useradd", "--system", "--shell", "/usr/sbin/nologin", "--home-dir",
           "/var/lib/hailo-piper", "--gid", "hailo-piper", "hailo-piper")
    # Someone who is no service: stays out of the socket group.
    shadow(root, "useradd", "--uid", "1000", "--shell", "/usr/sbin/nologin", "pi")

    r = lambda p: os.path.join(root, p.lstrip("/"))  # noqa: E731
    os.makedirs(r("/var/lib/hailo-device-manager"))
    chown_tree(root, "/var/lib/hailo-device-manager", "hailo-device-mgr", "hailo-device-mgr",
               0o750, 0o640)

    assets = tempfile.mkdtemp(prefix="hdm-migrate-assets-")
    try:
        run(["/usr/bin/python3", os.path.join(SOURCE, "tools", "make-sim-assets"), assets,
             "--fast"])
        sim = lambda rel: open(os.path.join(assets, "models", rel), "rb").read()  # noqa: E731
        # CLIP: downloaded as root into hailo-apps' resources, chmod 644.
        put(root, HEFS["clip_image"], sim("clip/clip_vit_b_32_image_encoder.hef"))
        put(root, HEFS["clip_text"], sim("clip/clip_vit_b_32_text_encoder.hef"))
        put(root, RES + "/json/clip_tokenizer.json", sim("clip/tokenizer.json"))
        put(root, RES + "/npy/token_embedding_lut.npy", sim("clip/token_embedding_lut.npy"))
        put(root, RES + "/npy/text_projection.npy", sim("clip/text_projection.npy"))
        for d in ("/usr/local/hailo", RES, RES + "/models", RES + "/models/hailo10h",
                  RES + "/json", RES + "/npy"):
            os.chmod(r(d), 0o755)
        for key, hef in HEFS.items():
            if hef.startswith("/var/lib/"):
                put(root, hef, b"HEF-SIM " + key.encode() + b"\n")
                put(root, hef + ".sim.json", json.dumps(SIDECARS.get(key, {})))
        for s in ("vision", "clip"):
            os.makedirs(r(f"/var/lib/hailo-{s}/cache"), exist_ok=True)
        os.makedirs(r("/var/lib/hailo-clip/models"), exist_ok=True)
    finally:
        shutil.rmtree(assets, ignore_errors=True)
    # Each tree as its installer leaves it.
    for s in ("vision", "clip", "depth", "pose", "whisper"):
        chown_tree(root, "/var/lib/hailo-" + s, "hailo-" + s, "hailo-" + s, 0o750, 0o640)
    chown_tree(root, "/var/lib/hailo-ocr", "hailo-ocr", "hailo-ocr", 0o755, 0o644)
    os.chmod(r("/var/lib/hailo-depth/resources/models/scdepthv3.hef"), 0o644)
    os.chmod(r("/var/lib/hailo-pose/resources/models/hailo10h/yolov8s_pose.hef"), 0o644)
    os.chmod(r("/var/lib/hailo-whisper"), 0o755)
    for p in (HEFS["whisper"], HEFS["whisper"] + ".sim.json"):
        os.chmod(r(p), 0o600)  # a download tool's temporary file, renamed

    os.makedirs(r("/etc/hailo"), exist_ok=True)
    os.chmod(r("/etc/hailo"), 0o755)
    for name in sorted(os.listdir(ORIGINAL)):
        with open(os.path.join(ORIGINAL, name)) as f:
            put(root, "/etc/hailo/" + name, f.read())
    put(root, "/etc/hailo/device-manager.env",
        "# Optional overrides for hailo-device-manager\n"
        "HAILO_DEVICE_SOCKET=/run/hailo/device.sock\n"
        "HAILO_DEVICE_SOCKET_MODE=0660\n"
        f"HAILO_DEVICE_SOCKET_GROUP={DEVICE_GROUP}\n")

    units = {"hailo-device-manager": ("hailo-device-mgr", "hailo_device_manager.py"),
             "hailo-vision": ("hailo-vision", "hailo_vision_server.py"),
             "hailo-clip": ("hailo-clip", "hailo_clip_service.py"),
             "hailo-ocr": ("hailo-ocr", "hailo_ocr_server.py"),
             "hailo-piper": ("hailo-piper", "hailo_piper_service.py")}
    for name, (user, script) in units.items():
        put(root, f"/etc/systemd/system/{name}.service",
            f"[Unit]\nDescription={name} (the original Python stack)\n\n[Service]\n"
            f"User={user}\nGroup={user}\n"
            f"ExecStart=/opt/{name}/venv/bin/python3 /opt/{name}/{script}\n\n"
            "[Install]\nWantedBy=multi-user.target\n")
        run(["systemctl", "--root=" + root, "enable", "--quiet", name + ".service"])
    return root


def install(root, *args, check=True):
    return run([os.path.join(SCRIPTS, "install.sh"), "--root", root, "--build-dir", BUILD,
                *args], check=check)


def uninstall(root, *args, check=True):
    return run([os.path.join(SCRIPTS, "uninstall.sh"), "--root", root, *args], check=check)


# What StagedSystem adds to a root to run programs in it.
SCAFFOLD = ("bin", "lib", "lib64", "sbin", "usr/bin", "usr/lib", "usr/lib64", "usr/libexec", "dev",
            "proc", "tmp", "run", "etc/ld.so.cache")


def snapshot(root, skip=SCAFFOLD):
    """{path: (type, mode, uid, gid, content or link)} of root, mtimes left
    out; shadow's backup files (passwd- ...) and `skip` prefixes too (by
    default StagedSystem's scaffolding)."""
    out = {}
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            p = os.path.join(d, name)
            rel = os.path.relpath(p, root)
            if name.endswith("-") and rel.startswith("etc/") or any(
                    rel == s or rel.startswith(s + "/") for s in skip):
                continue
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                what = ("link", os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    what = ("file", hashlib.sha256(f.read()).hexdigest())
            else:
                what = ("dir", "")
            out[rel] = (what[0], oct(stat.S_IMODE(st.st_mode)), st.st_uid, st.st_gid, what[1])
    return out


# ---- running inside the staged root -------------------------------------------------

def unit_settings(root, unit):
    """User, Group, SupplementaryGroups, the environment and ExecStart of an
    installed unit, read as systemd reads them (the directives we use)."""
    cfg = {"Environment": {}, "SupplementaryGroups": []}
    with open(os.path.join(root, "etc/systemd/system", unit)) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", "[")) or "=" not in line:
                continue
            key, value = line.split("=", 1)
            if key == "Environment":
                k, v = value.split("=", 1)
                cfg["Environment"][k] = v
            elif key == "EnvironmentFile":
                path = os.path.join(root, value.lstrip("-").lstrip("/"))
                if os.path.exists(path):
                    with open(path) as ef:
                        for el in ef:
                            el = el.strip()
                            if el and not el.startswith("#") and "=" in el:
                                k, v = el.split("=", 1)
                                cfg["Environment"][k] = v.strip('"')
            elif key == "SupplementaryGroups":
                cfg["SupplementaryGroups"] += value.split()
            elif key in ("User", "Group", "ExecStart"):
                cfg[key] = value
    return cfg


class StagedSystem:
    """Programs run inside a staged root (module docstring)."""

    BINDS = ("usr/bin", "usr/lib", "usr/lib64", "usr/libexec", "dev", "proc")

    def __init__(self, root, workdir):
        self.root = root
        self.workdir = workdir
        self.procs = []
        self.logs = []
        r = lambda p: os.path.join(root, p)  # noqa: E731
        for d in self.BINDS:
            if os.path.isdir("/" + d) and not os.path.islink("/" + d):
                os.makedirs(r(d), exist_ok=True)
        for link in ("bin", "lib", "lib64", "sbin"):
            if os.path.islink("/" + link) and not os.path.lexists(r(link)):
                os.symlink(os.readlink("/" + link), r(link))
        put(root, "/etc/ld.so.cache", b"")
        os.makedirs(r("tmp"), exist_ok=True)
        os.chmod(r("tmp"), 0o1777)
        self.sock = None

    def ids(self, user, group=None, supplementary=()):
        """uid, gid and the groups initgroups gives user (plus supplementary)."""
        users, groups = accounts(self.root, "passwd"), accounts(self.root, "group")
        uid = int(users[user][2])
        gid = int(groups[group][2]) if group else int(users[user][3])
        gids = [gid, int(users[user][3])]
        gids += [int(g[2]) for g in groups.values() if user in g[3].split(",")]
        gids += [int(groups[g][2]) for g in supplementary]
        return uid, gid, sorted(set(gids))

    def command(self, argv, uid, gid, gids, listen=False):
        binds = "".join(
            f"mount --rbind /{d} '{self.root}/{d}'\n" for d in self.BINDS
            if os.path.isdir(os.path.join(self.root, d)) and os.path.isdir("/" + d))
        binds += f"mount --bind /etc/ld.so.cache '{self.root}/etc/ld.so.cache'\n"
        if os.path.isdir("/etc/alternatives") and os.path.isdir(
                os.path.join(self.root, "etc", "alternatives")):
            # Debian reaches some libraries through alternatives (OpenCV's
            # lapack and blas, for hailo-pose).
            binds += f"mount --rbind /etc/alternatives '{self.root}/etc/alternatives'\n"
        script = ("set -e\n" + binds
                  + ("exec 3<&0 </dev/null\nexport LISTEN_FDS=1 LISTEN_PID=$$\n" if listen else "")
                  + f"exec {CHROOT} '{self.root}' /usr/bin/setpriv --reuid={uid} --regid={gid} "
                  f"--groups={','.join(map(str, gids))} -- \"$@\"\n")
        return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script,
                "staged"] + list(argv)

    def env(self, extra):
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        env.update(extra)
        return env

    def make_socket(self):
        """The socket as hailo-device-manager.socket makes it."""
        groups = accounts(self.root, "group")
        run_dir = os.path.join(self.root, "run", "hailo")
        os.makedirs(run_dir, exist_ok=True)
        os.chmod(os.path.join(self.root, "run"), 0o755)
        os.chmod(run_dir, 0o755)
        path = os.path.join(run_dir, "device.sock")
        if os.path.exists(path):
            os.unlink(path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        os.chown(path, 0, int(groups["hailo"][2]))
        os.chmod(path, 0o660)
        s.listen(128)
        self.sock = s
        return path

    def start_unit(self, unit, extra_args=(), log_name=None):
        """Starts an installed unit's program as the unit would run it."""
        cfg = unit_settings(self.root, unit)
        uid, gid, gids = self.ids(cfg["User"], cfg.get("Group"), cfg["SupplementaryGroups"])
        argv = cfg["ExecStart"].split() + list(extra_args)
        listen = unit == "hailo-device-manager.service"
        if listen and self.sock is None:
            self.make_socket()
        log = os.path.join(self.workdir, (log_name or unit) + ".log")
        self.logs.append(log)
        with open(log, "ab") as lf:
            p = subprocess.Popen(self.command(argv, uid, gid, gids, listen),
                                 env=self.env(cfg["Environment"]),
                                 stdin=self.sock.fileno() if listen else subprocess.DEVNULL,
                                 stdout=lf, stderr=subprocess.STDOUT, start_new_session=True)
        p.unit = unit
        self.procs.append(p)
        return p

    def run_as(self, user, argv, stdin=b"", timeout=120, env=None):
        """Runs argv as user (its own groups) inside the root; CompletedProcess."""
        uid, gid, gids = self.ids(user)
        return subprocess.run(self.command(argv, uid, gid, gids), input=stdin,
                              capture_output=True, timeout=timeout, env=self.env(env or {}))

    def log_text(self):
        out = []
        for log in self.logs:
            with open(log, errors="replace") as f:
                out.append(f"--- {os.path.basename(log)}\n" + f.read()[-3000:])
        return "\n".join(out)

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []
        if self.sock:
            self.sock.close()
            self.sock = None

    def check_unmounted(self):
        """The binds lived in the programs' private namespaces only: refuse
        to delete the root if one were visible here (it would delete the host's
        files)."""
        for d in self.BINDS:
            p = os.path.join(self.root, d)
            if os.path.isdir(p) and (os.path.ismount(p) or os.listdir(p)):
                raise RuntimeError(f"{p} is still mounted or not empty: not removing {self.root}")


def wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    delay = 0.05
    last = None
    while time.monotonic() < deadline:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - not up yet
            last = e
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
    pytest.fail(f"timed out waiting for {what} (last: {last})")


@pytest.fixture(scope="module")
def original_root():
    """A fresh staged original install (not yet upgraded)."""
    need_root_and_namespaces()
    path = tempfile.mkdtemp(prefix="hdm-migrate-")
    try:
        yield stage_original(os.path.join(path, "root"))
    finally:
        shutil.rmtree(path, ignore_errors=True)
