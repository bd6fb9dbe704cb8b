/*
 * loop.h - the manager's event loop: connections, frames in and answers out,
 * signals, the systemd watchdog.  The manager's state is manager.h.
 *
 * DESIGN: one thread owns every client connection.  It accepts, reads and
 * parses frames and hands each one to proto.c with the manager; answers are
 * queued on the connection, which tells the loop it has output to flush.
 * The worker thread hands results (and streaming deltas) back through a
 * mutex-protected list and an eventfd the loop watches, so the worker never
 * touches a socket.  Signals arrive through a signalfd and the systemd
 * watchdog through a timerfd: nothing runs in signal context.
 */
#ifndef HDM_MANAGER_LOOP_H
#define HDM_MANAGER_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "job.h"
#include "listen.h"
#include "manager.h"

struct loop_event;

#define LOOP_CONN_BUCKETS 1024

/* What the loop lets clients hold (config.h has the settings). */
typedef struct loop_limits {
    size_t max_frame;     /* largest frame accepted */
    int frame_timeout_ms; /* a frame must be complete this long after its first byte */
    size_t max_buffered;  /* bytes of unprocessed input held across all connections */
    int stop_timeout_ms;  /* SIGTERM: the running job gets this long (half, then cancelled) */
} loop_limits;

typedef struct loop {
    manager *m; /* set by loop_preload / loop_run */
    listen_socket *ls;
    uint64_t out_cap; /* most queued output per connection before it is dropped */
    loop_limits limits;
    size_t buffered;  /* unprocessed input bytes held, all connections */
    size_t n_partial; /* connections with a frame under way (frame_started_ms) */
    int64_t next_deadline_check;

    int epfd, sigfd, evfd, wdfd;
    conn *buckets[LOOP_CONN_BUCKETS];
    uint64_t next_conn_id;
    conn *dirty; /* connections with output to flush this round */

    pthread_mutex_t done_lock; /* guards done_head/done_tail/done_signalled */
    struct loop_event *done_head, *done_tail;
    bool done_signalled;

    conn *dead;         /* closed this round; freed at its end */
    bool accept_paused; /* accept() cannot work now (no memory, no descriptor): retry later */
    int spare_fd;       /* reserved descriptor, given up to refuse a connection cleanly */
    bool fd_episode;    /* out of file descriptors since the last successful accept */
    uint64_t refused_in_episode;

    bool stopping;
    int64_t stop_flush_deadline;
    int64_t stop_cancel_at;  /* cancel the running job then */
    int64_t stop_give_up_at; /* stop without the worker then */
    bool cancelled_running;
    bool gave_up; /* loop_run returned with device work unfinished */
} loop;

/* Sets up epoll, signalfd (SIGTERM, SIGINT, SIGHUP; they must already be
 * blocked), eventfd and the watchdog timer, with the given limits.  Returns
 * 0 or a negative code. */
int loop_init(loop *l, const loop_limits *limits, hdm_err *err);
/* Frees the loop's fds, connections and pending events.  Accepts a zeroed loop. */
void loop_destroy(loop *l);

/* Completion callback for the scheduler and worker (any thread); ctx is the loop. */
void loop_on_complete(void *ctx, job *j);
/* Streaming delta callback for the worker (worker thread); ctx is the loop. */
void loop_on_delta(void *ctx, job *j, const char *text, size_t len);

/* Submits the manager's preload entries and waits for them (before READY). */
void loop_preload(loop *l, manager *m);
/* Serves ls for m until SIGTERM/SIGINT and the drain that follows.  Returns
 * 0 after an orderly stop, -HDM_E_DEADLINE_EXCEEDED when the device worker
 * did not finish within stop_timeout_ms (even after being cancelled): the
 * caller must then exit without waiting for it. */
int loop_run(loop *l, manager *m, listen_socket *ls);

#endif
