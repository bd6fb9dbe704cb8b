/* test_config.c - hailo-llm's YAML keys and Ollama's durations (src/llm/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "llm/llm.h"

/* Every key, the original hailo-ollama's included. */
static const char yaml[] = "server:\n"
                           "  host: 0.0.0.0\n"
                           "  port: 11500\n"
                           "  threads: 3\n"
                           "  max_body_bytes: 100000\n"
                           "  bearer_token: s3cret\n"
                           "manager:\n"
                           "  socket: /run/x.sock\n"
                           "models:\n"
                           "  dir: /srv/llm\n"
                           "  max_models: 9\n"
                           "  keep_alive: 1h30m\n"
                           "generation:\n"
                           "  max_tokens: 64\n"
                           "  timeout_s: 20\n"
                           "library:\n"
                           "  host: example.org\n"
                           "  port: 8443\n"
                           "main_poll_time_ms: 100\n";

static void test_defaults(void **state)
{
    (void)state;
    llm_config c;
    hdm_err err = {0};
    assert_int_equal(llm_config_defaults(&c), 0);
    assert_int_equal(llm_config_check(&c, &err), 0);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.port, 11434);
    assert_string_equal(c.models_dir, "/var/lib/hailo/llm");
    assert_true(c.keep_alive == 300);
    assert_int_equal(c.max_tokens, 2048);
    llm_config_free(&c);
}

static void test_all_keys(void **state)
{
    (void)state;
    llm_config c;
    hdm_err err = {0};
    assert_int_equal(llm_config_defaults(&c), 0);
    int r =
        conf_load_string(yaml, sizeof(yaml) - 1, "t.yaml", llm_config_keys, &c, NULL, NULL, &err);
    if (r != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(llm_config_check(&c, &err), 0);
    assert_string_equal(c.host, "0.0.0.0");
    assert_int_equal(c.port, 11500);
    assert_string_equal(c.bearer_token, "s3cret");
    assert_string_equal(c.models_dir, "/srv/llm");
    assert_int_equal(c.max_models, 9);
    assert_true(c.keep_alive == 5400);
    assert_int_equal(c.max_tokens, 64);
    assert_string_equal(c.library_host, "example.org");
    assert_int_equal(c.library_port, 8443);
    assert_int_equal(c.main_poll_time_ms, 100);
    llm_config_free(&c);
}

static void test_bad_values(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *needle;
    } cases[] = {
        {"models:\n  dir: relative/dir\n", "models.dir must be an absolute path"},
        {"models:\n  keep_alive: sometimes\n", "models.keep_alive must be"},
        {"server:\n  host: ''\n", "server.host must not be empty"},
        {"generation:\n  max_tokens: 100000\n", "generation.max_tokens"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        llm_config c;
        hdm_err err = {0};
        assert_int_equal(llm_config_defaults(&c), 0);
        int r = conf_load_string(cases[i].yaml, strlen(cases[i].yaml), "t.yaml", llm_config_keys,
                                 &c, NULL, NULL, &err);
        if (r == 0)
            r = llm_config_check(&c, &err);
        if (r >= 0 || !strstr(err.msg, cases[i].needle))
            fail_msg("case %zu: rc %d '%s'", i, r, err.msg);
        llm_config_free(&c);
    }
}

static void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        double seconds;
    } ok[] = {{"5m", 300}, {"1h30m", 5400}, {"300ms", 0.3},       {"10s", 10},
              {"0", 0},    {"0s", 0},       {"300", 300},         {"1.5h", 5400},
              {"-1", -1},  {"-5m", -1},     {"2h0m0.5s", 7200.5}, {"+1m", 60}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        double s = -99;
        if (llm_parse_duration(ok[i].text, &s) != 0 || s < ok[i].seconds - 1e-9 ||
            s > ok[i].seconds + 1e-9)
            fail_msg("'%s' gave %g, not %g", ok[i].text, s, ok[i].seconds);
    }
    static const char *const bad[] = {"", "m", "5x", "5m3", "h1", "1e999h", "--1", "1 m", "-"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        double s;
        if (llm_parse_duration(bad[i], &s) == 0)
            fail_msg("'%s' parsed as %g", bad[i], s);
    }
    /* keep_alive as JSON: numbers (negative: forever) and strings. */
    double s;
    hdm_err err = {0};
    cJSON *v = cJSON_CreateNumber(-3);
    assert_int_equal(llm_parse_keep_alive(v, "keep_alive", &s, &err), 0);
    assert_true(s == -1);
    cJSON_Delete(v);
    v = cJSON_CreateString("2m");
    assert_int_equal(llm_parse_keep_alive(v, "keep_alive", &s, &err), 0);
    assert_true(s == 120);
    cJSON_Delete(v);
    v = cJSON_CreateTrue();
    assert_int_equal(llm_parse_keep_alive(v, "keep_alive", &s, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "keep_alive must be a duration"));
    cJSON_Delete(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_all_keys),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_durations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
