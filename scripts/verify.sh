#!/usr/bin/env bash
# verify.sh - checks a running stack end to end, one PASS/FAIL line per check.
#
#   scripts/verify.sh [COMPONENT|all]... [--socket P] [--NAME-url U]...
#                     [--devctl PATH] [--timeout S]
#
# Manager: the socket exists, answers ping, reports its status.  Each service:
# its health endpoint, then one real request (verify_NAME in
# lib/components/, e.g. clip: a small generated PNG against two prompts;
# vision: a one-token chat).  Every readiness check polls with backoff up to
# --timeout seconds: units report "started" before their socket or port
# answers, and a fixed sleep either wastes time or loses the race.
# Exit code 0 when every check passed, 1 otherwise, 2 for bad arguments.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=verify.sh
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
# shellcheck source=lib/components.sh
. "$HERE/lib/components.sh"

usage() {
    local c
    cat <<USAGE
Usage: scripts/verify.sh [${COMPONENT_ORDER[*]}|all]... [OPTIONS]

  --socket P       manager socket (default \$HAILO_DEVICE_SOCKET or /run/hailo/device.sock)
USAGE
    for c in $(services); do
        printf '  --%s-url U%*shailo-%s base URL (default http://127.0.0.1:%s)\n' "$c" \
            $((9 - ${#c})) "" "$c" "${COMP_PORT[$c]}"
    done
    cat <<USAGE
  --devctl PATH    hailo-devctl to use (default: on PATH, else /usr/local/bin)
  --timeout S      seconds to wait for each part to become ready (default 60)
  --config-dir D   installed configs, for the model-file permission check
                   (default /etc/hailo; the check runs as root only)
USAGE
}

SOCKET=${HAILO_DEVICE_SOCKET:-/run/hailo/device.sock}
declare -A URL=()
for c in $(services); do
    URL[$c]=http://127.0.0.1:${COMP_PORT[$c]}
done
DEVCTL=
TIMEOUT=60
CONF_DIR=/etc/hailo
PY=/usr/bin/python3
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --socket | --devctl | --timeout | --config-dir | --*-url)
            [ $# -ge 2 ] || { usage >&2; echo "$PROG: $1 needs a value" >&2; exit 2; }
            case "$1" in
                --socket) SOCKET=$2 ;;
                --devctl) DEVCTL=$2 ;;
                --timeout) TIMEOUT=$2 ;;
                --config-dir) CONF_DIR=$2 ;;
                *)
                    c=${1#--}
                    c=${c%-url}
                    if [ -z "${URL[$c]+set}" ]; then
                        usage >&2
                        echo "$PROG: unknown option '$1'" >&2
                        exit 2
                    fi
                    URL[$c]=${2%/}
                    ;;
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
# shellcheck disable=SC2317  # called from lib/components/*.sh
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
# shellcheck disable=SC2317  # called from lib/components/*.sh
http() {
    local data=()
    [ $# -lt 3 ] || data=(-H 'Content-Type: application/json' --data-binary "@$3")
    HTTP_CODE=$(curl -sS -m 30 -o "$tmp/body" -w '%{http_code}' -X "$1" "${data[@]}" "$2" \
        2>"$tmp/curl.err") || HTTP_CODE=000
    [ "$HTTP_CODE" != 000 ] || cp "$tmp/curl.err" "$tmp/body"
}
# shellcheck disable=SC2317  # called from lib/components/*.sh
body_excerpt() { head -c 300 "$tmp/body" | tr '\n' ' '; }

# Ready probes for poll: succeed once the thing answers as it should.
# shellcheck disable=SC2317  # called through poll
health_ok() {
    http GET "$1"
    [ "$HTTP_CODE" = 200 ] && py_eval "$tmp/body" "$2" >/dev/null
}
# shellcheck disable=SC2317  # called through poll
ping_ok() { "$DEVCTL" --socket "$SOCKET" ping >"$tmp/ping" 2>&1; }

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

for c in "${COMPONENTS[@]}"; do
    if [ "$c" != manager ] && ! command -v curl >/dev/null; then
        fail "curl is needed for the HTTP checks (apt-get install curl)"
        break
    fi
done
# The original Python services' models (lib/migrate.sh): as root, check that
# the manager's user can read every model file in their trees (by the modes,
# owners and groups of each file and the directories above it).
check_original_models() {
    local tree n bad path
    [ "$(id -u)" = 0 ] || return 0
    load_accounts
    [ -n "${ACCT_UID[hailo-dm]:-}" ] || return 0
    for tree in "${ORIGINAL_TREES[@]}"; do
        [ -d "$tree" ] || continue
        n=0 bad=()
        while IFS= read -r -d '' path; do
            n=$((n + 1))
            can_access hailo-dm "$path" r || bad+=("$path")
        done < <(find "$tree" -type f -name '*.hef' -print0)
        [ "$n" -gt 0 ] || continue
        if [ ${#bad[@]} = 0 ]; then
            pass "hailo-dm can read the $n model(s) in $tree"
        else
            fail "hailo-dm cannot read ${bad[*]}: run scripts/install.sh again (it gives the" \
                "manager the tree's group)"
        fi
    done
}

for c in "${COMPONENTS[@]}"; do
    if [ "$c" = manager ]; then
        verify_manager
        check_original_models
    else
        check_model_access "${COMP_CONFIG[$c]}" "${COMP_USER[$c]}"
        "verify_$c" "${URL[$c]}"
    fi
done

if [ "$FAILED" -eq 0 ]; then
    say "verify: all checks passed"
    exit 0
fi
say "verify: $FAILED check(s) FAILED"
exit 1
