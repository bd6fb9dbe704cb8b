#!/usr/bin/env bash
# check-arm64.sh - cross-builds everything for arm64 (the Raspberry Pi 5) and
# runs the tests as arm64 binaries under qemu-user.
#
#   scripts/check-arm64.sh [BUILD_DIR]     (default build-arm64; make check-arm64)
#   scripts/check-arm64.sh --deps-only     (step 1 only; make deb uses it)
#
# 1. Packages: as root, adds the arm64 architecture and installs the cross
#    compiler, qemu-user and the :arm64 -dev packages of our dependencies;
#    otherwise prints the exact commands and fails.
# 2. Build: packaging/build-deb.sh --no-package arm64 BUILD_DIR, i.e. the
#    flags and prefix of the arm64 .deb (so `make deb` afterwards reuses it).
#    $CMAKE_ARGS is passed on (e.g. -DCMAKE_C_FLAGS=-mcpu=cortex-a76).
# 3. Tests, through ctest with the toolchain's emulator (qemu-aarch64 -L /):
#    every unit test (all libraries: common, libhailodm, backends, manager,
#    http, image, cliptext, clip, vision), and the manager end to end: the
#    black-box tests of the manager, the scheduler, the manager's frame
#    parser against bad input and the device faults, with the manager run
#    as `qemu-aarch64 -L / hailo-device-manager` through HDM_MANAGER_WRAPPER
#    (the hook `make valgrind` uses).  docs/RASPBERRY-PI.md lists them.
set -euo pipefail
cd "$(dirname "$0")/.."
deps_only=0
if [ "${1:-}" = --deps-only ]; then
    deps_only=1
    shift
fi
BUILD=${1:-build-arm64}
JOBS=${JOBS:-$(nproc)}
EMU=(qemu-aarch64 -L /)

pkgs=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user
      libc6-dev:arm64 libcjson-dev:arm64 libmicrohttpd-dev:arm64 libyaml-dev:arm64
      libjpeg62-turbo-dev:arm64 libpng-dev:arm64 libwebp-dev:arm64 libsystemd-dev:arm64
      libcmocka-dev:arm64 libcurl4-openssl-dev:arm64 libutf8proc-dev:arm64 zlib1g-dev:arm64
      libopencv-imgproc-dev:arm64 libpolyclipping-dev:arm64
      libavformat-dev:arm64 libavcodec-dev:arm64 libswresample-dev:arm64 libavutil-dev:arm64
      cmake make pkg-config dpkg-dev python3 python3-pytest python3-requests
      espeak-ng sox ffmpeg python3-numpy)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        echo "check-arm64: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    else
        echo "Missing Debian packages for the arm64 build. Run as root:" >&2
        echo "  sudo dpkg --add-architecture arm64" >&2
        echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
fi

[ "$deps_only" = 0 ] || exit 0

# qemu must run an arm64 program before anything else is worth trying.
command -v qemu-aarch64 >/dev/null || { echo "check-arm64: qemu-aarch64 not found" >&2; exit 1; }

start=$(date +%s)
JOBS=$JOBS packaging/build-deb.sh --no-package arm64 "$BUILD"
built=$(date +%s)
readelf -h "$BUILD/bin/hailo-device-manager" | grep -q "Machine:.*AArch64" ||
    { echo "check-arm64: $BUILD/bin/hailo-device-manager is not an arm64 program" >&2; exit 1; }
"${EMU[@]}" "$BUILD/bin/hailo-device-manager" --version

# The manager end to end: its black-box tests, run through the wrapper hook.
# (The tests of the services, devctl and the client helpers start those
# programs directly, so they need binfmt_misc, which a CI container lacks.)
integration='^integration\.(manager\.|sched\.|badinput\.test_manager_frames$|faults\.test_device_faults$)'
cd "$BUILD"
rc=0
ctest -L unit -j "$JOBS" --output-on-failure --timeout 600 || rc=1
HDM_MANAGER_WRAPPER="${EMU[*]}" ctest -R "$integration" -j "$JOBS" --output-on-failure \
    --timeout 600 || rc=1
done_at=$(date +%s)
echo "check-arm64: build $((built - start)) s, tests under qemu $((done_at - built)) s"
exit $rc
