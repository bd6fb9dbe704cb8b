/*
 * dashboard.h - the live data behind the dashboard page: one sampler thread
 * that, while a page is watching, builds a snapshot of the manager every
 * interval (status, service health, the newest chart sample) and keeps it
 * printed, so each page's poll is answered with a copy of ready bytes.
 *
 * DESIGN: pages poll (GET /v1/dashboard/state every interval) rather than
 * hold event streams: a browser allows six connections per host, and ten
 * tabs of a streaming page would starve each other; a poll is one short
 * request on the status server's existing connection limits.  A poll marks
 * the dashboard "watched" for a lease (three intervals plus two seconds).
 * The sampler thread starts at the first poll and, once the lease runs out,
 * sleeps on a condition variable with no timeout: a manager nobody watches
 * takes no samples, builds no status, probes no service and keeps no
 * printed snapshot.  Samples of the chart ring (dashboard-history.h) are
 * therefore only taken while watched; the ring itself (a few KB) stays.
 *
 * Health probes (dashboard-health.h) run on the sampler thread, bounded by
 * health_timeout_ms: they delay the next sample at worst, never a poll (a
 * poll gets the last printed snapshot) and never the manager's clients
 * (the sampler only reads the thread-safe status functions).
 */
#ifndef HDM_MANAGER_DASHBOARD_H
#define HDM_MANAGER_DASHBOARD_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "common/err.h"
#include "dashboard-config.h"

typedef struct dashboard dashboard;

/*
 * Builds the manager's status for one snapshot: a new object the sampler
 * adds to and frees, or NULL when out of memory.  Called on the sampler
 * thread only.  Fields read: queue_depth, memory, clients, model_types
 * (dashboard-history.h); the rest goes to the page as it is.
 */
typedef cJSON *(*dashboard_status_fn)(void *ctx);

/* Figures for the tests and the benchmark (/metrics shows them too). */
typedef struct dashboard_stats {
    uint64_t polls;        /* state and history requests answered */
    uint64_t snapshots;    /* snapshots built (one per interval while watched) */
    uint64_t probe_rounds; /* health probe rounds */
    int watched;           /* 1 while the lease runs */
} dashboard_stats;

/*
 * A hub for cfg (borrowed: it must outlive the hub) reading the manager
 * through status_fn.  No thread starts until the first poll.  Returns 0,
 * or -HDM_E_NOMEM with err.
 */
int dashboard_new(const dashboard_config *cfg, dashboard_status_fn status_fn, void *status_ctx,
                  dashboard **out, hdm_err *err);
/* Stops the sampler thread (waiting for a probe round in progress, at most
 * health_timeout_ms) and frees the hub.  Accepts NULL. */
void dashboard_free(dashboard *d);

typedef enum dashboard_doc {
    DASHBOARD_STATE,   /* {"t","interval_ms","status","services","sample"} */
    DASHBOARD_HISTORY, /* {"t","interval_ms","samples":[...]} oldest first */
} dashboard_doc;

/*
 * A poll: renews the lease (starting or waking the sampler) and copies the
 * newest printed document to *out (malloc'd, NUL-terminated, *len bytes).
 * When nothing fresh is printed yet (the first poll after a quiet time) it
 * waits for the sampler's first snapshot, at most wait_ms.  Returns 0;
 * -HDM_E_UNAVAILABLE when the sampler gave nothing in time or could not
 * start; -HDM_E_NOMEM.  Thread-safe.
 */
int dashboard_poll(dashboard *d, dashboard_doc doc, int wait_ms, char **out, size_t *len,
                   hdm_err *err);

/* A copy of the hub's figures.  Thread-safe. */
void dashboard_get_stats(dashboard *d, dashboard_stats *out);

/* The lease a poll gives, in ms: 3 intervals + 2 s. */
int dashboard_lease_ms(const dashboard_config *cfg);

#endif
