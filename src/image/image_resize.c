/*
 * image_resize.c - Pillow's resampling (Image.resize with BILINEAR or
 * BICUBIC), bit for bit, on RGB8 and on float32 single-channel ("F")
 * images, plus the centre-crop geometry of CLIP's reference preprocessing.
 *
 * DESIGN: Pillow resizes with a separable convolution (Resample.c), the
 * horizontal pass first, then the vertical one.  For each output position
 * it centres the filter at (i + 0.5) * scale in input coordinates; when
 * downscaling, the filter is stretched by the scale (support widens, so
 * every input pixel under the output pixel is averaged: no aliasing), and
 * the weights are normalised to sum 1.  We compute the weights the same
 * way, in the same order, in double precision (this file is built with
 * -ffp-contract=off so no fused multiply-add changes a last bit).  Then:
 *
 *  - uint8: weights become fixed point with 22 fractional bits, rounded
 *    away from zero; each pass sums integer products onto 2^21 (a half),
 *    shifts right 22 and clamps to 0..255, so the intermediate image is
 *    8-bit like Pillow's and the results are identical.
 *  - float32: each pass sums double products (in input order) and stores a
 *    float, as Pillow's 32bpc passes do.
 *
 * A pass is skipped when its size does not change, as in Pillow.  Only the
 * requested window of the output is computed (a centre crop computes the
 * kept pixels only), which gives the same pixels as resizing everything
 * and cropping, because each output pixel depends on its own index only.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

#define IMAGE_MAX_SIDE 16384
#define PRECISION_BITS 22 /* Pillow: 32 - 8 - 2 */

typedef struct resample_filter {
    double (*fn)(double x);
    double support;
} resample_filter;

static double bilinear(double x)
{
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return 1.0 - x;
    return 0.0;
}

/* Pillow's bicubic (a = -0.5), support 2. */
static double bicubic(double x)
{
    const double a = -0.5;
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

static const resample_filter *filter_of(image_filter f)
{
    static const resample_filter bil = {bilinear, 1.0}, bic = {bicubic, 2.0};
    switch (f) {
    case IMAGE_FILTER_BILINEAR: return &bil;
    case IMAGE_FILTER_BICUBIC: return &bic;
    }
    return NULL;
}

/* The weights of output positions first..first+n-1 of one axis. */
typedef struct taps {
    int ksize;      /* weights per output position (stride of k / ki) */
    int *start;     /* first input index per output */
    int *count;     /* inputs per output */
    double *k;      /* n * ksize normalised weights */
    int32_t *ki;    /* the same in fixed point (uint8 passes only) */
} taps;

static void taps_free(taps *t)
{
    free(t->start);
    free(t->count);
    free(t->k);
    free(t->ki);
}

/* Pillow's precompute_coeffs for a resize from in_size to out_size,
 * restricted to outputs [first, first + n).  0 or -1 (out of memory). */
static int taps_make(taps *t, const resample_filter *f, int in_size, int out_size, int first, int n,
                     int fixed_point)
{
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = f->support * filterscale;
    double ss = 1.0 / filterscale;
    *t = (taps){.ksize = (int)ceil(support) * 2 + 1};
    t->start = malloc((size_t)n * sizeof(int));
    t->count = malloc((size_t)n * sizeof(int));
    t->k = calloc((size_t)n * (size_t)t->ksize, sizeof(double));
    if (fixed_point)
        t->ki = calloc((size_t)n * (size_t)t->ksize, sizeof(int32_t));
    if (!t->start || !t->count || !t->k || (fixed_point && !t->ki))
        return -1;
    for (int i = 0; i < n; i++) {
        double center = ((first + i) + 0.5) * scale;
        int lo = (int)(center - support + 0.5);
        int hi = (int)(center + support + 0.5);
        if (lo < 0)
            lo = 0;
        if (hi > in_size)
            hi = in_size;
        int cnt = hi - lo;
        double *k = t->k + (size_t)i * t->ksize;
        double ww = 0.0;
        for (int x = 0; x < cnt; x++) {
            double w = f->fn((x + lo - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (int x = 0; x < cnt; x++)
            if (ww != 0.0)
                k[x] /= ww;
        if (fixed_point) {
            int32_t *ki = t->ki + (size_t)i * t->ksize;
            for (int x = 0; x < cnt; x++)
                ki[x] = k[x] < 0 ? (int32_t)(-0.5 + k[x] * (1 << PRECISION_BITS))
                                 : (int32_t)(0.5 + k[x] * (1 << PRECISION_BITS));
        }
        t->start[i] = lo;
        t->count[i] = cnt;
    }
    return 0;
}

static inline uint8_t clip8(int32_t ss)
{
    int32_t v = ss >> PRECISION_BITS; /* arithmetic shift, as Pillow relies on */
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* The input rows the vertical taps touch: [*lo, *hi). */
static void rows_needed(const taps *tv, int n, int *lo, int *hi)
{
    *lo = tv->start[0];
    *hi = tv->start[0] + tv->count[0];
    for (int y = 1; y < n; y++) {
        if (tv->start[y] < *lo)
            *lo = tv->start[y];
        if (tv->start[y] + tv->count[y] > *hi)
            *hi = tv->start[y] + tv->count[y];
    }
}

/*
 * One resampling job: the input (chans x uint8 or 1 x float), the full
 * output size it is resized to, and the window [x0, x0+ow) x [y0, y0+oh)
 * of that output to write (row-major, ow wide).
 */
typedef struct resample_job {
    const resample_filter *filter;
    int chans;                  /* 3 for RGB8, 1 for float */
    const uint8_t *in8;
    const float *inf;
    int in_w, in_h;
    int out_w, out_h;           /* the whole resized image */
    int x0, y0, ow, oh;         /* the window written */
    uint8_t *out8;
    float *outf;
} resample_job;

static int run_u8(const resample_job *j, const taps *th, const taps *tv, int need_h, int need_v)
{
    const int C = 3; /* run_u8 is for RGB8 */
    int row_lo = j->y0, row_hi = j->y0 + j->oh;
    if (need_v)
        rows_needed(tv, j->oh, &row_lo, &row_hi);
    size_t rows = (size_t)(row_hi - row_lo);
    size_t trow = (size_t)j->ow * C; /* bytes per temp row */
    uint8_t *tmp = NULL;
    const uint8_t *src;             /* rows row_lo.. of the horizontal result */
    size_t src_stride;

    if (need_h) {
        tmp = malloc(rows * trow);
        if (!tmp)
            return -1;
        for (size_t r = 0; r < rows; r++) {
            const uint8_t *in = j->in8 + (size_t)(row_lo + (int)r) * j->in_w * C;
            uint8_t *dst = tmp + r * trow;
            for (int x = 0; x < j->ow; x++) {
                const uint8_t *p = in + (size_t)th->start[x] * C;
                const int32_t *k = th->ki + (size_t)x * th->ksize;
                int n = th->count[x];
                /* The three channels in one walk over the taps, as Pillow. */
                int32_t s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
                for (int i = 0; i < n; i++, p += 3) {
                    s0 += p[0] * k[i];
                    s1 += p[1] * k[i];
                    s2 += p[2] * k[i];
                }
                dst[x * 3] = clip8(s0);
                dst[x * 3 + 1] = clip8(s1);
                dst[x * 3 + 2] = clip8(s2);
            }
        }
        src = tmp;
        src_stride = trow;
    } else {
        /* Width unchanged: the window's columns are the input's. */
        src = j->in8 + ((size_t)row_lo * j->in_w + (size_t)j->x0) * C;
        src_stride = (size_t)j->in_w * C;
    }

    if (!need_v) {
        for (int y = 0; y < j->oh; y++)
            memcpy(j->out8 + (size_t)y * trow, src + (size_t)y * src_stride, trow);
        free(tmp);
        return 0;
    }
    /* Vertical: integer sums are exact in any order, so whole rows at a
     * time keep the inner loop running along memory. */
    int32_t *acc = malloc(trow * sizeof(int32_t));
    if (!acc) {
        free(tmp);
        return -1;
    }
    for (int y = 0; y < j->oh; y++) {
        const int32_t *k = tv->ki + (size_t)y * tv->ksize;
        for (size_t i = 0; i < trow; i++)
            acc[i] = 1 << (PRECISION_BITS - 1);
        for (int r = 0; r < tv->count[y]; r++) {
            const uint8_t *s = src + (size_t)(tv->start[y] - row_lo + r) * src_stride;
            int32_t w = k[r];
            for (size_t i = 0; i < trow; i++)
                acc[i] += s[i] * w;
        }
        uint8_t *dst = j->out8 + (size_t)y * trow;
        for (size_t i = 0; i < trow; i++)
            dst[i] = clip8(acc[i]);
    }
    free(acc);
    free(tmp);
    return 0;
}

static int run_f32(const resample_job *j, const taps *th, const taps *tv, int need_h, int need_v)
{
    int row_lo = j->y0, row_hi = j->y0 + j->oh;
    if (need_v)
        rows_needed(tv, j->oh, &row_lo, &row_hi);
    size_t rows = (size_t)(row_hi - row_lo);
    float *tmp = NULL;
    const float *src;
    size_t src_stride;

    if (need_h) {
        tmp = malloc(rows * (size_t)j->ow * sizeof(float));
        if (!tmp)
            return -1;
        for (size_t r = 0; r < rows; r++) {
            const float *in = j->inf + (size_t)(row_lo + (int)r) * j->in_w;
            float *dst = tmp + r * (size_t)j->ow;
            for (int x = 0; x < j->ow; x++) {
                const float *p = in + th->start[x];
                const double *k = th->k + (size_t)x * th->ksize;
                double ss = 0.0;
                for (int i = 0; i < th->count[x]; i++)
                    ss += p[i] * k[i];
                dst[x] = (float)ss;
            }
        }
        src = tmp;
        src_stride = (size_t)j->ow;
    } else {
        src = j->inf + (size_t)row_lo * j->in_w + (size_t)j->x0;
        src_stride = (size_t)j->in_w;
    }

    if (!need_v) {
        for (int y = 0; y < j->oh; y++)
            memcpy(j->outf + (size_t)y * j->ow, src + (size_t)y * src_stride,
                   (size_t)j->ow * sizeof(float));
        free(tmp);
        return 0;
    }
    /* Per pixel, the terms are added in input-row order as Pillow does, so
     * accumulating whole rows in doubles gives the same sums. */
    double *acc = malloc((size_t)j->ow * sizeof(double));
    if (!acc) {
        free(tmp);
        return -1;
    }
    for (int y = 0; y < j->oh; y++) {
        const double *k = tv->k + (size_t)y * tv->ksize;
        for (int x = 0; x < j->ow; x++)
            acc[x] = 0.0;
        for (int r = 0; r < tv->count[y]; r++) {
            const float *s = src + (size_t)(tv->start[y] - row_lo + r) * src_stride;
            double w = k[r];
            for (int x = 0; x < j->ow; x++)
                acc[x] += s[x] * w;
        }
        float *dst = j->outf + (size_t)y * j->ow;
        for (int x = 0; x < j->ow; x++)
            dst[x] = (float)acc[x];
    }
    free(acc);
    free(tmp);
    return 0;
}

static int resample(const resample_job *j, hdm_err *err)
{
    int need_h = j->out_w != j->in_w, need_v = j->out_h != j->in_h;
    int fixed = j->in8 != NULL;
    taps th = {0}, tv = {0};
    int r = -1;
    if ((!need_h || taps_make(&th, j->filter, j->in_w, j->out_w, j->x0, j->ow, fixed) == 0) &&
        (!need_v || taps_make(&tv, j->filter, j->in_h, j->out_h, j->y0, j->oh, fixed) == 0))
        r = fixed ? run_u8(j, &th, &tv, need_h, need_v) : run_f32(j, &th, &tv, need_h, need_v);
    taps_free(&th);
    taps_free(&tv);
    if (r < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory resizing a %dx%d image", j->in_w,
                           j->in_h);
    return 0;
}

static int check_sizes(const char *what, int in_w, int in_h, int out_w, int out_h, hdm_err *err)
{
    if (in_w <= 0 || in_h <= 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "cannot resize an empty %dx%d image", in_w,
                           in_h);
    if (out_w <= 0 || out_h <= 0 || out_w > IMAGE_MAX_SIDE || out_h > IMAGE_MAX_SIDE)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s size %dx%d is out of range (1-%d)", what,
                           out_w, out_h, IMAGE_MAX_SIDE);
    return 0;
}

int image_resize(const image *in, int out_w, int out_h, image_filter filter, uint8_t *out,
                 hdm_err *err)
{
    const resample_filter *f = filter_of(filter);
    if (in == NULL || in->rgb == NULL || out == NULL || f == NULL)
        return hdm_err_set(err, HDM_E_INTERNAL, "image_resize: no input, output or filter");
    int r = check_sizes("resize", in->width, in->height, out_w, out_h, err);
    if (r < 0)
        return r;
    resample_job j = {.filter = f, .chans = 3, .in8 = in->rgb, .in_w = in->width,
                      .in_h = in->height, .out_w = out_w, .out_h = out_h, .ow = out_w,
                      .oh = out_h, .out8 = out};
    return resample(&j, err);
}

int image_resize_f32(const float *in, int in_w, int in_h, int out_w, int out_h,
                     image_filter filter, float *out, hdm_err *err)
{
    const resample_filter *f = filter_of(filter);
    if (in == NULL || out == NULL || f == NULL)
        return hdm_err_set(err, HDM_E_INTERNAL, "image_resize_f32: no input, output or filter");
    int r = check_sizes("resize", in_w, in_h, out_w, out_h, err);
    if (r < 0)
        return r;
    resample_job j = {.filter = f, .chans = 1, .inf = in, .in_w = in_w, .in_h = in_h,
                      .out_w = out_w, .out_h = out_h, .ow = out_w, .oh = out_h, .outf = out};
    return resample(&j, err);
}

int image_resize_crop(const image *in, int side, uint8_t *out, hdm_err *err)
{
    if (in == NULL || in->rgb == NULL || out == NULL)
        return hdm_err_set(err, HDM_E_INTERNAL, "image_resize_crop: no input or output");
    if (side <= 0 || side > IMAGE_MAX_SIDE)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "resize side %d is out of range (1-%d)", side,
                           IMAGE_MAX_SIDE);
    int r = check_sizes("resize", in->width, in->height, side, side, err);
    if (r < 0)
        return r;
    int w = in->width, h = in->height;
    /* torchvision Resize(int): the shorter side becomes `side`, the longer
     * one is truncated; CenterCrop's offset rounds half to even. */
    int rw, rh;
    if (w <= h) {
        rw = side;
        rh = (int)((int64_t)side * h / w);
    } else {
        rh = side;
        rw = (int)((int64_t)side * w / h);
    }
    if (rw < side)
        rw = side;
    if (rh < side)
        rh = side;
    resample_job j = {.filter = filter_of(IMAGE_FILTER_BICUBIC), .chans = 3, .in8 = in->rgb,
                      .in_w = w, .in_h = h, .out_w = rw, .out_h = rh,
                      .x0 = (int)nearbyint((rw - side) / 2.0),
                      .y0 = (int)nearbyint((rh - side) / 2.0), .ow = side, .oh = side,
                      .out8 = out};
    return resample(&j, err);
}
