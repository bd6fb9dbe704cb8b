/* test_stop.c - stop sequences over streamed deltas (src/chatapi/stop.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "chatapi/chatapi.h"

typedef struct sink {
    char text[256];
    size_t len;
    int calls;
    int fail_at; /* return non-zero on this call (1-based), 0: never */
} sink;

static int emit(void *user, const char *text, size_t len)
{
    sink *s = user;
    s->calls++;
    assert_true(s->len + len < sizeof(s->text));
    memcpy(s->text + s->len, text, len);
    s->len += len;
    s->text[s->len] = '\0';
    return s->fail_at && s->calls == s->fail_at ? 7 : 0;
}

static void feed(stop_matcher *m, sink *s, const char *text)
{
    assert_int_equal(stop_feed(m, text, strlen(text), emit, s), 0);
}

static void test_no_stops_pass_through(void **state)
{
    (void)state;
    stop_matcher m;
    sink s = {0};
    stop_init(&m, NULL, 0);
    feed(&m, &s, "Hello");
    feed(&m, &s, " world");
    assert_string_equal(s.text, "Hello world");
    assert_int_equal(s.calls, 2);
    assert_false(m.hit);
    stop_free(&m);
}

static void test_stop_split_across_deltas(void **state)
{
    (void)state;
    char *stops[] = {"</end>"};
    stop_matcher m;
    sink s = {0};
    stop_init(&m, stops, 1);
    feed(&m, &s, "Hello</");
    assert_string_equal(s.text, "Hello"); /* "</" held back */
    feed(&m, &s, "en");
    assert_string_equal(s.text, "Hello");
    feed(&m, &s, "d> more text");
    assert_true(m.hit);
    assert_string_equal(s.text, "Hello");
    feed(&m, &s, "ignored");
    assert_int_equal(stop_flush(&m, emit, &s), 0);
    assert_string_equal(s.text, "Hello");
    stop_free(&m);
}

static void test_false_prefix_is_released(void **state)
{
    (void)state;
    char *stops[] = {"<end>"};
    stop_matcher m;
    sink s = {0};
    stop_init(&m, stops, 1);
    feed(&m, &s, "a<");
    assert_string_equal(s.text, "a");
    feed(&m, &s, "b");
    assert_string_equal(s.text, "a<b");
    feed(&m, &s, "<en");
    assert_string_equal(s.text, "a<b");
    assert_int_equal(stop_flush(&m, emit, &s), 0);
    assert_string_equal(s.text, "a<b<en");
    assert_false(m.hit);
    stop_free(&m);
}

static void test_earliest_of_several(void **state)
{
    (void)state;
    char *stops[] = {"STOP", "\n\n", "xyz"};
    stop_matcher m;
    sink s = {0};
    stop_init(&m, stops, 3);
    feed(&m, &s, "one\n\ntwo STOP");
    assert_true(m.hit);
    assert_string_equal(s.text, "one");
    stop_free(&m);
}

static void test_stop_at_start_emits_nothing(void **state)
{
    (void)state;
    char *stops[] = {"Hi"};
    stop_matcher m;
    sink s = {0};
    stop_init(&m, stops, 1);
    feed(&m, &s, "Hi there");
    assert_true(m.hit);
    assert_int_equal(s.len, 0);
    assert_int_equal(s.calls, 0);
    stop_free(&m);
}

static void test_emitter_abort_propagates(void **state)
{
    (void)state;
    char *stops[] = {"zz"};
    stop_matcher m;
    sink s = {.fail_at = 2};
    stop_init(&m, stops, 1);
    feed(&m, &s, "a");
    assert_int_equal(stop_feed(&m, "b", 1, emit, &s), 7);
    stop_free(&m);
}

static void test_empty_stop_never_matches(void **state)
{
    (void)state;
    char *stops[] = {""};
    stop_matcher m;
    sink s = {0};
    stop_init(&m, stops, 1);
    feed(&m, &s, "abc");
    assert_string_equal(s.text, "abc");
    assert_false(m.hit);
    stop_free(&m);
}

static void test_utf8_is_not_split(void **state)
{
    (void)state;
    char *stops[] = {"\xc3\xa9t\xc3\xa9"}; /* "été" */
    stop_matcher m;
    sink s = {0};
    stop_init(&m, stops, 1);
    feed(&m, &s, "caf\xc3\xa9"); /* "café": "é" may begin "été" */
    assert_string_equal(s.text, "caf");
    feed(&m, &s, "!");
    assert_string_equal(s.text, "caf\xc3\xa9!");
    stop_free(&m);
}

static void test_incomplete_utf8_is_held(void **state)
{
    (void)state;
    stop_matcher m;
    sink s = {0};
    stop_init(&m, NULL, 0);
    feed(&m, &s, "caf\xc3"); /* a token ending inside "é" */
    assert_string_equal(s.text, "caf");
    feed(&m, &s, "\xa9 \xf0\x9f"); /* "é " and half of an emoji */
    assert_string_equal(s.text, "caf\xc3\xa9 ");
    feed(&m, &s, "\x98\x80!");
    assert_string_equal(s.text, "caf\xc3\xa9 \xf0\x9f\x98\x80!");
    stop_free(&m);

    char *stops[] = {"END"};
    sink t = {0};
    stop_init(&m, stops, 1);
    feed(&m, &t, "x\xe2\x82"); /* "€" cut after two bytes */
    assert_string_equal(t.text, "x");
    feed(&m, &t, "\xac");
    assert_string_equal(t.text, "x\xe2\x82\xac");
    stop_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_stops_pass_through),
        cmocka_unit_test(test_stop_split_across_deltas),
        cmocka_unit_test(test_false_prefix_is_released),
        cmocka_unit_test(test_earliest_of_several),
        cmocka_unit_test(test_stop_at_start_emits_nothing),
        cmocka_unit_test(test_emitter_abort_propagates),
        cmocka_unit_test(test_empty_stop_never_matches),
        cmocka_unit_test(test_utf8_is_not_split),
        cmocka_unit_test(test_incomplete_utf8_is_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
