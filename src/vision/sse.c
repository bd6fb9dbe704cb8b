/*
 * sse.c - streamed chat completions as Server-Sent Events.
 *
 * DESIGN.  The event sequence is OpenAI's:
 *   data: chunk {delta: {role: "assistant", content: ""}}
 *   data: chunk {delta: {content: "..."}}        one per piece of text
 *   data: chunk {delta: {}, finish_reason}
 *   data: chunk {choices: [], usage}              only with include_usage
 *   data: [DONE]
 * With include_usage every other chunk carries "usage": null, as OpenAI's
 * do.  Text goes out as soon as the manager sends it (one event per
 * delta, no buffering here; the HTTP layer flushes each event).  When the
 * client hangs up, http_stream_send fails, the delta callback says so, and
 * libhailodm's closing of the manager connection cancels the generation.
 * An error after the stream started is sent as an event {"error": {...}},
 * which the OpenAI SDKs raise as an exception.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "http/http.h"
#include "vision/vision.h"

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

/* ---- the producer -------------------------------------------------------- */

typedef struct sse_ctx {
    vision_app *app;
    chat_request req;
    uint8_t *frames;
    http_stream *stream;
    char id[48];
    long created;
    bool gone;        /* the client hung up */
    int n_sent;       /* content events sent */
    double t_handler; /* mono_s() when the handler chose to stream */
    double t_call;    /* mono_s() when the manager was asked */
} sse_ctx;

/* Sends one object as an event; consumes it.  Returns -1 once the client is gone. */
static int send_obj(sse_ctx *c, cJSON *obj)
{
    size_t len;
    char *ev = obj ? sse_event(obj, &len) : NULL;
    cJSON_Delete(obj);
    if (!ev)
        return -1;
    int r = http_stream_send(c->stream, ev, len);
    free(ev);
    if (r < 0)
        c->gone = true;
    return r < 0 ? -1 : 0;
}

static int send_text(void *user, const char *text, size_t len)
{
    sse_ctx *c = user;
    const cJSON_bool usage_null = c->req.params.include_usage;
    double t = mono_s();
    int r = send_obj(c, sse_chunk(c->id, c->created, c->app->cfg->model_name,
                                  sse_delta(NULL, text, len), NULL, usage_null));
    if (c->n_sent++ == 0)
        log_debug("%s: first token %.3f ms after the handler (stream start %.3f ms, manager "
                  "%.3f ms, event %.3f ms)",
                  c->id, (mono_s() - c->t_handler) * 1e3, (c->t_call - c->t_handler) * 1e3,
                  (t - c->t_call) * 1e3, (mono_s() - t) * 1e3);
    return r < 0;
}

static void produce(http_stream *s, void *user)
{
    sse_ctx *c = user;
    const char *model = c->app->cfg->model_name;
    bool usage_null = c->req.params.include_usage;
    gen_result res = {0};
    hdm_err err = {0};
    c->stream = s;
    if (send_obj(c, sse_chunk(c->id, c->created, model, sse_delta("assistant", "", 0), NULL,
                              usage_null)) < 0)
        return;
    c->t_call = mono_s();
    /* A client that hangs up while the work waits on the manager (nothing
     * is being sent then) cancels it through the hang-up hook. */
    vision_cancel vc;
    vision_cancel_begin(&vc, http_stream_request(s));
    int r = gen_run(c->app->client, c->app->model, c->app->cfg, c->req.prompt, c->frames,
                    c->req.n_images, &c->req.params, send_text, c, vc.fd, &res, &err);
    vision_cancel_end(&vc);
    if (r == -HDM_E_CANCELLED && http_stream_closed(s))
        c->gone = true; /* our cancel; the manager's (shutting down) is an error event */
    if (r < 0) {
        if (c->gone) {
            log_info("%s: client went away, generation cancelled", c->id);
            return;
        }
        int status = -r == HDM_E_NOT_FOUND ? 503 : completion_status_for(r);
        log_warn("%s: generation failed: %s", c->id, err.msg);
        send_obj(c, completion_error(status, err.msg, NULL, hdm_error_code_name(r)));
        return;
    }
    if (send_obj(c, sse_chunk(c->id, c->created, model, cJSON_CreateObject(), res.finish_reason,
                              usage_null)) == 0 &&
        (!c->req.params.include_usage ||
         send_obj(c, sse_usage_chunk(c->id, c->created, model, res.prompt_tokens,
                                     res.completion_tokens)) == 0))
        http_stream_send(s, "data: [DONE]\n\n", 14);
    gen_result_free(&res);
}

static void free_ctx(void *user)
{
    sse_ctx *c = user;
    if (!c)
        return;
    chat_request_free(&c->req);
    free(c->frames);
    free(c);
}

int sse_start(struct http_request *hr, vision_app *app, chat_request *req, uint8_t *frames)
{
    sse_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        chat_request_free(req);
        free(frames);
        return -HDM_E_NOMEM;
    }
    c->app = app;
    c->req = *req;
    memset(req, 0, sizeof(*req));
    c->frames = frames;
    c->created = (long)time(NULL);
    c->t_handler = mono_s();
    completion_new_id(c->id, sizeof(c->id));
    http_request_stream(hr, produce, c, free_ctx);
    return 0;
}
