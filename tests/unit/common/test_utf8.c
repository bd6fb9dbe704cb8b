/* Unit tests of common/utf8.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/utf8.h"

static void test_valid(void **state)
{
    (void)state;
    assert_true(utf8_valid("plain ascii text that is long enough", 36));
    assert_true(utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15));
    assert_false(utf8_valid("\xff", 1));
    assert_false(utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
    assert_false(utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(utf8_valid("abc\xe2\x82", 5));      /* truncated */
    assert_false(utf8_valid("abcdefgh\x80", 9));     /* stray continuation after fast path */
    assert_true(utf8_valid("", 0));
}

static void test_decode(void **state)
{
    (void)state;
    uint32_t cp = 0;
    assert_int_equal(utf8_decode((const uint8_t *)"A", 1, &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(utf8_decode((const uint8_t *)"\xc3\xa9", 2, &cp), 2);
    assert_int_equal(cp, 0xE9);
    assert_int_equal(utf8_decode((const uint8_t *)"\xe2\x82\xac", 3, &cp), 3);
    assert_int_equal(cp, 0x20AC);
    assert_int_equal(utf8_decode((const uint8_t *)"\xf0\x9f\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1F600);
    /* Cut short by len, stray continuation, overlong: not text. */
    assert_int_equal(utf8_decode((const uint8_t *)"\xe2\x82\xac", 2, &cp), 0);
    assert_int_equal(utf8_decode((const uint8_t *)"\x80", 1, &cp), 0);
    assert_int_equal(utf8_decode((const uint8_t *)"\xc1\xbf", 2, &cp), 0);
}

/* One U+FFFD per maximal ill-formed subpart, as Python's "replace" decodes. */
static void test_bad_len(void **state)
{
    (void)state;
    assert_int_equal(utf8_bad_len((const uint8_t *)"\xff", 1), 1);
    assert_int_equal(utf8_bad_len((const uint8_t *)"\x80\x80", 2), 1);
    assert_int_equal(utf8_bad_len((const uint8_t *)"\xe2\x82", 2), 2);     /* truncated */
    assert_int_equal(utf8_bad_len((const uint8_t *)"\xe2\x82(", 3), 2);
    assert_int_equal(utf8_bad_len((const uint8_t *)"\xf0\x9f\x98", 3), 3);
    assert_int_equal(utf8_bad_len((const uint8_t *)"\xed\xa0\x80", 3), 1); /* surrogate */
    assert_int_equal(utf8_bad_len((const uint8_t *)"\xe0\x80\xaf", 3), 1); /* overlong */
    assert_int_equal(utf8_bad_len((const uint8_t *)"\xf4\x90\x80", 3), 1); /* > U+10FFFF */
    assert_int_equal(utf8_bad_len((const uint8_t *)"\xc0\xaf", 2), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_bad_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
