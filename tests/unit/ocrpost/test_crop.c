/*
 * test_crop.c - recognition crops (ocrpost/crop.h): rectangles come out as
 * the image's pixels, boxes on the right and bottom edges still get a crop
 * (the original lost them), flat crops keep a 1-pixel side, degenerate
 * boxes follow cv2, bad boxes are errors.  (test_golden.c compares every
 * crop with the Python.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ocrpost/crop.h"

#define W 100
#define H 60

static uint8_t *gradient(void)
{
    uint8_t *img = malloc(W * H * 3);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++)
                img[(y * W + x) * 3 + c] = (uint8_t)(x * 2 + y * 3 + c * 50);
    return img;
}

static ocr_box make_box(int x0, int y0, int x1, int y1)
{
    ocr_box b = {.quad = {x0, y0, x1, y0, x1, y1, x0, y1}};
    ocr_db_bounding_rect(b.quad, &b.x, &b.y, &b.w, &b.h);
    return b;
}

static void check_is_subimage(const uint8_t *img, const uint8_t *crop, int x0, int y0, int cw,
                              int ch)
{
    for (int y = 0; y < ch; y++)
        assert_memory_equal(crop + (size_t)y * cw * 3, img + ((size_t)(y0 + y) * W + x0) * 3,
                            (size_t)cw * 3);
}

static void test_rectangle(void **state)
{
    (void)state;
    hdm_err err = {0};
    uint8_t *img = gradient(), *crop = NULL;
    int cw, ch;
    ocr_box b = make_box(10, 5, 50, 25);
    assert_int_equal(ocr_crop_rectify(img, W, H, 0, &b, &crop, &cw, &ch, &err), 0);
    assert_int_equal(cw, 40);
    assert_int_equal(ch, 20);
    check_is_subimage(img, crop, 10, 5, cw, ch);
    free(crop);
    free(img);
}

static void test_edges(void **state)
{
    (void)state;
    hdm_err err = {0};
    uint8_t *img = gradient(), *crop = NULL;
    int cw, ch;
    /* Clipped to W and H: x + w = W + 1, the case the original dropped. */
    ocr_box b = make_box(60, 40, W, H);
    assert_int_equal(b.x + b.w, W + 1);
    assert_int_equal(ocr_crop_rectify(img, W, H, 0, &b, &crop, &cw, &ch, &err), 0);
    assert_int_equal(cw, 40);
    assert_int_equal(ch, 20);
    check_is_subimage(img, crop, 60, 40, cw, ch);
    free(crop);
    /* Lying on the right edge itself: a black crop, not an error. */
    b = make_box(W, 10, W, 30);
    assert_int_equal(ocr_crop_rectify(img, W, H, 0, &b, &crop, &cw, &ch, &err), 0);
    for (int i = 0; i < cw * ch * 3; i++)
        assert_int_equal(crop[i], 0);
    free(crop);
    /* A row stride: the same crop from wider rows. */
    uint8_t *wide = malloc((W * 3 + 9) * H);
    for (int y = 0; y < H; y++)
        memcpy(wide + (size_t)y * (W * 3 + 9), img + (size_t)y * W * 3, W * 3);
    b = make_box(60, 40, W, H);
    assert_int_equal(ocr_crop_rectify(wide, W, H, W * 3 + 9, &b, &crop, &cw, &ch, &err), 0);
    check_is_subimage(img, crop, 60, 40, cw, ch);
    free(crop);
    free(wide);
    free(img);
}

static void test_rotated_and_degenerate(void **state)
{
    (void)state;
    hdm_err err = {0};
    uint8_t *img = gradient(), *crop = NULL;
    int cw, ch;
    ocr_box b = {.quad = {20, 10, 60, 20, 55, 40, 15, 30}};
    ocr_db_bounding_rect(b.quad, &b.x, &b.y, &b.w, &b.h);
    assert_int_equal(ocr_crop_rectify(img, W, H, 0, &b, &crop, &cw, &ch, &err), 0);
    assert_int_equal(cw, 41); /* int(sqrt(40^2 + 10^2)) */
    assert_int_equal(ch, 20); /* int(sqrt(5^2 + 20^2)) */
    free(crop);
    /* All four corners in one place: cv2 warps to the bounding size (1x1). */
    b = make_box(30, 30, 30, 30);
    assert_int_equal(ocr_crop_rectify(img, W, H, 0, &b, &crop, &cw, &ch, &err), 0);
    assert_int_equal(cw, 1);
    assert_int_equal(ch, 1);
    free(crop);
    b.x = W + 1;
    assert_int_equal(ocr_crop_rectify(img, W, H, 0, &b, &crop, &cw, &ch, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(ocr_crop_rectify(NULL, W, H, 0, &b, &crop, &cw, &ch, &err),
                     -HDM_E_BAD_REQUEST);
    free(img);
}

static void test_letterbox(void **state)
{
    (void)state;
    hdm_err err = {0};
    uint8_t *out = malloc(OCR_REC_INPUT_BYTES);
    /* 1000 x 2: the height scales to int(0.64) = 0, kept at one row (row 23). */
    uint8_t *flat = malloc(1000 * 2 * 3);
    memset(flat, 10, 1000 * 2 * 3);
    assert_int_equal(ocr_crop_letterbox(flat, 1000, 2, out, &err), 0);
    for (int y = 0; y < OCR_REC_HEIGHT; y++)
        for (int x = 0; x < OCR_REC_WIDTH * 3; x++)
            assert_int_equal(out[y * OCR_REC_WIDTH * 3 + x], y == 23 ? 10 : OCR_REC_PAD);
    /* 2 x 1000: the width kept at one column (column 159). */
    assert_int_equal(ocr_crop_letterbox(flat, 2, 1000, out, &err), 0);
    for (int y = 0; y < OCR_REC_HEIGHT; y++)
        for (int x = 0; x < OCR_REC_WIDTH; x++)
            assert_int_equal(out[(y * OCR_REC_WIDTH + x) * 3], x == 159 ? 10 : OCR_REC_PAD);
    free(flat);

    /* A crop of the right shape fills the input without padding. */
    uint8_t *img = gradient();
    ocr_box b = make_box(0, 0, 60, 9); /* 60 x 9 -> scale 5.33 = 320 x 48 */
    assert_int_equal(ocr_crop_rec_input(img, W, H, 0, &b, out, &err), 0);
    int pad = 0;
    for (size_t i = 0; i < OCR_REC_INPUT_BYTES; i++)
        pad += out[i] == OCR_REC_PAD;
    assert_true(pad < (int)OCR_REC_INPUT_BYTES / 50);
    assert_int_equal(ocr_crop_rec_input(img, W, H, 0, &b, NULL, &err), -HDM_E_BAD_REQUEST);
    free(img);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rectangle),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_rotated_and_degenerate),
        cmocka_unit_test(test_letterbox),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
