/*
 * test_db.c - DB post-processing (ocrpost/db.h) step by step: the values
 * are what hailo-apps' DBPostProcess (get_mini_boxes, box_score_fast,
 * boxes_from_bitmap) gave for the same inputs.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ocrpost/db.h"

#define MW 100
#define MH 60

static float *test_map(void)
{
    float *m = calloc(MW * MH, sizeof(float));
    for (int y = 20; y < 30; y++)
        for (int x = 20; x < 60; x++)
            m[y * MW + x] = 0.9f;
    for (int y = 40; y < 44; y++)
        for (int x = 70; x < 90; x++)
            m[y * MW + x] = 0.8f;
    for (int y = 5; y < 7; y++) /* too small: dropped by min_size */
        for (int x = 5; x < 9; x++)
            m[y * MW + x] = 1.0f;
    return m;
}

static void test_defaults(void **state)
{
    (void)state;
    ocr_db_params p;
    ocr_db_params_default(&p);
    assert_true(p.thresh == 0.3f && p.box_thresh == 0.6 && p.unclip_ratio == 1.5);
    assert_int_equal(p.max_candidates, 1000);
    assert_int_equal(p.min_size, 3);
}

static void test_mini_box(void **state)
{
    (void)state;
    hdm_err err = {0};
    const int32_t contour[8] = {19, 35, 23, 24, 80, 44, 76, 55};
    const float want[8] = {
        22.87503433227539f,  23.956153869628906f, 80.0f, 44.0f, 76.12496948242188f,
        55.043846130371094f, 19.000003814697266f, 35.0f};
    float box[8];
    double sside;
    assert_int_equal(ocr_db_mini_box(contour, 4, box, &sside, &err), 0);
    for (int i = 0; i < 8; i++)
        assert_true(box[i] == want[i]);
    assert_true(sside == (double)11.703949928283691f);

    /* An axis-aligned rectangle: top-left, top-right, bottom-right, bottom-left. */
    const int32_t rect[8] = {5, 2, 5, 9, 20, 9, 20, 2};
    assert_int_equal(ocr_db_mini_box(rect, 4, box, &sside, &err), 0);
    const float want_rect[8] = {5, 2, 20, 2, 20, 9, 5, 9};
    assert_memory_equal(box, want_rect, sizeof(box));
    assert_true(sside == 7.0);
}

static void test_box_score(void **state)
{
    (void)state;
    hdm_err err = {0};
    float *m = test_map();
    const float box[8] = {18.5f, 19.0f, 61.2f, 19.5f, 60.8f, 31.0f, 18.1f, 30.4f};
    double score;
    assert_int_equal(ocr_db_box_score(m, MW, MH, 0, box, &score, &err), 0);
    assert_true(score == 0.6629834078513017);
    /* Partly outside the map: clipped like the original. */
    const float edge[8] = {-2.5f, -1.0f, 15.0f, -1.0f, 15.0f, 8.0f, -2.5f, 8.0f};
    assert_int_equal(ocr_db_box_score(m, MW, MH, 0, edge, &score, &err), 0);
    assert_true(score == 0.05555555555555555);
    /* Entirely outside: the last row/column, not a crash. */
    const float far[8] = {500, 500, 600, 500, 600, 600, 500, 600};
    if (ocr_db_box_score(m, MW, MH, 0, far, &score, &err) != 0)
        fail_msg("%s", err.msg);
    assert_true(score == 0.0);
    const float nan_box[8] = {NAN, 0, 1, 0, 1, 1, 0, 1};
    assert_int_equal(ocr_db_box_score(m, MW, MH, 0, nan_box, &score, &err), -HDM_E_BAD_REQUEST);
    free(m);
}

static void test_boxes(void **state)
{
    (void)state;
    hdm_err err = {0};
    float *m = test_map();
    ocr_db_params p;
    ocr_boxes out;
    ocr_db_params_default(&p);
    assert_int_equal(ocr_db_boxes(m, MW, MH, 0, &p, &out, &err), 0);
    assert_int_equal(out.count, 2);
    const int32_t want0[8] = {68, 38, 91, 38, 91, 45, 68, 45};
    const int32_t want1[8] = {15, 15, 64, 15, 64, 34, 15, 34};
    assert_memory_equal(out.items[0].quad, want0, sizeof(want0));
    assert_memory_equal(out.items[1].quad, want1, sizeof(want1));
    assert_true(out.items[0].score == (double)0.8f);
    assert_true(out.items[1].score == (double)0.9f);
    assert_int_equal(out.items[1].x, 15);
    assert_int_equal(out.items[1].y, 15);
    assert_int_equal(out.items[1].w, 50);
    assert_int_equal(out.items[1].h, 20);
    assert_int_equal(out.items[0].db_index, 0);
    assert_int_equal(out.items[1].db_index, 1);
    ocr_boxes_free(&out);

    /* The same map inside wider rows (a row stride in bytes). */
    float *wide = calloc(MH * (MW + 7), sizeof(float));
    for (int y = 0; y < MH; y++)
        memcpy(wide + y * (MW + 7), m + y * MW, MW * sizeof(float));
    assert_int_equal(ocr_db_boxes(wide, MW, MH, (MW + 7) * sizeof(float), &p, &out, &err), 0);
    assert_int_equal(out.count, 2);
    assert_memory_equal(out.items[1].quad, want1, sizeof(want1));
    ocr_boxes_free(&out);
    free(wide);

    /* max_candidates: only the first contour is looked at. */
    p.max_candidates = 1;
    assert_int_equal(ocr_db_boxes(m, MW, MH, 0, &p, &out, &err), 0);
    assert_true(out.count <= 1);
    ocr_boxes_free(&out);

    /* A stricter box threshold drops the 0.8 box. */
    ocr_db_params_default(&p);
    p.box_thresh = 0.85;
    assert_int_equal(ocr_db_boxes(m, MW, MH, 0, &p, &out, &err), 0);
    assert_int_equal(out.count, 1);
    assert_memory_equal(out.items[0].quad, want1, sizeof(want1));
    ocr_boxes_free(&out);
    free(m);
}

static void test_edge_clip(void **state)
{
    (void)state;
    hdm_err err = {0};
    /* Text against the right and bottom edges: corners clip to W and H,
     * one past the last pixel, as the original does. */
    float *m = calloc(MW * MH, sizeof(float));
    for (int y = 45; y < MH; y++)
        for (int x = 60; x < MW; x++)
            m[y * MW + x] = 0.95f;
    ocr_db_params p;
    ocr_boxes out;
    ocr_db_params_default(&p);
    assert_int_equal(ocr_db_boxes(m, MW, MH, 0, &p, &out, &err), 0);
    assert_int_equal(out.count, 1);
    for (int i = 0; i < 4; i++) {
        assert_in_range(out.items[0].quad[2 * i], 0, MW);
        assert_in_range(out.items[0].quad[2 * i + 1], 0, MH);
    }
    assert_int_equal(out.items[0].x + out.items[0].w, MW + 1);
    assert_int_equal(out.items[0].y + out.items[0].h, MH + 1);
    ocr_boxes_free(&out);
    free(m);
}

static void test_hostile_maps(void **state)
{
    (void)state;
    hdm_err err = {0};
    ocr_db_params p;
    ocr_boxes out;
    ocr_db_params_default(&p);
    float *m = malloc(MW * MH * sizeof(float));
    /* NaN and infinities: compared and averaged as Python would, no crash. */
    for (int i = 0; i < MW * MH; i++)
        m[i] = (i % 7 == 0) ? NAN : (i % 11 == 0) ? INFINITY : (i % 13 == 0) ? -INFINITY : 0.5f;
    assert_int_equal(ocr_db_boxes(m, MW, MH, 0, &p, &out, &err), 0);
    ocr_boxes_free(&out);
    /* All text: one box covering the map. */
    for (int i = 0; i < MW * MH; i++)
        m[i] = 1.0f;
    assert_int_equal(ocr_db_boxes(m, MW, MH, 0, &p, &out, &err), 0);
    assert_int_equal(out.count, 1);
    assert_int_equal(out.items[0].x, 0);
    assert_int_equal(out.items[0].w, MW + 1);
    ocr_boxes_free(&out);
    /* 1x1 map. */
    assert_int_equal(ocr_db_boxes(m, 1, 1, 0, &p, &out, &err), 0);
    assert_int_equal(out.count, 0);
    free(m);

    assert_int_equal(ocr_db_boxes(NULL, MW, MH, 0, &p, &out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(out.count, 0);
    float one = 1.0f;
    assert_int_equal(ocr_db_boxes(&one, 0, 1, 0, &p, &out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(ocr_db_boxes(&one, 2, 1, 4, &p, &out, &err), -HDM_E_BAD_REQUEST);
    p.unclip_ratio = NAN;
    assert_int_equal(ocr_db_boxes(&one, 1, 1, 0, &p, &out, &err), -HDM_E_BAD_REQUEST);
    ocr_boxes_free(NULL);
}

static void test_bounding_rect(void **state)
{
    (void)state;
    const int32_t quad[8] = {13, 0, 241, 38, 241, 127, 0, 89};
    int x, y, w, h;
    ocr_db_bounding_rect(quad, &x, &y, &w, &h);
    assert_int_equal(x, 0);
    assert_int_equal(y, 0);
    assert_int_equal(w, 242);
    assert_int_equal(h, 128);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),      cmocka_unit_test(test_mini_box),
        cmocka_unit_test(test_box_score),     cmocka_unit_test(test_boxes),
        cmocka_unit_test(test_edge_clip),     cmocka_unit_test(test_hostile_maps),
        cmocka_unit_test(test_bounding_rect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
