/*
 * ollama.c - Ollama's /api/chat and /api/generate bodies to an llm_request.
 *
 * DESIGN.  The fields and their meaning are Ollama's (docs/api.md of
 * ollama/ollama): model, messages / prompt + system + raw, tools, format,
 * options, stream (true when absent), keep_alive.  An empty conversation
 * (chat without messages, generate without a prompt) loads the model, or
 * unloads it with keep_alive 0, as `ollama run` relies on.  Options this
 * model honours are checked and passed on (temperature, top_p, top_k, seed,
 * num_predict, stop, frequency_penalty); llama.cpp's own options (num_ctx,
 * repeat_penalty, mirostat, ...) have no HailoRT counterpart and are
 * ignored, as Ollama ignores options a model does not use.  What cannot be
 * honoured is refused by name: images, a JSON schema in format, suffix,
 * template, context, think.  num_predict above generation.max_tokens (or
 * -1, -2: "until the context is full") is capped there.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/llm.h"

static const cJSON *field(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNull(v) ? NULL : v;
}

/* ---- the model ------------------------------------------------------------ */

int llm_lookup_model(const cJSON *body, const llm_models *models, llm_request *r, hdm_err *err)
{
    const cJSON *model = field(body, "model");
    if (!model)
        model = field(body, "name"); /* the older spelling, still sent by some clients */
    if (!model || (cJSON_IsString(model) && !model->valuestring[0]))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model is required");
    if (!cJSON_IsString(model))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model must be a string");
    const llm_model *m = llm_models_find(models, model->valuestring);
    if (!m) {
        char list[1024];
        llm_models_list_text(models, list, sizeof(list));
        return hdm_err_set(err, HDM_E_NOT_FOUND,
                           "model \"%.200s\" not found; the models are the .hef files of the "
                           "model directory: %s",
                           model->valuestring, list);
    }
    r->model = *m;
    snprintf(r->asked, sizeof(r->asked), "%s", model->valuestring);
    return 0;
}

/* ---- options ---------------------------------------------------------------- */

static int opt_number(const cJSON *opts, const char *name, double lo, double hi, bool *has,
                      double *out, hdm_err *err)
{
    const cJSON *v = field(opts, name);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "options.%s must be a number between %g and %g",
                           name, lo, hi);
    *has = true;
    *out = v->valuedouble;
    return 0;
}

static int opt_integer(const cJSON *opts, const char *name, bool *has, double *out, hdm_err *err)
{
    const cJSON *v = field(opts, name);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble != floor(v->valuedouble))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "options.%s must be an integer", name);
    *has = true;
    *out = v->valuedouble;
    return 0;
}

static int parse_options(const cJSON *opts, const llm_config *cfg, llm_request *r, hdm_err *err)
{
    int rc;
    bool has;
    double v;
    r->max_tokens = cfg->max_tokens;
    if (!opts)
        return 0;
    if (!cJSON_IsObject(opts))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "options must be an object");
    if ((rc = opt_number(opts, "temperature", 0, 2, &r->has_temperature, &r->temperature, err)) <
            0 ||
        (rc = opt_number(opts, "top_p", 0, 1, &r->has_top_p, &r->top_p, err)) < 0 ||
        (rc = opt_number(opts, "frequency_penalty", -2, 2, &r->has_frequency_penalty,
                         &r->frequency_penalty, err)) < 0)
        return rc;
    has = false;
    if ((rc = opt_integer(opts, "top_k", &has, &v, err)) < 0)
        return rc;
    if (has && v > 1000)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "options.top_k must be at most 1000");
    if (has && v > 0) { /* 0 or less: no top-k limit, the model's default */
        r->has_top_k = true;
        r->top_k = (int)v;
    }
    has = false;
    if ((rc = opt_integer(opts, "seed", &has, &v, err)) < 0)
        return rc;
    if (has && v > 4294967294.0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "options.seed must be at most 4294967294 (HailoRT's seeds are 32 bits)");
    if (has && v >= 0) { /* negative: a random seed, the model's default */
        r->has_seed = true;
        r->seed = (uint32_t)v;
    }
    has = false;
    if ((rc = opt_integer(opts, "num_predict", &has, &v, err)) < 0)
        return rc;
    /* -1 (no limit) and -2 (fill the context) mean as much as allowed. */
    if (has && v > 0 && v < cfg->max_tokens)
        r->max_tokens = (int)v;
    const cJSON *stop = field(opts, "stop");
    if (stop) {
        if (!cJSON_IsArray(stop) && !cJSON_IsString(stop))
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "options.stop must be a list of strings");
        if (cJSON_IsString(stop))
            return llm_request_add_stop(r, stop->valuestring, "options.stop", err);
        const cJSON *s;
        int i = 0;
        cJSON_ArrayForEach(s, stop)
        {
            char what[32];
            snprintf(what, sizeof(what), "options.stop[%d]", i++);
            if (!cJSON_IsString(s))
                return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be a string", what);
            if ((rc = llm_request_add_stop(r, s->valuestring, what, err)) < 0)
                return rc;
        }
    }
    return 0;
}

/* ---- the common fields ---------------------------------------------------- */

static int parse_common(const cJSON *body, const llm_config *cfg, llm_request *r, hdm_err *err)
{
    int rc;
    const cJSON *stream = field(body, "stream");
    if (stream && !cJSON_IsBool(stream))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "stream must be true or false");
    r->stream = !stream || cJSON_IsTrue(stream);

    const cJSON *format = field(body, "format");
    if (format && cJSON_IsObject(format))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "format as a JSON schema (structured outputs) is not supported; use "
                           "\"format\": \"json\"");
    if (format && (!cJSON_IsString(format) ||
                   (format->valuestring[0] && strcmp(format->valuestring, "json") != 0)))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "format must be \"json\"");
    r->json = format && strcmp(format->valuestring, "json") == 0;

    const cJSON *think = field(body, "think");
    if (think && !cJSON_IsFalse(think))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "\"%s\" does not support thinking",
                           r->model.name);

    r->keep_alive = cfg->keep_alive;
    const cJSON *ka = field(body, "keep_alive");
    if (ka && (rc = llm_parse_keep_alive(ka, "keep_alive", &r->keep_alive, err)) < 0)
        return rc;
    return parse_options(field(body, "options"), cfg, r, err);
}

/* ---- /api/chat ---------------------------------------------------------------- */

static int chat_tool_calls(const cJSON *calls, int index, cJSON *msg, hdm_err *err)
{
    if (!cJSON_IsArray(calls))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "messages[%d].tool_calls must be a list", index);
    cJSON *copy = cJSON_Duplicate(calls, 1);
    if (!copy)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    cJSON_AddItemToObject(msg, "tool_calls", copy);
    return 0;
}

static int chat_message(const cJSON *m, int i, cJSON *out, hdm_err *err)
{
    static const char *const roles[] = {"system", "user", "assistant", "tool"};
    if (!cJSON_IsObject(m))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "messages[%d] must be an object", i);
    const cJSON *role = field(m, "role");
    if (!cJSON_IsString(role))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "messages[%d].role must be a string", i);
    size_t k = 0;
    while (k < 4 && strcmp(role->valuestring, roles[k]) != 0)
        k++;
    if (k == 4)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "messages[%d].role must be \"system\", \"user\", \"assistant\" or "
                           "\"tool\", not \"%.40s\"",
                           i, role->valuestring);
    const cJSON *content = field(m, "content");
    if (content && !cJSON_IsString(content))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "messages[%d].content must be a string", i);
    const cJSON *images = field(m, "images");
    if (images && (!cJSON_IsArray(images) || cJSON_GetArraySize(images) > 0))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "messages[%d].images: this model takes text only (for images use "
                           "hailo-vision)",
                           i);
    cJSON *msg = cJSON_CreateObject();
    if (!msg || !cJSON_AddStringToObject(msg, "role", roles[k]) ||
        !cJSON_AddStringToObject(msg, "content", content ? content->valuestring : "")) {
        cJSON_Delete(msg);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    cJSON_AddItemToArray(out, msg);
    const cJSON *calls = field(m, "tool_calls");
    int rc;
    if (calls && k != 2)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "messages[%d].tool_calls: only assistant messages carry tool calls", i);
    if (calls && (rc = chat_tool_calls(calls, i, msg, err)) < 0)
        return rc;
    const cJSON *name = field(m, "tool_name");
    if (name && k == 3) {
        if (!cJSON_IsString(name))
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "messages[%d].tool_name must be a string",
                               i);
        if (!cJSON_AddStringToObject(msg, "tool_name", name->valuestring))
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    return 0;
}

static int chat_tools(const cJSON *tools, llm_request *r, hdm_err *err)
{
    if (!cJSON_IsArray(tools))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "tools must be a list");
    if (cJSON_GetArraySize(tools) > LLM_MAX_TOOLS)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "tools has more than %d entries", LLM_MAX_TOOLS);
    if (cJSON_GetArraySize(tools) == 0)
        return 0;
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tools)
    {
        const cJSON *fn = cJSON_IsObject(t) ? field(t, "function") : NULL;
        const cJSON *name = cJSON_IsObject(fn) ? field(fn, "name") : NULL;
        if (!cJSON_IsString(name) || !name->valuestring[0])
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "tools[%d] must be {\"type\": \"function\", \"function\": "
                               "{\"name\", \"description\", \"parameters\"}}",
                               i);
        i++;
    }
    if (!(r->tools = cJSON_Duplicate(tools, 1)))
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    return 0;
}

static int parse_chat(const cJSON *body, llm_request *r, llm_op *op, hdm_err *err)
{
    int rc;
    const cJSON *msgs = field(body, "messages");
    if (msgs && !cJSON_IsArray(msgs))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "messages must be a list");
    int n = msgs ? cJSON_GetArraySize(msgs) : 0;
    if (n == 0) {
        *op = r->keep_alive == 0 ? LLM_OP_UNLOAD : LLM_OP_LOAD;
        return 0;
    }
    if (n > LLM_MAX_MESSAGES)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "messages has more than %d entries",
                           LLM_MAX_MESSAGES);
    if (!(r->messages = cJSON_CreateArray()))
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        if ((rc = chat_message(m, i++, r->messages, err)) < 0)
            return rc;
    }
    const cJSON *tools = field(body, "tools");
    if (tools && (rc = chat_tools(tools, r, err)) < 0)
        return rc;
    return 0;
}

/* ---- /api/generate -------------------------------------------------------------- */

static int add_text_message(cJSON *msgs, const char *role, const char *text)
{
    cJSON *m = cJSON_CreateObject();
    if (!m || !cJSON_AddStringToObject(m, "role", role) ||
        !cJSON_AddStringToObject(m, "content", text)) {
        cJSON_Delete(m);
        return -HDM_E_NOMEM;
    }
    cJSON_AddItemToArray(msgs, m);
    return 0;
}

static int parse_generate(const cJSON *body, llm_request *r, llm_op *op, hdm_err *err)
{
    const cJSON *prompt = field(body, "prompt"), *system = field(body, "system");
    const cJSON *raw = field(body, "raw"), *images = field(body, "images");
    static const char *const refused[][2] = {
        {"suffix", "suffix (fill in the middle) is not supported by this model"},
        {"template", "template is not supported: the model's own chat template applies (send "
                     "\"raw\": true with a prompt of your own)"},
    };
    for (size_t i = 0; i < 2; i++) {
        const cJSON *v = field(body, refused[i][0]);
        if (v && !(cJSON_IsString(v) && !v->valuestring[0]))
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s", refused[i][1]);
    }
    const cJSON *context = field(body, "context");
    if (context && !(cJSON_IsArray(context) && cJSON_GetArraySize(context) == 0))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "context (an earlier answer's tokens) is not supported: send the "
                           "conversation to /api/chat");
    if (images && (!cJSON_IsArray(images) || cJSON_GetArraySize(images) > 0))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "images: this model takes text only (for images use hailo-vision)");
    if (prompt && !cJSON_IsString(prompt))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "prompt must be a string");
    if (system && !cJSON_IsString(system))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "system must be a string");
    if (raw && !cJSON_IsBool(raw))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "raw must be true or false");
    if (!prompt || !prompt->valuestring[0]) {
        *op = r->keep_alive == 0 ? LLM_OP_UNLOAD : LLM_OP_LOAD;
        return 0;
    }
    if (cJSON_IsTrue(raw)) {
        if (!(r->prompt = strdup(prompt->valuestring)))
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        return 0;
    }
    if (!(r->messages = cJSON_CreateArray()) ||
        (system && system->valuestring[0] &&
         add_text_message(r->messages, "system", system->valuestring) < 0) ||
        add_text_message(r->messages, "user", prompt->valuestring) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    return 0;
}

int ollama_parse(const cJSON *body, bool chat, const llm_config *cfg, const llm_models *models,
                 llm_request *r, llm_op *op, hdm_err *err)
{
    int rc;
    memset(r, 0, sizeof(*r));
    *op = LLM_OP_GENERATE;
    if (!cJSON_IsObject(body))
        rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "the request body must be a JSON object");
    else if ((rc = llm_lookup_model(body, models, r, err)) == 0 &&
             (rc = parse_common(body, cfg, r, err)) == 0)
        rc = chat ? parse_chat(body, r, op, err) : parse_generate(body, r, op, err);
    if (rc == 0 && *op == LLM_OP_GENERATE)
        rc = llm_request_check_size(r, err);
    if (rc < 0)
        llm_request_free(r);
    return rc;
}
