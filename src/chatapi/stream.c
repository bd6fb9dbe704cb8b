/*
 * stream.c - a streamed chat completion: the Server-Sent Events producer
 * around a service's generation (chat_run_fn).
 *
 * DESIGN.  Text goes out as soon as the manager sends it (one event per
 * delta, no buffering here; the HTTP layer flushes each event).  When the
 * client hangs up, http_stream_send fails, the emit callback says so, and
 * libhailodm's closing of the manager connection cancels the generation; a
 * client that hangs up while the work waits on the manager (nothing is
 * being sent then) cancels it through the hang-up hook (chat_cancel).  An
 * error after the stream started is sent as an event {"error": {...}},
 * which the OpenAI SDKs raise as an exception.  Tool calls a service parsed
 * out of the answer go in one chunk before the finish chunk, each with its
 * index, as OpenAI streams them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chatapi/chatapi.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "http/http.h"

typedef struct stream_ctx {
    chat_run_fn run;
    void *user;
    void (*free_user)(void *user);
    char *model;
    bool include_usage;
    http_stream *stream;
    char id[48];
    long created;
    bool gone;        /* the client hung up */
    int n_sent;       /* content events sent */
    double t_handler; /* mono_s() when the handler chose to stream */
    double t_call;    /* mono_s() when the generation started */
} stream_ctx;

/* Sends one object as an event; consumes it.  Returns -1 once the client is gone. */
static int send_obj(stream_ctx *c, cJSON *obj)
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
    stream_ctx *c = user;
    double t = mono_s();
    int r = send_obj(c, sse_chunk(c->id, c->created, c->model, sse_delta(NULL, text, len), NULL,
                                  c->include_usage));
    if (c->n_sent++ == 0)
        log_debug("%s: first token %.3f ms after the handler (stream start %.3f ms, manager "
                  "%.3f ms, event %.3f ms)",
                  c->id, (mono_s() - c->t_handler) * 1e3, (c->t_call - c->t_handler) * 1e3,
                  (t - c->t_call) * 1e3, (mono_s() - t) * 1e3);
    return r < 0;
}

/* {tool_calls: [{index, id, type, function}]}: each call with its index first. */
static cJSON *tool_calls_delta(const cJSON *calls)
{
    cJSON *d = cJSON_CreateObject(), *list = d ? cJSON_AddArrayToObject(d, "tool_calls") : NULL;
    if (!list)
        goto fail;
    int i = 0;
    const cJSON *call;
    cJSON_ArrayForEach(call, calls)
    {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            goto fail;
        cJSON_AddItemToArray(list, o);
        if (!cJSON_AddNumberToObject(o, "index", i++))
            goto fail;
        const cJSON *field;
        cJSON_ArrayForEach(field, call)
        {
            cJSON *copy = cJSON_Duplicate(field, 1);
            if (!copy)
                goto fail;
            cJSON_AddItemToObject(o, field->string, copy);
        }
    }
    return d;
fail:
    cJSON_Delete(d);
    return NULL;
}

static void produce(http_stream *s, void *user)
{
    stream_ctx *c = user;
    chat_result res = {0};
    hdm_err err = {0};
    c->stream = s;
    if (send_obj(c, sse_chunk(c->id, c->created, c->model, sse_delta("assistant", "", 0), NULL,
                              c->include_usage)) < 0)
        return;
    c->t_call = mono_s();
    chat_cancel cc;
    chat_cancel_begin(&cc, http_stream_request(s));
    int r = c->run(c->user, send_text, c, cc.fd, &res, &err);
    chat_cancel_end(&cc);
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
    if ((!res.tool_calls ||
         send_obj(c, sse_chunk(c->id, c->created, c->model, tool_calls_delta(res.tool_calls), NULL,
                               c->include_usage)) == 0) &&
        send_obj(c, sse_chunk(c->id, c->created, c->model, cJSON_CreateObject(), res.finish_reason,
                              c->include_usage)) == 0 &&
        (!c->include_usage ||
         send_obj(c, sse_usage_chunk(c->id, c->created, c->model, res.prompt_tokens,
                                     res.completion_tokens)) == 0))
        http_stream_send(s, "data: [DONE]\n\n", 14);
    chat_result_free(&res);
}

static void free_ctx(void *user)
{
    stream_ctx *c = user;
    if (!c)
        return;
    if (c->free_user)
        c->free_user(c->user);
    free(c->model);
    free(c);
}

int openai_stream_start(struct http_request *hr, const char *model, bool include_usage,
                        chat_run_fn run, void *user, void (*free_user)(void *user))
{
    stream_ctx *c = calloc(1, sizeof(*c));
    char *m = strdup(model);
    if (!c || !m) {
        free(c);
        free(m);
        if (free_user)
            free_user(user);
        return -HDM_E_NOMEM;
    }
    c->run = run;
    c->user = user;
    c->free_user = free_user;
    c->model = m;
    c->include_usage = include_usage;
    c->created = (long)time(NULL);
    c->t_handler = mono_s();
    completion_new_id(c->id, sizeof(c->id));
    http_request_stream(hr, produce, c, free_ctx);
    return 0;
}
