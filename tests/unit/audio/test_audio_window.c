/*
 * test_audio_window.c - the original's silence trimming (against numpy's
 * result on the same samples), cut points in quiet stretches, and the
 * windower: window sizes, absolute offsets, independence from how samples
 * arrive, and a 10-minute file decoded straight into it.
 */
#include <math.h>
#include <string.h>

#include "audio/audio_window.h"
#include "audio_test_util.h"

/* ---- trimming -------------------------------------------------------------------- */

static void test_trim_bounds(void **state)
{
    (void)state;
    float s[20000] = {0};
    size_t a, b;

    audio_trim_bounds(s, 20000, AUDIO_TRIM_THRESHOLD, AUDIO_TRIM_PAD, &a, &b);
    assert_int_equal(a, 0); /* nothing loud: unchanged */
    assert_int_equal(b, 20000);

    s[5000] = 0.03f;
    audio_trim_bounds(s, 20000, AUDIO_TRIM_THRESHOLD, AUDIO_TRIM_PAD, &a, &b);
    assert_int_equal(a, 3400);
    assert_int_equal(b, 6600);

    s[9000] = -0.5f; /* magnitude counts */
    s[9001] = 0.02f; /* not above the threshold */
    audio_trim_bounds(s, 20000, AUDIO_TRIM_THRESHOLD, AUDIO_TRIM_PAD, &a, &b);
    assert_int_equal(a, 3400);
    assert_int_equal(b, 10600);

    s[100] = 1.0f;
    s[19990] = 1.0f;
    audio_trim_bounds(s, 20000, AUDIO_TRIM_THRESHOLD, AUDIO_TRIM_PAD, &a, &b);
    assert_int_equal(a, 0);
    assert_int_equal(b, 20000);

    /* At exactly pad from either end. */
    memset(s, 0, sizeof(s));
    s[1600] = 1.0f;
    s[18400] = 1.0f;
    audio_trim_bounds(s, 20000, AUDIO_TRIM_THRESHOLD, AUDIO_TRIM_PAD, &a, &b);
    assert_int_equal(a, 0);
    assert_int_equal(b, 20000);
    audio_trim_bounds(s, 0, AUDIO_TRIM_THRESHOLD, AUDIO_TRIM_PAD, &a, &b);
    assert_int_equal(a, 0);
    assert_int_equal(b, 0);
}

/* The original's numbers (make-audio.sh ran its numpy lines on the same samples). */
static void test_trim_matches_numpy(void **state)
{
    (void)state;
    static const char *const names[] = {"phrases.wav", "speech.mp3", "tone.wav", "silence.wav"};
    for (size_t k = 0; k < 4; k++) {
        char ref[128], vad[128];
        size_t len, vlen, a, b;
        unsigned long want_a, want_b;
        snprintf(ref, sizeof(ref), "%s.ref", names[k]);
        snprintf(vad, sizeof(vad), "%s.vad", names[k]);
        int16_t *pcm = (int16_t *)audio_file(ref, &len);
        char *text = (char *)audio_file(vad, &vlen);
        text = realloc(text, vlen + 1);
        text[vlen] = '\0';
        assert_int_equal(sscanf(text, "%lu %lu", &want_a, &want_b), 2);
        size_t n = len / 2;
        float *s = malloc(n * sizeof(float));
        for (size_t i = 0; i < n; i++)
            s[i] = (float)pcm[i] / 32768.0f;
        audio_trim_bounds(s, n, AUDIO_TRIM_THRESHOLD, AUDIO_TRIM_PAD, &a, &b);
        if (a != want_a || b != want_b)
            fail_msg("%s: [%zu, %zu), numpy [%lu, %lu)", names[k], a, b, want_a, want_b);
        free(s);
        free(pcm);
        free(text);
    }
}

/* ---- cut points ------------------------------------------------------------------ */

/* Deterministic noise in [-0.5, 0.5). */
static void noise(float *s, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        s[i] = (float)(seed >> 8) / (float)(1u << 24) - 0.5f;
    }
}

static void test_cut_in_the_quiet(void **state)
{
    (void)state;
    size_t n = 10 * AUDIO_RATE;
    float *s = malloc(n * sizeof(float));
    noise(s, n, 7);
    /* A 200 ms pause at 8.3 s: the cut lands inside it, near its middle. */
    size_t gap = (size_t)(8.3 * AUDIO_RATE), gap_len = AUDIO_RATE / 5;
    memset(s + gap, 0, gap_len * sizeof(float));
    size_t cut = audio_window_cut(s, n, 5 * AUDIO_RATE);
    assert_true(cut >= gap + 800 && cut <= gap + gap_len - 800);
    assert_true(s[cut] == 0.0f);

    /* A pause before lo is not looked at. */
    size_t cut2 = audio_window_cut(s, n, 9 * AUDIO_RATE);
    assert_true(cut2 >= 9 * AUDIO_RATE + 800 && cut2 <= n - 800);

    /* Digital silence: the latest stretch (longest window). */
    memset(s, 0, n * sizeof(float));
    assert_int_equal(audio_window_cut(s, n, 0), n - n % 160 - 800);

    /* Less than 100 ms to search: no choice. */
    assert_int_equal(audio_window_cut(s, n, n - 1599), n);
    assert_int_equal(audio_window_cut(s, n, n + 1), n);
    free(s);
}

/* ---- the windower ------------------------------------------------------------------ */

typedef struct window_log {
    size_t n_windows;
    uint64_t offset[64];
    size_t len[64];
    float first[64], last[64];
    int stop_at; /* window number that fails, 0 = none */
} window_log;

static int log_window(void *ctx, const float *s, size_t n, uint64_t offset, hdm_err *err)
{
    window_log *l = ctx;
    assert_true(n > 0);
    assert_true(l->n_windows < 64);
    l->offset[l->n_windows] = offset;
    l->len[l->n_windows] = n;
    l->first[l->n_windows] = s[0];
    l->last[l->n_windows] = s[n - 1];
    l->n_windows++;
    if (l->stop_at && (int)l->n_windows == l->stop_at)
        return hdm_err_set(err, HDM_E_CANCELLED, "stopped at window %zu", l->n_windows);
    return 0;
}

/* 1 s of noise, then 0.4 s of silence, over and over (70 s). */
static float *pattern(size_t *n)
{
    *n = 70 * AUDIO_RATE;
    float *s = malloc(*n * sizeof(float));
    noise(s, *n, 3);
    for (size_t i = 0; i < *n; i++)
        if (i % (AUDIO_RATE * 14 / 10) >= AUDIO_RATE)
            s[i] = 0.0f;
    return s;
}

static void run_windower(const float *s, size_t n, bool trim, size_t chunk, window_log *l)
{
    audio_window_opts o;
    audio_windower *w;
    hdm_err err = {0};
    audio_window_opts_defaults(&o);
    o.trim = trim;
    memset(l, 0, sizeof(*l));
    assert_int_equal(audio_windower_new(&o, log_window, l, &w, &err), 0);
    for (size_t pos = 0; pos < n; pos += chunk)
        assert_int_equal(audio_windower_push(w, s + pos, pos + chunk < n ? chunk : n - pos, &err),
                         0);
    assert_int_equal(audio_windower_finish(w, &err), 0);
    assert_int_equal(audio_windower_samples(w), n);
    assert_int_equal(audio_windower_windows(w), l->n_windows);
    audio_windower_free(w);
}

static void test_windows_without_trim(void **state)
{
    (void)state;
    size_t n;
    float *s = pattern(&n);
    window_log l, again;

    run_windower(s, n, false, 4096, &l);
    assert_int_equal(l.n_windows, 3);
    uint64_t next = 0;
    for (size_t k = 0; k < l.n_windows; k++) {
        assert_int_equal(l.offset[k], next); /* contiguous, absolute */
        assert_true(l.len[k] <= AUDIO_WINDOW_SAMPLES);
        if (k + 1 < l.n_windows) {
            assert_true(l.len[k] >= AUDIO_WINDOW_SAMPLES - AUDIO_WINDOW_SEARCH);
            /* Cut in a pause: silence on both sides of the cut. */
            assert_true(l.last[k] == 0.0f);
            assert_true(s[l.offset[k] + l.len[k]] == 0.0f);
        }
        next += l.len[k];
    }
    assert_int_equal(next, n);

    /* However the samples arrive, the windows are the same. */
    static const size_t chunks[] = {1, 1000, 160001, 70 * AUDIO_RATE};
    for (size_t c = 0; c < 4; c++) {
        run_windower(s, n, false, chunks[c], &again);
        assert_int_equal(again.n_windows, l.n_windows);
        assert_memory_equal(again.offset, l.offset, sizeof(l.offset));
        assert_memory_equal(again.len, l.len, sizeof(l.len));
    }
    free(s);
}

static void test_windows_with_trim(void **state)
{
    (void)state;
    size_t n;
    float *s = pattern(&n);
    window_log plain, l;
    run_windower(s, n, false, 4096, &plain);
    run_windower(s, n, true, 4096, &l);
    assert_int_equal(l.n_windows, plain.n_windows);
    for (size_t k = 0; k < l.n_windows; k++) {
        /* Each window trimmed on its own, its offset still absolute. */
        size_t a, b;
        audio_trim_bounds(s + plain.offset[k], plain.len[k], AUDIO_TRIM_THRESHOLD, AUDIO_TRIM_PAD,
                          &a, &b);
        assert_int_equal(l.offset[k], plain.offset[k] + a);
        assert_int_equal(l.len[k], b - a);
    }
    free(s);
}

static void test_window_edges(void **state)
{
    (void)state;
    size_t n = AUDIO_WINDOW_SAMPLES + 1;
    float *s = calloc(n, sizeof(float));
    window_log l;

    run_windower(s, AUDIO_WINDOW_SAMPLES, false, 1000, &l);
    assert_int_equal(l.n_windows, 1);
    assert_int_equal(l.len[0], AUDIO_WINDOW_SAMPLES);
    run_windower(s, n, false, 1000, &l);
    assert_int_equal(l.n_windows, 2);
    assert_int_equal(l.len[0] + l.len[1], n);
    /* All silence with trimming: sent whole, as the original did. */
    run_windower(s, AUDIO_RATE, true, 1000, &l);
    assert_int_equal(l.n_windows, 1);
    assert_int_equal(l.len[0], AUDIO_RATE);
    /* Nothing pushed: no window. */
    run_windower(s, 0, true, 1000, &l);
    assert_int_equal(l.n_windows, 0);

    /* A failing callback stops the windower with its error. */
    audio_windower *w;
    hdm_err err = {0};
    memset(&l, 0, sizeof(l));
    l.stop_at = 1;
    assert_int_equal(audio_windower_new(NULL, log_window, &l, &w, &err), 0);
    assert_int_equal(audio_windower_push(w, s, n, &err), -HDM_E_CANCELLED);
    assert_string_equal(err.msg, "stopped at window 1");
    audio_windower_free(w);

    /* Options that cannot work. */
    audio_window_opts o;
    audio_window_opts_defaults(&o);
    o.window = 100;
    assert_int_equal(audio_windower_new(&o, log_window, &l, &w, &err), -HDM_E_BAD_REQUEST);
    audio_window_opts_defaults(&o);
    o.search = o.window + 1;
    assert_int_equal(audio_windower_new(&o, log_window, &l, &w, &err), -HDM_E_BAD_REQUEST);
    audio_windower_free(NULL);
    free(s);
}

/* A decoded 10-minute recording, straight from the decoder into windows. */
static void test_long_file_windows(void **state)
{
    (void)state;
    size_t len, ref_len;
    uint8_t *data = audio_file("long-10min.mp3", &len);
    free(audio_file("long-10min.mp3.ref", &ref_len));
    audio_limits lim;
    audio_windower *w;
    window_log l = {0};
    hdm_err err = {0};

    audio_limits_defaults(&lim);
    lim.max_seconds = 601;
    assert_int_equal(audio_windower_new(NULL, log_window, &l, &w, &err), 0);
    assert_int_equal(audio_decode(data, len, "long.mp3", &lim, audio_windower_push, w, NULL, &err),
                     0);
    assert_int_equal(audio_windower_finish(w, &err), 0);
    assert_int_equal(audio_windower_samples(w), ref_len / 2);
    assert_true(l.n_windows >= 20 && l.n_windows <= 25);
    for (size_t k = 0; k + 1 < l.n_windows; k++) {
        assert_true(l.len[k] <= AUDIO_WINDOW_SAMPLES);
        assert_true(l.offset[k] + l.len[k] <= l.offset[k + 1]);
    }
    assert_true(l.offset[l.n_windows - 1] + l.len[l.n_windows - 1] <= ref_len / 2);
    audio_windower_free(w);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trim_bounds),       cmocka_unit_test(test_trim_matches_numpy),
        cmocka_unit_test(test_cut_in_the_quiet),  cmocka_unit_test(test_windows_without_trim),
        cmocka_unit_test(test_windows_with_trim), cmocka_unit_test(test_window_edges),
        cmocka_unit_test(test_long_file_windows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
