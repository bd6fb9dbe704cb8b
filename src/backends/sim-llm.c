/*
 * sim-llm.c - the simulator's LLM (model_type llm): its chat template, its
 * answers, JSON mode and tool calls.
 *
 * DESIGN: the conversation is rendered with the chat template of the model
 * the sim stands for (Qwen2.5-1.5B-Instruct: ChatML, a default system
 * prompt, tools described in the system turn, tool results as
 * <tool_response> blocks of a user turn), and the prompt's token count is
 * the sim tokenizer's count of that rendered text, special tokens counting
 * one each: what a client is told is what the "model" read.  The answer is
 * composed whole from a random stream seeded by the rendered prompt (and,
 * when sampling, by seed, temperature, top_p and top_k), with the word
 * lists and the token-by-token release the VLM uses (backend-sim-text.c):
 * it picks up the words of the last user message and of earlier turns, so
 * a multi-turn conversation reads as one.  format "json" composes one JSON
 * object; with tools, a user turn is answered with a call in Qwen's
 * <tool_call>{"name", "arguments"}</tool_call> form, and a tool's answer
 * is quoted in the reply that follows.  Costs: one prefill step
 * (infer_ms) per SIM_LLM_PREFILL_CHUNK prompt tokens, token_ms per token.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend-sim.h"

/* Qwen2.5's own default system prompt, used when the conversation has none. */
#define DEFAULT_SYSTEM "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
#define MAX_KEYWORDS 4
/* Tool arguments the sim fills in, at most. */
#define MAX_TOOL_ARGS 8
/* Bytes of a tool's answer quoted in the reply. */
#define TOOL_QUOTE_BYTES 80

static const char *const special_tokens[] = {"<|im_start|>", "<|im_end|>", "<|endoftext|>"};

/* ---- the chat template ------------------------------------------------------------ */

static int append_str(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

/* cJSON's compact form of v appended (as a template's tojson writes it). */
static int append_json(buf *b, const cJSON *v)
{
    char *text = cJSON_PrintUnformatted(v);
    if (!text)
        return -HDM_E_NOMEM;
    int rc = append_str(b, text);
    cJSON_free(text);
    return rc;
}

static int render_system(const llm_input *in, buf *t)
{
    const char *sys = in->n_messages > 0 && in->messages[0].role == LLM_ROLE_SYSTEM
                          ? in->messages[0].content
                          : DEFAULT_SYSTEM;
    int rc = append_str(t, "<|im_start|>system\n") ?: append_str(t, sys);
    if (!in->tools || cJSON_GetArraySize(in->tools) == 0)
        return rc ?: append_str(t, "<|im_end|>\n");
    rc = rc
             ?: append_str(t, "\n\n# Tools\n\nYou may call one or more functions to assist with "
                              "the user query.\n\nYou are provided with function signatures "
                              "within <tools></tools> XML tags:\n<tools>");
    const cJSON *tool;
    cJSON_ArrayForEach(tool, in->tools)
    {
        rc = rc ?: append_str(t, "\n") ?: append_json(t, tool);
    }
    return rc
               ?: append_str(t, "\n</tools>\n\nFor each function call, return a json object with "
                                "function name and arguments within <tool_call></tool_call> XML "
                                "tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
                                "<args-json-object>}\n</tool_call><|im_end|>\n");
}

static int render_tool_calls(const cJSON *calls, buf *t)
{
    int rc = 0;
    const cJSON *call;
    cJSON_ArrayForEach(call, calls)
    {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(call, "function");
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
        rc = rc ?: append_str(t, "\n<tool_call>\n{\"name\": \"") ?:
                    append_str(t, cJSON_IsString(name) ? name->valuestring : "") ?:
                    append_str(t, "\", \"arguments\": ") ?:
                    append_json(t, cJSON_GetObjectItemCaseSensitive(fn, "arguments")) ?:
                    append_str(t, "}\n</tool_call>");
    }
    return rc;
}

int sim_llm_render(const llm_input *in, buf *t)
{
    if (in->prompt)
        return append_str(t, in->prompt);
    int rc = render_system(in, t);
    for (size_t i = 0; i < in->n_messages && rc == 0; i++) {
        const llm_message *msg = &in->messages[i];
        if (msg->role == LLM_ROLE_SYSTEM && i == 0)
            continue; /* rendered as the system turn above */
        if (msg->role == LLM_ROLE_TOOL) {
            bool first = i == 0 || in->messages[i - 1].role != LLM_ROLE_TOOL;
            bool last = i + 1 == in->n_messages || in->messages[i + 1].role != LLM_ROLE_TOOL;
            rc = (first ? append_str(t, "<|im_start|>user") : 0) ?:
                 append_str(t, "\n<tool_response>\n") ?: append_str(t, msg->content) ?:
                 append_str(t, "\n</tool_response>") ?: (last ? append_str(t, "<|im_end|>\n") : 0);
        } else if (msg->role == LLM_ROLE_ASSISTANT && msg->tool_calls) {
            rc = append_str(t, "<|im_start|>assistant") ?:
                 (msg->content[0] ? append_str(t, "\n") ?: append_str(t, msg->content) : 0) ?:
                 render_tool_calls(msg->tool_calls, t) ?: append_str(t, "<|im_end|>\n");
        } else {
            rc = append_str(t, "<|im_start|>") ?: append_str(t, llm_role_name(msg->role)) ?:
                 append_str(t, "\n") ?: append_str(t, msg->content) ?:
                 append_str(t, "<|im_end|>\n");
        }
    }
    return rc ?: append_str(t, "<|im_start|>assistant\n");
}

int sim_llm_token_count(const char *text, size_t len)
{
    int n = 0;
    size_t pos = 0;
    while (pos < len) {
        size_t special = 0;
        if (text[pos] == '<')
            for (size_t i = 0; i < sizeof(special_tokens) / sizeof(special_tokens[0]); i++) {
                size_t sl = strlen(special_tokens[i]);
                if (len - pos >= sl && memcmp(text + pos, special_tokens[i], sl) == 0)
                    special = sl;
            }
        pos = special ? pos + special : sim_token_end(text, len, pos);
        n++;
    }
    return n;
}

/* ---- composing the answer ----------------------------------------------------------- */

typedef struct llm_plan {
    sim_composer c;
    char kw[MAX_KEYWORDS][SIM_KEYWORD_MAX]; /* of the last user message */
    size_t n_kw;
    char earlier[SIM_KEYWORD_MAX]; /* a word of an earlier user message, or "" */
} llm_plan;

static const llm_message *last_of(const llm_input *in, enum llm_role role, size_t *index)
{
    for (size_t i = in->n_messages; i > 0; i--)
        if (in->messages[i - 1].role == role) {
            if (index)
                *index = i - 1;
            return &in->messages[i - 1];
        }
    return NULL;
}

static void plan_init(const backend_model *m, const llm_input *in, const char *rendered,
                      size_t rendered_len, llm_plan *p)
{
    memset(p, 0, sizeof(*p));
    uint64_t h = sim_hash(m->seed, rendered, rendered_len);
    if (in->format == LLM_FORMAT_JSON)
        h = sim_mix(h, 0x6a736f6e);
    double temperature = in->has_temperature ? in->temperature : 0.7;
    if (temperature > 0) {
        uint64_t bits;
        h = sim_mix(h, in->has_seed ? in->seed : 0);
        memcpy(&bits, &temperature, sizeof(bits));
        h = sim_mix(h, bits);
        if (in->has_top_p) {
            memcpy(&bits, &in->top_p, sizeof(bits));
            h = sim_mix(h, bits);
        }
        if (in->has_top_k)
            h = sim_mix(h, (uint64_t)in->top_k);
    }
    p->c = (sim_composer){.rng = h, .temperature = temperature};
    size_t last_user = 0;
    const llm_message *user = last_of(in, LLM_ROLE_USER, &last_user);
    const char *text = user ? user->content : in->prompt;
    p->n_kw = sim_keywords(text, p->kw, MAX_KEYWORDS);
    /* A word the user said in an earlier turn that this one does not repeat. */
    for (size_t i = 0; user && i < last_user && !p->earlier[0]; i++) {
        char kw[MAX_KEYWORDS][SIM_KEYWORD_MAX];
        if (in->messages[i].role != LLM_ROLE_USER)
            continue;
        size_t n = sim_keywords(in->messages[i].content, kw, MAX_KEYWORDS);
        for (size_t k = 0; k < n && !p->earlier[0]; k++) {
            bool repeated = false;
            for (size_t j = 0; j < p->n_kw; j++)
                repeated = repeated || strcmp(kw[k], p->kw[j]) == 0;
            if (!repeated)
                memcpy(p->earlier, kw[k], SIM_KEYWORD_MAX);
        }
    }
}

/* Appends s as the body of a JSON string (escaped; the quotes are the caller's). */
static int append_json_chars(buf *b, const char *s, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            rc = buf_printf(b, "\\%c", ch);
        else if (ch < 0x20)
            rc = buf_printf(b, "\\u%04x", ch);
        else
            rc = buf_append(b, &s[i], 1);
    }
    return rc;
}

/* The prose of an answer: what was asked, what came before, a few sentences. */
static int compose_prose(llm_plan *p, const llm_input *in, buf *t)
{
    int rc = append_str(t, "This is a simulated answer from the Hailo-10H simulator.");
    if (p->n_kw > 0) {
        rc = rc ?: append_str(t, " You asked about");
        for (size_t i = 0; i < p->n_kw; i++)
            rc = rc
                     ?: buf_printf(t, "%s %s",
                                   i == 0             ? ""
                                   : i + 1 == p->n_kw ? " and"
                                                      : ",",
                                   p->kw[i]);
        rc = rc ?: append_str(t, ".");
    }
    if (p->earlier[0])
        rc = rc ?: buf_printf(t, " Earlier you mentioned %s.", p->earlier);
    const llm_message *last = in->n_messages ? &in->messages[in->n_messages - 1] : NULL;
    if (last && last->role == LLM_ROLE_TOOL) {
        size_t n = strlen(last->content);
        if (n > TOOL_QUOTE_BYTES)
            n = TOOL_QUOTE_BYTES;
        while (n > 0 && n < strlen(last->content) &&
               ((unsigned char)last->content[n] & 0xC0) == 0x80)
            n--; /* never cut a UTF-8 character */
        rc = rc
                 ?: buf_printf(t, " The tool %s answered: \"%.*s\".",
                               last->tool_name ? last->tool_name : "call", (int)n, last->content);
    }
    int sentences = 2 + (int)(sim_rng_next(&p->c.rng) % 3);
    for (int s = 0; s < sentences && rc == 0; s++)
        rc = sim_compose_sentence(
            &p->c, s == 0 && p->n_kw ? p->kw[sim_rng_next(&p->c.rng) % p->n_kw] : NULL, t);
    return rc;
}

/* format "json": one object {"answer", "topics", "simulated"}. */
static int compose_json(llm_plan *p, buf *t)
{
    buf prose = {0};
    int rc = append_str(&prose, "A simulated answer from the Hailo-10H simulator.")
                 ?: sim_compose_sentence(&p->c, p->n_kw ? p->kw[0] : NULL, &prose);
    rc = rc ?: append_str(t, "{\"answer\": \"") ?:
                append_json_chars(t, (const char *)prose.data, prose.len) ?:
                append_str(t, "\", \"topics\": [");
    for (size_t i = 0; i < p->n_kw; i++)
        rc = rc ?: buf_printf(t, "%s\"", i ? ", " : "") ?:
                    append_json_chars(t, p->kw[i], strlen(p->kw[i])) ?: append_str(t, "\"");
    rc = rc ?: append_str(t, "], \"simulated\": true}");
    buf_free(&prose);
    return rc;
}

/* name and description of a tool, lower-cased, into out. */
static void tool_words(const cJSON *fn, char *out, size_t size)
{
    size_t n = 0;
    const char *fields[] = {"name", "description"};
    for (size_t f = 0; f < 2; f++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(fn, fields[f]);
        for (size_t i = 0; cJSON_IsString(v) && v->valuestring[i] && n + 2 < size; i++)
            out[n++] = (char)tolower((unsigned char)v->valuestring[i]);
        out[n++] = ' ';
    }
    out[n] = '\0';
}

/* The tool a user turn asks for: the first whose name or description holds
 * one of its words, else the first tool. */
static const cJSON *choose_tool(const llm_plan *p, const cJSON *tools)
{
    const cJSON *tool;
    cJSON_ArrayForEach(tool, tools)
    {
        char words[512];
        tool_words(cJSON_GetObjectItemCaseSensitive(tool, "function"), words, sizeof(words));
        for (size_t k = 0; k < p->n_kw; k++)
            if (strstr(words, p->kw[k]))
                return tool;
    }
    return cJSON_GetArrayItem(tools, 0);
}

/* A value of the JSON schema type `prop` wants; strings are the user's
 * words that did not name the tool (`free`, n_free of them). */
static cJSON *argument_value(llm_plan *p, const cJSON *prop, size_t index,
                             char free_kw[][SIM_KEYWORD_MAX], size_t n_free)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(prop, "type");
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(prop, "enum");
    const char *ty = cJSON_IsString(type) ? type->valuestring : "string";
    if (cJSON_IsArray(en) && cJSON_GetArraySize(en) > 0)
        return cJSON_Duplicate(cJSON_GetArrayItem(en, 0), 1);
    if (strcmp(ty, "integer") == 0)
        return cJSON_CreateNumber((double)(sim_rng_next(&p->c.rng) % 100));
    if (strcmp(ty, "number") == 0)
        return cJSON_CreateNumber((double)(sim_rng_next(&p->c.rng) % 1000) / 10.0);
    if (strcmp(ty, "boolean") == 0)
        return cJSON_CreateTrue();
    if (strcmp(ty, "array") == 0)
        return cJSON_CreateArray();
    if (strcmp(ty, "object") == 0)
        return cJSON_CreateObject();
    return cJSON_CreateString(n_free ? free_kw[index % n_free] : "example");
}

/* <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call> */
static int compose_tool_call(llm_plan *p, const cJSON *tools, buf *t)
{
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(choose_tool(p, tools), "function");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
    char words[512], free_kw[MAX_KEYWORDS][SIM_KEYWORD_MAX];
    size_t n_free = 0;
    tool_words(fn, words, sizeof(words));
    for (size_t k = 0; k < p->n_kw; k++)
        if (!strstr(words, p->kw[k]))
            memcpy(free_kw[n_free++], p->kw[k], SIM_KEYWORD_MAX);
    if (n_free == 0)
        for (; n_free < p->n_kw; n_free++)
            memcpy(free_kw[n_free], p->kw[n_free], SIM_KEYWORD_MAX);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(fn, "parameters");
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(params, "properties");
    cJSON *args = cJSON_CreateObject();
    if (!args)
        return -HDM_E_NOMEM;
    size_t i = 0;
    const cJSON *prop;
    cJSON_ArrayForEach(prop, props)
    {
        if (i >= MAX_TOOL_ARGS || !prop->string)
            break;
        cJSON *v = argument_value(p, prop, i++, free_kw, n_free);
        if (!v || !cJSON_AddItemToObject(args, prop->string, v)) {
            cJSON_Delete(v);
            cJSON_Delete(args);
            return -HDM_E_NOMEM;
        }
    }
    int rc = append_str(t, "<tool_call>\n{\"name\": \"") ?:
             append_json_chars(t, name->valuestring, strlen(name->valuestring)) ?:
             append_str(t, "\", \"arguments\": ") ?: append_json(t, args) ?:
             append_str(t, "}\n</tool_call>");
    cJSON_Delete(args);
    return rc;
}

int sim_infer_llm(const backend *b, backend_model *m, const infer_input *in,
                  const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    const llm_input *li = &in->u.llm;
    buf prompt = {0}, answer = {0};
    llm_plan plan;
    int rc;

    if (sim_llm_render(li, &prompt) < 0) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory rendering the prompt");
        goto out;
    }
    int prompt_tokens = sim_llm_token_count((const char *)prompt.data, prompt.len);
    if (prompt_tokens >= SIM_LLM_CONTEXT) {
        rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                         "the prompt is %d tokens; the model's context holds %d (prompt and "
                         "answer together)",
                         prompt_tokens, SIM_LLM_CONTEXT);
        goto out;
    }
    /* Prefill, one device operation per chunk of prompt tokens (sim-npu.c:
     * dense work on the shared chip may run between them). */
    int steps = (prompt_tokens + SIM_LLM_PREFILL_CHUNK - 1) / SIM_LLM_PREFILL_CHUNK;
    for (int i = 0; i < steps; i++) {
        rc = sim_npu_run(b, m, 0, m->infer_ms, hooks, err);
        if (rc < 0)
            goto out;
    }

    plan_init(m, li, (const char *)prompt.data, prompt.len, &plan);
    const llm_message *last = li->n_messages ? &li->messages[li->n_messages - 1] : NULL;
    if (li->tools && cJSON_GetArraySize(li->tools) > 0 && last && last->role == LLM_ROLE_USER)
        rc = compose_tool_call(&plan, li->tools, &answer);
    else if (li->format == LLM_FORMAT_JSON)
        rc = compose_json(&plan, &answer);
    else
        rc = compose_prose(&plan, li, &answer);
    if (rc < 0) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory generating text");
        goto out;
    }
    /* The answer ends where asked, or where the context is full. */
    int room = SIM_LLM_CONTEXT - prompt_tokens;
    sim_release_opts opts = {
        .stop = li->stop,
        .n_stop = li->n_stop,
        .max_tokens = li->max_tokens > 0 && li->max_tokens < room ? li->max_tokens : room};
    rc = sim_release(b, m, (const char *)answer.data, answer.len, &opts, hooks, out, err);
    if (rc == 0)
        out->prompt_tokens = prompt_tokens;
out:
    buf_free(&prompt);
    buf_free(&answer);
    return rc;
}
