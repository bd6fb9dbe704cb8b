/*
 * audio_window.c - trimming, cut points and the windower.  See
 * audio_window.h for the rules.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio_window.h"

/* Energy is measured over 10 ms steps, a pause over 100 ms. */
#define CUT_STEP (AUDIO_RATE / 100)
#define CUT_SPAN_STEPS 10

struct audio_windower {
    audio_window_opts o;
    audio_window_fn fn;
    void *ctx;
    float *buf;      /* o.window samples */
    size_t len;      /* samples held */
    uint64_t offset; /* index of buf[0] in the decoded audio */
    uint64_t pushed;
    unsigned windows;
};

void audio_trim_bounds(const float *s, size_t n, float threshold, size_t pad, size_t *start,
                       size_t *end)
{
    size_t first = n, last = 0;

    for (size_t i = 0; i < n; i++)
        if (fabsf(s[i]) > threshold) {
            first = i;
            break;
        }
    if (first == n) {
        *start = 0;
        *end = n;
        return;
    }
    for (size_t i = n; i-- > first;)
        if (fabsf(s[i]) > threshold) {
            last = i;
            break;
        }
    *start = first > pad ? first - pad : 0;
    *end = n - last > pad ? last + pad : n;
}

size_t audio_window_cut(const float *s, size_t n, size_t lo)
{
    const size_t span = CUT_STEP * CUT_SPAN_STEPS;
    if (lo > n || n - lo < span)
        return n;
    size_t steps = (n - lo) / CUT_STEP;
    double step_energy[CUT_SPAN_STEPS] = {0};
    double best = INFINITY;
    size_t best_at = 0;

    /* The energies of the last CUT_SPAN_STEPS steps, in a ring, summed afresh
     * each step so equal stretches (digital silence) compare equal. */
    for (size_t k = 0; k < steps; k++) {
        const float *p = s + lo + k * CUT_STEP;
        double e = 0;
        for (size_t i = 0; i < CUT_STEP; i++)
            e += (double)p[i] * p[i];
        step_energy[k % CUT_SPAN_STEPS] = e;
        if (k + 1 < CUT_SPAN_STEPS)
            continue;
        double sum = 0;
        for (size_t j = 0; j < CUT_SPAN_STEPS; j++)
            sum += step_energy[(k + 1 + j) % CUT_SPAN_STEPS];
        if (sum <= best) {
            best = sum;
            best_at = k + 1 - CUT_SPAN_STEPS;
        }
    }
    return lo + best_at * CUT_STEP + span / 2;
}

void audio_window_opts_defaults(audio_window_opts *o)
{
    o->window = AUDIO_WINDOW_SAMPLES;
    o->search = AUDIO_WINDOW_SEARCH;
    o->trim = true;
    o->trim_threshold = AUDIO_TRIM_THRESHOLD;
    o->trim_pad = AUDIO_TRIM_PAD;
}

int audio_windower_new(const audio_window_opts *o, audio_window_fn fn, void *ctx,
                       audio_windower **out, hdm_err *err)
{
    audio_window_opts defaults;
    if (!o) {
        audio_window_opts_defaults(&defaults);
        o = &defaults;
    }
    if (o->window < CUT_STEP * CUT_SPAN_STEPS || o->search > o->window)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "audio windows must hold at least %d samples and search at most "
                           "a window for cut points (window %zu, search %zu)",
                           CUT_STEP * CUT_SPAN_STEPS, o->window, o->search);
    audio_windower *w = calloc(1, sizeof(*w));
    if (!w || !(w->buf = malloc(o->window * sizeof(float)))) {
        free(w);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for an audio window");
    }
    w->o = *o;
    w->fn = fn;
    w->ctx = ctx;
    *out = w;
    return 0;
}

/* Sends buf[0..n) (trimmed when asked) and drops it from the buffer. */
static int emit(audio_windower *w, size_t n, hdm_err *err)
{
    size_t start = 0, end = n;
    int rc = 0;

    if (w->o.trim)
        audio_trim_bounds(w->buf, n, w->o.trim_threshold, w->o.trim_pad, &start, &end);
    if (end > start) {
        w->windows++;
        rc = w->fn(w->ctx, w->buf + start, end - start, w->offset + start, err);
    }
    memmove(w->buf, w->buf + n, (w->len - n) * sizeof(float));
    w->len -= n;
    w->offset += n;
    return rc;
}

int audio_windower_push(void *windower, const float *samples, size_t n, hdm_err *err)
{
    audio_windower *w = windower;
    int rc;

    w->pushed += n;
    while (n > 0) {
        if (w->len == w->o.window) {
            /* Full, and more audio follows: cut in the quietest place near the end. */
            size_t cut = audio_window_cut(w->buf, w->len, w->len - w->o.search);
            if ((rc = emit(w, cut, err)) < 0)
                return rc;
        }
        size_t take = w->o.window - w->len < n ? w->o.window - w->len : n;
        memcpy(w->buf + w->len, samples, take * sizeof(float));
        w->len += take;
        samples += take;
        n -= take;
    }
    return 0;
}

int audio_windower_finish(audio_windower *w, hdm_err *err)
{
    return w->len > 0 ? emit(w, w->len, err) : 0;
}

uint64_t audio_windower_samples(const audio_windower *w)
{
    return w->pushed;
}

unsigned audio_windower_windows(const audio_windower *w)
{
    return w->windows;
}

void audio_windower_free(audio_windower *w)
{
    if (!w)
        return;
    free(w->buf);
    free(w);
}
