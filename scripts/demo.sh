#!/usr/bin/env bash
# make demo: run the whole stack on the simulator (see scripts/demo.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$here/demo.py" "${1:-build}" ${HDM_DEMO_FAST:+--fast}
