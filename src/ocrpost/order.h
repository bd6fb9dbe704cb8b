/*
 * order.h - the reading order of the original service: boxes sorted by
 * (y // 20, x) of their bounding rectangle, a stable sort, so lines are
 * 20-pixel bands read left to right.  Library code: never logs.
 */
#ifndef HDM_OCRPOST_ORDER_H
#define HDM_OCRPOST_ORDER_H

#include <stddef.h>

#include "ocrpost/db.h"

/* Height of the bands that count as one line. */
#define OCR_ORDER_LINE_HEIGHT 20

/*
 * Sorts boxes[0..n) by (y / OCR_ORDER_LINE_HEIGHT, x); boxes with equal keys
 * keep their db_index order (Python's sort is stable, and the boxes arrive
 * in DB order).
 */
void ocr_order_reading(ocr_box *boxes, size_t n);

#endif
