# shellcheck shell=bash disable=SC2154  # verify.sh's helpers and settings
# 50-llm.sh - hailo-llm: LLM chat through the Ollama and OpenAI APIs.  Its
# models are the HEFs in models.dir (/var/lib/hailo/llm by default).
component llm \
    bins=hailo-llm \
    units=hailo-llm.service \
    config=hailo-llm.yaml \
    user=hailo-llm \
    state=/var/lib/hailo/llm \
    port=11434 \
    comment="hailo-llm service"

# verify.sh: /health/ready, the model list and, when the model directory
# holds one, a one-token Ollama chat.
verify_llm() {
    local url=$1 model out
    if poll "$TIMEOUT" health_ok "$url/health/ready" 'j["ready"] is True'; then
        pass "hailo-llm $url/health/ready: ready"
    else
        fail "hailo-llm $url/health/ready: HTTP $HTTP_CODE $(body_excerpt)" \
            "(journalctl -u hailo-llm)"
        return
    fi
    http GET "$url/api/tags"
    if ! { [ "$HTTP_CODE" = 200 ] && model=$(py_eval "$tmp/body" \
        '(j["models"][0]["name"] if j["models"] else "")'); }; then
        fail "hailo-llm /api/tags: HTTP $HTTP_CODE $(body_excerpt)"
        return
    fi
    if [ -z "$model" ]; then
        pass "hailo-llm: no models yet (copy LLM HEFs into its models.dir, /var/lib/hailo/llm)"
        return
    fi
    printf '{"model": "%s", "stream": false, "options": {"num_predict": 1}, "messages": [{"role": "user", "content": "Say hi."}]}\n' \
        "$model" >"$tmp/llm.json"
    http POST "$url/api/chat" "$tmp/llm.json"
    if [ "$HTTP_CODE" = 200 ] && out=$(py_eval "$tmp/body" \
        'j["done"] is True and j["eval_count"] >= 1 and "%r, %d token(s)" % (
         j["message"]["content"], j["eval_count"])'); then
        pass "hailo-llm chat ($model): $out"
    else
        fail "hailo-llm chat ($model): HTTP $HTTP_CODE $(body_excerpt)"
    fi
}
