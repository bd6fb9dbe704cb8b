"""Shared helpers of the deployment tests: paths, a staged root for
install.sh --root, a manifest of a tree, and the whole stack on the simulator
(started the way scripts/demo.py does it) for verify.sh."""

import hashlib
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time

import pytest

SOURCE = os.path.abspath(os.environ.get("HDM_SOURCE_DIR",
                                        os.path.join(os.path.dirname(__file__), "../../..")))
BUILD = os.path.abspath(os.environ.get("HDM_BUILD_DIR", os.path.join(SOURCE, "build")))
BIN = os.path.join(BUILD, "bin")
SCRIPTS = os.path.join(SOURCE, "scripts")


def read_components():
    """{name: {bins, units, config, user, state, port}} of every part of the
    stack, as scripts/lib/components/NN-name.sh declare them, in their order."""
    out = {}
    folder = os.path.join(SCRIPTS, "lib", "components")
    for f in sorted(os.listdir(folder)):
        if not f.endswith(".sh"):
            continue
        with open(os.path.join(folder, f)) as fh:
            text = fh.read().replace("\\\n", " ")
        m = re.search(r"^component (\S+)((?: +\S+=(?:\"[^\"]*\"|\S+))*)", text, re.M)
        fields = dict((k, v.strip('"')) for k, v in re.findall(r'(\S+?)=("[^"]*"|\S+)', m.group(2)))
        out[m.group(1)] = fields
    return out


COMPONENTS = read_components()
# The HTTP services: every component but the manager.
SERVICES = [c for c in COMPONENTS if c != "manager"]
PROGRAMS = tuple(b for c in COMPONENTS.values() for b in c["bins"].split())


def missing_programs():
    return [p for p in PROGRAMS if not os.access(os.path.join(BIN, p), os.X_OK)]


def need_programs():
    missing = missing_programs()
    if missing:
        pytest.fail(f"not built in {BIN}: {', '.join(missing)}")


def need_root():
    if os.geteuid() != 0:
        pytest.skip("needs root: useradd --root and chown in the staged tree (CI runs as root)")


def run(args, check=True, timeout=300, env=None):
    """Runs a command, returns CompletedProcess with text output; fails the
    test with the output when check and the exit code is not 0."""
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    if check and p.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {p.returncode}\n--- stdout\n{p.stdout}"
                    f"\n--- stderr\n{p.stderr}")
    return p


def make_root(path):
    """A minimal root tree for install.sh --root: the account files with root
    only, and the nologin shell useradd checks for."""
    os.makedirs(os.path.join(path, "etc"))
    os.makedirs(os.path.join(path, "usr", "sbin"))
    files = {"passwd": ("root:x:0:0:root:/root:/bin/bash\n", 0o644),
             "group": ("root:x:0:\n", 0o644),
             "shadow": ("root:*:19000:0:99999:7:::\n", 0o640),
             "gshadow": ("root:*::\n", 0o640)}
    for name, (text, mode) in files.items():
        p = os.path.join(path, "etc", name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
    nologin = os.path.join(path, "usr", "sbin", "nologin")
    with open(nologin, "w") as f:
        f.write("#!/bin/sh\nexit 1\n")
    os.chmod(nologin, 0o755)
    return path


def manifest(root):
    """{relative path: (type, mode, uid, gid, content hash or link target,
    mtime)} of everything below root: equal manifests mean nothing was
    created, removed, rewritten or re-owned."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                what = ("link", os.readlink(p))
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    what = ("file", hashlib.sha256(f.read()).hexdigest())
            else:
                what = ("dir", "")
            out[os.path.relpath(p, root)] = (what[0], oct(stat.S_IMODE(st.st_mode)), st.st_uid,
                                             st.st_gid, what[1], st.st_mtime_ns)
    return out


def accounts(root, db):
    """{name: fields} of ROOT/etc/passwd or ROOT/etc/group."""
    with open(os.path.join(root, "etc", db)) as f:
        return {line.split(":")[0]: line.rstrip("\n").split(":") for line in f if line.strip()}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SimStack:
    """hailo-device-manager (sim backend) and every service on a temporary
    socket and free loopback ports, from tools/make-sim-assets --fast."""

    def __init__(self, workdir):
        self.dir = workdir
        self.socket = os.path.join(workdir, "run", "device.sock")
        self.ports = {svc: free_port() for svc in SERVICES}
        self.procs = []
        ports = [a for svc, port in self.ports.items() for a in (f"--{svc}-port", str(port))]
        subprocess.run([os.path.join(SOURCE, "tools", "make-sim-assets"), workdir, "--fast",
                        "--socket", self.socket] + ports,
                       check=True, stdout=subprocess.DEVNULL)
        self.env = dict(os.environ, HAILO_DEVICE_SOCKET=self.socket)
        with open(os.path.join(workdir, "manager.env")) as f:
            for line in f:
                if "=" in line and not line.startswith("#"):
                    k, v = line.strip().split("=", 1)
                    self.env[k] = v

    def url(self, svc):
        return f"http://127.0.0.1:{self.ports[svc]}"

    def url_args(self):
        """--<service>-url U for verify.sh, for every service."""
        return [a for svc in SERVICES for a in (f"--{svc}-url", self.url(svc))]

    def start(self, name, args):
        log = open(os.path.join(self.dir, name + ".log"), "w")
        p = subprocess.Popen([os.path.join(BIN, name)] + args, env=self.env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.procs.append(p)
        return p

    def start_manager(self):
        return self.start("hailo-device-manager", [
            "--backend", "sim", "--socket", self.socket, "--http-bind", "off",
            "--sim-config", os.path.join(self.dir, "sim-config.json")])

    def start_services(self):
        for svc in SERVICES:
            self.start(f"hailo-{svc}", ["--config", os.path.join(self.dir, f"hailo-{svc}.yaml")])

    def logs(self):
        out = []
        for name in ["hailo-device-manager"] + [f"hailo-{svc}" for svc in SERVICES]:
            p = os.path.join(self.dir, name + ".log")
            if os.path.exists(p):
                with open(p) as f:
                    out.append(f"--- {name}\n" + "".join(f.readlines()[-20:]))
        return "\n".join(out)

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []


@pytest.fixture
def sim_stack():
    need_programs()
    workdir = tempfile.mkdtemp(prefix="hdm-deploy-")
    stack = SimStack(workdir)
    try:
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def staged_root():
    need_root()
    need_programs()
    path = tempfile.mkdtemp(prefix="hdm-root-")
    try:
        yield make_root(os.path.join(path, "root"))
    finally:
        shutil.rmtree(path, ignore_errors=True)


def install_into(root, *args, check=True):
    """scripts/install.sh --root ROOT with this build's programs."""
    return run([os.path.join(SCRIPTS, "install.sh"), "--root", root, "--build-dir", BUILD,
                *args], check=check)


@pytest.fixture(scope="module")
def installed_template():
    """One full staged install per test file; tests work on copies of it."""
    need_root()
    need_programs()
    path = tempfile.mkdtemp(prefix="hdm-template-")
    try:
        root = make_root(os.path.join(path, "root"))
        install_into(root)
        yield root
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def installed_root(installed_template):
    """A copy (cp -a: modes, owners, times and links kept) of the installed tree."""
    path = tempfile.mkdtemp(prefix="hdm-root-")
    try:
        root = os.path.join(path, "root")
        subprocess.run(["cp", "-a", installed_template, root], check=True)
        yield root
    finally:
        shutil.rmtree(path, ignore_errors=True)


def wait(predicate, timeout, what):
    """Polls predicate with backoff until it is true, else fails with what."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
    pytest.fail(f"timed out waiting for {what}")
