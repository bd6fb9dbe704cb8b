/*
 * test_posepost_heads.c - the nine outputs found by shape, with and
 * without the batch dimension, whatever their names and order; missing,
 * doubled and mistyped outputs named in the error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "posepost/posepost.h"

static const int strides[3] = {32, 16, 8};
static const int channels[3] = {64, 1, 51};

/* Nine outputs for a model of side `side`, listed in a shuffled order;
 * data[i] is a distinct buffer so identity can be checked. */
static void make(hdm_tensor *t, int side, int batch)
{
    static const int order[9] = {4, 8, 0, 6, 2, 7, 1, 5, 3};
    for (int k = 0; k < 9; k++) {
        int i = order[k], lv = i / 3, hd = i % 3, g = side / strides[lv];
        hdm_tensor *x = &t[k];
        memset(x, 0, sizeof(*x));
        x->dtype = HDM_DT_FLOAT32;
        int d = 0;
        if (batch)
            x->shape[d++] = 1;
        x->shape[d++] = g;
        x->shape[d++] = g;
        x->shape[d++] = channels[hd];
        x->ndim = d;
        x->nbytes = (size_t)g * g * channels[hd] * sizeof(float);
        x->data = calloc(1, x->nbytes);
    }
}

static void release(hdm_tensor *t, int n)
{
    for (int i = 0; i < n; i++)
        free(t[i].data);
}

static const hdm_tensor *find_data(const hdm_tensor *t, int n, int64_t g, int64_t c)
{
    for (int i = 0; i < n; i++)
        if (t[i].shape[t[i].ndim - 3] == g && t[i].shape[t[i].ndim - 1] == c)
            return &t[i];
    return NULL;
}

static void test_found_by_shape(void **state)
{
    (void)state;
    for (int batch = 0; batch <= 1; batch++) {
        hdm_tensor t[10];
        make(t, 640, batch);
        posepost_heads h;
        assert_int_equal(posepost_heads_find(t, 9, 640, 640, &h, NULL), 0);
        assert_int_equal(h.proposals, 8400);
        for (int lv = 0; lv < 3; lv++) {
            int g = 640 / strides[lv];
            assert_int_equal(h.gh[lv], g);
            assert_int_equal(h.gw[lv], g);
            assert_ptr_equal(h.box[lv], find_data(t, 9, g, 64)->data);
            assert_ptr_equal(h.cls[lv], find_data(t, 9, g, 1)->data);
            assert_ptr_equal(h.kpt[lv], find_data(t, 9, g, 51)->data);
        }
        /* An extra output of another shape is ignored. */
        t[9] = (hdm_tensor){.dtype = HDM_DT_FLOAT32, .ndim = 2, .shape = {7, 3},
                            .data = t[0].data, .nbytes = 84};
        assert_int_equal(posepost_heads_find(t, 10, 640, 640, &h, NULL), 0);
        release(t, 9);
    }
    /* Other square sizes work the same. */
    hdm_tensor t[9];
    make(t, 320, 1);
    posepost_heads h;
    assert_int_equal(posepost_heads_find(t, 9, 320, 320, &h, NULL), 0);
    assert_int_equal(h.proposals, 100 + 400 + 1600);
    release(t, 9);
}

static void test_errors(void **state)
{
    (void)state;
    hdm_tensor t[9];
    posepost_heads h;
    hdm_err err = {0};
    make(t, 640, 1);

    assert_int_equal(posepost_heads_find(t, 8, 640, 640, &h, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "no "));
    assert_non_null(strstr(err.msg, "stride"));

    hdm_tensor dup[10];
    memcpy(dup, t, sizeof(t));
    dup[9] = t[0];
    assert_int_equal(posepost_heads_find(dup, 10, 640, 640, &h, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "two pose model outputs"));

    t[3].dtype = HDM_DT_UINT8;
    assert_int_equal(posepost_heads_find(t, 9, 640, 640, &h, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "uint8"));
    t[3].dtype = HDM_DT_FLOAT32;
    t[3].nbytes--;
    assert_int_equal(posepost_heads_find(t, 9, 640, 640, &h, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "bytes"));
    t[3].nbytes++;

    /* A leading dimension other than 1 is not a batch of one. */
    int64_t saved = t[5].shape[0];
    t[5].shape[0] = 2;
    assert_int_equal(posepost_heads_find(t, 9, 640, 640, &h, &err), -HDM_E_DEVICE_ERROR);
    t[5].shape[0] = saved;

    assert_int_equal(posepost_heads_find(t, 9, 640, 600, &h, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(posepost_heads_find(t, 9, 0, 640, &h, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(posepost_heads_find(t, 9, 8192, 640, &h, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(posepost_heads_find(NULL, 9, 640, 640, &h, &err), -HDM_E_DEVICE_ERROR);
    assert_int_equal(posepost_heads_find(t, 0, 640, 640, &h, &err), -HDM_E_DEVICE_ERROR);
    release(t, 9);
}

static void test_names_and_pairs(void **state)
{
    (void)state;
    assert_string_equal(posepost_keypoint_names[0], "nose");
    assert_string_equal(posepost_keypoint_names[16], "right_ankle");
    /* The original's 1-based constant, minus one. */
    static const uint8_t gm[19][2] = {{16, 14}, {14, 12}, {17, 15}, {15, 13}, {12, 13},
                                      {6, 12},  {7, 13},  {6, 7},   {6, 8},   {7, 9},
                                      {8, 10},  {9, 11},  {2, 3},   {1, 2},   {1, 3},
                                      {2, 4},   {3, 5},   {4, 6},   {5, 7}};
    for (int i = 0; i < 19; i++) {
        assert_int_equal(posepost_skeleton[i][0], gm[i][0] - 1);
        assert_int_equal(posepost_skeleton[i][1], gm[i][1] - 1);
    }
    assert_int_equal(posepost_strides[0], 32);
    assert_int_equal(posepost_strides[2], 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_found_by_shape),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_names_and_pairs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
