/* test_openai.c - an OpenAI chat completions body to an llm_request
 * (src/llm/openai.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "llm/llm.h"

static llm_config cfg;
static llm_models models;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(llm_config_defaults(&cfg), 0);
    cfg.max_tokens = 100;
    models.n = 1;
    models.items = calloc(1, sizeof(llm_model));
    strcpy(models.items[0].name, "qwen2.5-1.5b-instruct");
    strcpy(models.items[0].path, "/m/qwen2.5-1.5b-instruct.hef");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    llm_config_free(&cfg);
    llm_models_free(&models);
    return 0;
}

static int parse(const char *json, llm_request *r, const char **param, hdm_err *err)
{
    cJSON *body = cJSON_Parse(json);
    assert_non_null(body);
    hdm_err_clear(err);
    int rc = openai_parse(body, &cfg, &models, r, param, err);
    cJSON_Delete(body);
    return rc;
}

static void test_conversation(void **state)
{
    (void)state;
    llm_request r;
    const char *param;
    hdm_err err;
    assert_int_equal(
        parse("{\"model\": \"qwen2.5-1.5b-instruct\", \"messages\": ["
              "{\"role\": \"developer\", \"content\": \"Be brief.\"},"
              "{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"a\"},"
              " {\"type\": \"text\", \"text\": \"b\"}], \"name\": \"ann\"},"
              "{\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"call_1\","
              " \"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": "
              "\"{\\\"x\\\":1}\"}}]},"
              "{\"role\": \"tool\", \"tool_call_id\": \"call_1\", \"content\": \"42\"}],"
              " \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}],"
              " \"tool_choice\": \"auto\", \"temperature\": 0, \"max_tokens\": 500, \"seed\": 4,"
              " \"stop\": \"END\", \"stream\": true, \"stream_options\": {\"include_usage\": true},"
              " \"response_format\": {\"type\": \"json_object\"}, \"frequency_penalty\": 1,"
              " \"presence_penalty\": 0, \"top_k\": 3, \"logprobs\": false}",
              &r, &param, &err),
        0);
    char *m = cJSON_PrintUnformatted(r.messages);
    assert_string_equal(m, "[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\","
                           "\"content\":\"a\\nb\"},{\"role\":\"assistant\",\"content\":\"\","
                           "\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":"
                           "\"{\\\"x\\\":1}\"}}]},{\"role\":\"tool\",\"content\":\"42\","
                           "\"tool_name\":\"f\"}]");
    cJSON_free(m);
    assert_true(r.has_temperature && r.temperature == 0);
    assert_false(r.has_top_p);
    assert_int_equal(r.max_tokens, 100); /* capped at generation.max_tokens */
    assert_true(r.has_seed && r.seed == 4);
    assert_int_equal(r.n_stop, 1);
    assert_true(r.stream && r.include_usage && r.json);
    assert_true(r.has_frequency_penalty && r.frequency_penalty == 1);
    assert_true(r.has_top_k && r.top_k == 3);
    assert_true(r.keep_alive == cfg.keep_alive);
    assert_int_equal(cJSON_GetArraySize(r.tools), 1);
    llm_request_free(&r);

    /* tool_choice none: the tools are not offered. */
    assert_int_equal(parse("{\"model\": \"qwen2.5-1.5b-instruct\", \"messages\": [{\"role\":"
                           " \"user\", \"content\": \"x\"}], \"tools\": [{\"type\": \"function\","
                           " \"function\": {\"name\": \"f\"}}], \"tool_choice\": \"none\"}",
                           &r, &param, &err),
                     0);
    assert_null(r.tools);
    llm_request_free(&r);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *json, *param, *needle;
        int rc;
    } cases[] = {
        {"{\"model\": \"gpt-4\", \"messages\": []}", "model", "not found", -HDM_E_NOT_FOUND},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"messages\": []}", "messages", "non-empty",
         -HDM_E_BAD_REQUEST},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"messages\": [{\"role\": \"critic\"}]}",
         "messages", "not \"critic\"", -HDM_E_BAD_REQUEST},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"messages\": [{\"role\": \"user\", \"content\":"
         " [{\"type\": \"image_url\", \"image_url\": {\"url\": \"x\"}}]}]}",
         "messages", "text only", -HDM_E_BAD_REQUEST},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"messages\": [{\"role\": \"user\"}], \"n\": 2}",
         "n", "n must be", -HDM_E_BAD_REQUEST},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"messages\": [{\"role\": \"user\"}],"
         " \"presence_penalty\": 0.5}",
         "presence_penalty", "not supported", -HDM_E_BAD_REQUEST},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"messages\": [{\"role\": \"user\"}],"
         " \"response_format\": {\"type\": \"json_schema\"}}",
         "response_format", "json_schema is not supported", -HDM_E_BAD_REQUEST},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"messages\": [{\"role\": \"user\"}],"
         " \"tools\": [{\"type\": \"code\"}]}",
         "tools", "tools[0] must be", -HDM_E_BAD_REQUEST},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"messages\": [{\"role\": \"user\"}],"
         " \"logprobs\": true}",
         "logprobs", "not supported", -HDM_E_BAD_REQUEST},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"messages\": [{\"role\": \"user\","
         " \"tool_calls\": []}]}",
         "messages", "only assistant messages", -HDM_E_BAD_REQUEST},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        llm_request r;
        const char *param = NULL;
        hdm_err err;
        int rc = parse(cases[i].json, &r, &param, &err);
        if (rc != cases[i].rc || !param || strcmp(param, cases[i].param) != 0 ||
            !strstr(err.msg, cases[i].needle))
            fail_msg("case %zu: rc %d param %s '%s'", i, rc, param ? param : "(null)", err.msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conversation),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
