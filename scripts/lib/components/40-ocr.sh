# shellcheck shell=bash disable=SC2154  # verify.sh's helpers and settings
# 40-ocr.sh - hailo-ocr: text detection and recognition.  Its default model
# paths are where the original kept them, below
# /var/lib/hailo-ocr/resources/models/hailo10h (the manager allows that tree);
# the installer never takes that tree over: an original install owns it.
component ocr \
    bins=hailo-ocr \
    units=hailo-ocr.service \
    config=hailo-ocr.yaml \
    user=hailo-ocr \
    state=/var/lib/hailo/ocr \
    port=11436 \
    comment="hailo-ocr service"

# verify.sh: /health/ready, then a small generated page with two text lines.
verify_ocr() {
    local url=$1 out
    if poll "$TIMEOUT" health_ok "$url/health/ready" 'j["ready"] is True'; then
        pass "hailo-ocr $url/health/ready: ready"
    else
        fail "hailo-ocr $url/health/ready: HTTP $HTTP_CODE $(body_excerpt)" \
            "(journalctl -u hailo-ocr)"
        return
    fi
    # A 200x100 page with two dark text-like lines (standard library only).
    "$PY" - >"$tmp/ocr.json" <<'PYEOF'
import base64, json, struct, zlib
w, h = 200, 100
def px(x, y):
    ink = (20 <= y < 34 and 20 <= x < 170 or 50 <= y < 64 and 20 <= x < 120) and x % 9 < 6
    return b"\x10\x10\x10" if ink else b"\xf0\xf0\xf0"
raw = b"".join(b"\0" + b"".join(px(x, y) for x in range(w)) for y in range(h))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
print(json.dumps({"image": "data:image/png;base64," + base64.b64encode(png).decode()}))
PYEOF
    http POST "$url/v1/ocr/extract" "$tmp/ocr.json"
    if [ "$HTTP_CODE" = 200 ] && out=$(py_eval "$tmp/body" \
        'j["success"] is True and "%d region(s) %r, in %d ms" % (len(j["regions"]), j["text"][:40],
            j["performance"]["total_time_ms"])'); then
        pass "hailo-ocr extract: $out"
    else
        fail "hailo-ocr extract: HTTP $HTTP_CODE $(body_excerpt)"
    fi
}
