#!/usr/bin/env bash
# bench/bench-audio.sh BUILD_DIR - the "Audio decoding" section of
# docs/BENCHMARKS.md: a 10-minute MP3 (44.1 kHz stereo, 128 kb/s) decoded
# and resampled to 16 kHz mono float32, by the C path of hailo-whisper
# (bench-audio: libav* in process, cut into 30-s windows) and by the
# original's path (bench-audio-orig.py: temporary file, its ffmpeg command,
# numpy), side by side; then the C path's peak RSS on a 1-hour file.
# BENCH_AUDIO_RUNS (default 5) sets the runs per path (medians are shown).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1
bin=$build/bin/bench-audio
[ -x "$bin" ] || { echo "bench-audio.sh: $bin is missing (build first)" >&2; exit 1; }
py=/usr/bin/python3
[ -x "$py" ] || py=python3
runs=${BENCH_AUDIO_RUNS:-5}
audio=$build/tests/data/audio
"$here/../tests/data/audio/make-audio.sh" "$audio" --long
ten=$audio/long-10min.mp3
hour=$audio/long-1h.mp3

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
c2=$("$bin" --runs "$runs" "$ten")
c1=$("$bin" --runs "$runs" --one-thread "$ten")
orig=$("$py" "$here/bench-audio-orig.py" --runs "$runs" "$ten")
rss=$("$bin" --rss "$hour")

echo "## Audio decoding (hailo-whisper)"
echo
echo "A 10-minute MP3 ($(du -h "$ten" | cut -f1), 44.1 kHz stereo, 128 kb/s, speech) decoded and"
echo "resampled to 16 kHz mono float32, median of $runs runs; the samples of both paths are identical"
echo "(tests/unit/audio/test_audio_decode.c).  C: the upload in memory, libav* in process, cut"
echo "into 30-s windows with the original's trimming.  Original: its steps (temporary file, its"
echo "\`ffmpeg ... -f s16le -ac 1 -acodec pcm_s16le -ar 16000 -\` command, numpy), our lines in"
echo "bench/bench-audio-orig.py.  CPU counts every thread and child process."
echo "Command: \`bench/run.sh BUILD_DIR audio\`; machine load when it ran: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| path | wall ms | CPU ms | speed-up (wall) |"
echo "|---|---:|---:|---:|"
ow=$(field wall_ms <<<"$orig")
for row in "C, decoding on a helper thread (default)|$c2" "C, one thread|$c1" "original (ffmpeg + numpy)|$orig"; do
  name=${row%%|*}
  out=${row#*|}
  w=$(field wall_ms <<<"$out")
  c=$(field cpu_ms <<<"$out")
  echo "| $name | $w | $c | $(awk -v o="$ow" -v w="$w" 'BEGIN { printf "%.1fx", o / w }') |"
done
echo
kb=$(field peak_rss_kb <<<"$rss")
echo "Peak RSS of the C path on a 1-hour MP3 ($(du -h "$hour" | cut -f1), 16 kHz mono, 32 kb/s,"
echo "$(field windows <<<"$rss") windows): $((kb / 1024)) MiB for the whole process (program,"
echo "libraries, the encoded file held in memory, libav's buffers and one 30-s window)."
echo "Command: \`build/bin/bench-audio --rss $hour\`."
