"""What libhailodm pulls in: the client library links src/common's hdm_core
only, never the daemons' infrastructure (hdm_common: journal logging,
libyaml, libsystemd, path confinement).  Checked on the built files with
readelf and nm, so a core file that starts logging, or a library that
starts linking the daemon part, fails here."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

LIB = os.path.join(hdmtest.BUILD_DIR, "lib")
# Symbols of the daemon-only part of src/common and of its libraries.
DAEMON_PREFIXES = ("log_", "fatal", "yaml_", "yamlconf_", "sd_", "path_")
# What the shared library may need: libc, cJSON and, in sanitizer builds,
# the sanitizer runtimes.
ALLOWED_NEEDED = ("libc.so", "libcjson.so", "libm.so", "libpthread.so", "libasan.so",
                  "libubsan.so", "libgcc_s.so")


def undefined(path):
    out = subprocess.run(["nm", "--undefined-only", path], capture_output=True, text=True,
                         check=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}


def test_shared_library_needs_no_daemon_library():
    so = os.path.join(LIB, "libhailodm.so")
    out = subprocess.run(["readelf", "-d", so], capture_output=True, text=True, check=True).stdout
    needed = [l.split("[")[1].rstrip("]") for l in out.splitlines() if "(NEEDED)" in l]
    assert needed, out
    assert not any("yaml" in n or "systemd" in n for n in needed), needed
    assert all(n.startswith(ALLOWED_NEEDED) for n in needed), needed
    dyn = subprocess.run(["nm", "-D", "--undefined-only", so], capture_output=True, text=True,
                         check=True).stdout
    names = [l.split()[-1].split("@")[0] for l in dyn.splitlines() if l.strip()]
    assert not [n for n in names if n.startswith(DAEMON_PREFIXES)], names


def test_core_and_static_library_never_reach_the_daemon_part():
    for archive in ("libhdm_core.a", "libhailodm.a"):
        refs = undefined(os.path.join(LIB, archive))
        assert refs, archive
        bad = sorted(n for n in refs if n.startswith(DAEMON_PREFIXES))
        assert not bad, "%s refers to daemon-only code: %s" % (archive, bad)
