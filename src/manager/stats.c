/*
 * stats.c - histograms, recent-sample percentiles and moving averages.
 */
#include "manager/stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pyjson.h"

/* From sub-millisecond pings to minute-long generations. */
static const double bucket_bounds_ms[STATS_N_BUCKETS] = {
    1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
};

const double *stats_bucket_bounds_ms(void)
{
    return bucket_bounds_ms;
}

void stats_hist_init(stats_hist *h)
{
    memset(h, 0, sizeof *h);
}

void stats_hist_add(stats_hist *h, double ms)
{
    size_t i;

    if (!(ms > 0))
        ms = 0; /* also catches NaN */
    for (i = 0; i < STATS_N_BUCKETS; i++)
        if (ms <= bucket_bounds_ms[i])
            break;
    h->buckets[i]++;
    h->count++;
    h->sum_ms += ms;
    h->ring[h->ring_pos] = (float)ms;
    h->ring_pos = (h->ring_pos + 1) % STATS_RING;
    if (h->ring_len < STATS_RING)
        h->ring_len++;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Copies the recent samples into sorted[] (ascending); returns how many. */
static size_t sorted_samples(const stats_hist *h, float sorted[STATS_RING])
{
    size_t n = h->ring_len;
    memcpy(sorted, h->ring, n * sizeof sorted[0]);
    qsort(sorted, n, sizeof sorted[0], cmp_float);
    return n;
}

/* Nearest rank over n sorted samples: the smallest value with at least p% of
 * the samples at or below it. */
static double nearest_rank(const float *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    if (p <= 0)
        return sorted[0];
    if (p >= 100)
        return sorted[n - 1];
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    return sorted[(rank < 1 ? 1 : rank) - 1];
}

double stats_hist_percentile(const stats_hist *h, double p)
{
    float sorted[STATS_RING];
    size_t n = sorted_samples(h, sorted);
    return nearest_rank(sorted, n, p);
}

void stats_hist_json(const stats_hist *h, cJSON *obj, const char *name)
{
    float sorted[STATS_RING];
    static const struct {
        const char *key;
        double p;
    } pcts[] = {
        {"p50", 50},
        {"p90", 90},
        {"p99", 99},
    };
    cJSON *o = cJSON_AddObjectToObject(obj, name);

    if (!o)
        return;
    size_t n = sorted_samples(h, sorted); /* sort once for the three figures */
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++) {
        double v = nearest_rank(sorted, n, pcts[i].p);
        /* Round to 0.1 ms: status is for people. */
        pyjson_add_float(o, pcts[i].key, round(v * 10.0) / 10.0);
    }
    cJSON_AddNumberToObject(o, "count", (double)h->count);
    /* With count, lets a reader (the dashboard) take means over an interval. */
    pyjson_add_float(o, "sum_ms", round(h->sum_ms * 10.0) / 10.0);
}

void stats_hist_prometheus(const stats_hist *h, buf *out, const char *name, const char *labels)
{
    uint64_t cum = 0;
    const char *sep = labels && *labels ? "," : "";

    if (!labels)
        labels = "";
    for (size_t i = 0; i < STATS_N_BUCKETS; i++) {
        cum += h->buckets[i];
        buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
                   bucket_bounds_ms[i] / 1000.0, (unsigned long long)cum);
    }
    cum += h->buckets[STATS_N_BUCKETS];
    buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
               (unsigned long long)cum);
    if (*labels) {
        buf_printf(out, "%s_sum{%s} %.6f\n", name, labels, h->sum_ms / 1000.0);
        buf_printf(out, "%s_count{%s} %llu\n", name, labels, (unsigned long long)h->count);
    } else {
        buf_printf(out, "%s_sum %.6f\n", name, h->sum_ms / 1000.0);
        buf_printf(out, "%s_count %llu\n", name, (unsigned long long)h->count);
    }
}

void stats_prom_escape(buf *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\\')
            buf_append(out, "\\\\", 2);
        else if (*s == '"')
            buf_append(out, "\\\"", 2);
        else if (*s == '\n')
            buf_append(out, "\\n", 2);
        else
            buf_append(out, s, 1);
    }
}

void stats_prom_escape_to(char *dst, size_t n, const char *s)
{
    size_t o = 0;

    if (n == 0)
        return;
    for (; s && *s; s++) {
        const char *rep = NULL;
        char one[2] = {*s, 0};
        if (*s == '\\')
            rep = "\\\\";
        else if (*s == '"')
            rep = "\\\"";
        else if (*s == '\n')
            rep = "\\n";
        else
            rep = one;
        size_t l = strlen(rep);
        if (o + l >= n)
            break; /* never cut an escape in half */
        memcpy(dst + o, rep, l);
        o += l;
    }
    dst[o] = 0;
}

void stats_ewma_update(double *avg, uint64_t *n, double x, double alpha)
{
    if (*n == 0)
        *avg = x;
    else
        *avg = alpha * x + (1.0 - alpha) * *avg;
    (*n)++;
}
