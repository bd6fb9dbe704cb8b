# shellcheck shell=bash disable=SC2154  # verify.sh's helpers and settings
# 60-pose.sh - hailo-pose: human pose estimation (YOLOv8s-pose), the original
# hailo-pose's API.  Its model stays where the original installed it
# (/var/lib/hailo-pose/resources/models/hailo10h/yolov8s_pose.hef, read by
# the manager), so its own directory holds nothing it fetched.
component pose \
    bins=hailo-pose \
    units=hailo-pose.service \
    config=hailo-pose.yaml \
    user=hailo-pose \
    state=/var/lib/hailo/pose \
    port=11440 \
    comment="hailo-pose service"

# verify.sh: /health/ready, then one detection of a generated picture of a
# bright standing figure (a person on the simulator; a real model may see
# nobody in it, which still proves the whole path).
verify_pose() {
    local url=$1 out
    if poll "$TIMEOUT" health_ok "$url/health/ready" 'j["ready"] is True'; then
        pass "hailo-pose $url/health/ready: ready"
    else
        fail "hailo-pose $url/health/ready: HTTP $HTTP_CODE $(body_excerpt)" \
            "(journalctl -u hailo-pose)"
        return
    fi
    # A 160x240 PNG: a white figure on a dark ground (standard library only).
    "$PY" - >"$tmp/pose.json" <<'PYEOF'
import base64, json, struct, zlib
w, h = 160, 240
def px(x, y):
    body = 50 <= x < 110 and 30 <= y < 220
    return (240, 240, 240) if body else (30, 40, 50)
raw = b"".join(b"\0" + bytes(v for x in range(w) for v in px(x, y)) for y in range(h))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
print(json.dumps({"image": base64.b64encode(png).decode()}))
PYEOF
    http POST "$url/v1/pose/detect" "$tmp/pose.json"
    if [ "$HTTP_CODE" = 200 ] && out=$(py_eval "$tmp/body" \
        'j["count"] == len(j["poses"]) and j["image_size"] == {"width": 160, "height": 240}
         and all(len(p["keypoints"]) == 17 for p in j["poses"])
         and "%d person(s), in %d ms" % (j["count"], j["inference_time_ms"])'); then
        pass "hailo-pose detect: $out"
    else
        fail "hailo-pose detect: HTTP $HTTP_CODE $(body_excerpt)"
    fi
}
