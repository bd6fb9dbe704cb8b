/*
 * test_depthpost_png.c - depth_image and depth_png_16: the normalisation
 * done row by row, colours from the table, truncation to uint16,
 * saturation where numpy's cast is undefined, NaN.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <png.h>

#include "depth_test_util.h"
#include "depthpost/depthpost.h"

static void test_color(void **state)
{
    (void)state;
    int h = 9, w = 13;
    float m[9 * 13];
    for (int i = 0; i < h * w; i++)
        m[i] = -4.0f + (float)((i * 37) % 101) * 0.05f;
    float saved[9 * 13];
    memcpy(saved, m, sizeof(m));
    const depthpost_colormap *cm = depthpost_colormap_find("turbo");
    buf out = {0};
    assert_int_equal(depthpost_png_color(m, h, w, cm, -1, &out, NULL), 0);
    assert_memory_equal(m, saved, sizeof(m)); /* the map is not touched */
    test_png p = test_png_read(out.data, out.len);
    assert_int_equal(p.width, w);
    assert_int_equal(p.height, h);
    assert_int_equal(p.color_type, PNG_COLOR_TYPE_RGB);
    assert_int_equal(p.bit_depth, 8);
    /* Expected: normalise a copy, colour it. */
    depthpost_normalize(saved, (size_t)h * w);
    uint8_t want[9 * 13 * 3];
    depthpost_colormap_apply(cm, saved, (size_t)h * w, want);
    for (int i = 0; i < h * w * 3; i++)
        assert_int_equal(p.samples[i], want[i]);
    test_png_free(&p);
    buf_free(&out);
}

static void test_color_constant_and_nan(void **state)
{
    (void)state;
    const depthpost_colormap *cm = depthpost_colormap_find("viridis");
    uint8_t top[3], bottom[3], mid[3];
    float one = 1.0f, zero = 0.0f, half = 0.5f;
    depthpost_colormap_apply(cm, &one, 1, top);
    depthpost_colormap_apply(cm, &zero, 1, bottom);
    depthpost_colormap_apply(cm, &half, 1, mid);
    struct {
        float v;
        const uint8_t *want;
    } cases[] = {{3.0f, top}, {-2.5f, bottom}, {0.5f, mid}};
    for (size_t c = 0; c < 3; c++) {
        /* A constant map is not normalised: its value is coloured as is. */
        float m[6];
        for (int i = 0; i < 6; i++)
            m[i] = cases[c].v;
        buf out = {0};
        assert_int_equal(depthpost_png_color(m, 2, 3, cm, 9, &out, NULL), 0);
        test_png p = test_png_read(out.data, out.len);
        for (int i = 0; i < 6; i++)
            for (int k = 0; k < 3; k++)
                assert_int_equal(p.samples[i * 3 + k], cases[c].want[k]);
        test_png_free(&p);
        buf_free(&out);
    }
    /* NaN anywhere: min/max are NaN, nothing is normalised, NaN is black. */
    float m[4] = {0.25f, NAN, 0.5f, 2.0f};
    buf out = {0};
    assert_int_equal(depthpost_png_color(m, 2, 2, cm, 1, &out, NULL), 0);
    test_png p = test_png_read(out.data, out.len);
    assert_int_equal(p.samples[3] + p.samples[4] + p.samples[5], 0);
    for (int k = 0; k < 3; k++)
        assert_int_equal(p.samples[9 + k], top[k]);
    test_png_free(&p);
    buf_free(&out);
}

static void test_png16(void **state)
{
    (void)state;
    float m[6] = {-1.0f, 0.0f, 1.0f, 2.0f, 0.3f, -0.6f};
    buf out = {0};
    assert_int_equal(depthpost_png16(m, 2, 3, 6, &out, NULL), 0);
    test_png p = test_png_read(out.data, out.len);
    assert_int_equal(p.bit_depth, 16);
    assert_int_equal(p.color_type, PNG_COLOR_TYPE_GRAY);
    for (int i = 0; i < 6; i++) {
        float n = (m[i] - -1.0f) / (2.0f - -1.0f);
        assert_int_equal(p.samples[i], (uint16_t)(n * 65535.0f));
    }
    assert_int_equal(p.samples[0], 0);
    assert_int_equal(p.samples[3], 65535);
    test_png_free(&p);
    buf_free(&out);

    /* Constant maps stay as they are: 0.25 is in range, 3 and -2 saturate. */
    float c[3][2] = {{0.25f, 0.25f}, {3.0f, 3.0f}, {-2.0f, -2.0f}};
    uint16_t want[3] = {(uint16_t)(0.25f * 65535.0f), 65535, 0};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(depthpost_png16(c[k], 1, 2, 1, &out, NULL), 0);
        p = test_png_read(out.data, out.len);
        assert_int_equal(p.samples[0], want[k]);
        assert_int_equal(p.samples[1], want[k]);
        test_png_free(&p);
        buf_free(&out);
    }
    float n[2] = {NAN, 0.5f};
    assert_int_equal(depthpost_png16(n, 1, 2, 1, &out, NULL), 0);
    p = test_png_read(out.data, out.len);
    assert_int_equal(p.samples[0], 0);
    assert_int_equal(p.samples[1], (uint16_t)(0.5f * 65535.0f));
    test_png_free(&p);
    buf_free(&out);
}

static void test_errors(void **state)
{
    (void)state;
    float m[4] = {0};
    buf out = {0};
    hdm_err err = {0};
    assert_int_equal(depthpost_png_color(m, 2, 2, NULL, 6, &out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(depthpost_png_color(m, 0, 2, depthpost_colormap_find("jet"), 6, &out, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(depthpost_png16(m, 2, -1, 6, &out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(depthpost_png16(m, 2, 2, 12, &out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(out.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_color),
        cmocka_unit_test(test_color_constant_and_nan),
        cmocka_unit_test(test_png16),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
