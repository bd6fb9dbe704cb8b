#!/usr/bin/env bash
# uninstall.sh - stops, disables and removes what install.sh installed.
#
#   scripts/uninstall.sh [COMPONENT|all]... [--prefix P] [--root DIR]
#                        [--purge] [--dry-run]
#
# Removes the programs and units, and puts back the original Python stack's
# units install.sh replaced.  Configs in /etc/hailo, the users and groups and
# the models in /var/lib/hailo stay (a later install picks them up again)
# unless --purge is given; --purge removes only what install.sh made or
# changed (its record, lib/state.sh): the original stack's users, configs
# and model trees stay, with their groups and modes as they were.
set -euo pipefail
umask 022

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=uninstall.sh
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
# shellcheck source=lib/components.sh
. "$HERE/lib/components.sh"
# shellcheck source=lib/state.sh
. "$HERE/lib/state.sh"
# shellcheck source=lib/files.sh
. "$HERE/lib/files.sh"
# shellcheck source=lib/accounts.sh
. "$HERE/lib/accounts.sh"
# shellcheck source=lib/units.sh
. "$HERE/lib/units.sh"
# shellcheck source=lib/migrate.sh
. "$HERE/lib/migrate.sh"

usage() {
    cat <<EOF
Usage: scripts/uninstall.sh [${COMPONENT_ORDER[*]}|all]... [OPTIONS]

Stops, disables and removes the units and programs (default: all).  Run as root.

  --prefix P   where the programs were installed (default /usr/local)
  --root DIR   uninstall from a staged tree
  --purge      also remove configs, users, groups and models in /var/lib/hailo
               (only those install.sh made)
  --dry-run    print every action without doing it
  -h, --help   this help
EOF
}

PREFIX=/usr/local
PURGE=0
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; PREFIX=${2%/}; shift 2 ;;
        --prefix=*) PREFIX=${1#*=}; PREFIX=${PREFIX%/}; shift ;;
        --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift 2 ;;
        --root=*) ROOT=${1#*=}; shift ;;
        --purge) PURGE=1; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h | --help) usage; exit 0 ;;
        -*) usage >&2; die "unknown option '$1'" ;;
        *) args+=("$1"); shift ;;
    esac
done
parse_components "${args[@]+"${args[@]}"}"
if [ -n "$ROOT" ]; then
    [ -d "$ROOT" ] || die "--root $ROOT: no such directory"
    ROOT=$(cd "$ROOT" && pwd)
    [ "$ROOT" != / ] || ROOT=
fi
if [ "$(id -u)" != 0 ] && [ "$DRY_RUN" = 0 ]; then
    die "run as root (sudo scripts/uninstall.sh ...), or look first with --dry-run"
fi
load_accounts
SHARE_DIR=$ROOT$PREFIX/share/hailo-ai-services
STATE_FILE=$SHARE_DIR/changes.list

# Whether component $1's first unit is ours and installed.
installed() {
    local u=${COMP_UNITS[$1]%% *}
    our_unit "$ROOT$UNIT_DIR/$u"
}
service_installed() { installed "$1"; }

# The services need the manager: keep it while one of them stays.
if [[ " ${COMPONENTS[*]} " = *" manager "* ]]; then
    for s in $(services); do
        if [[ " ${COMPONENTS[*]} " != *" $s "* ]] && service_installed "$s"; then
            die "hailo-$s is still installed and needs the manager: uninstall it too" \
                "(scripts/uninstall.sh $s manager, or all)"
        fi
    done
fi

say "Uninstalling ${COMPONENTS[*]} from ${ROOT:-/}$([ "$PURGE" = 1 ] && echo ', with configs, users and models (--purge)')"

# Services before the manager they depend on.
order=()
for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    order+=("${COMPONENTS[i]}")
done

units_removed=0
for c in "${order[@]}"; do
    say "Component $c"
    read -ra units <<<"${COMP_UNITS[$c]}"
    # The service before its socket, so the socket does not start it again;
    # only ours (the original stack's units are not ours to stop).
    reversed=()
    for ((i = ${#units[@]} - 1; i >= 0; i--)); do
        ! our_unit "$ROOT$UNIT_DIR/${units[i]}" || reversed+=("${units[i]}")
    done
    disable_units "${reversed[@]+"${reversed[@]}"}"
    before=$CHANGES
    for u in "${units[@]}"; do
        # Only ours: a unit of the original stack (already put back) stays.
        if [ -e "$ROOT$UNIT_DIR/$u" ] && our_unit "$ROOT$UNIT_DIR/$u"; then
            remove_path "$ROOT$UNIT_DIR/$u"
        fi
        restore_original_unit "$u" "$SHARE_DIR/replaced"
    done
    [ "$CHANGES" = "$before" ] || units_removed=1
    read -ra bins <<<"${COMP_BINS[$c]}"
    for b in "${bins[@]}"; do
        remove_path "$ROOT$PREFIX/bin/$b"
    done
    conf=$ROOT$CONFIG_DIR/${COMP_CONFIG[$c]}
    if [ "$PURGE" = 1 ]; then
        if state_has foreign-config "$CONFIG_DIR/${COMP_CONFIG[$c]}"; then
            note "= kept $conf: the original service's, not ours"
        else
            remove_path "$conf"
        fi
        remove_path "$conf.dist" "${conf%.yaml}.env" "$SHARE_DIR/defaults/${COMP_CONFIG[$c]}"
        [ "$c" = manager ] || remove_path "$ROOT${COMP_STATE[$c]}"
        if created_user "${COMP_USER[$c]}" "${COMP_STATE[$c]}"; then
            remove_user "${COMP_USER[$c]}"
        elif [ -n "${ACCT_UID[${COMP_USER[$c]}]:-}" ]; then
            note "= kept user ${COMP_USER[$c]}: it was there before the install"
        fi
    elif [ -e "$conf" ]; then
        note "= kept $conf (--purge removes it)"
    fi
    if [ "$c" = manager ]; then
        remove_path "$ROOT$PREFIX/share/doc/hailo-ai-services" "$SHARE_DIR/dashboard"
    fi
done

# With nothing left installed, --purge also removes what they shared and
# undoes what the install changed of the original stack.
nothing_left=1
for c in "${COMPONENT_ORDER[@]}"; do
    ! installed "$c" || nothing_left=0
done
if [ "$PURGE" = 1 ] && [ "$nothing_left" = 1 ]; then
    say "Shared"
    unmigrate
    for c in "${COMPONENT_ORDER[@]}"; do
        ! created_user "${COMP_USER[$c]}" "${COMP_STATE[$c]}" || remove_user "${COMP_USER[$c]}"
    done
    for g in "$MODEL_GROUP" "$SOCKET_GROUP"; do
        if created_group "$g"; then
            remove_group "$g"
        elif [ -n "${ACCT_GID[$g]:-}" ]; then
            note "= kept group $g: it was there before the install"
        fi
    done
    remove_path "$ROOT$MODEL_ROOT" "$SHARE_DIR"
    if [ -d "$ROOT$CONFIG_DIR" ] && [ -z "$(ls -A "$ROOT$CONFIG_DIR")" ]; then
        remove_path "$ROOT$CONFIG_DIR"
    fi
fi

if [ "$units_removed" = 1 ] && systemd_running; then
    changed "reload systemd (units removed)"
    run systemctl daemon-reload
fi

say ""
if [ "$CHANGES" -eq 0 ]; then
    say "Nothing to remove: ${COMPONENTS[*]} not installed."
elif [ "$DRY_RUN" = 1 ]; then
    say "Dry run: $CHANGES actions would be taken; nothing was changed."
else
    say "Done: $CHANGES changes.$([ "$PURGE" = 1 ] || echo ' Configs, users and models were kept.')"
fi
