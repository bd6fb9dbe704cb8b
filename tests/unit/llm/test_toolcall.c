/* test_toolcall.c - tool calls separated from streamed text (src/llm/toolcall.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "llm/llm.h"

typedef struct sink {
    char text[1024];
    size_t len;
} sink;

static int collect(void *user, const char *text, size_t len)
{
    sink *s = user;
    assert_true(s->len + len < sizeof(s->text));
    memcpy(s->text + s->len, text, len);
    s->len += len;
    s->text[s->len] = '\0';
    return 0;
}

/* Feeds text in pieces of `step` bytes; returns the calls (owned). */
static cJSON *run(const char *text, size_t step, sink *s)
{
    toolcall_filter f;
    memset(s, 0, sizeof(*s));
    toolcall_init(&f, collect, s);
    for (size_t i = 0, n = strlen(text); i < n; i += step)
        assert_int_equal(toolcall_feed(&f, text + i, i + step < n ? step : n - i), 0);
    assert_int_equal(toolcall_flush(&f), 0);
    cJSON *calls = toolcall_take(&f);
    toolcall_free(&f);
    return calls;
}

static void test_split_anywhere(void **state)
{
    (void)state;
    const char *text = "Let me check. <tool_call>\n{\"name\": \"get_weather\", \"arguments\":"
                       " {\"city\": \"Oslo\"}}\n</tool_call> and <tool_call>{\"name\": \"now\","
                       " \"arguments\": \"{\\\"tz\\\": \\\"UTC\\\"}\"}</tool_call> done";
    for (size_t step = 1; step <= strlen(text); step++) {
        sink s;
        cJSON *calls = run(text, step, &s);
        assert_string_equal(s.text, "Let me check.  and  done");
        char *c = cJSON_PrintUnformatted(calls);
        assert_string_equal(c, "[{\"function\":{\"name\":\"get_weather\",\"arguments\":{\"city\":"
                               "\"Oslo\"}}},{\"function\":{\"name\":\"now\",\"arguments\":{\"tz\":"
                               "\"UTC\"}}}]");
        cJSON_free(c);
        cJSON_Delete(calls);
    }
}

static void test_not_calls_stay_text(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "a <tool_call>not json</tool_call> b",   /* not JSON */
        "a <tool_call>{\"x\": 1}</tool_call> b", /* no name */
        "a <tool_call>{\"name\": \"f\"} never closed",
        "a <tool_ and <tool_cal> are text <",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        sink s;
        cJSON *calls = run(texts[i], 3, &s);
        assert_string_equal(s.text, texts[i]);
        assert_null(calls);
    }
    /* A call without arguments gets an empty object. */
    sink s;
    cJSON *calls = run("<tool_call>{\"name\": \"ping\"}</tool_call>", 5, &s);
    char *c = cJSON_PrintUnformatted(calls);
    assert_string_equal(c, "[{\"function\":{\"name\":\"ping\",\"arguments\":{}}}]");
    cJSON_free(c);
    cJSON_Delete(calls);
    assert_string_equal(s.text, "");
}

static void test_openai_form(void **state)
{
    (void)state;
    cJSON *calls = cJSON_Parse("[{\"function\": {\"name\": \"f\", \"arguments\": {\"a\": [1]}}}]");
    cJSON *o = toolcall_to_openai(calls);
    const cJSON *c = cJSON_GetArrayItem(o, 0);
    const cJSON *id = cJSON_GetObjectItem(c, "id");
    assert_true(cJSON_IsString(id) && strncmp(id->valuestring, "call_", 5) == 0);
    assert_int_equal(strlen(id->valuestring), 5 + 24);
    assert_string_equal(cJSON_GetObjectItem(c, "type")->valuestring, "function");
    const cJSON *fn = cJSON_GetObjectItem(c, "function");
    assert_string_equal(cJSON_GetObjectItem(fn, "name")->valuestring, "f");
    assert_string_equal(cJSON_GetObjectItem(fn, "arguments")->valuestring, "{\"a\":[1]}");
    /* Fields in OpenAI's order. */
    assert_string_equal(c->child->string, "id");
    cJSON_Delete(o);
    cJSON_Delete(calls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_anywhere),
        cmocka_unit_test(test_not_calls_stay_text),
        cmocka_unit_test(test_openai_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
