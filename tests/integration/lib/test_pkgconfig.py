"""libhailodm as a user gets it: installed into a temporary prefix, found by
pkg-config, linked as a shared library exporting only the hdm_* API, and
working against a real manager (binary and v1 JSON tensors, streaming,
error mapping)."""

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hdmtest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def installed():
    prefix = tempfile.mkdtemp(prefix="hdm-prefix-", dir="/tmp")
    try:
        subprocess.run(["cmake", "--install", hdmtest.BUILD_DIR, "--component", "libhailodm",
                        "--prefix", prefix],
                       check=True, capture_output=True, timeout=120)
        yield prefix
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


def pc_dir(prefix):
    for root, dirs, files in os.walk(prefix):
        if "hailodm.pc" in files:
            return root
    raise AssertionError("hailodm.pc not installed under %s" % prefix)


def test_exports_only_the_public_api(installed):
    libdir = os.path.dirname(pc_dir(installed))
    so = os.path.join(libdir, "libhailodm.so")
    assert os.path.islink(so)
    out = subprocess.run(["readelf", "-d", so], capture_output=True, text=True, check=True).stdout
    assert "SONAME" in out and "libhailodm.so.0" in out
    syms = subprocess.run(["nm", "-D", "--defined-only", so], capture_output=True, text=True,
                          check=True).stdout.split("\n")
    exported = [l.split()[-1] for l in syms if " T " in l]
    assert exported and all(s.startswith("hdm_") for s in exported), exported
    for s in ("hdm_client_new", "hdm_call", "hdm_call_stream", "hdm_response_tensor",
              "hdm_strerror", "hdm_dtype_name"):
        assert s in exported
    # Internal helpers of hdm_common must stay hidden.
    assert not any(s.startswith(("frame_", "buf_", "base64_", "tensor_")) for s in exported)


def test_pkg_config_build_and_run(installed, tmp_path):
    env = dict(os.environ, PKG_CONFIG_PATH=pc_dir(installed))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "hailodm"], env=env,
                           capture_output=True, text=True, check=True).stdout.split()
    exe = str(tmp_path / "client-smoke")
    # A sanitizer build's library needs the program built with the same runtime.
    with open(os.path.join(hdmtest.BUILD_DIR, "CMakeCache.txt")) as f:
        if "HDM_SANITIZE:BOOL=ON" in f.read():
            flags.append("-fsanitize=address,undefined")
    subprocess.run(["cc", "-std=c11", "-Wall", "-Werror", os.path.join(HERE, "client-smoke.c"),
                    "-o", exe] + flags, check=True, capture_output=True, text=True)
    libdir = os.path.dirname(pc_dir(installed))
    with hdmtest.Manager() as m:
        clip, params = m.make_clip("smoke")
        vlm = m.make_model("smoke-vlm.hef")
        p = subprocess.run([exe, m.socket, clip, params["image_hef_path"], params["text_hef_path"],
                            vlm], env=dict(env, LD_LIBRARY_PATH=libdir), capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr + m.log()
        assert p.stdout.strip() == "smoke ok"
        # The installed (not the build-tree) library was the one loaded.
        ldd = subprocess.run(["ldd", exe], env=dict(env, LD_LIBRARY_PATH=libdir),
                             capture_output=True, text=True).stdout
        assert libdir in ldd
