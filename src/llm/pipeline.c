/*
 * pipeline.c - hailo-llm and the device manager: one generation (the llm
 * infer, docs/PROTOCOL.md), Ollama's load and unload, and the loaded models
 * /api/ps lists.  No HTTP here.
 *
 * DESIGN.  A generation is one streaming infer run by chatapi's
 * chat_gen_run (stop strings held back across deltas, the manager cancelled
 * when the client hangs up, usage and finish reason from the manager's
 * final frame: the model's own token counts).  The conversation is put in
 * the request by reference, never copied.  With tools, the visible text
 * goes through the tool-call filter (toolcall.c) first, so a call never
 * shows as text and the answer's text is what is left around the calls.
 * keep_alive goes with every request: the manager keeps the model that
 * long after its last use, and swaps it with the VLM in the GenAI slot
 * when either is needed.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/log.h"
#include "llm/llm.h"

int llm_status_for(int code)
{
    switch (code < 0 ? -code : code) {
    case HDM_E_BAD_REQUEST:
        return 400;
    case HDM_E_NOT_FOUND:
        return 404;
    case HDM_E_TOO_LARGE:
        return 413;
    case HDM_E_UNSUPPORTED:
        return 501;
    case HDM_E_UNAVAILABLE:
    case HDM_E_CANCELLED:
    case HDM_E_BUSY:
    case HDM_E_RESOURCE_EXHAUSTED:
    case HDM_E_DEADLINE_EXCEEDED:
        return 503;
    default:
        return 500;
    }
}

static int build_request(const llm_config *cfg, const llm_request *r, hdm_request **out)
{
    hdm_request *req = hdm_request_new("infer");
    if (!req)
        return -HDM_E_NOMEM;
    cJSON *j = hdm_request_json(req), *in;
    bool ok = cJSON_AddStringToObject(j, "model_type", LLM_MODEL_TYPE) &&
              cJSON_AddStringToObject(j, "model_path", r->model.path) &&
              cJSON_AddNumberToObject(j, "keep_alive", r->keep_alive) &&
              cJSON_AddStringToObject(j, "priority", "interactive") &&
              (in = cJSON_AddObjectToObject(j, "input_data")) &&
              cJSON_AddNumberToObject(in, "max_generated_tokens",
                                      r->max_tokens > 0 ? r->max_tokens : cfg->max_tokens);
    /* References: the conversation and tools are serialised, never copied. */
    if (ok && r->messages)
        ok = cJSON_AddItemReferenceToObject(in, "messages", r->messages);
    if (ok && r->prompt)
        ok = cJSON_AddStringToObject(in, "prompt", r->prompt) != NULL;
    if (ok && r->tools)
        ok = cJSON_AddItemReferenceToObject(in, "tools", r->tools);
    if (ok && r->has_temperature)
        ok = cJSON_AddNumberToObject(in, "temperature", r->temperature) != NULL;
    if (ok && r->has_top_p)
        ok = cJSON_AddNumberToObject(in, "top_p", r->top_p) != NULL;
    if (ok && r->has_top_k)
        ok = cJSON_AddNumberToObject(in, "top_k", r->top_k) != NULL;
    if (ok && r->has_frequency_penalty)
        ok = cJSON_AddNumberToObject(in, "frequency_penalty", r->frequency_penalty) != NULL;
    if (ok && r->has_seed)
        ok = cJSON_AddNumberToObject(in, "seed", r->seed) != NULL;
    if (ok && r->json)
        ok = cJSON_AddStringToObject(in, "format", "json") != NULL;
    if (ok && r->n_stop > 0) {
        cJSON *st = cJSON_AddArrayToObject(in, "stop");
        ok = st != NULL;
        for (int i = 0; ok && i < r->n_stop; i++) {
            cJSON *s = cJSON_CreateString(r->stop[i]);
            ok = s != NULL;
            if (ok)
                cJSON_AddItemToArray(st, s);
        }
    }
    if (!ok) {
        hdm_request_free(req);
        return -HDM_E_NOMEM;
    }
    *out = req;
    return 0;
}

/* The text around tool calls, as the client sees it. */
typedef struct visible {
    buf text;
    stop_emit_fn emit;
    void *user;
} visible;

static int visible_emit(void *user, const char *text, size_t len)
{
    visible *v = user;
    if (buf_append(&v->text, text, len) < 0)
        return -HDM_E_NOMEM;
    return v->emit ? v->emit(v->user, text, len) : 0;
}

/* Replaces out->text by the text around the calls, trimmed when there were calls. */
static int take_visible(visible *v, toolcall_filter *tf, chat_result *out, hdm_err *err)
{
    out->tool_calls = toolcall_take(tf);
    const char *s = v->text.len ? (const char *)v->text.data : "";
    size_t n = v->text.len;
    if (out->tool_calls) {
        while (n && isspace((unsigned char)*s))
            s++, n--;
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
    }
    char *copy = malloc(n + 1);
    if (!copy)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    memcpy(copy, s, n);
    copy[n] = '\0';
    free(out->text);
    out->text = copy;
    out->text_len = n;
    return 0;
}

int llm_generate(llm_app *app, const llm_request *r, stop_emit_fn emit, void *user, int cancel_fd,
                 chat_result *out, hdm_err *err)
{
    hdm_request *req = NULL;
    memset(out, 0, sizeof(*out));
    if (build_request(app->cfg, r, &req) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory building the manager request");
    int timeout = app->cfg->timeout_s * 1000, rc;
    if (!r->tools) {
        rc = chat_gen_run(app->client, req, timeout, r->stop, r->n_stop, r->max_tokens, emit, user,
                          cancel_fd, out, err);
    } else {
        visible v = {.emit = emit, .user = user};
        toolcall_filter tf;
        toolcall_init(&tf, visible_emit, &v);
        rc = chat_gen_run(app->client, req, timeout, r->stop, r->n_stop, r->max_tokens,
                          toolcall_feed, &tf, cancel_fd, out, err);
        if (rc == 0 && (rc = toolcall_flush(&tf)) != 0)
            rc = tf.failed || rc < 0 ? hdm_err_set(err, HDM_E_NOMEM, "out of memory")
                                     : hdm_err_set(err, HDM_E_CANCELLED, "the client went away");
        if (rc == 0 && tf.failed)
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        if (rc == 0)
            rc = take_visible(&v, &tf, out, err);
        if (rc < 0)
            chat_result_free(out);
        toolcall_free(&tf);
        buf_free(&v.text);
    }
    hdm_request_free(req);
    /* The manager gone, or a device error: the keeper checks at once. */
    if (rc == -HDM_E_UNAVAILABLE || rc == -HDM_E_DEVICE_ERROR)
        svc_keeper_recheck(app->keeper,
                           rc == -HDM_E_UNAVAILABLE ? "device manager unavailable" : NULL);
    return rc;
}

int llm_load(llm_app *app, const llm_request *r, llm_op op, hdm_err *err)
{
    hdm_response *resp = NULL;
    int rc = op == LLM_OP_UNLOAD
                 ? hdm_unload_model(app->client, LLM_MODEL_TYPE, r->model.path, &resp)
                 : hdm_load_model(app->client, LLM_MODEL_TYPE, r->model.path, NULL, r->keep_alive,
                                  &resp);
    if (rc < 0) {
        const char *why = resp ? hdm_response_error(resp) : NULL;
        hdm_err_set(err, -rc, "%s", why ? why : hdm_strerror(rc));
    }
    hdm_response_free(resp);
    return rc;
}

cJSON *llm_running(llm_app *app, const llm_models *models, hdm_err *err)
{
    hdm_request *req = hdm_request_new("status");
    hdm_response *resp = NULL;
    cJSON *out = NULL, *list;
    if (!req) {
        hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        return NULL;
    }
    int rc = hdm_call(app->client, req, 5000, &resp);
    hdm_request_free(req);
    if (rc < 0) {
        const char *why = resp ? hdm_response_error(resp) : NULL;
        hdm_err_set(err, -rc, "%s", why ? why : hdm_strerror(rc));
        goto out;
    }
    if (!(out = cJSON_CreateObject()) || !(list = cJSON_AddArrayToObject(out, "models")))
        goto nomem;
    const cJSON *loaded =
        cJSON_GetObjectItemCaseSensitive(hdm_response_json(resp), "loaded_models");
    const cJSON *e;
    int64_t now_ns = (int64_t)time(NULL) * 1000000000LL;
    cJSON_ArrayForEach(e, loaded)
    {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "model_type");
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "model_path");
        if (!cJSON_IsString(type) || strcmp(type->valuestring, LLM_MODEL_TYPE) != 0 ||
            !cJSON_IsString(path))
            continue;
        const llm_model *m = NULL;
        for (size_t i = 0; i < models->n && !m; i++)
            if (strcmp(models->items[i].path, path->valuestring) == 0)
                m = &models->items[i];
        if (!m)
            continue; /* loaded by another client from elsewhere */
        const cJSON *fp = cJSON_GetObjectItemCaseSensitive(e, "footprint_bytes");
        const cJSON *left = cJSON_GetObjectItemCaseSensitive(e, "expires_in_seconds");
        char name[LLM_MAX_NAME + 8], expires[64];
        snprintf(name, sizeof(name), "%s:latest", m->name);
        /* No expiry (pinned, or resident until memory is needed): far ahead
         * (2100-01-01), as Ollama shows a model kept forever. */
        ollama_time(cJSON_IsNumber(left) ? now_ns + (int64_t)(left->valuedouble * 1e9)
                                         : 4102444800LL * 1000000000LL,
                    expires, sizeof(expires));
        double bytes = cJSON_IsNumber(fp) ? fp->valuedouble : (double)m->bytes;
        cJSON *o = cJSON_CreateObject(), *details = llm_model_details(m);
        if (!o || !details) {
            cJSON_Delete(o);
            cJSON_Delete(details);
            goto nomem;
        }
        cJSON_AddItemToArray(list, o);
        cJSON_AddStringToObject(o, "name", name);
        cJSON_AddStringToObject(o, "model", name);
        cJSON_AddNumberToObject(o, "size", bytes);
        cJSON_AddStringToObject(o, "digest", m->digest);
        cJSON_AddItemToObject(o, "details", details);
        cJSON_AddStringToObject(o, "expires_at", expires);
        if (!cJSON_AddNumberToObject(o, "size_vram", bytes))
            goto nomem;
    }
    goto out;
nomem:
    cJSON_Delete(out);
    out = NULL;
    hdm_err_set(err, HDM_E_NOMEM, "out of memory");
out:
    hdm_response_free(resp);
    return out;
}
