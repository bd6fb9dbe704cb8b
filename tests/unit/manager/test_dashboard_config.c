/*
 * test_dashboard_config.c - the dashboard's settings: defaults and the
 * service list (NAME=URL entries, "none"), with errors that name the entry,
 * and the http:// URLs taken apart (numeric hosts and localhost only).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
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
                         &c, " a=http://127.0.0.1:1/health ,, b.x_y-z=http://localhost/h ", &err),
                     0);
    assert_int_equal(c.n_services, 2);
    assert_string_equal(c.services[1].name, "b.x_y-z");
    assert_string_equal(c.services[1].url, "http://localhost/h");
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
    expect_error("=http://1.2.3.4/", "a name is");
    expect_error("bad name=http://1.2.3.4/", "a name is");
    expect_error("a=ftp://x/", "'ftp://x/' is not an http");
    expect_error("a=http://", "is not an http");
    expect_error("a=http:///path", "is not an http");
    expect_error("a=http://1.2.3.4/ y", "is not an http");
    expect_error("a=http://1.2.3.4/\x7f", "is not an http");
    expect_error("a=http://1.2.3.4/,a=http://1.2.3.5/", "'a' is named twice");
    expect_error("abcdefghijabcdefghijabcdefghijabc=http://1.2.3.4/", "a name is");
    char many[4096] = "";
    for (int i = 0; i <= DASHBOARD_MAX_SERVICES; i++) {
        char one[64];
        snprintf(one, sizeof(one), "%ss%d=http://127.0.0.1/", i ? "," : "", i);
        strcat(many, one);
    }
    expect_error(many, "more than 32");
}

/* The probes speak plain HTTP to numeric addresses: https:// and host names
 * are refused when the config is read, naming the entry and saying why. */
static void test_refused_urls(void **state)
{
    (void)state;
    expect_error("hailo-clip=https://127.0.0.1:5000/health",
                 "dashboard service 'hailo-clip': 'https://127.0.0.1:5000/health' is https://");
    expect_error("ok=http://127.0.0.1:1/,tls=HTTPS://[::1]/", "dashboard service 'tls'");
    expect_error("a=gopher://127.0.0.1/", "is not an http:// URL");
    expect_error("a=http://pi.local/health", "the host must be an IPv4 address");
    expect_error("a=http://example.com:80/", "names are not looked up");
    expect_error("a=http://[localhost]/", "the host must be");
    expect_error("a=http://[127.0.0.1]/", "the host must be");
    expect_error("a=http://::1/", "no host");
    expect_error("a=http://[::1/", "is not an http");
    expect_error("a=http://[::1]x/", "is not an http");
    expect_error("a=http://127.0.0.1:/", "the port must be 1..65535");
    expect_error("a=http://127.0.0.1:0/", "the port must be 1..65535");
    expect_error("a=http://127.0.0.1:65536/", "the port must be 1..65535");
    expect_error("a=http://127.0.0.1:12x/", "the port must be");
    expect_error("a=http://user:pw@127.0.0.1/", "no user or password");
    expect_error("a=http://:80/", "no host");
}

static void test_url_parse(void **state)
{
    (void)state;
    dashboard_url u;
    hdm_err err;
    hdm_err_clear(&err);
    assert_int_equal(dashboard_url_parse("http://127.0.0.1:5000/health", &u, &err), 0);
    assert_string_equal(u.host, "127.0.0.1:5000");
    assert_string_equal(u.target, "/health");
    const struct sockaddr_in *in = (const struct sockaddr_in *)&u.addr;
    assert_int_equal(in->sin_family, AF_INET);
    assert_int_equal(ntohs(in->sin_port), 5000);
    assert_int_equal(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
    assert_int_equal(u.addr_len, sizeof(struct sockaddr_in));

    /* No port: 80; no path: "/"; the query kept, the fragment dropped. */
    assert_int_equal(dashboard_url_parse("HTTP://LocalHost?x=1#top", &u, &err), 0);
    assert_string_equal(u.host, "LocalHost");
    assert_string_equal(u.target, "/?x=1");
    assert_int_equal(ntohs(in->sin_port), 80);
    assert_int_equal(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);

    assert_int_equal(dashboard_url_parse("http://[::1]:11434/api/health?deep=1", &u, &err), 0);
    assert_string_equal(u.host, "[::1]:11434");
    assert_string_equal(u.target, "/api/health?deep=1");
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&u.addr;
    assert_int_equal(in6->sin6_family, AF_INET6);
    assert_int_equal(ntohs(in6->sin6_port), 11434);
    assert_true(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));

    assert_int_equal(dashboard_url_parse("https://127.0.0.1/", &u, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "plain http:// only"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),    cmocka_unit_test(test_set_services),
        cmocka_unit_test(test_bad_entries), cmocka_unit_test(test_refused_urls),
        cmocka_unit_test(test_url_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
