/*
 * sim-whisper.c - the simulated Whisper (Speech2Text) model: segments that
 * follow the audio, so timestamps and the stitching of windows can be
 * checked end to end without the chip.
 *
 * DESIGN: like the real encoder, the model takes one window of at most
 * 30 s (16 kHz mono float32, a binary tensor or v1's JSON list) and refuses
 * more, naming the limit.  The audio is cut into 20 ms frames; a frame is
 * voiced when its RMS exceeds 0.01 (-40 dBFS).  Voiced frames closer than
 * 300 ms join one stretch (a pause inside a sentence does not split it);
 * stretches shorter than 100 ms are clicks and dropped.  Each stretch is one
 * segment from its first voiced frame's start to its last one's end (the
 * window's end at most): Whisper's 20 ms timestamp grid, relative to the
 * window's first sample.
 * Its text is 2.5 words per second of a small vocabulary, chosen by a hash
 * of the model file name, the stretch's samples (as int16), the language and
 * the task: the same audio always gives the same words, other audio other
 * words.  Text in a language other than English or "auto" starts with
 * "[xx]"; a translation starts with "[translated from xx]" (or "[translated]"
 * when the language is English or "auto").  Latency: infer_ms for the
 * encoder, then token_ms per sim token of each segment, scaled by
 * latency_scale, cancellable between segments.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend-sim.h"
#include "common/buf.h"

/* The window the model takes: 30 s at 16 kHz. */
#define WINDOW_SAMPLES (30 * SIM_WHISPER_RATE)
/* Energy frames of 20 ms, Whisper's timestamp resolution too. */
#define FRAME (SIM_WHISPER_RATE / 50)
/* RMS above this is voice (-40 dBFS). */
#define VOICED_RMS 0.01
/* Voiced frames closer than this many frames (300 ms) are one stretch. */
#define JOIN_GAP_FRAMES 15
/* Stretches shorter than this many frames (100 ms) are dropped. */
#define MIN_STRETCH_FRAMES 5
/* Words per second of speech, and at most this many per segment. */
#define WORDS_PER_S 2.5
#define MAX_WORDS 40

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const vocabulary[] = {
    "we",    "will",  "meet",  "tomorrow",  "morning",  "at",   "the",      "station",
    "and",   "then",  "walk",  "to",        "office",   "it",   "looks",    "like",
    "rain",  "later", "today", "so",        "bring",    "an",   "umbrella", "please",
    "thank", "you",   "for",   "listening", "everyone", "this", "is",       "a",
    "short", "note",  "about", "project",   "plan",     "our",  "next",     "step",
};

static uint64_t mix(uint64_t h, uint64_t v)
{
    return sim_hash(h, &v, sizeof(v));
}

static bool frame_voiced(const float *s, size_t n)
{
    double energy = 0;
    for (size_t i = 0; i < n; i++) {
        double v = isfinite(s[i]) ? s[i] : 0.0;
        energy += v * v;
    }
    return n > 0 && sqrt(energy / (double)n) > VOICED_RMS;
}

/* Samples in frame f of n samples (the last frame may be short). */
static size_t frame_len(size_t n, size_t f)
{
    return n - f * FRAME < FRAME ? n - f * FRAME : FRAME;
}

/* Writes one segment's text for the stretch samples[0..n). */
static int segment_text(uint64_t model_seed, const float *samples, size_t n, const infer_input *in,
                        buf *text)
{
    const char *lang = in->u.whisper.language;
    bool english = !lang[0] || strcmp(lang, "en") == 0 || strcmp(lang, "auto") == 0;
    uint64_t h = model_seed;
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        float v = isfinite(samples[i]) ? samples[i] : 0.0f;
        int16_t q = (int16_t)(fmaxf(-1.0f, fminf(1.0f, v)) * 32767.0f);
        h = sim_hash(h, &q, sizeof(q));
    }
    h = sim_hash(h, lang, strlen(lang));
    h = mix(h, (uint64_t)in->u.whisper.task);

    if (in->u.whisper.task == WHISPER_TRANSLATE)
        rc = english ? buf_printf(text, " [translated]")
                     : buf_printf(text, " [translated from %s]", lang);
    else if (!english)
        rc = buf_printf(text, " [%s]", lang);

    double seconds = (double)n / SIM_WHISPER_RATE;
    int words = (int)lround(seconds * WORDS_PER_S);
    words = words < 1 ? 1 : words > MAX_WORDS ? MAX_WORDS : words;
    for (int w = 0; w < words && rc == 0; w++) {
        const char *word = vocabulary[sim_rng_next(&h) % COUNT(vocabulary)];
        if (w == 0)
            rc = buf_printf(text, " %c%s", toupper((unsigned char)word[0]), word + 1);
        else
            rc = buf_printf(text, " %s", word);
    }
    return rc ?: buf_printf(text, ".");
}

/* Adds {"id", "start", "end", "text"} for samples [s0, s1) (seconds with two
 * decimals, as the real backend reports them). */
static int add_segment(cJSON *segments, int id, size_t s0, size_t s1, const char *text)
{
    cJSON *seg = cJSON_CreateObject();
    if (!seg || !cJSON_AddItemToArray(segments, seg)) {
        cJSON_Delete(seg);
        return -1;
    }
    double start = (double)s0 / SIM_WHISPER_RATE;
    double end = (double)s1 / SIM_WHISPER_RATE;
    if (!cJSON_AddNumberToObject(seg, "id", id) ||
        !cJSON_AddNumberToObject(seg, "start", round(start * 100.0) / 100.0) ||
        !cJSON_AddNumberToObject(seg, "end", round(end * 100.0) / 100.0) ||
        !cJSON_AddStringToObject(seg, "text", text))
        return -1;
    return 0;
}

int sim_infer_whisper(const backend *b, backend_model *m, const infer_input *in,
                      const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    const hdm_tensor *a = &in->u.whisper.audio;
    cJSON *segments;
    buf text = {0};
    int rc;

    if (a->dtype != HDM_DT_FLOAT32 || !(a->ndim == 1 || (a->ndim == 2 && a->shape[0] == 1))) {
        char got[128];
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data.audio: expected float32 [samples] (16 kHz mono), got %s",
                           sim_tensor_desc(a, got, sizeof(got)));
    }
    const float *samples = a->data;
    size_t n = a->nbytes / sizeof(float);
    if (n > WINDOW_SAMPLES)
        return hdm_err_set(err, HDM_E_TOO_LARGE,
                           "input_data.audio has %zu samples (%.2f s); the whisper model takes "
                           "at most %d (30 s at 16 kHz): cut longer audio into windows",
                           n, (double)n / SIM_WHISPER_RATE, WINDOW_SAMPLES);

    /* The encoder runs once over the window: one device operation on the
     * NPU the lanes share (sim-npu.c). */
    if ((rc = sim_npu_run(b, m, 0, m->infer_ms, hooks, err)) < 0)
        return rc;
    out->result = cJSON_CreateObject();
    segments = cJSON_AddArrayToObject(out->result, "segments");
    if (!segments)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");

    size_t frames = (n + FRAME - 1) / FRAME;
    size_t f = 0;
    int id = 0;
    while (f < frames) {
        /* The next stretch: voiced frames with gaps shorter than JOIN_GAP_FRAMES. */
        while (f < frames && !frame_voiced(samples + f * FRAME, frame_len(n, f)))
            f++;
        if (f >= frames)
            break;
        size_t first = f, last = f, gap = 0;
        for (f++; f < frames && gap < JOIN_GAP_FRAMES; f++) {
            if (frame_voiced(samples + f * FRAME, frame_len(n, f))) {
                last = f;
                gap = 0;
            } else {
                gap++;
            }
        }
        f = last + 1;
        if (last + 1 - first < MIN_STRETCH_FRAMES)
            continue;
        size_t s0 = first * FRAME, s1 = (last + 1) * FRAME < n ? (last + 1) * FRAME : n;
        buf_reset(&text);
        if (segment_text(m->seed, samples + s0, s1 - s0, in, &text) < 0 ||
            buf_append(&text, "", 1) < 0) {
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
            goto out;
        }
        /* The decoder produces the segment token by token: an operation each. */
        int tokens = sim_token_count((char *)text.data, text.len - 1);
        for (int k = 0; k < tokens && rc >= 0; k++)
            rc = sim_npu_run(b, m, 1, m->token_ms, hooks, err);
        if (rc < 0)
            goto out;
        if (add_segment(segments, id++, s0, s1, (char *)text.data) < 0) {
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
            goto out;
        }
    }
    rc = 0;
out:
    buf_free(&text);
    return rc;
}
