#!/usr/bin/env bash
# bench/bench-ocr-service.sh BUILD_DIR - the "hailo-ocr" section of
# docs/BENCHMARKS.md, on the 1920x1080 page of ~150 text lines that
# bench-ocr draws:
#  1. host-side time per request, side by side with the original: the
#     service's own code (bench-ocr-service: decode, letterbox, boxes, crops,
#     CTC around the NPU's outputs) and the original's Python steps on the
#     same inputs (bench-ocr-orig.py: cv2, numpy, shapely, pyclipper), run
#     alternately in rounds so both see the same load, OpenCV on one thread
#     and on all cores (both services' default);
#  2. the service end to end over HTTP (bench-clip as the load generator) on
#     a hailo-device-manager with the sim backend at zero latency, 1 and 8
#     clients: requests/s, latency, CPU per request of hailo-ocr and of the
#     manager (the simulator's own cost: its networks run there), and
#     hailo-ocr's peak resident memory (VmHWM).
# BENCH_OCR_ROUNDS (default 5) and BENCH_OCR_RUNS (default 7, per round and
# side) size part 1, BENCH_SECONDS (default 5) part 2.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1
bin=$build/bin
rounds=${BENCH_OCR_ROUNDS:-5}
runs=${BENCH_OCR_RUNS:-7}
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
echo "### Host-side time per request, side by side with the original"
echo
echo "The 1920x1080 JPEG page of \`bench-ocr\` (the NPU's outputs from the simulator, saved once"
echo "and read by both sides, not timed).  C: the service's own steps (src/ocr/host.c: kept"
echo "workspace, crops on OpenCV's threads), \`bench-ocr-service --inputs DIR --threads T --json\`."
echo "Original: its Python steps on Debian's python3-opencv, numpy, shapely and pyclipper,"
echo "\`bench/bench-ocr-orig.py --inputs DIR --threads 1|all --json\`.  $rounds rounds of $runs"
echo "requests each (after one untimed), C and Python alternately; figures are medians over the"
echo "rounds of each round's median; CPU is process CPU time (every thread)."
echo
"$py" - "$bin/bench-ocr-service" "$here/bench-ocr-orig.py" "$tmp/in" "$rounds" "$runs" <<'PYEOF'
import json, statistics, subprocess, sys
c_bin, orig, d, rounds, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
rows = [("decode", "decode (JPEG to RGB; the original times requests without it)"),
        ("letterbox", "letterbox to 960x544 (INTER_CUBIC, pad 128)"),
        ("boxes", "boxes: map to 1920x1080, DB, unclip (C: and reading order)"),
        ("crops", "crops: mask, warp, 48x320 letterbox (Python: and reading order)"),
        ("ctc", "CTC decodes (40x97)"),
        ("nodecode", "**total without decoding**"),
        ("total", "total with decoding")]
def load():
    return open("/proc/loadavg").read().split()[0]
def run(cmd):
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
for label, c_th, py_th in (("OpenCV on one thread (C: `performance.opencv_threads: 1`; Python: "
                            "`cv2.setNumThreads(0)`)", "1", "1"),
                           ("OpenCV on all cores (both defaults)", "0", "all")):
    c_res, p_res, loads = [], [], [load()]
    for r in range(rounds):
        c_cmd = [c_bin, "--inputs", d, "--runs", runs, "--threads", c_th, "--json"]
        p_cmd = [sys.executable, orig, "--inputs", d, "--runs", runs, "--threads", py_th, "--json"]
        # Alternate which side goes first, so a drift in load hits both alike.
        if r % 2 == 0:
            c_res.append(run(c_cmd)); p_res.append(run(p_cmd))
        else:
            p_res.append(run(p_cmd)); c_res.append(run(c_cmd))
    loads.append(load())
    med = lambda res, k, i: statistics.median(x["steps"][k][i] for x in res)
    info_c, info_p = c_res[-1]["info"], p_res[-1]["info"]
    print("%s; 1-minute load %s at the start, %s at the end.  C: %d boxes, %d characters; "
          "Python: %d boxes, %d crops, %d characters." % (label, loads[0], loads[1], info_c["boxes"],
          info_c["chars"], info_p["boxes"], info_p["crops"], info_p["chars"]))
    print()
    print("| step | C wall ms | C CPU ms | Python wall ms | Python CPU ms | Python / C (wall) |")
    print("|---|---:|---:|---:|---:|---:|")
    for k, name in rows:
        cw, cc, pw, pc = med(c_res, k, 0), med(c_res, k, 1), med(p_res, k, 0), med(p_res, k, 1)
        print("| %s | %.2f | %.2f | %.2f | %.2f | %.1fx |" % (name, cw, cc, pw, pc, pw / cw))
    print()
    for k, what in (("nodecode", "without decoding"), ("total", "with decoding")):
        per = sorted(p[k][0] / c[k][0] for c, p in
                     ((c["steps"], p["steps"]) for c, p in zip(c_res, p_res)))
        cpu = statistics.median(p["steps"][k][1] / c["steps"][k][1] for c, p in zip(c_res, p_res))
        print("Python / C %s: wall %.2fx (rounds: %s), CPU %.2fx." % (
            what, statistics.median(per), " ".join("%.2f" % x for x in per), cpu))
    print()
PYEOF

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
