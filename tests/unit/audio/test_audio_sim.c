/*
 * test_audio_sim.c - the library end to end with the simulated Whisper,
 * as hailo-whisper chains it: a 10-minute MP3 decoded, cut into windows
 * (trimmed), each window a float32 tensor for the sim model, the segments
 * stitched.  The recording is one phrases.wav (three utterances, 1.5 s
 * apart) over and over, so every utterance's absolute time is known from one
 * pass over phrases.wav: the stitched transcript must find each one at its
 * place, in order, none lost at a window cut, none twice.
 */
#include <math.h>
#include <string.h>

#include "../backends/sim_test_util.h"
#include "audio/audio_window.h"
#include "audio/transcript.h"
#include "audio_test_util.h"

/* Window edges may move a voiced stretch's edge by a frame or two (lossy
 * MP3, a different resampling path): times match within this. */
#define TOLERANCE_S 0.1

typedef struct chain {
    simt *t;
    backend_model *m;
    transcript tr;
    unsigned windows;
} chain;

static int on_window(void *ctx, const float *s, size_t n, uint64_t offset, hdm_err *err)
{
    chain *c = ctx;
    infer_input in = {.kind = MODEL_WHISPER};
    infer_output out = {0};
    in.u.whisper.audio = (hdm_tensor){.dtype = HDM_DT_FLOAT32,
                                      .ndim = 1,
                                      .shape = {(int64_t)n},
                                      .data = (void *)s,
                                      .nbytes = n * sizeof(float)};
    snprintf(in.u.whisper.language, sizeof(in.u.whisper.language), "en");
    int rc = backend_sim_ops.infer(c->t->b, c->m, &in, NULL, &out, err);
    if (rc == 0)
        rc = transcript_add_window(&c->tr, out.result, (double)offset / AUDIO_RATE,
                                   (double)n / AUDIO_RATE, err);
    infer_output_clear(&out);
    c->windows++;
    return rc;
}

/* Decodes a generated file through the windower into the sim model. */
static void transcribe(simt *t, backend_model *m, const char *file, double max_seconds, chain *c)
{
    size_t len;
    uint8_t *data = audio_file(file, &len);
    audio_limits lim;
    audio_windower *w;
    hdm_err err = {0};

    memset(c, 0, sizeof(*c));
    c->t = t;
    c->m = m;
    audio_limits_defaults(&lim);
    lim.max_seconds = max_seconds;
    assert_int_equal(audio_windower_new(NULL, on_window, c, &w, &err), 0);
    if (audio_decode(data, len, file, &lim, audio_windower_push, w, NULL, &err) != 0 ||
        audio_windower_finish(w, &err) != 0)
        fail_msg("%s: %s", file, err.msg);
    audio_windower_free(w);
    free(data);
}

static void test_ten_minutes_stitched(void **state)
{
    (void)state;
    simt t;
    simt_setup(&t, "{\"latency_scale\": 0}");
    char *path = simt_model(&t, "Whisper-Base.hef", NULL);
    backend_model *m = simt_load(&t, MODEL_WHISPER, path, NULL);
    chain one, all;

    /* One period: where its utterances are. */
    transcribe(&t, m, "phrases.wav", 300, &one);
    assert_int_equal(one.windows, 1);
    assert_true(one.tr.n >= 3);
    size_t ref_len;
    free(audio_file("phrases.wav.ref", &ref_len));
    double period = (double)(ref_len / 2) / AUDIO_RATE;

    transcribe(&t, m, "long-10min.mp3", 601, &all);
    assert_true(all.windows >= 20);
    /* Every utterance of every period, at its absolute time, in order. */
    size_t next = 0;
    for (int k = 0; (k + 1) * period <= 600.0; k++) {
        for (size_t i = 0; i < one.tr.n; i++) {
            double start = k * period + one.tr.segments[i].start;
            double end = k * period + one.tr.segments[i].end;
            if (next >= all.tr.n)
                fail_msg("period %d, utterance %zu (%.2f s) missing", k, i, start);
            const transcript_segment *s = &all.tr.segments[next++];
            if (fabs(s->start - start) > TOLERANCE_S || fabs(s->end - end) > TOLERANCE_S)
                fail_msg("period %d, utterance %zu: [%.3f, %.3f], expected [%.3f, %.3f]", k, i,
                         s->start, s->end, start, end);
        }
    }
    /* What follows the last whole period is a part of one: nothing else. */
    for (; next < all.tr.n; next++)
        assert_true(all.tr.segments[next].start >= floor(600.0 / period) * period);
    for (size_t i = 1; i < all.tr.n; i++)
        assert_true(all.tr.segments[i].start >= all.tr.segments[i - 1].end);

    transcript_free(&one.tr);
    transcript_free(&all.tr);
    backend_sim_ops.unload(t.b, m);
    free(path);
    simt_teardown(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ten_minutes_stitched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
