/*
 * sse.c - chat.completion.chunk objects and Server-Sent Events framing
 * (the producer that sends them is stream.c).
 *
 * DESIGN.  The event sequence is OpenAI's:
 *   data: chunk {delta: {role: "assistant", content: ""}}
 *   data: chunk {delta: {content: "..."}}        one per piece of text
 *   data: chunk {delta: {}, finish_reason}
 *   data: chunk {choices: [], usage}              only with include_usage
 *   data: [DONE]
 * With include_usage every other chunk carries "usage": null, as OpenAI's
 * do.  Strings in an event are always valid UTF-8 (an error may echo
 * request text).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "chatapi/chatapi.h"

char *sse_event(const cJSON *obj, size_t *len)
{
    /* Never raw invalid UTF-8 in an event (an error may echo request text). */
    if (http_json_fix_utf8((cJSON *)obj) < 0)
        return NULL;
    char *json = cJSON_PrintUnformatted(obj);
    if (!json)
        return NULL;
    size_t jl = strlen(json);
    char *ev = malloc(jl + 9);
    if (ev) {
        memcpy(ev, "data: ", 6);
        memcpy(ev + 6, json, jl);
        memcpy(ev + 6 + jl, "\n\n", 3);
        *len = jl + 8;
    }
    cJSON_free(json);
    return ev;
}

cJSON *sse_delta(const char *role, const char *content, size_t len)
{
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return NULL;
    if (role && !cJSON_AddStringToObject(d, "role", role))
        goto fail;
    if (content) {
        char *tmp = malloc(len + 1);
        if (!tmp)
            goto fail;
        memcpy(tmp, content, len);
        tmp[len] = '\0';
        cJSON *s = cJSON_AddStringToObject(d, "content", tmp);
        free(tmp);
        if (!s)
            goto fail;
    }
    return d;
fail:
    cJSON_Delete(d);
    return NULL;
}

static cJSON *chunk_head(const char *id, long created, const char *model)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "object", "chat.completion.chunk");
    cJSON_AddNumberToObject(o, "created", (double)created);
    cJSON_AddStringToObject(o, "model", model);
    if (!cJSON_AddStringToObject(o, "system_fingerprint", "fp_hailo_" HDM_VERSION)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *sse_chunk(const char *id, long created, const char *model, cJSON *delta,
                 const char *finish_reason, bool usage_null)
{
    cJSON *o = delta ? chunk_head(id, created, model) : NULL;
    cJSON *choices, *c;
    if (!o)
        goto fail;
    if (!(choices = cJSON_AddArrayToObject(o, "choices")) || !(c = cJSON_CreateObject()))
        goto fail;
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", 0);
    cJSON_AddItemToObject(c, "delta", delta);
    delta = NULL;
    cJSON_AddNullToObject(c, "logprobs");
    cJSON *fr = finish_reason ? cJSON_AddStringToObject(c, "finish_reason", finish_reason)
                              : cJSON_AddNullToObject(c, "finish_reason");
    if (!fr || (usage_null && !cJSON_AddNullToObject(o, "usage")))
        goto fail;
    return o;
fail:
    cJSON_Delete(delta);
    cJSON_Delete(o);
    return NULL;
}

cJSON *sse_usage_chunk(const char *id, long created, const char *model, int prompt_tokens,
                       int completion_tokens)
{
    cJSON *o = chunk_head(id, created, model);
    cJSON *u;
    if (!o || !cJSON_AddArrayToObject(o, "choices") || !(u = cJSON_AddObjectToObject(o, "usage")))
        goto fail;
    cJSON_AddNumberToObject(u, "prompt_tokens", prompt_tokens);
    cJSON_AddNumberToObject(u, "completion_tokens", completion_tokens);
    if (!cJSON_AddNumberToObject(u, "total_tokens", prompt_tokens + completion_tokens))
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}
