#!/usr/bin/env bash
# bench/bench-image.sh BUILD_DIR - the "Image preprocessing" section of
# docs/BENCHMARKS.md: decode + resize + centre-crop to 224x224 for JPEGs of
# three sizes and a PNG (bench-image encodes its own synthetic inputs).
# BENCH_IMAGE_RUNS (default 31) sets the number of timed runs per input.
set -euo pipefail
build=$1
bin=$build/bin/bench-image
[ -x "$bin" ] || { echo "bench-image.sh: $bin is missing (build first)" >&2; exit 1; }
runs=${BENCH_IMAGE_RUNS:-31}
echo "## Image preprocessing"
echo
echo "Decode + resize (shorter side to 224, Pillow-style bicubic with area support) + centre-crop,"
echo "one thread, median of $runs runs; JPEGs use libjpeg-turbo's scaled decoding."
echo "Command: \`bench/run.sh BUILD_DIR image\` (runs \`bench-image --runs $runs\`)."
echo
"$bin" --runs "$runs"
