/*
 * test_dashboard_history.c - the chart ring: per-interval figures from
 * successive status objects, wrap-around, restarts after a quiet time,
 * client rates and the JSON the page reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "manager/dashboard-history.h"

static dashboard_history h; /* the ring is a few KB */

/* A status object as the manager prints it, with one client and one kind. */
static cJSON *status(double queue, double used, double jobs, double wait_sum, double svc_sum,
                     double client_requests)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"queue_depth\":%g,\"memory\":{\"total_bytes\":1000,\"used_bytes\":%g},"
             "\"clients\":[{\"name\":\"cam\",\"requests\":%g}],"
             "\"model_types\":[{\"model_type\":\"clip\","
             "\"wait_ms\":{\"count\":%g,\"sum_ms\":%g},"
             "\"service_ms\":{\"count\":%g,\"sum_ms\":%g}}]}",
             queue, used, client_requests, jobs, wait_sum, jobs, svc_sum);
    cJSON *o = cJSON_Parse(text);
    assert_non_null(o);
    return o;
}

static void test_first_sample_has_no_rates(void **state)
{
    (void)state;
    dashboard_history_init(&h);
    cJSON *st = status(3, 400, 10, 100, 200, 5);
    dashboard_sample s;
    assert_int_equal(dashboard_history_record(&h, st, 1000.0, 50.0, &s), 0);
    assert_true(s.queue == 3 && s.mem_used == 400 && s.mem_total == 1000);
    assert_true(isnan(s.jobs_per_s) && isnan(s.wait_ms) && isnan(s.service_ms));
    cJSON *j = dashboard_sample_json(&s);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "wait_ms")));
    assert_true(cJSON_GetObjectItem(j, "queue")->valuedouble == 3);
    cJSON_Delete(j);
    cJSON_Delete(st);
    dashboard_history_free(&h);
}

static void test_interval_means_and_rates(void **state)
{
    (void)state;
    dashboard_history_init(&h);
    cJSON *a = status(0, 100, 10, 100, 200, 5);
    cJSON *b = status(1, 200, 14, 140, 300, 9); /* 4 jobs: wait 10 ms, service 25 ms each */
    dashboard_sample s;
    dashboard_history_record(&h, a, 1000.0, 50.0, NULL);
    dashboard_history_annotate(&h, b, 52.0);
    dashboard_history_record(&h, b, 1002.0, 52.0, &s);
    assert_true(fabs(s.jobs_per_s - 2.0) < 1e-9);
    assert_true(fabs(s.wait_ms - 10.0) < 1e-9);
    assert_true(fabs(s.service_ms - 25.0) < 1e-9);
    /* 4 requests of the client in 2 s. */
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(b, "clients"), 0);
    assert_true(fabs(cJSON_GetObjectItem(c, "rate_per_s")->valuedouble - 2.0) < 1e-9);

    /* No job finished in the next interval: no mean, zero throughput. */
    cJSON *c2 = status(0, 200, 14, 140, 300, 9);
    dashboard_history_record(&h, c2, 1004.0, 54.0, &s);
    assert_true(s.jobs_per_s == 0 && isnan(s.wait_ms) && isnan(s.service_ms));
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c2);
    dashboard_history_free(&h);
}

static void test_restart_forgets_totals(void **state)
{
    (void)state;
    dashboard_history_init(&h);
    cJSON *a = status(0, 100, 10, 100, 200, 5);
    cJSON *b = status(0, 100, 50, 900, 900, 60);
    dashboard_history_record(&h, a, 1000.0, 50.0, NULL);
    dashboard_history_restart(&h); /* nobody watched for a while */
    dashboard_history_annotate(&h, b, 500.0);
    dashboard_sample s;
    dashboard_history_record(&h, b, 1450.0, 500.0, &s);
    assert_true(isnan(s.jobs_per_s) && isnan(s.service_ms));
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(b, "clients"), 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(c, "rate_per_s")));
    assert_int_equal(h.len, 2); /* the ring keeps what it had */
    cJSON_Delete(a);
    cJSON_Delete(b);
    dashboard_history_free(&h);
}

static void test_counters_going_back_give_no_negative_figures(void **state)
{
    (void)state;
    dashboard_history_init(&h);
    cJSON *a = status(0, 100, 10, 100, 200, 50);
    cJSON *b = status(0, 100, 12, 50, 150, 3); /* a recycled client entry, sums reset */
    dashboard_history_record(&h, a, 1000.0, 50.0, NULL);
    dashboard_history_annotate(&h, b, 52.0);
    dashboard_sample s;
    dashboard_history_record(&h, b, 1002.0, 52.0, &s);
    assert_true(isnan(s.wait_ms) && isnan(s.service_ms));
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(b, "clients"), 0);
    assert_true(cJSON_GetObjectItem(c, "rate_per_s")->valuedouble == 0);
    cJSON_Delete(a);
    cJSON_Delete(b);
    dashboard_history_free(&h);
}

static void test_ring_wraps_and_json_is_oldest_first(void **state)
{
    (void)state;
    dashboard_history_init(&h);
    int total = DASHBOARD_HISTORY_MAX + 25;
    for (int i = 0; i < total; i++) {
        cJSON *st = status(i, 0, 0, 0, 0, 0);
        dashboard_history_record(&h, st, 1000.0 + i, 10.0 + i, NULL);
        cJSON_Delete(st);
    }
    assert_int_equal(h.len, DASHBOARD_HISTORY_MAX);
    cJSON *all = dashboard_history_json(&h, 0);
    assert_int_equal(cJSON_GetArraySize(all), DASHBOARD_HISTORY_MAX);
    /* The oldest kept is sample 25; the newest is the last. */
    assert_true(cJSON_GetObjectItem(cJSON_GetArrayItem(all, 0), "queue")->valuedouble == 25);
    assert_true(cJSON_GetObjectItem(cJSON_GetArrayItem(all, DASHBOARD_HISTORY_MAX - 1), "queue")
                    ->valuedouble == total - 1);
    cJSON_Delete(all);
    /* since: only the newer samples. */
    cJSON *recent = dashboard_history_json(&h, 1000.0 + total - 4);
    assert_int_equal(cJSON_GetArraySize(recent), 3);
    cJSON_Delete(recent);
    dashboard_history_free(&h);
}

static void test_missing_fields_read_as_zero(void **state)
{
    (void)state;
    dashboard_history_init(&h);
    cJSON *st = cJSON_Parse("{\"clients\":[{\"requests\":3},{\"name\":7}],\"model_types\":[1]}");
    dashboard_sample s;
    assert_int_equal(dashboard_history_record(&h, st, 5.0, 1.0, &s), 0);
    assert_true(s.queue == 0 && s.mem_used == 0 && s.mem_total == 0);
    dashboard_history_annotate(&h, st, 3.0); /* nameless clients get a null rate */
    cJSON_Delete(st);
    dashboard_history_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_sample_has_no_rates),
        cmocka_unit_test(test_interval_means_and_rates),
        cmocka_unit_test(test_restart_forgets_totals),
        cmocka_unit_test(test_counters_going_back_give_no_negative_figures),
        cmocka_unit_test(test_ring_wraps_and_json_is_oldest_first),
        cmocka_unit_test(test_missing_fields_read_as_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
