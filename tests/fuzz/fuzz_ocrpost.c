/*
 * fuzz_ocrpost.c - the OCR post-processing (src/ocrpost) on random
 * probability maps, images and recognition outputs.  The first byte picks
 * the path:
 *   0: DB on a map of the input's size (bytes 1-2: width and height, 1..96,
 *      then one byte per pixel: value/249, or NaN, +-inf, +-1e30 or exactly
 *      0.3f for the bytes 250..255), then reading order, the crops of every
 *      box from an image made of the input, and the recognition batches;
 *   1: the whole detection path: a model map (as above) for an image of
 *      bytes 3-4 (1..300 each) through ocr_det_boxes, then the crops;
 *   2: CTC decoding: steps (byte 1, 1..64) x classes (byte 2, 1..120) values
 *      taken as above.
 * Invariants are checked with abort(): boxes inside [0, W] x [0, H] with
 * their bounding rectangle's arithmetic, scores above the box threshold
 * (or NaN, as in Python), texts no longer than the steps and made of the
 * character list, every failure with a message.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocrpost/batch.h"
#include "ocrpost/crop.h"
#include "ocrpost/ctc.h"
#include "ocrpost/det.h"
#include "ocrpost/order.h"

#define MAX_SIDE 96
#define MAX_BOXES_CROPPED 24

static float value_of(uint8_t b)
{
    static const float special[6] = {NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 0.3f};
    return b < 250 ? (float)b / 249.0f : special[b - 250];
}

/* n floats from data (cycling through it; zeros when it is empty). */
static float *values(const uint8_t *data, size_t size, size_t n)
{
    float *v = malloc((n ? n : 1) * sizeof(float));
    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = size ? value_of(data[i % size]) : 0.0f;
    return v;
}

static uint8_t *image_of(const uint8_t *data, size_t size, int w, int h)
{
    uint8_t *img = malloc((size_t)w * (size_t)h * 3);
    if (img == NULL)
        return NULL;
    for (size_t i = 0; i < (size_t)w * (size_t)h * 3; i++)
        img[i] = size ? (uint8_t)(data[i % size] * 7 + i) : 0;
    return img;
}

static void check_error(int rc, const hdm_err *err)
{
    if (rc < 0 && err->msg[0] == '\0')
        abort();
}

static void check_boxes(const ocr_boxes *b, int w, int h, const ocr_db_params *p)
{
    for (size_t i = 0; i < b->count; i++) {
        const ocr_box *x = &b->items[i];
        int rx, ry, rw, rh;
        for (int k = 0; k < 4; k++)
            if (x->quad[2 * k] < 0 || x->quad[2 * k] > w || x->quad[2 * k + 1] < 0 ||
                x->quad[2 * k + 1] > h)
                abort();
        ocr_db_bounding_rect(x->quad, &rx, &ry, &rw, &rh);
        if (rx != x->x || ry != x->y || rw != x->w || rh != x->h || rw < 1 || rh < 1)
            abort();
        if (!isnan(x->score) && x->score < p->box_thresh)
            abort();
    }
}

/* Crops and batches of the boxes, from an image made of the input. */
static void crops(const uint8_t *data, size_t size, const ocr_boxes *b, int w, int h)
{
    hdm_err err = {0};
    uint8_t *img = image_of(data, size, w, h);
    uint8_t *rec = malloc(2 * OCR_REC_INPUT_BYTES);
    size_t n = b->count < MAX_BOXES_CROPPED ? b->count : MAX_BOXES_CROPPED;
    if (img == NULL || rec == NULL)
        goto out;
    for (size_t i = 0; i < ocr_batch_count(n, 2); i++) {
        size_t count = 0;
        int rc = ocr_batch_fill(img, w, h, 0, b->items, n, i, 2, true, rec, &count, &err);
        check_error(rc, &err);
        if (rc == 0 && (count < 1 || count > 2))
            abort();
    }
out:
    free(img);
    free(rec);
}

static void db_path(const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    int w = 1 + data[1] % MAX_SIDE, h = 1 + data[2] % MAX_SIDE;
    float *map = values(data + 3, size - 3, (size_t)w * (size_t)h);
    ocr_db_params p;
    ocr_boxes b = {0};
    hdm_err err = {0};
    if (map == NULL)
        return;
    ocr_db_params_default(&p);
    int rc = ocr_db_boxes(map, w, h, 0, &p, &b, &err);
    check_error(rc, &err);
    if (rc == 0) {
        check_boxes(&b, w, h, &p);
        ocr_order_reading(b.items, b.count);
        for (size_t i = 1; i < b.count; i++) {
            int band0 = b.items[i - 1].y / OCR_ORDER_LINE_HEIGHT;
            int band1 = b.items[i].y / OCR_ORDER_LINE_HEIGHT;
            if (band0 > band1 || (band0 == band1 && b.items[i - 1].x > b.items[i].x))
                abort();
        }
        crops(data, size, &b, w, h);
    }
    ocr_boxes_free(&b);
    free(map);
}

static void det_path(const uint8_t *data, size_t size)
{
    if (size < 5)
        return;
    int mw = 1 + data[1] % MAX_SIDE, mh = 1 + data[2] % MAX_SIDE;
    int iw = 1 + (data[3] * 7) % 300, ih = 1 + (data[4] * 5) % 300;
    float *heat = values(data + 5, size - 5, (size_t)mw * (size_t)mh);
    ocr_boxes b = {0};
    hdm_err err = {0};
    ocr_db_params p;
    if (heat == NULL)
        return;
    ocr_db_params_default(&p);
    int rc = ocr_det_boxes(heat, mw, mh, 1, iw, ih, NULL, &b, &err);
    check_error(rc, &err);
    if (rc == 0) {
        check_boxes(&b, iw, ih, &p);
        crops(data, size, &b, iw, ih);
    }
    ocr_boxes_free(&b);
    free(heat);
}

static void ctc_path(const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    size_t steps = 1 + data[1] % 64, classes = 1 + data[2] % 120;
    float *probs = values(data + 3, size - 3, steps * classes);
    char text[65];
    double conf = -1.0;
    hdm_err err = {0};
    if (probs == NULL)
        return;
    int rc = ocr_ctc_decode(probs, steps, classes, text, sizeof(text), &conf, &err);
    check_error(rc, &err);
    if ((rc < 0) != (classes > OCR_CTC_CLASSES))
        abort();
    if (rc == 0) {
        if (strlen(text) > steps)
            abort();
        for (const char *c = text; *c; c++)
            if (memchr(ocr_ctc_charset + 1, *c, OCR_CTC_CLASSES - 1) == NULL)
                abort();
        if (text[0] == '\0' && conf != 0.0)
            abort();
    }
    free(probs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0:
        db_path(data, size);
        break;
    case 1:
        det_path(data, size);
        break;
    default:
        ctc_path(data, size);
        break;
    }
    return 0;
}
