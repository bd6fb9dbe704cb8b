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
declare -A ACCT_UID=() ACCT_PGID=() ACCT_HOME=() ACCT_GID=() ACCT_MEMBERS=() ACCT_GNAME=()
load_accounts() {
    local name id gid home members
    ACCT_UID=() ACCT_PGID=() ACCT_HOME=() ACCT_GID=() ACCT_MEMBERS=() ACCT_GNAME=()
    if [ -f "$ROOT/etc/passwd" ]; then
        while IFS=: read -r name _ id gid _ home _; do
            [ -n "$name" ] || continue
            ACCT_UID[$name]=$id
            ACCT_PGID[$name]=$gid
            ACCT_HOME[$name]=$home
        done <"$ROOT/etc/passwd"
    fi
    if [ -f "$ROOT/etc/group" ]; then
        while IFS=: read -r name _ gid members; do
            [ -n "$name" ] || continue
            ACCT_GID[$name]=$gid
            ACCT_MEMBERS[$name]=",$members,"
            [ -n "${ACCT_GNAME[$gid]:-}" ] || ACCT_GNAME[$gid]=$name
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

# The numeric groups of user $1 (primary first), space-separated, as
# initgroups gives them to a process started as that user.
user_gids() {
    local g out=${ACCT_PGID[$1]:-}
    for g in "${!ACCT_MEMBERS[@]}"; do
        [[ "${ACCT_MEMBERS[$g]}" != *",$1,"* ]] || out+=" ${ACCT_GID[$g]}"
    done
    printf '%s' "$out"
}

# can_access USER PATH WANT - whether USER could open PATH (inside ROOT) for
# WANT (r: read a file, rx: list a directory) going by the modes and owners
# of PATH and every directory above it, as the kernel checks them (no ACLs).
can_access() {
    local user=$1 path=$2 want=$3 uid=${ACCT_UID[$1]:-} gids p rest st
    [ -n "$uid" ] || return 1
    [ "$uid" != 0 ] || return 0
    gids=" $(user_gids "$user") "
    p=
    rest=${path#/}
    while :; do
        p+="/${rest%%/*}"
        [ "$rest" = "${rest#*/}" ] && rest= || rest=${rest#*/}
        st=$(stat -c '%u %g %a' "$ROOT$p" 2>/dev/null) || return 1
        if [ -n "$rest" ]; then
            mode_allows "$st" "$uid" "$gids" 1 || return 1
        else
            case "$want" in
                r) mode_allows "$st" "$uid" "$gids" 4 ;;
                *) mode_allows "$st" "$uid" "$gids" 5 ;;
            esac
            return
        fi
    done
}

# mode_allows "UID GID OCTALMODE" UID " GIDS " BITS - the owner, group or
# other class that applies to the user has every one of BITS (4 r, 1 x).
mode_allows() {
    local fuid fgid mode class
    read -r fuid fgid mode <<<"$1"
    mode=$((8#$mode))
    if [ "$fuid" = "$2" ]; then
        class=$(((mode >> 6) & 7))
    elif [[ "$3" = *" $fgid "* ]]; then
        class=$(((mode >> 3) & 7))
    else
        class=$((mode & 7))
    fi
    [ $((class & $4)) = "$4" ]
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

# Shared names (DESIGN.md, Deployment), used by the scripts that source this.
SOCKET_GROUP=hailo
MODEL_GROUP=hailo-models
MODEL_ROOT=/var/lib/hailo
CONFIG_DIR=/etc/hailo
UNIT_DIR=/etc/systemd/system
# Where the original Python services keep their models (the manager allows
# these by default; install.sh makes them readable to it, verify.sh checks).
ORIGINAL_TREES=(/var/lib/hailo-vision /var/lib/hailo-whisper /var/lib/hailo-ocr
    /var/lib/hailo-depth /var/lib/hailo-pose)
