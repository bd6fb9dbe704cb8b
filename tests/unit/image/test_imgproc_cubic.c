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

/* A uint8 pixel: uniform, or an extreme (0, 255), or a run-friendly value. */
static uint8_t rng_pixel_u8(int mode)
{
    switch (mode) {
    case 0: /* uniform */
        return (uint8_t)rng_next();
    case 1: /* black and white only: the largest overshoots */
        return (rng_next() & 1) ? 255 : 0;
    default: /* mostly extremes, some mid */
        switch (rng_next() % 4) {
        case 0:
            return 0;
        case 1:
            return 255;
        default:
            return (uint8_t)rng_next();
        }
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
            fail_msg("%s: pixel (%d, %d) is %.9g (%a), OpenCV gives %.9g (%a)", what, i % w, i / w,
                     (double)got[i], (double)got[i], (double)want[i], (double)want[i]);
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
    static const int cases[][4] = {{3, 3, 1, 1}, {9, 9, 3, 3},  {1, 1, 5, 5}, {2, 2, 7, 3},
                                   {6, 4, 2, 2}, {15, 6, 5, 2}, {4, 4, 4, 9}};
    zero_mode = 1;
    for (int r = 0; r < 20; r++)
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
            check_f32(cases[i][0], cases[i][1], cases[i][2], cases[i][3], 1);
    zero_mode = 0;
}

/* The horizontal pass takes eight inside outputs at a time, with plain
 * loads where the taps of the even and of the odd outputs run on by one
 * pixel (2x enlargements) and a transpose otherwise: exact 2x at odd and
 * even widths, near-2x (the run breaks part way along), 3x and 1.5x (no
 * runs), and rows too short for a whole block of eight. */
static void test_f32_regular_taps(void **state)
{
    (void)state;
    static const int cases[][4] = {
        {37, 3, 74, 5}, {37, 3, 75, 5},  {38, 2, 76, 3},   {100, 2, 199, 3},  {100, 2, 201, 3},
        {13, 1, 26, 1}, {5, 2, 10, 4},   {4, 2, 8, 2},     {8, 2, 16, 2},     {40, 3, 120, 4},
        {40, 3, 60, 4}, {61, 2, 122, 2}, {480, 2, 960, 3}, {960, 2, 1920, 4}, {9, 2, 17, 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_f32(cases[i][0], cases[i][1], cases[i][2], cases[i][3], 2);
    zero_mode = 1;
    for (int r = 0; r < 10; r++)
        check_f32(37, 3, 74, 5, 1);
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

/* ---- uint8 -------------------------------------------------------------- */

static void expect_same_u8(const uint8_t *got, const uint8_t *want, int w, int h, int cn,
                           const char *what)
{
    size_t n = (size_t)w * (size_t)h * (size_t)cn;
    if (memcmp(got, want, n) == 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i])
            fail_msg("%s: pixel (%d, %d) channel %d is %d, OpenCV gives %d", what,
                     (int)(i / (size_t)cn % (size_t)w), (int)(i / (size_t)cn / (size_t)w),
                     (int)(i % (size_t)cn), got[i], want[i]);
}

/* As check_f32 for a uint8 image with cn channels; mode picks the pixels
 * (rng_pixel_u8). */
static void check_u8(int src_w, int src_h, int cn, int dst_w, int dst_h, int bands, int mode)
{
    char what[96];
    snprintf(what, sizeof(what), "u8x%d %dx%d -> %dx%d", cn, src_w, src_h, dst_w, dst_h);
    size_t sn = (size_t)src_w * (size_t)src_h * (size_t)cn;
    size_t dn = (size_t)dst_w * (size_t)dst_h * (size_t)cn, row = (size_t)dst_w * (size_t)cn;
    uint8_t *src = malloc(sn), *want = malloc(dn), *got = malloc(dn);
    assert_non_null(src);
    assert_non_null(want);
    assert_non_null(got);
    if (mode == 3) { /* smooth gradients with a few hard edges: a photo */
        for (int y = 0; y < src_h; y++)
            for (int x = 0; x < src_w; x++)
                for (int c = 0; c < cn; c++)
                    src[((size_t)y * (size_t)src_w + (size_t)x) * (size_t)cn + (size_t)c] =
                        (uint8_t)(((x * 7 + y * 3 + c * 50) & 255) ^
                                  ((x / 13 + y / 17) & 1 ? 0 : 255));
    } else {
        for (size_t i = 0; i < sn; i++)
            src[i] = rng_pixel_u8(mode);
    }
    hdm_err err = {0};
    assert_int_equal(
        imgproc_cv_resize_cubic_u8(src, src_w, src_h, 0, cn, want, dst_w, dst_h, 0, &err), 0);
    memset(got, 0xa5, dn);
    assert_int_equal(
        imgproc_cubic_u8_rows(src, src_w, src_h, 0, cn, got, dst_w, dst_h, 0, 0, dst_h, &err), 0);
    expect_same_u8(got, want, dst_w, dst_h, cn, what);
    for (int b = 0; b < bands; b++) {
        memset(got, 0xa5, dn);
        int y = 0;
        while (y < dst_h) {
            int y1 = y + rng_int(1, dst_h - y);
            assert_int_equal(imgproc_cubic_u8_rows(src, src_w, src_h, 0, cn, got + (size_t)y * row,
                                                   dst_w, dst_h, 0, y, y1, &err),
                             0);
            y = y1;
        }
        expect_same_u8(got, want, dst_w, dst_h, cn, what);
    }
    free(src);
    free(want);
    free(got);
}

static void test_u8_random_sizes(void **state)
{
    (void)state;
    for (int i = 0; i < 160; i++) {
        int sw = rng_int(1, 90), sh = rng_int(1, 60);
        int dw = rng_int(1, 120), dh = rng_int(1, 80);
        check_u8(sw, sh, 1 + i % 4, dw, dh, 1, i % 3);
    }
}

static void test_u8_edges(void **state)
{
    (void)state;
    static const int cases[][4] = {
        {1, 1, 1, 1},     {1, 1, 7, 5},     {1, 1, 300, 2},  {2, 3, 3, 2},    {2, 3, 200, 150},
        {3, 2, 1, 1},     {1, 50, 9, 200},  {50, 1, 200, 9}, {400, 3, 2, 1},  {3, 400, 1, 2},
        {17, 13, 17, 13}, {17, 13, 17, 26}, {4, 4, 5, 5},    {5, 5, 4, 4},    {640, 2, 3, 480},
        {2, 640, 480, 3}, {1, 9, 1, 33},    {9, 1, 33, 1},   {7, 7, 1000, 3}, {1000, 5, 7, 9},
        {8, 8, 16, 16},   {16, 16, 8, 8},   {3, 3, 9, 9},    {9, 9, 3, 3},    {11, 5, 3, 7},
    };
    for (int cn = 1; cn <= 4; cn++)
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
            check_u8(cases[i][0], cases[i][1], cn, cases[i][2], cases[i][3], 2, (int)(i % 3));
}

/* OCR: the page letterboxed to 960x544 (content 960x540), text crops to
 * the 48x320 recogniser input; pose: 640x640 from a phone photo and from
 * 1080p. */
static void test_u8_service_shapes(void **state)
{
    (void)state;
    check_u8(1920, 1080, 3, 960, 540, 1, 3);
    check_u8(1920, 1080, 3, 960, 540, 0, 0);
    check_u8(4032, 3024, 3, 960, 720, 0, 3);
    check_u8(4032, 3024, 3, 640, 480, 0, 0);
    check_u8(1920, 1080, 3, 640, 360, 0, 1);
    static const int crops[][2] = {{300, 40}, {57, 21}, {640, 31}, {12, 9}, {800, 120}, {33, 47}};
    for (size_t i = 0; i < sizeof(crops) / sizeof(crops[0]); i++) {
        imgproc_letterbox g;
        hdm_err err = {0};
        assert_int_equal(imgproc_letterbox_geometry(crops[i][0], crops[i][1], 320, 48, &g, &err),
                         0);
        check_u8(crops[i][0], crops[i][1], 3, g.new_w, g.new_h, 1, (int)(i % 4));
    }
}

/* The same uint8 cases on the baseline (SSE2/scalar) horizontal pass, which
 * a CPU with AVX2 would otherwise never run here. */
static void test_u8_baseline_pass(void **state)
{
    imgproc_cubic_allow_avx2(false);
    test_u8_random_sizes(state);
    test_u8_edges(state);
    test_u8_service_shapes(state);
    imgproc_cubic_allow_avx2(true);
}

/* The letterbox is the resize placed on a padded canvas. */
static void test_letterbox(void **state)
{
    (void)state;
    static const int cases[][4] = {{1920, 1080, 960, 544}, {300, 40, 320, 48}, {45, 70, 320, 48},
                                   {640, 480, 640, 640},   {7, 3, 5, 5},       {5, 5, 5, 5}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int sw = cases[i][0], sh = cases[i][1], dw = cases[i][2], dh = cases[i][3];
        hdm_err err = {0};
        imgproc_letterbox g;
        assert_int_equal(imgproc_letterbox_geometry(sw, sh, dw, dh, &g, &err), 0);
        size_t sn = (size_t)sw * (size_t)sh * 3, dn = (size_t)dw * (size_t)dh * 3;
        uint8_t *src = malloc(sn), *want = malloc(dn), *got = malloc(dn),
                *inner = malloc((size_t)g.new_w * (size_t)g.new_h * 3);
        assert_true(src && want && got && inner);
        for (size_t k = 0; k < sn; k++)
            src[k] = rng_pixel_u8(0);
        assert_int_equal(
            imgproc_cv_resize_cubic_u8(src, sw, sh, 0, 3, inner, g.new_w, g.new_h, 0, &err), 0);
        memset(want, 128, dn);
        for (int y = 0; y < g.new_h; y++)
            memcpy(want + ((size_t)(y + g.y_off) * (size_t)dw + (size_t)g.x_off) * 3,
                   inner + (size_t)y * (size_t)g.new_w * 3, (size_t)g.new_w * 3);
        memset(got, 0x5a, dn);
        assert_int_equal(imgproc_letterbox_u8(src, sw, sh, 0, 3, &g, 128, got, dw, dh, &err), 0);
        expect_same_u8(got, want, dw, dh, 3, "letterbox");
        free(src);
        free(want);
        free(got);
        free(inner);
    }
}

/*
 * The whole-image entry points (imgproc_resize_cubic_u8, _f32,
 * imgproc_letterbox_u8) cut a large output into row bands on OpenCV's
 * threads: the same bytes as cv::resize on one thread, on all cores and
 * on more threads than cores (more bands in flight at once).
 */
static void test_whole_in_bands(void **state)
{
    (void)state;
    static const int threads[] = {1, 0, 5};
    static const int f32_cases[][4] = {{960, 540, 1920, 1080},
                                       {1920, 1080, 960, 540},
                                       {333, 1001, 700, 1999},
                                       {960, 544, 1280, 725}};
    static const int u8_cases[][5] = {{1920, 1080, 3, 960, 540},
                                      {4032, 3024, 3, 640, 480},
                                      {1000, 900, 1, 1500, 701},
                                      {640, 480, 4, 1280, 963},
                                      {1919, 1081, 2, 700, 1300}};
    hdm_err err = {0};
    for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
        imgproc_set_threads(threads[t]);
        for (size_t i = 0; i < sizeof(f32_cases) / sizeof(f32_cases[0]); i++) {
            const int *c = f32_cases[i];
            size_t sn = (size_t)c[0] * (size_t)c[1], dn = (size_t)c[2] * (size_t)c[3];
            float *src = malloc(sn * sizeof(float)), *want = malloc(dn * sizeof(float)),
                  *got = malloc(dn * sizeof(float));
            assert_true(src && want && got);
            for (size_t k = 0; k < sn; k++)
                src[k] = rng_pixel_f32();
            assert_int_equal(
                imgproc_cv_resize_cubic_f32(src, c[0], c[1], 0, want, c[2], c[3], 0, &err), 0);
            memset(got, 0xa5, dn * sizeof(float));
            assert_int_equal(imgproc_resize_cubic_f32(src, c[0], c[1], 0, got, c[2], c[3], 0, &err),
                             0);
            expect_same_f32(got, want, c[2], c[3], "f32 whole, in bands");
            free(src);
            free(want);
            free(got);
        }
        for (size_t i = 0; i < sizeof(u8_cases) / sizeof(u8_cases[0]); i++) {
            const int *c = u8_cases[i];
            size_t sn = (size_t)c[0] * (size_t)c[1] * (size_t)c[2];
            size_t dn = (size_t)c[3] * (size_t)c[4] * (size_t)c[2];
            uint8_t *src = malloc(sn), *want = malloc(dn), *got = malloc(dn);
            assert_true(src && want && got);
            for (size_t k = 0; k < sn; k++)
                src[k] = rng_pixel_u8((int)(i % 3));
            assert_int_equal(
                imgproc_cv_resize_cubic_u8(src, c[0], c[1], 0, c[2], want, c[3], c[4], 0, &err), 0);
            memset(got, 0xa5, dn);
            assert_int_equal(
                imgproc_resize_cubic_u8(src, c[0], c[1], 0, c[2], got, c[3], c[4], 0, &err), 0);
            expect_same_u8(got, want, c[3], c[4], c[2], "u8 whole, in bands");
            free(src);
            free(want);
            free(got);
        }
    }
    imgproc_set_threads(0);
}

static void test_u8_arguments(void **state)
{
    (void)state;
    uint8_t src[6 * 4] = {0}, dst[16 * 4];
    hdm_err err = {0};
    assert_int_equal(imgproc_cubic_u8_rows(src, 3, 2, 0, 5, dst, 4, 4, 0, 0, 4, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "5 channels"));
    assert_int_equal(imgproc_cubic_u8_rows(src, 3, 2, 0, 4, dst, 4, 4, 0, 1, 5, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(imgproc_cubic_u8_rows(src, 3, 2, 0, 4, dst, 4, 4, 15, 0, 4, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "stride 15"));
    assert_int_equal(imgproc_resize_cubic_u8(src, 3, 2, 0, 4, dst, 4, 0, 0, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(imgproc_resize_cubic_f32((const float *)(const void *)src, 3, 2, 0,
                                              (float *)(void *)dst, 4, 0, 0, &err),
                     -HDM_E_BAD_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f32_random_sizes),   cmocka_unit_test(test_f32_edges),
        cmocka_unit_test(test_f32_signed_zeros),   cmocka_unit_test(test_f32_regular_taps),
        cmocka_unit_test(test_f32_service_shapes), cmocka_unit_test(test_f32_arguments),
        cmocka_unit_test(test_f32_strides),        cmocka_unit_test(test_u8_random_sizes),
        cmocka_unit_test(test_u8_edges),           cmocka_unit_test(test_u8_service_shapes),
        cmocka_unit_test(test_letterbox),          cmocka_unit_test(test_u8_arguments),
        cmocka_unit_test(test_whole_in_bands),     cmocka_unit_test(test_u8_baseline_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
