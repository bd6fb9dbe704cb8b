/*
 * test_dashboard.c - the sampler hub: nothing runs before the first poll,
 * a poll gets a snapshot (state and history documents), the sampler keeps
 * sampling while polls come and stops once the lease ends, and a new poll
 * wakes it again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "manager/dashboard.h"

static atomic_int status_calls;

static cJSON *fake_status(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&status_calls, 1);
    return cJSON_Parse("{\"queue_depth\":2,\"memory\":{\"total_bytes\":100,\"used_bytes\":40},"
                       "\"clients\":[{\"name\":\"a\",\"requests\":1}],\"model_types\":[]}");
}

static dashboard_config cfg;

static int setup(void **state)
{
    (void)state;
    hdm_err err;
    hdm_err_clear(&err);
    if (dashboard_config_defaults(&cfg, &err) < 0)
        return -1;
    cfg.interval_ms = 100;
    /* No services: probes are tested in test_dashboard_health. */
    return dashboard_config_set_services(&cfg, "none", &err);
}

static int teardown(void **state)
{
    (void)state;
    dashboard_config_free(&cfg);
    return 0;
}

static dashboard_stats stats_of(dashboard *d)
{
    dashboard_stats s;
    dashboard_get_stats(d, &s);
    return s;
}

static void test_idle_until_polled_then_idle_again(void **state)
{
    (void)state;
    dashboard *d = NULL;
    hdm_err err;
    hdm_err_clear(&err);
    atomic_store(&status_calls, 0);
    assert_int_equal(dashboard_new(&cfg, fake_status, NULL, &d, &err), 0);
    assert_int_equal(stats_of(d).snapshots, 0);
    assert_int_equal(atomic_load(&status_calls), 0);

    char *text = NULL;
    size_t len = 0;
    assert_int_equal(dashboard_poll(d, DASHBOARD_STATE, 30000, &text, &len, &err), 0);
    assert_int_equal(strlen(text), len);
    cJSON *doc = cJSON_Parse(text);
    assert_non_null(doc);
    assert_int_equal(cJSON_GetObjectItem(doc, "interval_ms")->valueint, 100);
    const cJSON *st = cJSON_GetObjectItem(doc, "status");
    assert_int_equal(cJSON_GetObjectItem(st, "queue_depth")->valueint, 2);
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(doc, "services")));
    assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "sample"), "mem_used")->valuedouble ==
                40);
    cJSON_Delete(doc);
    free(text);

    assert_int_equal(dashboard_poll(d, DASHBOARD_HISTORY, 30000, &text, &len, &err), 0);
    doc = cJSON_Parse(text);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "samples")) >= 1);
    cJSON_Delete(doc);
    free(text);

    /* Watched: samples keep coming while polls renew the lease. */
    int64_t deadline = mono_ms() + 30000;
    while (stats_of(d).snapshots < 4 && mono_ms() < deadline) {
        assert_int_equal(dashboard_poll(d, DASHBOARD_STATE, 30000, &text, &len, &err), 0);
        free(text);
        sleep_ms(50);
    }
    assert_true(stats_of(d).snapshots >= 4);
    assert_int_equal(stats_of(d).watched, 1);

    /* Nobody polls: the lease ends and the sampler stops. */
    deadline = mono_ms() + dashboard_lease_ms(&cfg) + 30000;
    while (stats_of(d).watched && mono_ms() < deadline)
        sleep_ms(50);
    assert_int_equal(stats_of(d).watched, 0);
    int calls = atomic_load(&status_calls);
    uint64_t snaps = stats_of(d).snapshots;
    /* The quiet sampler builds nothing (it waits without a timeout: this
     * checks the state after a few of its former intervals). */
    sleep_ms(5 * cfg.interval_ms);
    assert_int_equal(atomic_load(&status_calls), calls);
    assert_int_equal(stats_of(d).snapshots, snaps);

    /* A new poll wakes it, and waits for a fresh snapshot. */
    assert_int_equal(dashboard_poll(d, DASHBOARD_STATE, 30000, &text, &len, &err), 0);
    free(text);
    assert_true(stats_of(d).snapshots > snaps);
    assert_true(stats_of(d).polls >= 3);
    dashboard_free(d);
}

static void test_free_without_poll(void **state)
{
    (void)state;
    dashboard *d = NULL;
    hdm_err err;
    hdm_err_clear(&err);
    assert_int_equal(dashboard_new(&cfg, fake_status, NULL, &d, &err), 0);
    dashboard_free(d);
    dashboard_free(NULL);
}

static cJSON *no_status(void *ctx)
{
    (void)ctx;
    return NULL; /* out of memory every time */
}

static void test_no_snapshot_is_an_error_not_a_hang(void **state)
{
    (void)state;
    dashboard *d = NULL;
    hdm_err err;
    hdm_err_clear(&err);
    assert_int_equal(dashboard_new(&cfg, no_status, NULL, &d, &err), 0);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(dashboard_poll(d, DASHBOARD_STATE, 200, &text, &len, &err),
                     -HDM_E_UNAVAILABLE);
    assert_null(text);
    assert_non_null(strstr(err.msg, "no snapshot"));
    dashboard_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_until_polled_then_idle_again),
        cmocka_unit_test(test_free_without_poll),
        cmocka_unit_test(test_no_snapshot_is_an_error_not_a_hang),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
