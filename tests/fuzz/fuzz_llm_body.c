/*
 * fuzz_llm_body.c - the JSON bodies of hailo-llm up to the manager call:
 * /api/chat and /api/generate through ollama_parse (model lookup with its
 * aliases, messages, tools, options, keep_alive durations, format), and
 * /v1/chat/completions through openai_parse (roles, content parts, tool
 * calls and tool messages, tools, response_format); then the text of every
 * parsed message through the tool-call filter, fed in small pieces, and
 * into Ollama's stream lines and final objects.  The oracle: every refusal
 * says why, and what the filter passes on plus the calls it found account
 * for the text.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/llm.h"

static llm_config cfg;
static llm_models models;

static int setup(void)
{
    static int state;
    if (state)
        return state;
    state = -1;
    if (llm_config_defaults(&cfg) < 0)
        return state;
    static const char *const names[] = {"qwen2-1.5b-instruct", "qwen2.5-1.5b-instruct",
                                        "qwen2.5-coder-1.5b-instruct"};
    models.items = calloc(3, sizeof(llm_model));
    if (!models.items)
        return state;
    for (size_t i = 0; i < 3; i++) {
        llm_model *m = &models.items[i];
        strcpy(m->name, names[i]);
        snprintf(m->path, sizeof(m->path), "/var/lib/hailo/llm/%s.hef", names[i]);
        llm_model_name_parts(m->name, m->family, sizeof(m->family), m->size_label,
                             sizeof(m->size_label));
    }
    models.n = 3;
    state = 1;
    return state;
}

typedef struct sink {
    size_t len;
} sink;

static int count(void *user, const char *text, size_t len)
{
    (void)text;
    ((sink *)user)->len += len;
    return 0;
}

/* The filter over a text, 7 bytes at a time: passes on at most the text. */
static void filter(const char *text)
{
    toolcall_filter f;
    sink s = {0};
    size_t n = strlen(text);
    toolcall_init(&f, count, &s);
    for (size_t i = 0; i < n; i += 7)
        if (toolcall_feed(&f, text + i, i + 7 < n ? 7 : n - i) != 0)
            abort();
    if (toolcall_flush(&f) != 0 || s.len > n)
        abort();
    cJSON *calls = toolcall_take(&f);
    cJSON *o = calls ? toolcall_to_openai(calls) : NULL;
    if (calls && cJSON_GetArraySize(o) != cJSON_GetArraySize(calls))
        abort();
    cJSON *line = ollama_chunk(true, "m", text, n, calls);
    size_t len = 0;
    char *out = line ? ollama_line(line, &len) : NULL;
    if (out && (len == 0 || out[len - 1] != '\n'))
        abort();
    free(out);
    cJSON_Delete(line);
    cJSON_Delete(o);
    cJSON_Delete(calls);
    toolcall_free(&f);
}

static void texts(const llm_request *r)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, r->messages)
    {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (cJSON_IsString(c))
            filter(c->valuestring);
    }
    if (r->prompt)
        filter(r->prompt);
    chat_result res = {.finish_reason = "stop", .text = NULL};
    cJSON *fin = ollama_final(true, r->asked, &res, "", 1);
    cJSON_Delete(fin);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (setup() < 0)
        abort();
    cJSON *body = cJSON_ParseWithLength((const char *)data, size);
    if (!body)
        return 0;
    for (int chat = 0; chat < 2; chat++) {
        llm_request r;
        llm_op op;
        hdm_err err;
        hdm_err_clear(&err);
        if (ollama_parse(body, chat, &cfg, &models, &r, &op, &err) == 0) {
            if (op == LLM_OP_GENERATE && !r.messages && !r.prompt)
                abort(); /* a generation always has something to say */
            texts(&r);
            llm_request_free(&r);
        } else if (err.msg[0] == '\0') {
            abort();
        }
    }
    llm_request r;
    const char *param = NULL;
    hdm_err err;
    hdm_err_clear(&err);
    if (openai_parse(body, &cfg, &models, &r, &param, &err) == 0) {
        if (!r.messages || cJSON_GetArraySize(r.messages) == 0)
            abort();
        texts(&r);
        llm_request_free(&r);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    cJSON_Delete(body);
    return 0;
}
