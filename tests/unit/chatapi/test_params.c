/* test_params.c - OpenAI's generation parameters (src/chatapi/params.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "chatapi/chatapi.h"

static const chat_defaults defaults = {
    .temperature = 0.7, .top_p = 0.9, .max_tokens = 100, .seed = -1};

static int parse(const char *json, chat_params *p, const char **param, hdm_err *err)
{
    cJSON *body = cJSON_Parse(json);
    assert_non_null(body);
    hdm_err_clear(err);
    int r = openai_parse_params(body, &defaults, p, param, err);
    cJSON_Delete(body);
    return r;
}

static void test_defaults_and_given(void **state)
{
    (void)state;
    chat_params p;
    const char *param;
    hdm_err err;
    assert_int_equal(parse("{}", &p, &param, &err), 0);
    assert_true(p.temperature == 0.7 && p.top_p == 0.9);
    assert_int_equal(p.max_tokens, 100);
    assert_int_equal(p.seed, -1);
    assert_false(p.has_temperature || p.has_top_p || p.has_max_tokens || p.stream);
    chat_params_free(&p);

    assert_int_equal(parse("{\"temperature\": 0, \"top_p\": null, \"max_tokens\": 5000,"
                           " \"max_completion_tokens\": 7, \"seed\": 3, \"n\": 1,"
                           " \"stop\": [\"a\", \"bb\"], \"stream\": true,"
                           " \"stream_options\": {\"include_usage\": true}}",
                           &p, &param, &err),
                     0);
    assert_true(p.has_temperature && p.temperature == 0);
    assert_false(p.has_top_p);
    /* max_completion_tokens wins over max_tokens; both are capped by the config. */
    assert_int_equal(p.max_tokens, 7);
    assert_true(p.has_max_tokens);
    assert_int_equal(p.seed, 3);
    assert_int_equal(p.n_stop, 2);
    assert_string_equal(p.stop[1], "bb");
    assert_true(p.stream && p.include_usage);
    chat_params_free(&p);

    assert_int_equal(parse("{\"max_tokens\": 1000000000}", &p, &param, &err), 0);
    assert_int_equal(p.max_tokens, 100);
    chat_params_free(&p);
}

static void test_errors_name_the_parameter(void **state)
{
    (void)state;
    static const struct {
        const char *json, *param, *needle;
    } cases[] = {
        {"{\"temperature\": 3}", "temperature", "between 0 and 2"},
        {"{\"top_p\": \"x\"}", "top_p", "top_p must be a number"},
        {"{\"max_tokens\": 0}", "max_tokens", "integer between 1"},
        {"{\"seed\": -4}", "seed", "seed must be an integer"},
        {"{\"n\": 2}", "n", "n must be an integer between 1 and 1"},
        {"{\"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}", "stop", "at most 4"},
        {"{\"stop\": 5}", "stop", "stop must be a string or a list"},
        {"{\"stream\": \"yes\"}", "stream", "stream must be a boolean"},
        {"{\"stream_options\": {\"include_usage\": 1}}", "stream_options.include_usage",
         "include_usage must be a boolean"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        chat_params p;
        const char *param = NULL;
        hdm_err err;
        int r = parse(cases[i].json, &p, &param, &err);
        if (r != -HDM_E_BAD_REQUEST || !param || strcmp(param, cases[i].param) != 0 ||
            !strstr(err.msg, cases[i].needle))
            fail_msg("case %zu (%s): rc %d param %s message '%s'", i, cases[i].json, r,
                     param ? param : "(null)", err.msg);
        chat_params_free(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_given),
        cmocka_unit_test(test_errors_name_the_parameter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
