/*
 * openai.c - an OpenAI /v1/chat/completions body to an llm_request.
 *
 * DESIGN.  The generation parameters are chatapi's (openai_parse_params,
 * as hailo-vision reads them); what is particular to a text model is here:
 * the roles (developer is system), text content parts, an assistant's
 * tool_calls (arguments as a JSON string) and the tool messages that answer
 * them (tool_call_id names the call, so the tool's name is known), tools
 * and tool_choice "auto" / "none", response_format json_object, and
 * frequency_penalty (HailoRT's only repetition control).  What the model
 * cannot honour is refused by name (images, json_schema, presence_penalty,
 * logprobs, n > 1).  Every error names OpenAI's "param".
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm/llm.h"

static const cJSON *field(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNull(v) ? NULL : v;
}

typedef struct parse_ctx {
    llm_request *r;
    const char **param;
    hdm_err *err;
} parse_ctx;

static int fail(parse_ctx *c, const char *param, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(parse_ctx *c, const char *param, int code, const char *fmt, ...)
{
    char msg[sizeof(c->err->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    *c->param = param;
    return hdm_err_set(c->err, code, "%s", msg);
}

/* content: a string, null, or text parts joined with "\n". */
static int content_text(parse_ctx *c, const cJSON *content, int i, char **out)
{
    if (!content || cJSON_IsString(content)) {
        *out = strdup(content ? content->valuestring : "");
        return *out ? 0 : fail(c, NULL, HDM_E_NOMEM, "out of memory");
    }
    if (!cJSON_IsArray(content))
        return fail(c, "messages", HDM_E_BAD_REQUEST,
                    "messages[%d].content must be a string or a list of content parts", i);
    size_t len = 0, j = 0;
    const cJSON *part;
    cJSON_ArrayForEach(part, content)
    {
        const cJSON *type = cJSON_IsObject(part) ? field(part, "type") : NULL;
        const cJSON *text = cJSON_IsObject(part) ? field(part, "text") : NULL;
        if (!cJSON_IsString(type))
            return fail(c, "messages", HDM_E_BAD_REQUEST,
                        "messages[%d].content[%zu] must be an object with a string \"type\"", i, j);
        if (strcmp(type->valuestring, "text") != 0)
            return fail(c, "messages", HDM_E_BAD_REQUEST,
                        "messages[%d].content[%zu].type \"%.40s\": this model takes text only", i,
                        j, type->valuestring);
        if (!cJSON_IsString(text))
            return fail(c, "messages", HDM_E_BAD_REQUEST,
                        "messages[%d].content[%zu].text must be a string", i, j);
        len += strlen(text->valuestring) + 1;
        j++;
    }
    char *s = malloc(len + 1), *p = s;
    if (!s)
        return fail(c, NULL, HDM_E_NOMEM, "out of memory");
    j = 0;
    cJSON_ArrayForEach(part, content)
    {
        const char *t = field(part, "text")->valuestring;
        if (j++)
            *p++ = '\n';
        memcpy(p, t, strlen(t));
        p += strlen(t);
    }
    *p = '\0';
    *out = s;
    return 0;
}

/* An assistant's OpenAI tool_calls as the manager takes them. */
static int tool_calls(parse_ctx *c, const cJSON *calls, int i, cJSON *msg)
{
    if (!cJSON_IsArray(calls))
        return fail(c, "messages", HDM_E_BAD_REQUEST, "messages[%d].tool_calls must be a list", i);
    cJSON *list = cJSON_AddArrayToObject(msg, "tool_calls");
    if (!list)
        return fail(c, NULL, HDM_E_NOMEM, "out of memory");
    size_t j = 0;
    const cJSON *call;
    cJSON_ArrayForEach(call, calls)
    {
        const cJSON *fn = cJSON_IsObject(call) ? field(call, "function") : NULL;
        const cJSON *name = cJSON_IsObject(fn) ? field(fn, "name") : NULL;
        if (!cJSON_IsString(name))
            return fail(c, "messages", HDM_E_BAD_REQUEST,
                        "messages[%d].tool_calls[%zu].function.name must be a string", i, j);
        cJSON *o = cJSON_CreateObject(), *f = o ? cJSON_AddObjectToObject(o, "function") : NULL;
        const cJSON *args = field(fn, "arguments");
        cJSON *a = args ? cJSON_Duplicate(args, 1) : cJSON_CreateObject();
        if (!f || !a || !cJSON_AddStringToObject(f, "name", name->valuestring)) {
            cJSON_Delete(a);
            cJSON_Delete(o);
            return fail(c, NULL, HDM_E_NOMEM, "out of memory");
        }
        cJSON_AddItemToObject(f, "arguments", a);
        cJSON_AddItemToArray(list, o);
        j++;
    }
    return 0;
}

/* The name of the call `id` made in an earlier assistant message of msgs. */
static const char *call_name(const cJSON *msgs, int upto, const char *id)
{
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        if (i++ >= upto)
            break;
        const cJSON *calls = field(m, "tool_calls"), *call;
        if (!cJSON_IsArray(calls))
            continue;
        cJSON_ArrayForEach(call, calls)
        {
            const cJSON *cid = field(call, "id");
            const cJSON *name = field(field(call, "function"), "name");
            if (cJSON_IsString(cid) && strcmp(cid->valuestring, id) == 0 && cJSON_IsString(name))
                return name->valuestring;
        }
    }
    return NULL;
}

static int message(parse_ctx *c, const cJSON *msgs, const cJSON *m, int i)
{
    static const char *const roles[][2] = {{"system", "system"},
                                           {"developer", "system"},
                                           {"user", "user"},
                                           {"assistant", "assistant"},
                                           {"tool", "tool"}};
    if (!cJSON_IsObject(m))
        return fail(c, "messages", HDM_E_BAD_REQUEST, "messages[%d] must be an object", i);
    const cJSON *role = field(m, "role");
    if (!cJSON_IsString(role))
        return fail(c, "messages", HDM_E_BAD_REQUEST, "messages[%d].role must be a string", i);
    size_t k = 0;
    while (k < 5 && strcmp(role->valuestring, roles[k][0]) != 0)
        k++;
    if (k == 5)
        return fail(c, "messages", HDM_E_BAD_REQUEST,
                    "messages[%d].role must be \"system\", \"developer\", \"user\", \"assistant\" "
                    "or \"tool\", not \"%.40s\"",
                    i, role->valuestring);
    char *text = NULL;
    int rc = content_text(c, field(m, "content"), i, &text);
    if (rc < 0)
        return rc;
    cJSON *msg = cJSON_CreateObject();
    if (!msg || !cJSON_AddStringToObject(msg, "role", roles[k][1]) ||
        !cJSON_AddStringToObject(msg, "content", text)) {
        free(text);
        cJSON_Delete(msg);
        return fail(c, NULL, HDM_E_NOMEM, "out of memory");
    }
    free(text);
    cJSON_AddItemToArray(c->r->messages, msg);
    const cJSON *calls = field(m, "tool_calls");
    if (calls && k != 3)
        return fail(c, "messages", HDM_E_BAD_REQUEST,
                    "messages[%d].tool_calls: only assistant messages carry tool calls", i);
    if (calls && (rc = tool_calls(c, calls, i, msg)) < 0)
        return rc;
    if (k == 4) {
        const cJSON *id = field(m, "tool_call_id");
        const char *name = cJSON_IsString(id) ? call_name(msgs, i, id->valuestring) : NULL;
        if (name && !cJSON_AddStringToObject(msg, "tool_name", name))
            return fail(c, NULL, HDM_E_NOMEM, "out of memory");
    }
    return 0;
}

static int tools(parse_ctx *c, const cJSON *body)
{
    const cJSON *t = field(body, "tools"), *choice = field(body, "tool_choice");
    if (choice && !(cJSON_IsString(choice) && (strcmp(choice->valuestring, "auto") == 0 ||
                                               strcmp(choice->valuestring, "none") == 0)))
        return fail(c, "tool_choice", HDM_E_BAD_REQUEST,
                    "tool_choice must be \"auto\" or \"none\": the model decides whether to call "
                    "a tool");
    if (!t)
        return 0;
    if (!cJSON_IsArray(t))
        return fail(c, "tools", HDM_E_BAD_REQUEST, "tools must be a list");
    if (cJSON_GetArraySize(t) > LLM_MAX_TOOLS)
        return fail(c, "tools", HDM_E_BAD_REQUEST, "tools has more than %d entries", LLM_MAX_TOOLS);
    int i = 0;
    const cJSON *tool;
    cJSON_ArrayForEach(tool, t)
    {
        const cJSON *type = cJSON_IsObject(tool) ? field(tool, "type") : NULL;
        const cJSON *name = field(field(tool, "function"), "name");
        if (!cJSON_IsString(type) || strcmp(type->valuestring, "function") != 0 ||
            !cJSON_IsString(name) || !name->valuestring[0])
            return fail(c, "tools", HDM_E_BAD_REQUEST,
                        "tools[%d] must be {\"type\": \"function\", \"function\": {\"name\", "
                        "\"description\", \"parameters\"}}",
                        i);
        i++;
    }
    if (i == 0 || (choice && strcmp(choice->valuestring, "none") == 0))
        return 0;
    if (!(c->r->tools = cJSON_Duplicate(t, 1)))
        return fail(c, NULL, HDM_E_NOMEM, "out of memory");
    return 0;
}

/* response_format, penalties and the parameters OpenAI has that HailoRT has not. */
static int extras(parse_ctx *c, const cJSON *body)
{
    llm_request *r = c->r;
    const cJSON *rf = field(body, "response_format");
    if (rf) {
        const cJSON *type = cJSON_IsObject(rf) ? field(rf, "type") : NULL;
        if (!cJSON_IsString(type) || (strcmp(type->valuestring, "text") != 0 &&
                                      strcmp(type->valuestring, "json_object") != 0))
            return fail(c, "response_format", HDM_E_BAD_REQUEST,
                        "response_format must be {\"type\": \"text\"} or {\"type\": "
                        "\"json_object\"} (json_schema is not supported)");
        r->json = strcmp(type->valuestring, "json_object") == 0;
    }
    const cJSON *fp = field(body, "frequency_penalty");
    if (fp) {
        if (!cJSON_IsNumber(fp) || !isfinite(fp->valuedouble) || fp->valuedouble < -2 ||
            fp->valuedouble > 2)
            return fail(c, "frequency_penalty", HDM_E_BAD_REQUEST,
                        "frequency_penalty must be a number between -2 and 2");
        r->has_frequency_penalty = true;
        r->frequency_penalty = fp->valuedouble;
    }
    const cJSON *pp = field(body, "presence_penalty");
    if (pp && !(cJSON_IsNumber(pp) && pp->valuedouble == 0))
        return fail(c, "presence_penalty", HDM_E_BAD_REQUEST,
                    "presence_penalty is not supported by this model (frequency_penalty is)");
    const cJSON *lp = field(body, "logprobs");
    if (lp && !cJSON_IsFalse(lp))
        return fail(c, "logprobs", HDM_E_BAD_REQUEST, "logprobs is not supported by this model");
    const cJSON *tk = field(body, "top_k");
    if (tk) {
        if (!cJSON_IsNumber(tk) || tk->valuedouble != floor(tk->valuedouble) ||
            tk->valuedouble < 1 || tk->valuedouble > 1000)
            return fail(c, "top_k", HDM_E_BAD_REQUEST, "top_k must be an integer from 1 to 1000");
        r->has_top_k = true;
        r->top_k = (int)tk->valuedouble;
    }
    return 0;
}

int openai_parse(const cJSON *body, const llm_config *cfg, const llm_models *models, llm_request *r,
                 const char **param, hdm_err *err)
{
    parse_ctx c = {.r = r, .param = param, .err = err};
    chat_params p = {0};
    const chat_defaults d = {
        .temperature = 0.7, .top_p = 1, .max_tokens = cfg->max_tokens, .seed = -1};
    int rc;
    memset(r, 0, sizeof(*r));
    *param = NULL;
    if (!cJSON_IsObject(body)) {
        rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "the request body must be a JSON object");
        goto out;
    }
    if ((rc = llm_lookup_model(body, models, r, err)) < 0) {
        *param = "model";
        goto out;
    }
    if ((rc = openai_parse_params(body, &d, &p, param, err)) < 0)
        goto out;
    r->has_temperature = p.has_temperature;
    r->temperature = p.temperature;
    r->has_top_p = p.has_top_p;
    r->top_p = p.top_p;
    r->max_tokens = p.max_tokens;
    r->has_seed = p.seed >= 0;
    r->seed = p.seed >= 0 ? (uint32_t)p.seed : 0;
    r->stream = p.stream;
    r->include_usage = p.include_usage;
    r->keep_alive = cfg->keep_alive;
    for (int i = 0; i < p.n_stop; i++)
        if ((rc = llm_request_add_stop(r, p.stop[i], "stop", err)) < 0) {
            *param = "stop";
            goto out;
        }

    const cJSON *msgs = field(body, "messages");
    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0) {
        rc = fail(&c, "messages", HDM_E_BAD_REQUEST, "messages must be a non-empty list");
        goto out;
    }
    if (cJSON_GetArraySize(msgs) > LLM_MAX_MESSAGES) {
        rc = fail(&c, "messages", HDM_E_BAD_REQUEST, "messages has more than %d entries",
                  LLM_MAX_MESSAGES);
        goto out;
    }
    if (!(r->messages = cJSON_CreateArray())) {
        rc = fail(&c, NULL, HDM_E_NOMEM, "out of memory");
        goto out;
    }
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        if ((rc = message(&c, msgs, m, i++)) < 0)
            goto out;
    }
    if ((rc = tools(&c, body)) < 0 || (rc = extras(&c, body)) < 0)
        goto out;
    if ((rc = llm_request_check_size(r, err)) < 0)
        *param = "messages";
out:
    chat_params_free(&p);
    if (rc < 0)
        llm_request_free(r);
    return rc;
}
