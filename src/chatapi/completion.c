/*
 * completion.c - OpenAI's JSON shapes: chat.completion and errors (shared by
 * hailo-vision and hailo-llm).
 *
 * Field names and order follow what api.openai.com sends, so the official
 * SDKs and tools that parse the answer by hand both see what they expect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "chatapi/chatapi.h"

void completion_new_id(char *out, size_t out_len)
{
    uint8_t raw[12];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got < sizeof(raw)) {
        /* getrandom cannot fail on Linux >= 3.17 with a 12-byte request;
         * keep ids unique anyway. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t v = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uintptr_t)out;
        for (size_t i = 0; i < sizeof(raw); i++)
            raw[i] = (uint8_t)(v >> ((i % 8) * 8)) ^ (uint8_t)i;
    }
    size_t o = (size_t)snprintf(out, out_len, "chatcmpl-");
    for (size_t i = 0; i < sizeof(raw) && o + 2 < out_len; i++)
        o += (size_t)snprintf(out + o, out_len - o, "%02x", raw[i]);
}

static cJSON *usage_obj(int prompt_tokens, int completion_tokens)
{
    cJSON *u = cJSON_CreateObject();
    if (!u)
        return NULL;
    cJSON_AddNumberToObject(u, "prompt_tokens", prompt_tokens);
    cJSON_AddNumberToObject(u, "completion_tokens", completion_tokens);
    cJSON_AddNumberToObject(u, "total_tokens", prompt_tokens + completion_tokens);
    return u;
}

cJSON *completion_build(const char *id, long created, const char *model, const chat_result *r,
                        double load_ms)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *choices, *choice, *msg, *usage, *perf;
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "object", "chat.completion");
    cJSON_AddNumberToObject(o, "created", (double)created);
    cJSON_AddStringToObject(o, "model", model);
    if (!(choices = cJSON_AddArrayToObject(o, "choices")) || !(choice = cJSON_CreateObject()))
        goto fail;
    cJSON_AddItemToArray(choices, choice);
    cJSON_AddNumberToObject(choice, "index", 0);
    if (!(msg = cJSON_AddObjectToObject(choice, "message")))
        goto fail;
    cJSON_AddStringToObject(msg, "role", "assistant");
    /* With tool calls and no text, content is null, as OpenAI answers. */
    if (r->tool_calls && (!r->text || !r->text[0]))
        cJSON_AddNullToObject(msg, "content");
    else
        cJSON_AddStringToObject(msg, "content", r->text ? r->text : "");
    cJSON_AddNullToObject(msg, "refusal");
    if (r->tool_calls) {
        cJSON *calls = cJSON_Duplicate(r->tool_calls, 1);
        if (!calls)
            goto fail;
        cJSON_AddItemToObject(msg, "tool_calls", calls);
    }
    cJSON_AddNullToObject(choice, "logprobs");
    cJSON_AddStringToObject(choice, "finish_reason", r->finish_reason);
    if (!(usage = usage_obj(r->prompt_tokens, r->completion_tokens)))
        goto fail;
    cJSON_AddItemToObject(o, "usage", usage);
    cJSON_AddStringToObject(o, "system_fingerprint", "fp_hailo_" HDM_VERSION);
    if (!(perf = cJSON_AddObjectToObject(o, "performance")))
        goto fail;
    cJSON_AddNumberToObject(perf, "inference_time_ms", r->inference_ms);
    cJSON_AddNumberToObject(perf, "load_time_ms", load_ms);
    /* cJSON's Add* return NULL on allocation failure: check the last ones. */
    if (!cJSON_GetObjectItemCaseSensitive(perf, "load_time_ms") ||
        !cJSON_GetObjectItemCaseSensitive(msg, "content"))
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

/* OpenAI's types: invalid_request_error for every 4xx (401 included, with
 * code invalid_api_key), server_error for every 5xx. */
static const char *type_for(int status)
{
    return status >= 400 && status < 500 ? "invalid_request_error" : "server_error";
}

cJSON *completion_error(int status, const char *message, const char *param, const char *code)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *e = o ? cJSON_AddObjectToObject(o, "error") : NULL;
    if (!e) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON_AddStringToObject(e, "message", message ? message : "error");
    cJSON_AddStringToObject(e, "type", type_for(status));
    if (param)
        cJSON_AddStringToObject(e, "param", param);
    else
        cJSON_AddNullToObject(e, "param");
    if (code)
        cJSON_AddStringToObject(e, "code", code);
    else
        cJSON_AddNullToObject(e, "code");
    return o;
}

int completion_status_for(int code)
{
    if (code < 0)
        code = -code;
    switch (code) {
    case HDM_E_BAD_REQUEST:
        return 400;
    case HDM_E_NOT_FOUND:
        return 404;
    case HDM_E_TOO_LARGE:
        return 413;
    case HDM_E_UNAVAILABLE:
    case HDM_E_CANCELLED: /* the manager is shutting down */
    case HDM_E_BUSY:
    case HDM_E_RESOURCE_EXHAUSTED:
    case HDM_E_DEADLINE_EXCEEDED:
        return 503;
    default:
        return 500;
    }
}

cJSON *completion_layer_error(int status, const char *message)
{
    const char *code = NULL;
    switch (status) {
    case 400:
        code = "invalid_json";
        break;
    case 401:
        code = "invalid_api_key";
        break;
    case 404:
        code = "unknown_url";
        break;
    case 405:
        code = "method_not_allowed";
        break;
    case 411:
        code = "length_required";
        break;
    case 413:
        code = "request_too_large";
        break;
    case 415:
        code = "unsupported_media_type";
        break;
    case 501:
        code = "not_implemented";
        break;
    case 503:
        code = "server_busy";
        break;
    default:
        break;
    }
    return completion_error(status, message, NULL, code);
}
