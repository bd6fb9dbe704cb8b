/*
 * test_stats.c - histograms, recent-sample percentiles, Prometheus text,
 * label escaping and the moving average.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "manager/stats.h"

static stats_hist h; /* too big for a comfortable stack frame in every test */

static void test_empty(void **state)
{
    (void)state;
    stats_hist_init(&h);
    assert_true(stats_hist_percentile(&h, 50) == 0);
    assert_true(stats_hist_percentile(&h, 99) == 0);
    cJSON *o = cJSON_CreateObject();
    stats_hist_json(&h, o, "wait_ms");
    cJSON *w = cJSON_GetObjectItem(o, "wait_ms");
    assert_non_null(w);
    assert_int_equal(cJSON_GetObjectItem(w, "count")->valueint, 0);
    assert_true(cJSON_GetObjectItem(w, "p99")->valuedouble == 0);
    cJSON_Delete(o);
}

static void test_percentiles_nearest_rank(void **state)
{
    (void)state;
    stats_hist_init(&h);
    for (int i = 100; i >= 1; i--) /* order must not matter */
        stats_hist_add(&h, i);
    assert_true(stats_hist_percentile(&h, 50) == 50);
    assert_true(stats_hist_percentile(&h, 90) == 90);
    assert_true(stats_hist_percentile(&h, 99) == 99);
    assert_true(stats_hist_percentile(&h, 100) == 100);
    assert_true(stats_hist_percentile(&h, 0) == 1);
    cJSON *o = cJSON_CreateObject();
    stats_hist_json(&h, o, "x");
    cJSON *x = cJSON_GetObjectItem(o, "x");
    assert_true(cJSON_GetObjectItem(x, "p50")->valuedouble == 50);
    assert_true(cJSON_GetObjectItem(x, "p90")->valuedouble == 90);
    assert_true(cJSON_GetObjectItem(x, "p99")->valuedouble == 99);
    assert_int_equal(cJSON_GetObjectItem(x, "count")->valueint, 100);
    cJSON_Delete(o);
}

static void test_ring_keeps_recent(void **state)
{
    (void)state;
    stats_hist_init(&h);
    for (int i = 0; i < STATS_RING; i++)
        stats_hist_add(&h, 1000);
    for (int i = 0; i < STATS_RING; i++)
        stats_hist_add(&h, 2);
    /* Old slow samples have left the window; the histogram still counts them. */
    assert_true(stats_hist_percentile(&h, 99) == 2);
    assert_int_equal(h.count, 2 * STATS_RING);
    assert_int_equal(h.ring_len, STATS_RING);
}

static void test_negative_and_nan(void **state)
{
    (void)state;
    stats_hist_init(&h);
    stats_hist_add(&h, -5);
    stats_hist_add(&h, NAN);
    assert_int_equal(h.count, 2);
    assert_true(h.sum_ms == 0);
    assert_true(stats_hist_percentile(&h, 99) == 0);
}

static void test_prometheus_text(void **state)
{
    (void)state;
    buf out = {0};
    stats_hist_init(&h);
    stats_hist_add(&h, 0.5);   /* <= 1 ms */
    stats_hist_add(&h, 7);     /* <= 10 ms */
    stats_hist_add(&h, 90000); /* above the last bound */
    stats_hist_prometheus(&h, &out, "t_seconds", "a=\"b\"");
    stats_hist_prometheus(&h, &out, "u_seconds", "");
    buf_append(&out, "", 1);
    const char *t = (const char *)out.data;
    assert_non_null(strstr(t, "t_seconds_bucket{a=\"b\",le=\"0.001\"} 1\n"));
    assert_non_null(strstr(t, "t_seconds_bucket{a=\"b\",le=\"0.005\"} 1\n"));
    assert_non_null(strstr(t, "t_seconds_bucket{a=\"b\",le=\"0.01\"} 2\n"));
    assert_non_null(strstr(t, "t_seconds_bucket{a=\"b\",le=\"60\"} 2\n"));
    assert_non_null(strstr(t, "t_seconds_bucket{a=\"b\",le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(t, "t_seconds_count{a=\"b\"} 3\n"));
    assert_non_null(strstr(t, "t_seconds_sum{a=\"b\"} 90.007500\n"));
    assert_non_null(strstr(t, "u_seconds_bucket{le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(t, "u_seconds_count 3\n"));
    buf_free(&out);
    /* Bounds ascend, so cumulative buckets never decrease. */
    const double *b = stats_bucket_bounds_ms();
    for (int i = 1; i < STATS_N_BUCKETS; i++)
        assert_true(b[i] > b[i - 1]);
}

static void test_escape(void **state)
{
    (void)state;
    buf out = {0};
    char small[8];
    stats_prom_escape(&out, "a\"b\\c\nd");
    buf_append(&out, "", 1);
    assert_string_equal((char *)out.data, "a\\\"b\\\\c\\nd");
    buf_free(&out);
    stats_prom_escape_to(small, sizeof small, "ab\"cdef");
    assert_string_equal(small, "ab\\\"cde");
    stats_prom_escape_to(small, 4, "ab\"c"); /* an escape is never cut in half */
    assert_string_equal(small, "ab");
}

static void test_ewma(void **state)
{
    (void)state;
    double avg = 0;
    uint64_t n = 0;
    stats_ewma_update(&avg, &n, 100, 0.5);
    assert_true(avg == 100);
    stats_ewma_update(&avg, &n, 200, 0.5);
    assert_true(avg == 150);
    assert_int_equal(n, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_percentiles_nearest_rank),
        cmocka_unit_test(test_ring_keeps_recent),
        cmocka_unit_test(test_negative_and_nan),
        cmocka_unit_test(test_prometheus_text),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_ewma),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
