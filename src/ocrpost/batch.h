/*
 * batch.h - recognition in batches: the boxes cut into runs of the
 * language's batch size (the original's batch_size_rec, 8), each run's
 * 48 x 320 inputs packed one after another into one [batch, 48, 320, 3]
 * uint8 tensor, the last run padded with zero images when the caller wants
 * full batches (as the manager pads a short batch for the device and
 * drops the padding's outputs).  Library code: never logs; thread-safe.
 */
#ifndef HDM_OCRPOST_BATCH_H
#define HDM_OCRPOST_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "ocrpost/db.h"

/* Largest batch size accepted (the manager's own limit on crops). */
#define OCR_BATCH_MAX 1024

/* Number of batches for n boxes: ceil(n / batch_size); 0 for n == 0 or a
 * batch_size of 0. */
size_t ocr_batch_count(size_t n, size_t batch_size);

/*
 * Fills out (room for batch_size * OCR_REC_INPUT_BYTES bytes) with the
 * recognition inputs of boxes[index * batch_size ...], at most batch_size
 * of them (ocr_crop_rec_input each), and sets *count to how many that is.
 * With `pad`, the rest of the batch is zeroed so out always holds
 * batch_size images.  The image is width x height RGB, row stride in bytes
 * (0 = packed).  An index past the last batch, or batch_size outside
 * 1..OCR_BATCH_MAX, is -HDM_E_BAD_REQUEST.
 */
int ocr_batch_fill(const uint8_t *rgb, int width, int height, size_t stride, const ocr_box *boxes,
                   size_t n_boxes, size_t index, size_t batch_size, bool pad, uint8_t *out,
                   size_t *count, hdm_err *err);

#endif
