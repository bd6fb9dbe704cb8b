#!/usr/bin/env bash
# bench/profile-manager.sh BUILD_DIR [KIND:FORM...] - the manager's own
# work per request, counted in instructions by callgrind (valgrind), which a
# busy machine does not disturb the way it disturbs wall-clock figures: for
# each request (default: ping:json clip-image:binary clip-text:binary
# clip-image:json clip-text:json) the manager's instructions per request,
# and how many of them the sim backend spent computing its output
# (sim_infer, inclusive) at latency_scale 0.  Prints a Markdown table.
# Needs valgrind (callgrind_annotate).  Not part of `make bench` (it takes a
# minute or two); docs/BENCHMARKS.md quotes it.
set -euo pipefail
build=$(cd "${1:?usage: bench/profile-manager.sh BUILD_DIR [KIND:FORM...]}" && pwd)
shift
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(ping:json clip-image:binary clip-text:binary clip-image:json clip-text:json)
bin=$build/bin
for p in hailo-device-manager hailo-devctl bench-manager; do
  [ -x "$bin/$p" ] || { echo "profile-manager.sh: $bin/$p is missing (build first)" >&2; exit 1; }
done
command -v callgrind_annotate > /dev/null || { echo "profile-manager.sh: valgrind is not installed" >&2; exit 1; }
secs=${PROFILE_SECONDS:-4}

tmp=$(mktemp -d /tmp/hdm-profile.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/models"
for f in clip_image.hef clip_text.hef; do head -c 4096 /dev/zero > "$tmp/models/$f"; done
echo '{"latency_scale": 0}' > "$tmp/sim.json"
export HAILO_DEVICE_MODEL_DIRS=$tmp/models
model=$tmp/models/clip_image.hef

echo "| request | frame | requests | manager instructions per request | of which the sim's output | sim share |"
echo "|---|---|---:|---:|---:|---:|"
for spec in "${specs[@]}"; do
  kind=${spec%%:*}; form=${spec##*:}
  out=$tmp/cg.out
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin/hailo-device-manager" \
    --socket "$tmp/dm.sock" --backend sim --sim-config "$tmp/sim.json" --http-bind off \
    --log-level error 2> "$tmp/valgrind.log" &
  pid=$!
  for _ in $(seq 200); do
    "$bin/hailo-devctl" --socket "$tmp/dm.sock" --timeout 2000 ping > /dev/null 2>&1 && break
    sleep 0.1
  done
  "$bin/bench-manager" setup --socket "$tmp/dm.sock" --model-path "$model" \
    --image-hef "$tmp/models/clip_image.hef" --text-hef "$tmp/models/clip_text.hef"
  "$bin/bench-manager" encode --kind "$kind" --form "$form" --model-path "$model" --out "$tmp/req"
  callgrind_control -z "$pid" > /dev/null 2>&1 # count the run only
  line=$("$bin/bench-manager" run --socket "$tmp/dm.sock" --request "$tmp/req" --clients 1 \
    --seconds "$secs")
  callgrind_control -d "$pid" > /dev/null 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  n=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<< "$line")
  dumps=("$out".*) # the dump of the run (the part after it is written at exit)
  dump=${dumps[0]}
  total=$(callgrind_annotate "$dump" 2>/dev/null | awk '!v && /PROGRAM TOTALS/ { gsub(",", "", $1); v = $1 } END { print v }')
  sim=$(callgrind_annotate --inclusive=yes --threshold=100 "$dump" 2>/dev/null |
    awk '!v && /backend-sim.c:sim_infer / { gsub(",", "", $1); v = $1 } END { print v }')
  awk -v k="$kind" -v f="$form" -v n="$n" -v t="$total" -v s="${sim:-0}" 'BEGIN {
    printf "| %s | %s | %d | %.0f k | %.0f k | %.1f%% |\n", k, f, n, t / n / 1000, s / n / 1000,
      (t > 0 ? 100 * s / t : 0) }'
  rm -f "$out"*
done
