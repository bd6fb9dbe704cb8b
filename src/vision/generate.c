/*
 * generate.c - one generation on the device manager.
 *
 * DESIGN.  Every generation, streamed to the HTTP client or not, is a
 * streaming infer (hdm_call_stream): text arrives token by token, and when
 * the consumer goes away the callback returns non-zero, libhailodm closes
 * the connection and the manager cancels the work.  The same happens when
 * the HTTP client hangs up while nothing is being written to it (queued on
 * the manager, or a non-streamed answer): the caller's cancel descriptor
 * (vision_cancel_begin) makes libhailodm close the connection.  Stop sequences travel
 * to the manager (input_data.stop), which ends the generation there and
 * reports real token counts and the finish reason; the service also runs
 * them through stop.c so a stop sequence split across deltas is never shown
 * to the client.  Usage and finish_reason come from the manager's final
 * frame; only if the manager leaves finish_reason out is it derived.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/timeutil.h"
#include "vision/vision.h"

typedef struct gen_ctx {
    stop_matcher stop;
    buf text;
    stop_emit_fn emit;
    void *user;
    int n_deltas;
    int failed; /* -HDM_E_NOMEM while collecting */
} gen_ctx;

/* Collects the visible text and passes it on. */
static int collect(void *user, const char *text, size_t len)
{
    gen_ctx *g = user;
    if (buf_append(&g->text, text, len) < 0) {
        g->failed = -HDM_E_NOMEM;
        return 1;
    }
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

static int build_request(const vision_config *cfg, const cJSON *prompt, const uint8_t *frames,
                         size_t n_frames, const chat_params *p, hdm_request **out)
{
    hdm_request *req = hdm_request_new("infer");
    if (!req)
        return -HDM_E_NOMEM;
    cJSON *j = hdm_request_json(req);
    cJSON *in = NULL, *fr = NULL;
    if (!cJSON_AddStringToObject(j, "model_type", VISION_MODEL_TYPE) ||
        !cJSON_AddStringToObject(j, "model_path", cfg->hef_path) ||
        !cJSON_AddNumberToObject(j, "keep_alive", cfg->keep_alive) ||
        !cJSON_AddStringToObject(j, "priority", "interactive") ||
        !(in = cJSON_AddObjectToObject(j, "input_data")) ||
        /* A reference: the prompt is serialised, never copied. */
        !cJSON_AddItemReferenceToObject(in, "prompt", (cJSON *)prompt) ||
        !(fr = cJSON_AddArrayToObject(in, "frames")) ||
        !cJSON_AddNumberToObject(in, "temperature", p->temperature) ||
        !cJSON_AddNumberToObject(in, "top_p", p->top_p) ||
        !cJSON_AddNumberToObject(in, "max_generated_tokens", p->max_tokens))
        goto fail;
    if (p->seed >= 0 && !cJSON_AddNumberToObject(in, "seed", p->seed))
        goto fail;
    if (p->n_stop > 0) {
        cJSON *st = cJSON_AddArrayToObject(in, "stop");
        if (!st)
            goto fail;
        for (int i = 0; i < p->n_stop; i++) {
            if (!p->stop[i][0])
                continue; /* an empty stop string never matches */
            cJSON *s = cJSON_CreateString(p->stop[i]);
            if (!s)
                goto fail;
            cJSON_AddItemToArray(st, s);
        }
        if (cJSON_GetArraySize(st) == 0)
            cJSON_DeleteItemFromObject(in, "stop");
    }
    for (size_t i = 0; i < n_frames; i++) {
        hdm_tensor t = {.dtype = HDM_DT_UINT8,
                        .ndim = 3,
                        .shape = {VISION_FRAME_SIDE, VISION_FRAME_SIDE, 3},
                        .data = (void *)(frames + i * VISION_FRAME_BYTES),
                        .nbytes = VISION_FRAME_BYTES};
        if (hdm_request_add_tensor(req, fr, NULL, &t) < 0)
            goto fail;
    }
    *out = req;
    return 0;
fail:
    hdm_request_free(req);
    return -HDM_E_NOMEM;
}

static int json_int(const cJSON *obj, const char *name, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e9 ? (int)v->valuedouble
                                                                            : dflt;
}

/* Reads usage, finish_reason and timing from the manager's final frame. */
static void read_final(const cJSON *j, const gen_ctx *g, const chat_params *p, gen_result *out)
{
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(j, "usage");
    out->prompt_tokens = json_int(usage, "prompt_tokens", 0);
    out->completion_tokens = json_int(usage, "completion_tokens", g->n_deltas);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "inference_time_ms");
    if (cJSON_IsNumber(t))
        out->inference_ms = t->valuedouble;
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
        out->finish_reason = out->completion_tokens >= p->max_tokens ? "length" : "stop";
}

int gen_run(hdm_client *client, vision_model *model, const vision_config *cfg, const cJSON *prompt,
            const uint8_t *frames, size_t n_frames, const chat_params *p, stop_emit_fn emit,
            void *user, int cancel_fd, gen_result *out, hdm_err *err)
{
    hdm_request *req = NULL;
    hdm_response *resp = NULL;
    gen_ctx g = {.emit = emit, .user = user};
    memset(out, 0, sizeof(*out));
    stop_init(&g.stop, p->stop, p->n_stop);
    int r = build_request(cfg, prompt, frames, n_frames, p, &req);
    if (r < 0) {
        hdm_err_set(err, HDM_E_NOMEM, "out of memory building the manager request");
        goto out;
    }
    if (cancel_fd >= 0)
        hdm_request_set_cancel_fd(req, cancel_fd);
    double t0 = mono_s();
    r = hdm_call_stream(client, req, cfg->timeout_s * 1000, on_delta, &g, &resp);
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
        vision_model_report(model, r);
        goto out;
    }
    if ((r = stop_flush(&g.stop, collect, &g)) != 0) {
        r = g.failed < 0 ? hdm_err_set(err, HDM_E_NOMEM, "out of memory")
                         : hdm_err_set(err, HDM_E_CANCELLED, "the client went away");
        goto out;
    }
    read_final(hdm_response_json(resp), &g, p, out);
    if (out->inference_ms <= 0)
        out->inference_ms = (mono_s() - t0) * 1000.0;
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
    hdm_request_free(req);
    return r;
}

void gen_result_free(gen_result *r)
{
    if (!r)
        return;
    free(r->text);
    r->text = NULL;
}
