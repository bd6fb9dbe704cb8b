#!/usr/bin/env bash
# build-deb.sh - configures, builds and packages hailo-ai-services as a .deb.
#
#   packaging/build-deb.sh [--no-package] ARCH BUILD_DIR [OUT_DIR]
#
# ARCH is amd64 or arm64.  When ARCH is not this machine's architecture the
# build uses cmake/toolchain-aarch64.cmake (arm64 only).  Flags: Debian's
# hardening build flags for ARCH (dpkg-buildflags, hardening=+all), the
# prefix /usr, plus $CMAKE_ARGS (e.g. -DCMAKE_C_FLAGS=-mcpu=cortex-a76 for a
# Pi-5-only build).  The package goes to OUT_DIR (default BUILD_DIR).
# --no-package configures and builds only (scripts/check-arm64.sh uses it, so
# the tested binaries are the packaged ones).
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The service programs: one per systemd/hailo-<service>.service but the manager's.
services_of() {
    local unit name
    for unit in "$1"/systemd/hailo-*.service; do
        name=$(basename "$unit" .service)
        [ "$name" = hailo-device-manager ] || printf '%s ' "$name"
    done
}
package=1
if [ "${1:-}" = --no-package ]; then
    package=0
    shift
fi
[ $# -ge 2 ] || { echo "usage: $0 [--no-package] amd64|arm64 BUILD_DIR [OUT_DIR]" >&2; exit 2; }
arch=$1
build=$2
out=${3:-$build}
case "$build" in /*) ;; *) build=$PWD/$build ;; esac
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
host=$(dpkg --print-architecture)

cross=()
case "$arch" in
    "$host") ;;
    arm64) cross=(-DCMAKE_TOOLCHAIN_FILE="$SRC/cmake/toolchain-aarch64.cmake" -DHAILO_BACKEND=off) ;;
    *) echo "build-deb.sh: cannot build for '$arch' on $host (amd64 natively, arm64 natively or cross)" >&2
       exit 2 ;;
esac

export DEB_BUILD_MAINT_OPTIONS=hardening=+all
export DEB_HOST_ARCH=$arch
flags() { dpkg-buildflags --get "$1"; }
cflags="$(flags CPPFLAGS) $(flags CFLAGS)"
cxxflags="$(flags CPPFLAGS) $(flags CXXFLAGS)"
ldflags=$(flags LDFLAGS)

# The multiarch library directory is set explicitly: GNUInstallDirs picks it
# only when the first configure of BUILD_DIR already had the prefix /usr.
multiarch=$(dpkg-architecture -a "$arch" -qDEB_HOST_MULTIARCH 2>/dev/null)
# shellcheck disable=SC2086  # CMAKE_ARGS is a list of words, as in the Makefile
cmake -S "$SRC" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
    -DCMAKE_INSTALL_LIBDIR="lib/$multiarch" \
    -DCMAKE_C_FLAGS="$cflags" -DCMAKE_CXX_FLAGS="$cxxflags" \
    -DCMAKE_EXE_LINKER_FLAGS="$ldflags" -DCMAKE_SHARED_LINKER_FLAGS="$ldflags" \
    -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON "${cross[@]}" ${CMAKE_ARGS:-}
if [ "$package" = 0 ]; then
    cmake --build "$build" -j "${JOBS:-$(nproc)}"
    exit 0
fi
# The package needs the programs and the library, not the tests and benchmarks
# (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY keeps cpack from building those too).
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target hailo-device-manager hailo-devctl \
    hailodm $(services_of "$SRC")  # shellcheck disable=SC2046 (a list of words)

mkdir -p "$out"
# dpkg-shlibdeps reads DEB_HOST_ARCH to look up the arm64 libraries' packages.
(cd "$build" && cpack -G DEB -B "$out/_cpack")
deb=$(ls "$out"/_cpack/*_"$arch".deb)
mv -f "$deb" "$out/"
rm -rf "$out/_cpack"
echo "built $out/$(basename "$deb")"
