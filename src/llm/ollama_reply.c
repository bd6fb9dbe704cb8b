/*
 * ollama_reply.c - Ollama's answers: streamed lines and final objects of
 * /api/chat and /api/generate, /api/tags entries and /api/show.
 *
 * Field names, order and types are Ollama's (docs/api.md of ollama/ollama):
 * times are RFC 3339 with nanoseconds, durations integer nanoseconds,
 * counts the model's tokens.  What Ollama reads from a GGUF file and a
 * Modelfile but a HEF does not say to the service (its chat template,
 * default parameters, quantisation, license) is given as empty strings,
 * never guessed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http.h"
#include "llm/llm.h"

void ollama_time(int64_t unix_ns, char *out, size_t len)
{
    time_t s = (time_t)(unix_ns / 1000000000LL);
    long ns = (long)(unix_ns % 1000000000LL);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t o = strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
    if (ns > 0 && o + 11 < len) {
        char frac[16];
        snprintf(frac, sizeof(frac), ".%09ld", ns);
        size_t n = strlen(frac);
        while (frac[n - 1] == '0') /* Go trims trailing zeros */
            frac[--n] = '\0';
        memcpy(out + o, frac, n + 1);
        o += n;
    }
    if (o + 2 <= len)
        memcpy(out + o, "Z", 2);
}

static void now_text(char *out, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ollama_time((int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec, out, len);
}

/* {"model", "created_at"} */
static cJSON *head(const char *model)
{
    char when[64];
    now_text(when, sizeof(when));
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, "model", model) ||
              !cJSON_AddStringToObject(o, "created_at", when))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* "message": {role, content, tool_calls?} or "response": text. */
static bool add_text(cJSON *o, bool chat, const char *text, size_t len, const cJSON *tool_calls)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return false;
    memcpy(copy, text, len);
    copy[len] = '\0';
    bool ok;
    if (chat) {
        cJSON *m = cJSON_AddObjectToObject(o, "message");
        ok = m && cJSON_AddStringToObject(m, "role", "assistant") &&
             cJSON_AddStringToObject(m, "content", copy);
        if (ok && tool_calls) {
            cJSON *calls = cJSON_Duplicate(tool_calls, 1);
            ok = calls != NULL;
            if (ok)
                cJSON_AddItemToObject(m, "tool_calls", calls);
        }
    } else {
        ok = cJSON_AddStringToObject(o, "response", copy) != NULL;
    }
    free(copy);
    return ok;
}

cJSON *ollama_chunk(bool chat, const char *model, const char *text, size_t len,
                    const cJSON *tool_calls)
{
    cJSON *o = head(model);
    if (!o || !add_text(o, chat, text, len, tool_calls) || !cJSON_AddFalseToObject(o, "done")) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static double ns(double ms)
{
    return ms > 0 ? round(ms * 1e6) : 0;
}

cJSON *ollama_final(bool chat, const char *model, const chat_result *res, const char *text,
                    double total_ms)
{
    cJSON *o = head(model);
    const char *t = text ? text : "";
    /* A tool call ends a turn as any answer does: Ollama says "stop". */
    const char *reason = strcmp(res->finish_reason, "length") == 0 ? "length" : "stop";
    double prefill = res->first_text_ms - res->load_ms;
    double eval = res->total_ms - res->first_text_ms;
    if (!o || !add_text(o, chat, t, strlen(t), text ? res->tool_calls : NULL) ||
        !cJSON_AddStringToObject(o, "done_reason", reason) || !cJSON_AddTrueToObject(o, "done") ||
        !cJSON_AddNumberToObject(o, "total_duration", ns(total_ms)) ||
        !cJSON_AddNumberToObject(o, "load_duration", ns(res->load_ms)) ||
        !cJSON_AddNumberToObject(o, "prompt_eval_count", res->prompt_tokens) ||
        !cJSON_AddNumberToObject(o, "prompt_eval_duration", ns(prefill)) ||
        !cJSON_AddNumberToObject(o, "eval_count", res->completion_tokens) ||
        !cJSON_AddNumberToObject(o, "eval_duration", ns(eval))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *ollama_load_reply(bool chat, const char *model, llm_op op)
{
    cJSON *o = head(model);
    if (!o || !add_text(o, chat, "", 0, NULL) ||
        !cJSON_AddStringToObject(o, "done_reason", op == LLM_OP_UNLOAD ? "unload" : "load") ||
        !cJSON_AddTrueToObject(o, "done")) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

char *ollama_line(const cJSON *obj, size_t *len)
{
    if (http_json_fix_utf8((cJSON *)obj) < 0)
        return NULL;
    char *json = cJSON_PrintUnformatted(obj);
    if (!json)
        return NULL;
    size_t n = strlen(json);
    char *line = malloc(n + 2);
    if (line) {
        memcpy(line, json, n);
        line[n] = '\n';
        line[n + 1] = '\0';
        *len = n + 1;
    }
    cJSON_free(json);
    return line;
}

cJSON *ollama_tag(const llm_model *m)
{
    char name[LLM_MAX_NAME + 8], when[64];
    snprintf(name, sizeof(name), "%s:latest", m->name);
    ollama_time(m->mtime_ns, when, sizeof(when));
    cJSON *o = cJSON_CreateObject(), *details = llm_model_details(m);
    if (!o || !details || !cJSON_AddStringToObject(o, "name", name) ||
        !cJSON_AddStringToObject(o, "model", name) ||
        !cJSON_AddStringToObject(o, "modified_at", when) ||
        !cJSON_AddNumberToObject(o, "size", (double)m->bytes) ||
        !cJSON_AddStringToObject(o, "digest", m->digest)) {
        cJSON_Delete(o);
        cJSON_Delete(details);
        return NULL;
    }
    cJSON_AddItemToObject(o, "details", details);
    return o;
}

cJSON *ollama_show(const llm_model *m)
{
    char modelfile[PATH_MAX + 128], when[64];
    snprintf(modelfile, sizeof(modelfile),
             "# The model is the HEF below; its chat template and defaults are inside it.\n"
             "FROM %s\n",
             m->path);
    ollama_time(m->mtime_ns, when, sizeof(when));
    cJSON *o = cJSON_CreateObject(), *details = llm_model_details(m), *info, *caps;
    if (!o || !details)
        goto fail;
    cJSON_AddStringToObject(o, "license", "");
    cJSON_AddStringToObject(o, "modelfile", modelfile);
    cJSON_AddStringToObject(o, "parameters", "");
    cJSON_AddStringToObject(o, "template", "");
    cJSON_AddItemToObject(o, "details", details);
    details = NULL;
    if (!(info = cJSON_AddObjectToObject(o, "model_info")) ||
        !cJSON_AddStringToObject(info, "general.architecture", m->family) ||
        !cJSON_AddStringToObject(info, "general.basename", m->name) ||
        !cJSON_AddStringToObject(info, "general.file_type", "hef") ||
        !cJSON_AddStringToObject(info, "general.size_label", m->size_label) ||
        !(caps = cJSON_AddArrayToObject(o, "capabilities")))
        goto fail;
    const char *const cap_names[] = {"completion", "tools"};
    for (size_t i = 0; i < 2; i++) {
        cJSON *c = cJSON_CreateString(cap_names[i]);
        if (!c)
            goto fail;
        cJSON_AddItemToArray(caps, c);
    }
    if (!cJSON_AddStringToObject(o, "modified_at", when))
        goto fail;
    return o;
fail:
    cJSON_Delete(details);
    cJSON_Delete(o);
    return NULL;
}
