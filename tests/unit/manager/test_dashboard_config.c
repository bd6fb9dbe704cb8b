/*
 * test_dashboard_config.c - the dashboard's settings: defaults and the
 * service list (NAME=URL entries, "none"), with errors that name the entry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "manager/dashboard-config.h"

static void test_defaults(void **state)
{
    (void)state;
    dashboard_config c;
    hdm_err err;
    hdm_err_clear(&err);
    assert_int_equal(dashboard_config_defaults(&c, &err), 0);
    assert_int_equal(c.interval_ms, DASHBOARD_DEFAULT_INTERVAL_MS);
    assert_true(c.n_services >= 2);
    assert_string_equal(c.services[0].name, "hailo-clip");
    assert_string_equal(c.services[0].url, "http://127.0.0.1:5000/health");
    assert_null(c.dir);
    dashboard_config_free(&c);
    assert_int_equal(c.n_services, 0);
}

static void test_set_services(void **state)
{
    (void)state;
    dashboard_config c;
    hdm_err err;
    hdm_err_clear(&err);
    assert_int_equal(dashboard_config_defaults(&c, &err), 0);
    assert_int_equal(dashboard_config_set_services(
                         &c, " a=http://127.0.0.1:1/health ,, b.x_y-z=https://pi.local/h ", &err),
                     0);
    assert_int_equal(c.n_services, 2);
    assert_string_equal(c.services[1].name, "b.x_y-z");
    assert_string_equal(c.services[1].url, "https://pi.local/h");
    assert_int_equal(dashboard_config_set_services(&c, "NONE", &err), 0);
    assert_int_equal(c.n_services, 0);
    dashboard_config_free(&c);
}

static void expect_error(const char *text, const char *words)
{
    dashboard_config c;
    hdm_err err;
    hdm_err_clear(&err);
    assert_int_equal(dashboard_config_defaults(&c, &err), 0);
    size_t before = c.n_services;
    assert_int_equal(dashboard_config_set_services(&c, text, &err), -HDM_E_BAD_REQUEST);
    if (!strstr(err.msg, words))
        fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, words);
    assert_int_equal(c.n_services, before); /* unchanged */
    dashboard_config_free(&c);
}

static void test_bad_entries(void **state)
{
    (void)state;
    expect_error("clip", "is not NAME=URL");
    expect_error("=http://x/", "a name is");
    expect_error("bad name=http://x/", "a name is");
    expect_error("a=ftp://x/", "'ftp://x/' is not an http");
    expect_error("a=http://", "is not an http");
    expect_error("a=http:///path", "is not an http");
    expect_error("a=http://x/ y", "is not an http");
    expect_error("a=http://x/\x7f", "is not an http");
    expect_error("a=http://x/,a=http://y/", "'a' is named twice");
    expect_error("abcdefghijabcdefghijabcdefghijabc=http://x/", "a name is");
    char many[4096] = "";
    for (int i = 0; i <= DASHBOARD_MAX_SERVICES; i++) {
        char one[64];
        snprintf(one, sizeof(one), "%ss%d=http://h/", i ? "," : "", i);
        strcat(many, one);
    }
    expect_error(many, "more than 32");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_set_services),
        cmocka_unit_test(test_bad_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
