#!/usr/bin/env bash
# verify-hardware.sh - validates the stack on a real Raspberry Pi 5 with the
# AI HAT+ 2 (Hailo-10H) in a few minutes.
#
#   scripts/verify-hardware.sh [--build DIR] [--models DIR]... [--keep]
#
# Checks the driver (/dev/hailo0, the hailo1x_pci module), the firmware
# (hailortcli fw-control identify) and that library, firmware and driver
# versions agree, starts hailo-device-manager on the real device with
# --backend hailort on a temporary socket (under MALLOC_CHECK_=3, so memory
# HailoRT writes after it was freed shows), then for every model file it
# recognises under the model directories (CLIP image+text, VLM, Whisper,
# OCR, depth, pose) loads it, runs one inference and unloads it, timing each
# step.  Then the checks of issue 22 (scripts/lib/verify_hardware.py): VLM
# answers free of special tokens, max_tokens, stop strings, a short deadline
# then a normal request (and the same for an LLM), and the
# optimize_memory_on_device mode the manager logged for each; OCR
# recognition in batches; CLIP with timeout_ms=1 twenty times, then CLIP and
# depth; CLIP latency with and without status polling and while a 200-token
# VLM answer streams; the device status answered from the cache while the
# VLM generates; whisper translate with
# no language; a second process loading a GenAI model while the VLM is
# resident; output shapes against hailortcli parse-hef.  Prints a
# PASS/FAIL table and where to look on failure, and writes everything into
# one report file a Pi owner can paste into an issue.  It never touches the
# installed service: its managers have their own sockets and no HTTP port
# (stop hailo-device-manager.service first if it holds the device outside
# the shared VDevice group).
#
# Exit: 0 when every check passed (WARN rows included), 1 when one failed,
# 2 for bad arguments.
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
  --report FILE     where to write the report (default:
                    ./verify-hardware-report.txt)
  --quick           skip the longer checks (latency under load, second
                    process)
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
REPORT=$PWD/verify-hardware-report.txt
QUICK=0

while [ $# -gt 0 ]; do
    case "$1" in
    --build) BUILD=${2:?--build needs a directory}; shift 2 ;;
    --models)
        # The manager takes absolute model paths only.
        d=${2:?--models needs a directory}
        [ -d "$d" ] && d=$(cd "$d" && pwd)
        MODEL_DIRS+=("$d")
        shift 2
        ;;
    --timeout) TIMEOUT=${2:?--timeout needs seconds}; shift 2 ;;
    --backend) BACKEND=${2:?--backend needs hailort or sim}; shift 2 ;;
    --sim-config) SIM_CONFIG=${2:?--sim-config needs a file}; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --report) REPORT=${2:?--report needs a file}; shift 2 ;;
    --quick) QUICK=1; shift ;;
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

# Records the "RESULT<TAB>CHECK<TAB>DETAIL" lines of a verify_hardware.py step.
HELPER="$HERE/lib/verify_hardware.py"
helper() { # step args...
    local result check detail out
    if ! command -v python3 >/dev/null 2>&1; then
        record "$1" SKIP "python3 not found (the protocol-level checks need it)"
        return
    fi
    out=$(python3 "$HELPER" --socket "$SOCKET" --timeout "$TIMEOUT" "$@" 2>"$TMP/helper.err")
    [ -s "$TMP/helper.err" ] && cat "$TMP/helper.err" >>"$TMP/helper.log"
    if [ -z "$out" ]; then
        record "$1" FAIL "no result: $(tail -n 1 "$TMP/helper.err")"
        return
    fi
    while IFS=$'\t' read -r result check detail; do
        record "$check" "$result" "$detail"
    done <<<"$out"
}

now_ms() { date +%s%3N; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/verify-hardware.XXXXXX")
MANAGER_PID=

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [ -n "${SECOND_PID:-}" ] && kill -0 "$SECOND_PID" 2>/dev/null; then
        kill -TERM "$SECOND_PID" 2>/dev/null
        wait "$SECOND_PID" 2>/dev/null
    fi
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
    lib_v='' fw_v='' drv_v=''
    if command -v hailortcli >/dev/null 2>&1; then
        hailortcli --version >"$TMP/hailortcli-version.txt" 2>&1
        lib_v=$(grep -o '[0-9]\+\.[0-9]\+\.[0-9]\+' "$TMP/hailortcli-version.txt" | head -n 1)
        record "HailoRT" PASS "$(head -n 1 "$TMP/hailortcli-version.txt")"
        if hailortcli fw-control identify >"$TMP/identify.txt" 2>&1; then
            fw=$(sed -n 's/^Firmware Version: *//p' "$TMP/identify.txt" | head -n 1)
            arch=$(sed -n 's/^Device Architecture: *//p' "$TMP/identify.txt" | head -n 1)
            fw_v=$(echo "$fw" | grep -o '[0-9]\+\.[0-9]\+\.[0-9]\+' | head -n 1)
            record "firmware" PASS "${arch:-?} firmware ${fw:-?}"
        else
            record "firmware" FAIL "hailortcli fw-control identify failed: $(tail -n 1 "$TMP/identify.txt")"
        fi
    else
        record "firmware" FAIL "hailortcli not found: sudo apt install hailo-h10-all (or hailort)"
    fi
    for m in hailo1x_pci hailo_pci; do
        if [ -r "/sys/module/$m/version" ]; then
            drv_v=$(cat "/sys/module/$m/version")
            break
        fi
        drv_v=$(modinfo -F version "$m" 2>/dev/null || true)
        [ -n "$drv_v" ] && break
    done
    versions="library ${lib_v:-?}, firmware ${fw_v:-?}, driver ${drv_v:-?}"
    mm() { echo "$1" | cut -d. -f1,2; }
    if [ -z "$lib_v" ] || [ -z "$fw_v" ] || [ -z "$drv_v" ]; then
        record "versions" WARN "$versions (not all known)"
    elif [ "$(mm "$lib_v")" != "$(mm "$fw_v")" ] || [ "$(mm "$lib_v")" != "$(mm "$drv_v")" ]; then
        record "versions" WARN "$versions: they differ (install matching hailo-h10-all packages)"
    else
        record "versions" PASS "$versions"
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
    # glibc's malloc checks (and, since glibc 2.34, its debug library) make a
    # late write into freed memory abort the manager instead of passing.
    preload=
    for lib in /usr/lib/*/libc_malloc_debug.so.0 /lib/*/libc_malloc_debug.so.0; do
        if [ -f "$lib" ]; then
            preload=$lib
            break
        fi
    done
    env HAILORT_LOGGER_PATH="$TMP" HAILO_DEVICE_MODEL_DIRS="$dirs" MALLOC_CHECK_=3 \
        MALLOC_PERTURB_=165 ${preload:+LD_PRELOAD="$preload"} \
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
    *qwen* | *llama* | *deepseek* | *phi-* | *gemma* | *instruct*) echo llm ;;
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
vlm_path=''
llm_path=''
whisper_path=''
depth_path=''
pose_path=''
clip_params=''
ocr_params=''
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
        [ -z "$vlm_path" ] && vlm_path=$f
        run_model "vlm_chat $(basename "$f")" vlm_chat "$f" "" \
            --prompt "Say hello in five words." --max-tokens 16
        ;;
    llm)
        tested=$((tested + 1))
        [ -z "$llm_path" ] && llm_path=$f
        run_model "llm $(basename "$f")" llm "$f" "" \
            --input '{"messages":[{"role":"user","content":"Say hello in five words."}]}' \
            --max-tokens 16
        ;;
    whisper)
        tested=$((tested + 1))
        [ -z "$whisper_path" ] && whisper_path=$f
        head -c 64000 /dev/zero >"$TMP/silence.raw" # 1 s of 16 kHz float32
        run_model "whisper $(basename "$f")" whisper "$f" "" \
            --tensor "$TMP/silence.raw" --dtype float32 --shape 16000
        ;;
    depth | pose)
        tested=$((tested + 1))
        [ "$kind" = depth ] && [ -z "$depth_path" ] && depth_path=$f
        [ "$kind" = pose ] && [ -z "$pose_path" ] && pose_path=$f
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
    clip_params=$params
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

if [ -n "$ocr_det" ]; then
    tested=$((tested + 1))
    params=$(printf '{"detection_hef_path":"%s"' "$ocr_det")
    [ -n "$ocr_rec" ] && params+=$(printf ',"recognition_hefs":{"en":"%s"},"batch_sizes":{"en":8}' "$ocr_rec")
    params+='}'
    ocr_params=$params
    run_image_model "ocr detection $(basename "$ocr_det")" ocr "$ocr_det" "$params" --mode detection
fi

if [ -n "$MANAGER" ] && [ ${#HEFS[@]} -gt 0 ] && [ "$tested" = 0 ]; then
    record "models" FAIL "none of the .hef files is a model type this stack serves"
fi

# ---- issue 22: what the real chip does differently ----------------------------------------
# Each step prints its own rows (scripts/lib/verify_hardware.py).

# The optimize_memory_on_device mode a GenAI model was loaded with, as the
# manager logged it (HailoRT refuses "on" unless libhailort was built with
# its client tokenizer; the backend then falls back to "off" and says why).
genai_mode() { # label path
    local check="$1 optimize_memory_on_device" mode refused
    if [ "$BACKEND" = sim ]; then
        record "$check" SKIP "simulated device (HailoRT's GenAI only)"
        return
    fi
    mode=$(grep -F "$(basename "$2")" "$TMP/manager.log" |
        grep -o 'optimize_memory_on_device o[nf]*f* ([^)]*)' | tail -n 1)
    refused=$(grep -F "$(basename "$2")" "$TMP/manager.log" |
        grep -o 'optimize_memory_on_device refused by HailoRT ([A-Z_]*)' | tail -n 1)
    if [ -n "$mode" ]; then
        record "$check" PASS "${mode#optimize_memory_on_device }${refused:+; asked for on: ${refused#optimize_memory_on_device }}"
    else
        record "$check" WARN "the manager's log does not say (the model may not have loaded)"
    fi
}
SECOND_PID=
if [ -n "$MANAGER" ] && [ ${#HEFS[@]} -gt 0 ]; then
    echo "Behaviour (issue 22):"
    if [ -n "$vlm_path" ]; then
        helper vlm "$vlm_path"
        genai_mode vlm "$vlm_path"
    fi
    if [ -n "$llm_path" ]; then
        helper llm "$llm_path"
        genai_mode llm "$llm_path"
    fi
    if [ -n "$ocr_rec" ]; then
        helper ocr "$ocr_det" "$ocr_params"
    fi
    if [ -n "$clip_params" ]; then
        helper clip-timeouts "$clip_image" "$clip_params" ${depth_path:+--depth "$depth_path"}
        [ "$QUICK" = 1 ] || helper clip-latency "$clip_image" "$clip_params"
        if [ -n "$vlm_path" ] && [ "$QUICK" = 0 ]; then
            helper clip-during-vlm "$clip_image" "$clip_params" "$vlm_path"
        fi
    fi
    if [ -n "$whisper_path" ]; then
        helper whisper-translate "$whisper_path"
    fi
    # A second HailoRT process asking for the KV cache the VLM holds.
    if [ -n "$vlm_path" ] && [ "$QUICK" = 0 ]; then
        if [ "$BACKEND" = sim ]; then
            record "second process loads a GenAI model" SKIP \
                "needs the chip (each simulated manager has its own KV cache)"
        else
            devctl load vlm_chat "$vlm_path" --keep-alive -1 >"$TMP/pin.txt" 2>&1
            SECOND_SOCKET="$TMP/second.sock"
            env HAILORT_LOGGER_PATH="$TMP" HAILO_DEVICE_MODEL_DIRS="$dirs" \
                "$MANAGER" --socket "$SECOND_SOCKET" --backend hailort --http-bind off \
                --log-level info >"$TMP/second-manager.log" 2>&1 &
            SECOND_PID=$!
            for _ in $(seq 1 120); do
                "$DEVCTL" --socket "$SECOND_SOCKET" --timeout 1000 ping >/dev/null 2>&1 && break
                kill -0 "$SECOND_PID" 2>/dev/null || break
                sleep 0.25
            done
            helper genai-busy "$SECOND_SOCKET" "$vlm_path"
            kill -TERM "$SECOND_PID" 2>/dev/null
            wait "$SECOND_PID" 2>/dev/null
            SECOND_PID=
            devctl unload vlm_chat "$vlm_path" >/dev/null 2>&1
        fi
    fi
    # Output shapes against what HailoRT itself says of the HEFs.
    if command -v hailortcli >/dev/null 2>&1; then
        for spec in "depth:$depth_path:" "pose:$pose_path:" "clip:$clip_image:$clip_params" \
            "ocr:$ocr_det:$ocr_params"; do
            type=${spec%%:*}
            rest=${spec#*:}
            path=${rest%%:*}
            params=${rest#*:}
            [ -n "$path" ] || continue
            if hailortcli parse-hef "$path" >"$TMP/parse-hef.txt" 2>&1; then
                helper shapes "$type" "$path" "$TMP/parse-hef.txt" ${params:+--params "$params"}
            else
                record "shapes $(basename "$path")" FAIL "hailortcli parse-hef failed: $(tail -n 1 "$TMP/parse-hef.txt")"
            fi
        done
    else
        record "shapes against parse-hef" SKIP "hailortcli not found"
    fi
    if grep -q 'AddressSanitizer\|malloc(): \|free(): \|double free\|corrupted' "$TMP/manager.log"; then
        record "memory checks" FAIL "glibc or a sanitizer reported memory corruption: see manager.log"
    elif kill -0 "$MANAGER_PID" 2>/dev/null; then
        record "memory checks" PASS "the manager ran every check under MALLOC_CHECK_=3 and is alive"
    else
        record "memory checks" FAIL "the manager died: $(tail -n 1 "$TMP/manager.log")"
    fi
fi

# ---- summary ------------------------------------------------------------------------------
summary() {
    printf '%-6s %-40s %s\n' RESULT CHECK DETAIL
    printf '%-6s %-40s %s\n' ------ ----- ------
    for i in "${!R_CHECK[@]}"; do
        printf '%-6s %-40s %s\n' "${R_RESULT[$i]}" "${R_CHECK[$i]}" "${R_DETAIL[$i]}"
    done
}
echo
summary

# One text file to paste into an issue: the table, the versions, the logs' ends.
{
    echo "# verify-hardware report ($(date -u '+%Y-%m-%d %H:%M:%S UTC'), $BACKEND backend)"
    echo
    echo '```'
    summary
    echo '```'
    echo
    echo "## System"
    echo '```'
    uname -a
    [ -r /proc/device-tree/model ] && tr -d '\0' </proc/device-tree/model && echo
    [ -r /etc/os-release ] && grep -E '^(PRETTY_NAME|VERSION_CODENAME)=' /etc/os-release
    cat "$TMP/hailortcli-version.txt" 2>/dev/null
    cat "$TMP/identify.txt" 2>/dev/null
    command -v dpkg-query >/dev/null 2>&1 &&
        dpkg-query -W -f '${Package} ${Version}\n' 'hailo*' 2>/dev/null
    echo '```'
    for log in manager.log second-manager.log helper.log hailort.log; do
        [ -s "$TMP/$log" ] || continue
        echo
        echo "## $log (last 150 lines)"
        echo '```'
        tail -n 150 "$TMP/$log"
        echo '```'
    done
    if dmesg >/dev/null 2>&1; then
        echo
        echo "## dmesg | grep -i hailo (last 40 lines)"
        echo '```'
        dmesg | grep -i hailo | tail -n 40
        echo '```'
    fi
} >"$REPORT" 2>/dev/null || echo "$PROG: cannot write the report to $REPORT" >&2
echo
[ -s "$REPORT" ] && echo "Report: $REPORT (paste it into an issue)"
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
