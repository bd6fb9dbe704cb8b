/*
 * dashboard-history.h - the figures the dashboard's charts draw: one sample
 * per interval (queue depth, device memory, jobs per second, mean wait and
 * service time over the interval) in a small ring, and each client's
 * request rate, all derived from two successive status objects.
 *
 * DESIGN: the manager's status keeps counts and sums since start (the
 * `model_types` wait_ms/service_ms figures) and recent-sample percentiles;
 * a chart of "the last minutes" wants per-interval figures, so they are the
 * differences between one snapshot and the one before.  Samples are only
 * taken while a page is open: after a pause dashboard_history_restart()
 * forgets the previous totals, so no rate spans the time nobody watched.
 * Not locked: the dashboard's sampler thread owns it.
 */
#ifndef HDM_MANAGER_DASHBOARD_HISTORY_H
#define HDM_MANAGER_DASHBOARD_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

/* Samples kept (6 minutes at the default interval of 2 s). */
#define DASHBOARD_HISTORY_MAX 180

typedef struct dashboard_sample {
    double t;        /* unix seconds */
    double queue;    /* jobs waiting */
    double mem_used; /* device memory, bytes */
    double mem_total;
    double jobs_per_s; /* device jobs finished per second over the interval; NAN first */
    double wait_ms;    /* mean queue wait of the jobs finished in the interval; NAN: none */
    double service_ms; /* mean service time of those jobs; NAN: none */
} dashboard_sample;

typedef struct dashboard_history {
    dashboard_sample ring[DASHBOARD_HISTORY_MAX];
    size_t len, pos; /* pos: where the next sample goes */
    bool have_prev;  /* the totals below are from the previous sample */
    double prev_mono;
    double prev_wait_n, prev_wait_sum, prev_service_n, prev_service_sum;
    cJSON *prev_clients; /* {name: requests} at the previous sample */
} dashboard_history;

/* A zeroed struct is an empty history too. */
void dashboard_history_init(dashboard_history *h);
void dashboard_history_free(dashboard_history *h);
/* Forgets the previous totals (after a time nobody watched); keeps the ring. */
void dashboard_history_restart(dashboard_history *h);

/*
 * Adds "rate_per_s" (requests per second since the previous sample, or
 * null when there is none) to each object of status.clients.  `mono` is
 * the monotonic time of this status in seconds.
 */
void dashboard_history_annotate(const dashboard_history *h, cJSON *status, double mono);

/*
 * Takes a sample from `status` (fields queue_depth, memory.{used,total}_bytes,
 * model_types[].{wait_ms,service_ms}.{count,sum_ms}, clients[].{name,requests}),
 * stores it in the ring and remembers the totals.  `now` is unix seconds,
 * `mono` monotonic seconds.  Returns 0, or -1 when out of memory (the
 * sample is still stored; client rates restart).  *out (if not NULL) gets
 * the sample.
 */
int dashboard_history_record(dashboard_history *h, const cJSON *status, double now, double mono,
                             dashboard_sample *out);

/* The sample as {t, queue, mem_used, mem_total, jobs_per_s, wait_ms,
 * service_ms} (NaN as null); NULL when out of memory. */
cJSON *dashboard_sample_json(const dashboard_sample *s);
/* The samples newer than `since` (unix seconds), oldest first; NULL when
 * out of memory. */
cJSON *dashboard_history_json(const dashboard_history *h, double since);

#endif
