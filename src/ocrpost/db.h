/*
 * db.h - DB (Differentiable Binarization) post-processing of a text
 * detection probability map, as PaddleOCR's DBPostProcess does it in the
 * original (hailo-apps db_postprocess.py, box_type "quad", score_mode
 * "fast", no dilation): threshold, contours, minimum-area boxes, the mean
 * probability inside each box, unclip, clip to the image.
 *
 * Every step reproduces the Python arithmetic, float32 where numpy works in
 * float32, through the same OpenCV and Clipper code (image/imgproc.h,
 * ocrpost/unclip.h), so boxes come out identical, not merely close.
 * Library code: never logs; thread-safe.
 */
#ifndef HDM_OCRPOST_DB_H
#define HDM_OCRPOST_DB_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* The fixed parameters of the original (get_cropped_text_images). */
typedef struct ocr_db_params {
    float thresh;          /* 0.3: a pixel is text when its probability is > thresh (float32) */
    double box_thresh;     /* 0.6: a box is kept when its mean probability is >= box_thresh */
    size_t max_candidates; /* 1000: only the first contours are looked at */
    double unclip_ratio;   /* 1.5: offset distance = area * ratio / perimeter */
    int min_size;          /* 3: boxes whose short side is < min_size (min_size + 2 after
                              unclip) are dropped */
} ocr_db_params;

/* Fills the original's values (the ones listed above). */
void ocr_db_params_default(ocr_db_params *p);

/* One detected text region. */
typedef struct ocr_box {
    /* The quadrilateral, x,y pairs in image pixels: top-left, top-right,
     * bottom-right, bottom-left as get_mini_boxes orders them, each
     * coordinate rounded half to even and clipped to [0, width] and
     * [0, height] (note: the image size, not size - 1, as the original). */
    int32_t quad[8];
    /* cv2.boundingRect of quad: w = max x - min x + 1, h likewise. */
    int x, y, w, h;
    double score;    /* mean probability inside the box before unclip */
    size_t db_index; /* its position in DB order (contour order) */
} ocr_box;

/* A list of boxes; free with ocr_boxes_free. */
typedef struct ocr_boxes {
    ocr_box *items;
    size_t count;
} ocr_boxes;

/* Frees the list and empties it; accepts NULL. */
void ocr_boxes_free(ocr_boxes *b);

/*
 * The boxes of the probability map pred (w x h float32, row stride in bytes,
 * 0 = packed; the map already at the image's size) in DB order, into *out
 * (emptied first; the caller frees it, also after a failure).  Returns 0
 * (no text is 0 with count 0), -HDM_E_BAD_REQUEST for bad sizes or
 * parameters, -HDM_E_NOMEM.
 */
int ocr_db_boxes(const float *pred, int w, int h, size_t stride, const ocr_db_params *p,
                 ocr_boxes *out, hdm_err *err);
/*
 * ocr_db_boxes with the caller's buffer for the thresholded bitmap,
 * OCR_DB_BITMAP_BYTES(w, h) bytes (overwritten), instead of the two that
 * ocr_db_boxes allocates per call (its bitmap and OpenCV's bordered copy of
 * it, imgproc_find_contours_framed): a service that keeps the buffer between
 * requests saves the memory and the kernel's zeroing of fresh pages.  Same
 * results (the golden test checks both entry points).
 */
#define OCR_DB_BITMAP_BYTES(w, h) (((size_t)(w) + 2) * ((size_t)(h) + 2))
int ocr_db_boxes_buf(const float *pred, int w, int h, size_t stride, const ocr_db_params *p,
                     uint8_t *bitmap, ocr_boxes *out, hdm_err *err);

/*
 * The same DB without the whole map in memory: rows(user, y0, y1, dst,
 * dst_stride, err) writes rows [y0, y1) of the w x h probability map
 * (float32) to dst, returning 0 or -HDM_E_*; it is called from OpenCV's
 * worker threads for disjoint row ranges at once, so it must be
 * thread-safe, and a range may be asked for twice.  Pass 1 makes the map
 * band by band (OCR_DB_BAND_ROWS rows) and thresholds it into `bitmap`
 * (OCR_DB_BITMAP_BYTES(w, h), overwritten); after contours and minimum
 * boxes, pass 2 makes again only the bands that boxes cover and adds each
 * box's masked pixels.  `band` is OCR_DB_BAND_BYTES(w) of the caller's
 * (overwritten), the only part of the map that exists at once.
 *
 * Results equal ocr_db_boxes on the whole map, scores included bit for
 * bit: a box's score adds the same float32 pixels in the same order (row
 * by row, left to right, in double) and scales by 1 / count as cv::mean
 * does, so the `>= box_thresh` decision cannot differ either
 * (test_db.c compares every score with ocr_db_box_score's).
 */
#define OCR_DB_BAND_ROWS 64
#define OCR_DB_BAND_BYTES(w) ((size_t)(w) * OCR_DB_BAND_ROWS * sizeof(float))
typedef int (*ocr_db_rows_fn)(void *user, int y0, int y1, float *dst, size_t dst_stride,
                              hdm_err *err);
int ocr_db_boxes_rows(ocr_db_rows_fn rows, void *user, int w, int h, const ocr_db_params *p,
                      uint8_t *bitmap, float *band, ocr_boxes *out, hdm_err *err);
/*
 * Pass 2 on its own: box_score_fast of the n boxes (8 floats each, as
 * ocr_db_box_score takes them) into scores[n] from the map given band by
 * band (rows and band as above).  Each score is bit-identical to
 * ocr_db_box_score's on the whole map.  0 or -HDM_E_*.
 */
int ocr_db_box_scores_rows(ocr_db_rows_fn rows, void *user, int w, int h, const float *boxes,
                           size_t n, float *band, double *scores, hdm_err *err);

/*
 * get_mini_boxes: the minimum-area rectangle of the integer points xy[2n],
 * its corners sorted as DB does into box[8] (float32, top-left, top-right,
 * bottom-right, bottom-left) and its shorter side into *sside.
 */
int ocr_db_mini_box(const int32_t *xy, size_t n, float box[8], double *sside, hdm_err *err);

/*
 * box_score_fast: the mean of pred (w x h, stride in bytes) over the pixels
 * cv2.fillPoly sets for box[8] inside its clipped bounding rectangle.
 */
int ocr_db_box_score(const float *pred, int w, int h, size_t stride, const float box[8],
                     double *score, hdm_err *err);

/* cv2.boundingRect of four integer points: x, y, w, h with w = max - min + 1. */
void ocr_db_bounding_rect(const int32_t quad[8], int *x, int *y, int *w, int *h);

#endif
