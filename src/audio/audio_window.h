/*
 * audio_window.h - decoded audio made ready for the model: long recordings
 * cut into windows Whisper accepts (30 s), cut in quiet stretches, and the
 * original's silence trimming, applied to each window.
 *
 * Cut points: a window is cut when it is full (30 s) and more audio
 * follows, at the middle of the quietest 100 ms (least energy, 10 ms steps,
 * the latest of equals) in its last 5 s, so a word is not split when a
 * pause is near; every window but the last is therefore 25 to 30 s long.
 *
 * Trimming (the original's `vad_filter`): the window keeps
 * [first - 1600, last + 1600) around its first and last sample whose
 * magnitude exceeds 0.02, and stays whole when no sample does.  For audio up
 * to one window this is exactly what the original did to the whole
 * recording; for longer audio each window is trimmed on its own, and the
 * offset given with a window always counts samples from the start of the
 * decoded audio, so timestamps stay absolute (the original's shifted by the
 * trimmed lead).
 */
#ifndef HDM_AUDIO_AUDIO_WINDOW_H
#define HDM_AUDIO_AUDIO_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audio.h"
#include "common/err.h"

/* Whisper's input window: 30 s at 16 kHz. */
#define AUDIO_WINDOW_SAMPLES (30 * AUDIO_RATE)
/* Cut points are searched in the last 5 s of a full window. */
#define AUDIO_WINDOW_SEARCH (5 * AUDIO_RATE)
/* The original's trimming: |sample| > 0.02 is sound, 100 ms kept around it. */
#define AUDIO_TRIM_THRESHOLD 0.02f
#define AUDIO_TRIM_PAD (AUDIO_RATE / 10)

/*
 * The original's silence trimming of s[0..n): sets [*start, *end) to
 * [max(i0 - pad, 0), min(iN + pad, n)) where i0 and iN are the first and
 * last index with |s[i]| > threshold, or to [0, n) when there is none.
 */
void audio_trim_bounds(const float *s, size_t n, float threshold, size_t pad, size_t *start,
                       size_t *end);

/*
 * Where to cut s[0..n): the middle of the quietest 100 ms (1600 samples,
 * 160-sample steps, the latest of equal ones) that starts at or after lo.
 * Returns n when s[lo..n) is shorter than 100 ms.
 */
size_t audio_window_cut(const float *s, size_t n, size_t lo);

typedef struct audio_window_opts {
    size_t window;        /* most samples per window (AUDIO_WINDOW_SAMPLES) */
    size_t search;        /* cut search span at a full window's end (AUDIO_WINDOW_SEARCH) */
    bool trim;            /* the original's silence trimming (its vad_filter) */
    float trim_threshold; /* AUDIO_TRIM_THRESHOLD */
    size_t trim_pad;      /* AUDIO_TRIM_PAD */
} audio_window_opts;

/* Fills the defaults above, trimming on (the original's default). */
void audio_window_opts_defaults(audio_window_opts *o);

/*
 * Receives one window: n (> 0) samples whose first is sample `offset` of
 * the decoded audio (offset / AUDIO_RATE seconds in).  The pointer is valid
 * during the call.  Returns 0, or a negative HDM_E_* (with *err) to stop.
 */
typedef int (*audio_window_fn)(void *ctx, const float *samples, size_t n, uint64_t offset,
                               hdm_err *err);

typedef struct audio_windower audio_windower;

/*
 * A windower calling fn(ctx, ...) for each window, holding at most one
 * window of samples.  o NULL means the defaults; o->window must be at least
 * 1600 samples and o->search at most o->window.  Returns 0 and *out, or
 * -HDM_E_BAD_REQUEST (bad options) / -HDM_E_NOMEM.
 */
int audio_windower_new(const audio_window_opts *o, audio_window_fn fn, void *ctx,
                       audio_windower **out, hdm_err *err);
/*
 * Adds decoded samples; calls fn for every window completed.  Has the
 * audio_sink signature (ctx is the windower), so audio_decode() can feed
 * it directly.  Returns 0 or fn's error.
 */
int audio_windower_push(void *windower, const float *samples, size_t n, hdm_err *err);
/* Sends what is left as the last window.  Returns 0 or fn's error. */
int audio_windower_finish(audio_windower *w, hdm_err *err);
/* Samples pushed so far (the decoded duration, before any trimming). */
uint64_t audio_windower_samples(const audio_windower *w);
/* Windows sent to fn so far. */
unsigned audio_windower_windows(const audio_windower *w);
void audio_windower_free(audio_windower *w);

#endif
