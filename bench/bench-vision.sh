#!/usr/bin/env bash
# bench/bench-vision.sh BUILD_DIR - the "hailo-vision" section of
# docs/BENCHMARKS.md: time to first token (TTFT) and tokens/s of streamed
# generations through hailo-vision (HTTP + SSE) next to the same generation
# asked of the manager directly with libhailodm, text-only and with one
# image; and the service's memory (RSS) under load from 16 streaming clients.
# The sim VLM runs with a fixed small latency (prefill 0 ms, 5 ms per token)
# so the figures measure the service, not the model.
# BENCH_N (default 200) sets the number of generations per measurement,
# BENCH_SECONDS (default 5) the length of the load run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1
bin=$build/bin
n=${BENCH_N:-200}
secs=${BENCH_SECONDS:-5}
token_ms=5
for p in hailo-device-manager hailo-vision bench-vision; do
  [ -x "$bin/$p" ] || { echo "bench-vision.sh: $bin/$p is missing (build first)" >&2; exit 1; }
done
me=bench-vision.sh
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

"$py" "$here/../tools/make-sim-assets" "$tmp" --socket "$tmp/run/device.sock" > /dev/null
hef=$tmp/models/vlm/qwen2-vl-2b-instruct.hef
echo "{\"footprint_mb\": 2400, \"load_ms\": 0, \"infer_ms\": 0, \"token_ms\": $token_ms}" \
  > "$hef.sim.json"
export HAILO_DEVICE_SOCKET=$tmp/run/device.sock HAILO_DEVICE_MODEL_DIRS=$tmp/models
"$bin/hailo-device-manager" --backend sim --http-bind off --log-level error &
pids+=($!)

port=$(free_port)
"$bin/hailo-vision" --config "$tmp/hailo-vision.yaml" --host 127.0.0.1 --port "$port" \
  --log-level error &
vpid=$!
pids+=("$vpid")
wait_http "http://127.0.0.1:$port/health" 30
for _ in $(seq 1 600); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/health/ready" && break
  sleep 0.05
done

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<< "$2"; }
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

d_text=$("$bin/bench-vision" direct "$HAILO_DEVICE_SOCKET" "$hef" "$n")
h_text=$("$bin/bench-vision" http "$port" "$n")
d_img=$("$bin/bench-vision" direct "$HAILO_DEVICE_SOCKET" "$hef" "$n" image)
h_img=$("$bin/bench-vision" http "$port" "$n" image)
rss_idle=$(kb "$vpid" VmRSS)

# RSS under load: 16 streaming clients with an image each; sample the peak.
peak=0
"$bin/bench-vision" load "$port" 16 "$secs" > "$tmp/load.out" &
lpid=$!
while kill -0 "$lpid" 2>/dev/null; do
  r=$(kb "$vpid" VmRSS)
  [ "${r:-0}" -gt "$peak" ] && peak=$r
  sleep 0.1
done
wait "$lpid" || true
load=$(cat "$tmp/load.out")
hwm=$(kb "$vpid" VmHWM)

row() { # label direct http
  local dt ht
  dt=$(field ttft_p50_ms "$2"); ht=$(field ttft_p50_ms "$3")
  printf '| %s | %s / %s ms | %s / %s ms | %+.3f ms | %s | %s |\n' "$1" \
    "$dt" "$(field ttft_p90_ms "$2")" "$ht" "$(field ttft_p90_ms "$3")" \
    "$(awk -v a="$ht" -v b="$dt" 'BEGIN { print a - b }')" \
    "$(field tok_s "$2")" "$(field tok_s "$3")"
}

cat <<EOF
## hailo-vision

\`bench/bench-vision.sh BUILD\` (part of \`make bench\`): streamed generations of at most 32
tokens on the sim VLM with a fixed latency (prefill 0 ms, $token_ms ms per token), $n per row,
one after another; "direct" asks the manager with libhailodm's \`hdm_call_stream\`, "service"
sends the same conversation to \`POST /v1/chat/completions\` with \`stream: true\` over a fresh
TCP connection (opened before the clock starts) and reads the Server-Sent Events. TTFT is
from sending the request to the first text delta; tokens/s is over the deltas after the first.
With an image: direct sends a ready 336x336 frame, the service gets a 64x64 PNG data URI
and decodes, resizes and crops it.

| request | direct TTFT p50 / p90 | service TTFT p50 / p90 | service adds (p50) | direct tokens/s | service tokens/s |
|---|---|---|---|---|---|
$(row "text only" "$d_text" "$h_text")
$(row "one image" "$d_img" "$h_img")

Memory of hailo-vision (target < 20 MB): ${rss_idle} kB RSS idle after the runs above;
peak ${peak} kB sampled, ${hwm} kB high-water mark, under 16 streaming clients for ${secs} s
(each request with an image; $(sed -n 's/requests=\([0-9]*\) failed=\([0-9]*\)/\1 requests, \2 failed/p' <<< "$load")).
EOF
