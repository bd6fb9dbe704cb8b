#!/usr/bin/env bash
# install.sh - installs the device manager and the services as systemd units.
#
#   scripts/install.sh [COMPONENT|all]... [--prefix P] [--root DIR]
#                      [--build-dir B] [--no-start] [--dry-run]
#
# Steps, each skipped when already done (a second run changes nothing and
# says so): build the programs if build/bin lacks them; system groups `hailo`
# (socket access) and `hailo-models` (model files), one user per component
# (lib/components/); the model directory /var/lib/hailo (setgid, group
# hailo-models, so the manager can read every model a service fetched);
# programs into PREFIX/bin; configs into /etc/hailo (an edited config is never
# overwritten: the new default goes beside it as .dist); units into
# /etc/systemd/system; daemon-reload, enable, start; then scripts/verify.sh,
# which polls with backoff until the socket and the services answer.
# Installing a service installs the manager first when it is missing.
#
# Over the original Python stack (lib/migrate.sh): its users join the socket
# group, the manager reads its model trees through their own groups, model
# places its configs name are allowed, its configs are kept and read as they
# are, and its units we replace are kept for uninstall.sh to put back.
set -euo pipefail
umask 022

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
PROG=install.sh
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
Usage: scripts/install.sh [${COMPONENT_ORDER[*]}|all]... [OPTIONS]

Installs hailo-device-manager (with hailo-devctl) and the services
($(services | sed 's/^/hailo-/' | paste -sd ' ')) as systemd units (default: all).
Run as root.

  --prefix P      install programs into P/bin (default /usr/local)
  --root DIR      staged install into DIR (users via useradd --root; units are
                  enabled offline, nothing is started)
  --build-dir B   take the programs from B/bin, building there if missing
                  (default: build/ of this source tree)
  --no-start      install and enable, but do not start or verify
  --dry-run       print every action without doing it
  -h, --help      this help
EOF
}

PREFIX=/usr/local
BUILD_DIR=$SRC/build
NO_START=0
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; PREFIX=$2; shift 2 ;;
        --prefix=*) PREFIX=${1#*=}; shift ;;
        --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift 2 ;;
        --root=*) ROOT=${1#*=}; shift ;;
        --build-dir) [ $# -ge 2 ] || die "--build-dir needs a directory"; BUILD_DIR=$2; shift 2 ;;
        --build-dir=*) BUILD_DIR=${1#*=}; shift ;;
        --no-start) NO_START=1; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h | --help) usage; exit 0 ;;
        -*) usage >&2; die "unknown option '$1'" ;;
        *) args+=("$1"); shift ;;
    esac
done
parse_components "${args[@]+"${args[@]}"}"

case "$PREFIX" in
    *[[:space:]\|]*) die "--prefix must not contain blanks or '|': $PREFIX" ;;
    /*) ;;
    *) die "--prefix must be an absolute path: $PREFIX" ;;
esac
PREFIX=${PREFIX%/}
[ -n "$PREFIX" ] || PREFIX=/
if [ -n "$ROOT" ]; then
    [ -d "$ROOT" ] || die "--root $ROOT: no such directory"
    ROOT=$(cd "$ROOT" && pwd)
    [ "$ROOT" != / ] || ROOT=
fi
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$PWD/$BUILD_DIR ;; esac
if [ "$(id -u)" != 0 ] && [ "$DRY_RUN" = 0 ]; then
    die "run as root (sudo scripts/install.sh ...), or look first with --dry-run"
fi
if [ -n "$ROOT" ] && [ "$DRY_RUN" = 0 ]; then
    check_account_db
fi
load_accounts
SHARE_DIR=$ROOT$PREFIX/share/hailo-ai-services
STATE_FILE=$SHARE_DIR/changes.list

# A service needs the manager: install it first unless it is there already.
manager_installed() {
    [ -x "$ROOT$PREFIX/bin/hailo-device-manager" ] &&
        [ -f "$ROOT$UNIT_DIR/hailo-device-manager.service" ]
}
if [ "${COMPONENTS[0]}" != manager ] && ! manager_installed; then
    say "The device manager is not installed yet: installing it first."
    COMPONENTS=(manager "${COMPONENTS[@]}")
fi

say "Installing ${COMPONENTS[*]} into ${ROOT:-/} (programs in $PREFIX/bin)$([ "$DRY_RUN" = 1 ] && echo ', dry run')"
# The original stack's services running now: they run again at the end.
mapfile -t ORIG_ACTIVE < <(original_units_active)

# ---- programs: take them from the build, building what is missing ----------
need_bins=()
for c in "${COMPONENTS[@]}"; do
    read -ra bins <<<"${COMP_BINS[$c]}"
    need_bins+=("${bins[@]}")
done
missing=()
for b in "${need_bins[@]}"; do
    [ -x "$BUILD_DIR/bin/$b" ] || missing+=("$b")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "Building ${missing[*]} in $BUILD_DIR"
    if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
        run cmake -S "$SRC" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo
    fi
    run cmake --build "$BUILD_DIR" -j "$(nproc)" --target "${missing[@]}"
    if [ "$DRY_RUN" = 0 ]; then
        for b in "${missing[@]}"; do
            [ -x "$BUILD_DIR/bin/$b" ] || die "the build did not produce $BUILD_DIR/bin/$b"
        done
    fi
fi

# ---- accounts ---------------------------------------------------------------
say "Users and groups"
ensure_group "$SOCKET_GROUP"
ensure_group "$MODEL_GROUP"
for c in "${COMPONENTS[@]}"; do
    ensure_user "${COMP_USER[$c]}" "$SOCKET_GROUP" "$MODEL_GROUP" "${COMP_STATE[$c]}" \
        "${COMP_COMMENT[$c]:-hailo-$c service}"
done

# ---- the original Python stack, when it is there (lib/migrate.sh) ----------
say "Services of the original stack"
before=$CHANGES
migrate_socket_users
for tree in "${ORIGINAL_TREES[@]}"; do
    migrate_tree "$tree" "${COMP_USER[manager]}"
done
migrate_model_dirs "$SRC/config/${COMP_CONFIG[manager]}" "$ROOT$CONFIG_DIR/${COMP_CONFIG[manager]}"
[ "$CHANGES" -gt "$before" ] || [ ${#MISSING_MODEL_DIRS[@]} -gt 0 ] || note "= nothing to change"

# ---- per component: directories, programs, config, units ------------------
declare -A COMP_CHANGED=()
UNITS_CHANGED=0
tmpdir=$(mktemp -d)
trap 'rm -rf "$tmpdir"' EXIT
defaults_dir="$SHARE_DIR/defaults"
doc_dir="$ROOT$PREFIX/share/doc/hailo-ai-services"

for c in "${COMPONENTS[@]}"; do
    say "Component $c"
    before=$CHANGES
    if [ "$c" = manager ]; then
        ensure_dir "$ROOT$CONFIG_DIR" 0755 root root
        # Model root: group hailo-models, setgid so everything created below
        # it inherits the group, g+rx so the manager's user can read it.
        ensure_dir "$ROOT$MODEL_ROOT" 2750 root "$MODEL_GROUP"
        # System directories: created when missing, never re-owned.
        make_dir "$ROOT$PREFIX/bin"
        make_dir "$ROOT$UNIT_DIR"
        # The dashboard page the manager serves (docs/DASHBOARD.md), where it
        # looks for it: PREFIX/share/hailo-ai-services/dashboard.
        ensure_dir "$SHARE_DIR/dashboard" 0755 root root
        for f in "$SRC"/src/manager/www/*; do
            install_file "$f" "$SHARE_DIR/dashboard/${f##*/}" 0644 root root || true
        done
        for doc in README.md docs/INSTALL.md docs/MIGRATING.md docs/SERVICES.md docs/POSE.md docs/DASHBOARD.md; do
            if [ -f "$SRC/$doc" ]; then
                install_file "$SRC/$doc" "$doc_dir/${doc##*/}" 0644 root root || true
            fi
        done
    else
        ensure_dir "$ROOT${COMP_STATE[$c]}" 2750 "${COMP_USER[$c]}" "$MODEL_GROUP"
    fi

    read -ra bins <<<"${COMP_BINS[$c]}"
    for b in "${bins[@]}"; do
        if [ "$DRY_RUN" = 1 ] && [ ! -e "$BUILD_DIR/bin/$b" ]; then
            changed "install $ROOT$PREFIX/bin/$b (after the build)"
            continue
        fi
        install_file "$BUILD_DIR/bin/$b" "$ROOT$PREFIX/bin/$b" 0755 root root || true
    done

    conf=${COMP_CONFIG[$c]}
    conf_src=$SRC/config/$conf
    if [ "$c" = manager ] && [ ${#EXTRA_MODEL_DIRS[@]} -gt 0 ]; then
        # The default with the original's model places added to model_dirs.
        conf_src=$tmpdir/$conf
        render_manager_config "$SRC/config/$conf" "$conf_src"
    fi
    # Readable by the services' group only: a config may carry a bearer token.
    install_config "$conf_src" "$ROOT$CONFIG_DIR/$conf" "$defaults_dir/$conf" \
        0640 root "$SOCKET_GROUP"
    if [ "$c" = manager ] && [ ${#MISSING_MODEL_DIRS[@]} -gt 0 ] &&
        ! cmp -s "$conf_src" "$ROOT$CONFIG_DIR/$conf"; then
        say "  NOTE: add to model_dirs in $CONFIG_DIR/$conf: ${MISSING_MODEL_DIRS[*]}"
    fi

    for u in ${COMP_UNITS[$c]}; do
        render_unit "$SRC/systemd/$u" "$PREFIX" >"$tmpdir/$u"
        keep_original_unit "$u" "$SHARE_DIR/replaced"
        if install_file "$tmpdir/$u" "$ROOT$UNIT_DIR/$u" 0644 root root; then
            UNITS_CHANGED=1
        fi
    done
    if [ "$CHANGES" -gt "$before" ]; then
        COMP_CHANGED[$c]=1
    else
        note "= nothing to change"
    fi
done

# Models already fetched into /var/lib/hailo: group-readable by the manager.
fix_model_tree "$ROOT$MODEL_ROOT" "$MODEL_GROUP"

# ---- systemd ----------------------------------------------------------------
say "systemd"
units=()
for c in "${COMPONENTS[@]}"; do
    read -ra us <<<"${COMP_UNITS[$c]}"
    units+=("${us[@]}")
done
if [ "$UNITS_CHANGED" = 1 ] && systemd_running; then
    changed "reload systemd (units changed)"
    run systemctl daemon-reload
fi
enable_units "${units[@]}"

start_reason=
if [ -n "$ROOT" ]; then
    start_reason="staged install (--root)"
elif [ "$NO_START" = 1 ]; then
    start_reason="--no-start"
elif ! systemd_running; then
    start_reason="systemd is not running on this system"
fi

# Hints for the two things that stop a manager on real hardware.
if [ -z "$ROOT" ] && [ "${COMPONENTS[0]}" = manager ]; then
    mconf=$CONFIG_DIR/hailo-device-manager.yaml
    [ -e "$mconf" ] || mconf=$SRC/config/hailo-device-manager.yaml
    if [ ! -e /dev/hailo0 ]; then
        if grep -qE '^backend:[[:space:]]*(auto|hailort)' "$mconf" 2>/dev/null; then
            warn "no /dev/hailo0: the manager (backend auto) will refuse to start. Install the" \
                "Hailo driver (apt install hailo-h10-all), or set 'backend: sim' in $CONFIG_DIR/hailo-device-manager.yaml" \
                "to try the stack on the simulated Hailo-10H."
        fi
    elif [ "$DRY_RUN" = 0 ] && command -v runuser >/dev/null &&
        ! runuser -u hailo-dm -- test -r /dev/hailo0 -a -w /dev/hailo0; then
        warn "user hailo-dm cannot open /dev/hailo0 ($(stat -c '%U:%G %a' /dev/hailo0)): add it to the" \
            "device's group: usermod -aG $(stat -c %G /dev/hailo0) hailo-dm"
    fi
fi

if [ -n "$start_reason" ]; then
    say "  Not starting: $start_reason.  To start: systemctl start ${units[*]}"
    # The original's services whose users joined the socket group need a
    # restart to get the group.
    orig_units=()
    for f in "$ROOT$UNIT_DIR"/hailo-*.service; do
        if [ -f "$f" ] && ! our_unit "$f" &&
            [[ " ${MIGRATED_SOCKET_USERS[*]-} " = *" $(unit_user "$f") "* ]]; then
            orig_units+=("${f##*/}")
        fi
    done
    [ ${#orig_units[@]} = 0 ] ||
        say "  Then restart the original stack's services: systemctl restart ${orig_units[*]}"
else
    for c in "${COMPONENTS[@]}"; do
        read -ra us <<<"${COMP_UNITS[$c]}"
        start_units "${COMP_CHANGED[$c]:-0}" "${us[@]}"
    done
    restart_original_units "${ORIG_ACTIVE[@]+"${ORIG_ACTIVE[@]}"}"
fi

# ---- summary and verification -----------------------------------------------
say ""
if [ "$CHANGES" -eq 0 ]; then
    say "Nothing to change: ${COMPONENTS[*]} already installed as wanted."
elif [ "$DRY_RUN" = 1 ]; then
    say "Dry run: $CHANGES actions would be taken; nothing was changed."
else
    say "Done: $CHANGES changes."
fi
if [ -n "${SUDO_USER:-}" ] && [ -z "$ROOT" ] && [ "$DRY_RUN" = 0 ] &&
    ! user_in_group "$SUDO_USER" "$SOCKET_GROUP"; then
    say "To use hailo-devctl as $SUDO_USER: usermod -aG $SOCKET_GROUP $SUDO_USER (then log in again)."
fi

if [ -z "$start_reason" ] && [ "$DRY_RUN" = 0 ]; then
    # The port each service was configured with (an edited config may differ).
    conf_port() {
        awk '/^server:/ { s = 1; next } /^[^[:space:]#]/ { s = 0 }
             s && $1 == "port:" { print $2; exit }' "$CONFIG_DIR/$1" 2>/dev/null
    }
    say ""
    # The manager is checked too: every service depends on it.
    verify=("$HERE/verify.sh" --devctl "$PREFIX/bin/hailo-devctl" manager "${COMPONENTS[@]}")
    for c in $(services); do
        port=$(conf_port "${COMP_CONFIG[$c]}")
        [ -z "$port" ] || verify+=("--$c-url" "http://127.0.0.1:$port")
    done
    "${verify[@]}" || exit 1
    [ "$START_FAILED" = 0 ] || exit 1
fi
