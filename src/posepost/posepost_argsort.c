/*
 * posepost_argsort.c - numpy's default argsort, for ties.
 *
 * DESIGN: the original ranks proposals with x[:, 4].argsort()[::-1] and
 * then NMS re-sorts the survivors with argsort(scores)[::-1].  numpy's
 * quicksort is not stable, so which of two equal scores comes first - and
 * so which of two equal-score overlapping boxes survives NMS - is whatever
 * its introsort does.  Any stable sort would agree with it below 17
 * elements (numpy's insertion sort) and disagree above.  This file follows
 * the same steps as numpy 1.24's aquicksort (numpy/core/src/npysort,
 * BSD-licensed): median-of-three pivot moved next to the right end,
 * Hoare-style partition that stops on equal keys, the larger side pushed on
 * a stack, insertion sort for spans of at most 16, heapsort once the depth
 * budget of 2*floor(log2(n)) runs out.  Comparison is numpy's for floats:
 * a < b, with NaN after everything.
 */
#include "posepost/posepost_internal.h"

#define SMALL_SPAN 15 /* spans with hi - lo <= 15 go to insertion sort */
#define STACK_DEPTH 128

static inline int less(double a, double b)
{
    return a < b || (b != b && a == a);
}

static inline void swap_idx(size_t *a, size_t *b)
{
    size_t t = *a;
    *a = *b;
    *b = t;
}

static int floor_log2(size_t n)
{
    int bits = 0;
    while (n >>= 1)
        bits++;
    return bits;
}

/* numpy's aheapsort over idx[0..n): a 1-based max-heap of indices. */
static void heap_sort(const double *v, size_t *idx, size_t n)
{
    size_t *a = idx - 1; /* a[1..n] */
    size_t i, j, l, tmp;

    for (l = n >> 1; l > 0; --l) {
        tmp = a[l];
        for (i = l, j = l << 1; j <= n;) {
            if (j < n && less(v[a[j]], v[a[j + 1]]))
                j++;
            if (!less(v[tmp], v[a[j]]))
                break;
            a[i] = a[j];
            i = j;
            j += j;
        }
        a[i] = tmp;
    }
    while (n > 1) {
        tmp = a[n];
        a[n] = a[1];
        n--;
        for (i = 1, j = 2; j <= n;) {
            if (j < n && less(v[a[j]], v[a[j + 1]]))
                j++;
            if (!less(v[tmp], v[a[j]]))
                break;
            a[i] = a[j];
            i = j;
            j += j;
        }
        a[i] = tmp;
    }
}

void posepost_argsort(const double *v, size_t n, size_t *idx)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    if (n < 2)
        return;

    size_t *lo = idx, *hi = idx + n - 1;
    size_t *stack[STACK_DEPTH];
    int depths[STACK_DEPTH / 2];
    size_t **sp = stack;
    int *dp = depths;
    int budget = floor_log2(n) * 2;

    for (;;) {
        if (budget < 0) {
            heap_sort(v, lo, (size_t)(hi - lo) + 1);
        } else {
            while (hi - lo > SMALL_SPAN) {
                size_t *mid = lo + ((hi - lo) >> 1);
                if (less(v[*mid], v[*lo]))
                    swap_idx(mid, lo);
                if (less(v[*hi], v[*mid]))
                    swap_idx(hi, mid);
                if (less(v[*mid], v[*lo]))
                    swap_idx(mid, lo);
                double pivot = v[*mid];
                size_t *l = lo, *r = hi - 1;
                swap_idx(mid, r);
                for (;;) {
                    do
                        l++;
                    while (less(v[*l], pivot));
                    do
                        r--;
                    while (less(pivot, v[*r]));
                    if (l >= r)
                        break;
                    swap_idx(l, r);
                }
                swap_idx(l, hi - 1);
                /* Keep working on the smaller side; the larger one waits. */
                if (l - lo < hi - l) {
                    *sp++ = l + 1;
                    *sp++ = hi;
                    hi = l - 1;
                } else {
                    *sp++ = lo;
                    *sp++ = l - 1;
                    lo = l + 1;
                }
                *dp++ = --budget;
            }
            for (size_t *p = lo + 1; p <= hi; p++) {
                size_t moving = *p;
                double key = v[moving];
                size_t *q = p;
                while (q > lo && less(key, v[*(q - 1)])) {
                    *q = *(q - 1);
                    q--;
                }
                *q = moving;
            }
        }
        if (sp == stack)
            break;
        hi = *--sp;
        lo = *--sp;
        budget = *--dp;
    }
}
