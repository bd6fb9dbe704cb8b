/* test_ollama.c - Ollama's /api/chat and /api/generate bodies to an
 * llm_request (src/llm/ollama.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
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

static int parse(const char *json, bool chat, llm_request *r, llm_op *op, hdm_err *err)
{
    cJSON *body = cJSON_Parse(json);
    assert_non_null(body);
    hdm_err_clear(err);
    int rc = ollama_parse(body, chat, &cfg, &models, r, op, err);
    cJSON_Delete(body);
    return rc;
}

static void test_chat(void **state)
{
    (void)state;
    llm_request r;
    llm_op op;
    hdm_err err;
    assert_int_equal(
        parse("{\"model\": \"qwen2.5-1.5b-instruct:latest\", \"messages\": ["
              "{\"role\": \"system\", \"content\": \"Be brief.\"},"
              "{\"role\": \"user\", \"content\": \"hi\", \"images\": []},"
              "{\"role\": \"assistant\", \"content\": \"\", \"tool_calls\": [{\"function\":"
              " {\"name\": \"f\", \"arguments\": {\"a\": 1}}}]},"
              "{\"role\": \"tool\", \"content\": \"42\", \"tool_name\": \"f\"}],"
              " \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}],"
              " \"options\": {\"temperature\": 0.2, \"top_p\": 0.5, \"top_k\": 7, \"seed\": 9,"
              " \"num_predict\": 12, \"stop\": [\"END\", \"\"], \"frequency_penalty\": 0.3,"
              " \"num_ctx\": 8192, \"mirostat\": 1},"
              " \"format\": \"json\", \"keep_alive\": \"10m\", \"think\": false}",
              true, &r, &op, &err),
        0);
    assert_int_equal(op, LLM_OP_GENERATE);
    assert_string_equal(r.asked, "qwen2.5-1.5b-instruct:latest");
    assert_string_equal(r.model.path, "/m/qwen2.5-1.5b-instruct.hef");
    assert_true(r.stream); /* Ollama streams unless told otherwise */
    assert_true(r.json);
    assert_true(r.keep_alive == 600);
    assert_true(r.has_temperature && r.temperature == 0.2);
    assert_true(r.has_top_p && r.has_top_k && r.top_k == 7);
    assert_true(r.has_seed && r.seed == 9);
    assert_true(r.has_frequency_penalty);
    assert_int_equal(r.max_tokens, 12);
    assert_int_equal(r.n_stop, 1); /* an empty stop never matches: dropped */
    char *m = cJSON_PrintUnformatted(r.messages);
    assert_string_equal(m, "[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\","
                           "\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"\","
                           "\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":{\"a\":"
                           "1}}}]},{\"role\":\"tool\",\"content\":\"42\",\"tool_name\":\"f\"}]");
    cJSON_free(m);
    assert_int_equal(cJSON_GetArraySize(r.tools), 1);
    llm_request_free(&r);

    /* Defaults: the config's keep_alive and cap; the model's sampling. */
    assert_int_equal(parse("{\"model\": \"qwen2.5-instruct:1.5b\", \"stream\": false,"
                           " \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}],"
                           " \"options\": {\"num_predict\": -1, \"top_k\": 0, \"seed\": -1}}",
                           true, &r, &op, &err),
                     0);
    assert_false(r.stream || r.has_temperature || r.has_top_k || r.has_seed || r.json);
    assert_true(r.keep_alive == 300);
    assert_int_equal(r.max_tokens, 100);
    llm_request_free(&r);
}

static void test_load_and_unload(void **state)
{
    (void)state;
    llm_request r;
    llm_op op;
    hdm_err err;
    assert_int_equal(
        parse("{\"model\": \"qwen2.5-1.5b-instruct\", \"messages\": []}", true, &r, &op, &err), 0);
    assert_int_equal(op, LLM_OP_LOAD);
    llm_request_free(&r);
    assert_int_equal(
        parse("{\"model\": \"qwen2.5-1.5b-instruct\", \"keep_alive\": 0}", true, &r, &op, &err), 0);
    assert_int_equal(op, LLM_OP_UNLOAD);
    llm_request_free(&r);
    assert_int_equal(parse("{\"model\": \"qwen2.5-1.5b-instruct\", \"prompt\": \"\","
                           " \"keep_alive\": -1}",
                           false, &r, &op, &err),
                     0);
    assert_int_equal(op, LLM_OP_LOAD);
    assert_true(r.keep_alive == -1);
    llm_request_free(&r);
}

static void test_generate(void **state)
{
    (void)state;
    llm_request r;
    llm_op op;
    hdm_err err;
    assert_int_equal(parse("{\"model\": \"qwen2.5-1.5b-instruct\", \"prompt\": \"Why?\","
                           " \"system\": \"Be a pirate.\", \"suffix\": \"\", \"context\": []}",
                           false, &r, &op, &err),
                     0);
    char *m = cJSON_PrintUnformatted(r.messages);
    assert_string_equal(m, "[{\"role\":\"system\",\"content\":\"Be a pirate.\"},{\"role\":\"user\","
                           "\"content\":\"Why?\"}]");
    cJSON_free(m);
    assert_null(r.prompt);
    llm_request_free(&r);
    assert_int_equal(parse("{\"model\": \"qwen2.5-1.5b-instruct\", \"prompt\": \"<raw>\","
                           " \"raw\": true, \"system\": \"ignored\"}",
                           false, &r, &op, &err),
                     0);
    assert_string_equal(r.prompt, "<raw>");
    assert_null(r.messages);
    llm_request_free(&r);
}

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        const char *json, *needle;
        bool chat;
        int rc;
    } cases[] = {
        {"[]", "must be a JSON object", true, -HDM_E_BAD_REQUEST},
        {"{\"messages\": []}", "model is required", true, -HDM_E_BAD_REQUEST},
        {"{\"model\": \"x\"}",
         "model \"x\" not found; the models are the .hef files of the model "
         "directory: qwen2.5-1.5b-instruct",
         true, -HDM_E_NOT_FOUND},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"messages\": [{\"role\": \"bot\"}]}",
         "messages[0].role must be", true, -HDM_E_BAD_REQUEST},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"messages\": [{\"role\": \"user\","
         " \"images\": [\"AA==\"]}]}",
         "text only", true, -HDM_E_BAD_REQUEST},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"options\": {\"top_k\": 5000}}",
         "options.top_k must be at most 1000", true, -HDM_E_BAD_REQUEST},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"options\": {\"top_p\": 2}}",
         "options.top_p must be a number between 0 and 1", true, -HDM_E_BAD_REQUEST},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"options\": {\"stop\": 5}}",
         "options.stop must be a list", true, -HDM_E_BAD_REQUEST},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"format\": 3}", "format must be \"json\"", true,
         -HDM_E_BAD_REQUEST},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"think\": \"high\"}", "does not support thinking",
         true, -HDM_E_BAD_REQUEST},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"prompt\": \"x\", \"template\": \"t\"}",
         "template is not supported", false, -HDM_E_BAD_REQUEST},
        {"{\"model\": \"qwen2.5-1.5b-instruct\", \"prompt\": \"x\", \"context\": [1]}", "context",
         false, -HDM_E_BAD_REQUEST},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        llm_request r;
        llm_op op;
        hdm_err err;
        int rc = parse(cases[i].json, cases[i].chat, &r, &op, &err);
        if (rc != cases[i].rc || !strstr(err.msg, cases[i].needle))
            fail_msg("case %zu (%s): rc %d, message '%s'", i, cases[i].json, rc, err.msg);
    }
    /* A stop string longer than the manager takes. */
    char json[512];
    char stop[300];
    memset(stop, 'a', 299);
    stop[299] = '\0';
    snprintf(json, sizeof(json),
             "{\"model\": \"qwen2.5-1.5b-instruct\", \"options\": {\"stop\": [\"%s\"]}}", stop);
    llm_request r;
    llm_op op;
    hdm_err err;
    assert_int_equal(parse(json, true, &r, &op, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "options.stop[0] is longer than 256 bytes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chat),
        cmocka_unit_test(test_load_and_unload),
        cmocka_unit_test(test_generate),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
