#!/usr/bin/env bash
# bench/bench-manager.sh BUILD_DIR - the "Device manager" section of
# docs/BENCHMARKS.md: round trip and throughput of ping and CLIP infer
# (image [1,224,224,3] uint8, text [1,77,512] float32), v1 JSON and binary
# frames, 1 and 8 clients, each next to the echo-server floor measured by the
# same load generator in the same run; then time to ready and idle RSS.
# The manager runs the sim backend with latency_scale 0 (no simulated work).
# BENCH_SECONDS (default 1.5) sets the length of each measurement and
# BENCH_REPEAT (default 3) how many are taken; the best one is reported, as
# other work on a shared machine only ever makes a figure worse.
set -euo pipefail
build=$1
bin=$build/bin
secs=${BENCH_SECONDS:-1.5}
repeat=${BENCH_REPEAT:-3}
for p in hailo-device-manager hailo-devctl bench-manager echo-server; do
  [ -x "$bin/$p" ] || { echo "bench-manager.sh: $bin/$p is missing (build first)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/hdm-bench.XXXXXX)
manager_pid=; echo_pid=
cleanup() {
  [ -n "$echo_pid" ] && kill "$echo_pid" 2>/dev/null && wait "$echo_pid" 2>/dev/null
  [ -n "$manager_pid" ] && kill "$manager_pid" 2>/dev/null && wait "$manager_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/models"
for f in clip_image.hef clip_text.hef; do head -c 4096 /dev/zero > "$tmp/models/$f"; done
echo '{"latency_scale": 0}' > "$tmp/sim.json"
export HAILO_DEVICE_MODEL_DIRS=$tmp/models
manager_args=(--backend sim --sim-config "$tmp/sim.json" --http-bind off --log-level error)
model=$tmp/models/clip_image.hef

# Time to ready and idle memory: five fresh starts, the median.
ready_runs=()
for i in 1 2 3 4 5; do
  ready_runs+=("$("$bin/bench-manager" ready --socket "$tmp/ready.sock" -- \
    "$bin/hailo-device-manager" --socket "$tmp/ready.sock" "${manager_args[@]}")")
done
ready_sorted=$(printf '%s\n' "${ready_runs[@]}" | sed 's/.*ready_ms=\([0-9.]*\).*/\1/' | sort -n)
ready_ms=$(sed -n 3p <<< "$ready_sorted"); ready_min=$(sed -n 1p <<< "$ready_sorted")
rss_kb=$(printf '%s\n' "${ready_runs[@]}" | sed 's/.*rss_kb=\([0-9]*\).*/\1/' | sort -n | sed -n 3p)

"$bin/hailo-device-manager" --socket "$tmp/dm.sock" "${manager_args[@]}" &
manager_pid=$!
"$bin/hailo-devctl" --socket "$tmp/dm.sock" --timeout 5000 ping > /dev/null
"$bin/bench-manager" setup --socket "$tmp/dm.sock" --model-path "$model" \
  --image-hef "$tmp/models/clip_image.hef" --text-hef "$tmp/models/clip_text.hef"

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
# measure REQUEST CLIENTS: sets $floor and $mgr to the bench-manager run lines
# with the highest req/s, and $floor_cpu and $mgr_cpu to the lowest server CPU
# time per request (µs) of the runs, running floor and manager alternately.
measure() {
  local line rps cpu floor_rps=-1 mgr_rps=-1
  floor_cpu=; mgr_cpu=
  for _ in $(seq "$repeat"); do
    line=$("$bin/bench-manager" run --socket "$tmp/echo.sock" --request "$1" --clients "$2" \
      --seconds "$secs" --server-pid "$echo_pid")
    rps=$(field rps <<< "$line"); rps=${rps%.*}; cpu=$(field server_cpu_us <<< "$line")
    if [ "$rps" -gt "$floor_rps" ]; then floor=$line; floor_rps=$rps; fi
    floor_cpu=$(awk -v a="$floor_cpu" -v b="$cpu" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }')
    line=$("$bin/bench-manager" run --socket "$tmp/dm.sock" --request "$1" --clients "$2" \
      --seconds "$secs" --server-pid "$manager_pid")
    rps=$(field rps <<< "$line"); rps=${rps%.*}; cpu=$(field server_cpu_us <<< "$line")
    if [ "$rps" -gt "$mgr_rps" ]; then mgr=$line; mgr_rps=$rps; fi
    mgr_cpu=$(awk -v a="$mgr_cpu" -v b="$cpu" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }')
  done
}
echo "## Device manager"
echo
echo "Load generator: \`bench-manager run\` (raw sockets, pre-encoded request, one connection"
echo "per client; best of ${repeat} runs of ${secs} s, floor and manager alternating); floor:"
echo "\`echo-server\` answering the manager's own response bytes.  Manager: sim backend,"
echo "\`latency_scale: 0\`.  CPU µs/req: the server process's CPU time (user + system, every"
echo "thread) per request inside the measuring window, the lowest of the runs: the figure a busy"
echo "machine disturbs least (load average at the start: $(cut -d' ' -f1-3 /proc/loadavg))."
echo
echo "| request | frame | clients | manager req/s | floor req/s | floor/manager | manager / floor CPU µs/req | CPU ratio | manager p50 / p99 µs | floor p50 / p99 µs |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for spec in ping:json clip-image:json clip-image:binary clip-text:json clip-text:binary; do
  kind=${spec%%:*}; form=${spec##*:}
  req=$tmp/$kind-$form.req; resp=$tmp/$kind-$form.resp
  "$bin/bench-manager" encode --kind "$kind" --form "$form" --model-path "$model" --out "$req"
  "$bin/bench-manager" capture --socket "$tmp/dm.sock" --request "$req" --out "$resp"
  "$bin/echo-server" --socket "$tmp/echo.sock" --response "$resp" &
  echo_pid=$!
  for _ in $(seq 50); do [ -S "$tmp/echo.sock" ] && break; sleep 0.02; done
  for clients in 1 8; do
    measure "$req" "$clients"
    m_rps=$(field rps <<< "$mgr"); f_rps=$(field rps <<< "$floor")
    ratio=$(awk -v f="$f_rps" -v m="$m_rps" 'BEGIN { printf (m > 0 ? "%.2fx" : "n/a"), f / m }')
    cpu_ratio=$(awk -v f="$floor_cpu" -v m="$mgr_cpu" 'BEGIN { printf (f > 0 ? "%.2fx" : "n/a"), m / f }')
    printf '| %s | %s | %d | %s | %s | %s | %.1f / %.1f | %s | %s / %s | %s / %s |\n' "$kind" "$form" \
      "$clients" "$m_rps" "$f_rps" "$ratio" "$mgr_cpu" "$floor_cpu" "$cpu_ratio" \
      "$(field p50_us <<< "$mgr")" "$(field p99_us <<< "$mgr")" \
      "$(field p50_us <<< "$floor")" "$(field p99_us <<< "$floor")"
  done
  kill "$echo_pid"; wait "$echo_pid" 2>/dev/null || true; echo_pid=
done
echo
echo "| figure | value |"
echo "|---|---:|"
echo "| ready (exec to first ping answer), median / best of 5 | ${ready_ms} / ${ready_min} ms |"
echo "| idle RSS after ready (median of 5) | $(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }') MiB |"
echo
echo "Command: \`bench/run.sh $build\` (or \`make bench\`)."
