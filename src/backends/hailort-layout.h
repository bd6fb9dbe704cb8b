/*
 * hailort-layout.h - how tensors of our protocol meet the streams of a
 * HailoRT model: stream descriptions, image layout detection and
 * conversion, output shapes and stream lookup by name.
 *
 * DESIGN: pure C with no HailoRT header, so it is built and unit-tested on
 * every machine (tests/unit/backends/test_hailort_layout.c).  The orders and
 * element types mirror HailoRT's hailo_format_order_t / hailo_format_type_t;
 * hailort-genai.cpp translates between the two.
 */
#ifndef HDM_BACKENDS_HAILORT_LAYOUT_H
#define HDM_BACKENDS_HAILORT_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "hailodm.h"

/* Host-side orders of a stream (the ones our model types use). */
typedef enum hrt_order {
    HRT_ORDER_NHWC,  /* image or feature map, channels last */
    HRT_ORDER_NCHW,  /* channels first */
    HRT_ORDER_NC,    /* a vector per frame (e.g. an embedding) */
    HRT_ORDER_OTHER, /* anything else (NMS results, ...): passed as raw features */
} hrt_order;

/* Host-side element types. */
typedef enum hrt_type {
    HRT_TYPE_AUTO, /* what the model has by default */
    HRT_TYPE_UINT8,
    HRT_TYPE_UINT16,
    HRT_TYPE_FLOAT32,
} hrt_type;

/* One input or output stream of a model, as the host sees it. */
typedef struct hrt_stream_info {
    char name[128];
    uint32_t height, width, features;
    hrt_order order;
    hrt_type type;
    size_t frame_size; /* bytes of one frame in host format */
} hrt_stream_info;

/* How an image tensor given by a client is laid out. */
typedef enum hrt_layout { HRT_LAYOUT_HWC, HRT_LAYOUT_CHW } hrt_layout;

/* Bytes per element of a host type (0 for HRT_TYPE_AUTO). */
size_t hrt_type_size(hrt_type type);

/* The protocol dtype of a host type; -1 when it has none. */
int hrt_type_dtype(hrt_type type);

/*
 * Works out the layout of image tensor t for a model that wants h x w x c:
 * [h,w,c] or [1,h,w,c] is HWC, [c,h,w] or [1,c,h,w] is CHW (HWC wins when
 * both fit, e.g. a 3x3x3 image).  `what` names the tensor in the message.
 * Returns 0, or -HDM_E_BAD_REQUEST naming the shapes that would be accepted.
 */
int hrt_image_layout(const hdm_tensor *t, const char *what, uint32_t h, uint32_t w, uint32_t c,
                     hrt_layout *out, hdm_err *err);

/*
 * Copies an h x w x c image of elem_size-byte elements from src (layout
 * `from`) to dst (layout `to`), transposing when they differ.  src and dst
 * must not overlap.
 */
void hrt_image_convert(const void *src, hrt_layout from, void *dst, hrt_layout to, uint32_t h,
                       uint32_t w, uint32_t c, size_t elem_size);

/* The layout a stream's order wants its images in (NCHW: CHW, else HWC). */
hrt_layout hrt_order_layout(hrt_order order);

/*
 * The protocol shape of one frame of stream s into shape[] (room for
 * HDM_MAX_DIMS); returns the number of dims.  It is the per-frame shape
 * HailoRT's Python API reports (what the original manager answered), with
 * no batch dimension: NC gives [f]; NHWC gives [h,w,f], a height of 1
 * included (a CLIP text encoder's [1,77,512]); NCHW gives [f,h,w] (the
 * order the bytes are in); OTHER gives [frame_size / element size].
 */
int hrt_stream_shape(const hrt_stream_info *s, int64_t *shape);

/*
 * Finds the stream called `wanted` among streams[0..n): an exact name, or
 * else a unique match of the part after the last '/' on either side
 * ("text_encoder/output_layer1" matches "output_layer1" and the other way
 * round).  Returns its index, -1 when none matches, -2 when several match
 * the short name.
 */
int hrt_stream_find(const hrt_stream_info *streams, size_t n, const char *wanted);

/* Writes "a, b, c" (the stream names) into buf, for messages; returns buf. */
const char *hrt_stream_names(const hrt_stream_info *streams, size_t n, char *buf, size_t size);

#endif
