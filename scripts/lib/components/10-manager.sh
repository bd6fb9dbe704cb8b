# shellcheck shell=bash disable=SC2154  # verify.sh's helpers and settings
# 10-manager.sh - hailo-device-manager, the sole owner of the NPU, with its
# operator CLI hailo-devctl.  Every service needs it (components.sh).
component manager \
    bins="hailo-device-manager hailo-devctl" \
    units="hailo-device-manager.socket hailo-device-manager.service" \
    config=hailo-device-manager.yaml \
    user=hailo-dm \
    state=/var/lib/hailo \
    comment="Hailo device manager"

# verify.sh: the socket exists, the manager answers ping and reports its status.
verify_manager() {
    if poll "$TIMEOUT" test -S "$SOCKET"; then
        pass "socket $SOCKET exists"
    else
        fail "socket $SOCKET: not there after ${TIMEOUT}s (is hailo-device-manager.socket started?" \
            "systemctl status hailo-device-manager.socket)"
        return
    fi
    if [ ! -x "$DEVCTL" ]; then
        fail "hailo-devctl not found at $DEVCTL (use --devctl PATH)"
        return
    fi
    if poll "$TIMEOUT" ping_ok; then
        pass "manager answers ping: $(head -n1 "$tmp/ping")"
    else
        fail "manager does not answer ping on $SOCKET: $(head -n1 "$tmp/ping")" \
            "(journalctl -u hailo-device-manager)"
        return
    fi
    if "$DEVCTL" --socket "$SOCKET" --json status >"$tmp/status" 2>"$tmp/status.err"; then
        local summary
        summary=$(py_eval "$tmp/status" '"backend %s%s, device %s, %d models resident, %.0f of %.0f MiB used, %d waiting" % (
            j["backend"], " (simulated)" if j.get("simulated") else "", j["device_id"],
            len(j["loaded_models"]), j["memory"]["used_bytes"] / 2**20,
            j["memory"]["total_bytes"] / 2**20, j["queue_depth"])') || true
        pass "manager status: $summary"
    else
        fail "manager status: $(head -n1 "$tmp/status.err")"
    fi
}
