/*
 * test_batch.c - recognition batches (ocrpost/batch.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ocrpost/batch.h"
#include "ocrpost/crop.h"

#define W 200
#define H 120
#define N 10

static void test_count(void **state)
{
    (void)state;
    assert_int_equal(ocr_batch_count(0, 8), 0);
    assert_int_equal(ocr_batch_count(1, 8), 1);
    assert_int_equal(ocr_batch_count(8, 8), 1);
    assert_int_equal(ocr_batch_count(9, 8), 2);
    assert_int_equal(ocr_batch_count(16, 8), 2);
    assert_int_equal(ocr_batch_count(5, 0), 0);
    assert_int_equal(ocr_batch_count(1000, 1), 1000);
}

static void test_fill(void **state)
{
    (void)state;
    hdm_err err = {0};
    uint8_t *img = malloc(W * H * 3);
    for (size_t i = 0; i < W * H * 3; i++)
        img[i] = (uint8_t)(i * 7 + i / 601);
    ocr_box boxes[N];
    for (int i = 0; i < N; i++) {
        ocr_box b = {.quad = {i * 15, i * 9, i * 15 + 30, i * 9, i * 15 + 30, i * 9 + 12, i * 15,
                              i * 9 + 12}};
        ocr_db_bounding_rect(b.quad, &b.x, &b.y, &b.w, &b.h);
        boxes[i] = b;
    }
    uint8_t *batch = malloc(8 * OCR_REC_INPUT_BYTES), *one = malloc(OCR_REC_INPUT_BYTES);
    size_t count = 0;
    assert_int_equal(ocr_batch_fill(img, W, H, 0, boxes, N, 0, 8, true, batch, &count, &err), 0);
    assert_int_equal(count, 8);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(ocr_crop_rec_input(img, W, H, 0, &boxes[i], one, &err), 0);
        assert_memory_equal(batch + i * OCR_REC_INPUT_BYTES, one, OCR_REC_INPUT_BYTES);
    }
    /* The last batch: two inputs, then zero images with `pad`... */
    memset(batch, 0xab, 8 * OCR_REC_INPUT_BYTES);
    assert_int_equal(ocr_batch_fill(img, W, H, 0, boxes, N, 1, 8, true, batch, &count, &err), 0);
    assert_int_equal(count, 2);
    assert_int_equal(ocr_crop_rec_input(img, W, H, 0, &boxes[9], one, &err), 0);
    assert_memory_equal(batch + OCR_REC_INPUT_BYTES, one, OCR_REC_INPUT_BYTES);
    for (size_t i = 2 * OCR_REC_INPUT_BYTES; i < 8 * OCR_REC_INPUT_BYTES; i++)
        assert_int_equal(batch[i], 0);
    /* ...and the rest untouched without. */
    memset(batch, 0xab, 8 * OCR_REC_INPUT_BYTES);
    assert_int_equal(ocr_batch_fill(img, W, H, 0, boxes, N, 1, 8, false, batch, &count, &err), 0);
    assert_int_equal(batch[2 * OCR_REC_INPUT_BYTES], 0xab);

    assert_int_equal(ocr_batch_fill(img, W, H, 0, boxes, N, 2, 8, true, batch, &count, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "2 batches"));
    assert_int_equal(ocr_batch_fill(img, W, H, 0, boxes, N, 0, 0, true, batch, &count, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(ocr_batch_fill(img, W, H, 0, boxes, 0, 0, 8, true, batch, &count, &err),
                     -HDM_E_BAD_REQUEST);
    /* A bad box: the error names the region. */
    boxes[3].x = W + 5;
    assert_int_equal(ocr_batch_fill(img, W, H, 0, boxes, N, 0, 8, true, batch, &count, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "text region 3"));
    free(batch);
    free(one);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_fill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
