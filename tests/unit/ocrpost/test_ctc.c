/*
 * test_ctc.c - greedy CTC decoding (ocrpost/ctc.h): collapsing, blanks,
 * ties, the two spaces, numpy's confidence arithmetic, NaN, bad shapes,
 * the vector argmax against a plain one on random rows.
 * (The 200 golden outputs in test_golden.c compare with the Python.)
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ocrpost/ctc.h"

#define T 6
#define C OCR_CTC_CLASSES

/* probs[t] puts p on class cls[t], 0 elsewhere. */
static void fill(float *probs, const int *cls, const float *p, int steps)
{
    memset(probs, 0, sizeof(float) * (size_t)steps * C);
    for (int t = 0; t < steps; t++)
        probs[t * C + cls[t]] = p[t];
}

static void test_charset(void **state)
{
    (void)state;
    assert_int_equal(ocr_ctc_charset[0], '\0');
    assert_int_equal(ocr_ctc_charset[1], '0');
    assert_int_equal(ocr_ctc_charset[10], '9');
    assert_int_equal(ocr_ctc_charset[11], ':');
    assert_int_equal(ocr_ctc_charset[17], '@');
    assert_int_equal(ocr_ctc_charset[18], 'A');
    assert_int_equal(ocr_ctc_charset[43], 'Z');
    assert_int_equal(ocr_ctc_charset[44], '[');
    assert_int_equal(ocr_ctc_charset[45], '\\');
    assert_int_equal(ocr_ctc_charset[49], '`');
    assert_int_equal(ocr_ctc_charset[50], 'a');
    assert_int_equal(ocr_ctc_charset[75], 'z');
    assert_int_equal(ocr_ctc_charset[79], '~');
    assert_int_equal(ocr_ctc_charset[80], '!');
    assert_int_equal(ocr_ctc_charset[86], '\'');
    assert_int_equal(ocr_ctc_charset[94], '/');
    assert_int_equal(ocr_ctc_charset[95], ' ');
    assert_int_equal(ocr_ctc_charset[96], ' ');
}

static void test_collapse(void **state)
{
    (void)state;
    float probs[T * C];
    char text[T + 1];
    double conf;
    hdm_err err = {0};
    /* Repeats merge, a blank separates them, 95 and 96 are two spaces. */
    const int cls[T] = {50, 50, 0, 50, 95, 96};
    const float p[T] = {0.9f, 0.8f, 0.99f, 0.7f, 0.6f, 0.5f};
    fill(probs, cls, p, T);
    assert_int_equal(ocr_ctc_decode(probs, T, C, text, sizeof(text), &conf, &err), 0);
    assert_string_equal(text, "aa  ");
    /* Kept: t=0 (0.9), t=3 (0.7), t=4 (0.6) and t=5 (0.5: 96 is not 95). */
    float kept[4] = {0.9f, 0.7f, 0.6f, 0.5f};
    float sum = 0.0f;
    for (int i = 0; i < 4; i++)
        sum += kept[i];
    assert_true(conf == (double)(float)((double)sum / 4.0));
}

static void test_blank_and_ties(void **state)
{
    (void)state;
    float probs[T * C];
    char text[T + 1];
    double conf = -1;
    hdm_err err = {0};
    memset(probs, 0, sizeof(probs));
    for (int t = 0; t < T; t++)
        probs[t * C] = 0.9f;
    assert_int_equal(ocr_ctc_decode(probs, T, C, text, sizeof(text), &conf, &err), 0);
    assert_string_equal(text, "");
    assert_true(conf == 0.0);
    /* Equal maxima: the first class wins (np.argmax). */
    for (int t = 0; t < T; t++) {
        probs[t * C] = 0.0f;
        probs[t * C + 20 + t] = 0.5f;
        probs[t * C + 60] = 0.5f;
    }
    assert_int_equal(ocr_ctc_decode(probs, T, C, text, sizeof(text), &conf, &err), 0);
    assert_string_equal(text, "CDEFGH");
    assert_true(conf == 0.5);
    /* A 2-D output with fewer classes than the list: fine, as in Python. */
    char longer[T * C / 50 + 1];
    assert_int_equal(ocr_ctc_decode(probs, T * C / 50, 50, longer, sizeof(longer), &conf, &err), 0);
}

static void test_nan(void **state)
{
    (void)state;
    float probs[T * C];
    char text[T + 1];
    double conf;
    hdm_err err = {0};
    const int cls[T] = {30, 0, 31, 0, 32, 0};
    const float p[T] = {0.9f, 0.9f, 0.9f, 0.9f, 0.9f, 0.9f};
    fill(probs, cls, p, T);
    probs[2 * C + 40] = NAN; /* argmax becomes 40, the max NaN */
    assert_int_equal(ocr_ctc_decode(probs, T, C, text, sizeof(text), &conf, &err), 0);
    assert_string_equal(text, "MWO");
    assert_true(isnan(conf));
}

static void test_long_sum(void **state)
{
    (void)state;
    /* 40 kept steps: numpy's eight-accumulator float32 sum, not a plain one. */
    enum { S = 40 };
    float probs[S * C];
    char text[S + 1];
    double conf;
    hdm_err err = {0};
    memset(probs, 0, sizeof(probs));
    float v[S];
    for (int t = 0; t < S; t++) {
        v[t] = 0.3f + 0.017f * (float)t + 1e-7f * (float)(t * t);
        probs[t * C + 1 + (t % 2)] = v[t];
    }
    assert_int_equal(ocr_ctc_decode(probs, S, C, text, sizeof(text), &conf, &err), 0);
    assert_int_equal(strlen(text), S);
    float r[8];
    for (int j = 0; j < 8; j++)
        r[j] = v[j];
    for (int i = 8; i < S; i += 8)
        for (int j = 0; j < 8; j++)
            r[j] += v[i + j];
    float sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    assert_true(conf == (double)(float)((double)sum / S));
}

static void test_errors(void **state)
{
    (void)state;
    float probs[T * 100] = {0};
    char text[T + 1];
    double conf;
    hdm_err err = {0};
    assert_int_equal(ocr_ctc_decode(probs, T, 100, text, sizeof(text), &conf, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "100 classes"));
    assert_int_equal(ocr_ctc_decode(probs, 0, C, text, sizeof(text), &conf, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(ocr_ctc_decode(NULL, T, C, text, sizeof(text), &conf, &err),
                     -HDM_E_BAD_REQUEST);
    const int cls[T] = {5, 0, 6, 0, 7, 0};
    const float p[T] = {1, 1, 1, 1, 1, 1};
    fill(probs, cls, p, T);
    assert_int_equal(ocr_ctc_decode(probs, T, C, text, 3, &conf, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "too small"));
    assert_int_equal(ocr_ctc_decode(probs, T, C, text, 4, &conf, &err), 0);
    assert_string_equal(text, "456");
}

/* np.argmax of a row, the plain way: the first maximum, the first NaN. */
static int ref_argmax(const float *row, int n)
{
    int best = 0;
    if (isnan(row[0]))
        return 0;
    for (int c = 1; c < n; c++) {
        if (isnan(row[c]))
            return c;
        if (row[c] > row[best])
            best = c;
    }
    return best;
}

/* The vector argmax against the plain one on one-step outputs of every
 * width: few distinct values (ties everywhere), signed zeros, negatives,
 * an occasional NaN; the decoded character names the class chosen (only
 * the two spaces, 95 and 96, share one). */
static void test_argmax_random(void **state)
{
    (void)state;
    static const float values[] = {-1.0f, -0.0f, 0.0f, 0.25f, 0.5f, 0.5f, 1e-30f, -3.0f};
    uint64_t x = 0x2545f4914f6cdd1dull;
    float row[C];
    char text[2];
    double conf;
    hdm_err err = {0};
    for (int i = 0; i < 20000; i++) {
        int n = 1 + i % C;
        for (int c = 0; c < n; c++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            row[c] = (x % 997 == 0) ? NAN : values[(x >> 20) % 8];
        }
        int want = ref_argmax(row, n);
        assert_int_equal(ocr_ctc_decode(row, 1, (size_t)n, text, sizeof(text), &conf, &err), 0);
        if (want == 0) {
            assert_string_equal(text, "");
            continue;
        }
        assert_int_equal(text[0], ocr_ctc_charset[want]);
        assert_int_equal(strlen(text), 1);
        if (isnan(row[want]))
            assert_true(isnan(conf));
        else
            assert_true(conf == (double)row[want]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_charset),        cmocka_unit_test(test_collapse),
        cmocka_unit_test(test_blank_and_ties), cmocka_unit_test(test_nan),
        cmocka_unit_test(test_long_sum),       cmocka_unit_test(test_errors),
        cmocka_unit_test(test_argmax_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
