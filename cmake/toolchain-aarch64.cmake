# toolchain-aarch64.cmake - cross-build for arm64 (Raspberry Pi 5) on a
# Debian x86-64 host with multiarch: gcc-aarch64-linux-gnu, and the :arm64
# -dev packages of our dependencies (scripts/check-arm64.sh installs them).
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake
#
# The "sysroot" is the host's own /: multiarch puts the arm64 libraries in
# /usr/lib/aarch64-linux-gnu and shares the headers in /usr/include, so no
# separate sysroot tree is needed.  pkg-config is pointed at the arm64 .pc
# files only (PKG_CONFIG_LIBDIR replaces the default search path), so a
# missing arm64 -dev package fails at configure time instead of silently
# linking against the x86-64 one.
#
# Tests: add_test() commands that are executables built here run through
# CMAKE_CROSSCOMPILING_EMULATOR (qemu-user, with the arm64 loader and libc
# from /usr/aarch64-linux-gnu), so `ctest` runs the unit tests as arm64
# binaries.  Override the emulator with -DHDM_ARM64_EMULATOR="...".
#
# Pi 5 tuning: add -DCMAKE_C_FLAGS="-mcpu=cortex-a76" (see docs/RASPBERRY-PI.md).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(HDM_CROSS_TRIPLET aarch64-linux-gnu CACHE STRING "GNU triplet of the arm64 cross compiler")
set(CMAKE_C_COMPILER ${HDM_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${HDM_CROSS_TRIPLET}-g++)

# Multiarch: the arm64 libraries live beside the host's, below /.
set(CMAKE_FIND_ROOT_PATH / /usr/${HDM_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# find_library() must take only the arm64 copies, never /usr/lib/x86_64-linux-gnu.
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu)

# pkg-config: arm64 .pc files only (plus the arch-independent ones).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${HDM_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

set(HDM_ARM64_EMULATOR "qemu-aarch64;-L;/"
    CACHE STRING "Runs arm64 test programs on the build host (a ;-list)")
set(CMAKE_CROSSCOMPILING_EMULATOR ${HDM_ARM64_EMULATOR})
