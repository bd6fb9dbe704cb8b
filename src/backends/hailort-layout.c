/*
 * hailort-layout.c - image layouts, output shapes and stream names for the
 * HailoRT backend (see hailort-layout.h).  No HailoRT header here.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hailort-layout.h"

size_t hrt_type_size(hrt_type type)
{
    switch (type) {
    case HRT_TYPE_UINT8:
        return 1;
    case HRT_TYPE_UINT16:
        return 2;
    case HRT_TYPE_FLOAT32:
        return 4;
    default:
        return 0;
    }
}

int hrt_type_dtype(hrt_type type)
{
    switch (type) {
    case HRT_TYPE_UINT8:
        return HDM_DT_UINT8;
    case HRT_TYPE_UINT16:
        return HDM_DT_UINT16;
    case HRT_TYPE_FLOAT32:
        return HDM_DT_FLOAT32;
    default:
        return -1;
    }
}

static int dims_are(const int64_t *s, uint32_t a, uint32_t b, uint32_t c)
{
    return s[0] == (int64_t)a && s[1] == (int64_t)b && s[2] == (int64_t)c;
}

int hrt_image_layout(const hdm_tensor *t, const char *what, uint32_t h, uint32_t w, uint32_t c,
                     hrt_layout *out, hdm_err *err)
{
    const int64_t *s = t->shape;

    if (t->ndim == 4 && s[0] == 1)
        s++;
    else if (t->ndim != 3)
        s = NULL;
    if (s && dims_are(s, h, w, c)) {
        *out = HRT_LAYOUT_HWC;
        return 0;
    }
    if (s && dims_are(s, c, h, w)) {
        *out = HRT_LAYOUT_CHW;
        return 0;
    }
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       "%s has the wrong shape for this model: expected [%u,%u,%u] (HWC), "
                       "[%u,%u,%u] (CHW), or either with a leading 1",
                       what, h, w, c, c, h, w);
}

void hrt_image_convert(const void *src, hrt_layout from, void *dst, hrt_layout to, uint32_t h,
                       uint32_t w, uint32_t c, size_t elem_size)
{
    const uint8_t *in = src;
    uint8_t *o = dst;
    size_t plane = (size_t)h * w;

    if (from == to) {
        memcpy(dst, src, plane * c * elem_size);
        return;
    }
    for (size_t p = 0; p < plane; p++) {
        for (size_t ch = 0; ch < c; ch++) {
            size_t hwc = (p * c + ch) * elem_size, chw = (ch * plane + p) * elem_size;
            if (from == HRT_LAYOUT_HWC)
                memcpy(o + chw, in + hwc, elem_size);
            else
                memcpy(o + hwc, in + chw, elem_size);
        }
    }
}

const char *hrt_order_name(hrt_order order)
{
    static const char *const names[] = {
        [HRT_ORDER_NHWC] = "NHWC",
        [HRT_ORDER_NCHW] = "NCHW",
        [HRT_ORDER_NC] = "NC",
        [HRT_ORDER_NHW] = "NHW",
        [HRT_ORDER_FCR] = "FCR",
        [HRT_ORDER_F8CR] = "F8CR",
        [HRT_ORDER_BAYER_RGB] = "BAYER_RGB",
        [HRT_ORDER_BAYER_RGB12] = "12_BIT_BAYER_RGB",
        [HRT_ORDER_YUY2] = "YUY2",
        [HRT_ORDER_NV12] = "NV12",
        [HRT_ORDER_NV21] = "NV21",
        [HRT_ORDER_I420] = "I420",
        [HRT_ORDER_RGB4] = "RGB4",
        [HRT_ORDER_NMS_BY_CLASS] = "HAILO_NMS_BY_CLASS",
        [HRT_ORDER_NMS_BY_SCORE] = "HAILO_NMS_BY_SCORE",
        [HRT_ORDER_NMS_BYTE_MASK] = "HAILO_NMS_WITH_BYTE_MASK",
        [HRT_ORDER_OTHER] = "an order unknown to this backend",
    };
    if ((int)order < 0 || (size_t)order >= sizeof(names) / sizeof(names[0]) || !names[order])
        return names[HRT_ORDER_OTHER];
    return names[order];
}

int hrt_order_layout(hrt_order order)
{
    switch (order) {
    case HRT_ORDER_NCHW:
        return HRT_LAYOUT_CHW;
    case HRT_ORDER_NHWC:
    case HRT_ORDER_FCR:
    case HRT_ORDER_F8CR:
        return HRT_LAYOUT_HWC;
    default:
        return -1;
    }
}

hrt_type hrt_output_type(hrt_order order, hrt_type wanted)
{
    if (order == HRT_ORDER_NMS_BY_SCORE || order == HRT_ORDER_NMS_BYTE_MASK)
        return HRT_TYPE_UINT8;
    return wanted;
}

/* Bytes the per-frame shape holds; 0 when the product overflows. */
static size_t shape_bytes(const int64_t *shape, int ndim, size_t es)
{
    size_t n = es;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] && n > SIZE_MAX / (size_t)shape[i]))
            return 0;
        n *= (size_t)shape[i];
    }
    return n;
}

int hrt_stream_shape(const hrt_stream_info *s, int64_t *shape)
{
    size_t es = hrt_type_size(s->type);
    int ndim;

    switch (s->order) {
    case HRT_ORDER_NC:
        shape[0] = s->features;
        ndim = 1;
        break;
    case HRT_ORDER_NHW:
        shape[0] = s->height;
        shape[1] = s->width;
        ndim = 2;
        break;
    case HRT_ORDER_NCHW:
        shape[0] = s->features;
        shape[1] = s->height;
        shape[2] = s->width;
        ndim = 3;
        break;
    case HRT_ORDER_NMS_BY_CLASS:
    case HRT_ORDER_NMS_BY_SCORE:
    case HRT_ORDER_NMS_BYTE_MASK:
    case HRT_ORDER_OTHER:
        ndim = 0; /* flat, below */
        break;
    default:
        shape[0] = s->height;
        shape[1] = s->width;
        shape[2] = s->features;
        ndim = 3;
        break;
    }
    if (ndim && es && shape_bytes(shape, ndim, es) == s->frame_size)
        return ndim;
    /* NMS lists, padded rows, YUV planes: the frame's elements in a row. */
    shape[0] = (int64_t)(es ? s->frame_size / es : s->frame_size);
    return 1;
}

static const char *short_name(const char *name)
{
    const char *slash = strrchr(name, '/');
    return slash ? slash + 1 : name;
}

int hrt_stream_find(const hrt_stream_info *streams, size_t n, const char *wanted)
{
    int found = -1;

    if (!wanted || !*wanted)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (strcmp(streams[i].name, wanted) == 0)
            return (int)i;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(short_name(streams[i].name), short_name(wanted)) != 0)
            continue;
        if (found >= 0)
            return -2;
        found = (int)i;
    }
    return found;
}

const char *hrt_stream_names(const hrt_stream_info *streams, size_t n, char *buf, size_t size)
{
    size_t used = 0;

    if (size == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        int k = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", streams[i].name);
        if (k < 0)
            break;
        used += (size_t)k;
    }
    return buf;
}
