"""
The .deb (packaging/, `make deb`): cpack builds the package of this build
(this machine's architecture) and the test unpacks it into a throwaway root
with `dpkg --root DIR --unpack` (dpkg's own database in DIR; no maintainer
script runs, nothing outside DIR changes), then checks what it holds:
programs, library, units with /usr/bin paths, conffiles, maintainer scripts
(`sh -n` clean), copyright and changelog.  HDM_DEB=path checks a package
built elsewhere instead (e.g. build-deb/hailo-ai-services_*_amd64.deb).
"""

import glob
import gzip
import os
import re
import shutil
import stat
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

# The services: one per systemd/hailo-<name>.service, the manager's aside.
SERVICES = sorted(f[len("hailo-"):-len(".service")]
                  for f in os.listdir(os.path.join(hdmtest.SOURCE_DIR, "systemd"))
                  if f.startswith("hailo-") and f.endswith(".service")
                  and f != "hailo-device-manager.service")
PROGRAMS = ["hailo-device-manager", "hailo-devctl"] + ["hailo-" + s for s in SERVICES]
UNITS = ["hailo-device-manager.socket", "hailo-device-manager.service"] + \
    ["hailo-%s.service" % s for s in SERVICES]
CONFIGS = sorted(["hailo-device-manager.yaml"] + ["hailo-%s.yaml" % s for s in SERVICES])
ACCOUNTS = ["hailo", "hailo-models", "hailo-dm"]

pytestmark = pytest.mark.skipif(
    not (shutil.which("cpack") and shutil.which("dpkg-deb") and shutil.which("dpkg")),
    reason="cpack, dpkg-deb or dpkg missing: the .deb cannot be built or opened here")


def host_arch():
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    given = os.environ.get("HDM_DEB")
    if given:
        return given
    out = tmp_path_factory.mktemp("cpack")
    config = os.path.join(hdmtest.BUILD_DIR, "CPackConfig.cmake")
    assert os.path.exists(config), "no CPackConfig.cmake in the build: cmake/install.cmake not included?"
    p = subprocess.run(["cpack", "--config", config, "-G", "DEB", "-B", str(out)],
                       cwd=hdmtest.BUILD_DIR, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    debs = glob.glob(os.path.join(str(out), "*.deb"))
    assert len(debs) == 1, (debs, p.stdout)
    return debs[0]


@pytest.fixture(scope="module")
def root(deb, tmp_path_factory):
    """The package unpacked by dpkg into an empty root with its own database."""
    r = tmp_path_factory.mktemp("root")
    admin = r / "var" / "lib" / "dpkg"
    for d in ("info", "updates", "triggers"):
        (admin / d).mkdir(parents=True)
    (admin / "status").write_text("")
    (admin / "available").write_text("")
    # --force-architecture: HDM_DEB may be the arm64 package, checked on amd64.
    p = subprocess.run(["dpkg", "--root", str(r), "--force-depends", "--force-not-root",
                        "--force-architecture", "--unpack", deb],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    return r


@pytest.fixture(scope="module")
def control(deb, tmp_path_factory):
    d = tmp_path_factory.mktemp("control")
    subprocess.run(["dpkg-deb", "--control", deb, str(d)], check=True)
    return d


def field(control_dir, name):
    text = (control_dir / "control").read_text()
    m = re.search(r"^%s: (.*)$" % re.escape(name), text, re.M)
    return m.group(1) if m else None


def test_control_fields(control, deb):
    assert field(control, "Package") == "hailo-ai-services"
    if not os.environ.get("HDM_DEB"):
        assert field(control, "Architecture") == host_arch()
        assert os.path.basename(deb) == "hailo-ai-services_%s_%s.deb" % (
            field(control, "Version"), host_arch())
    assert re.fullmatch(r"\d+\.\d+\.\d+", field(control, "Version"))
    depends = field(control, "Depends")
    for dep in ("libc6", "libcjson1", "libmicrohttpd12", "libyaml-0-2", "passwd",
                "init-system-helpers"):
        assert dep in depends, depends
    assert re.fullmatch(r"[^<>]+ <[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+>", field(control, "Maintainer"))


def test_dpkg_database_lists_the_package(root):
    p = subprocess.run(["dpkg-query", "--admindir", str(root / "var/lib/dpkg"), "-W",
                        "-f", "${Package} ${Status}", "hailo-ai-services"],
                       capture_output=True, text=True, check=True)
    # Unpacked, not configured: the postinst was (rightly) not run here.
    assert p.stdout == "hailo-ai-services install ok unpacked", p.stdout


def test_programs_installed_and_run(root, deb):
    for name in PROGRAMS:
        path = root / "usr" / "bin" / name
        assert path.is_file(), name
        assert os.stat(path).st_mode & 0o777 == 0o755, name
        with open(path, "rb") as f:
            assert f.read(4) == b"\x7fELF", name
    cmd = [str(root / "usr/bin/hailo-device-manager"), "--version"]
    arch = subprocess.run(["dpkg-deb", "--field", deb, "Architecture"], capture_output=True,
                          text=True, check=True).stdout.strip()
    if arch != host_arch():
        if arch != "arm64" or not shutil.which("qemu-aarch64"):
            pytest.skip("a %s package cannot run on %s without qemu" % (arch, host_arch()))
        cmd = ["qemu-aarch64", "-L", "/"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.startswith("hailo-device-manager "), p


def test_library_header_and_pkgconfig(root):
    libs = glob.glob(str(root / "usr/lib/**/libhailodm.so.0"), recursive=True)
    assert len(libs) == 1, libs
    assert os.path.islink(libs[0])
    assert (root / "usr/include/hailodm.h").is_file()
    pcs = glob.glob(str(root / "usr/lib/**/pkgconfig/hailodm.pc"), recursive=True)
    assert len(pcs) == 1, pcs


def test_units_use_usr_bin(root):
    unitdir = root / "lib" / "systemd" / "system"
    for u in UNITS:
        text = (unitdir / u).read_text()
        assert "/usr/local/bin" not in text, u
        assert "Documentation=file:/usr/share/doc/hailo-ai-services/" in text, u
        if u.endswith(".service"):
            prog = u[:-len(".service")]
            m = re.search(r"^ExecStart=(\S+)", text, re.M)
            assert m and m.group(1) == "/usr/bin/" + prog, (u, m and m.group(0))
            assert os.path.isfile(str(root) + m.group(1)), m.group(1)
    assert "ListenStream=/run/hailo/device.sock" in (unitdir / UNITS[0]).read_text()


def test_conffiles_are_the_default_configs(root, control):
    listed = (control / "conffiles").read_text().split()
    assert listed == ["/etc/hailo/" + c for c in CONFIGS]
    p = subprocess.run(["dpkg-query", "--admindir", str(root / "var/lib/dpkg"), "-W",
                        "-f", "${Conffiles}", "hailo-ai-services"],
                       capture_output=True, text=True, check=True)
    assert sorted(line.split()[0] for line in p.stdout.strip().splitlines()) == listed
    for c in CONFIGS:
        # Unpacked, a conffile waits as .dpkg-new: configure then installs it,
        # or keeps the admin's edited copy (dpkg's conffile handling).
        installed = root / "etc" / "hailo" / (c + ".dpkg-new")
        assert stat.S_IMODE(os.stat(installed).st_mode) == 0o640, c
        with open(os.path.join(hdmtest.SOURCE_DIR, "config", c), "rb") as f:
            assert installed.read_bytes() == f.read(), c


def test_maintainer_scripts(control):
    for name in ("postinst", "prerm", "postrm"):
        path = control / name
        assert path.is_file(), name
        assert os.stat(path).st_mode & 0o777 == 0o755, name
        text = path.read_text()
        assert text.startswith("#!/bin/sh\n") and "set -e" in text, name
        p = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True)
        assert p.returncode == 0, (name, p.stderr)
    postinst = (control / "postinst").read_text()
    for account in ACCOUNTS:
        assert re.search(r"\b%s\b" % re.escape(account), postinst), account
    # Every service gets its account, model directory and config permissions.
    assert 'SERVICE_NAMES="%s"' % " ".join(SERVICES) in postinst
    assert 'ensure_user "hailo-$svc"' in postinst
    assert "deb-systemd-helper enable hailo-device-manager.socket" in postinst
    postrm = (control / "postrm").read_text()
    assert "purge)" in postrm and "/var/lib/hailo" in postrm
    assert (control / "triggers").read_text().split() == ["activate-noawait", "ldconfig"]
    assert "libhailodm 0" in (control / "shlibs").read_text()


def test_postinst_rejects_unknown_action(control, tmp_path):
    # Reaches the argument check before touching the system.
    p = subprocess.run(["sh", str(control / "postinst"), "bogus-action"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "unknown argument 'bogus-action'" in p.stderr, p


def test_copyright_and_changelog(root, control):
    doc = root / "usr/share/doc/hailo-ai-services"
    copyright_text = (doc / "copyright").read_text()
    assert copyright_text.startswith("Format: https://www.debian.org/doc/packaging-manuals/")
    assert "Permission is hereby granted" in copyright_text
    with gzip.open(str(doc / "changelog.gz"), "rt") as f:
        first = f.readline()
    assert first.startswith("hailo-ai-services (%s) " % field(control, "Version")), first
    assert (doc / "README.md").is_file()


def test_md5sums_cover_every_file(root, control):
    sums = {}
    for line in (control / "md5sums").read_text().splitlines():
        digest, path = line.split(None, 1)
        sums["/" + path] = digest
    files = set()
    for dirpath, _, names in os.walk(str(root)):
        for n in names:
            full = os.path.join(dirpath, n)
            rel = full[len(str(root)):]
            if rel.startswith("/var/lib/dpkg/") or os.path.islink(full):
                continue
            files.add(re.sub(r"\.dpkg-new$", "", rel))
    assert files == set(sums), files ^ set(sums)
