/*
 * infer_input.c - input_data parsers per model type, and model_params checks.
 *
 * DESIGN: one parser per model type, each reading only the fields its row of
 * the PROTOCOL.md table names.  JSON null counts as "not given" (old Python
 * clients send None for unset options).  Tensors are decoded once, straight
 * from the parsed JSON string into their buffer (tensor_from_json), or
 * borrowed from a binary frame's attachments.
 */
#include "infer_input.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/tensor.h"
#include "modelpath.h"

static const cJSON *field(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNull(v) ? NULL : v;
}

static int owned_push(job *j, void *block, hdm_err *err)
{
    if (!block)
        return 0;
    void **grown = realloc(j->owned, (j->n_owned + 1) * sizeof(*grown));
    if (!grown) {
        free(block);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    j->owned = grown;
    j->owned[j->n_owned++] = block;
    return 0;
}

typedef struct parse_ctx {
    job *j;
    const frame_attachment *att;
    uint32_t n_att;
} parse_ctx;

static int get_tensor(parse_ctx *pc, const cJSON *obj, const char *what, hdm_tensor *out,
                      hdm_err *err)
{
    if (!obj)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s required", what);
    if (!cJSON_IsObject(obj))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be a tensor object", what);
    void *owned = NULL;
    int rc = tensor_from_json(obj, what, pc->att, pc->n_att, out, &owned, err);
    if (rc < 0)
        return rc;
    return owned_push(pc->j, owned, err);
}

static int want_dtype(const hdm_tensor *t, const char *what, hdm_dtype dtype, hdm_err *err)
{
    if (t->dtype != dtype)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be %s, got %s", what,
                           hdm_dtype_name(dtype), hdm_dtype_name(t->dtype));
    return 0;
}

/* Optional integer field in [min, max]; *out unchanged when absent. */
static int get_int(const cJSON *obj, const char *name, const char *what, long long min,
                   long long max, long long *out, hdm_err *err)
{
    const cJSON *v = field(obj, name);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble != floor(v->valuedouble))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be an integer", what);
    if (v->valuedouble < (double)min || v->valuedouble > (double)max)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be between %lld and %lld", what, min,
                           max);
    *out = (long long)v->valuedouble;
    return 0;
}

static int get_double(const cJSON *obj, const char *name, const char *what, double min, double max,
                      double *out, hdm_err *err)
{
    const cJSON *v = field(obj, name);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be a number", what);
    if (v->valuedouble < min || v->valuedouble > max)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be between %g and %g", what, min, max);
    *out = v->valuedouble;
    return 0;
}

/* Optional string field no longer than max_len; *out unchanged when absent. */
static int get_string(const cJSON *obj, const char *name, const char *what, size_t max_len,
                      const char **out, hdm_err *err)
{
    const cJSON *v = field(obj, name);
    if (!v)
        return 0;
    if (!cJSON_IsString(v))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be a string", what);
    if (strlen(v->valuestring) > max_len)
        return hdm_err_set(err, HDM_E_TOO_LARGE, "%s is longer than %zu bytes", what, max_len);
    *out = v->valuestring;
    return 0;
}

/* ---- clip ---------------------------------------------------------------- */

static int parse_clip(parse_ctx *pc, const cJSON *in, hdm_err *err)
{
    infer_input *ii = &pc->j->input;
    const char *mode = NULL;
    long long timeout = 1000;
    int rc;
    if ((rc = get_string(in, "mode", "input_data.mode", 16, &mode, err)) < 0)
        return rc;
    if (!mode || (strcmp(mode, "image") && strcmp(mode, "text")))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "clip mode must be 'image' or 'text'");
    ii->u.clip.mode = strcmp(mode, "image") == 0 ? CLIP_MODE_IMAGE : CLIP_MODE_TEXT;
    if ((rc = get_int(in, "timeout_ms", "input_data.timeout_ms", 1, 600000, &timeout, err)) < 0)
        return rc;
    ii->u.clip.timeout_ms = (int)timeout;
    const cJSON *t = field(in, "tensor");
    if (!t)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "tensor is required for clip inference");
    if ((rc = get_tensor(pc, t, "input_data.tensor", &ii->u.clip.tensor, err)) < 0)
        return rc;
    if (ii->u.clip.mode == CLIP_MODE_IMAGE)
        return want_dtype(&ii->u.clip.tensor, "input_data.tensor (clip image)", HDM_DT_UINT8, err);
    return want_dtype(&ii->u.clip.tensor, "input_data.tensor (clip text)", HDM_DT_FLOAT32, err);
}

/* Stop strings of vlm and llm: a string or a list of non-empty strings. */
static int parse_stop(const cJSON *in, char ***out, size_t *n_out, hdm_err *err)
{
    const cJSON *stop = field(in, "stop");
    if (!stop)
        return 0;
    int n = cJSON_IsString(stop) ? 1 : cJSON_IsArray(stop) ? cJSON_GetArraySize(stop) : -1;
    if (n < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data.stop must be a string or a list of strings");
    if (n > INPUT_MAX_STOP)
        return hdm_err_set(err, HDM_E_TOO_LARGE, "input_data.stop has more than %d strings",
                           INPUT_MAX_STOP);
    if (n > 0 && !(*out = calloc((size_t)n, sizeof(char *))))
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        const cJSON *s = cJSON_IsString(stop) ? stop : cJSON_GetArrayItem(stop, i);
        if (!cJSON_IsString(s) || !s->valuestring[0])
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "input_data.stop[%d] must be a non-empty string", i);
        if (strlen(s->valuestring) > INPUT_MAX_STOP_LEN)
            return hdm_err_set(err, HDM_E_TOO_LARGE, "input_data.stop[%d] is longer than %d bytes",
                               i, INPUT_MAX_STOP_LEN);
        if (!((*out)[i] = strdup(s->valuestring)))
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        (*n_out)++;
    }
    return 0;
}

/* ---- vlm ----------------------------------------------------------------- */

static int parse_message(const cJSON *msg, size_t index, chat_message *out, size_t *text_total,
                         hdm_err *err)
{
    if (!cJSON_IsObject(msg))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data.prompt[%zu] must be an object",
                           index);
    const cJSON *role = field(msg, "role");
    if (!cJSON_IsString(role))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data.prompt[%zu].role required", index);
    if (strcmp(role->valuestring, "system") && strcmp(role->valuestring, "user") &&
        strcmp(role->valuestring, "assistant"))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data.prompt[%zu].role must be system, user or assistant, "
                           "not '%.64s'",
                           index, role->valuestring);
    if (!(out->role = strdup(role->valuestring)))
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");

    const cJSON *content = field(msg, "content");
    buf text = {0};
    int rc = 0;
    if (cJSON_IsString(content)) {
        rc = buf_append(&text, content->valuestring, strlen(content->valuestring));
    } else if (cJSON_IsArray(content)) {
        int n_parts = cJSON_GetArraySize(content);
        if (n_parts > INPUT_MAX_PARTS) {
            rc = hdm_err_set(err, HDM_E_TOO_LARGE,
                             "input_data.prompt[%zu].content has more than %d parts", index,
                             INPUT_MAX_PARTS);
            goto out;
        }
        size_t part_index = 0, n_text = 0;
        const cJSON *part;
        cJSON_ArrayForEach(part, content)
        {
            const cJSON *type = cJSON_IsObject(part) ? field(part, "type") : NULL;
            if (!cJSON_IsString(type)) {
                rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                                 "input_data.prompt[%zu].content[%zu] must be an object with a "
                                 "type",
                                 index, part_index);
                goto out;
            }
            if (strcmp(type->valuestring, "text") == 0) {
                const cJSON *t = field(part, "text");
                if (!cJSON_IsString(t)) {
                    rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                                     "input_data.prompt[%zu].content[%zu].text must be a string",
                                     index, part_index);
                    goto out;
                }
                if ((n_text++ && (rc = buf_append(&text, "\n", 1)) < 0) ||
                    (rc = buf_append(&text, t->valuestring, strlen(t->valuestring))) < 0)
                    goto nomem;
            } else if (strcmp(type->valuestring, "image") == 0) {
                out->n_images++;
            } else {
                rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                                 "input_data.prompt[%zu].content[%zu].type must be 'text' or "
                                 "'image', not '%.64s'",
                                 index, part_index, type->valuestring);
                goto out;
            }
            part_index++;
        }
    } else {
        rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                         "input_data.prompt[%zu].content must be a string or a list of parts",
                         index);
        goto out;
    }
    if (rc < 0)
        goto nomem;
    *text_total += text.len;
    if (*text_total > INPUT_MAX_TEXT) {
        rc = hdm_err_set(err, HDM_E_TOO_LARGE, "input_data.prompt text exceeds %u bytes",
                         INPUT_MAX_TEXT);
        goto out;
    }
    if ((rc = buf_append(&text, "", 1)) < 0)
        goto nomem;
    out->text = (char *)text.data;
    return 0;
nomem:
    rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
out:
    buf_free(&text);
    return rc;
}

static int parse_vlm(parse_ctx *pc, const cJSON *in, hdm_err *err)
{
    infer_input *ii = &pc->j->input;
    int rc;
    ii->u.vlm.temperature = 0.7;
    ii->u.vlm.top_p = 0.9;
    ii->u.vlm.max_tokens = 200;

    const cJSON *prompt = field(in, "prompt");
    int n_images = -1;
    if (!prompt)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data.prompt required");
    if (cJSON_IsString(prompt)) {
        size_t len = strlen(prompt->valuestring);
        if (len == 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data.prompt must not be empty");
        if (len > INPUT_MAX_TEXT)
            return hdm_err_set(err, HDM_E_TOO_LARGE, "input_data.prompt exceeds %u bytes",
                               INPUT_MAX_TEXT);
        if (!(ii->u.vlm.prompt = strdup(prompt->valuestring)))
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    } else if (cJSON_IsArray(prompt)) {
        int n = cJSON_GetArraySize(prompt);
        if (n == 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data.prompt must not be empty");
        if (n > INPUT_MAX_MESSAGES)
            return hdm_err_set(err, HDM_E_TOO_LARGE, "input_data.prompt has more than %d messages",
                               INPUT_MAX_MESSAGES);
        ii->u.vlm.messages = calloc((size_t)n, sizeof(chat_message));
        if (!ii->u.vlm.messages)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        size_t text_total = 0;
        const cJSON *msg;
        n_images = 0;
        cJSON_ArrayForEach(msg, prompt)
        {
            chat_message *m = &ii->u.vlm.messages[ii->u.vlm.n_messages];
            ii->u.vlm.n_messages++; /* counted first so clear() frees a half-built one */
            if ((rc = parse_message(msg, ii->u.vlm.n_messages - 1, m, &text_total, err)) < 0)
                return rc;
            n_images += m->n_images;
        }
    } else {
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data.prompt must be a string or a list of chat messages");
    }

    const cJSON *frames = field(in, "frames");
    if (frames) {
        if (!cJSON_IsArray(frames))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "input_data.frames must be a list of tensors");
        int n = cJSON_GetArraySize(frames);
        if (n > INPUT_MAX_FRAMES)
            return hdm_err_set(err, HDM_E_TOO_LARGE, "input_data.frames has more than %d images",
                               INPUT_MAX_FRAMES);
        if (n > 0 && !(ii->u.vlm.frames = calloc((size_t)n, sizeof(hdm_tensor))))
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        const cJSON *f;
        cJSON_ArrayForEach(f, frames)
        {
            char what[48];
            snprintf(what, sizeof(what), "input_data.frames[%zu]", ii->u.vlm.n_frames);
            hdm_tensor *t = &ii->u.vlm.frames[ii->u.vlm.n_frames];
            if ((rc = get_tensor(pc, f, what, t, err)) < 0 ||
                (rc = want_dtype(t, what, HDM_DT_UINT8, err)) < 0)
                return rc;
            if (t->ndim != 3 && !(t->ndim == 4 && t->shape[0] == 1))
                return hdm_err_set(err, HDM_E_BAD_REQUEST,
                                   "%s must be an image [height, width, channels], got %d "
                                   "dimensions",
                                   what, t->ndim);
            ii->u.vlm.n_frames++;
        }
    }
    if (n_images >= 0 && (size_t)n_images != ii->u.vlm.n_frames)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data.prompt has %d image parts but %zu frames were given",
                           n_images, ii->u.vlm.n_frames);

    long long v = ii->u.vlm.max_tokens;
    if ((rc = get_double(in, "temperature", "input_data.temperature", 0, 2, &ii->u.vlm.temperature,
                         err)) < 0 ||
        (rc = get_double(in, "top_p", "input_data.top_p", 0, 1, &ii->u.vlm.top_p, err)) < 0 ||
        (rc = get_int(in, "max_generated_tokens", "input_data.max_generated_tokens", 1,
                      INPUT_MAX_MAX_TOKENS, &v, err)) < 0)
        return rc;
    ii->u.vlm.max_tokens = (int)v;
    if (field(in, "seed")) {
        long long seed = 0;
        if ((rc = get_int(in, "seed", "input_data.seed", 0, 9007199254740991LL, &seed, err)) < 0)
            return rc;
        ii->u.vlm.has_seed = true;
        ii->u.vlm.seed = (uint64_t)seed;
    }

    return parse_stop(in, &ii->u.vlm.stop, &ii->u.vlm.n_stop, err);
}

/* ---- llm ----------------------------------------------------------------- */

/* Adds a message's or tool's size to the request's text total. */
static int text_budget(size_t *total, size_t add, hdm_err *err)
{
    *total += add;
    if (*total > INPUT_MAX_TEXT)
        return hdm_err_set(err, HDM_E_TOO_LARGE,
                           "input_data.messages text exceeds %u bytes in total", INPUT_MAX_TEXT);
    return 0;
}

/* content: a string, or a list of {"type": "text", "text"} parts (joined
 * with "\n"); absent or null is "". */
static int llm_content(const cJSON *msg, const char *where, char **out, hdm_err *err)
{
    const cJSON *content = field(msg, "content");
    buf text = {0};
    int rc = 0;
    if (!content || cJSON_IsString(content)) {
        const char *s = content ? content->valuestring : "";
        rc = buf_append(&text, s, strlen(s) + 1);
    } else if (cJSON_IsArray(content)) {
        if (cJSON_GetArraySize(content) > INPUT_MAX_PARTS)
            return hdm_err_set(err, HDM_E_TOO_LARGE, "%s.content has more than %d parts", where,
                               INPUT_MAX_PARTS);
        size_t i = 0;
        const cJSON *part;
        cJSON_ArrayForEach(part, content)
        {
            const cJSON *type = cJSON_IsObject(part) ? field(part, "type") : NULL;
            const cJSON *t = cJSON_IsObject(part) ? field(part, "text") : NULL;
            if (!cJSON_IsString(type) || strcmp(type->valuestring, "text") != 0) {
                buf_free(&text);
                return hdm_err_set(err, HDM_E_BAD_REQUEST,
                                   "%s.content[%zu] must be {\"type\": \"text\", \"text\": ...}: "
                                   "an llm model takes text only",
                                   where, i);
            }
            if (!cJSON_IsString(t)) {
                buf_free(&text);
                return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s.content[%zu].text must be a string",
                                   where, i);
            }
            if ((i > 0 && buf_append(&text, "\n", 1) < 0) ||
                buf_append(&text, t->valuestring, strlen(t->valuestring)) < 0)
                rc = -HDM_E_NOMEM;
            i++;
        }
        if (rc == 0)
            rc = buf_append(&text, "", 1);
    } else {
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s.content must be a string or a list of text parts", where);
    }
    if (rc < 0) {
        buf_free(&text);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    *out = (char *)text.data;
    return 0;
}

/* A tool or function name: non-empty, at most INPUT_MAX_TOOL_NAME bytes. */
static int tool_name_ok(const cJSON *name, const char *what, hdm_err *err)
{
    if (!cJSON_IsString(name) || !name->valuestring[0])
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be a non-empty string", what);
    if (strlen(name->valuestring) > INPUT_MAX_TOOL_NAME)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s is longer than %d bytes", what,
                           INPUT_MAX_TOOL_NAME);
    return 0;
}

/* An assistant's tool_calls, normalised to [{"function": {"name", "arguments": {}}}];
 * arguments may come as an object (Ollama) or as a string holding one (OpenAI). */
static int llm_tool_calls(const cJSON *calls, const char *where, cJSON **out, size_t *total,
                          hdm_err *err)
{
    if (!cJSON_IsArray(calls))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s.tool_calls must be a list", where);
    if (cJSON_GetArraySize(calls) > INPUT_MAX_TOOL_CALLS)
        return hdm_err_set(err, HDM_E_TOO_LARGE, "%s.tool_calls has more than %d calls", where,
                           INPUT_MAX_TOOL_CALLS);
    cJSON *list = cJSON_CreateArray();
    if (!list)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    *out = list;
    size_t i = 0;
    const cJSON *call;
    cJSON_ArrayForEach(call, calls)
    {
        char what[160];
        const cJSON *fn = cJSON_IsObject(call) ? field(call, "function") : NULL;
        if (!cJSON_IsObject(fn))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "%s.tool_calls[%zu] must be {\"function\": {\"name\", \"arguments\"}}",
                               where, i);
        snprintf(what, sizeof(what), "%s.tool_calls[%zu].function.name", where, i);
        int rc = tool_name_ok(field(fn, "name"), what, err);
        if (rc < 0)
            return rc;
        const cJSON *args = field(fn, "arguments");
        cJSON *parsed = NULL;
        if (!args) {
            parsed = cJSON_CreateObject();
        } else if (cJSON_IsString(args)) {
            parsed = cJSON_Parse(args->valuestring);
            if (!cJSON_IsObject(parsed)) {
                cJSON_Delete(parsed);
                return hdm_err_set(err, HDM_E_BAD_REQUEST,
                                   "%s.tool_calls[%zu].function.arguments must be a JSON object "
                                   "(or a string holding one)",
                                   where, i);
            }
        } else if (cJSON_IsObject(args)) {
            parsed = cJSON_Duplicate(args, 1);
        } else {
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "%s.tool_calls[%zu].function.arguments must be a JSON object", where,
                               i);
        }
        cJSON *c = cJSON_CreateObject(), *f = c ? cJSON_AddObjectToObject(c, "function") : NULL;
        if (!parsed || !f || !cJSON_AddStringToObject(f, "name", field(fn, "name")->valuestring)) {
            cJSON_Delete(parsed);
            cJSON_Delete(c);
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        }
        cJSON_AddItemToObject(f, "arguments", parsed);
        cJSON_AddItemToArray(list, c);
        char *text = cJSON_PrintUnformatted(c);
        size_t len = text ? strlen(text) : 0;
        cJSON_free(text);
        if ((rc = text_budget(total, len, err)) < 0)
            return rc;
        i++;
    }
    return 0;
}

static int parse_llm_message(const cJSON *msg, size_t index, llm_message *out, size_t *total,
                             hdm_err *err)
{
    char where[48];
    int rc;
    snprintf(where, sizeof(where), "input_data.messages[%zu]", index);
    if (!cJSON_IsObject(msg))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be an object", where);
    const cJSON *role = field(msg, "role");
    if (!cJSON_IsString(role))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s.role required", where);
    static const enum llm_role roles[] = {LLM_ROLE_SYSTEM, LLM_ROLE_USER, LLM_ROLE_ASSISTANT,
                                          LLM_ROLE_TOOL};
    size_t r = 0;
    while (r < 4 && strcmp(role->valuestring, llm_role_name(roles[r])) != 0)
        r++;
    if (r == 4)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s.role must be system, user, assistant or tool, not '%.64s'", where,
                           role->valuestring);
    out->role = roles[r];
    if ((rc = llm_content(msg, where, &out->content, err)) < 0 ||
        (rc = text_budget(total, strlen(out->content), err)) < 0)
        return rc;
    const cJSON *calls = field(msg, "tool_calls");
    if (calls && out->role != LLM_ROLE_ASSISTANT)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s.tool_calls: only assistant messages carry tool calls", where);
    if (calls && (rc = llm_tool_calls(calls, where, &out->tool_calls, total, err)) < 0)
        return rc;
    const cJSON *name = field(msg, "tool_name");
    if (!name)
        name = field(msg, "name");
    if (name && out->role == LLM_ROLE_TOOL) {
        char what[64];
        snprintf(what, sizeof(what), "%s.tool_name", where);
        if ((rc = tool_name_ok(name, what, err)) < 0)
            return rc;
        if (!(out->tool_name = strdup(name->valuestring)))
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    return 0;
}

static int parse_tools(const cJSON *tools, llm_input *li, size_t *total, hdm_err *err)
{
    if (!cJSON_IsArray(tools))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data.tools must be a list of tools");
    int n = cJSON_GetArraySize(tools);
    if (n > INPUT_MAX_TOOLS)
        return hdm_err_set(err, HDM_E_TOO_LARGE, "input_data.tools has more than %d tools",
                           INPUT_MAX_TOOLS);
    if (n == 0)
        return 0; /* no tools: the same as none given */
    int i = 0, rc;
    const cJSON *t;
    cJSON_ArrayForEach(t, tools)
    {
        char what[64];
        const cJSON *type = cJSON_IsObject(t) ? field(t, "type") : NULL;
        const cJSON *fn = cJSON_IsObject(t) ? field(t, "function") : NULL;
        if ((type && (!cJSON_IsString(type) || strcmp(type->valuestring, "function") != 0)) ||
            !cJSON_IsObject(fn))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "input_data.tools[%d] must be {\"type\": \"function\", "
                               "\"function\": {\"name\", \"description\", \"parameters\"}}",
                               i);
        snprintf(what, sizeof(what), "input_data.tools[%d].function.name", i);
        if ((rc = tool_name_ok(field(fn, "name"), what, err)) < 0)
            return rc;
        const cJSON *params = field(fn, "parameters");
        if (params && !cJSON_IsObject(params))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "input_data.tools[%d].function.parameters must be a JSON schema "
                               "object",
                               i);
        char *text = cJSON_PrintUnformatted(t);
        size_t len = text ? strlen(text) : 0;
        cJSON_free(text);
        if (!text)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        if ((rc = text_budget(total, len, err)) < 0)
            return rc;
        i++;
    }
    if (!(li->tools = cJSON_Duplicate(tools, 1)))
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    return 0;
}

static int opt_double(const cJSON *in, const char *name, double min, double max, bool *has,
                      double *out, hdm_err *err)
{
    char what[48];
    snprintf(what, sizeof(what), "input_data.%s", name);
    if (!field(in, name))
        return 0;
    *has = true;
    return get_double(in, name, what, min, max, out, err);
}

static int parse_llm(parse_ctx *pc, const cJSON *in, hdm_err *err)
{
    llm_input *li = &pc->j->input.u.llm;
    size_t total = 0;
    int rc;
    const cJSON *messages = field(in, "messages"), *prompt = field(in, "prompt");
    if (messages && prompt)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data: give messages or prompt, not both");
    if (prompt) {
        if (!cJSON_IsString(prompt))
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data.prompt must be a string");
        size_t len = strlen(prompt->valuestring);
        if (len == 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data.prompt must not be empty");
        if (len > INPUT_MAX_TEXT)
            return hdm_err_set(err, HDM_E_TOO_LARGE, "input_data.prompt exceeds %u bytes",
                               INPUT_MAX_TEXT);
        if (!(li->prompt = strdup(prompt->valuestring)))
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    } else {
        if (!messages)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "input_data.messages required (or a raw prompt)");
        if (!cJSON_IsArray(messages))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "input_data.messages must be a list of chat messages");
        int n = cJSON_GetArraySize(messages);
        if (n == 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data.messages must not be empty");
        if (n > INPUT_MAX_MESSAGES)
            return hdm_err_set(err, HDM_E_TOO_LARGE,
                               "input_data.messages has more than %d messages", INPUT_MAX_MESSAGES);
        if (!(li->messages = calloc((size_t)n, sizeof(llm_message))))
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        const cJSON *msg;
        cJSON_ArrayForEach(msg, messages)
        {
            llm_message *m = &li->messages[li->n_messages++]; /* counted first: clear() frees it */
            if ((rc = parse_llm_message(msg, li->n_messages - 1, m, &total, err)) < 0)
                return rc;
        }
    }
    const cJSON *tools = field(in, "tools");
    if (tools && (rc = parse_tools(tools, li, &total, err)) < 0)
        return rc;

    long long v = 0;
    if ((rc = opt_double(in, "temperature", 0, 2, &li->has_temperature, &li->temperature, err)) <
            0 ||
        (rc = opt_double(in, "top_p", 0, 1, &li->has_top_p, &li->top_p, err)) < 0 ||
        (rc = opt_double(in, "frequency_penalty", -2, 2, &li->has_frequency_penalty,
                         &li->frequency_penalty, err)) < 0)
        return rc;
    if (field(in, "top_k")) {
        if ((rc = get_int(in, "top_k", "input_data.top_k", 1, 1000, &v, err)) < 0)
            return rc;
        li->has_top_k = true;
        li->top_k = (int)v;
    }
    if (field(in, "seed")) {
        if ((rc = get_int(in, "seed", "input_data.seed", 0, (long long)INPUT_MAX_SEED, &v, err)) <
            0)
            return rc;
        li->has_seed = true;
        li->seed = (uint32_t)v;
    }
    v = 0;
    if ((rc = get_int(in, "max_generated_tokens", "input_data.max_generated_tokens", 1,
                      INPUT_MAX_MAX_TOKENS, &v, err)) < 0)
        return rc;
    li->max_tokens = (int)v;
    const char *format = NULL;
    if ((rc = get_string(in, "format", "input_data.format", 16, &format, err)) < 0)
        return rc;
    if (format && strcmp(format, "json") != 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data.format must be \"json\" (or absent), not '%s'", format);
    li->format = format ? LLM_FORMAT_JSON : LLM_FORMAT_TEXT;
    return parse_stop(in, &li->stop, &li->n_stop, err);
}

/* ---- whisper ------------------------------------------------------------- */

static bool language_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '-' || *s == '_'))
            return false;
    return true;
}

static int parse_whisper(parse_ctx *pc, const cJSON *in, hdm_err *err)
{
    infer_input *ii = &pc->j->input;
    hdm_tensor *audio = &ii->u.whisper.audio;
    int rc;
    const cJSON *a = field(in, "audio");
    if (!a)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "audio data is required for whisper");
    if (cJSON_IsArray(a)) {
        int n = cJSON_GetArraySize(a);
        if (n == 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "audio data is required for whisper");
        if ((unsigned)n > INPUT_MAX_AUDIO_SAMPLES)
            return hdm_err_set(err, HDM_E_TOO_LARGE, "input_data.audio has more than %u samples",
                               INPUT_MAX_AUDIO_SAMPLES);
        float *samples = malloc((size_t)n * sizeof(float));
        if (!samples || (rc = owned_push(pc->j, samples, err)) < 0)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        size_t i = 0;
        const cJSON *s;
        cJSON_ArrayForEach(s, a)
        {
            if (!cJSON_IsNumber(s) || !isfinite(s->valuedouble))
                return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data.audio[%zu] is not a number",
                                   i);
            samples[i++] = (float)s->valuedouble;
        }
        audio->dtype = HDM_DT_FLOAT32;
        audio->ndim = 1;
        audio->shape[0] = n;
        audio->data = samples;
        audio->nbytes = (size_t)n * sizeof(float);
    } else {
        if ((rc = get_tensor(pc, a, "input_data.audio", audio, err)) < 0 ||
            (rc = want_dtype(audio, "input_data.audio", HDM_DT_FLOAT32, err)) < 0)
            return rc;
        if (audio->ndim == 2 && audio->shape[0] == 1) {
            audio->ndim = 1;
            audio->shape[0] = audio->shape[1];
        }
        if (audio->ndim != 1)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "input_data.audio must be 1-D mono samples, got %d dimensions",
                               audio->ndim);
        if (audio->shape[0] == 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "audio data is required for whisper");
        if ((uint64_t)audio->shape[0] > INPUT_MAX_AUDIO_SAMPLES)
            return hdm_err_set(err, HDM_E_TOO_LARGE, "input_data.audio has more than %u samples",
                               INPUT_MAX_AUDIO_SAMPLES);
    }
    /* No language (absent or null) stays empty: the model detects it.
     * Forcing "en" here would make every translation a no-op. */
    const char *lang = NULL, *task = "transcribe";
    if ((rc = get_string(in, "language", "input_data.language", sizeof(ii->u.whisper.language) - 1,
                         &lang, err)) < 0 ||
        (rc = get_string(in, "task", "input_data.task", 32, &task, err)) < 0)
        return rc;
    if (lang && !language_ok(lang))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data.language '%s' is not a language code", lang);
    strcpy(ii->u.whisper.language, lang ? lang : "");
    if (strcmp(task, "transcribe") == 0)
        ii->u.whisper.task = WHISPER_TRANSCRIBE;
    else if (strcmp(task, "translate") == 0)
        ii->u.whisper.task = WHISPER_TRANSLATE;
    else
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data.task must be 'transcribe' or 'translate', not '%s'", task);
    return 0;
}

/* ---- ocr ----------------------------------------------------------------- */

static int parse_ocr(parse_ctx *pc, const cJSON *in, hdm_err *err)
{
    infer_input *ii = &pc->j->input;
    const char *mode = NULL;
    int rc;
    if ((rc = get_string(in, "mode", "input_data.mode", 32, &mode, err)) < 0)
        return rc;
    if (mode && strcmp(mode, "detection") == 0) {
        ii->u.ocr.mode = OCR_MODE_DETECTION;
        if ((rc = get_tensor(pc, field(in, "image"), "input_data.image", &ii->u.ocr.image, err)) <
            0)
            return rc;
        return want_dtype(&ii->u.ocr.image, "input_data.image", HDM_DT_UINT8, err);
    }
    if (!mode || strcmp(mode, "recognition") != 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "Unknown OCR mode: %.64s. Must be 'detection' or 'recognition'",
                           mode ? mode : "None");
    ii->u.ocr.mode = OCR_MODE_RECOGNITION;
    const char *lang = "en";
    long long batch = 0;
    if ((rc = get_string(in, "language", "input_data.language", sizeof(ii->u.ocr.language) - 1,
                         &lang, err)) < 0 ||
        (rc = get_int(in, "batch_size", "input_data.batch_size", 1, 256, &batch, err)) < 0)
        return rc;
    if (!language_ok(lang))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data.language '%s' is not a language code", lang);
    strcpy(ii->u.ocr.language, lang);
    ii->u.ocr.batch_size = (int)batch;
    const cJSON *crops = field(in, "crops");
    if (!crops)
        return 0;
    if (!cJSON_IsArray(crops))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data.crops must be a list of tensors");
    int n = cJSON_GetArraySize(crops);
    if (n > (int)INPUT_MAX_CROPS)
        return hdm_err_set(err, HDM_E_TOO_LARGE, "input_data.crops has more than %u crops",
                           INPUT_MAX_CROPS);
    if (n > 0 && !(ii->u.ocr.crops = calloc((size_t)n, sizeof(hdm_tensor))))
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    const cJSON *c;
    cJSON_ArrayForEach(c, crops)
    {
        char what[48];
        snprintf(what, sizeof(what), "input_data.crops[%zu]", ii->u.ocr.n_crops);
        hdm_tensor *t = &ii->u.ocr.crops[ii->u.ocr.n_crops];
        if ((rc = get_tensor(pc, c, what, t, err)) < 0 ||
            (rc = want_dtype(t, what, HDM_DT_UINT8, err)) < 0)
            return rc;
        ii->u.ocr.n_crops++;
    }
    return 0;
}

/* ---- depth, pose --------------------------------------------------------- */

static int parse_dense(parse_ctx *pc, const cJSON *in, hdm_err *err)
{
    hdm_tensor *t = &pc->j->input.u.dense.input;
    int rc;
    if ((rc = get_tensor(pc, field(in, "input"), "input_data.input", t, err)) < 0 ||
        (rc = want_dtype(t, "input_data.input", HDM_DT_UINT8, err)) < 0)
        return rc;
    if (t->ndim != 3 && t->ndim != 4)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data.input must be an image tensor (HWC, CHW or NCHW), got %d "
                           "dimensions",
                           t->ndim);
    return 0;
}

int infer_input_parse(job *j, const cJSON *input_data, const frame_attachment *att, uint32_t n_att,
                      hdm_err *err)
{
    memset(&j->input, 0, sizeof(j->input));
    j->input.kind = j->kind;
    if (!cJSON_IsObject(input_data))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data must be an object");
    parse_ctx pc = {j, att, n_att};
    int rc;
    switch (j->kind) {
    case MODEL_CLIP:
        rc = parse_clip(&pc, input_data, err);
        break;
    case MODEL_VLM:
        rc = parse_vlm(&pc, input_data, err);
        break;
    case MODEL_WHISPER:
        rc = parse_whisper(&pc, input_data, err);
        break;
    case MODEL_OCR:
        rc = parse_ocr(&pc, input_data, err);
        break;
    case MODEL_DEPTH:
    case MODEL_POSE:
        rc = parse_dense(&pc, input_data, err);
        break;
    case MODEL_LLM:
        rc = parse_llm(&pc, input_data, err);
        break;
    default:
        rc = hdm_err_set(err, HDM_E_UNSUPPORTED, "model type has no input parser");
        break;
    }
    if (rc < 0) {
        infer_input_clear(&j->input);
        j->input.kind = j->kind;
    }
    return rc;
}

void infer_input_clear(infer_input *in)
{
    if (!in)
        return;
    if (in->kind == MODEL_VLM) {
        free(in->u.vlm.prompt);
        for (size_t i = 0; i < in->u.vlm.n_messages; i++) {
            free(in->u.vlm.messages[i].role);
            free(in->u.vlm.messages[i].text);
        }
        free(in->u.vlm.messages);
        free(in->u.vlm.frames);
        for (size_t i = 0; i < in->u.vlm.n_stop; i++)
            free(in->u.vlm.stop[i]);
        free(in->u.vlm.stop);
    } else if (in->kind == MODEL_OCR) {
        free(in->u.ocr.crops);
    } else if (in->kind == MODEL_LLM) {
        llm_input *li = &in->u.llm;
        for (size_t i = 0; i < li->n_messages; i++) {
            free(li->messages[i].content);
            cJSON_Delete(li->messages[i].tool_calls);
            free(li->messages[i].tool_name);
        }
        free(li->messages);
        free(li->prompt);
        cJSON_Delete(li->tools);
        for (size_t i = 0; i < li->n_stop; i++)
            free(li->stop[i]);
        free(li->stop);
    }
    memset(in, 0, sizeof(*in));
}

/* ---- model_params -------------------------------------------------------- */

int infer_resolve_path(const modelpath_resolver *res, job *j, const char *path, const char *what,
                       const char *missing, char **out, hdm_err *err)
{
    if (res->remembered && path && (*out = res->remembered(res->ctx, j->kind, path)) != NULL)
        return 0;
    int rc = modelpath_resolve(res->allow, path, what, missing, out, err, NULL);
    if (rc == 0 && job_add_alias(j, path, *out) < 0) {
        free(*out);
        *out = NULL;
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    return rc;
}

static int param_string(const cJSON *params, const char *name, char **out, hdm_err *err)
{
    const cJSON *v = field(params, name);
    if (!v || (cJSON_IsString(v) && !v->valuestring[0]))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model_params.%s required", name);
    if (!cJSON_IsString(v))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model_params.%s must be a string", name);
    if (strlen(v->valuestring) > 255)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model_params.%s is longer than 255 bytes",
                           name);
    if (!(*out = strdup(v->valuestring)))
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    return 0;
}

static int param_path(job *j, const cJSON *params, const char *name, const modelpath_resolver *res,
                      char **out, hdm_err *err)
{
    const cJSON *v = field(params, name);
    if (!v || (cJSON_IsString(v) && !v->valuestring[0]))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model_params.%s required", name);
    if (!cJSON_IsString(v))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model_params.%s must be a string", name);
    char what[64], missing[80];
    snprintf(what, sizeof(what), "model_params.%s", name);
    snprintf(missing, sizeof(missing), "%s not found", what);
    return infer_resolve_path(res, j, v->valuestring, what, missing, out, err);
}

static int check_ocr(job *j, const cJSON *params, const modelpath_resolver *res, hdm_err *err)
{
    int rc;
    if ((rc = param_path(j, params, "detection_hef_path", res, &j->ocr_detection_hef, err)) < 0)
        return rc;
    const cJSON *rec = field(params, "recognition_hefs");
    if (!cJSON_IsObject(rec) || !rec->child)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "model_params.recognition_hefs required (an object {language: path})");
    if (cJSON_GetArraySize(rec) > INPUT_MAX_LANGS)
        return hdm_err_set(err, HDM_E_TOO_LARGE,
                           "model_params.recognition_hefs has more than %d languages",
                           INPUT_MAX_LANGS);
    if (!(j->ocr_recognition_hefs = cJSON_CreateObject()))
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    const cJSON *e;
    cJSON_ArrayForEach(e, rec)
    {
        if (!language_ok(e->string) || strlen(e->string) > 31)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "model_params.recognition_hefs: '%.64s' is not a language code",
                               e->string);
        if (!cJSON_IsString(e))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "model_params.recognition_hefs.%s must be a path", e->string);
        char what[96], missing[112], *canon = NULL;
        snprintf(what, sizeof(what), "model_params.recognition_hefs.%s", e->string);
        snprintf(missing, sizeof(missing), "%s not found", what);
        if ((rc = infer_resolve_path(res, j, e->valuestring, what, missing, &canon, err)) < 0)
            return rc;
        cJSON *s = cJSON_CreateString(canon);
        free(canon);
        if (!s || !cJSON_AddItemToObject(j->ocr_recognition_hefs, e->string, s)) {
            cJSON_Delete(s);
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        }
    }
    const cJSON *bs = field(params, "batch_sizes");
    if (bs) {
        if (!cJSON_IsObject(bs))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "model_params.batch_sizes must be an object {language: n}");
        cJSON_ArrayForEach(e, bs)
        {
            if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) ||
                e->valuedouble < 1 || e->valuedouble > 256)
                return hdm_err_set(err, HDM_E_BAD_REQUEST,
                                   "model_params.batch_sizes.%.64s must be an integer 1..256",
                                   e->string);
        }
        if (!(j->ocr_batch_sizes = cJSON_Duplicate(bs, 1)))
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    return 0;
}

int infer_model_params_check(job *j, const cJSON *model_params, const modelpath_resolver *res,
                             bool required, hdm_err *err)
{
    const cJSON *params = cJSON_IsNull(model_params) ? NULL : model_params;
    int rc;
    if (params && !cJSON_IsObject(params))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model_params must be an object");
    if (params && !(j->model_params = cJSON_Duplicate(params, 1)))
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    /* An empty object counts as absent: old clients send model_params: {}. */
    if (!required && (!params || !params->child))
        return 0;
    static const cJSON empty = {0};
    if (!params)
        params = &empty;
    switch (j->kind) {
    case MODEL_CLIP:
        if ((rc = param_path(j, params, "image_hef_path", res, &j->clip_image_hef, err)) < 0 ||
            (rc = param_path(j, params, "text_hef_path", res, &j->clip_text_hef, err)) < 0 ||
            (rc = param_string(params, "text_input_layer", &j->clip_text_input, err)) < 0 ||
            (rc = param_string(params, "text_output_layer", &j->clip_text_output, err)) < 0)
            return rc;
        return 0;
    case MODEL_OCR:
        return check_ocr(j, params, res, err);
    default:
        return 0;
    }
}
