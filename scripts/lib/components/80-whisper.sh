# shellcheck shell=bash disable=SC2154  # verify.sh's helpers and settings
# 80-whisper.sh - hailo-whisper: OpenAI-compatible speech to text.  Its model
# stays where the original installed it (read by the manager), so its own
# directory holds nothing it fetched.
component whisper \
    bins=hailo-whisper \
    units=hailo-whisper.service \
    config=hailo-whisper.yaml \
    user=hailo-whisper \
    state=/var/lib/hailo/whisper \
    port=11437 \
    comment="hailo-whisper service"

# verify.sh: /health/ready, the model list, then one second of a 440 Hz tone
# transcribed (multipart, as the OpenAI clients send it).
verify_whisper() {
    local url=$1 model out
    if poll "$TIMEOUT" health_ok "$url/health/ready" 'j["ready"] is True'; then
        pass "hailo-whisper $url/health/ready: ready"
    else
        fail "hailo-whisper $url/health/ready: HTTP $HTTP_CODE $(body_excerpt)" \
            "(journalctl -u hailo-whisper)"
        return
    fi
    http GET "$url/v1/models"
    if ! { [ "$HTTP_CODE" = 200 ] && model=$(py_eval "$tmp/body" 'j["data"][0]["id"]'); }; then
        fail "hailo-whisper /v1/models: HTTP $HTTP_CODE $(body_excerpt)"
        return
    fi
    # One second of a 440 Hz tone at 16 kHz, made with the standard library only.
    "$PY" - "$tmp/tone.wav" <<'PYEOF'
import math, struct, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(16000)
    w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 16000)))
                           for i in range(16000)))
PYEOF
    HTTP_CODE=$(curl -sS -m 120 -o "$tmp/body" -w '%{http_code}' -F "file=@$tmp/tone.wav" \
        -F "model=$model" -F response_format=verbose_json \
        "$url/v1/audio/transcriptions" 2>"$tmp/curl.err") || HTTP_CODE=000
    [ "$HTTP_CODE" != 000 ] || cp "$tmp/curl.err" "$tmp/body"
    if [ "$HTTP_CODE" = 200 ] && out=$(py_eval "$tmp/body" \
        'isinstance(j["text"], str) and j["duration"] == 1.0 and "%d segment(s), text %r" % (
         len(j["segments"]), j["text"])'); then
        pass "hailo-whisper transcription ($model, 1 s tone): $out"
    else
        fail "hailo-whisper transcription: HTTP $HTTP_CODE $(body_excerpt)"
    fi
}
