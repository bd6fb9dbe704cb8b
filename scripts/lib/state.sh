# shellcheck shell=bash
# state.sh - the record of what install.sh changed outside its own files, so
# that uninstall.sh undoes that and only that: accounts it created, group
# memberships it added, group bits it added to (or groups it gave) model
# files of the original Python services, their units it replaced, their
# configs it found and kept.  One tab-separated record a line, system paths
# (without --root), written once: a second install adds nothing.
#   user NAME | group NAME | member GROUP USER | mode OLDMODE PATH |
#   chgrp OLDGID PATH | unit NAME enabled|disabled | foreign-config PATH
# Needs common.sh; the caller sets STATE_FILE (inside ROOT).

STATE_FILE=${STATE_FILE:-}

# Whether the record (its fields as arguments) is there.
state_has() {
    local line
    [ -n "$STATE_FILE" ] && [ -f "$STATE_FILE" ] || return 1
    printf -v line '%s\t' "$@"
    grep -Fxq -- "${line%$'\t'}" "$STATE_FILE"
}

# Adds a record unless it is there (nothing with --dry-run).
state_add() {
    local line
    [ -n "$STATE_FILE" ] && [ "$DRY_RUN" = 0 ] || return 0
    state_has "$@" && return 0
    printf -v line '%s\t' "$@"
    mkdir -p "$(dirname "$STATE_FILE")"
    printf '%s\n' "${line%$'\t'}" >>"$STATE_FILE"
}

# Prints the records of one kind, one a line, fields tab-separated.
state_list() {
    [ -n "$STATE_FILE" ] && [ -f "$STATE_FILE" ] || return 0
    awk -F '\t' -v k="$1" '$1 == k' "$STATE_FILE"
}
