# shellcheck shell=bash
# accounts.sh - system users and groups, created through the shadow tools
# (groupadd/useradd/usermod --root DIR for a staged install), never twice.
# What they create or add is recorded (state.sh) for uninstall.sh.
# Needs common.sh and state.sh.

# Extra arguments that point the shadow tools at the target root.
shadow_args() {
    SHADOW_ARGS=()
    [ -z "$ROOT" ] || SHADOW_ARGS=(--root "$ROOT")
}

# Runs a shadow tool on the target root, then reads the accounts again.
shadow() {
    shadow_args
    local tool=$1
    shift
    run "$tool" "${SHADOW_ARGS[@]}" "$@"
    [ "$DRY_RUN" = 1 ] || load_accounts
}

# Fails early with a clear message when a staged root cannot take accounts.
check_account_db() {
    local f
    for f in /etc/passwd /etc/group; do
        [ -f "$ROOT$f" ] || die "$ROOT$f is missing: --root needs a root tree with" \
            "at least /etc/passwd and /etc/group (the shadow tools edit them)"
    done
}

ensure_group() {
    local name=$1
    if [ -n "${ACCT_GID[$name]:-}" ]; then
        note "= group $name exists"
        return
    fi
    changed "create system group $name"
    shadow groupadd --system "$name"
    state_add group "$name"
}

# add_to_group USER GROUP WHY - adds USER to GROUP (supplementary) unless it
# is in it already; WHY ends the message.
add_to_group() {
    user_in_group "$1" "$2" && return 0
    changed "add user $1 to group $2${3:+ ($3)}"
    shadow usermod --append --groups "$2" "$1"
    state_add member "$2" "$1"
}

# ensure_user NAME PRIMARY_GROUP SUPPLEMENTARY_GROUP HOME COMMENT
ensure_user() {
    local name=$1 primary=$2 extra=$3 home=$4 comment=$5
    if [ -z "${ACCT_UID[$name]:-}" ]; then
        changed "create system user $name (group $primary, also in $extra)"
        # The users only run daemons: no login shell, no home created here
        # (install.sh makes the directory with the right group and mode).
        shadow useradd --system --no-create-home --home-dir "$home" \
            --shell /usr/sbin/nologin --gid "$primary" --groups "$extra" \
            --comment "$comment" "$name"
        state_add user "$name"
        return
    fi
    note "= user $name exists"
    add_to_group "$name" "$extra"
}

# Whether uninstall --purge may delete user $1: this installer created it
# (recorded), or, on an install from before the record, its home is the
# component's directory $2.  An existing user (the original Python
# service's hailo-clip or hailo-vision) is never deleted.
created_user() {
    [ -n "${ACCT_UID[$1]:-}" ] || return 1
    if [ -n "$STATE_FILE" ] && [ -f "$STATE_FILE" ]; then
        state_has user "$1"
    else
        [ "${ACCT_HOME[$1]:-}" = "$2" ]
    fi
}

# The same for group $1 (an install from before the record created both).
created_group() {
    [ -n "${ACCT_GID[$1]:-}" ] || return 1
    if [ -n "$STATE_FILE" ] && [ -f "$STATE_FILE" ]; then
        state_has group "$1"
    else
        return 0
    fi
}

remove_user() {
    [ -n "${ACCT_UID[$1]:-}" ] || return 0
    changed "remove user $1"
    shadow userdel "$1"
}

# remove_from_group USER GROUP - undoes add_to_group.
remove_from_group() {
    [ -n "${ACCT_UID[$1]:-}" ] && [ -n "${ACCT_GID[$2]:-}" ] || return 0
    [[ "${ACCT_MEMBERS[$2]}" = *",$1,"* ]] || return 0
    changed "remove user $1 from group $2"
    shadow usermod --remove --groups "$2" "$1"
}

remove_group() {
    [ -n "${ACCT_GID[$1]:-}" ] || return 0
    changed "remove group $1"
    shadow groupdel "$1"
}
