#!/usr/bin/env bash
# bench/bench-sched.sh BUILD_DIR - the "Scheduler" section of make bench
# (issue 5): the same workloads under --scheduler fifo and fair on the sim
# backend; see bench/bench-sched.py.  Exits 1 when a target is missed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
echo "## Scheduler"
echo
exec /usr/bin/python3 "$here/bench-sched.py" --build "$build" --json "$build/bench-sched.json"
