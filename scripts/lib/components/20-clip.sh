# shellcheck shell=bash disable=SC2154  # verify.sh's helpers and settings
# 20-clip.sh - hailo-clip: CLIP zero-shot classification and embeddings.
component clip \
    bins=hailo-clip \
    units=hailo-clip.service \
    config=hailo-clip.yaml \
    user=hailo-clip \
    state=/var/lib/hailo/clip \
    port=5000 \
    comment="hailo-clip service"

# verify.sh: /health, then a small generated PNG against two prompts.
verify_clip() {
    local url=$1 top
    if poll "$TIMEOUT" health_ok "$url/health" \
        'j["status"] == "healthy" and j["model_loaded"] is True'; then
        pass "hailo-clip $url/health: healthy, model $(py_eval "$tmp/body" 'j.get("model")')"
    else
        fail "hailo-clip $url/health: HTTP $HTTP_CODE $(body_excerpt)" \
            "(journalctl -u hailo-clip)"
        return
    fi
    # A 32x32 gradient PNG, made here with the standard library only.
    "$PY" - >"$tmp/classify.json" <<'PYEOF'
import base64, json, struct, zlib
w = h = 32
raw = b"".join(b"\0" + bytes(v for x in range(w) for v in (x * 8, y * 8, 128)) for y in range(h))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
print(json.dumps({"image": base64.b64encode(png).decode(),
                  "prompts": ["a photo of a cat", "a photo of a dog"], "top_k": 2}))
PYEOF
    http POST "$url/v1/classify" "$tmp/classify.json"
    if [ "$HTTP_CODE" = 200 ] && top=$(py_eval "$tmp/body" \
        'len(j["classifications"]) == 2 and "%s %.3f, in %.0f ms" % (j["classifications"][0]["text"],
            j["classifications"][0]["score"], j["inference_time_ms"])'); then
        pass "hailo-clip classify: top $top"
    else
        fail "hailo-clip classify: HTTP $HTTP_CODE $(body_excerpt)"
    fi
}
