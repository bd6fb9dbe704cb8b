/*
 * imgproc_cubic.c - cv::resize(INTER_CUBIC) of OpenCV 4.6 in C, bit for bit,
 * for any band of output rows.
 *
 * DESIGN: the OCR and pose pipelines must give what their Python originals
 * give through cv2, so this is not "a" bicubic resize but OpenCV's, with
 * every rounding in the same place (modules/imgproc/src/resize.cpp:
 * interpolateCubic, HResizeCubic, VResizeCubic and its SIMD variants, the
 * table set-up of hal::resize).  What that fixes:
 *
 *  - Positions: scale = 1 / (dst / src) in double; a sample's source
 *    position (d + 0.5) * scale - 0.5 in double, rounded to float; its
 *    floor is the second of the four taps and the remainder feeds the
 *    weights (A = -0.75), computed in float.  uint8 rounds the weights to
 *    11-bit fixed point (half to even).  Taps outside the source repeat the
 *    edge pixel.
 *  - Horizontal pass first, row by row, then the vertical pass over four
 *    horizontal rows.  OpenCV sums the taps in a fixed order and its
 *    vertical pass has a SIMD part and a scalar tail that add in different
 *    orders: columns below the last multiple of 4 (float) or 8 (uint8
 *    elements) go the SIMD way, the rest the scalar way.  uint8's SIMD part
 *    is float arithmetic rounded half to even; its scalar tail is integer
 *    arithmetic rounded half up.  Both are reproduced, column for column.
 *  - Fused multiply-adds: Debian's x86-64 build never fuses (SSE2 baseline,
 *    no FMA in resize.cpp); its arm64 build fuses wherever GCC contracts
 *    (the position, the weights, every tap sum) and NEON's v_muladd is
 *    vfmaq.  Read from the disassembly of libopencv_imgproc.so.4.6.0 on
 *    both.  This file is compiled with -ffp-contract=off and says where it
 *    fuses (mac(), vmac(), cubic_weights()), so each architecture gets its
 *    OpenCV's bits.  Other architectures get the unfused x86 arithmetic.
 *
 * uint8 sums are exact in float (products below 2^20, sums below 2^24), so
 * the uint8 horizontal pass runs in float vectors over an edge-padded copy
 * of each source row, in any order, with no edge cases.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/imgproc.h"
#include "image/imgproc_cubic.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#define CUBIC_FUSED 1
#else
#define CUBIC_FUSED 0
#endif
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef float v4f __attribute__((vector_size(16)));

static inline v4f v4f_load(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline void v4f_store(float *p, v4f v)
{
    memcpy(p, &v, sizeof(v));
}

static inline v4f v4f_all(float f)
{
    return (v4f){f, f, f, f};
}

/* acc + p * a, fused where OpenCV's build fuses it. */
static inline float mac(float acc, float p, float a)
{
#if CUBIC_FUSED
    return __builtin_fmaf(p, a, acc);
#else
    return acc + p * a;
#endif
}

static inline v4f vmac(v4f acc, v4f p, v4f a)
{
#if CUBIC_FUSED
    return (v4f)vfmaq_f32((float32x4_t)acc, (float32x4_t)p, (float32x4_t)a);
#else
    return acc + p * a;
#endif
}

/* interpolateCubic: the four weights of a sample at fraction t. */
static void cubic_weights(float t, float w[4])
{
    const float A = -0.75f;
    float t1 = t + 1.0f, t2 = 1.0f - t;
#if CUBIC_FUSED
    w[0] = __builtin_fmaf(__builtin_fmaf(__builtin_fmaf(A, t1, -5.0f * A), t1, 8.0f * A), t1,
                          -4.0f * A);
    w[1] = __builtin_fmaf(__builtin_fmaf(A + 2.0f, t, -(A + 3.0f)) * t, t, 1.0f);
    w[2] = __builtin_fmaf(__builtin_fmaf(A + 2.0f, t2, -(A + 3.0f)) * t2, t2, 1.0f);
#else
    w[0] = ((A * t1 - 5.0f * A) * t1 + 8.0f * A) * t1 - 4.0f * A;
    w[1] = ((A + 2.0f) * t - (A + 3.0f)) * t * t + 1.0f;
    w[2] = ((A + 2.0f) * t2 - (A + 3.0f)) * t2 * t2 + 1.0f;
#endif
    w[3] = 1.0f - w[0] - w[1] - w[2];
}

/*
 * One axis: for each output sample d in [from, to), the index of its first
 * tap (floor of the source position, minus one; may lie outside the
 * source) and its four weights, rounded to 11-bit fixed point (kept as
 * exact floats) when `fixed`.  *lo and *hi (whole axis only, may be NULL)
 * bound the samples whose four taps all lie inside: OpenCV's xmin, xmax.
 */
static void cubic_axis(int src_n, int dst_n, int from, int to, bool fixed, int *tap, float *w,
                       int *lo, int *hi)
{
    double scale = 1.0 / ((double)dst_n / (double)src_n);
    int first_inside = 0, end_inside = dst_n;
    for (int d = 0; d < dst_n; d++) {
        double pos_d;
#if CUBIC_FUSED
        pos_d = __builtin_fma((double)d + 0.5, scale, -0.5);
#else
        pos_d = ((double)d + 0.5) * scale - 0.5;
#endif
        float pos = (float)pos_d;
        int s = (int)floorf(pos);
        if (s < 1)
            first_inside = d + 1;
        if (s + 2 >= src_n && end_inside == dst_n)
            end_inside = d;
        if (d < from || d >= to)
            continue;
        float *wd = w + 4 * (d - from);
        cubic_weights(pos - (float)s, wd);
        if (fixed)
            for (int k = 0; k < 4; k++)
                wd[k] = (float)lrintf(wd[k] * 2048.0f);
        /* Cannot exceed [-1, src_n - 1] (the position lies in
         * [-0.5, src_n - 0.5)); clamped anyway so no table can point a
         * read outside the padded rows. */
        s = s < -1 ? -1 : s > src_n - 1 ? src_n - 1 : s;
        tap[d - from] = s - 1;
    }
    if (lo != NULL)
        *lo = first_inside;
    if (hi != NULL)
        *hi = end_inside;
}

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---- the row cache ------------------------------------------------------ */

/*
 * Four horizontal rows, each tagged with the source row it holds: the
 * vertical pass of one output row reads four consecutive (edge-clamped)
 * source rows, and the next output row usually shares some of them.
 */
typedef struct cubic_rows {
    float *buf[4];
    int tag[4];
} cubic_rows;

typedef void (*cubic_hrow_fn)(const void *ctx, int sy, float *out);

/* Points rows[k] at the horizontal pass of source row clamp(first + k),
 * running hrow for the ones not cached. */
static void cubic_rows_get(cubic_rows *c, int first, int src_h, cubic_hrow_fn hrow,
                           const void *ctx, const float *rows[4])
{
    int want[4], slot_of[4];
    bool used[4] = {false, false, false, false};
    for (int k = 0; k < 4; k++) {
        want[k] = clampi(first + k, 0, src_h - 1);
        slot_of[k] = -1;
        for (int s = 0; s < 4; s++)
            if (c->tag[s] == want[k]) {
                slot_of[k] = s;
                used[s] = true;
                break;
            }
    }
    for (int k = 0; k < 4; k++) {
        if (slot_of[k] >= 0)
            continue;
        /* A row clamped twice (at an edge) is computed once. */
        for (int j = 0; j < k; j++)
            if (want[j] == want[k])
                slot_of[k] = slot_of[j];
        if (slot_of[k] >= 0)
            continue;
        int s = 0;
        while (used[s])
            s++;
        used[s] = true;
        slot_of[k] = s;
        c->tag[s] = want[k];
        hrow(ctx, want[k], c->buf[s]);
    }
    for (int k = 0; k < 4; k++)
        rows[k] = c->buf[slot_of[k]];
}

/* ---- float32, one channel ----------------------------------------------- */

typedef struct cubic_f32_ctx {
    const uint8_t *src;
    size_t src_stride;
    int src_w, dst_w;
    const int *xtap;
    const float *xw;
    int xlo, xhi;
} cubic_f32_ctx;

/* HResizeCubic<float>: inside, t = p1 a1, then + p0 a0, + p2 a2, + p3 a3;
 * at the edges 0 + p0 a0 + p1 a1 + ... over clamped taps. */
static void cubic_f32_hrow(const void *vctx, int sy, float *out)
{
    const cubic_f32_ctx *c = vctx;
    const float *s = (const float *)(const void *)(c->src + (size_t)sy * c->src_stride);
    int n = c->dst_w, lo = c->xlo < n ? c->xlo : n, hi = c->xhi < lo ? lo : c->xhi;
    for (int d = 0; d < n; d++) {
        if (d == lo && lo < hi) {
            for (; d < hi; d++) {
                const float *p = s + c->xtap[d], *w = c->xw + 4 * d;
                float t = p[1] * w[1];
                t = mac(t, p[0], w[0]);
                t = mac(t, p[2], w[2]);
                out[d] = mac(t, p[3], w[3]);
            }
            if (d == n)
                break;
        }
        const float *w = c->xw + 4 * d;
        float t = 0.0f;
        for (int k = 0; k < 4; k++)
            t = mac(t, s[clampi(c->xtap[d] + k, 0, c->src_w - 1)], w[k]);
        out[d] = t;
    }
}

/* VResizeCubic<float>: 4-wide part S3 b3 + S2 b2 + S1 b1 + S0 b0 (each
 * added to the running sum); scalar tail S1 b1 + S0 b0 + S2 b2 + S3 b3. */
static void cubic_f32_vrow(const float *const r[4], const float b[4], float *out, int n)
{
    int x = 0, nv = n & ~3;
    v4f b0 = v4f_all(b[0]), b1 = v4f_all(b[1]), b2 = v4f_all(b[2]), b3 = v4f_all(b[3]);
    for (; x < nv; x += 4) {
        v4f t = v4f_load(r[3] + x) * b3;
        t = vmac(t, v4f_load(r[2] + x), b2);
        t = vmac(t, v4f_load(r[1] + x), b1);
        v4f_store(out + x, vmac(t, v4f_load(r[0] + x), b0));
    }
    for (; x < n; x++) {
        float t = r[1][x] * b[1];
        t = mac(t, r[0][x], b[0]);
        t = mac(t, r[2][x], b[2]);
        out[x] = mac(t, r[3][x], b[3]);
    }
}

/* ---- argument checks ---------------------------------------------------- */

static int cubic_check(const char *what, const void *src, int src_w, int src_h, size_t *src_stride,
                       const void *dst, int dst_w, int dst_h, size_t *dst_stride, size_t pixel,
                       int y0, int y1, hdm_err *err)
{
    if (src_w < 1 || src_h < 1 || src_w > IMGPROC_MAX_SIDE || src_h > IMGPROC_MAX_SIDE)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s source: size %dx%d is outside 1..%d", what,
                           src_w, src_h, IMGPROC_MAX_SIDE);
    if (dst_w < 1 || dst_h < 1 || dst_w > IMGPROC_MAX_SIDE || dst_h > IMGPROC_MAX_SIDE)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s destination: size %dx%d is outside 1..%d",
                           what, dst_w, dst_h, IMGPROC_MAX_SIDE);
    if (src == NULL || dst == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: no pixels", what);
    size_t src_row = (size_t)src_w * pixel, dst_row = (size_t)dst_w * pixel;
    if (*src_stride == 0)
        *src_stride = src_row;
    if (*dst_stride == 0)
        *dst_stride = dst_row;
    if (*src_stride < src_row)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s source: row stride %zu is below %zu bytes",
                           what, *src_stride, src_row);
    if (*dst_stride < dst_row)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s destination: row stride %zu is below %zu bytes", what, *dst_stride,
                           dst_row);
    if (y0 < 0 || y1 < y0 || y1 > dst_h)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: rows [%d, %d) are not within 0..%d", what,
                           y0, y1, dst_h);
    return 0;
}

/* cv::resize copies when the size does not change. */
static void cubic_copy_rows(const uint8_t *src, size_t src_stride, uint8_t *dst, size_t dst_stride,
                            size_t row, int y0, int y1)
{
    for (int y = y0; y < y1; y++)
        memcpy(dst + (size_t)(y - y0) * dst_stride, src + (size_t)y * src_stride, row);
}

/* The tables and buffers of one call: x taps and weights for the whole
 * row, y taps and weights for the band, four horizontal rows. */
typedef struct cubic_work {
    int *xtap, *ytap;
    float *xw, *yw;
    cubic_rows rows;
    void *block;
} cubic_work;

static int cubic_work_new(cubic_work *w, int dst_w, int band, size_t row_floats, size_t extra_floats,
                          float **extra, hdm_err *err)
{
    /* One block; every part rounded up to 16 bytes. */
    size_t row_bytes = (row_floats * sizeof(float) + 15) & ~(size_t)15;
    size_t extra_bytes = (extra_floats * sizeof(float) + 15) & ~(size_t)15;
    size_t xtap = ((size_t)dst_w * sizeof(int) + 15) & ~(size_t)15;
    size_t ytap = ((size_t)band * sizeof(int) + 15) & ~(size_t)15;
    size_t xw = (size_t)dst_w * 4 * sizeof(float), yw = (size_t)band * 4 * sizeof(float);
    size_t total = xtap + ytap + xw + yw + 4 * row_bytes + extra_bytes;
    uint8_t *b = aligned_alloc(16, total);
    if (b == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "cubic resize: out of memory for %zu bytes", total);
    w->block = b;
    w->xtap = (int *)(void *)b;
    w->ytap = (int *)(void *)(b + xtap);
    w->xw = (float *)(void *)(b + xtap + ytap);
    w->yw = (float *)(void *)(b + xtap + ytap + xw);
    uint8_t *r = b + xtap + ytap + xw + yw;
    for (int k = 0; k < 4; k++) {
        w->rows.buf[k] = (float *)(void *)(r + (size_t)k * row_bytes);
        w->rows.tag[k] = -1;
    }
    if (extra != NULL)
        *extra = (float *)(void *)(r + 4 * row_bytes);
    return 0;
}

int imgproc_resize_cubic_f32_rows(const float *src, int src_w, int src_h, size_t src_stride,
                                  float *dst, int dst_w, int dst_h, size_t dst_stride, int y0,
                                  int y1, hdm_err *err)
{
    int rc = cubic_check("cubic resize", src, src_w, src_h, &src_stride, dst, dst_w, dst_h,
                         &dst_stride, sizeof(float), y0, y1, err);
    if (rc < 0 || y0 == y1)
        return rc;
    if (src_w == dst_w && src_h == dst_h) {
        cubic_copy_rows((const uint8_t *)src, src_stride, (uint8_t *)dst, dst_stride,
                        (size_t)dst_w * sizeof(float), y0, y1);
        return 0;
    }
    cubic_work w = {0};
    rc = cubic_work_new(&w, dst_w, y1 - y0, (size_t)dst_w, 0, NULL, err);
    if (rc < 0)
        return rc;
    cubic_f32_ctx ctx = {.src = (const uint8_t *)src,
                         .src_stride = src_stride,
                         .src_w = src_w,
                         .dst_w = dst_w,
                         .xtap = w.xtap,
                         .xw = w.xw};
    cubic_axis(src_w, dst_w, 0, dst_w, false, w.xtap, w.xw, &ctx.xlo, &ctx.xhi);
    cubic_axis(src_h, dst_h, y0, y1, false, w.ytap, w.yw, NULL, NULL);
    for (int y = y0; y < y1; y++) {
        const float *rows[4];
        cubic_rows_get(&w.rows, w.ytap[y - y0], src_h, cubic_f32_hrow, &ctx, rows);
        cubic_f32_vrow(rows, w.yw + 4 * (y - y0),
                       (float *)(void *)((uint8_t *)dst + (size_t)(y - y0) * dst_stride), dst_w);
    }
    free(w.block);
    return 0;
}
