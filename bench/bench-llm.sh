#!/usr/bin/env bash
# bench/bench-llm.sh BUILD_DIR - the "hailo-llm" section of docs/BENCHMARKS.md:
# time to first token (TTFT) and tokens/s of streamed generations through
# hailo-llm (Ollama's /api/chat, NDJSON; OpenAI's /v1/chat/completions, SSE)
# next to the same generation asked of the manager directly with libhailodm,
# and the service's memory (RSS) under 16 streaming clients.  The sim LLM
# runs with a fixed small latency (prefill 0 ms, 5 ms per token) so the
# figures measure the service, not the model.
# BENCH_N (default 200) sets the generations per measurement, BENCH_SECONDS
# (default 5) the length of the load run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1
bin=$build/bin
n=${BENCH_N:-200}
secs=${BENCH_SECONDS:-5}
token_ms=5
for p in hailo-device-manager hailo-llm bench-llm; do
  [ -x "$bin/$p" ] || { echo "bench-llm.sh: $bin/$p is missing (build first)" >&2; exit 1; }
done
me=bench-llm.sh
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

"$py" "$here/../tools/make-sim-assets" "$tmp" --socket "$tmp/run/device.sock" > /dev/null
hef=$tmp/models/llm/qwen2.5-1.5b-instruct.hef
echo "{\"footprint_mb\": 1850, \"load_ms\": 0, \"infer_ms\": 0, \"token_ms\": $token_ms}" \
  > "$hef.sim.json"
export HAILO_DEVICE_SOCKET=$tmp/run/device.sock HAILO_DEVICE_MODEL_DIRS=$tmp/models
"$bin/hailo-device-manager" --backend sim --http-bind off --log-level error &
pids+=($!)

port=$(free_port)
"$bin/hailo-llm" --config "$tmp/hailo-llm.yaml" --host 127.0.0.1 --port "$port" \
  --log-level error &
lpid=$!
pids+=("$lpid")
wait_http "http://127.0.0.1:$port/health" 30
for _ in $(seq 1 600); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/health/ready" && break
  sleep 0.05
done

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<< "$2"; }
kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

direct=$("$bin/bench-llm" direct "$HAILO_DEVICE_SOCKET" "$hef" "$n")
ollama=$("$bin/bench-llm" ollama "$port" "$n")
openai=$("$bin/bench-llm" openai "$port" "$n")
rss_idle=$(kb "$lpid" VmRSS)

# RSS under load: 16 streaming clients; sample the peak.
peak=0
"$bin/bench-llm" load "$port" 16 "$secs" > "$tmp/load.out" &
lo=$!
while kill -0 "$lo" 2>/dev/null; do
  r=$(kb "$lpid" VmRSS)
  [ "${r:-0}" -gt "$peak" ] && peak=$r
  sleep 0.1
done
wait "$lo" || true
load=$(cat "$tmp/load.out")
hwm=$(kb "$lpid" VmHWM)

row() { # label direct http
  local dt ht
  dt=$(field ttft_p50_ms "$2"); ht=$(field ttft_p50_ms "$3")
  printf '| %s | %s / %s ms | %s / %s ms | %+.3f ms | %s | %s |\n' "$1" \
    "$dt" "$(field ttft_p90_ms "$2")" "$ht" "$(field ttft_p90_ms "$3")" \
    "$(awk -v a="$ht" -v b="$dt" 'BEGIN { print a - b }')" \
    "$(field tok_s "$2")" "$(field tok_s "$3")"
}

cat <<EOF2
## hailo-llm

\`bench/bench-llm.sh BUILD\` (part of \`make bench\`): streamed generations of at most 32 tokens
on the sim LLM with a fixed latency (prefill 0 ms, $token_ms ms per token), $n per row, one after
another; "direct" asks the manager for the same llm infer with libhailodm's \`hdm_call_stream\`,
"service" sends the same conversation to hailo-llm over a fresh TCP connection (opened before
the clock starts): Ollama's \`POST /api/chat\` (NDJSON, streamed by default) and OpenAI's
\`POST /v1/chat/completions\` with \`stream: true\` (SSE). TTFT is from sending the request to
the first text event; tokens/s is over the events after the first. The service's part is
parsing, the model directory scan, the manager request and one JSON line or event per token.

| request | direct TTFT p50 / p90 | service TTFT p50 / p90 | service adds (p50, target <= 1 ms) | direct tokens/s | service tokens/s |
|---|---|---|---|---|---|
$(row "Ollama /api/chat" "$direct" "$ollama")
$(row "OpenAI /v1/chat/completions" "$direct" "$openai")

Memory of hailo-llm (target <= 20 MB): ${rss_idle} kB RSS idle after the runs above;
peak ${peak} kB sampled, ${hwm} kB high-water mark, under 16 streaming clients for ${secs} s
($(sed -n 's/requests=\([0-9]*\) failed=\([0-9]*\)/\1 requests, \2 failed/p' <<< "$load")).
EOF2
