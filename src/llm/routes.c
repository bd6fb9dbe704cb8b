/*
 * routes.c - hailo-llm's HTTP endpoints: Ollama's /api/..., OpenAI's /v1/...,
 * health.  Route table and request/response JSON only; the manager work is
 * pipeline.c.
 *
 * Handlers run on the HTTP layer's pool threads; several generations may
 * wait at once and the manager serialises the device work, so there is no
 * lock here.  Order of checks: the body (400/404/413), then the manager.
 * Errors are Ollama's {"error": "..."} on /api routes (and for the layer's
 * own errors), OpenAI's {"error": {message, type, param, code}} on /v1.
 * Ollama streams newline-delimited JSON (application/x-ndjson), OpenAI
 * Server-Sent Events; a client that hangs up cancels its generation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "http/http.h"
#include "llm/llm.h"

#define NDJSON "application/x-ndjson"

static void ollama_error(http_reply *reply, int status, const char *msg)
{
    http_reply_error(reply, status, "%s", msg);
}

/* Scans the model directory; false after replying 500. */
static bool scan(llm_app *app, llm_models *m, http_reply *reply, bool openai)
{
    if (llm_models_scan(app->cfg, m) == 0)
        return true;
    if (openai)
        openai_reply_error(reply, 500, "out of memory listing the models", NULL, NULL);
    else
        ollama_error(reply, 500, "out of memory listing the models");
    return false;
}

/* ---- plain answers ----------------------------------------------------------- */

static void root(http_request *hr, http_reply *reply, void *user)
{
    (void)hr;
    (void)user;
    /* What Ollama answers: clients probe for it. */
    http_reply_text(reply, 200, "text/plain; charset=utf-8", "Ollama is running");
}

static void health(http_request *hr, http_reply *reply, void *user)
{
    llm_app *app = user;
    char backend[32];
    llm_models m;
    (void)hr;
    if (!scan(app, &m, reply, false))
        return;
    svc_keeper_backend(app->keeper, backend, sizeof(backend));
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "status", "ok");
        cJSON_AddStringToObject(o, "service", "hailo-llm");
        cJSON_AddStringToObject(o, "version", HDM_VERSION);
        cJSON_AddStringToObject(o, "models_dir", app->cfg->models_dir);
        cJSON_AddNumberToObject(o, "models", (double)m.n);
        cJSON_AddBoolToObject(o, "manager_reachable", svc_keeper_reachable(app->keeper));
        cJSON_AddNumberToObject(o, "uptime_seconds", mono_s() - app->started_at);
        cJSON_AddStringToObject(o, "backend", backend);
    }
    llm_models_free(&m);
    http_reply_json(reply, 200, o);
}

static void ready(http_request *hr, http_reply *reply, void *user)
{
    llm_app *app = user;
    char reason[256];
    (void)hr;
    bool ok = svc_keeper_ready(app->keeper, reason, sizeof(reason));
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddBoolToObject(o, "ready", ok);
        if (!ok)
            cJSON_AddStringToObject(o, "reason", reason);
    }
    http_reply_json(reply, ok ? 200 : 503, o);
}

static void version(http_request *hr, http_reply *reply, void *user)
{
    (void)hr;
    (void)user;
    cJSON *o = cJSON_CreateObject();
    if (o)
        cJSON_AddStringToObject(o, "version", HDM_VERSION);
    http_reply_json(reply, 200, o);
}

static void tags(http_request *hr, http_reply *reply, void *user)
{
    llm_app *app = user;
    llm_models m;
    (void)hr;
    if (!scan(app, &m, reply, false))
        return;
    cJSON *o = cJSON_CreateObject(), *list = o ? cJSON_AddArrayToObject(o, "models") : NULL;
    for (size_t i = 0; list && i < m.n; i++) {
        cJSON *t = ollama_tag(&m.items[i]);
        if (!t) {
            list = NULL;
            break;
        }
        cJSON_AddItemToArray(list, t);
    }
    llm_models_free(&m);
    if (!list) {
        cJSON_Delete(o);
        return ollama_error(reply, 500, "out of memory");
    }
    http_reply_json(reply, 200, o);
}

static void ps(http_request *hr, http_reply *reply, void *user)
{
    llm_app *app = user;
    llm_models m;
    hdm_err err = {0};
    (void)hr;
    if (!scan(app, &m, reply, false))
        return;
    cJSON *o = llm_running(app, &m, &err);
    llm_models_free(&m);
    if (!o)
        return ollama_error(reply, llm_status_for(err.code ? err.code : HDM_E_NOMEM), err.msg);
    http_reply_json(reply, 200, o);
}

static void show(http_request *hr, http_reply *reply, void *user)
{
    llm_app *app = user;
    llm_models m;
    llm_request r = {0};
    hdm_err err = {0};
    if (!scan(app, &m, reply, false))
        return;
    int rc = cJSON_IsObject(http_request_json(hr))
                 ? llm_lookup_model(http_request_json(hr), &m, &r, &err)
                 : hdm_err_set(&err, HDM_E_BAD_REQUEST, "the request body must be a JSON object");
    llm_models_free(&m);
    if (rc < 0)
        return ollama_error(reply, llm_status_for(rc), err.msg);
    cJSON *o = ollama_show(&r.model);
    if (!o)
        return ollama_error(reply, 500, "out of memory");
    http_reply_json(reply, 200, o);
}

static void pull(http_request *hr, http_reply *reply, void *user)
{
    llm_app *app = user;
    llm_models m;
    llm_request r = {0};
    hdm_err err = {0};
    char msg[1400];
    if (!scan(app, &m, reply, false))
        return;
    int rc = cJSON_IsObject(http_request_json(hr))
                 ? llm_lookup_model(http_request_json(hr), &m, &r, &err)
                 : hdm_err_set(&err, HDM_E_BAD_REQUEST, "the request body must be a JSON object");
    if (rc == -HDM_E_NOT_FOUND) {
        char list[1024];
        llm_models_list_text(&m, list, sizeof(list));
        snprintf(msg, sizeof(msg),
                 "hailo-llm does not download models: the models are the .hef files of %s (now: "
                 "%s); copy the model's HEF there, named as the Hailo GenAI model zoo names it "
                 "(e.g. qwen2.5-1.5b-instruct.hef)",
                 app->cfg->models_dir, list);
    }
    llm_models_free(&m);
    if (rc == -HDM_E_NOT_FOUND)
        return ollama_error(reply, 404, msg);
    if (rc < 0)
        return ollama_error(reply, llm_status_for(rc), err.msg);
    /* Already there: nothing to pull, which Ollama's clients take as done. */
    cJSON *o = cJSON_CreateObject();
    if (o)
        cJSON_AddStringToObject(o, "status", "success");
    http_reply_json(reply, 200, o);
}

static void not_here(http_request *hr, http_reply *reply, void *user)
{
    llm_app *app = user;
    const char *path = http_request_path(hr);
    char msg[512];
    if (strcmp(path, "/api/delete") == 0)
        snprintf(msg, sizeof(msg), "hailo-llm does not delete models: remove the .hef file from %s",
                 app->cfg->models_dir);
    else if (strcmp(path, "/api/embed") == 0 || strcmp(path, "/api/embeddings") == 0)
        snprintf(msg, sizeof(msg),
                 "embeddings are not offered by HailoRT's LLM; for text and image embeddings "
                 "use hailo-clip");
    else
        snprintf(msg, sizeof(msg),
                 "%s is not supported: hailo-llm serves the HEFs of %s as they are (no "
                 "Modelfiles, copies or pushes)",
                 path, app->cfg->models_dir);
    ollama_error(reply, 501, msg);
}

/* ---- Ollama generations ------------------------------------------------------------ */

typedef struct ollama_stream {
    llm_app *app;
    llm_request req;
    bool chat;
    double t0;
    http_stream *s;
    bool gone;
} ollama_stream;

static int send_line(ollama_stream *c, cJSON *obj)
{
    size_t len;
    char *line = obj ? ollama_line(obj, &len) : NULL;
    cJSON_Delete(obj);
    if (!line)
        return -1;
    int r = http_stream_send(c->s, line, len);
    free(line);
    if (r < 0)
        c->gone = true;
    return r < 0 ? -1 : 0;
}

static int ndjson_text(void *user, const char *text, size_t len)
{
    ollama_stream *c = user;
    return send_line(c, ollama_chunk(c->chat, c->req.asked, text, len, NULL)) < 0;
}

static void ollama_produce(http_stream *s, void *user)
{
    ollama_stream *c = user;
    chat_result res = {0};
    hdm_err err = {0};
    c->s = s;
    chat_cancel cc;
    chat_cancel_begin(&cc, http_stream_request(s));
    int rc = llm_generate(c->app, &c->req, ndjson_text, c, cc.fd, &res, &err);
    chat_cancel_end(&cc);
    if (rc == -HDM_E_CANCELLED && http_stream_closed(s))
        c->gone = true;
    if (rc < 0) {
        if (c->gone) {
            log_info("%s: client went away, generation cancelled", c->req.asked);
            return;
        }
        log_warn("generation failed (%s): %s", hdm_error_code_name(rc), err.msg);
        cJSON *e = cJSON_CreateObject();
        if (e)
            cJSON_AddStringToObject(e, "error", err.msg);
        send_line(c, e);
        return;
    }
    if (!res.tool_calls ||
        send_line(c, ollama_chunk(c->chat, c->req.asked, "", 0, res.tool_calls)) == 0)
        send_line(c, ollama_final(c->chat, c->req.asked, &res, NULL, (mono_s() - c->t0) * 1e3));
    chat_result_free(&res);
}

static void ollama_stream_free(void *user)
{
    ollama_stream *c = user;
    llm_request_free(&c->req);
    free(c);
}

static void ollama_generation(http_request *hr, http_reply *reply, llm_app *app, bool chat)
{
    double t0 = mono_s();
    llm_models m;
    llm_request r;
    llm_op op;
    hdm_err err = {0};
    chat_result res = {0};
    if (!scan(app, &m, reply, false))
        return;
    int rc = ollama_parse(http_request_json(hr), chat, app->cfg, &m, &r, &op, &err);
    llm_models_free(&m);
    if (rc < 0)
        return ollama_error(reply, llm_status_for(rc), err.msg);
    if (op != LLM_OP_GENERATE) {
        if ((rc = llm_load(app, &r, op, &err)) < 0)
            ollama_error(reply, llm_status_for(rc), err.msg);
        else
            http_reply_json(reply, 200, ollama_load_reply(chat, r.asked, op));
        goto out;
    }
    if (r.stream) {
        ollama_stream *c = calloc(1, sizeof(*c));
        if (!c) {
            ollama_error(reply, 500, "out of memory starting the stream");
            goto out;
        }
        *c = (ollama_stream){.app = app, .req = r, .chat = chat, .t0 = t0};
        memset(&r, 0, sizeof(r));
        http_request_stream_as(hr, NDJSON, ollama_produce, c, ollama_stream_free);
        return;
    }
    chat_cancel cc;
    chat_cancel_begin(&cc, hr);
    rc = llm_generate(app, &r, NULL, NULL, cc.fd, &res, &err);
    chat_cancel_end(&cc);
    if (rc < 0) {
        bool gone = rc == -HDM_E_CANCELLED && http_request_closed(hr);
        if (!gone)
            log_warn("generation failed (%s): %s", hdm_error_code_name(rc), err.msg);
        ollama_error(reply, gone ? 499 : llm_status_for(rc), err.msg);
        goto out;
    }
    cJSON *o = ollama_final(chat, r.asked, &res, res.text, (mono_s() - t0) * 1e3);
    if (!o)
        ollama_error(reply, 500, "out of memory building the answer");
    else
        http_reply_json(reply, 200, o);
out:
    chat_result_free(&res);
    llm_request_free(&r);
}

static void api_chat(http_request *hr, http_reply *reply, void *user)
{
    ollama_generation(hr, reply, user, true);
}

static void api_generate(http_request *hr, http_reply *reply, void *user)
{
    ollama_generation(hr, reply, user, false);
}

/* ---- OpenAI ------------------------------------------------------------------------- */

static void v1_models(http_request *hr, http_reply *reply, void *user)
{
    llm_app *app = user;
    llm_models m;
    (void)hr;
    if (!scan(app, &m, reply, true))
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON *data = o && cJSON_AddStringToObject(o, "object", "list")
                      ? cJSON_AddArrayToObject(o, "data")
                      : NULL;
    for (size_t i = 0; data && i < m.n; i++) {
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddStringToObject(e, "id", m.items[i].name) ||
            !cJSON_AddStringToObject(e, "object", "model") ||
            !cJSON_AddNumberToObject(e, "created", (double)(m.items[i].mtime_ns / 1000000000LL)) ||
            !cJSON_AddStringToObject(e, "owned_by", "hailo")) {
            cJSON_Delete(e);
            data = NULL;
            break;
        }
        cJSON_AddItemToArray(data, e);
    }
    llm_models_free(&m);
    if (!data) {
        cJSON_Delete(o);
        return openai_reply_error(reply, 500, "out of memory", NULL, NULL);
    }
    http_reply_json(reply, 200, o);
}

/* OpenAI's calls and finish reason in place of Ollama's. */
static int to_openai(chat_result *res, hdm_err *err)
{
    if (!res->tool_calls)
        return 0;
    cJSON *calls = toolcall_to_openai(res->tool_calls);
    if (!calls)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    cJSON_Delete(res->tool_calls);
    res->tool_calls = calls;
    res->finish_reason = "tool_calls";
    return 0;
}

typedef struct openai_stream {
    llm_app *app;
    llm_request req;
} openai_stream;

static int openai_run(void *user, stop_emit_fn emit, void *emit_user, int cancel_fd,
                      chat_result *out, hdm_err *err)
{
    openai_stream *c = user;
    int rc = llm_generate(c->app, &c->req, emit, emit_user, cancel_fd, out, err);
    if (rc == 0 && (rc = to_openai(out, err)) < 0)
        chat_result_free(out);
    return rc;
}

static void openai_stream_free(void *user)
{
    openai_stream *c = user;
    llm_request_free(&c->req);
    free(c);
}

static void v1_chat(http_request *hr, http_reply *reply, void *user)
{
    llm_app *app = user;
    llm_models m;
    llm_request r;
    hdm_err err = {0};
    const char *param = NULL;
    chat_result res = {0};
    if (!scan(app, &m, reply, true))
        return;
    int rc = openai_parse(http_request_json(hr), app->cfg, &m, &r, &param, &err);
    llm_models_free(&m);
    if (rc == -HDM_E_NOT_FOUND)
        return openai_reply_error(reply, 404, err.msg, param, "model_not_found");
    if (rc < 0)
        return openai_reply_error(reply, completion_status_for(rc), err.msg, param,
                                  rc == -HDM_E_NOMEM ? NULL : "invalid_request");
    if (r.stream) {
        openai_stream *c = calloc(1, sizeof(*c));
        if (!c) {
            openai_reply_error(reply, 500, "out of memory starting the stream", NULL, NULL);
            goto out;
        }
        c->app = app;
        c->req = r;
        memset(&r, 0, sizeof(r));
        if (openai_stream_start(hr, c->req.asked, c->req.include_usage, openai_run, c,
                                openai_stream_free) < 0)
            openai_reply_error(reply, 500, "out of memory starting the stream", NULL, NULL);
        return;
    }
    char id[48];
    long created = (long)time(NULL);
    completion_new_id(id, sizeof(id));
    chat_cancel cc;
    chat_cancel_begin(&cc, hr);
    rc = llm_generate(app, &r, NULL, NULL, cc.fd, &res, &err);
    chat_cancel_end(&cc);
    if (rc == 0)
        rc = to_openai(&res, &err);
    if (rc < 0) {
        /* The manager's not_found here is the HEF gone from under us, not a bad request. */
        openai_reply_gen_error(reply, rc, &err, http_request_closed(hr));
        goto out;
    }
    cJSON *o = completion_build(id, created, r.asked, &res, res.load_ms);
    if (!o)
        openai_reply_error(reply, 500, "out of memory building the answer", NULL, NULL);
    else
        http_reply_json(reply, 200, o);
out:
    chat_result_free(&res);
    llm_request_free(&r);
}

void llm_routes_build(http_route *routes)
{
    const unsigned ollama_body = HTTP_BODY_JSON_ANY;
    const http_route table[] = {
        {"GET", "/", root, HTTP_BODY_NONE, true},
        {"GET", "/health", health, HTTP_BODY_NONE, true},
        {"GET", "/health/ready", ready, HTTP_BODY_NONE, true},
        {"GET", "/api/version", version, HTTP_BODY_NONE, false},
        {"GET", "/api/tags", tags, HTTP_BODY_NONE, false},
        {"GET", "/api/ps", ps, HTTP_BODY_NONE, false},
        {"POST", "/api/show", show, ollama_body, false},
        {"POST", "/api/chat", api_chat, ollama_body, false},
        {"POST", "/api/generate", api_generate, ollama_body, false},
        {"POST", "/api/pull", pull, ollama_body, false},
        {"DELETE", "/api/delete", not_here, HTTP_BODY_NONE, false},
        {"POST", "/api/create", not_here, HTTP_BODY_NONE, false},
        {"POST", "/api/copy", not_here, HTTP_BODY_NONE, false},
        {"POST", "/api/push", not_here, HTTP_BODY_NONE, false},
        {"POST", "/api/embed", not_here, HTTP_BODY_NONE, false},
        {"POST", "/api/embeddings", not_here, HTTP_BODY_NONE, false},
        {"GET", "/v1/models", v1_models, HTTP_BODY_NONE, false},
        {"POST", "/v1/chat/completions", v1_chat, HTTP_BODY_JSON, false},
        {NULL, NULL, NULL, 0, false},
    };
    _Static_assert(sizeof(table) / sizeof(table[0]) <= LLM_MAX_ROUTES, "route table size");
    memcpy(routes, table, sizeof(table));
}
