#!/usr/bin/env bash
# bench/bench-ocr.sh BUILD_DIR - the "OCR host path" section of
# docs/BENCHMARKS.md: hailo-ocr's CPU work for one request on a 1920x1080
# page of about 150 text lines (letterbox, DB post-processing, crops, CTC;
# the NPU's outputs come from the simulator and are not timed).
# BENCH_OCR_RUNS (default 21) sets the number of timed runs.
set -euo pipefail
build=$1
bin=$build/bin/bench-ocr
[ -x "$bin" ] || { echo "bench-ocr.sh: $bin is missing (build first)" >&2; exit 1; }
runs=${BENCH_OCR_RUNS:-21}
echo "## OCR host path"
echo
echo "What hailo-ocr computes around the two NPU calls for one request (src/ocrpost on"
echo "OpenCV 4.6), one thread.  Command: \`bench/run.sh BUILD_DIR ocr\` (runs \`bench-ocr --runs $runs\`)."
echo
"$bin" --runs "$runs"
