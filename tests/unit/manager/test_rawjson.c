/*
 * test_rawjson.c - the raw text scans of src/manager/rawjson.c: a top-level
 * member's value as written, and where an escaped NUL lies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "manager/rawjson.h"

/* The value text of `key` in json, or NULL. */
static char got[256];
static const char *value_of(const char *json, const char *key)
{
    const char *v;
    size_t n;
    rawjson_scan(json, strlen(json), key, &v, &n, NULL, NULL);
    if (!v)
        return NULL;
    memcpy(got, v, n);
    got[n] = 0;
    return got;
}

static const char *nul_member(const char *json)
{
    const char *k;
    size_t n;
    rawjson_scan(json, strlen(json), NULL, NULL, NULL, &k, &n);
    if (!k)
        return NULL;
    memcpy(got, k, n);
    got[n] = 0;
    return got;
}

static void test_member_values(void **state)
{
    (void)state;
    assert_string_equal(value_of("{\"request_id\": 12345678901234567890}", "request_id"),
                        "12345678901234567890");
    assert_string_equal(value_of("{\"a\":1,\"request_id\":1.0 ,\"b\":2}", "request_id"), "1.0");
    assert_string_equal(
        value_of("{\"x\":{\"request_id\":1},\"request_id\":[1, {\"y\":\"]\"}]}", "request_id"),
        "[1, {\"y\":\"]\"}]");
    assert_string_equal(value_of("{\"request_id\":\"a,}\\\"b\"}", "request_id"), "\"a,}\\\"b\"");
    assert_string_equal(value_of("{\"request_id\": {\"k\": [true, null]}\n}", "request_id"),
                        "{\"k\": [true, null]}");
    /* The first of two, as cJSON reads it. */
    assert_string_equal(value_of("{\"request_id\":1,\"request_id\":2}", "request_id"), "1");
    assert_null(value_of("{\"action\":\"ping\"}", "request_id"));
    assert_null(value_of("{\"a\":\"request_id\"}", "request_id"));
    assert_null(value_of("{\"a\":{\"request_id\":3}}", "request_id"));
}

static void test_nul_escapes(void **state)
{
    (void)state;
    const char *plain = "{\"a\":\"x\\\\u0000\"}"; /* an escaped backslash, then text */
    assert_false(rawjson_has_nul_escape(plain, strlen(plain)));
    assert_null(nul_member(plain));
    const char *rid = "{\"action\":\"ping\",\"request_id\":\"a\\u0000b\"}";
    assert_true(rawjson_has_nul_escape(rid, strlen(rid)));
    assert_string_equal(nul_member(rid), "request_id");
    const char *deep = "{\"request_id\":\"r\",\"input_data\":{\"prompt\":[\"\\u0000\"]}}";
    assert_string_equal(nul_member(deep), "input_data");
    const char *name = "{\"k\\u0000\":1}";
    assert_string_equal(nul_member(name), "k\\u0000");
    const char *other = "{\"a\":\"\\u00001\"}";
    assert_true(rawjson_has_nul_escape(other, strlen(other)));
    const char *short_esc = "{\"a\":\"\\u00e9\"}";
    assert_false(rawjson_has_nul_escape(short_esc, strlen(short_esc)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_member_values),
        cmocka_unit_test(test_nul_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
