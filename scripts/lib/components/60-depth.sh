# shellcheck shell=bash disable=SC2154  # verify.sh's helpers and settings
# 60-depth.sh - hailo-depth: monocular depth maps.  Its default model path is
# where the original kept it (/var/lib/hailo-depth/resources/models, which the
# manager allows); the installer never takes that tree over.
component depth \
    bins=hailo-depth \
    units=hailo-depth.service \
    config=hailo-depth.yaml \
    user=hailo-depth \
    state=/var/lib/hailo/depth \
    port=11439 \
    comment="hailo-depth service"

# verify.sh: /health/ready, then the depth map of a small generated PNG.
verify_depth() {
    local url=$1 out
    if poll "$TIMEOUT" health_ok "$url/health/ready" 'j["ready"] is True'; then
        pass "hailo-depth $url/health/ready: ready"
    else
        fail "hailo-depth $url/health/ready: HTTP $HTTP_CODE $(body_excerpt)" \
            "(journalctl -u hailo-depth)"
        return
    fi
    # A 32x24 gradient PNG, made here with the standard library only.
    "$PY" - >"$tmp/depth.json" <<'PYEOF'
import base64, json, struct, zlib
w, h = 32, 24
raw = b"".join(b"\0" + bytes(v for x in range(w) for v in (x * 8, y * 10, 128)) for y in range(h))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
print(json.dumps({"image": base64.b64encode(png).decode(), "output_format": "numpy"}))
PYEOF
    http POST "$url/v1/depth/estimate" "$tmp/depth.json"
    if [ "$HTTP_CODE" = 200 ] && out=$(py_eval "$tmp/body" \
        'j["depth_shape"] == [24, 32] and len(j["depth_map"]) > 0 and "%s %s map, p95 %.3f, in %.0f ms" % (
            j["model"], "x".join(map(str, j["depth_shape"])), j["stats"]["p95"], j["inference_time_ms"])'); then
        pass "hailo-depth estimate: $out"
    else
        fail "hailo-depth estimate: HTTP $HTTP_CODE $(body_excerpt)"
    fi
}
