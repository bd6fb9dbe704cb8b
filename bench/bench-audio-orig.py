#!/usr/bin/python3
"""The original hailo-whisper's audio path, timed: what its _save_upload and
_decode_audio do for one upload (our own lines, reproducing its steps).

    bench-audio-orig.py [--runs N] FILE

The upload, held in memory, is written to a temporary file, decoded with the
exact ffmpeg command the original runs, read from the pipe and turned into
float32 with numpy as the original does.  Prints "wall_ms=<median>
cpu_ms=<median> samples=<n>" (CPU: this process and ffmpeg)."""
import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time

import numpy as np


def cpu_s():
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def original_path(data):
    with tempfile.NamedTemporaryFile(mode="wb", suffix=".mp3", delete=False) as f:
        f.write(data)
    try:
        cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", f.name,
               "-f", "s16le", "-ac", "1", "-acodec", "pcm_s16le", "-ar", "16000", "-"]
        result = subprocess.run(cmd, check=False, capture_output=True)
        if result.returncode != 0:
            raise RuntimeError("ffmpeg failed: " + result.stderr.decode("utf-8", "ignore"))
        audio = np.frombuffer(result.stdout, dtype=np.int16).astype(np.float32)
        return (audio / 32768.0).astype("<f4")
    finally:
        os.unlink(f.name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("file")
    args = ap.parse_args()
    data = open(args.file, "rb").read()
    walls, cpus, n = [], [], 0
    for _ in range(args.runs):
        w0, c0 = time.perf_counter(), cpu_s()
        n = original_path(data).size
        walls.append((time.perf_counter() - w0) * 1000)
        cpus.append((cpu_s() - c0) * 1000)
    print(f"wall_ms={statistics.median(walls):.1f} cpu_ms={statistics.median(cpus):.1f} samples={n}")


if __name__ == "__main__":
    main()
