#!/usr/bin/env bash
# bench/bench-pose-service.sh BUILD_DIR - the "hailo-pose" section of
# docs/BENCHMARKS.md (issue 14's speed targets):
#  1. host-side work per 1920x1080 JPEG request, step by step
#     (bench-pose-service: decode, letterbox, post-processing, JSON);
#  2. end to end over HTTP: hailo-pose (its default config) on
#     hailo-device-manager with the sim backend at zero latency, 1 and 8
#     clients posting the photo as JSON ({"image": <base64>}, bench-clip's C
#     load generator) and as multipart (a Python requests client: its own
#     overhead caps the rate); the service's peak RSS during each row (VmHWM,
#     reset before the row through clear_refs) and its largest anonymous RSS
#     (sampled every 50 ms).
# BENCH_SECONDS (default 5) sets the length of each HTTP row,
# BENCH_POSE_RUNS (default 51) the runs of each host-side step.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1
bin=$build/bin
secs=${BENCH_SECONDS:-5}
runs=${BENCH_POSE_RUNS:-51}
for p in hailo-device-manager hailo-pose bench-clip bench-pose-service; do
  [ -x "$bin/$p" ] || { echo "bench-pose-service.sh: $bin/$p is missing (build first)" >&2; exit 1; }
done
me=bench-pose-service.sh
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

echo "## hailo-pose"
echo
echo "### Host-side work per request (1920x1080 JPEG)"
echo
echo "Command: \`bench/bench-pose-service.sh BUILD_DIR\` (runs \`bench-pose-service --runs $runs\`:"
echo "each step's median over $runs runs on one thread, wall clock and thread CPU time; the"
echo "model outputs are the simulator's for this photo, made once and not timed)."
echo
"$bin/bench-pose-service" --runs "$runs" --save "$tmp"

"$py" "$here/../tools/make-sim-assets" "$tmp" --fast --socket "$tmp/run/device.sock" > /dev/null
export HAILO_DEVICE_SOCKET=$tmp/run/device.sock HAILO_DEVICE_MODEL_DIRS=$tmp/models
"$bin/hailo-device-manager" --backend sim --sim-config "$tmp/sim-config.json" --http-bind off \
  --log-level error &
pids+=($!)
port=$(free_port)
"$bin/hailo-pose" --config "$tmp/hailo-pose.yaml" --host 127.0.0.1 --port "$port" \
  --log-level error &
pose_pid=$!
pids+=("$pose_pid")
wait_http "http://127.0.0.1:$port/health/ready" 30

"$py" - "$tmp" <<'PYEOF'
import base64, json, sys
root = sys.argv[1]
with open(root + "/photo.jpg", "rb") as f:
    data = f.read()
json.dump({"image": base64.b64encode(data).decode()}, open(root + "/detect.json", "w"))
PYEOF

kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\).*/\1/p" "/proc/$1/status"; }
field() { sed -n "s/.*$1=\([0-9.-]*\).*/\1/p"; }
multipart_load() { # clients -> the same key=value line as bench-clip
  "$py" - "$port" "$secs" "$1" "$tmp/photo.jpg" "$pose_pid" <<'PYEOF'
import sys, threading, time
import requests
port, secs, clients, photo, pid = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
data = open(photo, "rb").read()
lat, errors, anon = [], [0], [0]
stop = time.monotonic() + secs
def client():
    s = requests.Session()
    while time.monotonic() < stop:
        t0 = time.monotonic()
        r = s.post("http://127.0.0.1:%s/v1/pose/detect" % port, files={"image": ("p.jpg", data)})
        lat.append((time.monotonic() - t0) * 1000)
        errors[0] += r.status_code != 200
def sample():
    while time.monotonic() < stop:
        for line in open("/proc/%s/status" % pid):
            if line.startswith("RssAnon:"):
                anon[0] = max(anon[0], int(line.split()[1]))
        time.sleep(0.05)
threads = [threading.Thread(target=client) for _ in range(clients)] + [threading.Thread(target=sample)]
t0 = time.monotonic()
[t.start() for t in threads]
[t.join() for t in threads]
lat.sort()
print("requests=%d errors=%d req_s=%.1f p50_ms=%.2f p99_ms=%.2f rss_anon_kb=%d" % (
    len(lat), errors[0], len(lat) / (time.monotonic() - t0), lat[len(lat) // 2],
    lat[int(len(lat) * 0.99)], anon[0]))
PYEOF
}
row() { # body clients
  local out
  echo 5 > "/proc/$pose_pid/clear_refs" 2>/dev/null || true # resets VmHWM to the current RSS
  if [ "$1" = json ]; then
    out=$("$bin/bench-clip" --port "$port" --path /v1/pose/detect --body "$tmp/detect.json" \
          --clients "$2" --seconds "$secs" --pid "$pose_pid")
  else
    out=$(multipart_load "$2")
  fi
  printf '| %s | %s | %s | %s / %s | %s | %s | %s |\n' "$1" "$2" "$(echo "$out" | field req_s)" \
    "$(echo "$out" | field p50_ms)" "$(echo "$out" | field p99_ms)" \
    "$(( $(kb "$pose_pid" VmHWM) / 1024 ))" "$(( $(echo "$out" | field rss_anon_kb) / 1024 ))" \
    "$(echo "$out" | field errors)"
}

echo
echo "### End to end over HTTP"
echo
echo "The photo above posted to hailo-pose (default config: 4 HTTP threads, one detection at a"
echo "time) for ${secs} s per row, as JSON ({\"image\": base64}, $(( $(stat -c %s "$tmp/detect.json") / 1024 )) KB, by \`bench-clip\`: C, one"
echo "keep-alive connection per client) and as multipart ($(( $(stat -c %s "$tmp/photo.jpg") / 1024 )) KB, by a Python requests"
echo "client, whose own cost caps its rate) -> hailo-device-manager (sim backend,"
echo "\`latency_scale: 0\`: the simulator's own"
echo "work, a few ms of luminance and blob finding per frame plus 3.9 MB of outputs, is in the"
echo "figures; a Hailo-10H's inference time is not).  \"peak RSS\" is hailo-pose's VmHWM during"
echo "the row (all of its memory: binary, libraries, heap), \"anon\" its largest RssAnon."
echo
echo "| body | clients | req/s | p50 / p99 ms | peak RSS MB | anon RSS MB | errors |"
echo "|---|---:|---:|---:|---:|---:|---:|"
row json 1
row json 8
row multipart 1
row multipart 8
echo
echo "Idle after the load: RSS $(( $(kb "$pose_pid" VmRSS) / 1024 )) MB (anonymous $(( $(kb "$pose_pid" RssAnon) / 1024 )) MB, file-backed $(( $(kb "$pose_pid" RssFile) / 1024 )) MB)."
