#!/usr/bin/env bash
# bench/bench-depth.sh BUILD_DIR - the "Depth post-processing" section of
# docs/BENCHMARKS.md: src/depthpost on 1920x1080 and 4000x3000 maps
# (bench-depth makes them).  BENCH_DEPTH_RUNS (default 7) sets the number of
# timed runs.  The Python path (GM hailo-depth's _normalize_depth,
# _compute_depth_stats, _encode_numpy, _colorize_depth, _encode_depth_16bit)
# is not part of the repository; it was timed outside it on the maps
# `bench-depth --dump DIR` writes (Debian 12 numpy 1.24 / matplotlib 3.6 /
# Pillow 9.4, 2-core x86-64 build machine, 2026-12-03, 1920x1080, thread CPU
# medians: normalise 3 ms, stats 30 ms, .npz 466 ms, colour PNG 706 ms,
# 16-bit PNG 429 ms, output_format=both 1397 ms).
set -euo pipefail
build=$1
bin=$build/bin/bench-depth
[ -x "$bin" ] || { echo "bench-depth.sh: $bin is missing (build first)" >&2; exit 1; }
runs=${BENCH_DEPTH_RUNS:-7}
echo "## Depth post-processing"
echo
echo "Each output step on a map already at the image size, one thread, median of $runs runs"
echo "(3 for 4000x3000). Command: \`bench/run.sh BUILD_DIR depth\` (runs \`bench-depth --runs $runs\`)."
"$bin" --runs "$runs"
