/*
 * depthpost_stats.c - the original's `stats`: p95 = np.percentile(map, 95),
 * then min, max and mean of the values <= p95.
 *
 * DESIGN: numpy partitions a copy of the map to find the two order
 * statistics the linear percentile needs.  A 4000x3000 map would make that
 * a 48 MB copy, so this file finds them by radix selection instead: the
 * float bits mapped to order-preserving integer keys, one histogram pass
 * over the top 16 bits, one over the low 16 bits of the bucket(s) holding
 * the two ranks.  The map is only read.
 *
 * Matching numpy 1.24 to the bit:
 *  - the interpolation is _lerp's: diff = b - a in float32, then
 *    a + diff * t in float64, or b - diff * (1 - t) when t >= 0.5, with
 *    t = (n - 1) * 0.95 - floor((n - 1) * 0.95);
 *  - `flat <= p95` compares in float32 (value-based casting demotes the
 *    float64 scalar), so the threshold is p95 rounded to float;
 *  - mean() of float32 sums in float32: the reduction walks its input in
 *    buffers of 8192 elements, each summed pairwise (numpy's
 *    pairwise_sum: blocks of up to 128 with 8 accumulators), added into one
 *    float32 accumulator; then float32(sum / count) with the division in
 *    float64.  The values <= p95 are gathered 8192 at a time into a small
 *    buffer, so the sum sees the same blocks in the same order.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "depthpost/depthpost.h"

#define BINS 65536
#define NUMPY_BUFSIZE 8192 /* numpy's default ufunc buffer size */
#define PW_BLOCKSIZE 128

/* An integer that sorts as the float does (both zeros as +0); NaN-free input. */
static inline uint32_t float_key(float f)
{
    uint32_t u;
    if (f == 0.0f)
        f = 0.0f;
    memcpy(&u, &f, sizeof(u));
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

static inline float key_float(uint32_t key)
{
    uint32_t u = (key & 0x80000000u) ? (key & 0x7fffffffu) : ~key;
    float f;
    memcpy(&f, &u, sizeof(f));
    return f;
}

/* numpy's pairwise_sum for float32 (loops_utils.h.src), accumulating in float. */
static float pairwise_sum(const float *a, size_t n)
{
    if (n < 8) {
        float res = 0.0f;
        for (size_t i = 0; i < n; i++)
            res += a[i];
        return res;
    }
    if (n <= PW_BLOCKSIZE) {
        float r[8];
        size_t i;
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + (size_t)j];
        float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

/* Finds the bucket of the top histogram holding 0-based rank `rank`, and the
 * rank within it. */
static uint32_t find_bucket(const uint32_t *hist, size_t rank, size_t *rank_in)
{
    size_t below = 0;
    uint32_t b = 0;
    for (;; b++) {
        if (rank < below + hist[b])
            break;
        below += hist[b];
    }
    *rank_in = rank - below;
    return b;
}

/* The values of ranks k and k + 1 (k + 1 < n) of map[0..n), NaN-free. */
static int select_two(const float *map, size_t n, size_t k, float *vk, float *vk1, hdm_err *err)
{
    uint32_t *hist = calloc(3 * (size_t)BINS, sizeof(uint32_t));
    if (hist == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for the depth statistics");
    uint32_t *lo_a = hist + BINS, *lo_b = hist + 2 * BINS;

    for (size_t i = 0; i < n; i++)
        hist[float_key(map[i]) >> 16]++;
    size_t ra, rb;
    uint32_t ba = find_bucket(hist, k, &ra);
    uint32_t bb = find_bucket(hist, k + 1, &rb);
    for (size_t i = 0; i < n; i++) {
        uint32_t key = float_key(map[i]);
        uint32_t top = key >> 16;
        if (top == ba)
            lo_a[key & 0xffffu]++;
        else if (top == bb)
            lo_b[key & 0xffffu]++;
    }
    size_t unused;
    uint32_t la = find_bucket(lo_a, ra, &unused);
    uint32_t lb = find_bucket(ba == bb ? lo_a : lo_b, rb, &unused);
    *vk = key_float(ba << 16 | la);
    *vk1 = key_float(bb << 16 | lb);
    free(hist);
    return 0;
}

int depthpost_stats_compute(const float *map, size_t n, depthpost_stats *out, hdm_err *err)
{
    if (n == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "no statistics of an empty depth map");
    if (n > DEPTHPOST_MAX_ELEMENTS)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "depth map of %zu values is above the limit of %zu", n,
                           (size_t)DEPTHPOST_MAX_ELEMENTS);
    for (size_t i = 0; i < n; i++)
        if (isnan(map[i]))
            return hdm_err_set(err, HDM_E_DEVICE_ERROR,
                               "the depth map holds NaN values: no statistics");

    /* np.percentile(flat, 95), method "linear". */
    double virt = (double)(n - 1) * 0.95;
    float a = 0.0f, b = 0.0f;
    double t;
    if (n == 1) {
        /* numpy clamps both indices to the last element, with weight 1. */
        a = b = map[0];
        t = 1.0;
    } else {
        size_t k = (size_t)floor(virt);
        t = virt - (double)k;
        int rc = select_two(map, n, k, &a, &b, err);
        if (rc < 0)
            return rc;
    }
    float diff = b - a;
    double p95 = (double)a + (double)diff * t;
    if (t >= 0.5)
        p95 = (double)b - (double)diff * (1.0 - t);
    if (isnan(p95))
        return hdm_err_set(err, HDM_E_DEVICE_ERROR,
                           "the 95th percentile of the depth map is not a number");

    /* The values <= p95, in map order, summed as numpy's mean() sums. */
    const float thr = (float)p95;
    float chunk[NUMPY_BUFSIZE];
    size_t fill = 0, count = 0;
    float sum = 0.0f, lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        float v = map[i];
        if (!(v <= thr))
            continue;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        chunk[fill++] = v;
        if (fill == NUMPY_BUFSIZE) {
            sum += pairwise_sum(chunk, fill);
            count += fill;
            fill = 0;
        }
    }
    if (fill > 0) {
        sum += pairwise_sum(chunk, fill);
        count += fill;
    }
    if (count == 0) /* impossible for a NaN-free map: p95 >= its k-th value */
        return hdm_err_set(err, HDM_E_INTERNAL, "no depth value is at or below the 95th percentile");
    out->min = (double)lo;
    out->max = (double)hi;
    out->mean = (double)(float)((double)sum / (double)count);
    out->p95 = p95;
    return 0;
}
