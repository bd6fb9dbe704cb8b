/*
 * test_det.c - detection pre- and post-processing (ocrpost/det.h):
 * letterbox placement and padding, the map back at the image's size, the
 * one-call path, thin images and bad arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ocrpost/det.h"

#define MW 96
#define MH 64

static void test_prepare(void **state)
{
    (void)state;
    hdm_err err = {0};
    /* 200 x 100 into 96 x 64: scale 0.48, 96 x 48 at y 8. */
    uint8_t *img = malloc(200 * 100 * 3), *out = malloc(MW * MH * 3);
    memset(img, 30, 200 * 100 * 3);
    imgproc_letterbox g;
    assert_int_equal(ocr_det_prepare(img, 200, 100, 0, MW, MH, out, &g, &err), 0);
    assert_true(g.scale == 0.48);
    assert_int_equal(g.new_w, 96);
    assert_int_equal(g.new_h, 48);
    assert_int_equal(g.x_off, 0);
    assert_int_equal(g.y_off, 8);
    for (int y = 0; y < MH; y++)
        for (int x = 0; x < MW * 3; x++)
            assert_int_equal(out[y * MW * 3 + x], (y < 8 || y >= 56) ? OCR_DET_PAD : 30);
    assert_int_equal(ocr_det_prepare(img, 200, 100, 0, MW, MH, out, NULL, &err), 0);
    /* 2000 x 1: a 0-pixel-high image in the letterbox. */
    uint8_t *thin = calloc(2000 * 3, 1);
    assert_int_equal(ocr_det_prepare(thin, 2000, 1, 0, MW, MH, out, &g, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "2000x1"));
    free(thin);
    free(img);
    free(out);
}

static void test_heatmap(void **state)
{
    (void)state;
    hdm_err err = {0};
    float *heat = malloc(MW * MH * sizeof(float)), *heat2 = malloc(MW * MH * 2 * sizeof(float));
    for (int i = 0; i < MW * MH; i++) {
        heat[i] = (float)((i * 37) % 101) / 100.0f;
        heat2[2 * i] = heat[i];
        heat2[2 * i + 1] = -5.0f;
    }
    float *a = malloc(200 * 100 * sizeof(float)), *b = malloc(200 * 100 * sizeof(float));
    assert_int_equal(ocr_det_heatmap_to_image(heat, MW, MH, 1, 200, 100, a, &err), 0);
    assert_int_equal(ocr_det_heatmap_to_image(heat2, MW, MH, 2, 200, 100, b, &err), 0);
    assert_memory_equal(a, b, 200 * 100 * sizeof(float));
    /* The crop it resizes is rows 8..55: a map that differs only in the
     * padding gives the same result. */
    for (int x = 0; x < MW; x++)
        heat[x] = heat[(MH - 1) * MW + x] = 1.0f;
    assert_int_equal(ocr_det_heatmap_to_image(heat, MW, MH, 1, 200, 100, b, &err), 0);
    assert_memory_equal(a, b, 200 * 100 * sizeof(float));
    assert_int_equal(ocr_det_heatmap_to_image(heat, MW, MH, 0, 200, 100, b, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(ocr_det_heatmap_to_image(NULL, MW, MH, 1, 200, 100, b, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(ocr_det_heatmap_to_image(heat, MW, MH, 1, 2000, 1, b, &err),
                     -HDM_E_BAD_REQUEST);
    free(heat);
    free(heat2);
    free(a);
    free(b);
}

static void test_boxes(void **state)
{
    (void)state;
    hdm_err err = {0};
    /* Two text kernels in the letterboxed part of the map (200 x 100 image,
     * scale 0.48, y offset 8): they come back in image pixels, read in
     * reading order (the lower-left one is second). */
    float *heat = calloc(MW * MH, sizeof(float));
    for (int y = 20; y < 26; y++)
        for (int x = 50; x < 90; x++)
            heat[y * MW + x] = 0.9f;
    for (int y = 40; y < 46; y++)
        for (int x = 5; x < 45; x++)
            heat[y * MW + x] = 0.9f;
    ocr_boxes boxes;
    assert_int_equal(ocr_det_boxes(heat, MW, MH, 1, 200, 100, NULL, &boxes, &err), 0);
    assert_int_equal(boxes.count, 2);
    const ocr_box *top = &boxes.items[0], *low = &boxes.items[1];
    /* map x 50..89 -> image x 104..186, map y 20..25 -> image y 25..37 (before unclip). */
    assert_in_range(top->x, 90, 104);
    assert_in_range(top->x + top->w, 186, 200);
    assert_in_range(top->y, 15, 25);
    assert_in_range(low->x, 0, 10);
    assert_true(low->y > top->y);
    ocr_boxes_free(&boxes);

    ocr_db_params p;
    ocr_db_params_default(&p);
    p.box_thresh = 0.95;
    assert_int_equal(ocr_det_boxes(heat, MW, MH, 1, 200, 100, &p, &boxes, &err), 0);
    assert_int_equal(boxes.count, 0);
    ocr_boxes_free(&boxes);
    assert_int_equal(ocr_det_boxes(heat, MW, MH, 1, 0, 100, NULL, &boxes, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(ocr_det_boxes(heat, MW, MH, 1, 200, 100, NULL, NULL, &err),
                     -HDM_E_BAD_REQUEST);
    free(heat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepare),
        cmocka_unit_test(test_heatmap),
        cmocka_unit_test(test_boxes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
