#!/usr/bin/env bash
# uninstall.sh - stops, disables and removes what install.sh installed.
#
#   scripts/uninstall.sh [manager|clip|vision|whisper|all]... [--prefix P] [--root DIR]
#                        [--purge] [--dry-run]
#
# Removes the programs and units.  Configs in /etc/hailo, the users and groups
# and the models in /var/lib/hailo stay (a later install picks them up again)
# unless --purge is given.
set -euo pipefail
umask 022

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=uninstall.sh
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
# shellcheck source=lib/files.sh
. "$HERE/lib/files.sh"
# shellcheck source=lib/accounts.sh
. "$HERE/lib/accounts.sh"
# shellcheck source=lib/units.sh
. "$HERE/lib/units.sh"

usage() {
    cat <<EOF
Usage: scripts/uninstall.sh [manager|clip|vision|whisper|all]... [OPTIONS]

Stops, disables and removes the units and programs (default: all).  Run as root.

  --prefix P   where the programs were installed (default /usr/local)
  --root DIR   uninstall from a staged tree
  --purge      also remove configs, users, groups and models in /var/lib/hailo
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

service_installed() { [ -e "$ROOT$UNIT_DIR/hailo-$1.service" ]; }

# The services need the manager: keep it while one of them stays.
if [[ " ${COMPONENTS[*]} " = *" manager "* ]]; then
    for s in clip vision whisper; do
        if [[ " ${COMPONENTS[*]} " != *" $s "* ]] && service_installed "$s"; then
            die "hailo-$s is still installed and needs the manager: uninstall it too" \
                "(scripts/uninstall.sh $s manager, or all)"
        fi
    done
fi

say "Uninstalling ${COMPONENTS[*]} from ${ROOT:-/}$([ "$PURGE" = 1 ] && echo ', with configs, users and models (--purge)')"

# Services before the manager they depend on.
order=()
for c in whisper vision clip manager; do
    [[ " ${COMPONENTS[*]} " != *" $c "* ]] || order+=("$c")
done

units_removed=0
for c in "${order[@]}"; do
    say "Component $c"
    read -ra units <<<"${COMP_UNITS[$c]}"
    # The service before its socket, so the socket does not start it again.
    reversed=()
    for ((i = ${#units[@]} - 1; i >= 0; i--)); do
        reversed+=("${units[i]}")
    done
    disable_units "${reversed[@]}"
    before=$CHANGES
    for u in "${units[@]}"; do
        remove_path "$ROOT$UNIT_DIR/$u"
    done
    [ "$CHANGES" = "$before" ] || units_removed=1
    read -ra bins <<<"${COMP_BINS[$c]}"
    for b in "${bins[@]}"; do
        remove_path "$ROOT$PREFIX/bin/$b"
    done
    conf=$ROOT$CONFIG_DIR/${COMP_CONFIG[$c]}
    if [ "$PURGE" = 1 ]; then
        remove_path "$conf" "$conf.dist" "${conf%.yaml}.env" \
            "$ROOT$PREFIX/share/hailo-ai-services/defaults/${COMP_CONFIG[$c]}"
        [ "$c" = manager ] || remove_path "$ROOT${COMP_STATE[$c]}"
        remove_user "${COMP_USER[$c]}"
    elif [ -e "$conf" ]; then
        note "= kept $conf (--purge removes it)"
    fi
    if [ "$c" = manager ]; then
        remove_path "$ROOT$PREFIX/share/doc/hailo-ai-services"
    fi
done

# With nothing left installed, --purge also removes what they shared.
if [ "$PURGE" = 1 ] && ! service_installed clip && ! service_installed vision &&
    ! service_installed whisper &&
    [ ! -e "$ROOT$UNIT_DIR/hailo-device-manager.service" ]; then
    say "Shared"
    remove_path "$ROOT$MODEL_ROOT" "$ROOT$PREFIX/share/hailo-ai-services"
    if [ -d "$ROOT$CONFIG_DIR" ] && [ -z "$(ls -A "$ROOT$CONFIG_DIR")" ]; then
        remove_path "$ROOT$CONFIG_DIR"
    fi
    for u in hailo-dm hailo-clip hailo-vision hailo-whisper; do
        remove_user "$u"
    done
    remove_group "$MODEL_GROUP"
    remove_group "$SOCKET_GROUP"
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
