/*
 * stats.h - latency figures for status and /metrics: a histogram with fixed
 * Prometheus buckets (for /metrics) plus a ring of the most recent samples
 * (for the p50/p90/p99 that status shows), and a moving average.
 *
 * DESIGN: Prometheus histograms are cumulative since start and cheap to
 * update; percentiles from buckets are coarse, so status percentiles come
 * from the last STATS_RING samples instead (exact over a recent window,
 * which is also what an operator watching the queue wants).  No locking:
 * the owner (sched, registry) guards its stats with its own mutex.
 */
#ifndef HDM_MANAGER_STATS_H
#define HDM_MANAGER_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "common/buf.h"

/* Upper bounds (milliseconds) of the histogram buckets; +Inf is implicit. */
#define STATS_N_BUCKETS 15
/* Samples kept for percentiles. */
#define STATS_RING 512

typedef struct stats_hist {
    uint64_t buckets[STATS_N_BUCKETS + 1]; /* per bucket (not cumulative); last is +Inf */
    uint64_t count;
    double sum_ms;
    float ring[STATS_RING]; /* most recent samples, ms */
    size_t ring_len, ring_pos;
} stats_hist;

/* The bucket bounds in milliseconds (STATS_N_BUCKETS values, ascending). */
const double *stats_bucket_bounds_ms(void);

/* Zeroes a histogram (a zeroed struct is also valid). */
void stats_hist_init(stats_hist *h);
/* Adds one sample in milliseconds (negative values count as 0). */
void stats_hist_add(stats_hist *h, double ms);
/* Percentile p in [0,100] over the recent samples (nearest rank); 0 when empty. */
double stats_hist_percentile(const stats_hist *h, double p);
/* Adds {"p50":..,"p90":..,"p99":..,"count":n,"sum_ms":..} (ms) to obj under `name`. */
void stats_hist_json(const stats_hist *h, cJSON *obj, const char *name);

/*
 * Appends a Prometheus histogram sample set for `name` (without _bucket etc.)
 * in seconds: name_bucket{labels,le=".."}, name_sum{labels}, name_count{labels}.
 * `labels` is "" or a preformatted 'key="value",...' list without braces.
 * The caller writes # HELP / # TYPE once per family.
 */
void stats_hist_prometheus(const stats_hist *h, buf *out, const char *name, const char *labels);

/* Appends s to out escaped as a Prometheus label value (\\, \", \n). */
void stats_prom_escape(buf *out, const char *s);
/* Writes the escaped label value into dst (size n, always NUL-terminated). */
void stats_prom_escape_to(char *dst, size_t n, const char *s);

/* Exponentially weighted moving average: *avg = alpha*x + (1-alpha)*avg;
 * the first sample (when *n == 0) sets it. */
void stats_ewma_update(double *avg, uint64_t *n, double x, double alpha);

#endif
