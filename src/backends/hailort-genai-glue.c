/*
 * hailort-genai-glue.c - the GenAI model types of the HailoRT backend:
 * vlm_chat (HailoRT VLM) and whisper (HailoRT Speech2Text).
 *
 * DESIGN: the request becomes structured messages (hailort-prompt.c) so
 * that HailoRT applies the model's own chat template.  Tokens are streamed
 * to hooks->on_delta as they are read, through the stop-string matcher;
 * cancellation, the deadline and a stop string abort the generation
 * between tokens.  The context is cleared after every request, whatever
 * happened, because requests are independent (a client sends the whole
 * conversation each time) and a system message is only accepted on a fresh
 * context.  Token counts come from the model itself: the context usage
 * after generation (prompt + images + generated) and its tokenizer.
 */
#include <math.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "hailort-backend.h"
#include "hailort-prompt.h"

#define PAGE_ALIGN 4096
#define TOKEN_TIMEOUT_MS 30000
#define WHISPER_RATE 16000
#define WHISPER_MIN_TIMEOUT_MS 10000

/* ---- load ---------------------------------------------------------------------- */

int hrt_genai_load(backend *b, hrt_device *dev, const model_spec *spec, backend_model *m,
                   hdm_err *err)
{
    int st;
    char name[PATH_MAX];
    int rc = hrt_model_file(spec, m, spec->model_path, "model_path", name, sizeof(name), err);
    if (rc < 0)
        return rc;

    if (spec->kind == MODEL_WHISPER) {
        st = hrt_s2t_open(dev, name, &m->s2t);
        return st ? hrt_fail(b, err, st, "cannot create the Speech2Text model from %s",
                             spec->model_path)
                  : 0;
    }
    st = hrt_vlm_open(dev, name, &m->vlm);
    if (st)
        return hrt_fail(b, err, st, "cannot create the VLM from %s", spec->model_path);
    hrt_stream_info f;
    hrt_vlm_frame_info(m->vlm, &f);
    if (f.type != HRT_TYPE_UINT8 || (f.order != HRT_ORDER_NHWC && f.order != HRT_ORDER_NCHW))
        return hdm_err_set(err, HDM_E_UNSUPPORTED,
                           "the VLM %s wants frames in a format this backend does not "
                           "produce (only uint8 NHWC or NCHW)",
                           spec->model_path);
    return 0;
}

/* ---- vlm_chat ---------------------------------------------------------------------- */

typedef struct gen_ctx {
    const infer_hooks *hooks;
    hrt_stop stop;
    size_t pieces;  /* tokens read from the device */
    int abort_code; /* why we aborted: 0, or a positive HDM_E_* */
    hdm_err *err;
} gen_ctx;

static void emit(const gen_ctx *g, const char *text, size_t len)
{
    if (len && g->hooks && g->hooks->on_delta)
        g->hooks->on_delta(g->hooks->ctx, text, len);
}

/* Per token: stream what is safe, stop on a stop string, cancellation or deadline. */
static int on_token(void *ctx, const char *text, size_t len)
{
    gen_ctx *g = ctx;
    const char *delta;
    size_t delta_len;

    g->pieces++;
    if (hrt_stop_feed(&g->stop, text, len, &delta, &delta_len) < 0) {
        hdm_err_set(g->err, HDM_E_NOMEM, "out of memory while generating");
        g->abort_code = HDM_E_NOMEM;
        return 1;
    }
    emit(g, delta, delta_len);
    if (g->stop.hit)
        return 1;
    int rc = hooks_check(g->hooks, g->err);
    if (rc < 0) {
        g->abort_code = -rc;
        return 1;
    }
    return 0;
}

/* Converts the request's frames to what the VLM wants, in fresh buffers. */
static int vlm_frames(const backend_model *m, const infer_input *in, void ***out, hdm_err *err)
{
    size_t n = in->u.vlm.n_frames;
    hrt_stream_info f;
    void **frames;
    int rc = 0;

    hrt_vlm_frame_info(m->vlm, &f);
    frames = calloc(n ? n : 1, sizeof(*frames));
    if (!frames)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for the frames");
    for (size_t i = 0; i < n && rc == 0; i++) {
        const hdm_tensor *t = &in->u.vlm.frames[i];
        char what[40];
        hrt_layout layout;

        snprintf(what, sizeof(what), "input_data.frames[%zu]", i);
        if (t->dtype != HDM_DT_UINT8) {
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be uint8, not %s", what,
                             hdm_dtype_name(t->dtype));
            break;
        }
        rc = hrt_image_layout(t, what, f.height, f.width, f.features, &layout, err);
        if (rc < 0)
            break;
        if (posix_memalign(&frames[i], PAGE_ALIGN, f.frame_size) != 0) {
            frames[i] = NULL;
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory for the frames");
            break;
        }
        hrt_image_convert(t->data, layout, frames[i], hrt_order_layout(f.order), f.height, f.width,
                          f.features, 1);
    }
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            free(frames[i]);
        free(frames);
        return rc;
    }
    *out = frames;
    return 0;
}

/* Prompt and completion token counts from the model (see DESIGN above). */
static void count_tokens(backend_model *m, const infer_input *in, gen_ctx *g, infer_output *out)
{
    size_t ctx_tokens = 0, n = 0;
    char *prompt;

    out->completion_tokens = (int)g->pieces;
    if (hrt_vlm_count_tokens(m->vlm, hrt_stop_text(&g->stop), &n) == 0)
        out->completion_tokens = (int)n;
    if (hrt_vlm_context_usage(m->vlm, &ctx_tokens) == 0 && ctx_tokens >= g->pieces) {
        out->prompt_tokens = (int)(ctx_tokens - g->pieces);
        return;
    }
    prompt = hrt_vlm_prompt_text(in);
    if (prompt && hrt_vlm_count_tokens(m->vlm, prompt, &n) == 0)
        out->prompt_tokens = (int)n;
    free(prompt);
}

static int infer_vlm(backend *b, backend_model *m, const infer_input *in, const infer_hooks *hooks,
                     infer_output *out, hdm_err *err)
{
    gen_ctx g = {.hooks = hooks, .err = err};
    char **msgs = NULL;
    size_t n_msgs = 0;
    void **frames = NULL;
    int end = HRT_END_LOGICAL, rc, st;
    hrt_gen_params p = {
        .temperature = (float)in->u.vlm.temperature,
        .top_p = (float)in->u.vlm.top_p,
        .has_seed = in->u.vlm.has_seed,
        /* HailoRT seeds are 32 bits, and UINT32_MAX means "random". */
        .seed = (uint32_t)(in->u.vlm.seed % UINT32_MAX),
        .max_tokens = in->u.vlm.max_tokens > 0 ? (uint32_t)in->u.vlm.max_tokens : 200,
        .read_timeout_ms = hooks_time_left_ms(hooks, TOKEN_TIMEOUT_MS),
    };

    g.stop.stops = in->u.vlm.stop;
    g.stop.n_stops = in->u.vlm.n_stop;
    rc = hrt_vlm_messages(in, &msgs, &n_msgs, err);
    if (rc == 0)
        rc = vlm_frames(m, in, &frames, err);
    if (rc < 0)
        goto out;

    st = hrt_vlm_generate(m->vlm, (const char *const *)msgs, n_msgs, frames, in->u.vlm.n_frames, &p,
                          on_token, &g, &end);
    if (g.abort_code) {
        rc = -g.abort_code; /* err already says why */
    } else if (st != 0) {
        rc = hrt_fail(b, err, st, "VLM generation");
    } else {
        const char *tail;
        size_t tail_len;
        hrt_stop_flush(&g.stop, &tail, &tail_len);
        emit(&g, tail, tail_len);
        count_tokens(m, in, &g, out);
        out->finish_reason = end == HRT_END_MAX_TOKENS && !g.stop.hit ? "length" : "stop";
        out->result = cJSON_CreateString(hrt_stop_text(&g.stop));
        if (!out->result)
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
    }

    /* Each request starts from an empty context, whatever happened to this one. */
    if (!hrt_backend_lost(b)) {
        st = hrt_vlm_clear_context(m->vlm);
        if (st != 0 && rc == 0)
            rc = hrt_fail(b, err, st, "clearing the VLM context after the request");
        else if (st != 0)
            log_warn("clearing the VLM context of %s failed (status %d)", m->path, st);
    }
out:
    if (frames)
        for (size_t i = 0; i < in->u.vlm.n_frames; i++)
            free(frames[i]);
    free(frames);
    hrt_strv_free(msgs, n_msgs);
    hrt_stop_free(&g.stop);
    return rc;
}

/* ---- whisper ------------------------------------------------------------------------- */

typedef struct seg_ctx {
    cJSON *segments;
    int next_id;
} seg_ctx;

static int on_segment(void *ctx, double start, double end, const char *text)
{
    seg_ctx *s = ctx;
    cJSON *seg = cJSON_CreateObject();

    if (!seg || !cJSON_AddItemToArray(s->segments, seg)) {
        cJSON_Delete(seg);
        return 1;
    }
    /* Two decimals, as the Python stack reported them. */
    if (!cJSON_AddNumberToObject(seg, "id", s->next_id++) ||
        !cJSON_AddNumberToObject(seg, "start", round(start * 100.0) / 100.0) ||
        !cJSON_AddNumberToObject(seg, "end", round(end * 100.0) / 100.0) ||
        !cJSON_AddStringToObject(seg, "text", text ? text : ""))
        return 1;
    return 0;
}

static int infer_whisper(backend *b, backend_model *m, const infer_input *in,
                         const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    const hdm_tensor *a = &in->u.whisper.audio;
    seg_ctx s = {0};
    size_t n;
    double seconds;
    int st, timeout;

    if (a->dtype != HDM_DT_FLOAT32)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data.audio must be float32 samples, "
                           "not %s",
                           hdm_dtype_name(a->dtype));
    n = a->nbytes / sizeof(float);
    if (n == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data.audio is empty");
    /* Decoding takes a fraction of real time; allow twice it, at least 10 s. */
    seconds = (double)n / WHISPER_RATE;
    timeout = seconds * 2000.0 > WHISPER_MIN_TIMEOUT_MS ? (int)(seconds * 2000.0)
                                                        : WHISPER_MIN_TIMEOUT_MS;
    timeout = hooks_time_left_ms(hooks, timeout);

    out->result = cJSON_CreateObject();
    s.segments = cJSON_AddArrayToObject(out->result, "segments");
    if (!s.segments)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
    st = hrt_s2t_segments(m->s2t, a->data, n,
                          in->u.whisper.language[0] ? in->u.whisper.language : "en",
                          in->u.whisper.task == WHISPER_TRANSLATE, timeout, on_segment, &s);
    if (st != 0)
        return hrt_fail(b, err, st, "Speech2Text on %.1f s of audio", seconds);
    return hooks_check(hooks, err);
}

int hrt_genai_infer(backend *b, backend_model *m, const infer_input *in, const infer_hooks *hooks,
                    infer_output *out, hdm_err *err)
{
    if (m->kind == MODEL_WHISPER)
        return infer_whisper(b, m, in, hooks, out, err);
    return infer_vlm(b, m, in, hooks, out, err);
}
