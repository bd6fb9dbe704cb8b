/* test_completion.c - chat.completion and error shapes (src/chatapi/completion.c). */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "chatapi/chatapi.h"

static void test_ids(void **state)
{
    (void)state;
    char a[48], b[48];
    completion_new_id(a, sizeof(a));
    completion_new_id(b, sizeof(b));
    assert_int_equal(strlen(a), 9 + 24);
    assert_memory_equal(a, "chatcmpl-", 9);
    for (size_t i = 9; i < strlen(a); i++)
        assert_true(isxdigit((unsigned char)a[i]) && !isupper((unsigned char)a[i]));
    assert_string_not_equal(a, b);
}

static void test_completion_shape(void **state)
{
    (void)state;
    chat_result r = {.text = "A red square.",
                    .text_len = 13,
                    .finish_reason = "length",
                    .prompt_tokens = 40,
                    .completion_tokens = 4,
                    .inference_ms = 12.5};
    cJSON *o = completion_build("chatcmpl-1", 1700000000L, "qwen", &r, 80);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "object")->valuestring, "chat.completion");
    assert_string_equal(cJSON_GetObjectItem(o, "id")->valuestring, "chatcmpl-1");
    assert_string_equal(cJSON_GetObjectItem(o, "model")->valuestring, "qwen");
    assert_int_equal((long)cJSON_GetObjectItem(o, "created")->valuedouble, 1700000000L);
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choices"), 0);
    assert_int_equal(cJSON_GetObjectItem(c, "index")->valueint, 0);
    const cJSON *m = cJSON_GetObjectItem(c, "message");
    assert_string_equal(cJSON_GetObjectItem(m, "role")->valuestring, "assistant");
    assert_string_equal(cJSON_GetObjectItem(m, "content")->valuestring, "A red square.");
    assert_string_equal(cJSON_GetObjectItem(c, "finish_reason")->valuestring, "length");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(c, "logprobs")));
    const cJSON *u = cJSON_GetObjectItem(o, "usage");
    assert_int_equal(cJSON_GetObjectItem(u, "prompt_tokens")->valueint, 40);
    assert_int_equal(cJSON_GetObjectItem(u, "completion_tokens")->valueint, 4);
    assert_int_equal(cJSON_GetObjectItem(u, "total_tokens")->valueint, 44);
    const cJSON *p = cJSON_GetObjectItem(o, "performance");
    assert_true(cJSON_GetObjectItem(p, "inference_time_ms")->valuedouble == 12.5);
    assert_true(cJSON_GetObjectItem(p, "load_time_ms")->valuedouble == 80);
    cJSON_Delete(o);
}

static void check_error(int status, const char *param, const char *code, const char *type)
{
    cJSON *o = completion_error(status, "what went wrong", param, code);
    assert_non_null(o);
    assert_int_equal(cJSON_GetArraySize(o), 1);
    const cJSON *e = cJSON_GetObjectItem(o, "error");
    assert_string_equal(cJSON_GetObjectItem(e, "message")->valuestring, "what went wrong");
    assert_string_equal(cJSON_GetObjectItem(e, "type")->valuestring, type);
    if (param)
        assert_string_equal(cJSON_GetObjectItem(e, "param")->valuestring, param);
    else
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "param")));
    if (code)
        assert_string_equal(cJSON_GetObjectItem(e, "code")->valuestring, code);
    else
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "code")));
    cJSON_Delete(o);
}

static void test_error_shapes(void **state)
{
    (void)state;
    check_error(400, "messages", "invalid_request", "invalid_request_error");
    check_error(404, "model", "model_not_found", "invalid_request_error");
    check_error(413, NULL, NULL, "invalid_request_error");
    check_error(401, NULL, "invalid_api_key", "invalid_request_error");
    check_error(500, NULL, "device_error", "server_error");
    check_error(503, NULL, "model_not_ready", "server_error");
}

static void test_layer_errors(void **state)
{
    (void)state;
    static const struct {
        int status;
        const char *code;
    } cases[] = {{400, "invalid_json"},
                 {401, "invalid_api_key"},
                 {404, "unknown_url"},
                 {405, "method_not_allowed"},
                 {413, "request_too_large"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *o = completion_layer_error(cases[i].status, "msg");
        const cJSON *e = cJSON_GetObjectItem(o, "error");
        assert_string_equal(cJSON_GetObjectItem(e, "code")->valuestring, cases[i].code);
        assert_string_equal(cJSON_GetObjectItem(e, "message")->valuestring, "msg");
        cJSON_Delete(o);
    }
}

static void test_status_mapping(void **state)
{
    (void)state;
    assert_int_equal(completion_status_for(-HDM_E_BAD_REQUEST), 400);
    assert_int_equal(completion_status_for(HDM_E_BAD_REQUEST), 400);
    assert_int_equal(completion_status_for(-HDM_E_NOT_FOUND), 404);
    assert_int_equal(completion_status_for(-HDM_E_TOO_LARGE), 413);
    assert_int_equal(completion_status_for(-HDM_E_UNAVAILABLE), 503);
    assert_int_equal(completion_status_for(-HDM_E_BUSY), 503);
    assert_int_equal(completion_status_for(-HDM_E_RESOURCE_EXHAUSTED), 503);
    assert_int_equal(completion_status_for(-HDM_E_CANCELLED), 503);
    assert_int_equal(completion_status_for(-HDM_E_DEADLINE_EXCEEDED), 503);
    assert_int_equal(completion_status_for(-HDM_E_DEVICE_ERROR), 500);
    assert_int_equal(completion_status_for(-HDM_E_INTERNAL), 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_completion_shape),
        cmocka_unit_test(test_error_shapes),
        cmocka_unit_test(test_layer_errors),
        cmocka_unit_test(test_status_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
