# shellcheck shell=bash disable=SC2034  # variables here are used by the sourcing scripts
# common.sh - messages, dry-run, polling with backoff and lookups inside a
# (possibly staged) root, shared by install.sh, uninstall.sh and verify.sh.
#
# Callers set, before using these helpers:
#   ROOT     target root directory, "" for the running system (--root DIR)
#   DRY_RUN  1 to print actions instead of doing them
#   CHANGES  counter of actions that changed something (starts at 0)

PROG=${PROG:-$(basename "$0")}
ROOT=${ROOT:-}
DRY_RUN=${DRY_RUN:-0}
CHANGES=${CHANGES:-0}

# One line per action: "  + added", "  ~ changed", "  - removed", "  = unchanged".
say() { printf '%s\n' "$*"; }
note() { printf '  %s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

# Counts a change and reports it (the word says what happened).
changed() {
    CHANGES=$((CHANGES + 1))
    if [ "$DRY_RUN" = 1 ]; then
        printf '  [dry-run] would %s\n' "$*"
    else
        printf '  %s\n' "$*"
    fi
}

# Runs a command, or only prints it with --dry-run.
run() {
    if [ "$DRY_RUN" = 1 ]; then
        printf '  [dry-run] %s\n' "$*"
        return 0
    fi
    "$@"
}

# The path of an absolute system path inside ROOT.
rpath() { printf '%s%s' "$ROOT" "$1"; }

# The target root's accounts, read once (and again after each change) with
# bash builtins only: staged installs never consult the host's databases, and
# no lookup forks a process.
declare -A ACCT_UID=() ACCT_PGID=() ACCT_GID=() ACCT_MEMBERS=()
load_accounts() {
    local name id gid rest members
    ACCT_UID=() ACCT_PGID=() ACCT_GID=() ACCT_MEMBERS=()
    if [ -f "$ROOT/etc/passwd" ]; then
        while IFS=: read -r name _ id gid rest; do
            [ -n "$name" ] || continue
            ACCT_UID[$name]=$id
            ACCT_PGID[$name]=$gid
        done <"$ROOT/etc/passwd"
    fi
    if [ -f "$ROOT/etc/group" ]; then
        while IFS=: read -r name _ gid members; do
            [ -n "$name" ] || continue
            ACCT_GID[$name]=$gid
            ACCT_MEMBERS[$name]=",$members,"
        done <"$ROOT/etc/group"
    fi
}
uid_of() { printf '%s' "${ACCT_UID[$1]:-}"; }
gid_of() { printf '%s' "${ACCT_GID[$1]:-}"; }

# Whether user $1 is in group $2 (as primary or supplementary group).
user_in_group() {
    local gid=${ACCT_GID[$2]:-}
    [ -n "$gid" ] || return 1
    [ "${ACCT_PGID[$1]:-}" = "$gid" ] && return 0
    [[ "${ACCT_MEMBERS[$2]}" = *",$1,"* ]]
}

# Sets OWNER_IDS to "uid:gid" for chown from names in the target root (the
# names themselves during a dry run, when the accounts may not exist yet).
owner_ids() {
    local u=${ACCT_UID[$1]:-} g=${ACCT_GID[$2]:-}
    if [ -z "$u" ] || [ -z "$g" ]; then
        [ "$DRY_RUN" = 1 ] || die "user '$1' or group '$2' missing in $ROOT/etc/passwd"
        OWNER_IDS="$1:$2"
        return
    fi
    OWNER_IDS="$u:$g"
}

# Whether systemd runs this system (and so can start units now).
systemd_running() { [ -z "$ROOT" ] && [ -d /run/systemd/system ]; }

# Monotonic-enough time in milliseconds (bash 5's EPOCHREALTIME).
now_ms() {
    local t=${EPOCHREALTIME/[.,]/}
    printf '%s' $((t / 1000))
}

# poll TIMEOUT_S CMD... - runs CMD until it succeeds, waiting 0.1 s, 0.2 s,
# 0.4 s ... (at most 2 s) between tries, for at most TIMEOUT_S seconds.  This
# replaces fixed sleeps after "systemctl start": a unit reports started before
# its socket or port answers, so the only race-free check is to retry.
poll() {
    local timeout_ms=$(($1 * 1000)) delay_ms=100 start
    shift
    start=$(now_ms)
    while :; do
        if "$@"; then
            return 0
        fi
        if [ $(($(now_ms) - start + delay_ms)) -gt "$timeout_ms" ]; then
            # One last try at the deadline.
            "$@"
            return
        fi
        sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
        delay_ms=$((delay_ms * 2))
        [ "$delay_ms" -le 2000 ] || delay_ms=2000
    done
}

# The components named on a command line, expanded and in install order.
# Usage: parse_components ARG... ; result in COMPONENTS (array).
parse_components() {
    local want_manager=0 want_clip=0 want_vision=0 want_whisper=0 c
    [ $# -gt 0 ] || set -- all
    for c in "$@"; do
        case "$c" in
            manager) want_manager=1 ;;
            clip) want_clip=1 ;;
            vision) want_vision=1 ;;
            whisper) want_whisper=1 ;;
            all) want_manager=1 want_clip=1 want_vision=1 want_whisper=1 ;;
            *) die "unknown component '$c' (manager, clip, vision, whisper or all)" ;;
        esac
    done
    COMPONENTS=()
    [ "$want_manager" = 0 ] || COMPONENTS+=(manager)
    [ "$want_clip" = 0 ] || COMPONENTS+=(clip)
    [ "$want_vision" = 0 ] || COMPONENTS+=(vision)
    [ "$want_whisper" = 0 ] || COMPONENTS+=(whisper)
}

# Component table: programs, units, config file, user; the directory a
# service keeps fetched models in (the manager's is their parent).
declare -A COMP_BINS=([manager]="hailo-device-manager hailo-devctl" [clip]=hailo-clip
    [vision]=hailo-vision)
declare -A COMP_UNITS=([manager]="hailo-device-manager.socket hailo-device-manager.service"
    [clip]=hailo-clip.service [vision]=hailo-vision.service)
declare -A COMP_CONFIG=([manager]=hailo-device-manager.yaml [clip]=hailo-clip.yaml
    [vision]=hailo-vision.yaml)
declare -A COMP_USER=([manager]=hailo-dm [clip]=hailo-clip [vision]=hailo-vision)
declare -A COMP_STATE=([manager]=/var/lib/hailo [clip]=/var/lib/hailo/clip
    [vision]=/var/lib/hailo/vision)
# hailo-whisper (speech to text, port 11437).
COMP_BINS[whisper]=hailo-whisper
COMP_UNITS[whisper]=hailo-whisper.service
COMP_CONFIG[whisper]=hailo-whisper.yaml
COMP_USER[whisper]=hailo-whisper
COMP_STATE[whisper]=/var/lib/hailo/whisper

# Shared names (DESIGN.md, Deployment), used by the scripts that source this.
SOCKET_GROUP=hailo
MODEL_GROUP=hailo-models
MODEL_ROOT=/var/lib/hailo
CONFIG_DIR=/etc/hailo
UNIT_DIR=/etc/systemd/system
