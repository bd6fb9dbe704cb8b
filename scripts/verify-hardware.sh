#!/usr/bin/env bash
# verify-hardware.sh - validates the stack on a real Raspberry Pi 5 with the
# AI HAT+ 2 (Hailo-10H) in a few minutes.
#
#   scripts/verify-hardware.sh [--build DIR] [--models DIR]... [--keep]
#
# Checks the driver (/dev/hailo0, the hailo1x_pci module) and the firmware
# (hailortcli fw-control identify), starts hailo-device-manager on the real
# device with --backend hailort on a temporary socket, then for every model
# file it recognises under the model directories (CLIP image+text, VLM,
# Whisper, OCR, depth, pose) loads it, runs one inference and unloads it,
# timing each step; with a VLM and CLIP, it also times CLIP alone and while
# the VLM writes a 200-token answer (the manager's two lanes on the chip).
# Prints a PASS/FAIL table and where to look on failure.
# It never touches the installed service: its manager has its own socket and
# no HTTP port (stop hailo-device-manager.service first if it holds the
# device outside the shared VDevice group).
#
# Exit: 0 when every check passed, 1 when one failed, 2 for bad arguments.
set -uo pipefail

PROG=verify-hardware.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)

usage() {
    cat <<EOF
Usage: scripts/$PROG [OPTIONS]

Checks a Raspberry Pi with a Hailo-10H: driver, firmware, the device manager
on the real device, then one load + inference per installed model.

  --build DIR       build directory holding bin/hailo-device-manager and
                    bin/hailo-devctl (default: $ROOT/build, else PATH)
  --models DIR      where to look for .hef files; repeatable (default:
                    /usr/local/hailo/resources /usr/share/hailo-models)
  --timeout S       seconds allowed per load or inference (default 300:
                    a first VLM load reads gigabytes)
  --backend NAME    hailort (default) or sim: rehearse the same steps on the
                    simulated Hailo-10H, skipping driver and firmware checks
  --sim-config F    simulator settings for --backend sim
  --keep            keep the temporary directory (logs) even when all passed
  -h, --help        this text

Environment: CLIP_TEXT_INPUT / CLIP_TEXT_OUTPUT name the CLIP text encoder's
layers when hailortcli cannot read them from the HEF.
EOF
}

BUILD=
MODEL_DIRS=()
TIMEOUT=300
BACKEND=hailort
SIM_CONFIG=
KEEP=0

while [ $# -gt 0 ]; do
    case "$1" in
    --build) BUILD=${2:?--build needs a directory}; shift 2 ;;
    --models) MODEL_DIRS+=("${2:?--models needs a directory}"); shift 2 ;;
    --timeout) TIMEOUT=${2:?--timeout needs seconds}; shift 2 ;;
    --backend) BACKEND=${2:?--backend needs hailort or sim}; shift 2 ;;
    --sim-config) SIM_CONFIG=${2:?--sim-config needs a file}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "$PROG: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$BACKEND" in hailort | sim) ;; *) echo "$PROG: --backend is hailort or sim" >&2; exit 2 ;; esac
case "$TIMEOUT" in '' | *[!0-9]*) echo "$PROG: --timeout wants whole seconds" >&2; exit 2 ;; esac
if [ ${#MODEL_DIRS[@]} -eq 0 ]; then
    MODEL_DIRS=(/usr/local/hailo/resources /usr/share/hailo-models)
fi

# ---- results ---------------------------------------------------------------
R_CHECK=()
R_RESULT=()
R_DETAIL=()
FAILED=0

record() { # check result detail
    R_CHECK+=("$1")
    R_RESULT+=("$2")
    R_DETAIL+=("$3")
    [ "$2" = FAIL ] && FAILED=1
    printf '  %-4s  %-34s %s\n' "$2" "$1" "$3"
}

now_ms() { date +%s%3N; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/verify-hardware.XXXXXX")
MANAGER_PID=

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [ -n "$MANAGER_PID" ] && kill -0 "$MANAGER_PID" 2>/dev/null; then
        kill -TERM "$MANAGER_PID" 2>/dev/null
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$MANAGER_PID" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$MANAGER_PID" 2>/dev/null
        wait "$MANAGER_PID" 2>/dev/null
    fi
    if [ "$FAILED" = 0 ] && [ "$KEEP" = 0 ]; then
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

echo "Hailo hardware check ($BACKEND backend), logs in $TMP"

# ---- driver and firmware ----------------------------------------------------------
echo "Device:"
if [ "$BACKEND" = sim ]; then
    record "driver" SKIP "simulated device"
    record "firmware" SKIP "simulated device"
else
    if [ -e /dev/hailo0 ]; then
        record "device node" PASS "/dev/hailo0"
    else
        record "device node" FAIL "/dev/hailo0 missing: is the AI HAT+ 2 seated and PCIe enabled?"
    fi
    if command -v lsmod >/dev/null 2>&1; then
        module=$(lsmod | awk '$1 == "hailo1x_pci" || $1 == "hailo_pci" {print $1; exit}')
        if [ -n "$module" ]; then
            record "driver module" PASS "$module loaded"
        else
            record "driver module" FAIL "no hailo1x_pci module: sudo apt install hailo-h10-all; reboot"
        fi
    fi
    if command -v hailortcli >/dev/null 2>&1; then
        hailortcli --version >"$TMP/hailortcli-version.txt" 2>&1
        record "HailoRT" PASS "$(head -n 1 "$TMP/hailortcli-version.txt")"
        if hailortcli fw-control identify >"$TMP/identify.txt" 2>&1; then
            fw=$(sed -n 's/^Firmware Version: *//p' "$TMP/identify.txt" | head -n 1)
            arch=$(sed -n 's/^Device Architecture: *//p' "$TMP/identify.txt" | head -n 1)
            record "firmware" PASS "${arch:-?} firmware ${fw:-?}"
        else
            record "firmware" FAIL "hailortcli fw-control identify failed: $(tail -n 1 "$TMP/identify.txt")"
        fi
    else
        record "firmware" FAIL "hailortcli not found: sudo apt install hailo-h10-all (or hailort)"
    fi
fi

# ---- programs -------------------------------------------------------------------------
find_prog() { # name
    if [ -n "$BUILD" ] && [ -x "$BUILD/bin/$1" ]; then
        echo "$BUILD/bin/$1"
    elif [ -z "$BUILD" ] && [ -x "$ROOT/build/bin/$1" ]; then
        echo "$ROOT/build/bin/$1"
    else
        command -v "$1"
    fi
}
MANAGER=$(find_prog hailo-device-manager)
DEVCTL=$(find_prog hailo-devctl)
if [ -z "$MANAGER" ] || [ -z "$DEVCTL" ]; then
    record "programs" FAIL "hailo-device-manager / hailo-devctl not found (make build, or --build DIR)"
    MANAGER=
fi

# ---- the manager on the device ------------------------------------------------------------
SOCKET="$TMP/device.sock"
devctl() { timeout "$((TIMEOUT + 10))" "$DEVCTL" --socket "$SOCKET" --timeout "$((TIMEOUT * 1000))" "$@"; }

dirs=$(IFS=:; echo "${MODEL_DIRS[*]}")
if [ -n "$MANAGER" ]; then
    echo "Manager:"
    args=(--socket "$SOCKET" --backend "$BACKEND" --http-bind off --log-level info)
    [ -n "$SIM_CONFIG" ] && args+=(--sim-config "$SIM_CONFIG")
    # HailoRT writes hailort.log into HAILORT_LOGGER_PATH: keep it with ours.
    HAILORT_LOGGER_PATH="$TMP" HAILO_DEVICE_MODEL_DIRS="$dirs" \
        "$MANAGER" "${args[@]}" >"$TMP/manager.log" 2>&1 &
    MANAGER_PID=$!
    t0=$(now_ms)
    up=0
    for _ in $(seq 1 120); do
        if ! kill -0 "$MANAGER_PID" 2>/dev/null; then
            break
        fi
        if "$DEVCTL" --socket "$SOCKET" --timeout 1000 ping >/dev/null 2>&1; then
            up=1
            break
        fi
        sleep 0.25
    done
    if [ "$up" = 1 ]; then
        record "manager start" PASS "$(($(now_ms) - t0)) ms, socket $SOCKET"
        if devctl status >"$TMP/status.txt" 2>&1; then
            record "device status" PASS "$(grep -m 1 -i 'device' "$TMP/status.txt" | tr -s ' ')"
        else
            record "device status" FAIL "$(tail -n 1 "$TMP/status.txt")"
        fi
    else
        record "manager start" FAIL "$(grep -m 1 -iE 'error|fatal|cannot|no hailo' "$TMP/manager.log" || tail -n 1 "$TMP/manager.log")"
        MANAGER=
    fi
fi

# ---- models ------------------------------------------------------------------------------
# Classifies a .hef by its file name; prints the model type or nothing.
classify() {
    local base
    base=$(basename "$1" | tr '[:upper:]' '[:lower:]')
    case "$base" in
    *clip*text*) echo clip_text ;;
    *clip*) echo clip_image ;;
    *whisper*) echo whisper ;;
    *ocr*det* | *paddle*det*) echo ocr_det ;;
    *ocr*rec* | *paddle*rec*) echo ocr_rec ;;
    *depth*) echo depth ;;
    *pose*) echo pose ;;
    *vlm* | *-vl-* | *_vl_* | *-vl.* | *_vl.* | *llava* | *internvl*) echo vlm ;;
    esac
}

# The first Input (or Output) of a HEF from hailortcli: "name HxWxF".
hef_stream() { # file Input|Output
    command -v hailortcli >/dev/null 2>&1 || return 1
    hailortcli parse-hef "$1" 2>/dev/null |
        awk -v kind="$2" '$1 == kind {
            name = $2; shape = $NF
            sub(/.*\(/, "", shape); sub(/\).*/, "", shape)
            print name, shape; exit }'
}

# The image shape a loaded model wants, "H,W,C", from the manager's own
# answer to a deliberately tiny image (no HEF parsing needed).
probe_shape() { # type path [infer args...]
    local type=$1 path=$2
    shift 2
    head -c 3 /dev/zero >"$TMP/probe.raw"
    devctl infer "$type" "$path" --tensor "$TMP/probe.raw" --dtype uint8 --shape 1,1,3 "$@" \
        >"$TMP/probe.txt" 2>&1
    grep -o 'expected[^[]*\[[0-9,]*\]' "$TMP/probe.txt" | head -n 1 | grep -o '\[[0-9,]*\]' |
        tr -d '[]' | awk -F, 'NF == 4 && $1 == 1 {print $2 "," $3 "," $4; exit} NF == 3 {print; exit}'
}

# Loads, runs one inference, unloads; one table row.
run_model() { # label type path params_json infer_args...
    local label=$1 type=$2 path=$3 params=$4 t0 load_ms infer_ms
    shift 4
    local load_args=("$type" "$path")
    [ -n "$params" ] && load_args+=(--params "$params")
    t0=$(now_ms)
    if ! devctl load "${load_args[@]}" >"$TMP/load.txt" 2>&1; then
        record "$label" FAIL "load: $(tail -n 1 "$TMP/load.txt")"
        return
    fi
    load_ms=$(($(now_ms) - t0))
    t0=$(now_ms)
    if ! devctl infer "$type" "$path" "$@" >"$TMP/infer.txt" 2>&1; then
        record "$label" FAIL "load $load_ms ms; infer: $(tail -n 1 "$TMP/infer.txt")"
        devctl unload "$type" "$path" >/dev/null 2>&1
        return
    fi
    infer_ms=$(($(now_ms) - t0))
    cat "$TMP/infer.txt" >>"$TMP/results.txt"
    if devctl unload "$type" "$path" >"$TMP/unload.txt" 2>&1; then
        record "$label" PASS "load $load_ms ms, infer $infer_ms ms"
    else
        record "$label" FAIL "load $load_ms ms, infer $infer_ms ms; unload: $(tail -n 1 "$TMP/unload.txt")"
    fi
}

# One uint8 image of the shape the model wants, then load/infer/unload.
run_image_model() { # label type path params_json [infer args...]
    local label=$1 type=$2 path=$3 params=$4 shape bytes
    shift 4
    if ! devctl load "$type" "$path" ${params:+--params "$params"} >"$TMP/load.txt" 2>&1; then
        record "$label" FAIL "load: $(tail -n 1 "$TMP/load.txt")"
        return
    fi
    shape=$(probe_shape "$type" "$path" "$@")
    devctl unload "$type" "$path" >/dev/null 2>&1
    if [ -z "$shape" ]; then
        record "$label" FAIL "cannot tell the input shape: $(tail -n 1 "$TMP/probe.txt")"
        return
    fi
    bytes=$(echo "$shape" | awk -F, '{print $1 * $2 * $3}')
    head -c "$bytes" /dev/urandom >"$TMP/image.raw"
    run_model "$label [$shape]" "$type" "$path" "$params" \
        --tensor "$TMP/image.raw" --dtype uint8 --shape "$shape" "$@"
}

HEFS=()
if [ -n "$MANAGER" ]; then
    for d in "${MODEL_DIRS[@]}"; do
        [ -d "$d" ] || continue
        while IFS= read -r -d '' f; do
            HEFS+=("$f")
        done < <(find "$d" -type f -name '*.hef' -print0 2>/dev/null | sort -z)
    done
    echo "Models (${#HEFS[@]} .hef files under ${MODEL_DIRS[*]}):"
    [ ${#HEFS[@]} -eq 0 ] && record "models" FAIL "no .hef files found; install models or pass --models DIR"
fi

clip_image=''
clip_text=''
ocr_det=''
ocr_rec=''
vlm_hef=''
tested=0
for f in "${HEFS[@]}"; do
    kind=$(classify "$f")
    case "$kind" in
    clip_image) [ -z "$clip_image" ] && clip_image=$f ;;
    clip_text) [ -z "$clip_text" ] && clip_text=$f ;;
    ocr_det) [ -z "$ocr_det" ] && ocr_det=$f ;;
    ocr_rec) [ -z "$ocr_rec" ] && ocr_rec=$f ;;
    vlm)
        tested=$((tested + 1))
        [ -z "$vlm_hef" ] && vlm_hef=$f
        run_model "vlm_chat $(basename "$f")" vlm_chat "$f" "" \
            --prompt "Say hello in five words." --max-tokens 16
        ;;
    whisper)
        tested=$((tested + 1))
        head -c 64000 /dev/zero >"$TMP/silence.raw" # 1 s of 16 kHz float32
        run_model "whisper $(basename "$f")" whisper "$f" "" \
            --tensor "$TMP/silence.raw" --dtype float32 --shape 16000
        ;;
    depth | pose)
        tested=$((tested + 1))
        run_image_model "$kind $(basename "$f")" "$kind" "$f" ""
        ;;
    esac
done

if [ -n "$clip_image" ] && [ -n "$clip_text" ]; then
    tested=$((tested + 1))
    read -r text_in text_shape < <(hef_stream "$clip_text" Input || true)
    read -r text_out _ < <(hef_stream "$clip_text" Output || true)
    text_in=${CLIP_TEXT_INPUT:-${text_in:-text_input}}
    text_out=${CLIP_TEXT_OUTPUT:-${text_out:-text_output}}
    params=$(printf '{"image_hef_path":"%s","text_hef_path":"%s","text_input_layer":"%s","text_output_layer":"%s"}' \
        "$clip_image" "$clip_text" "$text_in" "$text_out")
    run_image_model "clip image $(basename "$clip_image")" clip "$clip_image" "$params" --mode image
    # The text encoder takes token embeddings: float32, 1 x 77 x 512 for ViT-B.
    dims=$(echo "${text_shape:-1x77x512}" | tr 'x' ' ')
    read -r th tw tf <<<"$dims"
    if [ -z "${tf:-}" ]; then tf=$tw; tw=$th; th=1; fi
    head -c "$((th * tw * tf * 4))" /dev/zero >"$TMP/text.raw"
    run_model "clip text $(basename "$clip_text")" clip "$clip_image" "$params" \
        --mode text --tensor "$TMP/text.raw" --dtype float32 --shape "$th,$tw,$tf"
elif [ -n "$clip_image$clip_text" ]; then
    record "clip" FAIL "found only one of the CLIP image/text HEFs (${clip_image:-$clip_text})"
fi

# ---- CLIP while the VLM answers (the manager's two lanes, issue 16) -----------------------
# CLIP image latency alone and while the VLM writes a 200-token answer, and
# the VLM's tokens/s alone and meanwhile (completion tokens over the
# manager's inference time, prefill included).  Every request must succeed;
# the figures are for the report (each CLIP time includes starting
# hailo-devctl, alone and meanwhile alike).  Target (docs/SCHEDULING.md):
# CLIP p95 meanwhile <= max(3 x alone, alone + 250 ms).
percentile() { # file p: the p-th percentile of the numbers in file ("-" when none)
    sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        i = int(p / 100 * (NR - 1) + 0.5) + 1; print v[i] }'
}
json_number() { # name file: the first "name": number of a devctl --json answer
    sed -n "s/.*\"$1\":[[:space:]]*\([0-9.]*\).*/\1/p" "$2" | head -n 1
}
tokens_per_s() { # devctl --json answer file
    awk -v t="$(json_number completion_tokens "$1")" -v ms="$(json_number inference_time_ms "$1")" \
        'BEGIN { if (t > 0 && ms > 0) printf "%.1f", t * 1000 / ms; else print "-" }'
}
clip_during_vlm() { # vlm_hef clip_model clip_params_json
    local vlm=$1 clip=$2 params=$3 shape i n t0 label="clip during vlm"
    local prompt="Describe a busy city street at night in as much detail as you can."
    : >"$TMP/clip-alone.txt"
    : >"$TMP/clip-during.txt"
    rm -f "$TMP/vlm-during.done"
    if ! devctl load clip "$clip" --params "$params" >"$TMP/load.txt" 2>&1 ||
        ! devctl load vlm_chat "$vlm" >>"$TMP/load.txt" 2>&1; then
        record "$label" FAIL "load: $(tail -n 1 "$TMP/load.txt")"
        return
    fi
    shape=$(probe_shape clip "$clip" --mode image)
    if [ -z "$shape" ]; then
        record "$label" FAIL "cannot tell CLIP's input shape: $(tail -n 1 "$TMP/probe.txt")"
        return
    fi
    head -c "$(echo "$shape" | awk -F, '{print $1 * $2 * $3}')" /dev/urandom >"$TMP/clip.raw"
    clip_once() { # file: appends one CLIP image latency (ms)
        t0=$(now_ms)
        devctl infer clip "$clip" --tensor "$TMP/clip.raw" --dtype uint8 --shape "$shape" \
            --mode image >"$TMP/clip-once.txt" 2>&1 || return 1
        echo $(($(now_ms) - t0)) >>"$1"
    }
    for i in $(seq 1 20); do
        if ! clip_once "$TMP/clip-alone.txt"; then
            record "$label" FAIL "CLIP alone: $(tail -n 1 "$TMP/clip-once.txt")"
            return
        fi
    done
    if ! devctl --json infer vlm_chat "$vlm" --prompt "$prompt" --max-tokens 200 \
        >"$TMP/vlm-alone.json" 2>&1; then
        record "$label" FAIL "VLM alone: $(tail -n 1 "$TMP/vlm-alone.json")"
        return
    fi
    (
        devctl --json infer vlm_chat "$vlm" --prompt "$prompt" --max-tokens 200 \
            >"$TMP/vlm-during.json" 2>&1
        echo $? >"$TMP/vlm-during.done"
    ) &
    local answer=$!
    n=0
    while [ ! -e "$TMP/vlm-during.done" ] && [ "$n" -lt 2000 ]; do
        if ! clip_once "$TMP/clip-during.txt"; then
            wait "$answer"
            record "$label" FAIL "CLIP during the answer: $(tail -n 1 "$TMP/clip-once.txt")"
            return
        fi
        n=$((n + 1))
    done
    wait "$answer"
    if [ "$(cat "$TMP/vlm-during.done" 2>/dev/null)" != 0 ]; then
        record "$label" FAIL "VLM during CLIP: $(tail -n 1 "$TMP/vlm-during.json")"
        return
    fi
    devctl unload clip "$clip" >/dev/null 2>&1
    devctl unload vlm_chat "$vlm" >/dev/null 2>&1
    local a50 a95 d50 d95 verdict lanes
    a50=$(percentile "$TMP/clip-alone.txt" 50)
    a95=$(percentile "$TMP/clip-alone.txt" 95)
    d50=$(percentile "$TMP/clip-during.txt" 50)
    d95=$(percentile "$TMP/clip-during.txt" 95)
    verdict=$(awk -v a="$a95" -v d="$d95" 'BEGIN {
        if (d == "-") { print "no CLIP request overlapped the answer"; exit }
        b = 3 * a; if (a + 250 > b) b = a + 250
        printf "target p95 <= %d ms %s", b, (d <= b ? "met" : "MISSED") }')
    devctl --json status >"$TMP/status.json" 2>&1
    lanes=$(sed -n 's/.*"parallel_genai":[[:space:]]*\([a-z]*\).*/\1/p' "$TMP/status.json" | head -n 1)
    record "$label" PASS "CLIP p50/p95 alone ${a50}/${a95} ms, during ${d50}/${d95} ms ($(wc -l <"$TMP/clip-during.txt") requests; ${verdict}); VLM $(json_number completion_tokens "$TMP/vlm-during.json") tokens: $(tokens_per_s "$TMP/vlm-alone.json") tok/s alone, $(tokens_per_s "$TMP/vlm-during.json") during; parallel lanes: ${lanes:-?}"
}

if [ -n "$vlm_hef" ] && [ -n "$clip_image" ] && [ -n "$clip_text" ] && [ -n "$MANAGER" ]; then
    echo "Concurrency:"
    clip_during_vlm "$vlm_hef" "$clip_image" "$params"
fi

if [ -n "$ocr_det" ]; then
    tested=$((tested + 1))
    params=$(printf '{"detection_hef_path":"%s"' "$ocr_det")
    [ -n "$ocr_rec" ] && params+=$(printf ',"recognition_hefs":{"en":"%s"},"batch_sizes":{"en":8}' "$ocr_rec")
    params+='}'
    run_image_model "ocr detection $(basename "$ocr_det")" ocr "$ocr_det" "$params" --mode detection
fi

if [ -n "$MANAGER" ] && [ ${#HEFS[@]} -gt 0 ] && [ "$tested" = 0 ]; then
    record "models" FAIL "none of the .hef files is a model type this stack serves"
fi

# ---- summary ------------------------------------------------------------------------------
echo
printf '%-6s %-40s %s\n' RESULT CHECK DETAIL
printf '%-6s %-40s %s\n' ------ ----- ------
for i in "${!R_CHECK[@]}"; do
    printf '%-6s %-40s %s\n' "${R_RESULT[$i]}" "${R_CHECK[$i]}" "${R_DETAIL[$i]}"
done
echo
if [ "$FAILED" = 0 ]; then
    echo "PASS: every check passed."
    exit 0
fi
cat <<EOF
FAIL: see above.  Where to look:
  $TMP/manager.log      the manager's log (load/inference errors with HailoRT status names)
  $TMP/hailort.log      HailoRT's own log, when it wrote one
  sudo dmesg | grep -i hailo          driver and PCIe messages (firmware load, resets)
  hailortcli fw-control identify      is the device answering at all?
  hailortcli scan                     does HailoRT see the device?
  systemctl status hailo-device-manager   an installed manager holding the device
  docs/HARDWARE.md                    packages, model files and paths
EOF
exit 1
