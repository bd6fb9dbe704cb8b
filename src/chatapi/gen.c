/*
 * gen.c - one text generation on the device manager.
 *
 * DESIGN.  Every generation, streamed to the HTTP client or not, is a
 * streaming infer (hdm_call_stream): text arrives token by token, and when
 * the consumer goes away the callback returns non-zero, libhailodm closes
 * the connection and the manager cancels the work.  The same happens when
 * the HTTP client hangs up while nothing is being written to it (queued on
 * the manager, or a non-streamed answer): the caller's cancel descriptor
 * (chat_cancel_begin) makes libhailodm close the connection.  Stop
 * sequences travel to the manager in the caller's request, which ends the
 * generation there and reports real token counts and the finish reason;
 * they also run through stop.c here so a stop sequence split across deltas
 * is never shown to the client.  Usage and finish_reason come from the
 * manager's final frame; only if the manager leaves finish_reason out is it
 * derived.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "chatapi/chatapi.h"
#include "common/buf.h"
#include "common/timeutil.h"

typedef struct gen_ctx {
    stop_matcher stop;
    buf text;
    stop_emit_fn emit;
    void *user;
    int n_deltas;
    int failed;         /* -HDM_E_NOMEM while collecting */
    double t0, t_first; /* mono_s() of the call and of the first visible text */
} gen_ctx;

/* Collects the visible text and passes it on. */
static int collect(void *user, const char *text, size_t len)
{
    gen_ctx *g = user;
    if (buf_append(&g->text, text, len) < 0) {
        g->failed = -HDM_E_NOMEM;
        return 1;
    }
    if (g->t_first == 0)
        g->t_first = mono_s();
    return g->emit ? g->emit(g->user, text, len) : 0;
}

static int on_delta(void *user, const char *delta, size_t len)
{
    gen_ctx *g = user;
    g->n_deltas++;
    int r = stop_feed(&g->stop, delta, len, collect, g);
    if (r < 0)
        g->failed = r;
    return r != 0;
}

/* True when fd (an eventfd, -1: none) has been written. */
static bool fd_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
}

static int json_int(const cJSON *obj, const char *name, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e9 ? (int)v->valuedouble
                                                                            : dflt;
}

/* Reads usage, finish_reason and timing from the manager's final frame. */
static void read_final(const cJSON *j, const gen_ctx *g, int max_tokens, chat_result *out)
{
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(j, "usage");
    out->prompt_tokens = json_int(usage, "prompt_tokens", 0);
    out->completion_tokens = json_int(usage, "completion_tokens", g->n_deltas);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "inference_time_ms");
    if (cJSON_IsNumber(t))
        out->inference_ms = t->valuedouble;
    const cJSON *load = cJSON_GetObjectItemCaseSensitive(j, "load_time_ms");
    if (cJSON_IsNumber(load) && load->valuedouble > 0)
        out->load_ms = load->valuedouble;
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(j, "finish_reason");
    if (!cJSON_IsString(fr))
        fr = cJSON_GetObjectItemCaseSensitive(usage, "finish_reason");
    if (g->stop.hit)
        out->finish_reason = "stop";
    else if (cJSON_IsString(fr) && strcmp(fr->valuestring, "length") == 0)
        out->finish_reason = "length";
    else if (cJSON_IsString(fr))
        out->finish_reason = "stop";
    else
        out->finish_reason =
            max_tokens > 0 && out->completion_tokens >= max_tokens ? "length" : "stop";
}

int chat_gen_run(hdm_client *client, hdm_request *req, int timeout_ms, char *const *stops,
                 int n_stop, int max_tokens, stop_emit_fn emit, void *user, int cancel_fd,
                 chat_result *out, hdm_err *err)
{
    hdm_response *resp = NULL;
    gen_ctx g = {.emit = emit, .user = user};
    int r;
    memset(out, 0, sizeof(*out));
    stop_init(&g.stop, stops, n_stop);
    if (cancel_fd >= 0)
        hdm_request_set_cancel_fd(req, cancel_fd);
    g.t0 = mono_s();
    r = hdm_call_stream(client, req, timeout_ms, on_delta, &g, &resp);
    if (g.failed < 0) {
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory collecting the answer");
        goto out;
    }
    if (r == -HDM_E_CANCELLED && fd_readable(cancel_fd)) {
        /* Our own cancel (the HTTP client left), not the manager's
         * (shutting down), which is reported as any manager error. */
        hdm_err_set(err, HDM_E_CANCELLED, "the client went away");
        goto out;
    }
    if (r < 0) {
        const char *why = resp ? hdm_response_error(resp) : NULL;
        hdm_err_set(err, -r, "%s", why ? why : hdm_strerror(r));
        goto out;
    }
    if ((r = stop_flush(&g.stop, collect, &g)) != 0) {
        r = g.failed < 0 ? hdm_err_set(err, HDM_E_NOMEM, "out of memory")
                         : hdm_err_set(err, HDM_E_CANCELLED, "the client went away");
        goto out;
    }
    read_final(hdm_response_json(resp), &g, max_tokens, out);
    out->total_ms = (mono_s() - g.t0) * 1000.0;
    out->first_text_ms = g.t_first > 0 ? (g.t_first - g.t0) * 1000.0 : out->total_ms;
    if (out->inference_ms <= 0)
        out->inference_ms = out->total_ms;
    if (buf_append(&g.text, "", 1) < 0) {
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        goto out;
    }
    out->text_len = g.text.len - 1;
    out->text = (char *)g.text.data;
    g.text.data = NULL;
    r = 0;
out:
    stop_free(&g.stop);
    buf_free(&g.text);
    hdm_response_free(resp);
    return r;
}

void chat_result_free(chat_result *r)
{
    if (!r)
        return;
    free(r->text);
    r->text = NULL;
    cJSON_Delete(r->tool_calls);
    r->tool_calls = NULL;
}
