/*
 * det.h - the detection side of OCR around the NPU: the image letterboxed
 * into the detection model's input, and the model's probability map turned
 * into text boxes on the original image in reading order.
 *
 * The original (hailo-ocr on hailo-apps' paddle_ocr_utils) does:
 *   resize_with_padding(image, h, w, pad 128)        -> ocr_det_prepare
 *   model                                            -> (the caller, via the manager)
 *   resize_heatmap_to_original + DBPostProcess       -> ocr_det_boxes
 *   sorted(..., key=(y // 20, x))                    -> ocr_det_boxes (ocr_order_reading)
 * Library code: never logs; thread-safe.
 */
#ifndef HDM_OCRPOST_DET_H
#define HDM_OCRPOST_DET_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "image/imgproc.h"
#include "ocrpost/db.h"

/* The grey the letterbox pads with (all three channels). */
#define OCR_DET_PAD 128

/*
 * Letterboxes the RGB image (width x height, row stride in bytes, 0 =
 * packed) into out[model_h * model_w * 3] (HWC uint8, RGB): INTER_CUBIC to
 * int(side * scale), centred, padded with OCR_DET_PAD.  *geom (may be NULL)
 * receives the geometry.  An image so thin that a side scales to 0 pixels
 * is -HDM_E_BAD_REQUEST naming both sizes (the original fails with a 500).
 */
int ocr_det_prepare(const uint8_t *rgb, int width, int height, size_t stride, int model_w,
                    int model_h, uint8_t *out, imgproc_letterbox *geom, hdm_err *err);

/*
 * resize_heatmap_to_original: crops the letterboxed part out of the model's
 * map (model_w x model_h, `channels` interleaved float32 channels of which
 * the first is used, as heat[:, :, 0]) and resizes it with INTER_CUBIC to
 * width x height into pred[height * width] (float32, packed).
 */
int ocr_det_heatmap_to_image(const float *heat, int model_w, int model_h, int channels, int width,
                             int height, float *pred, hdm_err *err);

/*
 * The probability map at the image's size as a band source for
 * ocr_db_boxes_rows (db.h), without making the whole map: the letterboxed
 * part of the model's map, resized band by band
 * (imgproc_resize_cubic_f32_rows: the same rows as
 * ocr_det_heatmap_to_image's whole resize, bit for bit).
 *
 * ocr_det_map_init checks the sizes and points m at heat (which must then
 * outlive m) when channels is 1; with more channels it copies channel 0 of
 * the letterboxed part into `plane` (ocr_det_map_plane_floats of them).
 * ocr_det_map_rows is an ocr_db_rows_fn over an ocr_det_map.
 */
typedef struct ocr_det_map {
    const float *src; /* the letterboxed part, src_w x src_h */
    int src_w, src_h;
    size_t src_stride; /* bytes */
    int width, height; /* the image's size: the map's */
} ocr_det_map;
/* Floats of the plane a `channels` > 1 map needs (0 when the sizes are bad). */
size_t ocr_det_map_plane_floats(int model_w, int model_h, int width, int height);
int ocr_det_map_init(ocr_det_map *m, const float *heat, int model_w, int model_h, int channels,
                     int width, int height, float *plane, hdm_err *err);
int ocr_det_map_rows(void *map, int y0, int y1, float *dst, size_t dst_stride, hdm_err *err);

/*
 * The whole detection post-processing: the map of ocr_det_heatmap_to_image
 * (a band at a time, ocr_det_map), DB with *params (NULL = the original's
 * fixed values), then the boxes sorted into reading order.  *out (emptied
 * first) receives the boxes; the caller frees it with ocr_boxes_free, also
 * after a failure.  Needs (width + 2) * (height + 2) bytes for the bitmap
 * and OCR_DB_BAND_BYTES(width) for a band while it runs (and the plane of
 * channel 0 when channels > 1).
 */
int ocr_det_boxes(const float *heat, int model_w, int model_h, int channels, int width, int height,
                  const ocr_db_params *params, ocr_boxes *out, hdm_err *err);

#endif
