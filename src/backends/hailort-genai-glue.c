/*
 * hailort-genai-glue.c - the GenAI model types of the HailoRT backend:
 * vlm_chat (HailoRT VLM), llm (HailoRT LLM) and whisper (HailoRT
 * Speech2Text).
 *
 * DESIGN: the request becomes structured messages (hailort-prompt.c) so
 * that HailoRT applies the model's own chat template (an llm request may
 * instead carry a raw prompt, written as is, and tools the template
 * describes to the model).  VLM and LLM generations are read the same way:  A generation is read
 * in short slices (READ_SLICE_MS), and cancellation and the deadline are
 * checked on every slice, tokens or not: the prefill of a long prompt with
 * images takes seconds before the first token.  Each piece is cleaned of
 * the model's special tokens (the chip's server decodes them as text), and
 * the piece that ends the generation (its status is no longer
 * "generating": the end token, or the recovery sequence after max-tokens
 * or an abort) is never shown.  Pieces go to hooks->on_delta through the
 * stop-string matcher; cancellation, the deadline and a stop string abort
 * the generation, and what the host had read ahead is drained so the
 * counts stay exact.  The context is cleared after every request, whatever
 * happened, because requests are independent (a client sends the whole
 * conversation each time) and a system message is only accepted on a
 * fresh context.
 *
 * Token counts: completion tokens are what the client received (the
 * model's tokenizer on the answer's text, which holds no special token);
 * prompt tokens are the context usage after the request minus every piece
 * the generation produced (read, drained, end and recovery pieces: all of
 * them sit in the context).
 *
 * Speech2Text has no incremental API and HailoRT 5.2 ignores its timeout,
 * so a transcription runs on a thread of its own while the worker waits in
 * slices, checking cancellation and the deadline: a request that gives up
 * is answered at once and the transcription finishes in the background;
 * the model's next request (or its unload) waits for it first.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "hailort-backend.h"
#include "hailort-prompt.h"
#include "hailort-status.h"

#define PAGE_ALIGN 4096
#define READ_SLICE_MS 100      /* longest wait before cancel/deadline are checked */
#define TOKEN_TIMEOUT_MS 30000 /* no piece for this long: the device stopped answering */
#define DRAIN_SLICE_MS 50
#define DRAIN_MAX_PIECES 4096 /* above HailoRT's read-ahead backlog (1024) */
#define OPEN_ATTEMPTS 3       /* a dropped GenAI session is tried again ... */
#define OPEN_RETRY_MS 200     /* ... after this (our own last session may be closing) */
#define WHISPER_RATE 16000
#define WHISPER_MIN_TIMEOUT_MS 10000

/* ---- load ---------------------------------------------------------------------- */

static bool status_named(int status, const char *name)
{
    const char *n = hrt_status_name(status);
    return n && strcmp(n, name) == 0;
}

static bool session_dropped(int status)
{
    const char *n = hrt_status_name(status);
    return n && hrt_status_code(n) == HDM_E_DEVICE_ERROR;
}

/*
 * Why a GenAI model could not be created.  The chip's server drops a new
 * session when the KV cache is taken (another process has a GenAI model):
 * the client sees a connection status, while the device still answers.
 * That is busy, not a lost device: a runtime reset could not fix it.
 */
static int genai_open_failed(backend *b, int st, const char *what, const char *path, hdm_err *err)
{
    if (session_dropped(st) && hrt_backend_device_answers(b))
        return hrt_fail_as(err, HDM_E_BUSY, st,
                           "the chip's GenAI server dropped the session while the device "
                           "answers: another process holds the GenAI KV-cache slot (a VLM or LLM "
                           "loaded by another program); retry when it is released",
                           "cannot create the %s from %s", what, path);
    return hrt_fail(b, err, st, "cannot create the %s from %s", what, path);
}

/* Opens a VLM/LLM, trying again when the session was dropped. */
static int open_genai(hrt_device *dev, const char *name, bool vlm, bool optimize, hrt_genai **out)
{
    int st = 0;
    for (int attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
        if (attempt)
            sleep_ms(OPEN_RETRY_MS);
        st = hrt_genai_open(dev, name, vlm, optimize, out);
        if (st == 0 || !session_dropped(st))
            break;
    }
    return st;
}

static void add_special(void *ctx, const char *text)
{
    /* Out of memory here leaves a token unstripped, nothing worse. */
    (void)hrt_specials_add(ctx, text);
}

/* Loads a VLM (vlm) or LLM into m->gen. */
static int load_text_model(backend *b, hrt_device *dev, const model_spec *spec, backend_model *m,
                           const char *name, bool vlm, hdm_err *err)
{
    const cJSON *opt = cJSON_GetObjectItemCaseSensitive(spec->params, "optimize_memory_on_device");
    const char *what = vlm ? "VLM" : "LLM";
    bool optimize = cJSON_IsTrue(opt);
    int st;

    if (opt && !cJSON_IsBool(opt))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "model_params.optimize_memory_on_device must be true or false");
    st = open_genai(dev, name, vlm, optimize, &m->gen);
    if (optimize && (status_named(st, "HAILO_NOT_IMPLEMENTED") ||
                     status_named(st, "HAILO_INVALID_OPERATION"))) {
        /* libhailort built without the client tokenizer, or the chip has the
         * HEF already: both refuse the optimisation, not the model. */
        log_warn("%s %s: optimize_memory_on_device refused by HailoRT (%s); loading with the "
                 "tokenizer on the device",
                 what, spec->model_path, hrt_status_name(st));
        optimize = false;
        st = open_genai(dev, name, vlm, false, &m->gen);
    }
    if (status_named(st, "HAILO_NOT_IMPLEMENTED"))
        return hrt_fail_as(err, HDM_E_UNSUPPORTED, st,
                           "this HailoRT's GenAI API takes no structured chat messages "
                           "(HailoRT 5.0.1 or later does)",
                           "cannot create the %s from %s", what, spec->model_path);
    if (st)
        return genai_open_failed(b, st, what, spec->model_path, err);
    log_info("%s %s: optimize_memory_on_device %s (tokenizer on the %s)", what, spec->model_path,
             optimize ? "on" : "off", optimize ? "host" : "device");

    if (vlm) {
        hrt_stream_info f;
        hrt_genai_frame_info(m->gen, &f);
        if (f.type != HRT_TYPE_UINT8 || hrt_order_layout(f.order) < 0)
            return hdm_err_set(err, HDM_E_UNSUPPORTED,
                               "the VLM %s wants frames as %s, a format this backend does not "
                               "produce (only uint8 NHWC, FCR, F8CR or NCHW)",
                               spec->model_path, hrt_order_name(f.order));
    }
    if (hrt_specials_add_defaults(&m->specials) < 0 ||
        hrt_genai_special_tokens(m->gen, add_special, &m->specials) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    return 0;
}

int hrt_genai_load(backend *b, hrt_device *dev, const model_spec *spec, backend_model *m,
                   hdm_err *err)
{
    int st = 0;
    char name[PATH_MAX];
    int rc = hrt_model_file(spec, m, spec->model_path, "model_path", name, sizeof(name), err);
    if (rc < 0)
        return rc;

    if (spec->kind != MODEL_WHISPER)
        return load_text_model(b, dev, spec, m, name, spec->kind == MODEL_VLM, err);
    for (int attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
        if (attempt)
            sleep_ms(OPEN_RETRY_MS);
        st = hrt_s2t_open(dev, name, &m->s2t);
        if (st == 0 || !session_dropped(st))
            break;
    }
    if (status_named(st, "HAILO_NOT_IMPLEMENTED"))
        return hrt_fail_as(err, HDM_E_UNSUPPORTED, st,
                           "this HailoRT has no Speech2Text (HailoRT 5.1 or later has)",
                           "cannot create the Speech2Text model from %s", spec->model_path);
    return st ? genai_open_failed(b, st, "Speech2Text model", spec->model_path, err) : 0;
}

/* ---- generation (vlm_chat) ----------------------------------------------------------- */

typedef struct gen_run {
    backend *b;
    backend_model *m;
    const infer_hooks *hooks;
    hdm_err *err;
    const char *what; /* "VLM", for messages */
    hrt_stop stop;
    size_t pieces;      /* every piece the generation produced (context accounting) */
    size_t text_pieces; /* generating pieces that reached the text */
    int end;            /* HRT_GEN_* once a piece ended it */
    char *clean;        /* a piece without special tokens */
    size_t clean_cap;
} gen_run;

static void emit(const gen_run *g, const char *text, size_t len)
{
    if (len && g->hooks && g->hooks->on_delta)
        g->hooks->on_delta(g->hooks->ctx, text, len);
}

/* A generating piece: cleaned of special tokens, through the stop matcher
 * to the stream.  Returns 0 or -HDM_E_NOMEM. */
static int take_piece(gen_run *g, const char *text, size_t len)
{
    const char *delta;
    size_t delta_len, clean_len;

    if (len > g->clean_cap) {
        char *grown = realloc(g->clean, len);
        if (!grown)
            return hdm_err_set(g->err, HDM_E_NOMEM, "out of memory while generating");
        g->clean = grown;
        g->clean_cap = len;
    }
    clean_len = hrt_specials_strip(&g->m->specials, text, len, g->clean);
    if (!g->stop.hit)
        g->text_pieces++;
    if (hrt_stop_feed(&g->stop, g->clean, clean_len, &delta, &delta_len) < 0)
        return hdm_err_set(g->err, HDM_E_NOMEM, "out of memory while generating");
    emit(g, delta, delta_len);
    return 0;
}

/* After an abort: reads what the host had read ahead and the recovery
 * sequence, counting them (they are in the context) without showing them. */
static void drain(gen_run *g, hrt_gen *gen)
{
    const char *text;
    size_t len;
    int state = HRT_GEN_GENERATING;

    for (int i = 0; i < DRAIN_MAX_PIECES && state == HRT_GEN_GENERATING; i++) {
        if (hrt_gen_read(gen, DRAIN_SLICE_MS, &text, &len, &state) != 0)
            break;
        g->pieces++;
    }
}

static int stop_generation(gen_run *g, hrt_gen *gen, int rc)
{
    int st = hrt_gen_abort(gen);
    if (st != 0) {
        hdm_err ignored;
        if (rc == 0)
            return hrt_fail(g->b, g->err, st, "aborting the %s generation", g->what);
        hrt_fail(g->b, &ignored, st, "aborting"); /* marks a lost device */
        return rc;
    }
    drain(g, gen);
    return rc;
}

/*
 * Reads gen to its end, a stop string, cancellation or the deadline.
 * Returns 0 (g->end says how it ended; stop.hit a stop string) or a
 * negative code with g->err.
 */
static int read_generation(gen_run *g, hrt_gen *gen)
{
    int64_t last_piece = mono_ms();

    for (;;) {
        const char *text;
        size_t len;
        int state, st, rc = hooks_check(g->hooks, g->err);

        if (rc < 0)
            return stop_generation(g, gen, rc);
        st = hrt_gen_read(gen, hooks_time_left_ms(g->hooks, READ_SLICE_MS), &text, &len, &state);
        if (status_named(st, "HAILO_TIMEOUT")) {
            if (mono_ms() - last_piece < TOKEN_TIMEOUT_MS)
                continue; /* prefill, or a slow token: check the hooks again */
            rc = hrt_fail(g->b, g->err, st, "%s generation: no token for %d s", g->what,
                          TOKEN_TIMEOUT_MS / 1000);
            return stop_generation(g, gen, rc);
        }
        if (st != 0)
            return hrt_fail(g->b, g->err, st, "%s generation", g->what);
        last_piece = mono_ms();
        g->pieces++;
        if (state != HRT_GEN_GENERATING) {
            g->end = state; /* the end token or recovery sequence: never shown */
            return 0;
        }
        rc = take_piece(g, text, len);
        if (rc < 0)
            return stop_generation(g, gen, rc);
        if (g->stop.hit)
            return stop_generation(g, gen, 0);
    }
}

/* Prompt and completion token counts from the model (see DESIGN above). */
static void count_tokens(gen_run *g, const char *prompt_text, infer_output *out)
{
    size_t ctx_tokens = 0, n = 0;
    hrt_genai *model = g->m->gen;

    out->completion_tokens = (int)g->text_pieces;
    if (hrt_genai_count_tokens(model, hrt_stop_text(&g->stop), &n) == 0)
        out->completion_tokens = (int)n;
    if (hrt_genai_context_usage(model, &ctx_tokens) == 0 && ctx_tokens >= g->pieces) {
        out->prompt_tokens = (int)(ctx_tokens - g->pieces);
        return;
    }
    if (prompt_text && hrt_genai_count_tokens(model, prompt_text, &n) == 0)
        out->prompt_tokens = (int)n;
}

/* What the template's refusal or the device's answer to a start means. */
static int start_failed(gen_run *g, int st, int stage)
{
    const char *name = hrt_status_name(st);
    if (stage == HRT_START_TEMPLATE && name &&
        (strcmp(name, "HAILO_INTERNAL_FAILURE") == 0 ||
         strcmp(name, "HAILO_INVALID_OPERATION") == 0 ||
         strcmp(name, "HAILO_INVALID_ARGUMENT") == 0))
        return hrt_fail_as(g->err, HDM_E_BAD_REQUEST, st,
                           "the model's chat template refused the messages (roles out of "
                           "order, a role or content it does not take, a system message "
                           "after the first)",
                           "%s generation", g->what);
    return hrt_fail(g->b, g->err, st, "%s generation", g->what);
}

/*
 * Runs one generation started by hrt_genai_start with these arguments and
 * fills out.  prompt_text: the prompt's text for counting when the context
 * usage is unknown.
 */
static int generate(gen_run *g, const char *const *msgs, size_t n_msgs, const char *const *tools,
                    size_t n_tools, const char *raw, void *const *frames, size_t n_frames,
                    const hrt_gen_params *p, const char *prompt_text, infer_output *out)
{
    hrt_gen *gen = NULL;
    int stage = HRT_START_DEVICE, rc, st;

    st = hrt_genai_start(g->m->gen, msgs, n_msgs, tools, n_tools, raw, frames, n_frames, p, &gen,
                         &stage);
    if (st != 0 && n_tools > 0 && status_named(st, "HAILO_NOT_IMPLEMENTED")) {
        rc = hrt_fail_as(g->err, HDM_E_UNSUPPORTED, st,
                         "this HailoRT's LLM takes no tools (HailoRT 5.2 or later does); "
                         "describe them in the messages instead",
                         "%s generation", g->what);
    } else if (st != 0) {
        rc = start_failed(g, st, stage);
    } else {
        rc = read_generation(g, gen);
        hrt_gen_free(gen);
    }
    if (rc == 0) {
        const char *tail;
        size_t tail_len;
        hrt_stop_flush(&g->stop, &tail, &tail_len);
        emit(g, tail, tail_len);
        count_tokens(g, prompt_text, out);
        out->finish_reason = g->end == HRT_GEN_MAX_TOKENS && !g->stop.hit ? "length" : "stop";
        out->result = cJSON_CreateString(hrt_stop_text(&g->stop));
        if (!out->result)
            rc = hdm_err_set(g->err, HDM_E_NOMEM, "out of memory building the result");
    }

    /* Each request starts from an empty context, whatever happened to this one. */
    if (!hrt_backend_lost(g->b)) {
        st = hrt_genai_clear_context(g->m->gen);
        if (st != 0 && rc == 0)
            rc = hrt_fail(g->b, g->err, st, "clearing the %s context after the request", g->what);
        else if (st != 0)
            log_warn("clearing the context of %s failed (status %d)", g->m->path, st);
    }
    return rc;
}

static void gen_run_free(gen_run *g)
{
    hrt_stop_free(&g->stop);
    free(g->clean);
}

/* Converts the request's frames to what the VLM wants, in fresh buffers. */
static int vlm_frames(const backend_model *m, const infer_input *in, void ***out, hdm_err *err)
{
    size_t n = in->u.vlm.n_frames;
    hrt_stream_info f;
    void **frames;
    int rc = 0;

    hrt_genai_frame_info(m->gen, &f);
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
        hrt_image_convert(t->data, layout, frames[i], (hrt_layout)hrt_order_layout(f.order),
                          f.height, f.width, f.features, 1);
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

static int infer_vlm(backend *b, backend_model *m, const infer_input *in, const infer_hooks *hooks,
                     infer_output *out, hdm_err *err)
{
    gen_run g = {.b = b, .m = m, .hooks = hooks, .err = err, .what = "VLM"};
    char **msgs = NULL, *prompt = NULL;
    size_t n_msgs = 0;
    void **frames = NULL;
    int rc;
    bool greedy = !(in->u.vlm.temperature > 0.0);
    hrt_gen_params p = {
        /* HailoRT refuses a temperature <= 0: greedy decoding is do_sample
         * off (with 1.0, the value its sampler treats as "leave as is"). */
        .set_temperature = true,
        .temperature = greedy ? 1.0f : (float)in->u.vlm.temperature,
        .set_top_p = true,
        .top_p = (float)in->u.vlm.top_p,
        .set_do_sample = true,
        .do_sample = !greedy,
        .set_seed = in->u.vlm.has_seed,
        /* HailoRT seeds are 32 bits, and UINT32_MAX means "random". */
        .seed = (uint32_t)(in->u.vlm.seed % UINT32_MAX),
        .max_tokens = in->u.vlm.max_tokens > 0 ? (uint32_t)in->u.vlm.max_tokens : 200,
    };

    g.stop.stops = in->u.vlm.stop;
    g.stop.n_stops = in->u.vlm.n_stop;
    rc = hrt_vlm_messages(in, &msgs, &n_msgs, err);
    if (rc == 0)
        rc = vlm_frames(m, in, &frames, err);
    if (rc == 0 && !(prompt = hrt_vlm_prompt_text(in)))
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    if (rc == 0)
        rc = generate(&g, (const char *const *)msgs, n_msgs, NULL, 0, NULL, frames,
                      in->u.vlm.n_frames, &p, prompt, out);
    if (frames)
        for (size_t i = 0; i < in->u.vlm.n_frames; i++)
            free(frames[i]);
    free(frames);
    free(prompt);
    hrt_strv_free(msgs, n_msgs);
    gen_run_free(&g);
    return rc;
}

/* ---- llm -------------------------------------------------------------------------------- */

static int infer_llm(backend *b, backend_model *m, const infer_input *in, const infer_hooks *hooks,
                     infer_output *out, hdm_err *err)
{
    const llm_input *l = &in->u.llm;
    gen_run g = {.b = b, .m = m, .hooks = hooks, .err = err, .what = "LLM"};
    char **msgs = NULL, **tools = NULL, *prompt = NULL;
    size_t n_msgs = 0, n_tools = 0;
    bool greedy = l->has_temperature && !(l->temperature > 0.0);
    hrt_gen_params p = {
        /* HailoRT refuses a temperature <= 0: greedy decoding is do_sample
         * off (with 1.0, the value its sampler treats as "leave as is"). */
        .set_temperature = l->has_temperature,
        .temperature = greedy ? 1.0f : (float)l->temperature,
        .set_do_sample = l->has_temperature,
        .do_sample = !greedy,
        .set_top_p = l->has_top_p,
        .top_p = (float)l->top_p,
        .set_top_k = l->has_top_k,
        .top_k = l->has_top_k && l->top_k > 0 ? (uint32_t)l->top_k : 0,
        .set_frequency_penalty = l->has_frequency_penalty,
        .frequency_penalty = (float)l->frequency_penalty,
        .set_seed = l->has_seed,
        .seed = l->seed,
        .max_tokens = l->max_tokens > 0 ? (uint32_t)l->max_tokens : 0,
    };
    int rc;

    if (l->format == LLM_FORMAT_JSON)
        return hdm_err_set(err, HDM_E_UNSUPPORTED,
                           "format \"json\" is not supported by the HailoRT LLM: it cannot "
                           "constrain its output (ask for JSON in the messages instead)");
    g.stop.stops = l->stop;
    g.stop.n_stops = l->n_stop;
    rc = hrt_llm_messages(in, &msgs, &n_msgs, &tools, &n_tools, err);
    if (rc == 0 && !(prompt = hrt_llm_prompt_text(in)))
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    if (rc == 0)
        rc = generate(&g, n_msgs ? (const char *const *)msgs : NULL, n_msgs,
                      (const char *const *)tools, n_tools, n_msgs ? NULL : l->prompt, NULL, 0, &p,
                      prompt, out);
    free(prompt);
    hrt_strv_free(msgs, n_msgs);
    hrt_strv_free(tools, n_tools);
    gen_run_free(&g);
    return rc;
}

/* ---- whisper ------------------------------------------------------------------------- */

struct hrt_s2t_job {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    bool done;
    int status;
    hrt_s2t *s2t;
    float *samples;
    size_t n;
    char language[16]; /* "" : the model detects it */
    bool translate;
    int timeout_ms;
    cJSON *segments;
    int next_id;
};

static int on_segment(void *ctx, double start, double end, const char *text)
{
    hrt_s2t_job *j = ctx;
    cJSON *seg = cJSON_CreateObject();

    if (!seg || !cJSON_AddItemToArray(j->segments, seg)) {
        cJSON_Delete(seg);
        return 1;
    }
    /* Two decimals, as the Python stack reported them. */
    if (!cJSON_AddNumberToObject(seg, "id", j->next_id++) ||
        !cJSON_AddNumberToObject(seg, "start", round(start * 100.0) / 100.0) ||
        !cJSON_AddNumberToObject(seg, "end", round(end * 100.0) / 100.0) ||
        !cJSON_AddStringToObject(seg, "text", text ? text : ""))
        return 1;
    return 0;
}

static void *s2t_job_main(void *arg)
{
    hrt_s2t_job *j = arg;
    int st = hrt_s2t_segments(j->s2t, j->samples, j->n, j->language[0] ? j->language : NULL,
                              j->translate, j->timeout_ms, on_segment, j);
    pthread_mutex_lock(&j->mu);
    j->status = st;
    j->done = true;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

static void s2t_job_free(hrt_s2t_job *j)
{
    if (!j)
        return;
    pthread_join(j->thread, NULL);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    cJSON_Delete(j->segments);
    free(j->samples);
    free(j);
}

void hrt_s2t_job_finish(backend_model *m)
{
    s2t_job_free(m->s2t_job);
    m->s2t_job = NULL;
}

/* No language, or the original stack's "auto": the model detects it (and
 * translate works); HailoRT takes only a language code. */
static void job_language(hrt_s2t_job *j, const char *lang)
{
    if (!lang[0] || strcmp(lang, "auto") == 0)
        j->language[0] = '\0';
    else
        snprintf(j->language, sizeof(j->language), "%s", lang);
}

static int s2t_job_start(backend_model *m, const infer_input *in, size_t n, int timeout_ms,
                         hrt_s2t_job **out, hdm_err *err)
{
    pthread_condattr_t attr;
    hrt_s2t_job *j = calloc(1, sizeof(*j));

    if (!j)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    /* The thread may outlive the request: it reads a copy of the samples. */
    j->samples = malloc(n * sizeof(float));
    j->segments = cJSON_CreateArray();
    if (!j->samples || !j->segments) {
        cJSON_Delete(j->segments);
        free(j->samples);
        free(j);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    memcpy(j->samples, in->u.whisper.audio.data, n * sizeof(float));
    j->n = n;
    j->s2t = m->s2t;
    j->translate = in->u.whisper.task == WHISPER_TRANSLATE;
    j->timeout_ms = timeout_ms;
    job_language(j, in->u.whisper.language);
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&j->thread, NULL, s2t_job_main, j) != 0) {
        pthread_cond_destroy(&j->cv);
        pthread_mutex_destroy(&j->mu);
        cJSON_Delete(j->segments);
        free(j->samples);
        free(j);
        return hdm_err_set(err, HDM_E_NOMEM, "cannot start the Speech2Text thread");
    }
    *out = j;
    return 0;
}

/*
 * Waits for j in slices, checking the hooks; limit_ms > 0 also bounds the
 * wait.  Returns 0 once done, the hooks' code, or 1 when limit_ms passed.
 */
static int s2t_job_wait(hrt_s2t_job *j, const infer_hooks *hooks, int64_t limit_ms, hdm_err *err)
{
    int64_t until = limit_ms > 0 ? mono_ms() + limit_ms : 0;
    int rc = 0;

    pthread_mutex_lock(&j->mu);
    while (!j->done) {
        struct timespec ts;
        pthread_mutex_unlock(&j->mu);
        rc = hooks_check(hooks, err);
        if (rc == 0 && until && mono_ms() >= until)
            rc = 1;
        pthread_mutex_lock(&j->mu);
        if (rc != 0 || j->done)
            break;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)READ_SLICE_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&j->cv, &j->mu, &ts);
    }
    if (j->done)
        rc = 0;
    pthread_mutex_unlock(&j->mu);
    return rc;
}

static int infer_whisper(backend *b, backend_model *m, const infer_input *in,
                         const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    const hdm_tensor *a = &in->u.whisper.audio;
    hrt_s2t_job *j = NULL;
    size_t n;
    double seconds;
    int rc, timeout;

    if (a->dtype != HDM_DT_FLOAT32)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data.audio must be float32 samples, "
                           "not %s",
                           hdm_dtype_name(a->dtype));
    n = a->nbytes / sizeof(float);
    if (n == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data.audio is empty");
    /* A transcription an earlier request gave up on still runs: HailoRT
     * cannot stop it, and the model takes one at a time. */
    if (m->s2t_job) {
        rc = s2t_job_wait(m->s2t_job, hooks, 0, err);
        if (rc < 0) {
            hdm_err_prefix(err, "Speech2Text is still finishing a request that gave up");
            return rc;
        }
        hrt_s2t_job_finish(m);
    }
    /* Decoding takes a fraction of real time; allow twice it, at least 10 s. */
    seconds = (double)n / WHISPER_RATE;
    timeout = seconds * 2000.0 > WHISPER_MIN_TIMEOUT_MS ? (int)(seconds * 2000.0)
                                                        : WHISPER_MIN_TIMEOUT_MS;
    timeout = hooks_time_left_ms(hooks, timeout);

    rc = s2t_job_start(m, in, n, timeout, &j, err);
    if (rc < 0)
        return rc;
    rc = s2t_job_wait(j, hooks, timeout, err);
    if (rc != 0) {
        m->s2t_job = j; /* finishes in the background; reaped by the next request or unload */
        if (rc > 0)
            rc = hdm_err_set(err, HDM_E_DEADLINE_EXCEEDED,
                             "Speech2Text on %.1f s of audio did not finish within %d ms "
                             "(HailoRT cannot stop it: it finishes in the background)",
                             seconds, timeout);
        return rc;
    }
    if (j->status != 0) {
        rc = hrt_fail(b, err, j->status, "Speech2Text on %.1f s of audio", seconds);
    } else {
        out->result = cJSON_CreateObject();
        if (!out->result || !cJSON_AddItemToObject(out->result, "segments", j->segments)) {
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
        } else {
            j->segments = NULL;
            rc = 0;
        }
    }
    s2t_job_free(j);
    return rc;
}

int hrt_genai_infer(backend *b, backend_model *m, const infer_input *in, const infer_hooks *hooks,
                    infer_output *out, hdm_err *err)
{
    if (m->kind == MODEL_WHISPER)
        return infer_whisper(b, m, in, hooks, out, err);
    if (m->kind == MODEL_LLM)
        return infer_llm(b, m, in, hooks, out, err);
    return infer_vlm(b, m, in, hooks, out, err);
}
