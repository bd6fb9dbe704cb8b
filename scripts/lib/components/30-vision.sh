# shellcheck shell=bash disable=SC2154  # verify.sh's helpers and settings
# 30-vision.sh - hailo-vision: OpenAI-compatible chat over a vision-language model.
component vision \
    bins=hailo-vision \
    units=hailo-vision.service \
    config=hailo-vision.yaml \
    user=hailo-vision \
    state=/var/lib/hailo/vision \
    port=11435 \
    comment="hailo-vision service"

# verify.sh: /health/ready, /v1/models, then a one-token chat.
verify_vision() {
    local url=$1 model out
    if poll "$TIMEOUT" health_ok "$url/health/ready" 'j["ready"] is True'; then
        pass "hailo-vision $url/health/ready: ready"
    else
        fail "hailo-vision $url/health/ready: HTTP $HTTP_CODE $(body_excerpt)" \
            "(journalctl -u hailo-vision)"
        return
    fi
    http GET "$url/v1/models"
    if ! { [ "$HTTP_CODE" = 200 ] && model=$(py_eval "$tmp/body" 'j["data"][0]["id"]'); }; then
        fail "hailo-vision /v1/models: HTTP $HTTP_CODE $(body_excerpt)"
        return
    fi
    printf '{"model": "%s", "max_tokens": 1, "messages": [{"role": "user", "content": "Say hi."}]}\n' \
        "$model" >"$tmp/chat.json"
    http POST "$url/v1/chat/completions" "$tmp/chat.json"
    if [ "$HTTP_CODE" = 200 ] && out=$(py_eval "$tmp/body" \
        'j["object"] == "chat.completion" and isinstance(j["choices"][0]["message"]["content"], str)
         and j["usage"]["completion_tokens"] >= 1 and "%r, %d completion token(s)" % (
         j["choices"][0]["message"]["content"], j["usage"]["completion_tokens"])'); then
        pass "hailo-vision chat ($model): $out"
    else
        fail "hailo-vision chat: HTTP $HTTP_CODE $(body_excerpt)"
    fi
}
