/*
 * posepost_heads.c - the nine YOLOv8-pose outputs, found by shape, and the
 * names and pairs the service prints.
 *
 * DESIGN: the original builds {shape: name} over the outputs and looks up
 * (1, H, W, C) for each level and head, so names never matter and a shape
 * nobody asks for is ignored.  Two outputs of the same wanted shape would
 * silently shadow each other there; here that is an error, since it means
 * a different model.
 */
#include <stdbool.h>
#include <stdio.h>

#include "posepost/posepost_internal.h"

const char *const posepost_keypoint_names[POSEPOST_KEYPOINTS] = {
    "nose",        "left_eye",   "right_eye",      "left_ear",        "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",   "left_wrist",
    "right_wrist", "left_hip",   "right_hip",      "left_knee",       "right_knee",
    "left_ankle",  "right_ankle",
};

const uint8_t posepost_skeleton[POSEPOST_SKELETON_PAIRS][2] = {
    {15, 13}, {13, 11}, {16, 14}, {14, 12}, {11, 12}, {5, 11}, {6, 12},
    {5, 6},   {5, 7},   {6, 8},   {7, 9},   {8, 10},  {1, 2},  {0, 1},
    {0, 2},   {1, 3},   {2, 4},   {3, 5},   {4, 6},
};

const int posepost_strides[POSEPOST_LEVELS] = {32, 16, 8};

#define MAX_MODEL_SIDE 4096

static void shape_text(const hdm_tensor *t, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < t->ndim && i < HDM_MAX_DIMS && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? "," : "", (long long)t->shape[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
}

/* The trailing (H, W, C) of t once leading 1s are dropped; false when t is
 * not three-dimensional then. */
static bool trailing_hwc(const hdm_tensor *t, int64_t hwc[3])
{
    int first = 0;
    if (t->ndim < 3 || t->ndim > HDM_MAX_DIMS)
        return false;
    while (t->ndim - first > 3 && t->shape[first] == 1)
        first++;
    if (t->ndim - first != 3)
        return false;
    for (int i = 0; i < 3; i++)
        hwc[i] = t->shape[first + i];
    return true;
}

int posepost_heads_find(const hdm_tensor *outputs, size_t n, int model_h, int model_w,
                        posepost_heads *out, hdm_err *err)
{
    static const int channels[3] = {POSEPOST_BOX_CHANNELS, 1, POSEPOST_KPT_CHANNELS};
    static const char *const heads[3] = {"box", "score", "keypoint"};
    const unsigned char *found[POSEPOST_LEVELS][3] = {{0}};
    char shape[160];

    if (model_h < 32 || model_w < 32 || model_h > MAX_MODEL_SIDE || model_w > MAX_MODEL_SIDE ||
        model_h % 32 != 0 || model_w % 32 != 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "pose model input %dx%d is not a multiple of 32 up to %d", model_w,
                           model_h, MAX_MODEL_SIDE);
    if (outputs == NULL && n > 0)
        return hdm_err_set(err, HDM_E_DEVICE_ERROR, "the pose model returned no outputs");

    for (size_t i = 0; i < n; i++) {
        const hdm_tensor *t = &outputs[i];
        int64_t hwc[3];
        if (!trailing_hwc(t, hwc))
            continue;
        for (int lv = 0; lv < POSEPOST_LEVELS; lv++)
            for (int hd = 0; hd < 3; hd++) {
                if (hwc[0] != model_h / posepost_strides[lv] ||
                    hwc[1] != model_w / posepost_strides[lv] || hwc[2] != channels[hd])
                    continue;
                shape_text(t, shape, sizeof(shape));
                if (found[lv][hd] != NULL)
                    return hdm_err_set(err, HDM_E_DEVICE_ERROR,
                                       "two pose model outputs have the %s shape %s", heads[hd],
                                       shape);
                if (t->dtype != HDM_DT_FLOAT32)
                    return hdm_err_set(err, HDM_E_DEVICE_ERROR,
                                       "pose model output %s is %s, expected float32", shape,
                                       hdm_dtype_name(t->dtype) ? hdm_dtype_name(t->dtype)
                                                                : "?");
                size_t want = (size_t)hwc[0] * (size_t)hwc[1] * (size_t)hwc[2] * sizeof(float);
                if (t->data == NULL || t->nbytes != want)
                    return hdm_err_set(err, HDM_E_DEVICE_ERROR,
                                       "pose model output %s holds %zu bytes, expected %zu",
                                       shape, t->nbytes, want);
                found[lv][hd] = t->data;
            }
    }

    posepost_heads h = {0};
    for (int lv = 0; lv < POSEPOST_LEVELS; lv++) {
        h.gh[lv] = model_h / posepost_strides[lv];
        h.gw[lv] = model_w / posepost_strides[lv];
        for (int hd = 0; hd < 3; hd++)
            if (found[lv][hd] == NULL)
                return hdm_err_set(err, HDM_E_DEVICE_ERROR,
                                   "the pose model returned no %s output of shape [%d,%d,%d] "
                                   "(stride %d)",
                                   heads[hd], h.gh[lv], h.gw[lv], channels[hd],
                                   posepost_strides[lv]);
        h.box[lv] = found[lv][0];
        h.cls[lv] = found[lv][1];
        h.kpt[lv] = found[lv][2];
        h.proposals += (size_t)h.gh[lv] * (size_t)h.gw[lv];
    }
    *out = h;
    return 0;
}
