/*
 * image_resize.c - shorter side to `side`, then centre-crop, in one go.
 *
 * DESIGN: this reproduces what CLIP's preprocessing does with torchvision
 * on Pillow - Resize(side, BICUBIC) then CenterCrop(side) - closely enough
 * that embeddings match.  Pillow's resampler is a separable convolution
 * whose kernel is stretched by the scale when downscaling (so a downscale
 * averages every input pixel under the output pixel: no aliasing), and is
 * the plain bicubic (a = -0.5) when upscaling.  Weights are computed once
 * per output column and row exactly as Pillow's precompute_coeffs does, and
 * normalised to sum 1.
 *
 * Only the pixels inside the crop are computed: the horizontal pass runs on
 * the input rows the vertical taps of the kept rows touch, for the kept
 * columns only; the vertical pass then writes the side x side result.  Like
 * Pillow, each pass rounds and clamps to 8 bits (bicubic overshoots, and the
 * clamp between the passes changes the result near sharp edges, so it is
 * kept to match Pillow to within one level).  Sizes and
 * the crop offset follow torchvision: the long side is truncated, the offset
 * is round((resized - side) / 2) with round-half-to-even.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

#define IMAGE_MAX_SIDE 8192

/* Pillow's bicubic kernel (a = -0.5), support 2. */
static double bicubic(double x)
{
    const double a = -0.5;
    if (x < 0.0)
        x = -x;
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0)
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

typedef struct taps {
    int ksize;     /* weights per output position (stride of w) */
    int *start;    /* first input index per output */
    int *count;    /* number of inputs per output */
    float *w;      /* ksize weights per output */
} taps;

static void taps_free(taps *t)
{
    free(t->start);
    free(t->count);
    free(t->w);
}

/* Weights for outputs first..first+n-1 of a resize from in_size to out_size. */
static int taps_make(taps *t, int in_size, int out_size, int first, int n)
{
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 2.0 * filterscale;
    t->ksize = (int)ceil(support) * 2 + 1;
    t->start = malloc((size_t)n * sizeof(int));
    t->count = malloc((size_t)n * sizeof(int));
    t->w = calloc((size_t)n * (size_t)t->ksize, sizeof(float));
    double *wk = malloc((size_t)t->ksize * sizeof(double));
    if (t->start == NULL || t->count == NULL || t->w == NULL || wk == NULL) {
        free(wk);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        double center = (first + i + 0.5) * scale;
        int lo = (int)(center - support + 0.5);
        int hi = (int)(center + support + 0.5);
        if (lo < 0)
            lo = 0;
        if (hi > in_size)
            hi = in_size;
        int cnt = hi - lo;
        if (cnt > t->ksize)
            cnt = t->ksize;
        double wsum = 0.0;
        for (int k = 0; k < cnt; k++) {
            wk[k] = bicubic((k + lo - center + 0.5) / filterscale);
            wsum += wk[k];
        }
        float *w = t->w + (size_t)i * t->ksize;
        for (int k = 0; k < cnt; k++)
            w[k] = (float)(wsum != 0.0 ? wk[k] / wsum : 0.0);
        t->start[i] = lo;
        t->count[i] = cnt;
    }
    free(wk);
    return 0;
}

static inline uint8_t clamp_u8(float v)
{
    if (v <= 0.0f)
        return 0;
    if (v >= 255.0f)
        return 255;
    return (uint8_t)(v + 0.5f);
}

int image_resize_crop(const image *in, int side, uint8_t *out, hdm_err *err)
{
    if (in == NULL || in->rgb == NULL || out == NULL)
        return hdm_err_set(err, HDM_E_INTERNAL, "image_resize_crop: no input or output");
    if (side <= 0 || side > IMAGE_MAX_SIDE)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "resize side %d is out of range (1-%d)", side,
                           IMAGE_MAX_SIDE);
    if (in->width <= 0 || in->height <= 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "cannot resize an empty %dx%d image",
                           in->width, in->height);
    int w = in->width, h = in->height;
    if (w == side && h == side) {
        memcpy(out, in->rgb, (size_t)side * side * 3);
        return 0;
    }
    /* torchvision Resize(int): shorter side -> side, longer truncated. */
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
    int x0 = (int)nearbyint((rw - side) / 2.0); /* half to even, as Python's round */
    int y0 = (int)nearbyint((rh - side) / 2.0);

    taps th = {0}, tv = {0};
    uint8_t *tmp = NULL;
    int rc = 0;
    if (taps_make(&th, w, rw, x0, side) != 0 || taps_make(&tv, h, rh, y0, side) != 0) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory resizing a %dx%d image", w, h);
        goto out;
    }
    int row_lo = tv.start[0];
    int row_hi = tv.start[side - 1] + tv.count[side - 1];
    for (int y = 0; y < side; y++) {
        if (tv.start[y] < row_lo)
            row_lo = tv.start[y];
        if (tv.start[y] + tv.count[y] > row_hi)
            row_hi = tv.start[y] + tv.count[y];
    }
    size_t rows = (size_t)(row_hi - row_lo);
    tmp = malloc(rows * (size_t)side * 3);
    if (tmp == NULL) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory resizing a %dx%d image", w, h);
        goto out;
    }

    /* Horizontal: input rows row_lo..row_hi-1, kept columns only. */
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *src = in->rgb + (size_t)(row_lo + (int)r) * w * 3;
        uint8_t *dst = tmp + r * (size_t)side * 3;
        for (int x = 0; x < side; x++) {
            const uint8_t *p = src + (size_t)th.start[x] * 3;
            const float *wt = th.w + (size_t)x * th.ksize;
            float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f;
            for (int k = 0; k < th.count[x]; k++) {
                s0 += wt[k] * p[3 * k];
                s1 += wt[k] * p[3 * k + 1];
                s2 += wt[k] * p[3 * k + 2];
            }
            dst[3 * x] = clamp_u8(s0);
            dst[3 * x + 1] = clamp_u8(s1);
            dst[3 * x + 2] = clamp_u8(s2);
        }
    }
    /* Vertical: whole rows at a time so the inner loop runs along memory. */
    float *acc = malloc((size_t)side * 3 * sizeof(float));
    if (acc == NULL) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory resizing a %dx%d image", w, h);
        goto out;
    }
    size_t rowlen = (size_t)side * 3;
    for (int y = 0; y < side; y++) {
        const float *wt = tv.w + (size_t)y * tv.ksize;
        memset(acc, 0, rowlen * sizeof(float));
        for (int k = 0; k < tv.count[y]; k++) {
            const uint8_t *src = tmp + (size_t)(tv.start[y] - row_lo + k) * rowlen;
            float wk = wt[k];
            for (size_t i = 0; i < rowlen; i++)
                acc[i] += wk * src[i];
        }
        uint8_t *dst = out + (size_t)y * rowlen;
        for (size_t i = 0; i < rowlen; i++)
            dst[i] = clamp_u8(acc[i]);
    }
    free(acc);
out:
    taps_free(&th);
    taps_free(&tv);
    free(tmp);
    return rc;
}
