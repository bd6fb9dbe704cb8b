#!/usr/bin/env bash
# verify.sh - checks a running stack end to end, one PASS/FAIL line per check.
#
#   scripts/verify.sh [manager|clip|vision|whisper|all]... [--socket P] [--clip-url U]
#                     [--vision-url U] [--whisper-url U] [--devctl PATH] [--timeout S]
#
# Manager: the socket exists, answers ping, reports its status.  Each service:
# /health, then one real request (clip: a small generated PNG against two
# prompts; vision: a one-token chat; whisper: a 1-s WAV transcribed).  Every readiness check polls with
# backoff up to --timeout seconds: units report "started" before their socket
# or port answers, and a fixed sleep either wastes time or loses the race.
# Exit code 0 when every check passed, 1 otherwise, 2 for bad arguments.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=verify.sh
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"

usage() {
    cat <<EOF
Usage: scripts/verify.sh [manager|clip|vision|whisper|all]... [OPTIONS]

  --socket P       manager socket (default \$HAILO_DEVICE_SOCKET or /run/hailo/device.sock)
  --clip-url U     hailo-clip base URL (default http://127.0.0.1:5000)
  --vision-url U   hailo-vision base URL (default http://127.0.0.1:11435)
  --whisper-url U  hailo-whisper base URL (default http://127.0.0.1:11437)
  --devctl PATH    hailo-devctl to use (default: on PATH, else /usr/local/bin)
  --timeout S      seconds to wait for each part to become ready (default 60)
  --config-dir D   installed configs, for the model-file permission check
                   (default /etc/hailo; the check runs as root only)
EOF
}

SOCKET=${HAILO_DEVICE_SOCKET:-/run/hailo/device.sock}
CLIP_URL=http://127.0.0.1:5000
VISION_URL=http://127.0.0.1:11435
WHISPER_URL=http://127.0.0.1:11437
DEVCTL=
TIMEOUT=60
CONF_DIR=/etc/hailo
PY=/usr/bin/python3
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --socket | --clip-url | --vision-url | --whisper-url | --devctl | --timeout | \
            --config-dir)
            [ $# -ge 2 ] || { usage >&2; echo "$PROG: $1 needs a value" >&2; exit 2; }
            case "$1" in
                --socket) SOCKET=$2 ;;
                --clip-url) CLIP_URL=${2%/} ;;
                --vision-url) VISION_URL=${2%/} ;;
                --whisper-url) WHISPER_URL=${2%/} ;;
                --devctl) DEVCTL=$2 ;;
                --timeout) TIMEOUT=$2 ;;
                --config-dir) CONF_DIR=$2 ;;
            esac
            shift 2 ;;
        -h | --help) usage; exit 0 ;;
        -*) usage >&2; echo "$PROG: unknown option '$1'" >&2; exit 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
case "$TIMEOUT" in '' | *[!0-9]*) echo "$PROG: --timeout must be whole seconds" >&2; exit 2 ;; esac
parse_components "${args[@]+"${args[@]}"}"

if [ -z "$DEVCTL" ]; then
    DEVCTL=$(command -v hailo-devctl || echo /usr/local/bin/hailo-devctl)
fi
[ -x "$PY" ] || PY=$(command -v python3 || echo /usr/bin/python3)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
FAILED=0
pass() { printf 'PASS  %s\n' "$*"; }
fail() {
    printf 'FAIL  %s\n' "$*"
    FAILED=$((FAILED + 1))
}

# py_eval FILE EXPR - evaluates a Python expression over the JSON in FILE
# (bound to j); prints its value and succeeds when it is true.
py_eval() {
    "$PY" - "$1" "$2" <<'EOF'
import json, sys
try:
    with open(sys.argv[1]) as f:
        j = json.load(f)
    v = eval("(" + sys.argv[2] + "\n)", {"j": j})
except Exception as e:  # a missing key or bad JSON is a failed check
    print(f"({type(e).__name__}: {e})")
    sys.exit(1)
if v is False or v is None:
    sys.exit(1)
if v is not True:
    print(v)
EOF
}

# http METHOD URL [BODY_FILE] - response body in $tmp/body, status in HTTP_CODE.
HTTP_CODE=000
http() {
    local data=()
    [ $# -lt 3 ] || data=(-H 'Content-Type: application/json' --data-binary "@$3")
    HTTP_CODE=$(curl -sS -m 30 -o "$tmp/body" -w '%{http_code}' -X "$1" "${data[@]}" "$2" \
        2>"$tmp/curl.err") || HTTP_CODE=000
    [ "$HTTP_CODE" != 000 ] || cp "$tmp/curl.err" "$tmp/body"
}
body_excerpt() { head -c 300 "$tmp/body" | tr '\n' ' '; }

# Ready probes for poll: succeed once the thing answers as it should.
# shellcheck disable=SC2317  # called through poll
health_ok() {
    http GET "$1"
    [ "$HTTP_CODE" = 200 ] && py_eval "$tmp/body" "$2" >/dev/null
}
# shellcheck disable=SC2317  # called through poll
ping_ok() { "$DEVCTL" --socket "$SOCKET" ping >"$tmp/ping" 2>&1; }

check_manager() {
    if poll "$TIMEOUT" test -S "$SOCKET"; then
        pass "socket $SOCKET exists"
    else
        fail "socket $SOCKET: not there after ${TIMEOUT}s (is hailo-device-manager.socket started?" \
            "systemctl status hailo-device-manager.socket)"
        return
    fi
    if [ ! -x "$DEVCTL" ]; then
        fail "hailo-devctl not found at $DEVCTL (use --devctl PATH)"
        return
    fi
    if poll "$TIMEOUT" ping_ok; then
        pass "manager answers ping: $(head -n1 "$tmp/ping")"
    else
        fail "manager does not answer ping on $SOCKET: $(head -n1 "$tmp/ping")" \
            "(journalctl -u hailo-device-manager)"
        return
    fi
    if "$DEVCTL" --socket "$SOCKET" --json status >"$tmp/status" 2>"$tmp/status.err"; then
        local summary
        summary=$(py_eval "$tmp/status" '"backend %s%s, device %s, %d models resident, %.0f of %.0f MiB used, %d waiting" % (
            j["backend"], " (simulated)" if j.get("simulated") else "", j["device_id"],
            len(j["loaded_models"]), j["memory"]["used_bytes"] / 2**20,
            j["memory"]["total_bytes"] / 2**20, j["queue_depth"])') || true
        pass "manager status: $summary"
    else
        fail "manager status: $(head -n1 "$tmp/status.err")"
    fi
}

check_clip() {
    if poll "$TIMEOUT" health_ok "$CLIP_URL/health" \
        'j["status"] == "healthy" and j["model_loaded"] is True'; then
        pass "hailo-clip $CLIP_URL/health: healthy, model $(py_eval "$tmp/body" 'j.get("model")')"
    else
        fail "hailo-clip $CLIP_URL/health: HTTP $HTTP_CODE $(body_excerpt)" \
            "(journalctl -u hailo-clip)"
        return
    fi
    # A 32x32 gradient PNG, made here with the standard library only.
    "$PY" - >"$tmp/classify.json" <<'EOF'
import base64, json, struct, zlib
w = h = 32
raw = b"".join(b"\0" + bytes(v for x in range(w) for v in (x * 8, y * 8, 128)) for y in range(h))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
print(json.dumps({"image": base64.b64encode(png).decode(),
                  "prompts": ["a photo of a cat", "a photo of a dog"], "top_k": 2}))
EOF
    http POST "$CLIP_URL/v1/classify" "$tmp/classify.json"
    local top
    if [ "$HTTP_CODE" = 200 ] && top=$(py_eval "$tmp/body" \
        'len(j["classifications"]) == 2 and "%s %.3f, in %.0f ms" % (j["classifications"][0]["text"],
            j["classifications"][0]["score"], j["inference_time_ms"])'); then
        pass "hailo-clip classify: top $top"
    else
        fail "hailo-clip classify: HTTP $HTTP_CODE $(body_excerpt)"
    fi
}

check_vision() {
    if poll "$TIMEOUT" health_ok "$VISION_URL/health/ready" 'j["ready"] is True'; then
        pass "hailo-vision $VISION_URL/health/ready: ready"
    else
        fail "hailo-vision $VISION_URL/health/ready: HTTP $HTTP_CODE $(body_excerpt)" \
            "(journalctl -u hailo-vision)"
        return
    fi
    http GET "$VISION_URL/v1/models"
    local model
    if ! { [ "$HTTP_CODE" = 200 ] && model=$(py_eval "$tmp/body" 'j["data"][0]["id"]'); }; then
        fail "hailo-vision /v1/models: HTTP $HTTP_CODE $(body_excerpt)"
        return
    fi
    printf '{"model": "%s", "max_tokens": 1, "messages": [{"role": "user", "content": "Say hi."}]}\n' \
        "$model" >"$tmp/chat.json"
    http POST "$VISION_URL/v1/chat/completions" "$tmp/chat.json"
    local out
    if [ "$HTTP_CODE" = 200 ] && out=$(py_eval "$tmp/body" \
        'j["object"] == "chat.completion" and isinstance(j["choices"][0]["message"]["content"], str)
         and j["usage"]["completion_tokens"] >= 1 and "%r, %d completion token(s)" % (
         j["choices"][0]["message"]["content"], j["usage"]["completion_tokens"])'); then
        pass "hailo-vision chat ($model): $out"
    else
        fail "hailo-vision chat: HTTP $HTTP_CODE $(body_excerpt)"
    fi
}

check_whisper() {
    if poll "$TIMEOUT" health_ok "$WHISPER_URL/health/ready" 'j["ready"] is True'; then
        pass "hailo-whisper $WHISPER_URL/health/ready: ready"
    else
        fail "hailo-whisper $WHISPER_URL/health/ready: HTTP $HTTP_CODE $(body_excerpt)" \
            "(journalctl -u hailo-whisper)"
        return
    fi
    http GET "$WHISPER_URL/v1/models"
    local model
    if ! { [ "$HTTP_CODE" = 200 ] && model=$(py_eval "$tmp/body" 'j["data"][0]["id"]'); }; then
        fail "hailo-whisper /v1/models: HTTP $HTTP_CODE $(body_excerpt)"
        return
    fi
    # One second of a 440 Hz tone at 16 kHz, made here with the standard library only.
    "$PY" - "$tmp/tone.wav" <<'EOF'
import math, struct, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(16000)
    w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 16000)))
                           for i in range(16000)))
EOF
    HTTP_CODE=$(curl -sS -m 120 -o "$tmp/body" -w '%{http_code}' -F "file=@$tmp/tone.wav" \
        -F "model=$model" -F response_format=verbose_json \
        "$WHISPER_URL/v1/audio/transcriptions" 2>"$tmp/curl.err") || HTTP_CODE=000
    [ "$HTTP_CODE" != 000 ] || cp "$tmp/curl.err" "$tmp/body"
    local out
    if [ "$HTTP_CODE" = 200 ] && out=$(py_eval "$tmp/body" \
        'isinstance(j["text"], str) and j["duration"] == 1.0 and "%d segment(s), text %r" % (
         len(j["segments"]), j["text"])'); then
        pass "hailo-whisper transcription ($model, 1 s tone): $out"
    else
        fail "hailo-whisper transcription: HTTP $HTTP_CODE $(body_excerpt)"
    fi
}

# The seed's HAILO_OPEN_FILE_FAILURE(13): the manager could not read a model a
# service pointed it at.  As root, check that each configured model file that
# exists is readable by the user that opens it.
check_model_access() {
    local conf=$1 svc_user=$2 key path reader
    [ "$(id -u)" = 0 ] && [ -r "$CONF_DIR/$conf" ] && command -v runuser >/dev/null || return 0
    [ -n "$(getent passwd hailo-dm)" ] && [ -n "$(getent passwd "$svc_user")" ] || return 0
    while read -r key path; do
        path=${path%\"}
        path=${path#\"}
        [ -e "$path" ] || continue
        case "$key" in *hef_path:) reader=hailo-dm ;; *) reader=$svc_user ;; esac
        if runuser -u "$reader" -- test -r "$path"; then
            pass "$reader can read $path"
        else
            fail "$reader cannot read $path ($(stat -c '%U:%G %a' "$path")); put it under" \
                "/var/lib/hailo (group hailo-models) or make it group/world readable"
        fi
    done < <(grep -E '^[[:space:]]+[a-z_]*_path:[[:space:]]*[^[:space:]]' "$CONF_DIR/$conf")
}

if ! command -v curl >/dev/null && [[ " ${COMPONENTS[*]} " = *" clip "* ||
    " ${COMPONENTS[*]} " = *" vision "* || " ${COMPONENTS[*]} " = *" whisper "* ]]; then
    fail "curl is needed for the HTTP checks (apt-get install curl)"
fi
for c in "${COMPONENTS[@]}"; do
    case "$c" in
        manager) check_manager ;;
        clip) check_model_access hailo-clip.yaml hailo-clip; check_clip ;;
        vision) check_model_access hailo-vision.yaml hailo-vision; check_vision ;;
        whisper) check_model_access hailo-whisper.yaml hailo-whisper; check_whisper ;;
    esac
done

if [ "$FAILED" -eq 0 ]; then
    say "verify: all checks passed"
    exit 0
fi
say "verify: $FAILED check(s) FAILED"
exit 1
