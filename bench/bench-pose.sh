#!/usr/bin/env bash
# bench/bench-pose.sh BUILD_DIR - the "Pose post-processing" section of
# docs/BENCHMARKS.md: src/posepost on synthetic YOLOv8s-pose outputs
# (bench-pose builds them).  BENCH_POSE_RUNS (default 201) sets the number
# of timed runs.  The Python path (hailo-apps' PoseEstPostProcessing.
# post_process plus GM's mapping loop) is not part of the repository; it was
# timed outside it on the tensors `bench-pose --dump DIR` writes (Debian 12
# numpy 1.24, 2-core x86-64 build machine, 2026-12-03: thread CPU median
# 28 ms for GM's defaults, 117 ms for confidence 0.001 / max 300; the same
# people as here).
set -euo pipefail
build=$1
bin=$build/bin/bench-pose
[ -x "$bin" ] || { echo "bench-pose.sh: $bin is missing (build first)" >&2; exit 1; }
runs=${BENCH_POSE_RUNS:-201}
echo "## Pose post-processing"
echo
echo "The 9 outputs found by shape, 8400 proposals decoded (DFL boxes, keypoints), top-k,"
echo "NMS and the people mapped back to a 1920x1080 image; one thread, $runs runs."
echo "Command: \`bench/run.sh BUILD_DIR pose\` (runs \`bench-pose --runs $runs\`)."
echo
"$bin" --runs "$runs"
