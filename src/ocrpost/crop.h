/*
 * crop.h - the recognition input of a detected box: the box's bounding
 * rectangle cut from the image, everything outside the quadrilateral
 * blacked out, the quadrilateral warped to an upright rectangle
 * (INTER_LINEAR), then letterboxed to 48 x 320 with grey 128 (INTER_CUBIC),
 * as the original's get_cropped_text_images, warp_to_rectangle and
 * resize_with_padding do.
 *
 * Where the original fails, this does the sensible thing instead, so every
 * box keeps its crop (issue 12; docs/OCR.md):
 * - a box that touches the right or bottom edge (the quadrilateral is
 *   clipped to [0, width], one past the last pixel) made numpy cut a
 *   narrower crop than its mask, OpenCV raised, the crop was skipped but its
 *   box kept, and every later text was reported on the wrong box.  Here the
 *   pixels beyond the image are black (what the mask and the warp's border
 *   would give them);
 * - a rectified crop so flat that 48 x 320 letterboxing scales one side to
 *   0 pixels made cv2.resize raise and the whole request fail with a 500.
 *   Here that side is 1 pixel.
 * Library code: never logs; thread-safe.
 */
#ifndef HDM_OCRPOST_CROP_H
#define HDM_OCRPOST_CROP_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ocrpost/db.h"

/* The recognition models' input: 48 x 320 RGB, HWC uint8. */
#define OCR_REC_HEIGHT 48
#define OCR_REC_WIDTH 320
#define OCR_REC_PAD 128
#define OCR_REC_INPUT_BYTES ((size_t)OCR_REC_HEIGHT * OCR_REC_WIDTH * 3)

/*
 * warp_to_rectangle of the masked crop: a malloc'd RGB image *out of
 * *out_w x *out_h (packed) that the caller frees.  Its size is
 * int(|p0 - p1|) x int(|p0 - p3|) of the box corners; when one of those is 0
 * the size is the bounding rectangle's, as cv2.warpPerspective does with an
 * empty size.  The image is width x height RGB with a row stride in bytes
 * (0 = packed).
 */
int ocr_crop_rectify(const uint8_t *rgb, int width, int height, size_t stride, const ocr_box *box,
                     uint8_t **out, int *out_w, int *out_h, hdm_err *err);

/*
 * ocr_crop_rectify followed by the 48 x 320 letterbox into
 * out[OCR_REC_INPUT_BYTES]: the tensor the recognition model takes.
 */
int ocr_crop_rec_input(const uint8_t *rgb, int width, int height, size_t stride, const ocr_box *box,
                       uint8_t *out, hdm_err *err);

/*
 * resize_with_padding(crop) alone: letterboxes an RGB crop (packed) into
 * out[OCR_REC_INPUT_BYTES], a side that would scale to 0 pixels kept at 1.
 */
int ocr_crop_letterbox(const uint8_t *crop, int crop_w, int crop_h, uint8_t *out, hdm_err *err);

#endif
