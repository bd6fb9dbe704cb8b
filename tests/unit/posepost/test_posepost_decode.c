/*
 * test_posepost_decode.c - one proposal's decode (DFL, centres, keypoints,
 * sigmoid), the strict score threshold, top-k before NMS, the order of
 * ties across levels, parameter checks, and outputs the original cannot
 * survive (NaN, huge logits).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "posepost/posepost_internal.h"

static const int strides[3] = {32, 16, 8};
static const int channels[3] = {64, 1, 51};

typedef struct model {
    hdm_tensor t[9];
    unsigned char *raw[9]; /* allocations (data may be offset for alignment tests) */
    posepost_heads h;
} model;

static void model_init(model *m, size_t misalign)
{
    for (int i = 0; i < 9; i++) {
        int lv = i / 3, hd = i % 3, g = 640 / strides[lv];
        hdm_tensor *t = &m->t[i];
        memset(t, 0, sizeof(*t));
        t->dtype = HDM_DT_FLOAT32;
        t->ndim = 4;
        t->shape[0] = 1;
        t->shape[1] = g;
        t->shape[2] = g;
        t->shape[3] = channels[hd];
        t->nbytes = (size_t)g * g * channels[hd] * sizeof(float);
        m->raw[i] = calloc(1, t->nbytes + misalign);
        t->data = m->raw[i] + misalign;
    }
    assert_int_equal(posepost_heads_find(m->t, 9, 640, 640, &m->h, NULL), 0);
}

static void model_free(model *m)
{
    for (int i = 0; i < 9; i++)
        free(m->raw[i]);
}

static void put(model *m, int lv, int hd, int gy, int gx, int ch, float v)
{
    int g = 640 / strides[lv];
    unsigned char *p = m->t[lv * 3 + hd].data;
    size_t at = (((size_t)gy * g + gx) * channels[hd] + ch) * sizeof(float);
    memcpy(p + at, &v, sizeof(v));
}

/* A person at (lv, gy, gx): each side's distance is `bin` strides (one-hot
 * DFL with logit `peak`), keypoints at the cell centre, visibility 0. */
static void person(model *m, int lv, int gy, int gx, float score, int bin, float peak)
{
    put(m, lv, 1, gy, gx, 0, score);
    for (int side = 0; side < 4; side++)
        put(m, lv, 0, gy, gx, side * 16 + bin, peak);
    for (int k = 0; k < 17; k++) {
        put(m, lv, 2, gy, gx, k * 3, 0.25f);
        put(m, lv, 2, gy, gx, k * 3 + 1, 0.25f);
    }
}

static posepost_params params(double conf, double iou, int max_det)
{
    return (posepost_params){conf, iou, max_det};
}

static void test_decode_one(void **state)
{
    (void)state;
    model m;
    model_init(&m, 0);
    /* stride 16, cell (gy 7, gx 11): centre (184, 120). */
    person(&m, 1, 7, 11, 0.9f, 3, 20.0f);
    put(&m, 1, 2, 7, 11, 5 * 3, 1.0f);      /* keypoint 5 x: (2 - 0.5) * 16 + cx */
    put(&m, 1, 2, 7, 11, 5 * 3 + 1, -0.5f); /* y: (-1 - 0.5) * 16 + cy */
    put(&m, 1, 2, 7, 11, 5 * 3 + 2, 2.0f);  /* visibility logit */
    posepost_person p;
    assert_int_equal(posepost_decode_one(&m.h, 1, 7 * 40 + 11, &p), 0);
    /* softmax of one 20 among zeros: the other 15 bins weigh 1/(e^20 + 15). */
    double rest = 1.0 / (exp(20.0) + 15.0), d = (3.0 * (1.0 - 15 * rest) + 117 * rest) * 16;
    assert_true(fabs(p.box[0] - (184 - d)) < 1e-4);
    assert_true(fabs(p.box[1] - (120 - d)) < 1e-4);
    assert_true(fabs(p.box[2] - (184 + d)) < 1e-4);
    assert_true(fabs(p.box[3] - (120 + d)) < 1e-4);
    assert_true(p.score == 0.9f);
    assert_true(p.kpt[0][0] == 184.0f && p.kpt[0][1] == 120.0f);
    assert_true(p.kpt[5][0] == 184.0f + 24.0f && p.kpt[5][1] == 120.0f - 24.0f);
    assert_true(p.kpt_conf[0] == 0.5);
    assert_true(fabs(p.kpt_conf[5] - 1.0 / (1.0 + exp(-2.0))) < 1e-15);
    model_free(&m);
}

static void test_huge_logits(void **state)
{
    (void)state;
    /* numpy overflows to NaN past ~88; the shifted softmax stays one-hot. */
    model m;
    model_init(&m, 0);
    person(&m, 0, 3, 4, 0.8f, 2, 100.0f);
    posepost_person p;
    assert_int_equal(posepost_decode_one(&m.h, 0, 3 * 20 + 4, &p), 0);
    assert_true(p.box[0] == 144.0 - 64.0 && p.box[3] == 112.0 + 64.0);
    put(&m, 0, 0, 3, 4, 0, -200.0f); /* all very negative: still a distribution */
    for (int i = 0; i < 64; i++)
        put(&m, 0, 0, 3, 4, i, -200.0f - (float)(i % 16));
    assert_int_equal(posepost_decode_one(&m.h, 0, 3 * 20 + 4, &p), 0);
    assert_true(isfinite(p.box[0]) && p.box[0] < 144.0 && p.box[0] > 144.0 - 32.0);
    model_free(&m);
}

static void test_threshold_topk_order(void **state)
{
    (void)state;
    model m;
    model_init(&m, 3); /* data not 4-byte aligned */
    person(&m, 0, 2, 2, 0.9f, 1, 20.0f);
    person(&m, 1, 20, 20, 0.7f, 1, 20.0f);
    person(&m, 2, 70, 70, 0.8f, 1, 20.0f);
    person(&m, 2, 10, 70, 0.5f, 1, 20.0f);
    posepost_result r;
    posepost_params p = params(0.5, 0.45, 10);
    assert_int_equal(posepost_decode(&m.h, &p, &r, NULL), 0);
    assert_int_equal(r.count, 3); /* 0.5 is not > 0.5 */
    assert_true(r.people[0].score == 0.9f && r.people[1].score == 0.8f &&
                r.people[2].score == 0.7f);
    posepost_result_free(&r);
    p.conf_threshold = 0.4999;
    assert_int_equal(posepost_decode(&m.h, &p, &r, NULL), 0);
    assert_int_equal(r.count, 4);
    posepost_result_free(&r);
    /* Top-k happens before NMS: max_det 2 keeps the two best. */
    p.max_detections = 2;
    assert_int_equal(posepost_decode(&m.h, &p, &r, NULL), 0);
    assert_int_equal(r.count, 2);
    assert_true(r.people[1].score == 0.8f);
    posepost_result_free(&r);
    p.conf_threshold = 1.0;
    assert_int_equal(posepost_decode(&m.h, &p, &r, NULL), 0);
    assert_int_equal(r.count, 0);
    posepost_result_free(&r);
    model_free(&m);
}

static void test_tie_across_levels(void **state)
{
    (void)state;
    /* Equal scores: numpy's argsort keeps proposal order (stride 32 first)
     * below 17 candidates, and [::-1] then prefers the later proposal. */
    model m;
    model_init(&m, 0);
    person(&m, 0, 1, 1, 0.75f, 1, 20.0f);
    person(&m, 2, 60, 60, 0.75f, 1, 20.0f);
    posepost_result r;
    posepost_params p = params(0.5, 0.45, 1);
    assert_int_equal(posepost_decode(&m.h, &p, &r, NULL), 0);
    assert_int_equal(r.count, 1);
    assert_true(r.people[0].box[0] > 400); /* the stride-8 one at (484, 484) */
    posepost_result_free(&r);
    model_free(&m);
}

static void test_nan_and_inf(void **state)
{
    (void)state;
    hdm_err err = {0};
    posepost_result r;
    model m;
    model_init(&m, 0);
    person(&m, 1, 5, 5, 0.9f, 2, 20.0f);
    person(&m, 1, 30, 30, 0.6f, 2, 20.0f);
    /* A NaN box among the top-k: the original's int() of it fails. */
    put(&m, 1, 0, 30, 30, 3, NAN);
    posepost_params p = params(0.5, 0.45, 10);
    assert_int_equal(posepost_decode(&m.h, &p, &r, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "not a finite number"));
    assert_null(r.people);
    /* Outside the top-k it is never decoded. */
    p.max_detections = 1;
    assert_int_equal(posepost_decode(&m.h, &p, &r, &err), 0);
    assert_int_equal(r.count, 1);
    posepost_result_free(&r);

    /* NaN keypoint: fatal in a survivor, harmless in a suppressed box. */
    model_free(&m);
    model_init(&m, 0);
    person(&m, 1, 5, 5, 0.9f, 2, 20.0f);
    person(&m, 1, 5, 6, 0.6f, 2, 20.0f); /* overlaps the first heavily */
    put(&m, 1, 2, 5, 6, 7, NAN);
    p.max_detections = 10;
    assert_int_equal(posepost_decode(&m.h, &p, &r, &err), 0);
    assert_int_equal(r.count, 1);
    posepost_result_free(&r);
    put(&m, 1, 2, 5, 5, 8, NAN); /* a visibility of the survivor */
    assert_int_equal(posepost_decode(&m.h, &p, &r, &err), -HDM_E_DEVICE_ERROR);
    put(&m, 1, 2, 5, 5, 8, INFINITY); /* +inf visibility: confidence 1 */
    assert_int_equal(posepost_decode(&m.h, &p, &r, &err), 0);
    assert_true(r.people[0].kpt_conf[2] == 1.0);
    posepost_result_free(&r);
    put(&m, 1, 2, 5, 5, 6, INFINITY); /* inf keypoint x: clipped later, allowed */
    assert_int_equal(posepost_decode(&m.h, &p, &r, &err), 0);
    posepost_result_free(&r);

    /* Scores: NaN is never > conf; +inf would print as Infinity. */
    put(&m, 1, 2, 5, 6, 7, 0.0f);
    put(&m, 1, 1, 5, 5, 0, NAN);
    assert_int_equal(posepost_decode(&m.h, &p, &r, &err), 0);
    assert_int_equal(r.count, 1);
    assert_true(r.people[0].score == 0.6f);
    posepost_result_free(&r);
    put(&m, 1, 1, 5, 5, 0, INFINITY);
    assert_int_equal(posepost_decode(&m.h, &p, &r, &err), -HDM_E_DEVICE_ERROR);
    model_free(&m);
}

static void test_params(void **state)
{
    (void)state;
    hdm_err err = {0};
    struct {
        posepost_params p;
        const char *field;
    } bad[] = {
        {{0.0, 0.45, 10}, "confidence_threshold"}, {{-0.1, 0.45, 10}, "confidence_threshold"},
        {{1.5, 0.45, 10}, "confidence_threshold"}, {{NAN, 0.45, 10}, "confidence_threshold"},
        {{0.5, -0.1, 10}, "iou_threshold"},        {{0.5, 1.01, 10}, "iou_threshold"},
        {{0.5, NAN, 10}, "iou_threshold"},         {{0.5, 0.45, 0}, "max_detections"},
        {{0.5, 0.45, -3}, "max_detections"},       {{0.5, 0.45, 1001}, "max_detections"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(posepost_params_check(&bad[i].p, &err), -HDM_E_BAD_REQUEST);
        assert_non_null(strstr(err.msg, bad[i].field));
    }
    posepost_params ok[] = {{1.0, 0.0, 1}, {1e-9, 1.0, POSEPOST_MAX_DETECTIONS}};
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(posepost_params_check(&ok[i], &err), 0);
    assert_int_equal(posepost_params_check(NULL, &err), -HDM_E_BAD_REQUEST);

    model m;
    model_init(&m, 0);
    posepost_result r;
    assert_int_equal(posepost_decode(&m.h, &bad[0].p, &r, &err), -HDM_E_BAD_REQUEST);
    posepost_result_free(NULL);
    model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_one),
        cmocka_unit_test(test_huge_logits),
        cmocka_unit_test(test_threshold_topk_order),
        cmocka_unit_test(test_tie_across_levels),
        cmocka_unit_test(test_nan_and_inf),
        cmocka_unit_test(test_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
