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

/*
 * Host-side orders of a stream: every user format order HailoRT 5.x gives
 * a model's streams by default (hailortcli parse-hef shows them, and the
 * device-side NHCW / RGB888 / NMS-on-chip become NHWC / NHWC / NMS by
 * class on the host).
 */
typedef enum hrt_order {
    HRT_ORDER_NHWC,        /* image or feature map, channels last */
    HRT_ORDER_NCHW,        /* channels first */
    HRT_ORDER_NC,          /* a vector per frame (e.g. an embedding) */
    HRT_ORDER_NHW,         /* argmax map: [h, w] (one channel) */
    HRT_ORDER_FCR,         /* host side [h, w, c], as NHWC */
    HRT_ORDER_F8CR,        /* host side [h, w, c], as NHWC */
    HRT_ORDER_BAYER_RGB,   /* host side [h, w, 1] */
    HRT_ORDER_BAYER_RGB12, /* host side [h, w, 1], 12-bit samples */
    HRT_ORDER_YUY2,        /* packed YUV 4:2:2 */
    HRT_ORDER_NV12,        /* planar YUV 4:2:0 */
    HRT_ORDER_NV21,
    HRT_ORDER_I420,
    HRT_ORDER_RGB4,          /* [h, w, c] with rows padded to 4 bytes */
    HRT_ORDER_NMS_BY_CLASS,  /* float32 per class: count, then boxes */
    HRT_ORDER_NMS_BY_SCORE,  /* uint8: a packed detection list */
    HRT_ORDER_NMS_BYTE_MASK, /* uint8: detections with byte masks */
    HRT_ORDER_OTHER,         /* an order newer than this backend: raw bytes */
} hrt_order;

/* "NHWC", "FCR", "NMS_BY_CLASS", ...: the order's HailoRT name, for messages. */
const char *hrt_order_name(hrt_order order);

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

/* The layout a stream's order keeps an image in: CHW for NCHW, HWC for
 * NHWC, FCR and F8CR (host side [h, w, c]); -1 for an order that is not a
 * plain image (NC, NMS, YUV, padded rows...). */
int hrt_order_layout(hrt_order order);

/*
 * The host type to ask for an output of this order when `wanted` is
 * preferred: HailoRT gives the NMS-by-score and byte-mask lists only as
 * uint8 (packed structs), every other order can be dequantised to float32.
 */
hrt_type hrt_output_type(hrt_order order, hrt_type wanted);

/*
 * The protocol shape of one frame of stream s into shape[] (room for
 * HDM_MAX_DIMS); returns the number of dims.  It is the per-frame shape
 * HailoRT's Python API reports (what the original manager answered), with
 * no batch dimension: NC gives [f]; NHW [h,w]; NMS by class [frame_size /
 * 4] (floats); NMS by score and with byte mask [frame_size] (bytes); NCHW
 * [f,h,w] (the order the bytes are in); every other order [h,w,f], a
 * height of 1 included (a CLIP text encoder's [1,77,512]).  When that shape
 * does not hold frame_size bytes (padded rows, YUV planes, an unknown
 * order) the frame is given flat: [frame_size / element size].
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
