/* test_buf.c - the growable buffer and big-endian helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "hailodm.h"

static void test_append_and_consume(void **state)
{
    (void)state;
    buf b = {0};
    for (int i = 0; i < 10000; i++) {
        uint8_t v = (uint8_t)i;
        assert_int_equal(buf_append(&b, &v, 1), 0);
    }
    assert_int_equal(b.len, 10000);
    assert_true(b.cap >= b.len);
    buf_consume(&b, 9990);
    assert_int_equal(b.len, 10);
    assert_int_equal(b.data[0], (uint8_t)9990);
    buf_consume(&b, 100);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_append(&b, NULL, 0), 0);
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    buf_free(&b);
    assert_null(b.data);
    buf_free(&b);
    buf_free(NULL);
}

static void test_big_endian(void **state)
{
    (void)state;
    buf b = {0};
    assert_int_equal(buf_append_u32be(&b, 0x01020304u), 0);
    assert_int_equal(buf_append_u64be(&b, 0x1122334455667788ull), 0);
    static const uint8_t want[] = {1, 2, 3, 4, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    assert_int_equal(read_u32be(b.data), 0x01020304u);
    assert_true(read_u64be(b.data + 4) == 0x1122334455667788ull);
    buf_free(&b);
}

static void test_printf(void **state)
{
    (void)state;
    buf b = {0};
    assert_int_equal(buf_printf(&b, "%s=%d", "n", 42), 0);
    assert_int_equal(buf_printf(&b, ";%0500d", 7), 0);
    assert_int_equal(b.len, 4 + 501);
    assert_memory_equal(b.data, "n=42;000", 8);
    assert_int_equal(b.data[b.len - 1], '7');
    buf_free(&b);
}

static void test_reserve_overflow(void **state)
{
    (void)state;
    buf b = {0};
    assert_int_equal(buf_append(&b, "abc", 3), 0);
    assert_int_equal(buf_reserve(&b, SIZE_MAX), -HDM_E_NOMEM);
    assert_int_equal(buf_reserve(&b, SIZE_MAX - 2), -HDM_E_NOMEM);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "abc", 3);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_consume),
        cmocka_unit_test(test_big_endian),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_reserve_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
