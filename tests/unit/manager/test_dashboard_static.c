/*
 * test_dashboard_static.c - the page's files: the URL list and content
 * types, ETags and 304s, confinement to the one directory (no path from a
 * URL, no symlinks, no special files), size limit, where the directory is
 * looked for; and that every listed file is in src/manager/www.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manager/dashboard-static.h"

static char dir[64];
static path_allowlist allow;

static void write_file(const char *name, const char *text, size_t len)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/hdm-dash-static-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    write_file("index.html", "<!DOCTYPE html><p>hi</p>", 24);
    write_file("dashboard.css", "body{}", 6);
    write_file("dashboard.js", "'use strict';", 13);
    write_file("favicon.svg", "<svg/>", 6);
    return path_allowlist_parse(&allow, dir) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    path_allowlist_free(&allow);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_url_list_and_types(void **state)
{
    (void)state;
    assert_string_equal(dashboard_static_find("/")->name, "index.html");
    assert_string_equal(dashboard_static_find("/")->type, "text/html; charset=utf-8");
    assert_string_equal(dashboard_static_find("/index.html")->name, "index.html");
    assert_string_equal(dashboard_static_find("/dashboard.css")->type, "text/css; charset=utf-8");
    assert_string_equal(dashboard_static_find("/dashboard.js")->type,
                        "text/javascript; charset=utf-8");
    assert_string_equal(dashboard_static_find("/favicon.svg")->type, "image/svg+xml");
    /* Nothing else is a file, however it is spelled. */
    const char *bad[] = {"",
                         "/../index.html",
                         "/%2e%2e/etc/passwd",
                         "/dashboard.js/",
                         "//dashboard.js",
                         "/DASHBOARD.JS",
                         "/index.html?x=1",
                         "/etc/passwd",
                         "/dashboard.css\n",
                         "/v1/device/status"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_null(dashboard_static_find(bad[i]));
    assert_null(dashboard_static_find(NULL));
}

static void test_every_listed_file_is_in_the_tree(void **state)
{
    (void)state;
    const char *data = getenv("HDM_TEST_DATA");
    assert_non_null(data); /* ctest sets it */
    char www[512];
    snprintf(www, sizeof(www), "%s/../../src/manager/www", data);
    path_allowlist tree = {0};
    assert_int_equal(path_allowlist_parse(&tree, www), 0);
    size_t n;
    const dashboard_file *f = dashboard_static_files(&n);
    assert_true(n >= 4);
    for (size_t i = 0; i < n; i++) {
        dashboard_static_reply r;
        hdm_err err;
        hdm_err_clear(&err);
        assert_int_equal(dashboard_static_load(&tree, &f[i], NULL, &r, &err), 0);
        assert_int_equal(r.status, 200);
        assert_true(r.len > 0);
        dashboard_static_reply_free(&r);
    }
    path_allowlist_free(&tree);
}

static void test_load_etag_and_304(void **state)
{
    (void)state;
    dashboard_static_reply r;
    hdm_err err;
    hdm_err_clear(&err);
    const dashboard_file *f = dashboard_static_find("/dashboard.js");
    assert_int_equal(dashboard_static_load(&allow, f, NULL, &r, &err), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 13);
    assert_memory_equal(r.body, "'use strict';", 13);
    assert_string_equal(r.type, "text/javascript; charset=utf-8");
    assert_int_equal(strlen(r.etag), 18);
    assert_true(r.etag[0] == '"' && r.etag[17] == '"');
    char etag[24];
    strcpy(etag, r.etag);
    dashboard_static_reply_free(&r);

    /* The client has it: 304, no body. */
    assert_int_equal(dashboard_static_load(&allow, f, etag, &r, &err), 0);
    assert_int_equal(r.status, 304);
    assert_null(r.body);
    assert_string_equal(r.etag, etag);
    char list[64];
    snprintf(list, sizeof(list), "\"x\", W/%s", etag);
    assert_int_equal(dashboard_static_load(&allow, f, list, &r, &err), 0);
    assert_int_equal(r.status, 304);
    assert_int_equal(dashboard_static_load(&allow, f, "\"0000000000000000\"", &r, &err), 0);
    assert_int_equal(r.status, 200);
    dashboard_static_reply_free(&r);

    /* A changed file has another tag. */
    write_file("dashboard.js", "'use strict'; ", 14);
    assert_int_equal(dashboard_static_load(&allow, f, etag, &r, &err), 0);
    assert_int_equal(r.status, 200);
    assert_string_not_equal(r.etag, etag);
    dashboard_static_reply_free(&r);
    write_file("dashboard.js", "'use strict';", 13);
}

static void test_etag_matching(void **state)
{
    (void)state;
    const char *tag = "\"0123456789abcdef\"";
    assert_true(dashboard_etag_matches("*", tag));
    assert_true(dashboard_etag_matches(tag, tag));
    assert_true(dashboard_etag_matches(" \"a\" ,\"0123456789abcdef\"", tag));
    assert_true(dashboard_etag_matches("W/\"0123456789abcdef\"", tag));
    assert_false(dashboard_etag_matches("\"0123456789abcde\"", tag));
    assert_false(dashboard_etag_matches("0123456789abcdef", tag));
    assert_false(dashboard_etag_matches("", tag));
    assert_false(dashboard_etag_matches(NULL, tag));
    assert_false(dashboard_etag_matches("\"unterminated", tag));
}

static void test_confinement(void **state)
{
    (void)state;
    dashboard_static_reply r;
    hdm_err err;
    hdm_err_clear(&err);
    const dashboard_file *f = dashboard_static_find("/favicon.svg");
    char path[256], target[256];

    /* A symlink leading outside the directory is refused (one to a file
     * inside is that file: nothing outside can be named). */
    snprintf(path, sizeof(path), "%s/favicon.svg", dir);
    snprintf(target, sizeof(target), "%s/dashboard.css", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink("/etc/hostname", path), 0);
    assert_int_equal(dashboard_static_load(&allow, f, NULL, &r, &err), -HDM_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "favicon.svg"));
    assert_null(r.body);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink("../../etc/passwd", path), 0);
    assert_int_equal(dashboard_static_load(&allow, f, NULL, &r, &err), -HDM_E_NOT_FOUND);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink(target, path), 0);
    assert_int_equal(dashboard_static_load(&allow, f, NULL, &r, &err), 0);
    assert_memory_equal(r.body, "body{}", 6);
    dashboard_static_reply_free(&r);
    assert_int_equal(unlink(path), 0);

    /* Missing, or a directory in its place. */
    hdm_err_clear(&err);
    assert_int_equal(dashboard_static_load(&allow, f, NULL, &r, &err), -HDM_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "is not installed in"));
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(dashboard_static_load(&allow, f, NULL, &r, &err), -HDM_E_NOT_FOUND);
    assert_int_equal(rmdir(path), 0);

    /* Too large. */
    size_t big = DASHBOARD_STATIC_MAX_BYTES + 1;
    char *data = calloc(1, big);
    assert_non_null(data);
    write_file("favicon.svg", data, big);
    free(data);
    assert_int_equal(dashboard_static_load(&allow, f, NULL, &r, &err), -HDM_E_TOO_LARGE);
    write_file("favicon.svg", "<svg/>", 6);
    assert_int_equal(dashboard_static_load(&allow, f, NULL, &r, &err), 0);
    dashboard_static_reply_free(&r);

    /* No directory set up. */
    assert_int_equal(dashboard_static_load(NULL, f, NULL, &r, &err), -HDM_E_INTERNAL);
}

static void test_directory(void **state)
{
    (void)state;
    char *d = dashboard_static_dir("/opt/page");
    assert_string_equal(d, "/opt/page");
    free(d);
    /* Default: beside the program, PREFIX/share/hailo-ai-services/dashboard. */
    d = dashboard_static_dir(NULL);
    assert_non_null(d);
    const char *tail = "/share/hailo-ai-services/dashboard";
    assert_true(strlen(d) > strlen(tail));
    assert_string_equal(d + strlen(d) - strlen(tail), tail);
    free(d);
    d = dashboard_static_dir("");
    assert_non_null(d);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_list_and_types),
        cmocka_unit_test(test_every_listed_file_is_in_the_tree),
        cmocka_unit_test(test_load_etag_and_304),
        cmocka_unit_test(test_etag_matching),
        cmocka_unit_test(test_confinement),
        cmocka_unit_test(test_directory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
