/*
 * db.c - DB post-processing (db.h): PaddleOCR's DBPostProcess.boxes_from_bitmap
 * step by step on image/imgproc.h and ocrpost/unclip.h.
 *
 * DESIGN: the arithmetic follows numpy's types, not what looks natural in C:
 * the threshold is compared in float32 (numpy compares a float32 array with
 * a Python float in float32), box corners stay float32 through sorting,
 * flooring and the final x / width * width rounding (float32 in numpy, and
 * not always x again), rounding is half to even (np.round), and the final
 * clip is to [0, width], not width - 1.  The one deliberate difference: an
 * unclip that yields no polygon (impossible for the quadrilaterals DB makes)
 * drops the box, where the Python would raise and fail the request.
 * The thresholding rows and the contours' boxes are independent of each
 * other and run on OpenCV's threads (imgproc_parallel_for); the boxes are
 * kept in contour order, so nothing depends on the number of threads.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/imgproc.h"
#include "ocrpost/db.h"
#include "ocrpost/unclip.h"

void ocr_db_params_default(ocr_db_params *p)
{
    p->thresh = 0.3f;
    p->box_thresh = 0.6;
    p->max_candidates = 1000;
    p->unclip_ratio = 1.5;
    p->min_size = 3;
}

void ocr_boxes_free(ocr_boxes *b)
{
    if (b == NULL)
        return;
    free(b->items);
    b->items = NULL;
    b->count = 0;
}

static int clamp_int(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

void ocr_db_bounding_rect(const int32_t quad[8], int *x, int *y, int *w, int *h)
{
    int32_t minx = quad[0], maxx = quad[0], miny = quad[1], maxy = quad[1];
    for (int i = 1; i < 4; i++) {
        minx = quad[2 * i] < minx ? quad[2 * i] : minx;
        maxx = quad[2 * i] > maxx ? quad[2 * i] : maxx;
        miny = quad[2 * i + 1] < miny ? quad[2 * i + 1] : miny;
        maxy = quad[2 * i + 1] > maxy ? quad[2 * i + 1] : maxy;
    }
    *x = minx;
    *y = miny;
    *w = maxx - minx + 1;
    *h = maxy - miny + 1;
}

int ocr_db_mini_box(const int32_t *xy, size_t n, float box[8], double *sside, hdm_err *err)
{
    imgproc_rotated_rect r;
    float pts[8];
    int order[4] = {0, 1, 2, 3};
    int rc = imgproc_min_area_rect_i32(xy, n, &r, err);
    if (rc == 0)
        rc = imgproc_box_points(&r, pts, err);
    if (rc < 0)
        return rc;
    /* sorted(points, key=x): a stable sort, so equal x keep OpenCV's order. */
    for (int i = 1; i < 4; i++) {
        int key = order[i], j = i;
        while (j > 0 && pts[2 * order[j - 1]] > pts[2 * key]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = key;
    }
    const float *p[4];
    for (int i = 0; i < 4; i++)
        p[i] = &pts[2 * order[i]];
    /* Of the two left points the upper one is first; of the two right ones
     * the upper one is second: top-left, top-right, bottom-right, bottom-left. */
    int i1 = 0, i2 = 2, i3 = 3, i4 = 1;
    if (!(p[1][1] > p[0][1])) {
        i1 = 1;
        i4 = 0;
    }
    if (!(p[3][1] > p[2][1])) {
        i2 = 3;
        i3 = 2;
    }
    const int pick[4] = {i1, i2, i3, i4};
    for (int i = 0; i < 4; i++) {
        box[2 * i] = p[pick[i]][0];
        box[2 * i + 1] = p[pick[i]][1];
    }
    *sside = (double)(r.h < r.w ? r.h : r.w);
    return 0;
}

int ocr_db_box_score(const float *pred, int w, int h, size_t stride, const float box[8],
                     double *score, hdm_err *err)
{
    size_t step = stride ? stride : (size_t)w * sizeof(float);
    int32_t pts[8];
    /* Corners come from minAreaRect of integer points; anything else is a
     * caller's error (and would make the int conversions below undefined). */
    for (int i = 0; i < 8; i++)
        if (!isfinite(box[i]) || fabsf(box[i]) > 1e9f)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "box score: corner value %g", box[i]);
    if (w < 1 || h < 1)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "box score: map size %dx%d", w, h);
    float minx = box[0], maxx = box[0], miny = box[1], maxy = box[1];
    for (int i = 1; i < 4; i++) {
        minx = fminf(minx, box[2 * i]);
        maxx = fmaxf(maxx, box[2 * i]);
        miny = fminf(miny, box[2 * i + 1]);
        maxy = fmaxf(maxy, box[2 * i + 1]);
    }
    int xmin = clamp_int((int)floorf(minx), 0, w - 1);
    int xmax = clamp_int((int)ceilf(maxx), 0, w - 1);
    int ymin = clamp_int((int)floorf(miny), 0, h - 1);
    int ymax = clamp_int((int)ceilf(maxy), 0, h - 1);
    int mw = xmax - xmin + 1, mh = ymax - ymin + 1;
    uint8_t *mask = calloc((size_t)mw * (size_t)mh, 1);
    if (mask == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "box score: out of memory for a %dx%d mask", mw, mh);
    /* box - [xmin, ymin] in float32, then astype(int32): truncation. */
    for (int i = 0; i < 4; i++) {
        pts[2 * i] = (int32_t)(box[2 * i] - (float)xmin);
        pts[2 * i + 1] = (int32_t)(box[2 * i + 1] - (float)ymin);
    }
    int rc = imgproc_fill_poly_u8(mask, mw, mh, 0, pts, 4, 1, err);
    if (rc == 0) {
        const float *sub = (const float *)((const uint8_t *)pred + (size_t)ymin * step) + xmin;
        rc = imgproc_mean_masked_f32(sub, mw, mh, step, mask, 0, score, err);
    }
    free(mask);
    return rc;
}

/* np.clip(np.round(v / size * size), 0, size) in float32, then int32. */
static int32_t round_clip(float v, int size)
{
    float s = (float)size;
    float r = rintf(v / s * s);
    if (r < 0.0f)
        r = 0.0f;
    if (r > s)
        r = s;
    return (int32_t)r;
}

static int push_box(ocr_boxes *out, size_t *cap, const ocr_box *b, hdm_err *err)
{
    if (out->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        ocr_box *items = realloc(out->items, ncap * sizeof(*items));
        if (items == NULL)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory for %zu text boxes", ncap);
        out->items = items;
        *cap = ncap;
    }
    out->items[out->count++] = *b;
    return 0;
}

/* One contour through the DB filters; *keep says whether *b is a box. */
static int contour_box(const float *pred, int w, int h, size_t stride, const ocr_db_params *p,
                       const int32_t *xy, size_t n, ocr_box *b, int *keep, hdm_err *err)
{
    float box[8], grown[8];
    double sside, score;
    int32_t *exp_xy = NULL;
    size_t exp_n = 0, paths = 0;
    *keep = 0;

    int rc = ocr_db_mini_box(xy, n, box, &sside, err);
    if (rc < 0 || sside < p->min_size)
        return rc;
    rc = ocr_db_box_score(pred, w, h, stride, box, &score, err);
    if (rc < 0 || p->box_thresh > score) /* a NaN score passes, as in Python */
        return rc;
    double distance = ocr_unclip_distance(box, 4, p->unclip_ratio);
    rc = ocr_unclip_offset(box, 4, distance, &exp_xy, &exp_n, &paths, err);
    if (rc < 0)
        return rc;
    if (exp_n == 0) {
        free(exp_xy);
        return 0;
    }
    rc = ocr_db_mini_box(exp_xy, exp_n, grown, &sside, err);
    free(exp_xy);
    if (rc < 0 || sside < p->min_size + 2)
        return rc;
    for (int i = 0; i < 4; i++) {
        b->quad[2 * i] = round_clip(grown[2 * i], w);
        b->quad[2 * i + 1] = round_clip(grown[2 * i + 1], h);
    }
    ocr_db_bounding_rect(b->quad, &b->x, &b->y, &b->w, &b->h);
    b->score = score;
    *keep = 1;
    return 0;
}

/* The checks every entry point makes; the row stride in bytes into *step. */
static int check_args(const float *pred, int w, int h, size_t stride, const ocr_db_params *p,
                      ocr_boxes *out, size_t *step, hdm_err *err)
{
    if (out == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "DB post-processing: no output");
    out->items = NULL;
    out->count = 0;
    if (pred == NULL || p == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "DB post-processing: no probability map");
    if (w < 1 || h < 1 || w > IMGPROC_MAX_SIDE || h > IMGPROC_MAX_SIDE)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "DB post-processing: map size %dx%d is outside 1..%d", w, h,
                           IMGPROC_MAX_SIDE);
    *step = stride ? stride : (size_t)w * sizeof(float);
    if (*step < (size_t)w * sizeof(float))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "DB post-processing: row stride %zu too small",
                           stride);
    if (!(p->unclip_ratio >= 0.0 && p->unclip_ratio <= 100.0) || p->min_size < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "DB post-processing: bad parameters");
    return 0;
}

/* bitmap = pred > thresh as 0/255 for findContours: row y of the map goes
 * to bitmap + y * pitch + at (a framed bitmap puts it inside its frame). */
typedef struct threshold_job {
    const float *pred;
    int w;
    size_t step;
    float thresh;
    uint8_t *bitmap;
    size_t pitch, at;
} threshold_job;

static void threshold_rows(void *user, size_t begin, size_t end)
{
    const threshold_job *j = user;
    for (size_t y = begin; y < end; y++) {
        const float *row = (const float *)((const uint8_t *)j->pred + y * j->step);
        uint8_t *b = j->bitmap + y * j->pitch + j->at;
        for (int x = 0; x < j->w; x++)
            b[x] = row[x] > j->thresh ? 255 : 0;
    }
}

static void threshold(const float *pred, int w, int h, size_t step, float thresh, uint8_t *bitmap,
                      size_t pitch, size_t at)
{
    threshold_job j = {pred, w, step, thresh, bitmap, pitch, at};
    /* Rows are independent: spread over OpenCV's threads (imgproc.h), or
     * here when it cannot run them. */
    if (imgproc_parallel_for((size_t)h, threshold_rows, &j, NULL) < 0)
        threshold_rows(&j, 0, (size_t)h);
}

/* One contour's outcome, computed on any thread. */
typedef struct contour_result {
    ocr_box box;
    int keep;
    int rc;
} contour_result;

typedef struct contours_job {
    const float *pred;
    int w, h;
    size_t step;
    const ocr_db_params *p;
    const imgproc_contours *contours;
    contour_result *res;
} contours_job;

static void contours_range(void *user, size_t begin, size_t end)
{
    const contours_job *j = user;
    for (size_t i = begin; i < end; i++) {
        const int32_t *xy = j->contours->xy + 2 * j->contours->start[i];
        size_t np = j->contours->start[i + 1] - j->contours->start[i];
        contour_result *r = &j->res[i];
        r->rc = contour_box(j->pred, j->w, j->h, j->step, j->p, xy, np, &r->box, &r->keep, NULL);
    }
}

/* The boxes of the first max_candidates contours, in contour order (the
 * loop of boxes_from_bitmap).  Each contour's box depends on that contour
 * and the map alone, so they are computed on OpenCV's threads and then
 * kept in order; a failure is computed again here for its sentence. */
static int contours_to_boxes(const float *pred, int w, int h, size_t step, const ocr_db_params *p,
                             const imgproc_contours *contours, ocr_boxes *out, hdm_err *err)
{
    size_t cap = 0;
    size_t n = contours->count < p->max_candidates ? contours->count : p->max_candidates;
    if (n == 0)
        return 0;
    contour_result *res = malloc(n * sizeof(*res));
    if (res == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for %zu contours", n);
    contours_job j = {pred, w, h, step, p, contours, res};
    if (imgproc_parallel_for(n, contours_range, &j, NULL) < 0)
        contours_range(&j, 0, n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (res[i].rc < 0) {
            ocr_box b;
            int keep;
            const int32_t *xy = contours->xy + 2 * contours->start[i];
            size_t np = contours->start[i + 1] - contours->start[i];
            /* Again on this thread for the sentence: the same inputs fail
             * the same way. */
            rc = contour_box(pred, w, h, step, p, xy, np, &b, &keep, err);
            if (rc == 0)
                rc = hdm_err_set(err, HDM_E_INTERNAL, "contour %zu failed, then did not", i);
            break;
        }
        if (!res[i].keep)
            continue;
        res[i].box.db_index = out->count;
        rc = push_box(out, &cap, &res[i].box, err);
    }
    free(res);
    return rc;
}

int ocr_db_boxes_buf(const float *pred, int w, int h, size_t stride, const ocr_db_params *p,
                     uint8_t *bitmap, ocr_boxes *out, hdm_err *err)
{
    imgproc_contours contours = {0};
    size_t step;
    int rc = check_args(pred, w, h, stride, p, out, &step, err);
    if (rc < 0)
        return rc;
    if (bitmap == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "DB post-processing: no bitmap buffer");
    /* Inside the one-pixel frame findContours works with (no copy of it). */
    threshold(pred, w, h, step, p->thresh, bitmap, (size_t)w + 2, (size_t)w + 3);
    rc = imgproc_find_contours_framed(bitmap, w, h, &contours, err);
    if (rc == 0)
        rc = contours_to_boxes(pred, w, h, step, p, &contours, out, err);
    imgproc_contours_free(&contours);
    return rc;
}

int ocr_db_boxes(const float *pred, int w, int h, size_t stride, const ocr_db_params *p,
                 ocr_boxes *out, hdm_err *err)
{
    imgproc_contours contours = {0};
    size_t step;
    int rc = check_args(pred, w, h, stride, p, out, &step, err);
    if (rc < 0)
        return rc;
    uint8_t *bitmap = malloc((size_t)w * (size_t)h);
    if (bitmap == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for a %dx%d text mask", w, h);
    threshold(pred, w, h, step, p->thresh, bitmap, (size_t)w, 0);
    rc = imgproc_find_contours(bitmap, w, h, 0, &contours, err);
    free(bitmap);
    if (rc == 0)
        rc = contours_to_boxes(pred, w, h, step, p, &contours, out, err);
    imgproc_contours_free(&contours);
    return rc;
}
