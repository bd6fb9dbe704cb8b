/*
 * test_unclip.c - the unclip offset (ocrpost/unclip.h) against pyclipper
 * and shapely: the values below are what DBPostProcess.unclip and
 * Polygon(...).area / .length gave for the same points.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ocrpost/unclip.h"

static void check_offset(const float *quad, double delta, const int32_t *want, size_t n_want)
{
    int32_t *xy = NULL;
    size_t n = 0, paths = 0;
    hdm_err err = {0};
    assert_int_equal(ocr_unclip_offset(quad, 4, delta, &xy, &n, &paths, &err), 0);
    assert_int_equal(paths, 1);
    assert_int_equal(n, n_want);
    assert_memory_equal(xy, want, n_want * 2 * sizeof(int32_t));
    free(xy);
}

static void test_square(void **state)
{
    (void)state;
    const float sq[8] = {10, 10, 30, 10, 30, 20, 10, 20};
    assert_true(ocr_unclip_distance(sq, 4, 1.5) == 5.0);
    const int32_t want[] = {33, 6,  35, 10, 35, 20, 34, 23, 30, 25, 10, 25,
                            7,  24, 5,  20, 5,  10, 6,  7,  10, 5,  30, 5};
    check_offset(sq, 5.0, want, 12);
}

static void test_fractional(void **state)
{
    (void)state;
    /* Float corners are truncated on entry, towards zero. */
    const float q[8] = {10.7f, 10.2f, 30.9f, 11.6f, 29.5f, 20.9f, 9.3f, 19.4f};
    double d = ocr_unclip_distance(q, 4, 1.5);
    assert_true(d == 4.78461679240405);
    const int32_t want[] = {30, 6,  33, 7,  35, 10, 35, 12, 34, 21, 32, 23, 29, 25,
                            9,  24, 6,  23, 4,  20, 4,  18, 5,  9,  7,  7,  10, 5};
    check_offset(q, d, want, 14);

    const float neg[8] = {-3.7f, -2.2f, 12.9f, -2.6f, 12.5f, 8.9f, -3.3f, 9.4f};
    const int32_t want_neg[] = {15, -6, 17, -2, 17, 8,  16, 11, 12, 13, -3, 14,
                                -6, 13, -8, 11, -8, -2, -7, -5, -3, -7, 12, -7};
    check_offset(neg, ocr_unclip_distance(neg, 4, 1.5), want_neg, 12);
}

static void test_degenerate(void **state)
{
    (void)state;
    const float point[8] = {5, 5, 5, 5, 5, 5, 5, 5};
    assert_true(ocr_unclip_distance(point, 4, 1.5) == 0.0);
    assert_true(ocr_unclip_distance(NULL, 4, 1.5) == 0.0);
    int32_t *xy = NULL;
    size_t n = 99, paths = 99;
    hdm_err err = {0};
    /* Zero offset of a zero-area polygon: Clipper gives nothing. */
    assert_int_equal(ocr_unclip_offset(point, 4, 0.0, &xy, &n, &paths, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(paths, 0);
    free(xy);
}

static void test_bad_input(void **state)
{
    (void)state;
    int32_t *xy = NULL;
    size_t n, paths;
    hdm_err err = {0};
    float q[8] = {0, 0, 10, 0, 10, 10, 0, 10};
    assert_int_equal(ocr_unclip_offset(q, 4, NAN, &xy, &n, &paths, &err), -HDM_E_BAD_REQUEST);
    q[3] = INFINITY;
    assert_int_equal(ocr_unclip_offset(q, 4, 1.0, &xy, &n, &paths, &err), -HDM_E_BAD_REQUEST);
    q[3] = 2e6f;
    assert_int_equal(ocr_unclip_offset(q, 4, 1.0, &xy, &n, &paths, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "coordinate"));
    assert_int_equal(ocr_unclip_offset(NULL, 4, 1.0, &xy, &n, &paths, &err), -HDM_E_BAD_REQUEST);
    assert_null(xy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_square),
        cmocka_unit_test(test_fractional),
        cmocka_unit_test(test_degenerate),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
