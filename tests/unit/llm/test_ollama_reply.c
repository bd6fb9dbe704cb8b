/* test_ollama_reply.c - Ollama's answers (src/llm/ollama_reply.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "llm/llm.h"

static void test_time(void **state)
{
    (void)state;
    char t[64];
    ollama_time(1700000000LL * 1000000000LL + 123456789, t, sizeof(t));
    assert_string_equal(t, "2023-11-14T22:13:20.123456789Z");
    ollama_time(1700000000LL * 1000000000LL + 500000000, t, sizeof(t));
    assert_string_equal(t, "2023-11-14T22:13:20.5Z"); /* Go trims trailing zeros */
    ollama_time(1700000000LL * 1000000000LL, t, sizeof(t));
    assert_string_equal(t, "2023-11-14T22:13:20Z");
}

static void test_chunks_and_final(void **state)
{
    (void)state;
    cJSON *c = ollama_chunk(true, "m", "Hel", 3, NULL);
    size_t len;
    char *line = ollama_line(c, &len);
    assert_int_equal(line[len - 1], '\n');
    assert_non_null(strstr(line, "\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},"
                                 "\"done\":false}\n"));
    assert_int_equal(strncmp(line, "{\"model\":\"m\",\"created_at\":\"", 27), 0);
    free(line);
    cJSON_Delete(c);
    c = ollama_chunk(false, "m", "lo", 2, NULL);
    assert_string_equal(cJSON_GetObjectItem(c, "response")->valuestring, "lo");
    cJSON_Delete(c);

    chat_result res = {.finish_reason = "length",
                       .prompt_tokens = 30,
                       .completion_tokens = 4,
                       .load_ms = 2,
                       .first_text_ms = 5,
                       .total_ms = 9};
    cJSON *f = ollama_final(true, "m", &res, NULL, 10.5);
    const char *order[] = {"model",
                           "created_at",
                           "message",
                           "done_reason",
                           "done",
                           "total_duration",
                           "load_duration",
                           "prompt_eval_count",
                           "prompt_eval_duration",
                           "eval_count",
                           "eval_duration"};
    const cJSON *it = f->child;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++, it = it->next) {
        assert_non_null(it);
        assert_string_equal(it->string, order[i]);
    }
    assert_null(it);
    assert_string_equal(cJSON_GetObjectItem(f, "done_reason")->valuestring, "length");
    assert_true(cJSON_GetObjectItem(f, "total_duration")->valuedouble == 10500000);
    assert_true(cJSON_GetObjectItem(f, "load_duration")->valuedouble == 2000000);
    assert_true(cJSON_GetObjectItem(f, "prompt_eval_duration")->valuedouble == 3000000);
    assert_true(cJSON_GetObjectItem(f, "eval_duration")->valuedouble == 4000000);
    assert_int_equal(cJSON_GetObjectItem(f, "eval_count")->valueint, 4);
    cJSON_Delete(f);

    /* Not streamed: the whole answer, with its tool calls; a tool call ends as "stop". */
    res.finish_reason = "tool_calls";
    res.tool_calls = cJSON_Parse("[{\"function\": {\"name\": \"f\", \"arguments\": {}}}]");
    f = ollama_final(true, "m", &res, "", 1);
    const cJSON *msg = cJSON_GetObjectItem(f, "message");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(msg, "tool_calls")), 1);
    assert_string_equal(cJSON_GetObjectItem(f, "done_reason")->valuestring, "stop");
    cJSON_Delete(f);
    cJSON_Delete(res.tool_calls);

    f = ollama_load_reply(false, "m", LLM_OP_UNLOAD);
    assert_string_equal(cJSON_GetObjectItem(f, "done_reason")->valuestring, "unload");
    assert_string_equal(cJSON_GetObjectItem(f, "response")->valuestring, "");
    cJSON_Delete(f);
}

static void test_tag_and_show(void **state)
{
    (void)state;
    llm_model m = {0};
    strcpy(m.name, "qwen2.5-1.5b-instruct");
    strcpy(m.path, "/var/lib/hailo/llm/Qwen2.5-1.5B-Instruct.hef");
    strcpy(m.family, "qwen2.5");
    strcpy(m.size_label, "1.5B");
    strcpy(m.digest, "0123456789abcdef");
    m.bytes = 1900000000;
    m.mtime_ns = 1700000000LL * 1000000000LL;
    cJSON *t = ollama_tag(&m);
    assert_string_equal(cJSON_GetObjectItem(t, "name")->valuestring,
                        "qwen2.5-1.5b-instruct:latest");
    assert_string_equal(cJSON_GetObjectItem(t, "modified_at")->valuestring, "2023-11-14T22:13:20Z");
    assert_true(cJSON_GetObjectItem(t, "size")->valuedouble == 1900000000.0);
    cJSON_Delete(t);
    cJSON *s = ollama_show(&m);
    assert_non_null(strstr(cJSON_GetObjectItem(s, "modelfile")->valuestring,
                           "FROM /var/lib/hailo/llm/Qwen2.5-1.5B-Instruct.hef"));
    assert_string_equal(cJSON_GetObjectItem(s, "template")->valuestring, "");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(s, "capabilities")), 2);
    cJSON_Delete(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time),
        cmocka_unit_test(test_chunks_and_final),
        cmocka_unit_test(test_tag_and_show),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
