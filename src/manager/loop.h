/*
 * loop.h - the manager's event loop and the state every part of the daemon
 * shares (configuration, device, registry, scheduler, worker, counters).
 *
 * DESIGN: one thread owns every client connection.  It accepts, reads and
 * parses frames, answers cheap actions at once, and submits device work to
 * the scheduler.  The worker thread hands results (and streaming deltas)
 * back through a mutex-protected list and an eventfd the loop watches, so
 * the worker never touches a socket.  Signals arrive through a signalfd and
 * the systemd watchdog through a timerfd: nothing runs in signal context.
 */
#ifndef HDM_MANAGER_LOOP_H
#define HDM_MANAGER_LOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "backends/backend.h"
#include "common/paths.h"
#include "config.h"
#include "conn.h"
#include "listen.h"
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
typedef struct loop_counters {
    atomic_uint_fast64_t requests[ACT__COUNT];
    atomic_uint_fast64_t errors[HDM_E__COUNT];
    atomic_uint_fast64_t connections_total;
    atomic_uint_fast64_t connections_dropped; /* closed for a protocol error or slow reader */
    atomic_int connections_open;
    atomic_uint_fast64_t bytes_in, bytes_out;
    atomic_uint_fast64_t busy_rejections;
} loop_counters;

struct loop_event;

#define LOOP_CONN_BUCKETS 1024

typedef struct loop {
    const manager_config *cfg;
    path_allowlist allow;
    const backend_ops *ops;
    backend *dev;
    device_info info; /* identity read at start (device_id etc.) */
    registry *reg;
    sched *sched;
    worker *worker;
    double started_wall;
    int64_t started_ms;
    listen_socket *ls;
    uint64_t out_cap; /* most queued output per connection before it is dropped */

    int epfd, sigfd, evfd, wdfd;
    conn *buckets[LOOP_CONN_BUCKETS];
    uint64_t next_conn_id;
    uint64_t next_job_id;
    size_t jobs_in_flight; /* submitted and not yet answered (loop thread) */
    conn *dirty;           /* connections with output to flush this round */

    pthread_mutex_t done_lock; /* guards done_head/done_tail/done_signalled */
    struct loop_event *done_head, *done_tail;
    bool done_signalled;

    conn *dead;             /* closed this round; freed at its end */
    size_t preload_pending; /* preload jobs not yet finished */
    bool accept_paused;     /* out of file descriptors: retry accepting later */

    bool stopping;
    int64_t stop_flush_deadline;
    loop_counters counters;
} loop;

/* Sets up epoll, signalfd (SIGTERM, SIGINT; they must already be blocked),
 * eventfd and the watchdog timer.  Returns 0 or a negative code. */
int loop_init(loop *l, const manager_config *cfg, hdm_err *err);
/* Frees the loop's fds, connections and pending events.  Accepts a zeroed loop. */
void loop_destroy(loop *l);

/* Completion callback for the scheduler and worker (any thread). */
void loop_on_complete(void *ctx, job *j);
/* Streaming delta callback for the worker (worker thread). */
void loop_on_delta(void *ctx, job *j, const char *text, size_t len);

/* Submits the config's preload entries and waits for them (before READY). */
void loop_preload(loop *l);
/* Runs until SIGTERM/SIGINT and the drain that follows.  Returns 0. */
int loop_run(loop *l);

/* Submits a device job for connection c (loop thread).  On -HDM_E_BUSY the
 * job is not taken (caller answers and frees it). */
int loop_submit(loop *l, conn *c, job *j);
/* Marks c to be flushed at the end of this loop round. */
void loop_mark_dirty(loop *l, conn *c);

#endif
