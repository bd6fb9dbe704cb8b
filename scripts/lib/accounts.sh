# shellcheck shell=bash
# accounts.sh - system users and groups, created through the shadow tools
# (groupadd/useradd/usermod --root DIR for a staged install), never twice.
# Needs common.sh.

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
        return
    fi
    note "= user $name exists"
    if ! user_in_group "$name" "$extra"; then
        changed "add user $name to group $extra"
        shadow usermod --append --groups "$extra" "$name"
    fi
}

remove_user() {
    [ -n "${ACCT_UID[$1]:-}" ] || return 0
    changed "remove user $1"
    shadow userdel "$1"
}

remove_group() {
    [ -n "${ACCT_GID[$1]:-}" ] || return 0
    changed "remove group $1"
    shadow groupdel "$1"
}
