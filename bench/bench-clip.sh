#!/usr/bin/env bash
# bench/bench-clip.sh BUILD_DIR - the "hailo-clip" section of
# docs/BENCHMARKS.md: end-to-end POST /v1/classify throughput (one 320x240
# PNG, 5 prompts) against hailo-clip on a hailo-device-manager with the sim
# backend at zero latency, 1/4/16 clients, with the text-embedding cache on
# (the usual case: prompts repeat) and off (every request runs 1 image + 5
# text inferences); plus /v1/embed/image and /v1/embed/text; and the
# service's memory under load (anonymous RSS, i.e. beyond the mapped tables).
# BENCH_SECONDS (default 3) sets the length of each measurement.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1
bin=$build/bin
secs=${BENCH_SECONDS:-3}
for p in hailo-device-manager hailo-clip bench-clip; do
  [ -x "$bin/$p" ] || { echo "bench-clip.sh: $bin/$p is missing (build first)" >&2; exit 1; }
done
me=bench-clip.sh
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

"$py" "$here/../tools/make-sim-assets" "$tmp" --fast --socket "$tmp/run/device.sock" > /dev/null
export HAILO_DEVICE_SOCKET=$tmp/run/device.sock HAILO_DEVICE_MODEL_DIRS=$tmp/models
"$bin/hailo-device-manager" --backend sim --sim-config "$tmp/sim-config.json" --http-bind off \
  --log-level error &
pids+=($!)

start_clip() { # config -> sets clip_pid, clip_port
  clip_port=$(free_port)
  "$bin/hailo-clip" --config "$1" --host 127.0.0.1 --port "$clip_port" --log-level error &
  clip_pid=$!
  pids+=("$clip_pid")
  wait_http "http://127.0.0.1:$clip_port/health" 30
}

"$py" - "$tmp" <<'PYEOF'
import base64, json, sys
root = sys.argv[1]
img = base64.b64encode(open(root + "/images/gradient.png", "rb").read()).decode()
prompts = ["a photo of a cat", "a photo of a dog", "a red car", "a blue sky", "a tree"]
json.dump({"image": img, "prompts": prompts}, open(root + "/classify.json", "w"))
json.dump({"image": img}, open(root + "/embed-image.json", "w"))
json.dump({"text": "a photo of a cat"}, open(root + "/embed-text.json", "w"))
PYEOF
sed 's/cache_enabled: true/cache_enabled: false/' "$tmp/hailo-clip.yaml" > "$tmp/nocache.yaml"
# 16 clients need 16 HTTP pool threads to be served at once
sed -i 's/worker_threads: 4/worker_threads: 16/' "$tmp/hailo-clip.yaml" "$tmp/nocache.yaml"

field() { sed -n "s/.*$1=\([0-9.-]*\).*/\1/p"; }
run() { # label clients body path
  local out
  out=$("$bin/bench-clip" --port "$clip_port" --path "$4" --body "$tmp/$3" --clients "$2" \
        --seconds "$secs" --pid "$clip_pid")
  printf '| %s | %s | %s | %s / %s | %s | %s |\n' "$1" "$2" "$(echo "$out" | field req_s)" \
    "$(echo "$out" | field p50_ms)" "$(echo "$out" | field p99_ms)" \
    "$(( $(echo "$out" | field rss_anon_kb) / 1024 ))" "$(echo "$out" | field errors)"
}

echo "## hailo-clip"
echo
echo "End to end over HTTP: \`bench-clip\` (C, one keep-alive connection per client, ${secs} s"
echo "per row) -> hailo-clip (16 HTTP threads) -> hailo-device-manager (sim backend,"
echo "\`latency_scale: 0\`, so the figures are the software overhead alone).  Body: a 320x240 PNG"
echo "(base64) and 5 prompts.  \"anon RSS\" is hailo-clip's largest RssAnon during the row:"
echo "its memory beyond the memory-mapped token table and projection."
echo "Command: \`bench/bench-clip.sh BUILD_DIR\`."
echo
echo "| request | clients | req/s | p50 / p99 ms | anon RSS MB | errors |"
echo "|---|---:|---:|---:|---:|---:|"
start_clip "$tmp/hailo-clip.yaml"
for c in 1 4 16; do run "classify, 5 prompts, text cache on" "$c" classify.json /v1/classify; done
for c in 1 16; do run "embed/image" "$c" embed-image.json /v1/embed/image; done
for c in 1 16; do run "embed/text (cached)" "$c" embed-text.json /v1/embed/text; done
file_kb=$(sed -n 's/^RssFile:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$clip_pid/status")
idle_anon=$(sed -n 's/^RssAnon:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$clip_pid/status")
kill "$clip_pid"; wait "$clip_pid" 2>/dev/null || true
start_clip "$tmp/nocache.yaml"
for c in 1 4 16; do run "classify, 5 prompts, text cache off" "$c" classify.json /v1/classify; done
for c in 1 16; do run "embed/text (uncached)" "$c" embed-text.json /v1/embed/text; done
echo
echo "File-backed RSS (binary, libraries, mapped tables: token table $(( $(stat -c %s "$tmp/models/clip/token_embedding_lut.npy") / 1024 )) KB,"
echo "projection $(( $(stat -c %s "$tmp/models/clip/text_projection.npy") / 1024 )) KB here) after the load: $(( file_kb / 1024 )) MB;"
echo "anonymous RSS after the load: $(( idle_anon / 1024 )) MB."
