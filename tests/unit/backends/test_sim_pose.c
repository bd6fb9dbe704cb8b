/*
 * test_sim_pose.c - the sim's yolov8s_pose through the real decoder
 * (posepost): one person per bright blob, boxed where the blob is, with
 * visible keypoints inside it and hidden ones outside; duplicates removed
 * by NMS; nobody in a dark image or in the letterbox grey; scores already
 * probabilities; the same people from HWC and CHW input.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "posepost/posepost.h"
#include "sim_test_util.h"

static int setup(void **state)
{
    simt *t = calloc(1, sizeof(*t));
    simt_setup(t, "{\"latency_scale\": 0}");
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    simt_teardown(*state);
    free(*state);
    return 0;
}

/* A 640x640 RGB image of grey `bg` with white rectangles [x0, y0, x1, y1). */
static hdm_tensor scene(uint8_t bg, const int (*rects)[4], int n)
{
    hdm_tensor t = {.dtype = HDM_DT_UINT8, .ndim = 4, .shape = {1, 640, 640, 3},
                    .nbytes = 640 * 640 * 3};
    uint8_t *px = malloc(t.nbytes);
    memset(px, bg, t.nbytes);
    for (int r = 0; r < n; r++)
        for (int y = rects[r][1]; y < rects[r][3]; y++)
            for (int x = rects[r][0]; x < rects[r][2]; x++)
                memset(px + ((size_t)y * 640 + (size_t)x) * 3, 250, 3);
    t.data = px;
    return t;
}

static posepost_result decode(simt *t, backend_model *m, const hdm_tensor *image, double conf)
{
    infer_input in = {.kind = MODEL_POSE};
    infer_output out = {0};
    hdm_err err = {0};
    in.u.dense.input = *image;
    assert_int_equal(backend_sim_ops.infer(t->b, m, &in, NULL, &out, &err), 0);
    assert_int_equal(out.n_tensors, 9);
    for (uint32_t i = 0; i < out.n_tensors; i++) {
        /* the score head is a probability, like the HEF's */
        const hdm_tensor *x = &out.tensors[i];
        if (x->shape[3] == 1)
            for (size_t k = 0; k < x->nbytes / 4; k++) {
                float v = ((const float *)x->data)[k];
                assert_true(v > 0.0f && v < 1.0f);
            }
    }
    posepost_heads h;
    posepost_params p = {conf, 0.45, 10};
    posepost_result r;
    if (posepost_heads_find(out.tensors, out.n_tensors, 640, 640, &h, &err) < 0 ||
        posepost_decode(&h, &p, &r, &err) < 0)
        fail_msg("%s", err.msg);
    infer_output_clear(&out);
    return r;
}

static void test_people_from_blobs(void **state)
{
    simt *t = *state;
    char *path = simt_model(t, "yolov8s_pose.hef", NULL);
    backend_model *m = simt_load(t, MODEL_POSE, path, NULL);
    /* A tall one (stride 16 range), a small one (stride 8), a huge one (32). */
    static const int rects[3][4] = {{100, 80, 220, 400}, {420, 40, 460, 120}, {300, 300, 620, 630}};
    hdm_tensor img = scene(20, rects, 3);
    posepost_result r = decode(t, m, &img, 0.5);
    assert_int_equal(r.count, 3);
    /* Each blob's box, quantised to the 8-pixel cells fully inside it. */
    static const double want[3][4] = {
        {304, 304, 616, 632}, {104, 80, 216, 400}, {424, 40, 456, 120}};
    for (size_t i = 0; i < r.count; i++) {
        const posepost_person *p = &r.people[i];
        int match = -1;
        for (int k = 0; k < 3; k++)
            if (fabs(p->box[0] - want[k][0]) < 0.5)
                match = k;
        assert_true(match >= 0);
        for (int c = 0; c < 4; c++)
            assert_true(fabs(p->box[c] - want[match][c]) < 0.05);
        assert_true(p->score >= 0.6f && p->score <= 0.95f);
        /* Keypoints inside the box, visible (the blob is bright there). */
        for (int k = 0; k < POSEPOST_KEYPOINTS; k++) {
            assert_true(p->kpt[k][0] >= p->box[0] - 0.5 && p->kpt[k][0] <= p->box[2] + 0.5);
            assert_true(p->kpt[k][1] >= p->box[1] - 0.5 && p->kpt[k][1] <= p->box[3] + 0.5);
        }
        assert_true(p->kpt_conf[0] > 0.9);
    }
    /* Scores: brighter blobs of equal brightness tie; order is by score. */
    for (size_t i = 1; i < r.count; i++)
        assert_true(r.people[i - 1].score >= r.people[i].score);
    posepost_result_free(&r);
    free(img.data);
    backend_sim_ops.unload(t->b, m);
    free(path);
}

static void test_duplicates_need_nms(void **state)
{
    simt *t = *state;
    char *path = simt_model(t, "yolov8s_pose.hef", NULL);
    backend_model *m = simt_load(t, MODEL_POSE, path, NULL);
    static const int rects[1][4] = {{200, 100, 280, 500}};
    hdm_tensor img = scene(0, rects, 1);
    infer_input in = {.kind = MODEL_POSE};
    infer_output out = {0};
    in.u.dense.input = img;
    assert_int_equal(backend_sim_ops.infer(t->b, m, &in, NULL, &out, NULL), 0);
    /* Three cells claim the person: its anchor and two weaker neighbours. */
    int above = 0;
    for (uint32_t i = 0; i < out.n_tensors; i++)
        if (out.tensors[i].shape[3] == 1)
            for (size_t k = 0; k < out.tensors[i].nbytes / 4; k++)
                above += ((const float *)out.tensors[i].data)[k] > 0.5f;
    assert_int_equal(above, 3);
    posepost_heads h;
    posepost_result r;
    assert_int_equal(posepost_heads_find(out.tensors, out.n_tensors, 640, 640, &h, NULL), 0);
    /* The same box three times: NMS leaves the best one... */
    posepost_params p = {0.5, 0.45, 100};
    assert_int_equal(posepost_decode(&h, &p, &r, NULL), 0);
    assert_int_equal(r.count, 1);
    assert_true(fabs(r.people[0].box[0] - 200) < 0.05 && fabs(r.people[0].box[3] - 496) < 0.05);
    posepost_result_free(&r);
    /* ... and only NMS: at IoU threshold 1 the decoded boxes, equal but for
     * rounding, all stay. */
    p.iou_threshold = 1.0;
    assert_int_equal(posepost_decode(&h, &p, &r, NULL), 0);
    assert_int_equal(r.count, 3);
    posepost_result_free(&r);
    infer_output_clear(&out);
    free(img.data);
    backend_sim_ops.unload(t->b, m);
    free(path);
}

static void test_nobody(void **state)
{
    simt *t = *state;
    char *path = simt_model(t, "yolov8s_pose.hef", NULL);
    backend_model *m = simt_load(t, MODEL_POSE, path, NULL);
    /* Dark, the letterbox grey, and specks too small to be anyone. */
    static const int specks[2][4] = {{10, 10, 18, 26}, {600, 600, 608, 608}};
    uint8_t greys[3] = {0, 114, 150};
    for (int g = 0; g < 3; g++) {
        hdm_tensor img = scene(greys[g], specks, g < 2 ? 2 : 0);
        posepost_result r = decode(t, m, &img, 0.05);
        assert_int_equal(r.count, 0);
        posepost_result_free(&r);
        free(img.data);
    }
    backend_sim_ops.unload(t->b, m);
    free(path);
}

static void test_hwc_chw_same(void **state)
{
    simt *t = *state;
    char *path = simt_model(t, "yolov8s_pose.hef", NULL);
    backend_model *m = simt_load(t, MODEL_POSE, path, NULL);
    static const int rects[2][4] = {{50, 50, 150, 300}, {400, 200, 500, 600}};
    hdm_tensor img = scene(30, rects, 2);
    hdm_tensor chw = {.dtype = HDM_DT_UINT8, .ndim = 3, .shape = {3, 640, 640},
                      .nbytes = img.nbytes, .data = malloc(img.nbytes)};
    const uint8_t *src = img.data;
    uint8_t *dst = chw.data;
    for (size_t i = 0; i < 640 * 640; i++)
        for (int c = 0; c < 3; c++)
            dst[(size_t)c * 640 * 640 + i] = src[i * 3 + (size_t)c];
    posepost_result a = decode(t, m, &img, 0.5), b = decode(t, m, &chw, 0.5);
    assert_int_equal(a.count, 2);
    assert_int_equal(a.count, b.count);
    for (size_t i = 0; i < a.count; i++) {
        assert_memory_equal(a.people[i].box, b.people[i].box, sizeof(a.people[i].box));
        assert_true(a.people[i].score == b.people[i].score);
        assert_memory_equal(a.people[i].kpt, b.people[i].kpt, sizeof(a.people[i].kpt));
        assert_memory_equal(a.people[i].kpt_conf, b.people[i].kpt_conf,
                            sizeof(a.people[i].kpt_conf));
    }
    posepost_result_free(&a);
    posepost_result_free(&b);
    free(img.data);
    free(chw.data);
    backend_sim_ops.unload(t->b, m);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_people_from_blobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_need_nms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nobody, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hwc_chw_same, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
