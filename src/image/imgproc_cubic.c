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
 * Vectors never change an operation: the float horizontal pass (eight
 * outputs at a time) and the tap tables (four samples at a time) give each
 * lane its own output's scalar operations in the scalar order, fused where
 * the scalar code fuses, so they are the scalar code's bits.
 *
 * uint8 sums are exact in float (products below 2^20, sums below 2^24), so
 * the uint8 horizontal pass runs in float vectors over an edge-padded copy
 * of each source row, in any order, with no edge cases.  On x86-64 CPUs
 * with AVX2 (asked once per call) it runs two 3- or 4-channel pixels per
 * vector, the same per-lane mul and add (AVX2 without FMA: nothing fuses).
 */
#include <math.h>
#include <stdatomic.h>
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
/* x86-64 also gets an AVX2 uint8 horizontal pass, picked at run time (the
 * build stays SSE2; target("avx2") brings no FMA, so nothing fuses). */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CUBIC_AVX2 1
#else
#define CUBIC_AVX2 0
#endif

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

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

/* cvRound of a float: to nearest, ties to even, as OpenCV's cvRound does
 * (cvtss2si under the default rounding mode on x86-64, fcvtns on arm64),
 * without lrintf's call into libm. */
static inline int cubic_round(float v)
{
#if defined(__SSE2__)
    return _mm_cvtss_si32(_mm_set_ss(v));
#elif defined(__aarch64__)
    return vcvtns_s32_f32(v);
#else
    return (int)lrintf(v);
#endif
}

/* floorf for |v| < 2^31, as an int, without the libm call (SSE2 has no
 * rounding instruction). */
static inline int cubic_floor(float v)
{
    int i = (int)v; /* towards zero */
    return i - ((float)i > v);
}

static inline int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
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

/* cubic_weights for four fractions at once, lane for lane the same
 * operations (and fusing). */
static inline void cubic_weights4(v4f t, v4f w[4])
{
    const float A = -0.75f;
    const v4f one = v4f_all(1.0f);
    v4f t1 = t + one, t2 = one - t;
#if CUBIC_FUSED
    float32x4_t a = vdupq_n_f32(A), a2 = vdupq_n_f32(A + 2.0f), a3 = vdupq_n_f32(-(A + 3.0f));
    w[0] = (v4f)vfmaq_f32(vdupq_n_f32(-4.0f * A),
                          vfmaq_f32(vdupq_n_f32(8.0f * A),
                                    vfmaq_f32(vdupq_n_f32(-5.0f * A), a, (float32x4_t)t1),
                                    (float32x4_t)t1),
                          (float32x4_t)t1);
    w[1] =
        (v4f)vfmaq_f32((float32x4_t)one, (float32x4_t)((v4f)vfmaq_f32(a3, a2, (float32x4_t)t) * t),
                       (float32x4_t)t);
    w[2] = (v4f)vfmaq_f32((float32x4_t)one,
                          (float32x4_t)((v4f)vfmaq_f32(a3, a2, (float32x4_t)t2) * t2),
                          (float32x4_t)t2);
#else
    w[0] =
        ((v4f_all(A) * t1 - v4f_all(5.0f * A)) * t1 + v4f_all(8.0f * A)) * t1 - v4f_all(4.0f * A);
    w[1] = ((v4f_all(A + 2.0f) * t - v4f_all(A + 3.0f)) * t * t) + one;
    w[2] = ((v4f_all(A + 2.0f) * t2 - v4f_all(A + 3.0f)) * t2 * t2) + one;
#endif
    w[3] = one - w[0] - w[1] - w[2];
}

/* w * 2048 rounded as cubic_round rounds, back as exact floats. */
static inline v4f cubic_fixed4(v4f w)
{
    w = w * v4f_all(2048.0f);
#if defined(__SSE2__)
    return (v4f)_mm_cvtepi32_ps(_mm_cvtps_epi32((__m128)w));
#elif defined(__aarch64__)
    return (v4f)vcvtq_f32_s32(vcvtnq_s32_f32((float32x4_t)w));
#else
    for (int i = 0; i < 4; i++)
        w[i] = (float)cubic_round(w[i]);
    return w;
#endif
}

/* The source position of sample d: its floor (returned) and the float
 * position (*pos). */
static inline int cubic_position(int d, double scale, float *pos)
{
    double pos_d;
#if CUBIC_FUSED
    pos_d = __builtin_fma((double)d + 0.5, scale, -0.5);
#else
    pos_d = ((double)d + 0.5) * scale - 0.5;
#endif
    *pos = (float)pos_d;
    return cubic_floor(*pos); /* pos lies in [-0.5, src_n) */
}

/*
 * One axis: for each output sample d in [from, to), the index of its first
 * tap (floor of the source position, minus one; may lie outside the
 * source) and its four weights, rounded to 11-bit fixed point (kept as
 * exact floats) when `fixed`.  *lo and *hi (may be NULL; only when
 * [from, to) is the whole axis) bound the samples whose four taps all lie
 * inside: OpenCV's xmin, xmax.  Four samples at a time: positions one by
 * one, weights as vectors.
 */
static void cubic_axis(int src_n, int dst_n, int from, int to, bool fixed, int *tap, float *w,
                       int *lo, int *hi)
{
    double scale = 1.0 / ((double)dst_n / (double)src_n);
    int d = from;
    for (; d + 4 <= to; d += 4) {
        float pos[4], fl[4];
        for (int i = 0; i < 4; i++) {
            int s = cubic_position(d + i, scale, &pos[i]);
            fl[i] = (float)s;
            /* Cannot exceed [-1, src_n - 1] (the position lies in
             * [-0.5, src_n - 0.5)); clamped anyway so no table can point a
             * read outside the padded rows. */
            tap[d - from + i] = clampi(s, -1, src_n - 1) - 1;
        }
        v4f wv[4];
        cubic_weights4(v4f_load(pos) - v4f_load(fl), wv);
        if (fixed)
            for (int k = 0; k < 4; k++)
                wv[k] = cubic_fixed4(wv[k]);
        /* Lanes are samples; the table holds each sample's four weights. */
        v4f t0 = __builtin_shuffle(wv[0], wv[1], (v4i){0, 4, 1, 5});
        v4f t1 = __builtin_shuffle(wv[0], wv[1], (v4i){2, 6, 3, 7});
        v4f t2 = __builtin_shuffle(wv[2], wv[3], (v4i){0, 4, 1, 5});
        v4f t3 = __builtin_shuffle(wv[2], wv[3], (v4i){2, 6, 3, 7});
        float *wd = w + 4 * (d - from);
        v4f_store(wd, __builtin_shuffle(t0, t2, (v4i){0, 1, 4, 5}));
        v4f_store(wd + 4, __builtin_shuffle(t0, t2, (v4i){2, 3, 6, 7}));
        v4f_store(wd + 8, __builtin_shuffle(t1, t3, (v4i){0, 1, 4, 5}));
        v4f_store(wd + 12, __builtin_shuffle(t1, t3, (v4i){2, 3, 6, 7}));
    }
    for (; d < to; d++) {
        float pos;
        int s = cubic_position(d, scale, &pos);
        float *wd = w + 4 * (d - from);
        cubic_weights(pos - (float)s, wd);
        if (fixed)
            for (int k = 0; k < 4; k++)
                wd[k] = (float)cubic_round(wd[k] * 2048.0f);
        tap[d - from] = clampi(s, -1, src_n - 1) - 1;
    }
    /* From the taps (tap = floor - 1, never clamped): the first sample
     * after the last one whose floor is below 1, and the first one whose
     * floor + 2 reaches src_n. */
    if (lo != NULL || hi != NULL) {
        int first_inside = 0, end_inside = dst_n;
        for (d = 0; d < dst_n; d++) {
            int s = tap[d] + 1;
            if (s < 1)
                first_inside = d + 1;
            if (s + 2 >= src_n && end_inside == dst_n)
                end_inside = d;
        }
        if (lo != NULL)
            *lo = first_inside;
        if (hi != NULL)
            *hi = end_inside;
    }
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
static void cubic_rows_get(cubic_rows *c, int first, int src_h, cubic_hrow_fn hrow, const void *ctx,
                           const float *rows[4])
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
    const float *xw8; /* xw by blocks of eight outputs (cubic_f32_blocks) */
    int xlo, xhi;
} cubic_f32_ctx;

/* xw (four weights per output) regrouped for cubic_f32_hrow8: block b
 * (outputs 8b..8b+7) holds weight k of its even outputs in floats
 * 32b + 4k .. 32b + 4k + 3 and of its odd ones 16 floats further on.
 * Only whole blocks. */
static void cubic_f32_blocks(const float *xw, int n, float *xw8)
{
    for (int b = 0; b < n / 8; b++)
        for (int odd = 0; odd < 2; odd++)
            for (int k = 0; k < 4; k++)
                for (int i = 0; i < 4; i++)
                    xw8[32 * b + 16 * odd + 4 * k + i] = xw[4 * (8 * b + 2 * i + odd) + k];
}

/* The scalar inside sum of one output (cubic_f32_hrow), four lanes at
 * once: p0..p3 the four taps of each lane, w its weights (cubic_f32_blocks). */
static inline v4f cubic_f32_sum4(v4f p0, v4f p1, v4f p2, v4f p3, const float *w)
{
    v4f t = p1 * v4f_load(w + 4);
    t = vmac(t, p0, v4f_load(w));
    t = vmac(t, p2, v4f_load(w + 8));
    return vmac(t, p3, v4f_load(w + 12));
}

/* The sum of four outputs whose first taps are at s + t0 .. s + t3: each
 * output's taps loaded and transposed into lanes. */
static inline v4f cubic_f32_gather4(const float *s, int t0, int t1, int t2, int t3, const float *w)
{
    v4f a = v4f_load(s + t0), b = v4f_load(s + t1), c = v4f_load(s + t2), e = v4f_load(s + t3);
    v4f u0 = __builtin_shuffle(a, b, (v4i){0, 4, 1, 5}),
        u1 = __builtin_shuffle(a, b, (v4i){2, 6, 3, 7});
    v4f u2 = __builtin_shuffle(c, e, (v4i){0, 4, 1, 5}),
        u3 = __builtin_shuffle(c, e, (v4i){2, 6, 3, 7});
    return cubic_f32_sum4(__builtin_shuffle(u0, u2, (v4i){0, 1, 4, 5}),
                          __builtin_shuffle(u0, u2, (v4i){2, 3, 6, 7}),
                          __builtin_shuffle(u1, u3, (v4i){0, 1, 4, 5}),
                          __builtin_shuffle(u1, u3, (v4i){2, 3, 6, 7}), w);
}

/* Eight inside outputs d..d+7 (d a multiple of 8) as two vectors, the even
 * outputs and the odd ones, so lane i computes exactly the scalar sum of
 * its output, in the same order, with the same fusing.  When the taps of
 * the even outputs are consecutive, and those of the odd ones (a 2x
 * enlargement: the OCR map), the lanes' taps are plain loads; otherwise
 * each output's four taps are loaded and transposed. */
static inline void cubic_f32_hrow8(const float *s, const int *xtap, const float *xw8, int d,
                                   float *out)
{
    const int *t = xtap + d;
    const float *w = xw8 + 4 * d;
    v4f e, o;
    if (t[2] == t[0] + 1 && t[4] == t[0] + 2 && t[6] == t[0] + 3 && t[3] == t[1] + 1 &&
        t[5] == t[1] + 2 && t[7] == t[1] + 3) {
        const float *a = s + t[0], *b = s + t[1];
        e = cubic_f32_sum4(v4f_load(a), v4f_load(a + 1), v4f_load(a + 2), v4f_load(a + 3), w);
        o = cubic_f32_sum4(v4f_load(b), v4f_load(b + 1), v4f_load(b + 2), v4f_load(b + 3), w + 16);
    } else {
        e = cubic_f32_gather4(s, t[0], t[2], t[4], t[6], w);
        o = cubic_f32_gather4(s, t[1], t[3], t[5], t[7], w + 16);
    }
    v4f_store(out + d, __builtin_shuffle(e, o, (v4i){0, 4, 1, 5}));
    v4f_store(out + d + 4, __builtin_shuffle(e, o, (v4i){2, 6, 3, 7}));
}

/* HResizeCubic<float>: inside, t = p1 a1, then + p0 a0, + p2 a2, + p3 a3
 * (eight outputs at a time where a block of eight lies inside); at the edges
 * 0 + p0 a0 + p1 a1 + ... over clamped taps. */
static void cubic_f32_hrow(const void *vctx, int sy, float *out)
{
    const cubic_f32_ctx *c = vctx;
    const float *s = (const float *)(const void *)(c->src + (size_t)sy * c->src_stride);
    int n = c->dst_w, lo = c->xlo < n ? c->xlo : n, hi = c->xhi < lo ? lo : c->xhi;
    for (int d = 0; d < n; d++) {
        if (d == lo && lo < hi) {
            for (; d < hi && (d & 7) != 0; d++) {
                const float *p = s + c->xtap[d], *w = c->xw + 4 * d;
                float t = p[1] * w[1];
                t = mac(t, p[0], w[0]);
                t = mac(t, p[2], w[2]);
                out[d] = mac(t, p[3], w[3]);
            }
            for (; d + 8 <= hi; d += 8)
                cubic_f32_hrow8(s, c->xtap, c->xw8, d, out);
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

static int cubic_work_new(cubic_work *w, int dst_w, int band, size_t row_floats,
                          size_t extra_floats, float **extra, hdm_err *err)
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
    float *xw8 = NULL;
    rc = cubic_work_new(&w, dst_w, y1 - y0, (size_t)dst_w, (size_t)dst_w * 4, &xw8, err);
    if (rc < 0)
        return rc;
    cubic_f32_ctx ctx = {.src = (const uint8_t *)src,
                         .src_stride = src_stride,
                         .src_w = src_w,
                         .dst_w = dst_w,
                         .xtap = w.xtap,
                         .xw = w.xw,
                         .xw8 = xw8};
    cubic_axis(src_w, dst_w, 0, dst_w, false, w.xtap, w.xw, &ctx.xlo, &ctx.xhi);
    cubic_f32_blocks(w.xw, dst_w, xw8);
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

/* ---- a whole resize in row bands on OpenCV's threads ---------------------- */

/*
 * A resize whose output is large enough is cut into bands of output rows
 * run through imgproc_parallel_for.  Every band computes its rows exactly
 * as the whole resize would (the _rows functions' contract), so the bytes
 * do not depend on the split.  When OpenCV runs the loop on the caller's
 * thread alone (imgproc_set_threads(1), or inside another parallel loop
 * such as the OCR crops) it hands the whole range to one call, which then
 * resizes all rows at once: no band overhead.  Otherwise each band costs
 * its x table and up to three source rows of overlap.
 */
#define CUBIC_BAND_MIN_ROWS 64
#define CUBIC_BANDS_MAX 16
#define CUBIC_PARALLEL_MIN_BYTES ((size_t)256 << 10)

typedef struct cubic_bands {
    const void *src;
    int src_w, src_h;
    size_t src_stride;
    int channels; /* 1..4 for uint8; 0 for float32 */
    uint8_t *dst; /* row 0 of the output */
    int dst_w, dst_h;
    size_t dst_stride;
    int band_rows;
    int rc[CUBIC_BANDS_MAX]; /* per band: 1 until it ran, then its result */
} cubic_bands;

static int cubic_bands_rows(const cubic_bands *j, int y0, int y1, hdm_err *err)
{
    uint8_t *d = j->dst + (size_t)y0 * j->dst_stride;
    if (j->channels == 0)
        return imgproc_resize_cubic_f32_rows(j->src, j->src_w, j->src_h, j->src_stride,
                                             (float *)(void *)d, j->dst_w, j->dst_h, j->dst_stride,
                                             y0, y1, err);
    return imgproc_cubic_u8_rows(j->src, j->src_w, j->src_h, j->src_stride, j->channels, d,
                                 j->dst_w, j->dst_h, j->dst_stride, y0, y1, err);
}

static void cubic_bands_range(void *user, size_t begin, size_t end)
{
    cubic_bands *j = user;
    int y0 = (int)begin * j->band_rows, y1 = (int)end * j->band_rows;
    int rc = cubic_bands_rows(j, y0, y1 < j->dst_h ? y1 : j->dst_h, NULL);
    for (size_t b = begin; b < end; b++)
        j->rc[b] = rc;
}

/* The whole resize of j (arguments already checked, strides resolved),
 * in bands when it is big enough; a band that failed (out of memory) or
 * did not run makes the caller's thread do it all again, for the error. */
static int cubic_bands_run(cubic_bands *j, size_t pixel, hdm_err *err)
{
    size_t bytes = (size_t)j->dst_w * pixel * (size_t)j->dst_h;
    int bands = j->dst_h / CUBIC_BAND_MIN_ROWS;
    if (bytes < CUBIC_PARALLEL_MIN_BYTES || bands < 2)
        return cubic_bands_rows(j, 0, j->dst_h, err);
    if (bands > CUBIC_BANDS_MAX)
        bands = CUBIC_BANDS_MAX;
    j->band_rows = (j->dst_h + bands - 1) / bands;
    bands = (j->dst_h + j->band_rows - 1) / j->band_rows;
    for (int b = 0; b < bands; b++)
        j->rc[b] = 1;
    int rc = imgproc_parallel_for((size_t)bands, cubic_bands_range, j, NULL);
    for (int b = 0; rc == 0 && b < bands; b++)
        if (j->rc[b] != 0)
            rc = -1;
    if (rc == 0)
        return 0;
    return cubic_bands_rows(j, 0, j->dst_h, err);
}

int imgproc_resize_cubic_f32(const float *src, int src_w, int src_h, size_t src_stride, float *dst,
                             int dst_w, int dst_h, size_t dst_stride, hdm_err *err)
{
    if (dst_h < 1 || dst_h > IMGPROC_MAX_SIDE) /* before it becomes a row range */
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "cubic resize destination: size %dx%d is outside 1..%d", dst_w, dst_h,
                           IMGPROC_MAX_SIDE);
    int rc = cubic_check("cubic resize", src, src_w, src_h, &src_stride, dst, dst_w, dst_h,
                         &dst_stride, sizeof(float), 0, dst_h, err);
    if (rc < 0)
        return rc;
    cubic_bands j = {.src = src,
                     .src_w = src_w,
                     .src_h = src_h,
                     .src_stride = src_stride,
                     .channels = 0,
                     .dst = (uint8_t *)dst,
                     .dst_w = dst_w,
                     .dst_h = dst_h,
                     .dst_stride = dst_stride};
    return cubic_bands_run(&j, sizeof(float), err);
}

/* ---- uint8, 1 to 4 interleaved channels ----------------------------------- */

typedef struct cubic_u8_ctx {
    const uint8_t *src;
    size_t src_stride;
    int src_w, cn, dst_w;
    const int *xtap;
    const float *xw; /* fixed-point weights, as exact floats */
    float *pad;      /* (src_w + 4) * cn + 4 floats: a source row, edge-padded */
} cubic_u8_ctx;

/* pad = two copies of the first pixel, the row, two of the last, as
 * floats (the four floats after them stay 0: the 3-channel loads read one
 * float past a pixel). */
static void cubic_u8_pad_edges(const cubic_u8_ctx *c)
{
    int cn = c->cn, n = c->src_w * cn;
    float *p = c->pad + 2 * cn;
    for (int k = 0; k < cn; k++) {
        c->pad[k] = c->pad[cn + k] = p[k];
        p[n + k] = p[n + cn + k] = p[n - cn + k];
    }
}

static void cubic_u8_pad(const cubic_u8_ctx *c, const uint8_t *s)
{
    int cn = c->cn, n = c->src_w * cn;
    float *p = c->pad + 2 * cn;
    int i = 0;
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    for (; i + 16 <= n; i += 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i lo = _mm_unpacklo_epi8(b, zero), hi = _mm_unpackhi_epi8(b, zero);
        _mm_storeu_ps(p + i, _mm_cvtepi32_ps(_mm_unpacklo_epi16(lo, zero)));
        _mm_storeu_ps(p + i + 4, _mm_cvtepi32_ps(_mm_unpackhi_epi16(lo, zero)));
        _mm_storeu_ps(p + i + 8, _mm_cvtepi32_ps(_mm_unpacklo_epi16(hi, zero)));
        _mm_storeu_ps(p + i + 12, _mm_cvtepi32_ps(_mm_unpackhi_epi16(hi, zero)));
    }
#elif defined(__aarch64__)
    for (; i + 16 <= n; i += 16) {
        uint8x16_t b = vld1q_u8(s + i);
        uint16x8_t lo = vmovl_u8(vget_low_u8(b)), hi = vmovl_u8(vget_high_u8(b));
        vst1q_f32(p + i, vcvtq_f32_u32(vmovl_u16(vget_low_u16(lo))));
        vst1q_f32(p + i + 4, vcvtq_f32_u32(vmovl_u16(vget_high_u16(lo))));
        vst1q_f32(p + i + 8, vcvtq_f32_u32(vmovl_u16(vget_low_u16(hi))));
        vst1q_f32(p + i + 12, vcvtq_f32_u32(vmovl_u16(vget_high_u16(hi))));
    }
#endif
    typedef uint8_t v4u8 __attribute__((vector_size(4)));
    for (; i + 4 <= n; i += 4) {
        v4u8 b;
        memcpy(&b, s + i, sizeof(b));
        v4f_store(p + i, __builtin_convertvector(b, v4f));
    }
    for (; i < n; i++)
        p[i] = (float)s[i];
    cubic_u8_pad_edges(c);
}

/* HResizeCubic<uchar, int, short>: integer sums of four taps, exact here
 * in float whatever the order, over the padded row. */
static void cubic_u8_hsum(const cubic_u8_ctx *c, float *out)
{
    const int cn = c->cn, n = c->dst_w;
    const float *pad = c->pad, *xw = c->xw;
    const int *xtap = c->xtap;
    switch (cn) {
    case 3:
    case 4:
        /* One pixel per vector; with 3 channels the fourth lane is the next
         * pixel's first, overwritten by the next store (the row buffers
         * have room for the last one). */
        for (int d = 0; d < n; d++) {
            const float *p = pad + (size_t)(xtap[d] + 2) * (size_t)cn;
            /* The four weights in one load, each spread by a shuffle. */
            v4f w = v4f_load(xw + 4 * d);
            v4f acc = v4f_load(p) * __builtin_shuffle(w, (v4i){0, 0, 0, 0});
            acc += v4f_load(p + cn) * __builtin_shuffle(w, (v4i){1, 1, 1, 1});
            acc += v4f_load(p + 2 * cn) * __builtin_shuffle(w, (v4i){2, 2, 2, 2});
            acc += v4f_load(p + 3 * cn) * __builtin_shuffle(w, (v4i){3, 3, 3, 3});
            v4f_store(out + (size_t)d * (size_t)cn, acc);
        }
        break;
    case 1:
        for (int d = 0; d < n; d++) {
            const float *p = pad + xtap[d] + 2, *w = xw + 4 * d;
            out[d] = (p[0] * w[0] + p[1] * w[1]) + (p[2] * w[2] + p[3] * w[3]);
        }
        break;
    default:
        for (int d = 0; d < n; d++) {
            const float *p = pad + (size_t)(xtap[d] + 2) * (size_t)cn, *w = xw + 4 * d;
            for (int k = 0; k < cn; k++)
                out[d * cn + k] = (p[k] * w[0] + p[cn + k] * w[1]) +
                                  (p[2 * cn + k] * w[2] + p[3 * cn + k] * w[3]);
        }
        break;
    }
}

static void cubic_u8_hrow(const void *vctx, int sy, float *out)
{
    const cubic_u8_ctx *c = vctx;
    cubic_u8_pad(c, c->src + (size_t)sy * c->src_stride);
    cubic_u8_hsum(c, out);
}

#if CUBIC_AVX2
/* cubic_u8_pad, eight bytes at a time. */
__attribute__((target("avx2"))) static void cubic_u8_pad_avx2(const cubic_u8_ctx *c,
                                                              const uint8_t *s)
{
    int n = c->src_w * c->cn;
    float *p = c->pad + 2 * c->cn;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        _mm256_storeu_ps(p + i, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b)));
        _mm256_storeu_ps(p + i + 8, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8))));
    }
    for (; i + 8 <= n; i += 8) {
        __m128i b = _mm_loadl_epi64((const __m128i *)(const void *)(s + i));
        _mm256_storeu_ps(p + i, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b)));
    }
    for (; i < n; i++)
        p[i] = (float)s[i];
    cubic_u8_pad_edges(c);
}

/* cubic_u8_hsum for cn = 3 or 4 (a constant once inlined) with two pixels
 * per vector, one per 128-bit half: the same per-lane products and sums
 * as cubic_u8_hsum's one-pixel vectors, mul then add, never fused.  An odd
 * last pixel takes one half. */
__attribute__((target("avx2"), always_inline)) static inline void
cubic_u8_hsum_avx2(const cubic_u8_ctx *c, float *out, const int cn)
{
    const int n = c->dst_w;
    const float *pad = c->pad, *xw = c->xw;
    const int *xtap = c->xtap;
    const size_t step = (size_t)cn;
    int d = 0;
    for (; d + 2 <= n; d += 2) {
        const float *p = pad + (size_t)(xtap[d] + 2) * step;
        const float *q = pad + (size_t)(xtap[d + 1] + 2) * step;
        /* Pixel d's four weights in the low half, d + 1's in the high. */
        __m256 w = _mm256_loadu_ps(xw + 4 * d);
        __m256 acc = _mm256_mul_ps(_mm256_loadu2_m128(q, p), _mm256_permute_ps(w, 0x00));
        acc = _mm256_add_ps(
            acc, _mm256_mul_ps(_mm256_loadu2_m128(q + step, p + step), _mm256_permute_ps(w, 0x55)));
        acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_loadu2_m128(q + 2 * step, p + 2 * step),
                                               _mm256_permute_ps(w, 0xaa)));
        acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_loadu2_m128(q + 3 * step, p + 3 * step),
                                               _mm256_permute_ps(w, 0xff)));
        float *o = out + (size_t)d * step;
        if (cn == 4) {
            _mm256_storeu_ps(o, acc);
        } else {
            /* Low half first: the high half overwrites its fourth lane. */
            _mm_storeu_ps(o, _mm256_castps256_ps128(acc));
            _mm_storeu_ps(o + 3, _mm256_extractf128_ps(acc, 1));
        }
    }
    if (d < n) {
        const float *p = pad + (size_t)(xtap[d] + 2) * step;
        __m128 w = _mm_loadu_ps(xw + 4 * d);
        __m128 acc = _mm_mul_ps(_mm_loadu_ps(p), _mm_shuffle_ps(w, w, 0x00));
        acc = _mm_add_ps(acc, _mm_mul_ps(_mm_loadu_ps(p + step), _mm_shuffle_ps(w, w, 0x55)));
        acc = _mm_add_ps(acc, _mm_mul_ps(_mm_loadu_ps(p + 2 * step), _mm_shuffle_ps(w, w, 0xaa)));
        acc = _mm_add_ps(acc, _mm_mul_ps(_mm_loadu_ps(p + 3 * step), _mm_shuffle_ps(w, w, 0xff)));
        _mm_storeu_ps(out + (size_t)d * step, acc);
    }
}

/* cubic_u8_hrow for AVX2: 3 and 4 channels as above, 1 and 2 channels
 * cubic_u8_hsum's way. */
__attribute__((target("avx2"))) static void cubic_u8_hrow_avx2(const void *vctx, int sy, float *out)
{
    const cubic_u8_ctx *c = vctx;
    cubic_u8_pad_avx2(c, c->src + (size_t)sy * c->src_stride);
    if (c->cn == 3)
        cubic_u8_hsum_avx2(c, out, 3);
    else if (c->cn == 4)
        cubic_u8_hsum_avx2(c, out, 4);
    else
        cubic_u8_hsum(c, out);
}
#endif

/* The uint8 horizontal pass for this CPU. */
static atomic_bool cubic_avx2_allowed = true;

void imgproc_cubic_allow_avx2(bool allow)
{
    atomic_store(&cubic_avx2_allowed, allow);
}

static cubic_hrow_fn cubic_u8_hrow_pick(void)
{
#if CUBIC_AVX2
    if (atomic_load(&cubic_avx2_allowed) && __builtin_cpu_supports("avx2"))
        return cubic_u8_hrow_avx2;
#endif
    return cubic_u8_hrow;
}

/* Eight sums rounded half to even and saturated to 0..255, as OpenCV's
 * v_round, v_pack (to int16) and v_pack_u (to uint8) do. */
static inline void cubic_u8_store8(uint8_t *out, v4f lo, v4f hi)
{
#if defined(__SSE2__)
    __m128i a = _mm_cvtps_epi32((__m128)lo), b = _mm_cvtps_epi32((__m128)hi);
    __m128i s16 = _mm_packs_epi32(a, b);
    _mm_storel_epi64((__m128i *)(void *)out, _mm_packus_epi16(s16, s16));
#elif defined(__aarch64__)
    int16x8_t s16 = vcombine_s16(vqmovn_s32(vcvtnq_s32_f32((float32x4_t)lo)),
                                 vqmovn_s32(vcvtnq_s32_f32((float32x4_t)hi)));
    vst1_u8(out, vqmovun_s16(s16));
#else
    for (int i = 0; i < 8; i++) {
        float f = i < 4 ? lo[i] : hi[i - 4];
        long r = lrintf(f); /* the sums stay far inside long */
        out[i] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
    }
#endif
}

/* VResizeCubic<uchar>: elements below the last multiple of 8 the SIMD way
 * (float: S3 b3, + S2 b2, + S1 b1, + S0 b0 with b = weight / 2^22, rounded
 * half to even), the rest the scalar way (integer, + 2^21, >> 22). */
static void cubic_u8_vrow(const float *const r[4], const float bw[4], uint8_t *out, int n)
{
    const float scale = 1.0f / (2048.0f * 2048.0f);
    v4f b0 = v4f_all(bw[0] * scale), b1 = v4f_all(bw[1] * scale);
    v4f b2 = v4f_all(bw[2] * scale), b3 = v4f_all(bw[3] * scale);
    int x = 0, nv = n & ~7;
    for (; x < nv; x += 8) {
        v4f lo = v4f_load(r[3] + x) * b3, hi = v4f_load(r[3] + x + 4) * b3;
        lo = vmac(lo, v4f_load(r[2] + x), b2);
        hi = vmac(hi, v4f_load(r[2] + x + 4), b2);
        lo = vmac(lo, v4f_load(r[1] + x), b1);
        hi = vmac(hi, v4f_load(r[1] + x + 4), b1);
        lo = vmac(lo, v4f_load(r[0] + x), b0);
        hi = vmac(hi, v4f_load(r[0] + x + 4), b0);
        cubic_u8_store8(out + x, lo, hi);
    }
    if (x == n)
        return;
    int64_t ib[4];
    for (int k = 0; k < 4; k++)
        ib[k] = (int64_t)bw[k];
    for (; x < n; x++) {
        int64_t v = (int64_t)r[0][x] * ib[0] + (int64_t)r[1][x] * ib[1] + (int64_t)r[2][x] * ib[2] +
                    (int64_t)r[3][x] * ib[3] + (1 << 21);
        v = v >= 0 ? v >> 22 : -((-v + (1 << 22) - 1) >> 22); /* floor, as >> on int */
        out[x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
}

static int cubic_check_channels(const char *what, int channels, hdm_err *err)
{
    if (channels < 1 || channels > 4)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: %d channels (1 to 4 allowed)", what,
                           channels);
    return 0;
}

int imgproc_cubic_u8_rows(const uint8_t *src, int src_w, int src_h, size_t src_stride, int channels,
                          uint8_t *dst, int dst_w, int dst_h, size_t dst_stride, int y0, int y1,
                          hdm_err *err)
{
    int rc = cubic_check_channels("cubic resize", channels, err);
    if (rc == 0)
        rc = cubic_check("cubic resize", src, src_w, src_h, &src_stride, dst, dst_w, dst_h,
                         &dst_stride, (size_t)channels, y0, y1, err);
    if (rc < 0 || y0 == y1)
        return rc;
    if (src_w == dst_w && src_h == dst_h) {
        cubic_copy_rows(src, src_stride, dst, dst_stride, (size_t)dst_w * (size_t)channels, y0, y1);
        return 0;
    }
    size_t pad_floats = ((size_t)src_w + 4) * (size_t)channels + 4;
    cubic_work w = {0};
    float *pad = NULL;
    rc = cubic_work_new(&w, dst_w, y1 - y0, (size_t)dst_w * (size_t)channels + 4, pad_floats, &pad,
                        err);
    if (rc < 0)
        return rc;
    memset(pad, 0, pad_floats * sizeof(float));
    cubic_u8_ctx ctx = {.src = src,
                        .src_stride = src_stride,
                        .src_w = src_w,
                        .cn = channels,
                        .dst_w = dst_w,
                        .xtap = w.xtap,
                        .xw = w.xw,
                        .pad = pad};
    cubic_axis(src_w, dst_w, 0, dst_w, true, w.xtap, w.xw, NULL, NULL);
    cubic_axis(src_h, dst_h, y0, y1, true, w.ytap, w.yw, NULL, NULL);
    int n = dst_w * channels;
    cubic_hrow_fn hrow = cubic_u8_hrow_pick();
    for (int y = y0; y < y1; y++) {
        const float *rows[4];
        cubic_rows_get(&w.rows, w.ytap[y - y0], src_h, hrow, &ctx, rows);
        cubic_u8_vrow(rows, w.yw + 4 * (y - y0), dst + (size_t)(y - y0) * dst_stride, n);
    }
    free(w.block);
    return 0;
}

int imgproc_resize_cubic_u8(const uint8_t *src, int src_w, int src_h, size_t src_stride,
                            int channels, uint8_t *dst, int dst_w, int dst_h, size_t dst_stride,
                            hdm_err *err)
{
    if (dst_h < 1 || dst_h > IMGPROC_MAX_SIDE)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "cubic resize destination: size %dx%d is outside 1..%d", dst_w, dst_h,
                           IMGPROC_MAX_SIDE);
    int rc = cubic_check_channels("cubic resize", channels, err);
    if (rc == 0)
        rc = cubic_check("cubic resize", src, src_w, src_h, &src_stride, dst, dst_w, dst_h,
                         &dst_stride, (size_t)channels, 0, dst_h, err);
    if (rc < 0)
        return rc;
    cubic_bands j = {.src = src,
                     .src_w = src_w,
                     .src_h = src_h,
                     .src_stride = src_stride,
                     .channels = channels,
                     .dst = dst,
                     .dst_w = dst_w,
                     .dst_h = dst_h,
                     .dst_stride = dst_stride};
    return cubic_bands_run(&j, (size_t)channels, err);
}

int imgproc_letterbox_u8(const uint8_t *src, int src_w, int src_h, size_t src_stride, int channels,
                         const imgproc_letterbox *geom, uint8_t pad, uint8_t *dst, int dst_w,
                         int dst_h, hdm_err *err)
{
    int rc = cubic_check_channels("letterbox", channels, err);
    if (rc < 0)
        return rc;
    if (dst_w < 1 || dst_h < 1 || dst_w > IMGPROC_MAX_SIDE || dst_h > IMGPROC_MAX_SIDE)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "letterbox destination: size %dx%d is outside 1..%d", dst_w, dst_h,
                           IMGPROC_MAX_SIDE);
    if (dst == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "letterbox destination: no pixels");
    if (geom == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "letterbox: no geometry");
    if (geom->new_w < 1 || geom->new_h < 1)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "a %dx%d image scales to %dx%d pixels in a %dx%d letterbox: too thin",
                           src_w, src_h, geom->new_w, geom->new_h, dst_w, dst_h);
    if (geom->x_off < 0 || geom->y_off < 0 || geom->new_w > dst_w - geom->x_off ||
        geom->new_h > dst_h - geom->y_off)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "letterbox: %dx%d at (%d,%d) does not fit in %dx%d", geom->new_w,
                           geom->new_h, geom->x_off, geom->y_off, dst_w, dst_h);
    size_t cn = (size_t)channels, row = (size_t)dst_w * cn;
    uint8_t *inner = dst + (size_t)geom->y_off * row + (size_t)geom->x_off * cn;
    /* The resize checks the source before anything is written. */
    rc = imgproc_resize_cubic_u8(src, src_w, src_h, src_stride, channels, inner, geom->new_w,
                                 geom->new_h, row, err);
    if (rc < 0)
        return rc;
    /* The pad around the picture: the rows above and below, and the sides. */
    memset(dst, pad, (size_t)geom->y_off * row);
    size_t below = (size_t)(geom->y_off + geom->new_h);
    memset(dst + below * row, pad, ((size_t)dst_h - below) * row);
    size_t left = (size_t)geom->x_off * cn, right = row - left - (size_t)geom->new_w * cn;
    for (int y = geom->y_off; y < geom->y_off + geom->new_h; y++) {
        memset(dst + (size_t)y * row, pad, left);
        memset(dst + (size_t)y * row + row - right, pad, right);
    }
    return 0;
}
