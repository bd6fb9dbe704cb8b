/*
 * depthpost_map.c - the depth map out of the model's output tensor, its
 * range, min-max normalisation and the logit-to-metres transform.
 *
 * DESIGN: numpy does the original's normalisation in float32 ((d - min) /
 * (max - min) with float32 scalars), so this file does too; the build
 * turns off floating-point contraction for this library so a compiler may
 * not fuse a multiply and an add into an FMA the original never did.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depthpost/depthpost.h"

static void shape_text(const hdm_tensor *t, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < t->ndim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? "," : "", (long long)t->shape[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
}

int depthpost_extract(const hdm_tensor *t, float **out, int *height, int *width, hdm_err *err)
{
    char shape[160];
    int64_t dims[HDM_MAX_DIMS];
    int nd = 0;
    uint64_t count = 1;

    if (t == NULL || t->data == NULL)
        return hdm_err_set(err, HDM_E_DEVICE_ERROR, "the depth model returned no tensor");
    shape_text(t, shape, sizeof(shape));
    if (t->dtype != HDM_DT_FLOAT32)
        return hdm_err_set(err, HDM_E_DEVICE_ERROR,
                           "the depth model returned %s %s, expected float32",
                           hdm_dtype_name(t->dtype) ? hdm_dtype_name(t->dtype) : "?", shape);
    if (t->ndim < 0 || t->ndim > HDM_MAX_DIMS)
        return hdm_err_set(err, HDM_E_DEVICE_ERROR, "the depth output has %d dimensions",
                           t->ndim);
    /* np.squeeze: drop every dimension of size 1. */
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] < 0 || t->shape[i] > (int64_t)DEPTHPOST_MAX_ELEMENTS)
            return hdm_err_set(err, HDM_E_DEVICE_ERROR, "unexpected depth output shape %s",
                               shape);
        count *= (uint64_t)t->shape[i];
        if (count > DEPTHPOST_MAX_ELEMENTS * 4)
            return hdm_err_set(err, HDM_E_DEVICE_ERROR, "depth output %s is too large", shape);
        if (t->shape[i] != 1)
            dims[nd++] = t->shape[i];
    }
    if (count * sizeof(float) != (uint64_t)t->nbytes)
        return hdm_err_set(err, HDM_E_DEVICE_ERROR,
                           "depth output %s holds %zu bytes, expected %llu", shape, t->nbytes,
                           (unsigned long long)(count * sizeof(float)));

    /* 2-D is the map; 3-D takes [0] when the first dimension is 3 (CHW),
     * else channel 0 of HWC, as the original does. */
    int64_t h, w, step = 1;
    if (nd == 2) {
        h = dims[0], w = dims[1];
    } else if (nd == 3 && dims[0] == 3) {
        h = dims[1], w = dims[2];
    } else if (nd == 3) {
        h = dims[0], w = dims[1], step = dims[2];
    } else {
        return hdm_err_set(err, HDM_E_DEVICE_ERROR, "unexpected depth output shape %s", shape);
    }
    if (h < 1 || w < 1 || (size_t)h * (size_t)w > DEPTHPOST_MAX_ELEMENTS)
        return hdm_err_set(err, HDM_E_DEVICE_ERROR, "unexpected depth output shape %s", shape);

    size_t n = (size_t)h * (size_t)w;
    float *map = malloc(n * sizeof(float));
    if (map == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for a %lldx%lld depth map",
                           (long long)h, (long long)w);
    const unsigned char *src = t->data;
    if (step == 1) {
        memcpy(map, src, n * sizeof(float)); /* data may be unaligned */
    } else {
        for (size_t i = 0; i < n; i++)
            memcpy(&map[i], src + i * (size_t)step * sizeof(float), sizeof(float));
    }
    *out = map;
    *height = (int)h;
    *width = (int)w;
    return 0;
}

void depthpost_minmax(const float *map, size_t n, float *min, float *max)
{
    if (n == 0) {
        *min = *max = NAN;
        return;
    }
    float lo = map[0], hi = map[0];
    for (size_t i = 0; i < n; i++) {
        float v = map[i];
        if (isnan(v)) { /* numpy's min and max propagate NaN */
            *min = *max = v;
            return;
        }
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    *min = lo;
    *max = hi;
}

bool depthpost_normalize(float *map, size_t n)
{
    float lo, hi;
    depthpost_minmax(map, n, &lo, &hi);
    float range = hi - lo;
    if (!(range > 0.0f))
        return false;
    for (size_t i = 0; i < n; i++)
        map[i] = (map[i] - lo) / range;
    return true;
}

void depthpost_transform(float *map, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + expf(-map[i]));
        map[i] = (float)(1.0 / ((double)(s * 10.0f) + 0.009));
    }
}
