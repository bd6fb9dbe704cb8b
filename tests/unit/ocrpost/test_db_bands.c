/*
 * test_db_bands.c - DB with the map made a band at a time (db.h
 * ocr_db_boxes_rows, ocr_db_box_scores_rows; det.h ocr_det_map): the box
 * scores are bit-identical to ocr_db_box_score (cv::mean) on the whole map
 * for random maps and boxes of every shape and place (inside one band,
 * across bands, clipped by the map's edges), and the boxes of the banded
 * detection equal DB on the whole resized map, box for box and score for
 * score.  The map source counts the rows it was asked for, so the tests
 * also show that no more than a band is made at once.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ocrpost/db.h"
#include "ocrpost/det.h"

/* A whole map handed out band by band, recording the largest request. */
typedef struct source {
    const float *map;
    int w, h;
    int max_rows; /* largest y1 - y0 asked for */
    int calls;
} source;

static int source_rows(void *user, int y0, int y1, float *dst, size_t dst_stride, hdm_err *err)
{
    source *s = user;
    if (y0 < 0 || y1 > s->h || y0 > y1)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "rows %d..%d of %d", y0, y1, s->h);
    __atomic_fetch_add(&s->calls, 1, __ATOMIC_RELAXED);
    int n = y1 - y0, seen = __atomic_load_n(&s->max_rows, __ATOMIC_RELAXED);
    while (n > seen && !__atomic_compare_exchange_n(&s->max_rows, &seen, n, false,
                                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
    for (int y = y0; y < y1; y++)
        memcpy((uint8_t *)dst + (size_t)(y - y0) * dst_stride, s->map + (size_t)y * (size_t)s->w,
               (size_t)s->w * sizeof(float));
    return 0;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static int between(int lo, int hi) { return lo + (int)(next() % (uint32_t)(hi - lo + 1)); }

/* Values with float32 rounding in play: smooth blobs, noise, exact 0.3,
 * negatives and values above 1 (a model's map is not always clean). */
static float *random_map(int w, int h)
{
    float *m = malloc((size_t)w * (size_t)h * sizeof(float));
    assert_non_null(m);
    int kind = between(0, 2);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float v = (float)(next() & 0xffffff) / 16777216.0f;
            if (kind == 1)
                v = 0.5f + 0.5f * sinf((float)x * 0.13f) * cosf((float)y * 0.07f);
            else if (kind == 2 && next() % 7 == 0)
                v = (next() % 2) ? 0.3f : -0.25f + 1.7f * v;
            m[(size_t)y * (size_t)w + (size_t)x] = v;
        }
    return m;
}

/* A box as DB makes them: get_mini_boxes of a few random points, some of
 * them outside the map (clipped), some boxes thin or a single pixel. */
static void random_box(int w, int h, float box[8])
{
    int32_t xy[16];
    int n = between(1, 8);
    int cx = between(-10, w + 10), cy = between(-10, h + 10);
    int rx = between(0, w / 2 + 2), ry = between(0, next() % 4 == 0 ? h : 40);
    for (int i = 0; i < n; i++) {
        xy[2 * i] = cx + between(-rx, rx);
        xy[2 * i + 1] = cy + between(-ry, ry);
    }
    double sside;
    hdm_err err = {0};
    assert_int_equal(ocr_db_mini_box(xy, (size_t)n, box, &sside, &err), 0);
}

static void test_scores_bit_identical(void **state)
{
    (void)state;
    hdm_err err = {0};
    size_t boxes_checked = 0;
    for (int trial = 0; trial < 300; trial++) {
        int w = between(1, 300), h = between(1, trial % 3 == 0 ? 400 : 150);
        float *map = random_map(w, h);
        size_t n = (size_t)between(1, 40);
        float *boxes = malloc(n * 8 * sizeof(float));
        double *scores = malloc(n * sizeof(double));
        float *band = malloc(OCR_DB_BAND_BYTES(w));
        assert_true(boxes && scores && band);
        for (size_t i = 0; i < n; i++)
            random_box(w, h, boxes + 8 * i);
        source src = {map, w, h, 0, 0};
        assert_int_equal(ocr_db_box_scores_rows(source_rows, &src, w, h, boxes, n, band, scores,
                                                &err),
                         0);
        assert_true(src.max_rows <= OCR_DB_BAND_ROWS);
        for (size_t i = 0; i < n; i++) {
            double want;
            assert_int_equal(ocr_db_box_score(map, w, h, 0, boxes + 8 * i, &want, &err), 0);
            if (memcmp(&want, &scores[i], sizeof(want)) != 0)
                fail_msg("trial %d box %zu (%dx%d map): banded %.17g, cv::mean %.17g", trial, i, w,
                         h, scores[i], want);
            boxes_checked++;
        }
        free(map);
        free(boxes);
        free(scores);
        free(band);
    }
    assert_true(boxes_checked > 3000);
}

/* A box that spans the whole of a tall map: every band adds to it, in
 * order; its score is still the same double. */
static void test_score_across_all_bands(void **state)
{
    (void)state;
    hdm_err err = {0};
    int w = 37, h = 5 * OCR_DB_BAND_ROWS + 11;
    float *map = random_map(w, h);
    const float box[8] = {0.4f, 0.2f, 36.6f, 3.1f, 35.9f, (float)h - 0.5f, 1.2f, (float)h - 2.7f};
    float band[OCR_DB_BAND_ROWS * 37];
    double got, want;
    source src = {map, w, h, 0, 0};
    assert_int_equal(ocr_db_box_scores_rows(source_rows, &src, w, h, box, 1, band, &got, &err), 0);
    assert_int_equal(ocr_db_box_score(map, w, h, 0, box, &want, &err), 0);
    assert_memory_equal(&got, &want, sizeof(got));
    assert_true(src.max_rows <= OCR_DB_BAND_ROWS);
    /* Bad arguments are refused, not read. */
    assert_int_equal(ocr_db_box_scores_rows(NULL, &src, w, h, box, 1, band, &got, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(ocr_db_box_scores_rows(source_rows, &src, 0, h, box, 1, band, &got, &err),
                     -HDM_E_BAD_REQUEST);
    free(map);
}

/* Text-like blobs in a model-size map: the banded detection (ocr_det_boxes
 * on ocr_det_map) gives the boxes of DB on the whole resized map, scores
 * and all, and never asks for more than a band of rows. */
static void test_det_banded_equals_whole_map(void **state)
{
    (void)state;
    hdm_err err = {0};
    for (int trial = 0; trial < 25; trial++) {
        int mw = 8 * between(8, 40), mh = 8 * between(8, 40);
        int width = between(20, 700), height = between(20, 500);
        float *heat = calloc((size_t)mw * (size_t)mh, sizeof(float));
        assert_non_null(heat);
        int lines = between(1, 30);
        for (int l = 0; l < lines; l++) {
            int x0 = between(0, mw - 2), y0 = between(0, mh - 2);
            int x1 = x0 + between(1, mw / 2), y1 = y0 + between(1, 6);
            float v = 0.5f + 0.5f * (float)(next() & 0xffffff) / 16777216.0f;
            for (int y = y0; y < y1 && y < mh; y++)
                for (int x = x0; x < x1 && x < mw; x++)
                    heat[(size_t)y * (size_t)mw + (size_t)x] = v;
        }
        ocr_boxes banded = {0}, whole = {0};
        float *pred = malloc((size_t)width * (size_t)height * sizeof(float));
        assert_non_null(pred);
        int rc = ocr_det_heatmap_to_image(heat, mw, mh, 1, width, height, pred, &err);
        if (rc < 0) { /* too thin for this model size: both say so */
            assert_int_equal(ocr_det_boxes(heat, mw, mh, 1, width, height, NULL, &banded, &err),
                             rc);
        } else {
            ocr_db_params p;
            ocr_db_params_default(&p);
            assert_int_equal(ocr_det_boxes(heat, mw, mh, 1, width, height, NULL, &banded, &err),
                             0);
            /* The whole map through a counting source. */
            source src = {pred, width, height, 0, 0};
            uint8_t *bitmap = malloc(OCR_DB_BITMAP_BYTES(width, height));
            float *band = malloc(OCR_DB_BAND_BYTES(width));
            assert_true(bitmap && band);
            assert_int_equal(ocr_db_boxes_rows(source_rows, &src, width, height, &p, bitmap, band,
                                               &whole, &err),
                             0);
            assert_true(src.max_rows <= OCR_DB_BAND_ROWS);
            assert_int_equal(banded.count, whole.count);
            /* ocr_det_boxes sorts into reading order; DB order here. */
            for (size_t i = 0; i < banded.count; i++) {
                const ocr_box *b = &banded.items[i];
                const ocr_box *w = &whole.items[b->db_index];
                assert_memory_equal(b->quad, w->quad, sizeof(b->quad));
                assert_memory_equal(&b->score, &w->score, sizeof(double));
            }
            /* And DB on the whole map in one piece agrees with both. */
            ocr_boxes one = {0};
            assert_int_equal(ocr_db_boxes(pred, width, height, 0, &p, &one, &err), 0);
            assert_int_equal(one.count, whole.count);
            assert_memory_equal(one.items, whole.items, one.count * sizeof(ocr_box));
            ocr_boxes_free(&one);
            free(bitmap);
            free(band);
        }
        ocr_boxes_free(&banded);
        ocr_boxes_free(&whole);
        free(pred);
        free(heat);
    }
}

/* A source that fails: the error comes back with its sentence. */
static int failing_rows(void *user, int y0, int y1, float *dst, size_t dst_stride, hdm_err *err)
{
    (void)user;
    (void)dst;
    (void)dst_stride;
    if (y1 > 70)
        return hdm_err_set(err, HDM_E_INTERNAL, "no rows past 70 (asked %d..%d)", y0, y1);
    for (int y = y0; y < y1; y++)
        memset((uint8_t *)dst + (size_t)(y - y0) * dst_stride, 0, 10 * sizeof(float));
    return 0;
}

static void test_source_failure(void **state)
{
    (void)state;
    hdm_err err = {0};
    ocr_db_params p;
    ocr_db_params_default(&p);
    uint8_t bitmap[OCR_DB_BITMAP_BYTES(10, 100)];
    float band[OCR_DB_BAND_ROWS * 10];
    ocr_boxes out;
    assert_int_equal(ocr_db_boxes_rows(failing_rows, NULL, 10, 100, &p, bitmap, band, &out, &err),
                     -HDM_E_INTERNAL);
    assert_non_null(strstr(err.msg, "no rows past 70"));
    assert_int_equal(out.count, 0);
    assert_int_equal(ocr_db_boxes_rows(failing_rows, NULL, 10, 100, &p, NULL, band, &out, &err),
                     -HDM_E_BAD_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scores_bit_identical),
        cmocka_unit_test(test_score_across_all_bands),
        cmocka_unit_test(test_det_banded_equals_whole_map),
        cmocka_unit_test(test_source_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
