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
#include <stdbool.h>
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

/* What box_score_fast reads: the box's bounding rectangle, floored and
 * ceiled, clipped to the map (xmin, ymin, mw x mh), and the corners
 * relative to it as box - [xmin, ymin] in float32, then astype(int32). */
typedef struct score_window {
    int xmin, ymin, mw, mh;
    int32_t pts[8];
} score_window;

static int score_window_of(const float box[8], int w, int h, score_window *sw, hdm_err *err)
{
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
    sw->xmin = xmin;
    sw->ymin = ymin;
    sw->mw = xmax - xmin + 1;
    sw->mh = ymax - ymin + 1;
    for (int i = 0; i < 4; i++) {
        sw->pts[2 * i] = (int32_t)(box[2 * i] - (float)xmin);
        sw->pts[2 * i + 1] = (int32_t)(box[2 * i + 1] - (float)ymin);
    }
    return 0;
}

/* cv2.fillPoly of the window's polygon into a fresh mw x mh mask (the
 * caller frees *mask). */
static int window_mask(const score_window *sw, uint8_t **mask, hdm_err *err)
{
    *mask = calloc((size_t)sw->mw * (size_t)sw->mh, 1);
    if (*mask == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "box score: out of memory for a %dx%d mask", sw->mw,
                           sw->mh);
    int rc = imgproc_fill_poly_u8(*mask, sw->mw, sw->mh, 0, sw->pts, 4, 1, err);
    if (rc < 0) {
        free(*mask);
        *mask = NULL;
    }
    return rc;
}

int ocr_db_box_score(const float *pred, int w, int h, size_t stride, const float box[8],
                     double *score, hdm_err *err)
{
    size_t step = stride ? stride : (size_t)w * sizeof(float);
    score_window sw;
    uint8_t *mask = NULL;
    int rc = score_window_of(box, w, h, &sw, err);
    if (rc == 0)
        rc = window_mask(&sw, &mask, err);
    if (rc == 0) {
        const float *sub = (const float *)((const uint8_t *)pred + (size_t)sw.ymin * step) + sw.xmin;
        rc = imgproc_mean_masked_f32(sub, sw.mw, sw.mh, step, mask, 0, score, err);
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

/* The checks every entry point makes; the row stride in bytes into *step
 * (when asked). */
static int check_args(bool have_map, int w, int h, size_t stride, size_t *step,
                      const ocr_db_params *p, ocr_boxes *out, hdm_err *err)
{
    if (out == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "DB post-processing: no output");
    out->items = NULL;
    out->count = 0;
    if (!have_map || p == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "DB post-processing: no probability map");
    if (w < 1 || h < 1 || w > IMGPROC_MAX_SIDE || h > IMGPROC_MAX_SIDE)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "DB post-processing: map size %dx%d is outside 1..%d", w, h,
                           IMGPROC_MAX_SIDE);
    if (step != NULL) {
        *step = stride ? stride : (size_t)w * sizeof(float);
        if (*step < (size_t)w * sizeof(float))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "DB post-processing: row stride %zu too small", stride);
    }
    if (!(p->unclip_ratio >= 0.0 && p->unclip_ratio <= 100.0) || p->min_size < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "DB post-processing: bad parameters");
    return 0;
}

/* ---- the map, a band at a time ------------------------------------------------ */

/* Rows a band is cut into for OpenCV's threads when there are several:
 * each piece costs its rows plus up to three source rows of the cubic
 * resize's overlap and its own coefficient tables, so on one thread a band
 * is one piece. */
#define PIECE_ROWS 32
#define BAND_PIECES (OCR_DB_BAND_ROWS / PIECE_ROWS)

/* Rows [lo, hi) of the map into band (row lo first, packed), and when
 * `bitmap` is set thresholded into it (row y at bitmap + (y + 1) * (w + 2)
 * + 1: inside findContours' frame). */
typedef struct band_job {
    ocr_db_rows_fn rows;
    void *user;
    int w, lo, hi;
    int piece;     /* rows per piece */
    float *band;
    float thresh;
    uint8_t *bitmap;
    int rc[BAND_PIECES];
} band_job;

/* b[x] = row[x] > thresh ? 255 : 0, eight at a time with GCC's vector
 * extensions in 128-bit vectors (SSE2, NEON; the plain loop is not
 * vectorized at -O2): a compare gives -1 or 0 per lane, and the two
 * halves packed into bytes keep -1 as 255. */
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));
typedef int16_t v8s __attribute__((vector_size(16)));
typedef int8_t v8b __attribute__((vector_size(8)));

static void threshold_row(const float *row, uint8_t *b, int w, float thresh)
{
    int x = 0;
    v4f t = {thresh, thresh, thresh, thresh};
    for (; x + 8 <= w; x += 8) {
        v4f lo, hi;
        memcpy(&lo, row + x, sizeof(lo));
        memcpy(&hi, row + x + 4, sizeof(hi));
        v4i mlo = lo > t, mhi = hi > t;
        v8s m = __builtin_shufflevector((v8s)mlo, (v8s)mhi, 0, 2, 4, 6, 8, 10, 12, 14);
        v8b out = __builtin_convertvector(m, v8b);
        memcpy(b + x, &out, sizeof(out));
    }
    for (; x < w; x++)
        b[x] = row[x] > thresh ? 255 : 0;
}

static void band_pieces(void *user, size_t begin, size_t end)
{
    band_job *j = user;
    size_t pitch = (size_t)j->w;
    for (size_t i = begin; i < end; i++) {
        int y0 = j->lo + (int)i * j->piece;
        int y1 = y0 + j->piece < j->hi ? y0 + j->piece : j->hi;
        float *dst = j->band + (size_t)(y0 - j->lo) * pitch;
        j->rc[i] = j->rows(j->user, y0, y1, dst, pitch * sizeof(float), NULL);
        if (j->rc[i] < 0 || j->bitmap == NULL)
            continue;
        for (int y = y0; y < y1; y++)
            threshold_row(dst + (size_t)(y - y0) * pitch,
                          j->bitmap + (size_t)(y + 1) * (pitch + 2) + 1, j->w, j->thresh);
    }
}

static int make_band(band_job *j, hdm_err *err)
{
    j->piece = imgproc_threads() > 1 ? PIECE_ROWS : OCR_DB_BAND_ROWS;
    size_t n = (size_t)(j->hi - j->lo + j->piece - 1) / (size_t)j->piece;
    /* Pieces are independent: on OpenCV's threads, or here when it cannot
     * run them. */
    if (imgproc_parallel_for(n, band_pieces, j, NULL) < 0)
        band_pieces(j, 0, n);
    for (size_t i = 0; i < n; i++)
        if (j->rc[i] < 0) {
            /* Again on this thread for the sentence. */
            int y0 = j->lo + (int)i * j->piece;
            int y1 = y0 + j->piece < j->hi ? y0 + j->piece : j->hi;
            int rc = j->rows(j->user, y0, y1, j->band, (size_t)j->w * sizeof(float), err);
            return rc < 0 ? rc
                          : hdm_err_set(err, HDM_E_INTERNAL, "map rows %d..%d failed, then did not",
                                        y0, y1);
        }
    return 0;
}

/* ---- one contour, in three steps -------------------------------------------- */

/* A contour on its way to a box.  The mask of box_score_fast is kept as
 * its runs (row by row, left to right), so pass 2 adds exactly the pixels
 * cv::mean would, in its order, without keeping masks. */
typedef struct candidate {
    float box[8];
    int scored;        /* passed min_size: the score is wanted */
    score_window win;
    int32_t *runs;     /* per window row r: runs[row_at[r]..row_at[r+1]) pairs x0, x1 (end) */
    int32_t *row_at;   /* mh + 1 offsets (same allocation as runs) */
    double sum;        /* masked pixels added so far, in cv::mean's order */
    size_t count;
    ocr_box out;
    int keep;          /* out is a box */
    int rc;
} candidate;

/* The window of c->box and its mask's runs; c->scored once they are made. */
static int candidate_runs(candidate *c, int w, int h, hdm_err *err)
{
    uint8_t *mask = NULL;
    int rc = score_window_of(c->box, w, h, &c->win, err);
    if (rc == 0)
        rc = window_mask(&c->win, &mask, err);
    if (rc < 0)
        return rc;
    int mw = c->win.mw, mh = c->win.mh;
    size_t nruns = 0;
    for (int r = 0; r < mh; r++) {
        const uint8_t *m = mask + (size_t)r * (size_t)mw;
        for (int x = 0; x < mw; x++)
            if (m[x] != 0 && (x == 0 || m[x - 1] == 0))
                nruns++;
    }
    int32_t *mem = malloc(((size_t)mh + 1 + 2 * nruns) * sizeof(int32_t));
    if (mem == NULL) {
        free(mask);
        return hdm_err_set(err, HDM_E_NOMEM, "box score: out of memory for %zu mask runs", nruns);
    }
    c->row_at = mem;
    c->runs = mem + mh + 1;
    size_t k = 0;
    for (int r = 0; r < mh; r++) {
        const uint8_t *m = mask + (size_t)r * (size_t)mw;
        c->row_at[r] = (int32_t)k;
        for (int x = 0; x < mw;) {
            if (m[x] == 0) {
                x++;
                continue;
            }
            int x0 = x;
            while (x < mw && m[x] != 0)
                x++;
            c->runs[k++] = x0;
            c->runs[k++] = x;
        }
    }
    c->row_at[mh] = (int32_t)k;
    free(mask);
    c->sum = 0.0;
    c->count = 0;
    c->scored = 1;
    return 0;
}

/* Step 1: get_mini_boxes, the min_size filter, and the mask's runs. */
static int candidate_prepare(candidate *c, const int32_t *xy, size_t n, int w, int h,
                             const ocr_db_params *p, hdm_err *err)
{
    double sside;
    c->scored = 0;
    int rc = ocr_db_mini_box(xy, n, c->box, &sside, err);
    if (rc < 0 || sside < p->min_size)
        return rc;
    return candidate_runs(c, w, h, err);
}

/* cv::mean's result: the sum times 1 / count (0 without pixels). */
static double candidate_score(const candidate *c)
{
    return c->sum * (c->count ? 1.0 / (double)c->count : 0.0);
}

/* Step 2 (per band): the masked pixels of rows [lo, hi) of the window,
 * band holding map rows from `first` on. */
static void candidate_add(candidate *c, const float *band, int w, int first, int lo, int hi)
{
    const score_window *sw = &c->win;
    int r0 = lo > sw->ymin ? lo : sw->ymin;
    int r1 = hi < sw->ymin + sw->mh ? hi : sw->ymin + sw->mh;
    double s = c->sum;
    size_t n = c->count;
    for (int y = r0; y < r1; y++) {
        const float *row = band + (size_t)(y - first) * (size_t)w + sw->xmin;
        int r = y - sw->ymin;
        for (int32_t k = c->row_at[r]; k < c->row_at[r + 1]; k += 2)
            for (int32_t x = c->runs[k]; x < c->runs[k + 1]; x++) {
                s += row[x];
                n++;
            }
    }
    c->sum = s;
    c->count = n;
}

/* Step 3: the score's threshold, unclip, the grown box's filter, rounding. */
static int candidate_finish(candidate *c, int w, int h, const ocr_db_params *p, hdm_err *err)
{
    float grown[8];
    double sside;
    int32_t *exp_xy = NULL;
    size_t exp_n = 0, paths = 0;
    c->keep = 0;
    if (!c->scored)
        return 0;
    double score = candidate_score(c);
    if (p->box_thresh > score) /* a NaN score passes, as in Python */
        return 0;
    double distance = ocr_unclip_distance(c->box, 4, p->unclip_ratio);
    int rc = ocr_unclip_offset(c->box, 4, distance, &exp_xy, &exp_n, &paths, err);
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
    ocr_box *b = &c->out;
    for (int i = 0; i < 4; i++) {
        b->quad[2 * i] = round_clip(grown[2 * i], w);
        b->quad[2 * i + 1] = round_clip(grown[2 * i + 1], h);
    }
    ocr_db_bounding_rect(b->quad, &b->x, &b->y, &b->w, &b->h);
    b->score = score;
    c->keep = 1;
    return 0;
}

/* ---- the steps over all contours ------------------------------------------------ */

typedef struct contours_job {
    const imgproc_contours *contours;
    candidate *cand;
    int w, h;
    const ocr_db_params *p;
    /* step 2 */
    const float *band;
    int first, lo, hi;
} contours_job;

static void prepare_range(void *user, size_t begin, size_t end)
{
    const contours_job *j = user;
    for (size_t i = begin; i < end; i++) {
        const int32_t *xy = j->contours->xy + 2 * j->contours->start[i];
        size_t np = j->contours->start[i + 1] - j->contours->start[i];
        j->cand[i].rc = candidate_prepare(&j->cand[i], xy, np, j->w, j->h, j->p, NULL);
    }
}

static void add_range(void *user, size_t begin, size_t end)
{
    const contours_job *j = user;
    for (size_t i = begin; i < end; i++)
        if (j->cand[i].scored)
            candidate_add(&j->cand[i], j->band, j->w, j->first, j->lo, j->hi);
}

static void finish_range(void *user, size_t begin, size_t end)
{
    const contours_job *j = user;
    for (size_t i = begin; i < end; i++)
        j->cand[i].rc = candidate_finish(&j->cand[i], j->w, j->h, j->p, NULL);
}

/* Runs fn over the n candidates on OpenCV's threads (or here); the first
 * failure, in contour order, is run again on this thread by `again` for its
 * sentence. */
static int over_candidates(contours_job *j, size_t n, void (*fn)(void *, size_t, size_t),
                           int (*again)(contours_job *j, size_t i, hdm_err *err), hdm_err *err)
{
    if (imgproc_parallel_for(n, fn, j, NULL) < 0)
        fn(j, 0, n);
    if (again == NULL)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (j->cand[i].rc < 0) {
            int rc = again(j, i, err);
            return rc < 0 ? rc
                          : hdm_err_set(err, HDM_E_INTERNAL, "contour %zu failed, then did not",
                                        i);
        }
    return 0;
}

static int prepare_again(contours_job *j, size_t i, hdm_err *err)
{
    candidate *c = &j->cand[i];
    free(c->row_at);
    c->row_at = c->runs = NULL;
    const int32_t *xy = j->contours->xy + 2 * j->contours->start[i];
    size_t np = j->contours->start[i + 1] - j->contours->start[i];
    return candidate_prepare(c, xy, np, j->w, j->h, j->p, err);
}

static int finish_again(contours_job *j, size_t i, hdm_err *err)
{
    return candidate_finish(&j->cand[i], j->w, j->h, j->p, err);
}

/* Pass 2: the map again, band by band, only the rows the scored boxes
 * cover; bands in order, so each box adds its rows in cv::mean's order. */
static int score_candidates(contours_job *j, size_t n, ocr_db_rows_fn rows, void *user,
                            float *band, hdm_err *err)
{
    int ylo = j->h, yhi = 0;
    for (size_t i = 0; i < n; i++) {
        const candidate *c = &j->cand[i];
        if (!c->scored)
            continue;
        ylo = c->win.ymin < ylo ? c->win.ymin : ylo;
        yhi = c->win.ymin + c->win.mh > yhi ? c->win.ymin + c->win.mh : yhi;
    }
    for (int y0 = ylo; y0 < yhi; y0 += OCR_DB_BAND_ROWS) {
        int y1 = y0 + OCR_DB_BAND_ROWS < yhi ? y0 + OCR_DB_BAND_ROWS : yhi;
        /* Only the rows some box of this band needs. */
        int lo = y1, hi = y0;
        for (size_t i = 0; i < n; i++) {
            const candidate *c = &j->cand[i];
            if (!c->scored || c->win.ymin >= y1 || c->win.ymin + c->win.mh <= y0)
                continue;
            int from = c->win.ymin > y0 ? c->win.ymin : y0;
            int to = c->win.ymin + c->win.mh < y1 ? c->win.ymin + c->win.mh : y1;
            lo = from < lo ? from : lo;
            hi = to > hi ? to : hi;
        }
        if (lo >= hi)
            continue;
        band_job bj = {.rows = rows, .user = user, .w = j->w, .lo = lo, .hi = hi, .band = band};
        int rc = make_band(&bj, err);
        if (rc < 0)
            return rc;
        j->band = band;
        j->first = lo;
        j->lo = lo;
        j->hi = hi;
        over_candidates(j, n, add_range, NULL, err);
    }
    return 0;
}

int ocr_db_box_scores_rows(ocr_db_rows_fn rows, void *user, int w, int h, const float *boxes,
                           size_t n, float *band, double *scores, hdm_err *err)
{
    if (rows == NULL || band == NULL || (n > 0 && (boxes == NULL || scores == NULL)))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "box scores: missing map, band or boxes");
    if (w < 1 || h < 1 || w > IMGPROC_MAX_SIDE || h > IMGPROC_MAX_SIDE)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "box scores: map size %dx%d", w, h);
    if (n == 0)
        return 0;
    candidate *cand = calloc(n, sizeof(*cand));
    if (cand == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for %zu boxes", n);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        memcpy(cand[i].box, boxes + 8 * i, sizeof(cand[i].box));
        rc = candidate_runs(&cand[i], w, h, err);
    }
    contours_job j = {.cand = cand, .w = w, .h = h};
    if (rc == 0)
        rc = score_candidates(&j, n, rows, user, band, err);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            scores[i] = candidate_score(&cand[i]);
        free(cand[i].row_at);
    }
    free(cand);
    return rc;
}

int ocr_db_boxes_rows(ocr_db_rows_fn rows, void *user, int w, int h, const ocr_db_params *p,
                      uint8_t *bitmap, float *band, ocr_boxes *out, hdm_err *err)
{
    imgproc_contours contours = {0};
    candidate *cand = NULL;
    size_t n = 0, cap = 0;
    int rc = check_args(rows != NULL, w, h, 0, NULL, p, out, err);
    if (rc < 0)
        return rc;
    if (bitmap == NULL || band == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "DB post-processing: no bitmap or band buffer");
    /* Pass 1: the map band by band, thresholded inside the one-pixel frame
     * findContours works with (no copy of it). */
    for (int y0 = 0; y0 < h && rc == 0; y0 += OCR_DB_BAND_ROWS) {
        band_job bj = {.rows = rows, .user = user, .w = w, .lo = y0,
                       .hi = y0 + OCR_DB_BAND_ROWS < h ? y0 + OCR_DB_BAND_ROWS : h,
                       .band = band, .thresh = p->thresh, .bitmap = bitmap};
        rc = make_band(&bj, err);
    }
    if (rc == 0)
        rc = imgproc_find_contours_framed(bitmap, w, h, &contours, err);
    if (rc < 0)
        goto out;
    /* The first max_candidates contours (the loop of boxes_from_bitmap):
     * each one's box depends on that contour and the map alone, so the
     * steps run on OpenCV's threads and the boxes are kept in order. */
    n = contours.count < p->max_candidates ? contours.count : p->max_candidates;
    if (n == 0)
        goto out;
    cand = calloc(n, sizeof(*cand));
    if (cand == NULL) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory for %zu contours", n);
        goto out;
    }
    contours_job j = {.contours = &contours, .cand = cand, .w = w, .h = h, .p = p};
    rc = over_candidates(&j, n, prepare_range, prepare_again, err);
    if (rc == 0)
        rc = score_candidates(&j, n, rows, user, band, err);
    if (rc == 0)
        rc = over_candidates(&j, n, finish_range, finish_again, err);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!cand[i].keep)
            continue;
        cand[i].out.db_index = out->count;
        rc = push_box(out, &cap, &cand[i].out, err);
    }
out:
    for (size_t i = 0; i < n && cand != NULL; i++)
        free(cand[i].row_at);
    free(cand);
    imgproc_contours_free(&contours);
    return rc;
}

/* ---- a whole map in memory ----------------------------------------------------- */

typedef struct full_map {
    const float *pred;
    size_t step;
    int w;
} full_map;

static int full_map_rows(void *user, int y0, int y1, float *dst, size_t dst_stride, hdm_err *err)
{
    (void)err;
    const full_map *m = user;
    for (int y = y0; y < y1; y++)
        memcpy((uint8_t *)dst + (size_t)(y - y0) * dst_stride,
               (const uint8_t *)m->pred + (size_t)y * m->step, (size_t)m->w * sizeof(float));
    return 0;
}

int ocr_db_boxes_buf(const float *pred, int w, int h, size_t stride, const ocr_db_params *p,
                     uint8_t *bitmap, ocr_boxes *out, hdm_err *err)
{
    size_t step;
    int rc = check_args(pred != NULL, w, h, stride, &step, p, out, err);
    if (rc < 0)
        return rc;
    if (bitmap == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "DB post-processing: no bitmap buffer");
    float *band = malloc(OCR_DB_BAND_BYTES(w));
    if (band == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for a %d-pixel band of the map", w);
    full_map m = {pred, step, w};
    rc = ocr_db_boxes_rows(full_map_rows, &m, w, h, p, bitmap, band, out, err);
    free(band);
    return rc;
}

int ocr_db_boxes(const float *pred, int w, int h, size_t stride, const ocr_db_params *p,
                 ocr_boxes *out, hdm_err *err)
{
    size_t step;
    int rc = check_args(pred != NULL, w, h, stride, &step, p, out, err);
    if (rc < 0)
        return rc;
    uint8_t *bitmap = malloc(OCR_DB_BITMAP_BYTES(w, h));
    if (bitmap == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for a %dx%d text mask", w, h);
    rc = ocr_db_boxes_buf(pred, w, h, stride, p, bitmap, out, err);
    free(bitmap);
    return rc;
}
