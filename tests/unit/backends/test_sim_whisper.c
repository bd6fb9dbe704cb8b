/*
 * test_sim_whisper.c - the simulated Whisper: one segment per voiced
 * stretch with its times, pauses joined and clicks dropped, text that
 * depends on the audio and nothing else, language and task marks, the
 * 30 s window limit, input checks and cancellation.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_test_util.h"

#define FAST "{\"latency_scale\": 0}"
#define RATE 16000

static int setup(void **state)
{
    simt *t = calloc(1, sizeof(*t));
    simt_setup(t, FAST);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    simt_teardown(*state);
    free(*state);
    return 0;
}

/* Silence of `seconds` with 440 Hz bursts (amplitude 0.3) over [on[i], off[i]). */
static hdm_tensor bursts(double seconds, const double *on, const double *off, size_t n_bursts,
                         float freq)
{
    size_t n = (size_t)lround(seconds * RATE);
    hdm_tensor a = {.dtype = HDM_DT_FLOAT32, .ndim = 1, .shape = {(int64_t)n}};
    float *s = calloc(n ? n : 1, sizeof(float));
    assert_non_null(s);
    for (size_t b = 0; b < n_bursts; b++)
        for (size_t i = (size_t)lround(on[b] * RATE); i < (size_t)lround(off[b] * RATE) && i < n;
             i++)
            s[i] = 0.3f * sinf(2.0f * (float)M_PI * freq * (float)i / RATE);
    a.data = s;
    a.nbytes = n * sizeof(float);
    return a;
}

typedef struct fixture {
    simt *t;
    char *path;
    backend_model *m;
    infer_input in;
    infer_output out;
    hdm_err err;
} fixture;

static void fixture_open(fixture *f, simt *t, const char *model)
{
    memset(f, 0, sizeof(*f));
    f->t = t;
    f->path = simt_model(t, model, NULL);
    f->m = simt_load(t, MODEL_WHISPER, f->path, NULL);
    f->in.kind = MODEL_WHISPER;
    snprintf(f->in.u.whisper.language, sizeof(f->in.u.whisper.language), "en");
    f->in.u.whisper.task = WHISPER_TRANSCRIBE;
}

static void fixture_close(fixture *f)
{
    free(f->in.u.whisper.audio.data);
    backend_sim_ops.unload(f->t->b, f->m);
    free(f->path);
}

static int run(fixture *f, const infer_hooks *hooks)
{
    memset(&f->out, 0, sizeof(f->out));
    hdm_err_clear(&f->err);
    return backend_sim_ops.infer(f->t->b, f->m, &f->in, hooks, &f->out, &f->err);
}

static const cJSON *segment(const infer_output *o, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(o->result, "segments"), i);
}

static double num(const cJSON *seg, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(seg, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static const char *text(const cJSON *seg)
{
    const cJSON *v = cJSON_GetObjectItem(seg, "text");
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static void test_one_segment_per_stretch(void **state)
{
    fixture f;
    fixture_open(&f, *state, "whisper_base.hef");
    /* A stretch, a second one with a 0.2 s pause inside (joined), a 50 ms click. */
    const double on[] = {0.5, 2.0, 2.6, 4.0}, off[] = {1.5, 2.4, 3.0, 4.05};
    f.in.u.whisper.audio = bursts(5.0, on, off, 4, 440.0f);
    assert_int_equal(run(&f, NULL), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f.out.result, "segments")), 2);
    const cJSON *a = segment(&f.out, 0), *b = segment(&f.out, 1);
    assert_int_equal((int)num(a, "id"), 0);
    assert_int_equal((int)num(b, "id"), 1);
    assert_true(fabs(num(a, "start") - 0.5) < 1e-9);
    assert_true(fabs(num(a, "end") - 1.5) < 1e-9);
    assert_true(fabs(num(b, "start") - 2.0) < 1e-9);
    assert_true(fabs(num(b, "end") - 3.0) < 1e-9);
    /* " Word word word." : a leading space, a capital, a full stop. */
    const char *ta = text(a);
    assert_true(ta[0] == ' ' && ta[1] >= 'A' && ta[1] <= 'Z');
    assert_int_equal(ta[strlen(ta) - 1], '.');
    /* 2.5 words per second: a 1 s stretch has 3 words (2 spaces after the first). */
    int spaces = 0;
    for (const char *p = ta; *p; p++)
        spaces += *p == ' ';
    assert_int_equal(spaces, 3);
    infer_output_clear(&f.out);
    fixture_close(&f);
}

static void test_times_on_grid_and_clamped(void **state)
{
    fixture f;
    fixture_open(&f, *state, "whisper_base.hef");
    /* Voice from 0.013 s to the end of 1.0101 s of audio: the start falls to
     * the 20 ms grid, the end is the end of the audio. */
    const double on[] = {0.013}, off[] = {1.0101};
    f.in.u.whisper.audio = bursts(1.0101, on, off, 1, 440.0f);
    assert_int_equal(run(&f, NULL), 0);
    const cJSON *a = segment(&f.out, 0);
    assert_non_null(a);
    assert_true(fabs(num(a, "start") - 0.0) < 1e-9);
    assert_true(fabs(num(a, "end") - 1.01) < 1e-9);
    infer_output_clear(&f.out);
    fixture_close(&f);
}

static char *result_json(const infer_output *o)
{
    char *s = cJSON_PrintUnformatted(o->result);
    assert_non_null(s);
    return s;
}

static void test_text_follows_the_audio(void **state)
{
    fixture f;
    fixture_open(&f, *state, "whisper_base.hef");
    const double on[] = {0.5}, off[] = {2.5};
    f.in.u.whisper.audio = bursts(3.0, on, off, 1, 440.0f);
    assert_int_equal(run(&f, NULL), 0);
    char *first = result_json(&f.out);
    infer_output_clear(&f.out);
    assert_int_equal(run(&f, NULL), 0);
    char *again = result_json(&f.out);
    infer_output_clear(&f.out);
    assert_string_equal(first, again);

    /* Other sound at the same place: same times, other words. */
    free(f.in.u.whisper.audio.data);
    f.in.u.whisper.audio = bursts(3.0, on, off, 1, 330.0f);
    assert_int_equal(run(&f, NULL), 0);
    char *other = result_json(&f.out);
    assert_true(fabs(num(segment(&f.out, 0), "end") - 2.5) < 1e-9);
    assert_string_not_equal(first, other);
    infer_output_clear(&f.out);
    free(first);
    free(again);
    free(other);
    fixture_close(&f);
}

static void test_language_and_task(void **state)
{
    fixture f;
    fixture_open(&f, *state, "whisper_base.hef");
    const double on[] = {0.2}, off[] = {1.2};
    f.in.u.whisper.audio = bursts(1.5, on, off, 1, 440.0f);
    static const struct {
        const char *lang;
        enum whisper_task task;
        const char *prefix;
    } cases[] = {
        {"en", WHISPER_TRANSCRIBE, " "},
        {"fr", WHISPER_TRANSCRIBE, " [fr] "},
        {"fr", WHISPER_TRANSLATE, " [translated from fr] "},
        {"en", WHISPER_TRANSLATE, " [translated] "},
        {"auto", WHISPER_TRANSLATE, " [translated] "},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(f.in.u.whisper.language, sizeof(f.in.u.whisper.language), "%s", cases[i].lang);
        f.in.u.whisper.task = cases[i].task;
        assert_int_equal(run(&f, NULL), 0);
        const char *tx = text(segment(&f.out, 0));
        assert_memory_equal(tx, cases[i].prefix, strlen(cases[i].prefix));
        assert_true(tx[strlen(cases[i].prefix)] >= 'A' && tx[strlen(cases[i].prefix)] <= 'Z');
        if (i == 0)
            assert_null(strchr(tx, '['));
        infer_output_clear(&f.out);
    }
    fixture_close(&f);
}

static void test_window_limit(void **state)
{
    fixture f;
    fixture_open(&f, *state, "whisper_base.hef");
    const double on[] = {29.0}, off[] = {30.0};
    f.in.u.whisper.audio = bursts(30.0, on, off, 1, 440.0f);
    assert_int_equal(run(&f, NULL), 0);
    assert_true(fabs(num(segment(&f.out, 0), "end") - 30.0) < 1e-9);
    infer_output_clear(&f.out);

    /* One sample more is refused, naming the limit. */
    free(f.in.u.whisper.audio.data);
    f.in.u.whisper.audio = bursts(30.0 + 1.0 / RATE, on, off, 1, 440.0f);
    assert_int_equal(run(&f, NULL), -HDM_E_TOO_LARGE);
    assert_non_null(strstr(f.err.msg, "480001 samples"));
    assert_non_null(strstr(f.err.msg, "at most 480000 (30 s at 16 kHz)"));
    assert_null(f.out.result);
    fixture_close(&f);
}

static void test_input_checks(void **state)
{
    fixture f;
    fixture_open(&f, *state, "whisper_base.hef");
    const double on[] = {0.0}, off[] = {1.0};
    f.in.u.whisper.audio = bursts(1.0, on, off, 1, 440.0f);

    /* [1, N] is mono too. */
    f.in.u.whisper.audio.ndim = 2;
    f.in.u.whisper.audio.shape[0] = 1;
    f.in.u.whisper.audio.shape[1] = RATE;
    assert_int_equal(run(&f, NULL), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f.out.result, "segments")), 1);
    infer_output_clear(&f.out);

    /* Stereo and int16 are refused, saying what was expected. */
    f.in.u.whisper.audio.shape[0] = 2;
    f.in.u.whisper.audio.shape[1] = RATE / 2;
    assert_int_equal(run(&f, NULL), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(f.err.msg, "float32 [samples]"));
    f.in.u.whisper.audio.ndim = 1;
    f.in.u.whisper.audio.shape[0] = RATE;
    f.in.u.whisper.audio.dtype = HDM_DT_INT16;
    assert_int_equal(run(&f, NULL), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(f.err.msg, "float32"));
    f.in.u.whisper.audio.dtype = HDM_DT_FLOAT32;

    /* Silence, and samples that are not numbers, give no segment. */
    float *s = f.in.u.whisper.audio.data;
    for (size_t i = 0; i < RATE; i++)
        s[i] = i % 2 ? NAN : 0.0f;
    assert_int_equal(run(&f, NULL), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f.out.result, "segments")), 0);
    infer_output_clear(&f.out);
    fixture_close(&f);
}

static void test_models_differ_and_cancel(void **state)
{
    fixture a, b;
    fixture_open(&a, *state, "whisper_base.hef");
    fixture_open(&b, *state, "whisper_tiny.hef");
    const double on[] = {0.2}, off[] = {1.8};
    a.in.u.whisper.audio = bursts(2.0, on, off, 1, 440.0f);
    b.in.u.whisper.audio = bursts(2.0, on, off, 1, 440.0f);
    assert_int_equal(run(&a, NULL), 0);
    assert_int_equal(run(&b, NULL), 0);
    assert_string_not_equal(text(segment(&a.out, 0)), text(segment(&b.out, 0)));
    infer_output_clear(&a.out);
    infer_output_clear(&b.out);

    atomic_bool cancelled = true;
    infer_hooks hooks = {.cancelled = &cancelled};
    assert_int_equal(run(&a, &hooks), -HDM_E_CANCELLED);
    assert_null(a.out.result);
    fixture_close(&a);
    fixture_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_segment_per_stretch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_times_on_grid_and_clamped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_follows_the_audio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_language_and_task, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_models_differ_and_cancel, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
