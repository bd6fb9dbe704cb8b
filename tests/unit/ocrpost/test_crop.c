/*
 * test_crop.c - recognition crops (ocrpost/crop.h): rectangles come out as
 * the image's pixels, boxes on the right and bottom edges still get a crop
 * (the original lost them), flat crops keep a 1-pixel side, degenerate
 * boxes follow cv2, bad boxes are errors.  (test_golden.c compares every
 * crop with the Python.)
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "image/imgproc.h"
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
    assert_int_equal(ocr_crop_rectify(img, W, H, 0, &b, &crop, &cw, &ch, &err), -HDM_E_BAD_REQUEST);
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

/* The original's steps one by one (get_cropped_text_images and
 * warp_to_rectangle through the same OpenCV calls), for comparison. */
static void reference_rectify(const uint8_t *img, const ocr_box *b, uint8_t **out, int *ow, int *oh)
{
    hdm_err err = {0};
    uint8_t *crop = calloc((size_t)b->w * b->h, 3), *mask = calloc((size_t)b->w * b->h, 1);
    for (int y = 0; y < b->h && b->y + y < H; y++)
        for (int x = 0; x < b->w && b->x + x < W; x++)
            memcpy(crop + ((size_t)y * b->w + x) * 3, img + ((size_t)(b->y + y) * W + b->x + x) * 3,
                   3);
    int32_t local[8];
    float poly[8];
    for (int i = 0; i < 4; i++) {
        local[2 * i] = b->quad[2 * i] - b->x;
        local[2 * i + 1] = b->quad[2 * i + 1] - b->y;
        poly[2 * i] = (float)local[2 * i];
        poly[2 * i + 1] = (float)local[2 * i + 1];
    }
    assert_int_equal(imgproc_fill_poly_u8(mask, b->w, b->h, 0, local, 4, 255, &err), 0);
    for (int i = 0; i < b->w * b->h; i++)
        if (!mask[i])
            memset(crop + 3 * i, 0, 3);
    int w = (int)sqrtf((poly[2] - poly[0]) * (poly[2] - poly[0]) +
                       (poly[3] - poly[1]) * (poly[3] - poly[1]));
    int h = (int)sqrtf((poly[6] - poly[0]) * (poly[6] - poly[0]) +
                       (poly[7] - poly[1]) * (poly[7] - poly[1]));
    const float dst[8] = {0, 0, (float)w, 0, (float)w, (float)h, 0, (float)h};
    double m[9];
    assert_int_equal(imgproc_perspective_transform(poly, dst, m, &err), 0);
    *out = malloc((size_t)w * h * 3);
    assert_int_equal(imgproc_warp_perspective_u8(crop, b->w, b->h, 0, 3, m, *out, w, h, &err), 0);
    *ow = w;
    *oh = h;
    free(crop);
    free(mask);
}

/* Upright boxes are taken straight from the image: byte for byte what
 * the mask-and-warp path gives, including boxes clipped to the edges. */
static void test_upright_is_exact(void **state)
{
    (void)state;
    hdm_err err = {0};
    uint8_t *img = malloc(W * H * 3);
    uint32_t rng = 12345;
    for (int i = 0; i < W * H * 3; i++) {
        rng = rng * 1103515245u + 12345u;
        img[i] = (uint8_t)(rng >> 16);
    }
    for (int k = 0; k < 300; k++) {
        rng = rng * 1103515245u + 12345u;
        int x0 = (int)(rng >> 8) % W, y0 = (int)(rng >> 20) % H;
        rng = rng * 1103515245u + 12345u;
        int x1 = x0 + 1 + (int)(rng >> 8) % 60, y1 = y0 + 1 + (int)(rng >> 20) % 20;
        x1 = x1 > W ? W : x1; /* DB clips to W and H, one past the last pixel */
        y1 = y1 > H ? H : y1;
        if (x1 <= x0 || y1 <= y0)
            continue;
        ocr_box b = make_box(x0, y0, x1, y1);
        uint8_t *got = NULL, *want = NULL;
        int gw, gh, ww, wh;
        assert_int_equal(ocr_crop_rectify(img, W, H, 0, &b, &got, &gw, &gh, &err), 0);
        reference_rectify(img, &b, &want, &ww, &wh);
        assert_int_equal(gw, ww);
        assert_int_equal(gh, wh);
        assert_memory_equal(got, want, (size_t)gw * gh * 3);
        /* And the recognition input equals the letterbox of that crop. */
        uint8_t *a = malloc(OCR_REC_INPUT_BYTES), *c = malloc(OCR_REC_INPUT_BYTES);
        assert_int_equal(ocr_crop_rec_input(img, W, H, 0, &b, a, &err), 0);
        assert_int_equal(ocr_crop_letterbox(want, ww, wh, c, &err), 0);
        assert_memory_equal(a, c, OCR_REC_INPUT_BYTES);
        free(a);
        free(c);
        free(got);
        free(want);
    }
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rectangle),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_rotated_and_degenerate),
        cmocka_unit_test(test_letterbox),
        cmocka_unit_test(test_upright_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
