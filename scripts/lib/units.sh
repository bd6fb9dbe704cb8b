# shellcheck shell=bash
# units.sh - systemd units: rendered for the install prefix, enabled and
# started through systemctl (offline with --root for a staged tree).
# Needs common.sh.

# render_unit SRC PREFIX > OUT - the unit with its program paths (written for
# /usr/local) and its documentation link moved under PREFIX.
render_unit() {
    sed -e "s|^ExecStart=/usr/local/bin/|ExecStart=$2/bin/|" \
        -e "s|^Documentation=file:/usr/share/doc/hailo-ai-services/|Documentation=file:$2/share/doc/hailo-ai-services/|" \
        "$1"
}

# systemctl for the target: the running manager, or the files below ROOT
# (enable/disable/is-enabled only) when ROOT is set or systemd is not running.
sysctl_target() {
    if [ -n "$ROOT" ]; then
        systemctl --root="$ROOT" "$@"
    elif systemd_running; then
        systemctl "$@"
    else
        systemctl --root=/ "$@"
    fi
}

unit_enabled() { [ "$(sysctl_target is-enabled "$1" 2>/dev/null)" = enabled ]; }

# Enables units not enabled yet (a no-op, and silent, on a second run).
enable_units() {
    local u
    for u in "$@"; do
        if unit_enabled "$u"; then
            note "= $u enabled"
        else
            changed "enable $u"
            if [ "$DRY_RUN" = 1 ]; then
                printf '  [dry-run] systemctl enable %s\n' "$u"
            else
                sysctl_target enable --quiet "$u"
            fi
        fi
    done
}

disable_units() {
    local u
    for u in "$@"; do
        [ -e "$ROOT$UNIT_DIR/$u" ] || continue
        if systemd_running; then
            if systemctl is-active --quiet "$u"; then
                changed "stop $u"
                run systemctl stop "$u"
            fi
        fi
        if unit_enabled "$u"; then
            changed "disable $u"
            if [ "$DRY_RUN" = 1 ]; then
                printf '  [dry-run] systemctl disable %s\n' "$u"
            else
                sysctl_target disable --quiet "$u"
            fi
        fi
    done
}

# A unit that did not start is reported, and the run goes on to the
# verification, whose FAIL lines say what does not answer.
START_FAILED=0
start_failed() {
    # shellcheck disable=SC2034  # read by install.sh
    START_FAILED=1
    warn "$1 did not start: see systemctl status $1 and journalctl -u $1"
}

# start_units RESTART UNIT... - starts units not running; restarts running ones
# when RESTART is 1 (their program, config or unit changed).
start_units() {
    local restart=$1 u
    shift
    for u in "$@"; do
        if systemctl is-active --quiet "$u"; then
            if [ "$restart" = 1 ] && [ "${u##*.}" = service ]; then
                changed "restart $u (its files changed)"
                run systemctl restart "$u" || start_failed "$u"
            else
                note "= $u running"
            fi
        else
            changed "start $u"
            run systemctl start "$u" || start_failed "$u"
        fi
    done
}
