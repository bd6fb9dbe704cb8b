#!/usr/bin/env bash
# make-audio.sh OUTDIR [--long] - writes the test audio of hailo-whisper's
# library tests into OUTDIR, with Debian's espeak-ng (speech), sox (silence,
# joining) and ffmpeg (tones, every container format, the reference decodes).
# Nothing here is committed: ctest runs this as a fixture (the `audio_files`
# setup test) and skips the work when OUTDIR is up to date with this script.
#
#   speech.wav          espeak-ng, 22.05 kHz mono s16, about 5 s
#   phrases.wav         three utterances at 16 kHz mono with 1.5 s of silence
#                       before, between and after them (known voiced stretches)
#   tone.wav, tone.mp3  the original's fixture: 2 s of 440 Hz at 16 kHz mono
#   silence.wav         3 s of digital silence, 16 kHz mono (sox never dithers here)
#   speech-44k-stereo.wav and speech.{mp3,flac,ogg,opus,m4a,webm,aiff,aac},
#   speech-f32.wav      speech as 44.1 kHz stereo in every container
#   video-audio.mp4     an MPEG-4 video stream plus the speech as AAC
#   video-only.mp4      a video stream and no audio
#   speech-ac3.mka      AC-3 audio in Matroska (a container we take, a codec we refuse)
#   speech.au           Sun AU (audio in a container we refuse)
#   truncated.mp3       the first 40 % of speech.mp3 (decodes what is there)
#   truncated-head.mp3  its first 300 bytes (nothing decodes)
#   damaged.mp3         speech.mp3 with 30 % of its bytes after 2 kB replaced
#   claims-3h.mp3       speech.mp3 whose Info header claims 3 hours
#   long-10min.mp3      10 minutes of phrases.wav over and over, 44.1 kHz
#                       stereo 128 kb/s (the benchmark's file too)
#   NAME.ref            for each decodable file: the original's decode,
#                       `ffmpeg -i NAME -f s16le -ac 1 -acodec pcm_s16le -ar 16000 -`
#   refs.machine        `uname -m` of the machine whose ffmpeg made the .ref files
#                       (make check-arm64 runs the tests under qemu against the host's)
#   NAME.vad            for phrases.wav, speech.mp3, tone.wav and silence.wav:
#                       "start end" of the original's silence trimming of NAME.ref
#                       (its _apply_vad, in numpy: |a| > 0.02, 1600 samples kept)
# With --long also long-1h.mp3: an hour of phrases.wav, 16 kHz mono 32 kb/s
# (14 MB, under the 25 MiB upload limit), for the memory benchmark.
set -euo pipefail
out=${1:?usage: make-audio.sh OUTDIR [--long]}
long=${2:-}
# Debian's python3 (with numpy), not one a version manager puts first on PATH.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
for tool in espeak-ng sox ffmpeg "$py"; do
    command -v "$tool" >/dev/null ||
        { echo "make-audio.sh: $tool is missing (scripts/deps.sh check installs it)" >&2; exit 1; }
done
"$py" -c 'import numpy' 2>/dev/null ||
    { echo "make-audio.sh: python3-numpy is missing (scripts/deps.sh check installs it)" >&2; exit 1; }
mkdir -p "$out"
sig=$(sha1sum "$0" | cut -c1-40)
if [ "$(cat "$out/.stamp" 2>/dev/null)" != "$sig" ]; then
    tmp=$(mktemp -d "$out/.work.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "$@"; }

    espeak-ng -v en -s 160 -w "$tmp/speech.wav" \
        "Hello world. This is a test of the audio front end. We will meet tomorrow morning at the station."
    espeak-ng -v en -s 160 -w "$tmp/p1.wav" "The quick brown fox jumps over the lazy dog."
    espeak-ng -v en -s 160 -w "$tmp/p2.wav" "Please bring an umbrella."
    espeak-ng -v en -s 160 -w "$tmp/p3.wav" "Thank you for listening, everyone."
    sox -D -n -r 16000 -c 1 -b 16 "$tmp/gap.wav" trim 0 1.5
    for p in p1 p2 p3; do sox -D "$tmp/$p.wav" -r 16000 "$tmp/$p-16k.wav"; done
    sox -D "$tmp/gap.wav" "$tmp/p1-16k.wav" "$tmp/gap.wav" "$tmp/p2-16k.wav" "$tmp/gap.wav" \
        "$tmp/p3-16k.wav" "$tmp/gap.wav" "$tmp/phrases.wav"
    ff -f lavfi -i sine=frequency=440:duration=2 -ar 16000 -ac 1 "$tmp/tone.wav"
    ff -f lavfi -i sine=frequency=440:duration=2 -ar 16000 -ac 1 -b:a 128k "$tmp/tone.mp3"
    sox -D -n -r 16000 -c 1 -b 16 "$tmp/silence.wav" trim 0 3

    s=$tmp/speech-44k-stereo.wav
    ff -i "$tmp/speech.wav" -ar 44100 -ac 2 "$s"
    ff -i "$s" -c:a libmp3lame -b:a 64k "$tmp/speech.mp3"
    ff -i "$s" -c:a flac "$tmp/speech.flac"
    ff -i "$s" -c:a libvorbis -q:a 3 "$tmp/speech.ogg"
    ff -i "$s" -c:a libopus -b:a 32k "$tmp/speech.opus"
    ff -i "$s" -c:a aac -b:a 64k "$tmp/speech.m4a"
    ff -i "$s" -c:a libopus -b:a 32k "$tmp/speech.webm"
    ff -i "$s" "$tmp/speech.aiff"
    ff -i "$s" -c:a aac -b:a 64k -f adts "$tmp/speech.aac"
    ff -i "$s" -c:a pcm_f32le "$tmp/speech-f32.wav"
    ff -f lavfi -i testsrc=size=64x48:rate=10 -i "$s" -shortest -c:v mpeg4 -c:a aac \
        "$tmp/video-audio.mp4"
    ff -f lavfi -i testsrc=size=64x48:rate=10 -t 1 -c:v mpeg4 "$tmp/video-only.mp4"
    ff -i "$s" -c:a ac3 "$tmp/speech-ac3.mka"
    ff -i "$s" "$tmp/speech.au"

    "$py" - "$tmp" <<'PY'
import random, struct, sys
d = sys.argv[1]
mp3 = open(f"{d}/speech.mp3", "rb").read()
open(f"{d}/truncated.mp3", "wb").write(mp3[: len(mp3) * 4 // 10])
open(f"{d}/truncated-head.mp3", "wb").write(mp3[:300])
r = random.Random(1)
damaged = bytearray(mp3)
for i in range(2048, len(damaged)):
    if r.random() < 0.3:
        damaged[i] = r.randrange(256)
open(f"{d}/damaged.mp3", "wb").write(damaged)
# The LAME Info header: tag, flags (frames present), frame count.
claim = bytearray(mp3)
i = claim.find(b"Info")
assert i > 0 and struct.unpack(">I", claim[i + 4 : i + 8])[0] & 1
claim[i + 8 : i + 12] = struct.pack(">I", 3 * 3600 * 44100 // 1152)
open(f"{d}/claims-3h.mp3", "wb").write(claim)
PY
    ff -stream_loop -1 -i "$tmp/phrases.wav" -t 600 -ar 44100 -ac 2 -c:a libmp3lame -b:a 128k \
        "$tmp/long-10min.mp3"

    for f in "$tmp"/*.wav "$tmp"/*.mp3 "$tmp"/*.flac "$tmp"/*.ogg "$tmp"/*.opus "$tmp"/*.m4a \
             "$tmp"/*.webm "$tmp"/*.aiff "$tmp"/*.aac "$tmp"/video-audio.mp4; do
        case $(basename "$f") in p[123]*.wav | gap.wav | truncated-head.mp3 | damaged.mp3) continue ;; esac
        ff -i "$f" -f s16le -ac 1 -acodec pcm_s16le -ar 16000 "$f.ref"
    done
    uname -m >"$tmp/refs.machine"
    "$py" - "$tmp" <<'PY'
import sys
import numpy as np
d = sys.argv[1]
for name in ("phrases.wav", "speech.mp3", "tone.wav", "silence.wav"):
    a = (np.fromfile(f"{d}/{name}.ref", dtype="<i2").astype(np.float32) / 32768.0).astype("<f4")
    idx = np.where(np.abs(a) > 0.02)[0]
    start, end = (0, a.size) if idx.size == 0 else (max(idx[0] - 1600, 0), min(idx[-1] + 1600, a.size))
    open(f"{d}/{name}.vad", "w").write(f"{start} {end}\n")
PY
    rm -f "$tmp"/p[123]*.wav "$tmp/gap.wav"
    mv "$tmp"/* "$out"/
    echo "$sig" >"$out/.stamp"
fi
if [ "$long" = --long ] && [ ! -s "$out/long-1h.mp3" ]; then
    ffmpeg -nostdin -hide_banner -loglevel error -y -stream_loop -1 -i "$out/phrases.wav" \
        -t 3600 -ar 16000 -ac 1 -c:a libmp3lame -b:a 32k -f mp3 "$out/long-1h.mp3.part"
    mv "$out/long-1h.mp3.part" "$out/long-1h.mp3"
fi
