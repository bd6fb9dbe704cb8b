/* test_sse.c - chat.completion.chunk events (src/chatapi/sse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "chatapi/chatapi.h"

/* Formats obj as an event, checks the framing and parses the JSON back. */
static cJSON *roundtrip(cJSON *obj)
{
    size_t len = 0;
    assert_non_null(obj);
    char *ev = sse_event(obj, &len);
    cJSON_Delete(obj);
    assert_non_null(ev);
    assert_int_equal(len, strlen(ev));
    assert_memory_equal(ev, "data: ", 6);
    assert_string_equal(ev + len - 2, "\n\n");
    assert_null(memchr(ev, '\n', len - 2)); /* one line: no newline inside the JSON */
    ev[len - 2] = '\0';
    cJSON *back = cJSON_Parse(ev + 6);
    free(ev);
    assert_non_null(back);
    return back;
}

static const cJSON *choice0(const cJSON *o)
{
    const cJSON *choices = cJSON_GetObjectItem(o, "choices");
    assert_true(cJSON_IsArray(choices));
    assert_int_equal(cJSON_GetArraySize(choices), 1);
    return cJSON_GetArrayItem(choices, 0);
}

static void check_head(const cJSON *o)
{
    assert_string_equal(cJSON_GetObjectItem(o, "id")->valuestring, "chatcmpl-abc");
    assert_string_equal(cJSON_GetObjectItem(o, "object")->valuestring, "chat.completion.chunk");
    assert_int_equal((long)cJSON_GetObjectItem(o, "created")->valuedouble, 1700000000L);
    assert_string_equal(cJSON_GetObjectItem(o, "model")->valuestring, "m");
}

static void test_role_chunk(void **state)
{
    (void)state;
    cJSON *o = roundtrip(
        sse_chunk("chatcmpl-abc", 1700000000L, "m", sse_delta("assistant", "", 0), NULL, false));
    check_head(o);
    const cJSON *c = choice0(o);
    assert_int_equal(cJSON_GetObjectItem(c, "index")->valueint, 0);
    const cJSON *d = cJSON_GetObjectItem(c, "delta");
    assert_string_equal(cJSON_GetObjectItem(d, "role")->valuestring, "assistant");
    assert_string_equal(cJSON_GetObjectItem(d, "content")->valuestring, "");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(c, "finish_reason")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(c, "logprobs")));
    assert_null(cJSON_GetObjectItem(o, "usage")); /* without include_usage: absent */
    cJSON_Delete(o);
}

static void test_content_chunk_escapes(void **state)
{
    (void)state;
    const char text[] = "line1\nquote\" tab\t\xc3\xa9 and more";
    /* Only the first 12 bytes are the delta. */
    cJSON *o = roundtrip(
        sse_chunk("chatcmpl-abc", 1700000000L, "m", sse_delta(NULL, text, 12), NULL, true));
    const cJSON *d = cJSON_GetObjectItem(choice0(o), "delta");
    assert_null(cJSON_GetObjectItem(d, "role"));
    assert_string_equal(cJSON_GetObjectItem(d, "content")->valuestring, "line1\nquote\"");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "usage"))); /* include_usage: null */
    cJSON_Delete(o);
}

static void test_finish_chunk(void **state)
{
    (void)state;
    cJSON *o = roundtrip(
        sse_chunk("chatcmpl-abc", 1700000000L, "m", cJSON_CreateObject(), "length", false));
    check_head(o);
    const cJSON *c = choice0(o);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(c, "delta")), 0);
    assert_string_equal(cJSON_GetObjectItem(c, "finish_reason")->valuestring, "length");
    cJSON_Delete(o);
}

static void test_usage_chunk(void **state)
{
    (void)state;
    cJSON *o = roundtrip(sse_usage_chunk("chatcmpl-abc", 1700000000L, "m", 31, 9));
    check_head(o);
    const cJSON *choices = cJSON_GetObjectItem(o, "choices");
    assert_true(cJSON_IsArray(choices));
    assert_int_equal(cJSON_GetArraySize(choices), 0);
    const cJSON *u = cJSON_GetObjectItem(o, "usage");
    assert_int_equal(cJSON_GetObjectItem(u, "prompt_tokens")->valueint, 31);
    assert_int_equal(cJSON_GetObjectItem(u, "completion_tokens")->valueint, 9);
    assert_int_equal(cJSON_GetObjectItem(u, "total_tokens")->valueint, 40);
    cJSON_Delete(o);
}

static void test_null_delta_is_refused(void **state)
{
    (void)state;
    assert_null(sse_chunk("chatcmpl-abc", 1, "m", NULL, NULL, false));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_role_chunk),
        cmocka_unit_test(test_content_chunk_escapes),
        cmocka_unit_test(test_finish_chunk),
        cmocka_unit_test(test_usage_chunk),
        cmocka_unit_test(test_null_delta_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
