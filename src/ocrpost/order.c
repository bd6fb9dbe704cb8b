/*
 * order.c - reading order (order.h).
 */
#include <stdlib.h>

#include "ocrpost/order.h"

static int compare_reading(const void *a, const void *b)
{
    const ocr_box *p = a, *q = b;
    /* y >= 0 (boxes are clipped to the image): / is Python's //. */
    int band_p = p->y / OCR_ORDER_LINE_HEIGHT, band_q = q->y / OCR_ORDER_LINE_HEIGHT;
    if (band_p != band_q)
        return band_p < band_q ? -1 : 1;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    /* qsort is not stable: the DB position breaks ties as a stable sort would. */
    return (p->db_index > q->db_index) - (p->db_index < q->db_index);
}

void ocr_order_reading(ocr_box *boxes, size_t n)
{
    if (boxes != NULL && n > 1)
        qsort(boxes, n, sizeof(*boxes), compare_reading);
}
