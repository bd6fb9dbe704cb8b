/*
 * manager.h - the device manager's state: configuration, model allow-list,
 * backend and device identity, registry, scheduler, device workers and the
 * counters; and the few operations on it that are not the protocol's
 * (starting, submitting work, preloading, stopping).
 *
 * DESIGN: the manager knows nothing of sockets or epoll.  The event loop
 * (loop.h) owns the connections and hands each complete frame to proto.c,
 * which validates it against the manager and submits device work here;
 * finished jobs come back to the loop through the `answers` hooks given to
 * manager_new (called on the worker or scheduler threads), and the loop
 * answers them through proto.c again.  Fields are read by the loop thread;
 * the HTTP thread reads only the atomics in `counters`, `info` (written once
 * before serving) and the thread-safe registry/scheduler status calls.
 */
#ifndef HDM_MANAGER_MANAGER_H
#define HDM_MANAGER_MANAGER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "backends/backend.h"
#include "common/paths.h"
#include "config.h"
#include "conn.h"
#include "job.h"
#include "modelpath.h"
#include "registry.h"
#include "sched.h"
#include "worker.h"

/* Request actions, for dispatch and counters. */
typedef enum proto_action {
    ACT_PING,
    ACT_STATUS,
    ACT_DEVICE_STATUS,
    ACT_LOAD_MODEL,
    ACT_INFER,
    ACT_UNLOAD_MODEL,
    ACT_CANCEL,
    ACT_INVALID, /* unknown action or unparseable frame */
    ACT__COUNT
} proto_action;

/* Counters read by the HTTP thread: atomics only. */
typedef struct manager_counters {
    atomic_uint_fast64_t requests[ACT__COUNT];
    atomic_uint_fast64_t errors[HDM_E__COUNT];
    atomic_uint_fast64_t connections_total;
    atomic_uint_fast64_t connections_dropped; /* closed for a protocol error or slow reader */
    atomic_int connections_open;
    atomic_uint_fast64_t bytes_in, bytes_out;
    atomic_uint_fast64_t busy_rejections;
    atomic_uint_fast64_t connections_refused;  /* accepted and closed: out of descriptors */
    atomic_uint_fast64_t frames_timed_out;     /* frames not complete within frame_timeout_ms */
    atomic_uint_fast64_t input_overflow_drops; /* closed over the buffered-input cap */
    atomic_size_t buffered_bytes;              /* unprocessed input held now */
} manager_counters;

typedef struct manager {
    const manager_config *cfg; /* borrowed: outlives the manager */
    modelpath_dirs *dirs; /* the allowed directories in force (loop thread; a reload
                             replaces it, jobs hold references to the one they used) */
    char *model_dirs; /* the allow-list in force (cfg's, or a reload's) */
    const backend_ops *ops;
    backend *dev;
    device_info info; /* identity read at start (device_id etc.) */
    registry *reg;
    sched *sched;
    worker *worker;
    bool parallel; /* dense and GenAI lanes on workers of their own (parallel_genai) */
    worker_hooks answers; /* where finished jobs and deltas go (the loop) */
    double started_wall;
    int64_t started_ms;

    uint64_t next_job_id;
    size_t jobs_in_flight;  /* submitted and not yet answered (loop thread) */
    size_t preload_pending; /* preload jobs not yet finished */
    bool stopping;          /* no new device work is taken */
    manager_counters counters;
} manager;

/*
 * Builds the manager for cfg (which must outlive it): parses the allow-list,
 * opens the backend cfg->backend names (never falling back from hardware to
 * the simulator on its own), reads the device identity, and starts the
 * registry, scheduler and device worker.  Finished jobs and streaming deltas
 * are handed to `answers` (any thread).  Returns 0 and *out, or a negative
 * code with err->msg a sentence for the operator.
 */
int manager_new(const manager_config *cfg, const worker_hooks *answers, manager **out,
                hdm_err *err);
/* Stops the worker (after the job in hand), unloads every model, closes the
 * device and frees the manager.  Accepts NULL. */
void manager_free(manager *m);

/* A new job with the next id, received now, priority normal; NULL when out
 * of memory.  The caller fills it and submits or frees it. */
job *manager_job_new(manager *m);

/*
 * Submits j for connection c (NULL for the manager's own work, e.g. preload)
 * (loop thread).  Returns 0; or -HDM_E_BUSY / -HDM_E_UNAVAILABLE /
 * -HDM_E_NOMEM with the job not taken (j->rc, j->err say why; the caller
 * answers and frees it).
 */
int manager_submit(manager *m, conn *c, job *j);

/* Bookkeeping for a job that came back from the worker, before it is
 * answered and freed (loop thread): counts it out of the jobs in flight and
 * logs the result of a preload. */
void manager_job_finished(manager *m, const job *j);

/* Submits the config's preload entries (loop thread); preload_pending counts
 * those not finished yet.  Entries that fail validation are logged. */
void manager_preload(manager *m);

/*
 * SIGHUP: reads the configuration again (the same flags, file and
 * environment) and applies what can change while serving: log_level and the
 * model allow-list (model_dirs).  Other settings changed in the file take
 * effect at the next start, and the log says so.  A file that no longer
 * parses is reported and the running settings stay.  Loop thread.
 */
void manager_reload(manager *m);

/* Takes no more device work: queued jobs are answered "shutting down", the
 * running ones (one per lane) finish.  Idempotent. */
void manager_begin_stop(manager *m);
/* Asks the jobs running on the device to stop at their next step (a stop
 * that took too long).  True when a job was running. */
bool manager_cancel_running(manager *m);

#endif
