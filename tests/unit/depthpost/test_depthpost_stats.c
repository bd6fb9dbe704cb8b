/*
 * test_depthpost_stats.c - the original's stats: numpy's linear
 * percentile, the filtered min/max/mean, float32 mean accumulation, and the
 * inputs where the original fails.  (The golden test checks many more maps
 * against numpy's own results.)
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "depthpost/depthpost.h"

static void test_gm_case(void **state)
{
    (void)state;
    /* GM's test asserts p95 == 3.0; numpy gives 85.44999999999996. */
    float m[4] = {1, 2, 3, 100};
    depthpost_stats s;
    assert_int_equal(depthpost_stats_compute(m, 4, &s, NULL), 0);
    assert_true(s.p95 == 85.44999999999996);
    assert_true(s.min == 1.0 && s.max == 3.0 && s.mean == 2.0);
    /* Order does not matter, and the map is not reordered. */
    float r[4] = {100, 3, 1, 2};
    depthpost_stats s2;
    assert_int_equal(depthpost_stats_compute(r, 4, &s2, NULL), 0);
    assert_memory_equal(&s, &s2, sizeof(s));
    assert_true(r[0] == 100 && r[1] == 3 && r[2] == 1 && r[3] == 2);
}

static void test_small_and_constant(void **state)
{
    (void)state;
    depthpost_stats s;
    float one = -1.75f;
    assert_int_equal(depthpost_stats_compute(&one, 1, &s, NULL), 0);
    assert_true(s.p95 == -1.75 && s.min == -1.75 && s.max == -1.75 && s.mean == -1.75);

    float two[2] = {0.5f, -4.0f};
    assert_int_equal(depthpost_stats_compute(two, 2, &s, NULL), 0);
    /* virtual index 0.95: b - (b - a) * 0.05 with b - a in float32 */
    assert_true(s.p95 == 0.5 - 4.5 * (1.0 - 0.95));
    assert_true(s.max == -4.0 && s.min == -4.0);

    float c[1000];
    for (int i = 0; i < 1000; i++)
        c[i] = 0.25f;
    assert_int_equal(depthpost_stats_compute(c, 1000, &s, NULL), 0);
    assert_true(s.p95 == 0.25 && s.mean == 0.25 && s.min == 0.25 && s.max == 0.25);
}

static void test_signed_zero_and_negative(void **state)
{
    (void)state;
    float m[6] = {-0.0f, 0.0f, -3.5f, -1e-30f, 2.0f, -7.0f};
    depthpost_stats s;
    assert_int_equal(depthpost_stats_compute(m, 6, &s, NULL), 0);
    /* sorted: -7, -3.5, -1e-30, 0, 0, 2; index 4.75 between 0 and 2 */
    assert_true(s.p95 == 2.0 - 2.0 * (1.0 - 4.75 + 4.0));
    assert_true(s.min == -7.0 && s.max == 0.0);
}

static void test_mean_is_float32(void **state)
{
    (void)state;
    /* 1 + many tiny values: a float32 accumulator loses what a double keeps,
     * as numpy's mean does. */
    size_t n = 20000;
    float *m = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        m[i] = i == 0 ? 16777216.0f : 1.0f;
    depthpost_stats s;
    assert_int_equal(depthpost_stats_compute(m, n, &s, NULL), 0);
    /* p95 is 1, so 2^24 is filtered out and the mean is exactly 1. */
    assert_true(s.p95 == 1.0 && s.mean == 1.0 && s.max == 1.0);
    free(m);
}

static void test_failures(void **state)
{
    (void)state;
    depthpost_stats s;
    hdm_err err = {0};
    float m[3] = {1, NAN, 2};
    assert_int_equal(depthpost_stats_compute(m, 3, &s, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "NaN"));
    assert_int_equal(depthpost_stats_compute(m, 0, &s, &err), -HDM_E_BAD_REQUEST);
    /* inf - inf at the percentile ranks: numpy's lerp gives NaN. */
    float inf[2] = {INFINITY, INFINITY};
    assert_int_equal(depthpost_stats_compute(inf, 2, &s, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "percentile"));
    assert_int_equal(depthpost_stats_compute(inf, 1, &s, &err), -HDM_E_DEVICE_ERROR);
    float mixed[3] = {-INFINITY, 1.0f, 2.0f};
    assert_int_equal(depthpost_stats_compute(mixed, 3, &s, &err), 0);
    assert_true(isinf(s.min) && s.min < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gm_case),
        cmocka_unit_test(test_small_and_constant),
        cmocka_unit_test(test_signed_zero_and_negative),
        cmocka_unit_test(test_mean_is_float32),
        cmocka_unit_test(test_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
