/*
 * toolcall.c - tool calls in the model's text.
 *
 * DESIGN.  HailoRT hands the model's answer back as text; a tool call is in
 * the markup the model was trained on and its chat template describes.
 * Qwen2.5 (and Hermes-style models) write
 *   <tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>
 * so the filter passes text through until "<tool_call>" may begin (a tail
 * that could be the start of the tag is held back, like a stop string),
 * collects a block up to "</tool_call>" and parses it.  A block that is not
 * a call (not JSON, no name) is text after all and is passed on as it was.
 * Calls come out in Ollama's form [{"function": {"name", "arguments": {}}}];
 * toolcall_to_openai gives OpenAI's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "llm/llm.h"

#define OPEN_TAG "<tool_call>"
#define CLOSE_TAG "</tool_call>"

void toolcall_init(toolcall_filter *f, stop_emit_fn emit, void *user)
{
    memset(f, 0, sizeof(*f));
    f->emit = emit;
    f->user = user;
}

void toolcall_free(toolcall_filter *f)
{
    if (!f)
        return;
    free(f->pending);
    cJSON_Delete(f->calls);
    memset(f, 0, sizeof(*f));
}

cJSON *toolcall_take(toolcall_filter *f)
{
    cJSON *c = f->calls;
    f->calls = NULL;
    return c;
}

static int append(toolcall_filter *f, const char *text, size_t len)
{
    if (f->len + len + 1 > f->cap) {
        size_t cap = f->cap ? f->cap : 256;
        while (cap < f->len + len + 1)
            cap *= 2;
        char *p = realloc(f->pending, cap);
        if (!p)
            return f->failed = -HDM_E_NOMEM;
        f->pending = p;
        f->cap = cap;
    }
    memcpy(f->pending + f->len, text, len);
    f->len += len;
    f->pending[f->len] = '\0';
    return 0;
}

static void drop(toolcall_filter *f, size_t n)
{
    memmove(f->pending, f->pending + n, f->len - n);
    f->len -= n;
    f->pending[f->len] = '\0';
}

static int emit(toolcall_filter *f, const char *text, size_t len)
{
    return len && f->emit ? f->emit(f->user, text, len) : 0;
}

/* A block's JSON as a call, appended to f->calls; false when it is not one. */
static bool parse_call(toolcall_filter *f, const char *text, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(text, len);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
    if (!cJSON_IsObject(j) || !cJSON_IsString(name) || !name->valuestring[0]) {
        cJSON_Delete(j);
        return false;
    }
    cJSON *args = cJSON_DetachItemFromObjectCaseSensitive(j, "arguments");
    if (cJSON_IsString(args)) { /* some models quote the arguments */
        cJSON *parsed = cJSON_Parse(args->valuestring);
        cJSON_Delete(args);
        args = parsed;
    }
    if (!cJSON_IsObject(args)) {
        cJSON_Delete(args);
        args = cJSON_CreateObject();
    }
    cJSON *call = cJSON_CreateObject(),
          *fn = call ? cJSON_AddObjectToObject(call, "function") : NULL;
    if (!f->calls)
        f->calls = cJSON_CreateArray();
    if (!args || !fn || !f->calls || !cJSON_AddStringToObject(fn, "name", name->valuestring)) {
        cJSON_Delete(args);
        cJSON_Delete(call);
        cJSON_Delete(j);
        f->failed = -HDM_E_NOMEM;
        return true; /* the failure is reported; the text is not shown */
    }
    cJSON_AddItemToObject(fn, "arguments", args);
    cJSON_AddItemToArray(f->calls, call);
    cJSON_Delete(j);
    return true;
}

/* Longest tail of pending that is a proper prefix of the opening tag. */
static size_t tag_prefix_tail(const toolcall_filter *f)
{
    size_t max = strlen(OPEN_TAG) - 1;
    for (size_t k = max < f->len ? max : f->len; k > 0; k--)
        if (memcmp(f->pending + f->len - k, OPEN_TAG, k) == 0)
            return k;
    return 0;
}

int toolcall_feed(void *filter, const char *text, size_t len)
{
    toolcall_filter *f = filter;
    int r;
    if ((r = append(f, text, len)) < 0)
        return r;
    for (;;) {
        if (!f->inside) {
            char *open = strstr(f->pending, OPEN_TAG);
            if (!open) {
                size_t keep = tag_prefix_tail(f);
                r = emit(f, f->pending, f->len - keep);
                drop(f, f->len - keep);
                return r;
            }
            size_t at = (size_t)(open - f->pending);
            if ((r = emit(f, f->pending, at)) != 0)
                return r;
            drop(f, at + strlen(OPEN_TAG));
            f->inside = true;
            continue;
        }
        char *close = strstr(f->pending, CLOSE_TAG);
        if (!close)
            return 0;
        size_t at = (size_t)(close - f->pending);
        if (!parse_call(f, f->pending, at)) {
            /* Not a call: the model's text, markup and all. */
            if ((r = emit(f, OPEN_TAG, strlen(OPEN_TAG))) != 0 ||
                (r = emit(f, f->pending, at + strlen(CLOSE_TAG))) != 0)
                return r;
        }
        if (f->failed)
            return f->failed;
        drop(f, at + strlen(CLOSE_TAG));
        f->inside = false;
    }
}

int toolcall_flush(toolcall_filter *f)
{
    int r = 0;
    if (f->inside)
        r = emit(f, OPEN_TAG, strlen(OPEN_TAG)); /* never closed: it was text */
    if (r == 0)
        r = emit(f, f->pending, f->len);
    f->len = 0;
    f->inside = false;
    return r;
}

cJSON *toolcall_to_openai(const cJSON *calls)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *call;
    if (!out)
        return NULL;
    cJSON_ArrayForEach(call, calls)
    {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call, "function");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
        uint8_t raw[12] = {0};
        char id[40];
        size_t o = (size_t)snprintf(id, sizeof(id), "call_");
        if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
            memcpy(raw, &call, sizeof(call) < sizeof(raw) ? sizeof(call) : sizeof(raw));
        for (size_t i = 0; i < sizeof(raw); i++)
            o += (size_t)snprintf(id + o, sizeof(id) - o, "%02x", raw[i]);
        char *args = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(fn, "arguments"));
        cJSON *c = cJSON_CreateObject(), *f = NULL;
        bool ok =
            args && c && cJSON_AddStringToObject(c, "id", id) &&
            cJSON_AddStringToObject(c, "type", "function") &&
            (f = cJSON_AddObjectToObject(c, "function")) != NULL &&
            cJSON_AddStringToObject(f, "name", cJSON_IsString(name) ? name->valuestring : "") &&
            cJSON_AddStringToObject(f, "arguments", args);
        cJSON_free(args);
        if (!ok) {
            cJSON_Delete(c);
            cJSON_Delete(out);
            return NULL;
        }
        cJSON_AddItemToArray(out, c);
    }
    return out;
}
