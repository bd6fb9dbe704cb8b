/*
 * batch.c - recognition batches (batch.h).
 */
#include <string.h>

#include "ocrpost/batch.h"
#include "ocrpost/crop.h"

size_t ocr_batch_count(size_t n, size_t batch_size)
{
    if (batch_size == 0)
        return 0;
    return n / batch_size + (n % batch_size != 0);
}

int ocr_batch_fill(const uint8_t *rgb, int width, int height, size_t stride, const ocr_box *boxes,
                   size_t n_boxes, size_t index, size_t batch_size, bool pad, uint8_t *out,
                   size_t *count, hdm_err *err)
{
    if (out == NULL || count == NULL || (boxes == NULL && n_boxes > 0))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "recognition batch: missing buffers");
    if (batch_size < 1 || batch_size > OCR_BATCH_MAX)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "recognition batch size %zu is outside 1..%d",
                           batch_size, OCR_BATCH_MAX);
    size_t batches = ocr_batch_count(n_boxes, batch_size);
    if (index >= batches)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "recognition batch %zu does not exist (%zu boxes make %zu batches)",
                           index, n_boxes, batches);
    size_t start = index * batch_size;
    size_t n = n_boxes - start < batch_size ? n_boxes - start : batch_size;
    for (size_t i = 0; i < n; i++) {
        int rc = ocr_crop_rec_input(rgb, width, height, stride, &boxes[start + i],
                                    out + i * OCR_REC_INPUT_BYTES, err);
        if (rc < 0)
            return hdm_err_prefix(err, "text region %zu", start + i);
    }
    if (pad && n < batch_size)
        memset(out + n * OCR_REC_INPUT_BYTES, 0, (batch_size - n) * OCR_REC_INPUT_BYTES);
    *count = n;
    return 0;
}
