/*
 * test_order.c - reading order (ocrpost/order.h): 20-pixel bands, left to
 * right, ties kept in DB order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ocrpost/order.h"

static void test_order(void **state)
{
    (void)state;
    /* (x, y) of each box, in DB order. */
    const int xy[][2] = {{300, 45}, {10, 41}, {50, 19}, {0, 20}, {50, 0}, {10, 41}, {10, 39}};
    enum { N = sizeof(xy) / sizeof(xy[0]) };
    ocr_box b[N];
    memset(b, 0, sizeof(b));
    for (size_t i = 0; i < N; i++) {
        b[i].x = xy[i][0];
        b[i].y = xy[i][1];
        b[i].db_index = i;
    }
    ocr_order_reading(b, N);
    /* bands: y 0..19 -> 0, 20..39 -> 1, 40..59 -> 2 */
    const size_t want[N] = {2, 4, 3, 6, 1, 5, 0};
    for (size_t i = 0; i < N; i++)
        assert_int_equal(b[i].db_index, want[i]);
    ocr_order_reading(NULL, 3);
    ocr_order_reading(b, 0);
}

static void test_stable_many(void **state)
{
    (void)state;
    /* 500 boxes with only 3 distinct keys: ties must keep DB order. */
    enum { N = 500 };
    ocr_box *b = calloc(N, sizeof(*b));
    for (size_t i = 0; i < N; i++) {
        b[i].x = (int)(i % 3) * 5;
        b[i].y = 7;
        b[i].db_index = i;
    }
    ocr_order_reading(b, N);
    for (size_t i = 1; i < N; i++) {
        assert_true(b[i - 1].x <= b[i].x);
        if (b[i - 1].x == b[i].x)
            assert_true(b[i - 1].db_index < b[i].db_index);
    }
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_stable_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
