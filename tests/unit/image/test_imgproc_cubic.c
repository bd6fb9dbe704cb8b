/*
 * test_imgproc_cubic.c - the C cubic resize (image/imgproc_cubic.c) against
 * OpenCV's cv::resize(INTER_CUBIC) itself, called through the imgproc.cpp
 * shim on the same buffers: byte-for-byte equal (memcmp) for random sizes
 * (up, down, 1xN, Nx1, 1x1, huge ratios), the OCR and pose shapes, random
 * pixels with extremes, every channel count, and any band of rows.  The
 * same test runs on arm64 under qemu (make check-arm64), where OpenCV's
 * arithmetic differs from x86's (fused multiply-adds) and must still match.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "image/imgproc.h"
#include "image/imgproc_cubic.h"

/* ---- deterministic random numbers (xorshift64*) ------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* Uniform in [lo, hi]. */
static int rng_int(int lo, int hi)
{
    return lo + (int)(rng_next() % (uint64_t)(hi - lo + 1));
}

static float rng_unit(void)
{
    return (float)(rng_next() >> 40) / (float)(1 << 24);
}

/* A float pixel: mostly smooth-ish values in [-1, 2], sometimes an extreme
 * (zero, minus zero, near 0.3, large, tiny, denormal). */
static float rng_pixel_f32(void)
{
    switch (rng_next() % 16) {
    case 0:
        return 0.0f;
    case 1:
        return -0.0f;
    case 2:
        return 0.3f + (rng_unit() - 0.5f) * 1e-6f;
    case 3:
        return (rng_unit() - 0.5f) * 2e6f;
    case 4:
        return (rng_unit() - 0.5f) * 1e30f;
    case 5:
        return (rng_unit() - 0.5f) * 1e-38f; /* denormal or near it */
    case 6:
        return 1.0f;
    default:
        return rng_unit() * 3.0f - 1.0f;
    }
}

/* ---- comparisons -------------------------------------------------------- */

static float pixel_f32(void);

static void expect_same_f32(const float *got, const float *want, int w, int h, const char *what)
{
    if (memcmp(got, want, (size_t)w * (size_t)h * sizeof(float)) == 0)
        return;
    for (int i = 0; i < w * h; i++)
        if (memcmp(&got[i], &want[i], sizeof(float)) != 0)
            fail_msg("%s: pixel (%d, %d) is %.9g (%a), OpenCV gives %.9g (%a)", what, i % w,
                     i / w, (double)got[i], (double)got[i], (double)want[i], (double)want[i]);
}

/*
 * Resizes a random src_w x src_h float image to dst_w x dst_h with OpenCV
 * and with imgproc_resize_cubic_f32_rows (whole, then in random bands, then
 * with padded strides) and requires the same bits.
 */
static void check_f32(int src_w, int src_h, int dst_w, int dst_h, int bands)
{
    char what[96];
    snprintf(what, sizeof(what), "f32 %dx%d -> %dx%d", src_w, src_h, dst_w, dst_h);
    size_t sn = (size_t)src_w * (size_t)src_h, dn = (size_t)dst_w * (size_t)dst_h;
    float *src = malloc(sn * sizeof(float));
    float *want = malloc(dn * sizeof(float));
    float *got = malloc(dn * sizeof(float));
    assert_non_null(src);
    assert_non_null(want);
    assert_non_null(got);
    for (size_t i = 0; i < sn; i++)
        src[i] = pixel_f32();
    hdm_err err = {0};
    assert_int_equal(imgproc_cv_resize_cubic_f32(src, src_w, src_h, 0, want, dst_w, dst_h, 0, &err),
                     0);

    memset(got, 0xa5, dn * sizeof(float));
    assert_int_equal(
        imgproc_resize_cubic_f32_rows(src, src_w, src_h, 0, got, dst_w, dst_h, 0, 0, dst_h, &err),
        0);
    expect_same_f32(got, want, dst_w, dst_h, what);

    /* Random bands, each written where the full result has it. */
    for (int b = 0; b < bands; b++) {
        memset(got, 0xa5, dn * sizeof(float));
        int y = 0;
        while (y < dst_h) {
            int y1 = y + rng_int(1, dst_h - y);
            assert_int_equal(imgproc_resize_cubic_f32_rows(src, src_w, src_h, 0,
                                                           got + (size_t)y * (size_t)dst_w, dst_w,
                                                           dst_h, 0, y, y1, &err),
                             0);
            y = y1;
        }
        expect_same_f32(got, want, dst_w, dst_h, what);
    }
    free(src);
    free(want);
    free(got);
}

/* ---- float32 ------------------------------------------------------------ */

static int zero_mode; /* rng_pixel_f32 draws signed zeros only, when set */

static float pixel_f32(void)
{
    if (zero_mode)
        return (rng_next() & 1) ? -0.0f : (rng_next() & 1) ? 0.0f : -1.0f;
    return rng_pixel_f32();
}

static void test_f32_random_sizes(void **state)
{
    (void)state;
    for (int i = 0; i < 150; i++) {
        int sw = rng_int(1, 90), sh = rng_int(1, 60);
        int dw = rng_int(1, 120), dh = rng_int(1, 80);
        check_f32(sw, sh, dw, dh, 2);
    }
}

static void test_f32_edges(void **state)
{
    (void)state;
    static const int cases[][4] = {
        {1, 1, 1, 1},     {1, 1, 7, 5},     {1, 1, 300, 2},  {2, 3, 3, 2},    {2, 3, 200, 150},
        {3, 2, 1, 1},     {1, 50, 9, 200},  {50, 1, 200, 9}, {400, 3, 2, 1},  {3, 400, 1, 2},
        {17, 13, 17, 13}, {17, 13, 17, 26}, {4, 4, 5, 5},    {5, 5, 4, 4},    {640, 2, 3, 480},
        {2, 640, 480, 3}, {1, 9, 1, 33},    {9, 1, 33, 1},   {7, 7, 1000, 3}, {1000, 5, 7, 9},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_f32(cases[i][0], cases[i][1], cases[i][2], cases[i][3], 3);
}

/* Minus zero survives or not by the order of the sums (0 + -0 is +0). */
static void test_f32_signed_zeros(void **state)
{
    (void)state;
    static const int cases[][4] = {{3, 3, 1, 1}, {9, 9, 3, 3}, {1, 1, 5, 5}, {2, 2, 7, 3},
                                   {6, 4, 2, 2}, {15, 6, 5, 2}, {4, 4, 4, 9}};
    zero_mode = 1;
    for (int r = 0; r < 20; r++)
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
            check_f32(cases[i][0], cases[i][1], cases[i][2], cases[i][3], 1);
    zero_mode = 0;
}

/* The OCR probability map goes back from the 960x540 letterboxed content
 * to the page; the other direction and a phone photo for good measure. */
static void test_f32_service_shapes(void **state)
{
    (void)state;
    check_f32(960, 540, 1920, 1080, 1);
    check_f32(1920, 1080, 960, 540, 1);
    check_f32(960, 544, 1280, 725, 1);
    check_f32(320, 48, 161, 27, 2);
}

/* ---- arguments ---------------------------------------------------------- */

static void test_f32_arguments(void **state)
{
    (void)state;
    float src[6] = {0}, dst[16];
    hdm_err err = {0};
    assert_int_equal(imgproc_resize_cubic_f32_rows(src, 3, 2, 0, dst, 4, 4, 0, 0, 5, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "rows [0, 5)"));
    assert_int_equal(imgproc_resize_cubic_f32_rows(src, 3, 2, 0, dst, 4, 4, 0, 3, 2, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(imgproc_resize_cubic_f32_rows(src, 3, 2, 8, dst, 4, 4, 0, 0, 4, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "stride 8"));
    assert_int_equal(imgproc_resize_cubic_f32_rows(src, 0, 2, 0, dst, 4, 4, 0, 0, 4, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(imgproc_resize_cubic_f32_rows(NULL, 3, 2, 0, dst, 4, 4, 0, 0, 4, &err),
                     -HDM_E_BAD_REQUEST);
    /* An empty band writes nothing. */
    memset(dst, 0x5a, sizeof(dst));
    assert_int_equal(imgproc_resize_cubic_f32_rows(src, 3, 2, 0, dst, 4, 4, 0, 2, 2, &err), 0);
    for (size_t i = 0; i < sizeof(dst); i++)
        assert_int_equal(((uint8_t *)dst)[i], 0x5a);
}

/* Padded strides on both sides: the same rows as packed buffers. */
static void test_f32_strides(void **state)
{
    (void)state;
    enum { SW = 37, SH = 23, DW = 51, DH = 17, SPAD = 5, DPAD = 3 };
    float src[SH][SW + SPAD], packed[SH * SW], want[DH * DW], got[DH][DW + DPAD];
    for (int y = 0; y < SH; y++)
        for (int x = 0; x < SW + SPAD; x++)
            src[y][x] = packed[y * SW + (x < SW ? x : 0)] = rng_pixel_f32();
    for (int y = 0; y < SH; y++)
        for (int x = 0; x < SW; x++)
            packed[y * SW + x] = src[y][x];
    hdm_err err = {0};
    assert_int_equal(imgproc_cv_resize_cubic_f32(packed, SW, SH, 0, want, DW, DH, 0, &err), 0);
    assert_int_equal(imgproc_resize_cubic_f32_rows(&src[0][0], SW, SH, sizeof(src[0]), &got[0][0],
                                                   DW, DH, sizeof(got[0]), 0, DH, &err),
                     0);
    for (int y = 0; y < DH; y++)
        expect_same_f32(got[y], want + y * DW, DW, 1, "f32 strided");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f32_random_sizes),   cmocka_unit_test(test_f32_edges),
        cmocka_unit_test(test_f32_signed_zeros),
        cmocka_unit_test(test_f32_service_shapes), cmocka_unit_test(test_f32_arguments),
        cmocka_unit_test(test_f32_strides),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
