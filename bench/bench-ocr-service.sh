#!/usr/bin/env bash
# bench/bench-ocr-service.sh BUILD_DIR - the "hailo-ocr" section of
# docs/BENCHMARKS.md, on the 1920x1080 page of ~150 text lines that
# bench-ocr draws:
#  1. host-side time per request on the service's own code (bench-ocr-service:
#     decode, letterbox, boxes, crops, CTC around the NPU's outputs), OpenCV on
#     one thread and on all cores (the service's default);
#  2. the service end to end over HTTP (bench-clip as the load generator) on
#     a hailo-device-manager with the sim backend at zero latency, 1 and 8
#     clients: requests/s, latency, CPU per request of hailo-ocr and of the
#     manager (the simulator's own cost: its networks run there), and
#     hailo-ocr's peak resident memory (VmHWM).
# BENCH_OCR_RUNS (default 21) and BENCH_SECONDS (default 5) size the runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1
bin=$build/bin
runs=${BENCH_OCR_RUNS:-21}
secs=${BENCH_SECONDS:-5}
for p in hailo-device-manager hailo-ocr bench-ocr bench-ocr-service bench-clip; do
  [ -x "$bin/$p" ] || { echo "bench-ocr-service.sh: $bin/$p is missing (build first)" >&2; exit 1; }
done
me=bench-ocr-service.sh
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

mkdir -p "$tmp/in"
"$bin/bench-ocr" --runs 1 --save-inputs "$tmp/in" > /dev/null

echo "## hailo-ocr"
echo
echo "### Host-side time per request"
echo
echo "The service's own CPU steps (src/ocr/host.c, as hailo-ocr runs them: kept workspace,"
echo "crops cut on OpenCV's threads) on the 1920x1080 JPEG page of \`bench-ocr\` (1 untimed"
echo "request first, then $runs timed; the NPU's outputs come from the simulator, not timed)."
echo "Command: \`bench-ocr --save-inputs DIR && bench-ocr-service --inputs DIR --threads T\`."
echo
echo "OpenCV on one thread (\`performance.opencv_threads: 1\`):"
echo
"$bin/bench-ocr-service" --inputs "$tmp/in" --runs "$runs" --threads 1 | tail -n +3
echo
echo "OpenCV on all $(nproc) cores (the default, \`performance.opencv_threads: 0\`):"
echo
"$bin/bench-ocr-service" --inputs "$tmp/in" --runs "$runs" --threads 0 | tail -n +3
echo

# ---- end to end ----------------------------------------------------------------
"$py" "$here/../tools/make-sim-assets" "$tmp" --fast --socket "$tmp/run/device.sock" > /dev/null
export HAILO_DEVICE_SOCKET=$tmp/run/device.sock HAILO_DEVICE_MODEL_DIRS=$tmp/models
"$bin/hailo-device-manager" --backend sim --sim-config "$tmp/sim-config.json" --http-bind off \
  --log-level error &
mgr_pid=$!
pids+=("$mgr_pid")
# 8 handler threads so 8 clients are all inside the service at once.
sed 's/^server:$/server:\n  threads: 8/' "$tmp/hailo-ocr.yaml" > "$tmp/ocr.yaml"
port=$(free_port)
"$bin/hailo-ocr" --config "$tmp/ocr.yaml" --host 127.0.0.1 --port "$port" --log-level error &
ocr_pid=$!
pids+=("$ocr_pid")
for _ in $(seq 1 600); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/health/ready" && break
  sleep 0.05
done
curl -sf -o /dev/null "http://127.0.0.1:$port/health/ready" ||
  { echo "$me: hailo-ocr did not become ready" >&2; exit 1; }
"$py" - "$tmp" <<'PYEOF'
import base64, json, sys
root = sys.argv[1]
page = base64.b64encode(open(root + "/in/page.jpg", "rb").read()).decode()
json.dump({"image": "data:image/jpeg;base64," + page, "languages": ["en"]},
          open(root + "/extract.json", "w"))
PYEOF
rss_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\).*/\1/p" "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# One request to warm up (workspace, OpenCV's threads, the manager's model).
curl -sf -o /dev/null -H 'Content-Type: application/json' --data-binary "@$tmp/extract.json" \
  "http://127.0.0.1:$port/v1/ocr/extract"
idle_kb=$(rss_kb "$ocr_pid" VmRSS)

calc() { awk "BEGIN { print $1 }"; }
field() { sed -n "s/.*$1=\([0-9.-]*\).*/\1/p"; }
echo "### End to end"
echo
echo "\`bench-clip\` (one keep-alive connection per client, ${secs} s per row) posting the page"
echo "(a 786 KB JPEG as a data: URI) to hailo-ocr (8 HTTP threads, \`images.max_concurrent: 1\`)"
echo "-> hailo-device-manager (sim backend, \`latency_scale: 0\`: no simulated NPU time).  CPU per"
echo "request: /proc utime+stime over the row / requests.  \"manager CPU\" is the simulator's own"
echo "cost (its detection and recognition networks), not hailo-ocr's.  Peak RSS: hailo-ocr's"
echo "VmHWM after the row.  Command: \`bench/bench-ocr-service.sh BUILD_DIR\`."
echo
echo "| clients | req/s | p50 / p99 ms | hailo-ocr CPU ms/req | manager (sim) CPU ms/req | hailo-ocr peak RSS MB | errors |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for c in 1 8; do
  o0=$(cpu_ticks "$ocr_pid") m0=$(cpu_ticks "$mgr_pid")
  out=$("$bin/bench-clip" --port "$port" --path /v1/ocr/extract --body "$tmp/extract.json" \
        --clients "$c" --seconds "$secs" --pid "$ocr_pid")
  o1=$(cpu_ticks "$ocr_pid") m1=$(cpu_ticks "$mgr_pid")
  n=$(echo "$out" | field requests)
  [ "${n:-0}" -gt 0 ] || n=1
  printf '| %s | %s | %s / %s | %.1f | %.1f | %.1f | %s |\n' "$c" "$(echo "$out" | field req_s)" \
    "$(echo "$out" | field p50_ms)" "$(echo "$out" | field p99_ms)" \
    "$(calc "($o1 - $o0) * 1000 / $hz / $n")" "$(calc "($m1 - $m0) * 1000 / $hz / $n")" \
    "$(calc "$(rss_kb "$ocr_pid" VmHWM) / 1024")" "$(echo "$out" | field errors)"
done
echo
printf 'hailo-ocr RSS after one request: %.1f MB (of which file-backed: binary and libraries %.1f MB).\n' \
  "$(calc "$idle_kb / 1024")" "$(calc "$(rss_kb "$ocr_pid" RssFile) / 1024")"
