#!/usr/bin/env bash
# bench/run.sh BUILD_DIR - runs every benchmark section and prints the
# results as Markdown (also saved to BUILD_DIR/bench-results.md).
#
# Each section is a script bench/bench-<name>.sh taking the build directory
# and printing a Markdown section on stdout; add a section by adding a
# script.  Copy the figures into docs/BENCHMARKS.md with the machine line
# printed first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
out="$build/bench-results.md"

{
  model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
  echo "Machine: ${model:-unknown CPU}, $(nproc) cores, $(uname -sr); build: $build ($(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt" | cut -d= -f2)); $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  for section in "$here"/bench-*.sh; do
    [ -x "$section" ] || continue
    "$section" "$build"
    echo
  done
} | tee "$out"
echo "(saved to $out)" >&2
