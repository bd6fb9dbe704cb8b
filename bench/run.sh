#!/usr/bin/env bash
# bench/run.sh BUILD_DIR [SECTION...] - runs the benchmark sections and prints
# the results as Markdown (also saved to BUILD_DIR/bench-results.md).
#
# Each section is a script bench/bench-<name>.sh (run with the build
# directory as argument) or bench/bench-<name>.py (run with --build BUILD)
# printing Markdown on stdout; add a section by adding a script.  With
# SECTION names (e.g. "manager" or "sched") only those run.  A failing
# section is reported and the others still run; the exit status is then 1.
# Copy the figures into docs/BENCHMARKS.md with the machine line printed first.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd) || exit 1
shift || true
out="$build/bench-results.md"
failed=0

sections=()
if [ $# -gt 0 ]; then
  for name in "$@"; do
    # A section is bench-NAME.sh, else bench-NAME.py (a .sh may wrap its .py).
    for ext in sh py; do
      if [ -e "$here/bench-$name.$ext" ]; then sections+=("$here/bench-$name.$ext"); break; fi
    done
  done
else
  for f in "$here"/bench-*.sh "$here"/bench-*.py; do
    [ "${f%.py}" != "$f" ] && [ -e "${f%.py}.sh" ] && continue # run through its .sh
    sections+=("$f")
  done
fi

{
  model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
  type=$(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt" 2>/dev/null | cut -d= -f2)
  # An empty cache entry is CMakeLists.txt's default.
  [ -n "$type" ] || ! [ -e "$build/CMakeCache.txt" ] || type=RelWithDebInfo
  echo "Machine: ${model:-unknown CPU}, $(nproc) cores, $(uname -sr); build: $build (${type:-?}); $(date -u '+%Y-%m-%d %H:%M UTC'); load average at the start: $(cut -d" " -f1-3 /proc/loadavg)"
  echo
  [ ${#sections[@]} -gt 0 ] || echo "(no benchmark section named: $*)"
  for section in "${sections[@]}"; do
    [ -e "$section" ] || continue
    case $section in
      *.py) /usr/bin/python3 "$section" --build "$build" ;;
      *) bash "$section" "$build" ;;
    esac || echo "(section $(basename "$section") failed with status $?)"
    echo
  done
} | tee "$out"
grep -q '^(section .* failed' "$out" && failed=1
echo "(saved to $out)" >&2
exit $failed
