#!/usr/bin/env bash
# make demo: run the whole stack on the simulator (see scripts/demo.py);
# make demo HOLD=1 keeps it up afterwards until Ctrl-C (the dashboard's URL is printed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# HOLD=1 (make demo HOLD=1): keep the stack up until Ctrl-C, to open the dashboard.
hold=
case "${HOLD:-}" in 1|yes|true) hold=--hold ;; esac
exec /usr/bin/python3 "$here/demo.py" "${1:-build}" ${HDM_DEMO_FAST:+--fast} $hold
