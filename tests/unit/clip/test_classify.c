/*
 * test_classify.c - the maths and request checks of /v1/classify.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "clip/clip.h"

static void test_cosine(void **state)
{
    (void)state;
    float a[3] = {0.6f, 0.8f, 0}, b[3] = {0.8f, 0.6f, 0}, c[3] = {0, 0, 1};
    assert_float_equal(clip_cosine(a, a, 3), 1.0, 1e-6);
    assert_float_equal(clip_cosine(a, b, 3), 0.96, 1e-6);
    assert_float_equal(clip_cosine(a, c, 3), 0.0, 1e-9);
    /* not unit length: still the cosine, as the original divides by the norms */
    float d[3] = {3, 4, 0};
    assert_float_equal(clip_cosine(d, b, 3), 0.96, 1e-6);
}

static void test_scores_finish(void **state)
{
    (void)state;
    /* one prompt keeps its raw cosine (the original softmaxes two or more) */
    double one[1] = {0.27};
    clip_scores_finish(one, 1, true, 100.0);
    assert_float_equal(one[0], 0.27, 0);
    double two[2] = {0.27, 0.25};
    clip_scores_finish(two, 2, true, 100.0);
    assert_float_equal(two[0] + two[1], 1.0, 1e-12);
    assert_float_equal(two[0] / two[1], exp(2.0), 1e-9);
    /* apply_softmax off: raw cosines whatever the count */
    double raw[2] = {0.27, -0.1};
    clip_scores_finish(raw, 2, false, 100.0);
    assert_float_equal(raw[1], -0.1, 0);
}

static void test_softmax_sums_to_one(void **state)
{
    (void)state;
    double s[4] = {0.31, 0.25, 0.28, 0.05};
    clip_softmax(s, 4, 100.0);
    double sum = 0;
    for (int i = 0; i < 4; i++) {
        assert_true(s[i] > 0 && s[i] < 1);
        sum += s[i];
    }
    assert_float_equal(sum, 1.0, 1e-12);
    /* exp(100 * (0.31 - 0.28)) = exp(3) between the two best */
    assert_float_equal(s[0] / s[2], exp(3.0), 1e-9);
    assert_true(s[0] > s[2] && s[2] > s[1] && s[1] > s[3]);

    /* a scale that would overflow exp() without the max shift */
    double big[2] = {1.0, 0.5};
    clip_softmax(big, 2, 5000.0);
    assert_float_equal(big[0], 1.0, 1e-12);
    assert_true(big[1] >= 0 && big[1] < 1e-100);

    /* scale 0: uniform */
    double flat[3] = {0.9, -0.2, 0.1};
    clip_softmax(flat, 3, 0.0);
    for (int i = 0; i < 3; i++)
        assert_float_equal(flat[i], 1.0 / 3.0, 1e-12);
}

static void test_rank_top_k_threshold(void **state)
{
    (void)state;
    double s[5] = {0.1, 0.4, 0.05, 0.3, 0.15};
    clip_score out[5];
    int n = clip_rank(s, 5, 3, 0.0, out);
    assert_int_equal(n, 3);
    assert_int_equal(out[0].index, 1);
    assert_int_equal(out[0].rank, 1);
    assert_int_equal(out[1].index, 3);
    assert_int_equal(out[1].rank, 2);
    assert_int_equal(out[2].index, 4);
    assert_int_equal(out[2].rank, 3);
    assert_float_equal(out[0].score, 0.4, 0);

    /* top_k above n is capped */
    assert_int_equal(clip_rank(s, 5, 50, 0.0, out), 5);
    assert_int_equal(out[4].index, 2);
    assert_int_equal(out[4].rank, 5);

    /* threshold drops the low ones, inclusive at the bound */
    assert_int_equal(clip_rank(s, 5, 5, 0.15, out), 3);
    assert_int_equal(out[2].index, 4);
    assert_int_equal(clip_rank(s, 5, 5, 0.5, out), 0);

    /* ties keep prompt order */
    double tie[3] = {0.2, 0.5, 0.5};
    assert_int_equal(clip_rank(tie, 3, 3, 0, out), 3);
    assert_int_equal(out[0].index, 1);
    assert_int_equal(out[1].index, 2);
    assert_int_equal(out[2].index, 0);
    assert_int_equal(clip_rank(tie, 3, 0, 0, out), 0);
}

static int options(const char *json, int *n, int *k, double *th, char *msg)
{
    cJSON *body = cJSON_Parse(json);
    const cJSON *prompts;
    hdm_err err = {0};
    assert_non_null(body);
    int r = clip_classify_options(body, &prompts, n, k, th, &err);
    strcpy(msg, err.msg);
    cJSON_Delete(body);
    return r;
}

static void expect_bad(const char *json, const char *needle)
{
    int n, k;
    double th;
    char msg[HDM_ERR_MSG_MAX];
    assert_int_equal(options(json, &n, &k, &th, msg), -HDM_E_BAD_REQUEST);
    if (!strstr(msg, needle))
        fprintf(stderr, "%s: message \"%s\" lacks \"%s\"\n", json, msg, needle);
    assert_non_null(strstr(msg, needle));
}

static void test_options(void **state)
{
    (void)state;
    int n, k;
    double th;
    char msg[HDM_ERR_MSG_MAX];
    assert_int_equal(options("{\"prompts\": [\"a\", \"b\", \"c\", \"d\"]}", &n, &k, &th, msg), 0);
    assert_int_equal(n, 4);
    assert_int_equal(k, 3); /* default */
    assert_float_equal(th, 0.0, 0);
    assert_int_equal(options("{\"prompts\": [\"a\", \"b\"]}", &n, &k, &th, msg), 0);
    assert_int_equal(k, 2); /* default capped at the prompts */
    assert_int_equal(options("{\"prompts\": [\"a\"], \"top_k\": 7, \"threshold\": 1}", &n, &k,
                             &th, msg), 0);
    assert_int_equal(k, 1);
    assert_float_equal(th, 1.0, 0);
    assert_int_equal(options("{\"prompts\": [\"a\", \"b\"], \"top_k\": 2.0, \"threshold\": 0.25}",
                             &n, &k, &th, msg), 0);
    assert_int_equal(k, 2);
    assert_float_equal(th, 0.25, 0);
    assert_int_equal(options("{\"prompts\": [\"a\"], \"top_k\": 1e300}", &n, &k, &th, msg), 0);
    assert_int_equal(k, 1);

    /* What the original accepted (classify.c has the table). */
    static const struct {
        const char *opts; /* members after "prompts": ["a", "b", "c"] */
        int k;
        double th;
    } ok[] = {
        {"\"top_k\": 0", 0, 0},              /* no classifications, as results[:0] */
        {"\"top_k\": false", 0, 0},          /* bool is an int in Python */
        {"\"top_k\": true", 1, 0},
        {"\"top_k\": 2.0", 2, 0},            /* cJSON cannot tell 2.0 from 2 */
        {"\"top_k\": 3.5", 3, 0},            /* above the prompts: min() gave 3 */
        {"\"top_k\": 1e999", 3, 0},
        {"\"threshold\": -0.5", 3, -0.5},    /* a lone prompt's cosine can be negative */
        {"\"threshold\": 1.5", 3, 1.5},      /* nothing passes, as there */
        {"\"threshold\": true", 3, 1.0},
        {"\"threshold\": false", 3, 0.0},
        {"\"threshold\": -1e999", 3, -INFINITY},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char json[128];
        snprintf(json, sizeof(json), "{\"prompts\": [\"a\", \"b\", \"c\"], %s}", ok[i].opts);
        if (options(json, &n, &k, &th, msg) != 0)
            fprintf(stderr, "%s: %s\n", json, msg);
        assert_int_equal(options(json, &n, &k, &th, msg), 0);
        assert_int_equal(k, ok[i].k);
        assert_true(th == ok[i].th);
    }

    expect_bad("{}", "prompts is required");
    expect_bad("{\"prompts\": \"a cat\"}", "prompts must be a list");
    expect_bad("{\"prompts\": []}", "prompts must not be empty");
    expect_bad("{\"prompts\": [\"a\", 3]}", "prompts[1] is not a string");
    /* where the original crashed (500) or did nonsense: a clear 400 */
    expect_bad("{\"prompts\": [\"a\", \"b\"], \"top_k\": -2}", "top_k must not be negative");
    expect_bad("{\"prompts\": [\"a\", \"b\"], \"top_k\": 1.5}", "top_k 1.5 is not a whole number");
    expect_bad("{\"prompts\": [\"a\"], \"top_k\": \"3\"}", "top_k must be a number");
    expect_bad("{\"prompts\": [\"a\"], \"top_k\": null}", "top_k must be a number");
    expect_bad("{\"prompts\": [\"a\"], \"top_k\": [3]}", "top_k must be a number");
    expect_bad("{\"prompts\": [\"a\"], \"top_k\": {}}", "top_k must be a number");
    expect_bad("{\"prompts\": [\"a\"], \"threshold\": \"0.5\"}", "threshold must be a number");
    expect_bad("{\"prompts\": [\"a\"], \"threshold\": null}", "threshold must be a number");
    expect_bad("{\"prompts\": [\"a\"], \"threshold\": [0.4]}", "threshold must be a number");
    expect_bad("{\"prompts\": [\"a\"], \"threshold\": {}}", "threshold must be a number");

    char big[32 + 4 * (CLIP_MAX_PROMPTS + 1)];
    strcpy(big, "{\"prompts\":[");
    for (int i = 0; i <= CLIP_MAX_PROMPTS; i++)
        strcat(big, i ? ",\"a\"" : "\"a\"");
    strcat(big, "]}");
    expect_bad(big, "at most");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cosine),
        cmocka_unit_test(test_softmax_sums_to_one),
        cmocka_unit_test(test_scores_finish),
        cmocka_unit_test(test_rank_top_k_threshold),
        cmocka_unit_test(test_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
