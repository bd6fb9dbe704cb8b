/*
 * loop.c - the epoll loop: accept, read, dispatch, complete, write, stop.
 *
 * DESIGN: level-triggered epoll over non-blocking sockets.  Each round
 * handles the ready fds, then flushes every connection that got output
 * ("dirty" list), so pipelined requests read in one round leave in one
 * send().  Connections closed during a round are only unlinked and freed at
 * its end, so a later event of the same batch never sees freed memory.  A
 * client that stops reading first stops being read (CONN_OUT_PAUSE_BYTES of
 * output waiting), and is dropped if its output still reaches out_cap.
 *
 * Input is bounded the same way: a frame must be complete within
 * frame_timeout_ms of its first byte (a client announcing 64 MiB and
 * sending half of it is answered deadline_exceeded and closed), and the
 * unprocessed input held across all connections has a cap: past it, the
 * connection receiving its frame the slowest is answered busy and closed.
 *
 * Worker -> loop: loop_on_complete/loop_on_delta append to done_head under
 * done_lock and write the eventfd only when the list was empty; the loop
 * reads the eventfd before taking the list, so no wake-up is lost.
 */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "proto.h"

typedef struct loop_event {
    struct loop_event *next;
    job *j;
    bool delta;
    size_t len;
    char text[];
} loop_event;

static void note_input(loop *l, conn *c);
static void on_signal(loop *l);

/* epoll tags for the loop's own fds; connections use their conn pointer. */
static char tag_listen, tag_signal, tag_event, tag_watchdog;

/* How long a stopping manager keeps trying to deliver its last answers. */
#define STOP_FLUSH_MS 2000
/* After a second signal, how long the cancelled job gets before we stop without it. */
#define STOP_AFTER_CANCEL_MS 2000

/* ---- connection table ---------------------------------------------------- */

static conn *conn_find(loop *l, uint64_t id)
{
    for (conn *c = l->buckets[id % LOOP_CONN_BUCKETS]; c; c = c->hash_next)
        if (c->id == id)
            return c;
    return NULL;
}

static void conn_unlink(loop *l, conn *c)
{
    conn **pp = &l->buckets[c->id % LOOP_CONN_BUCKETS];
    while (*pp && *pp != c)
        pp = &(*pp)->hash_next;
    if (*pp)
        *pp = c->hash_next;
}

static void update_events(loop *l, conn *c)
{
    uint32_t want = 0;
    if (!c->closing && !c->peer_eof && conn_out_pending(c) < CONN_OUT_PAUSE_BYTES)
        want |= EPOLLIN | EPOLLRDHUP;
    if (conn_out_pending(c) > 0)
        want |= EPOLLOUT;
    if (want == c->ep_events)
        return;
    struct epoll_event ev = {.events = want, .data.ptr = c};
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->ep_events = want;
}

/* Closes c: cancels its work, forgets it; the memory goes at the round's end. */
static void conn_close(loop *l, conn *c, const char *why)
{
    if (c->fd < 0)
        return;
    log_debug("connection %llu closed (%s), %zu jobs in flight", (unsigned long long)c->id, why,
              c->n_jobs);
    for (size_t i = 0; i < c->n_jobs; i++)
        atomic_store(&c->jobs[i]->cancelled, true);
    if (c->n_jobs > 0)
        sched_cancel_conn(l->m->sched, c->id);
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    note_input(l, c); /* its input no longer counts */
    conn_unlink(l, c);
    atomic_fetch_sub(&l->m->counters.connections_open, 1);
    c->hash_next = l->dead;
    l->dead = c;
}

/* conn_notify_fn: c has output (or is closing); flush it at the round's end. */
static void mark_dirty(void *owner, conn *c)
{
    loop *l = owner;
    if (c->dirty || c->fd < 0)
        return;
    c->dirty = true;
    c->dirty_next = l->dirty;
    l->dirty = c;
}

/* ---- worker -> loop ------------------------------------------------------ */

static void push_event(loop *l, loop_event *ev)
{
    ev->next = NULL;
    pthread_mutex_lock(&l->done_lock);
    if (l->done_tail)
        l->done_tail->next = ev;
    else
        l->done_head = ev;
    l->done_tail = ev;
    bool wake = !l->done_signalled;
    l->done_signalled = true;
    pthread_mutex_unlock(&l->done_lock);
    if (wake) {
        uint64_t one = 1;
        while (write(l->evfd, &one, sizeof(one)) < 0 && errno == EINTR)
            ;
    }
}

void loop_on_complete(void *ctx, job *j)
{
    loop *l = ctx;
    loop_event *ev = malloc(sizeof(*ev));
    if (!ev) {
        /* Cannot queue the answer: the client would wait forever, which is
         * worse than exiting and letting systemd restart us. */
        fatal("out of memory completing job %llu", (unsigned long long)j->id);
    }
    ev->j = j;
    ev->delta = false;
    ev->len = 0;
    push_event(l, ev);
}

void loop_on_delta(void *ctx, job *j, const char *text, size_t len)
{
    loop *l = ctx;
    loop_event *ev = malloc(sizeof(*ev) + len + 1);
    if (!ev)
        return; /* the final frame carries the full text */
    ev->j = j;
    ev->delta = true;
    ev->len = len;
    memcpy(ev->text, text, len);
    ev->text[len] = 0;
    push_event(l, ev);
}

static void process_events(loop *l)
{
    uint64_t count;
    while (read(l->evfd, &count, sizeof(count)) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&l->done_lock);
    loop_event *ev = l->done_head;
    l->done_head = l->done_tail = NULL;
    l->done_signalled = false;
    pthread_mutex_unlock(&l->done_lock);

    while (ev) {
        loop_event *next = ev->next;
        job *j = ev->j;
        conn *c = j->conn_id ? conn_find(l, j->conn_id) : NULL;
        if (ev->delta) {
            if (c)
                proto_answer_delta(l->m, c, j, ev->text, ev->len);
        } else {
            manager_job_finished(l->m, j);
            if (c) {
                conn_untrack_job(c, j);
                proto_answer_job(l->m, c, j);
                if (c->peer_eof && c->n_jobs == 0)
                    c->closing = true;
            }
            job_free(j);
        }
        free(ev);
        ev = next;
    }
}

/* ---- input limits ---------------------------------------------------------- */

/* Keeps l->buffered, l->n_partial and c's frame clock up to date after c's
 * input changed.  A connection paused for not reading its answers is not
 * timed: it is we who stopped reading it. */
static void note_input(loop *l, conn *c)
{
    size_t held = c->fd >= 0 && !c->closing ? c->in.len - c->in_off : 0;
    l->buffered = l->buffered - c->accounted + held;
    c->accounted = held;
    atomic_store(&l->m->counters.buffered_bytes, l->buffered);
    bool partial = held > 0 && conn_out_pending(c) < CONN_OUT_PAUSE_BYTES;
    if (partial && c->frame_started_ms == 0) {
        c->frame_started_ms = mono_ms();
        l->n_partial++;
    } else if (!partial && c->frame_started_ms != 0) {
        c->frame_started_ms = 0;
        l->n_partial--;
    }
}

/* Answers c with an error, closes it once that is written, and lets go of
 * its input at once (that memory is what the limits are about). */
static void drop_input(loop *l, conn *c, int code, const char *msg)
{
    proto_fail_connection(l->m, c, code, msg);
    buf_free(&c->in);
    c->in_off = 0;
    c->in_need = 0;
    note_input(l, c);
}

/* Past the cap on buffered input: closes the connections whose frames arrive
 * the slowest (fewest bytes per second since their first byte) until the
 * total fits again. */
static void enforce_buffer_cap(loop *l)
{
    while (l->buffered > l->limits.max_buffered) {
        int64_t now = mono_ms();
        conn *slowest = NULL;
        double slowest_rate = 0;
        for (size_t b = 0; b < LOOP_CONN_BUCKETS; b++)
            for (conn *c = l->buckets[b]; c; c = c->hash_next) {
                if (c->accounted == 0 || c->closing)
                    continue;
                int64_t since = c->frame_started_ms ? now - c->frame_started_ms : 0;
                double rate = (double)c->accounted / (double)(since > 0 ? since : 1);
                if (!slowest || rate < slowest_rate) {
                    slowest = c;
                    slowest_rate = rate;
                }
            }
        if (!slowest)
            return;
        char msg[200];
        snprintf(msg, sizeof(msg),
                 "Device manager busy: %zu MiB of unfinished requests are buffered (limit %zu "
                 "MiB); this connection's was arriving the slowest",
                 l->buffered >> 20, l->limits.max_buffered >> 20);
        atomic_fetch_add(&l->m->counters.input_overflow_drops, 1);
        drop_input(l, slowest, HDM_E_BUSY, msg);
    }
}

/* Closes connections whose frame did not complete in time. */
static void check_frame_deadlines(loop *l)
{
    int64_t now = mono_ms();
    if (l->n_partial == 0 || now < l->next_deadline_check)
        return;
    int timeout = l->limits.frame_timeout_ms;
    l->next_deadline_check = now + (timeout / 4 < 1000 ? timeout / 4 + 1 : 1000);
    for (size_t b = 0; b < LOOP_CONN_BUCKETS; b++)
        for (conn *c = l->buckets[b]; c; c = c->hash_next) {
            if (c->frame_started_ms == 0 || c->closing)
                continue;
            if (conn_out_pending(c) >= CONN_OUT_PAUSE_BYTES) {
                c->frame_started_ms = now; /* not read while its answers wait: not its fault */
                continue;
            }
            if (now - c->frame_started_ms < timeout)
                continue;
            char msg[200];
            size_t held = c->in.len - c->in_off;
            if (c->in_need > 0)
                snprintf(msg, sizeof(msg),
                         "Frame not complete within %d ms: got %zu of %zu bytes; closing", timeout,
                         held, c->in_need);
            else
                snprintf(msg, sizeof(msg),
                         "Frame not complete within %d ms: got %zu bytes; closing", timeout, held);
            atomic_fetch_add(&l->m->counters.frames_timed_out, 1);
            drop_input(l, c, HDM_E_DEADLINE_EXCEEDED, msg);
        }
}

/* How long epoll may sleep before the next frame deadline check (-1: none due). */
static int deadline_wait_ms(const loop *l)
{
    if (l->n_partial == 0)
        return -1;
    int64_t left = l->next_deadline_check - mono_ms();
    return left < 0 ? 0 : left > 1000 ? 1000 : (int)left;
}

/* ---- reading ------------------------------------------------------------- */

static void process_frames(loop *l, conn *c)
{
    while (!c->closing && c->fd >= 0 && conn_out_pending(c) < CONN_OUT_PAUSE_BYTES) {
        size_t avail = c->in.len - c->in_off;
        if (avail == 0)
            break;
        frame f;
        size_t need = 0;
        hdm_err err;
        hdm_err_clear(&err);
        int rc = frame_parse(c->in.data + c->in_off, avail, l->limits.max_frame, &f, &need, &err);
        if (rc == 0) {
            c->in_need = need;
            break;
        }
        if (rc < 0) {
            proto_fail_connection(l->m, c,
                                  rc == -HDM_E_TOO_LARGE ? HDM_E_TOO_LARGE : HDM_E_BAD_REQUEST,
                                  err.msg[0] ? err.msg : "Malformed frame");
            break;
        }
        c->in_need = 0;
        if (c->frame_started_ms != 0) { /* the next frame has its own clock */
            c->frame_started_ms = 0;
            l->n_partial--;
        }
        const uint8_t *base = c->in.data;
        proto_handle_frame(l->m, c, &f);
        if (c->in.data == base)
            c->in_off += f.total_len; /* else the frame took the whole buffer with it */
        frame_clear(&f);
    }
    if (c->in_off == c->in.len) {
        c->in_off = 0;
        c->in.len = 0;
        /* A big request's buffer is not kept per idle connection. */
        if (c->in.cap > (4u << 20))
            buf_free(&c->in);
    }
    note_input(l, c);
}

static void on_readable(loop *l, conn *c)
{
    long r = conn_read(c);
    if (r == -2) {
        conn_close(l, c, "read error");
        return;
    }
    if (r > 0) {
        process_frames(l, c);
        if (l->buffered > l->limits.max_buffered)
            enforce_buffer_cap(l);
    }
    if (r == -1 && c->fd >= 0) {
        c->peer_eof = true;
        size_t left = c->in.len - c->in_off;
        if (left > 0 && !c->closing) {
            char msg[160];
            if (c->in_need > 0)
                snprintf(msg, sizeof(msg), "Truncated frame: got %zu of %zu bytes", left,
                         c->in_need);
            else
                snprintf(msg, sizeof(msg), "Truncated frame: got %zu bytes", left);
            proto_fail_connection(l->m, c, HDM_E_BAD_REQUEST, msg);
        } else if (c->n_jobs == 0) {
            c->closing = true;
        }
        mark_dirty(l, c);
    }
    /* A dirty connection gets its events updated after the flush, which
     * usually empties the queue: no EPOLLOUT on/off per request. */
    if (c->fd >= 0 && !c->dirty)
        update_events(l, c);
}

/*
 * Out of file descriptors (EMFILE/ENFILE): the reserved descriptor is given
 * up for a moment so the waiting connection can be accepted, told why, and
 * closed at once, instead of hanging in the backlog while the loop wakes up
 * for it again and again.  One warning per episode; the end of the episode
 * is logged with the number refused.
 */
static void refuse_one(loop *l)
{
    static const char body[] =
        "{\"error\": \"Device manager busy: out of file descriptors; retry later\", "
        "\"code\": \"busy\", \"retry_after_ms\": 1000}";
    if (l->spare_fd >= 0) {
        close(l->spare_fd);
        l->spare_fd = -1;
    }
    int fd = accept4(l->ls->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
        uint8_t frame[4 + sizeof(body)];
        uint32_t n = sizeof(body) - 1;
        frame[0] = (uint8_t)(n >> 24);
        frame[1] = (uint8_t)(n >> 16);
        frame[2] = (uint8_t)(n >> 8);
        frame[3] = (uint8_t)n;
        memcpy(frame + 4, body, n);
        ssize_t w = send(fd, frame, 4 + n, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w; /* best effort: the close says the rest */
        close(fd);
        l->refused_in_episode++;
        atomic_fetch_add(&l->m->counters.connections_refused, 1);
    }
    l->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void on_accept(loop *l)
{
    for (int i = 0; i < 64; i++) {
        int fd = accept4(l->ls->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            if (e == EMFILE || e == ENFILE) {
                if (!l->fd_episode) {
                    l->fd_episode = true;
                    log_warn("out of file descriptors (%s, %d connections open): refusing new "
                             "connections until some close",
                             strerror(e), atomic_load(&l->m->counters.connections_open));
                }
                refuse_one(l);
                if (l->spare_fd < 0) { /* not even one descriptor: wait instead */
                    epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->ls->fd, NULL);
                    l->accept_paused = true;
                    return;
                }
                continue;
            }
            if (e == ENOBUFS || e == ENOMEM) {
                if (!l->accept_paused)
                    log_warn("cannot accept connections: %s; retrying shortly", strerror(e));
                epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->ls->fd, NULL);
                l->accept_paused = true;
            } else if (e != EAGAIN && e != EINTR && e != ECONNABORTED) {
                log_warn("accept: %s", strerror(e));
            }
            return;
        }
        if (l->fd_episode) {
            log_info("accepting connections again (%llu refused while out of file descriptors)",
                     (unsigned long long)l->refused_in_episode);
            l->fd_episode = false;
            l->refused_in_episode = 0;
        }
        conn *c = conn_new(fd, ++l->next_conn_id, mark_dirty, l);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        if (!c || epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            log_warn("dropping a new connection: %s", c ? strerror(errno) : "out of memory");
            if (c)
                conn_free(c);
            else
                close(fd);
            continue;
        }
        c->ep_events = ev.events;
        c->hash_next = l->buckets[c->id % LOOP_CONN_BUCKETS];
        l->buckets[c->id % LOOP_CONN_BUCKETS] = c;
        atomic_fetch_add(&l->m->counters.connections_total, 1);
        atomic_fetch_add(&l->m->counters.connections_open, 1);
        log_debug("connection %llu from uid %d pid %d", (unsigned long long)c->id, (int)c->uid,
                  (int)c->pid);
    }
}

/* ---- writing ------------------------------------------------------------- */

static void flush_dirty(loop *l)
{
    while (l->dirty) {
        conn *c = l->dirty;
        l->dirty = c->dirty_next;
        c->dirty = false;
        if (c->fd < 0)
            continue;
        bool was_paused = conn_out_pending(c) >= CONN_OUT_PAUSE_BYTES;
        int r = conn_flush(c);
        if (r < 0) {
            conn_close(l, c, "write error");
            continue;
        }
        size_t pending = conn_out_pending(c);
        if (pending > l->out_cap) {
            log_warn("connection %llu (pid %d) does not read its answers (%zu bytes waiting); "
                     "dropping it",
                     (unsigned long long)c->id, (int)c->pid, pending);
            atomic_fetch_add(&l->m->counters.connections_dropped, 1);
            conn_close(l, c, "slow reader");
            continue;
        }
        if (pending == 0 && c->closing) {
            conn_close(l, c, c->peer_eof ? "client finished" : "protocol error");
            continue;
        }
        if (was_paused && pending < CONN_OUT_PAUSE_BYTES && c->in.len > c->in_off)
            process_frames(l, c); /* requests read before the pause */
        update_events(l, c);
    }
}

/* ---- lifecycle ----------------------------------------------------------- */

int loop_init(loop *l, const loop_limits *limits, hdm_err *err)
{
    memset(l, 0, sizeof(*l));
    l->epfd = l->sigfd = l->evfd = l->wdfd = l->spare_fd = -1;
    l->limits = *limits;
    l->out_cap = (uint64_t)limits->max_frame * 2;
    if (l->out_cap < (16u << 20))
        l->out_cap = 16u << 20;
    pthread_mutex_init(&l->done_lock, NULL);

    l->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->spare_fd < 0)
        return hdm_err_set(err, HDM_E_INTERNAL, "cannot reserve a file descriptor: %s",
                           strerror(errno));
    l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    l->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (l->epfd < 0 || l->evfd < 0 || l->sigfd < 0)
        return hdm_err_set(err, HDM_E_INTERNAL, "event loop setup: %s", strerror(errno));
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &tag_event};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->evfd, &ev) < 0)
        return hdm_err_set(err, HDM_E_INTERNAL, "epoll_ctl: %s", strerror(errno));
    ev.data.ptr = &tag_signal;
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sigfd, &ev) < 0)
        return hdm_err_set(err, HDM_E_INTERNAL, "epoll_ctl: %s", strerror(errno));

    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        l->wdfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (l->wdfd < 0)
            return hdm_err_set(err, HDM_E_INTERNAL, "timerfd: %s", strerror(errno));
        uint64_t half = usec / 2;
        struct itimerspec its = {
            .it_interval = {.tv_sec = (time_t)(half / 1000000),
                            .tv_nsec = (long)(half % 1000000) * 1000},
        };
        its.it_value = its.it_interval;
        ev.data.ptr = &tag_watchdog;
        if (timerfd_settime(l->wdfd, 0, &its, NULL) < 0 ||
            epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wdfd, &ev) < 0)
            return hdm_err_set(err, HDM_E_INTERNAL, "watchdog timer: %s", strerror(errno));
        log_debug("watchdog: pinging every %llu ms", (unsigned long long)(half / 1000));
    }
    return 0;
}

void loop_destroy(loop *l)
{
    if (!l)
        return;
    for (size_t b = 0; b < LOOP_CONN_BUCKETS; b++) {
        conn *c = l->buckets[b];
        while (c) {
            conn *next = c->hash_next;
            conn_free(c);
            c = next;
        }
        l->buckets[b] = NULL;
    }
    while (l->dead) {
        conn *next = l->dead->hash_next;
        conn_free(l->dead);
        l->dead = next;
    }
    loop_event *ev = l->done_head;
    while (ev) {
        loop_event *next = ev->next;
        if (!ev->delta)
            job_free(ev->j);
        free(ev);
        ev = next;
    }
    l->done_head = l->done_tail = NULL;
    if (l->epfd >= 0)
        close(l->epfd);
    if (l->sigfd >= 0)
        close(l->sigfd);
    if (l->evfd >= 0)
        close(l->evfd);
    if (l->wdfd >= 0)
        close(l->wdfd);
    if (l->spare_fd >= 0)
        close(l->spare_fd);
    l->epfd = l->sigfd = l->evfd = l->wdfd = l->spare_fd = -1;
    pthread_mutex_destroy(&l->done_lock);
}

void loop_preload(loop *l, manager *m)
{
    l->m = m;
    manager_preload(m);
    while (m->preload_pending > 0) {
        struct epoll_event ev;
        int n = epoll_wait(l->epfd, &ev, 1, 1000);
        if (n < 0 && errno != EINTR)
            break;
        if (n > 0 && ev.data.ptr == &tag_event)
            process_events(l);
        else if (n > 0 && ev.data.ptr == &tag_watchdog) {
            uint64_t ticks;
            if (read(l->wdfd, &ticks, sizeof(ticks)) > 0)
                sd_notify(0, "WATCHDOG=1");
        } else if (n > 0 && ev.data.ptr == &tag_signal) {
            on_signal(l); /* SIGHUP reloads; SIGTERM/SIGINT stop, see loop_run */
            if (l->stopping)
                break;
        }
    }
}

static void begin_stop(loop *l)
{
    if (l->stopping)
        return;
    l->stopping = true;
    int64_t now = mono_ms();
    l->stop_cancel_at = now + l->limits.stop_timeout_ms / 2;
    l->stop_give_up_at = now + l->limits.stop_timeout_ms;
    log_info("stopping: answering queued work, finishing the running job");
    sd_notify(0, "STOPPING=1");
    if (l->ls && l->ls->fd >= 0) {
        if (!l->accept_paused)
            epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->ls->fd, NULL);
        listen_close(l->ls);
    }
    manager_begin_stop(l->m);
}

/* While stopping with device work unfinished: cancels the running job at
 * stop_cancel_at; true once stop_give_up_at has passed (every blocking call
 * on the worker has a way out, this one included). */
static bool stop_overdue(loop *l)
{
    int64_t now = mono_ms();
    if (!l->cancelled_running && now >= l->stop_cancel_at) {
        l->cancelled_running = true;
        if (manager_cancel_running(l->m))
            log_warn("stopping: the running job is taking long; cancelling it");
    }
    if (now < l->stop_give_up_at)
        return false;
    log_error("stopping: the device worker did not finish within %d ms (%zu job(s) unfinished); "
              "exiting without it",
              l->limits.stop_timeout_ms, l->m->jobs_in_flight);
    l->gave_up = true;
    return true;
}

static bool output_pending(loop *l)
{
    for (size_t b = 0; b < LOOP_CONN_BUCKETS; b++)
        for (conn *c = l->buckets[b]; c; c = c->hash_next)
            if (conn_out_pending(c) > 0)
                return true;
    return false;
}

static void on_signal(loop *l)
{
    struct signalfd_siginfo si;
    while (read(l->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            if (!l->stopping)
                manager_reload(l->m);
            continue;
        }
        if (l->stopping) {
            log_warn("second signal: cancelling the running job, not waiting for clients to "
                     "read their answers");
            l->stop_flush_deadline = mono_ms();
            l->stop_cancel_at = mono_ms();
            if (l->stop_give_up_at > mono_ms() + STOP_AFTER_CANCEL_MS)
                l->stop_give_up_at = mono_ms() + STOP_AFTER_CANCEL_MS;
        }
        log_info("received signal %u", si.ssi_signo);
        begin_stop(l);
    }
}

int loop_run(loop *l, manager *m, listen_socket *ls)
{
    l->m = m;
    l->ls = ls;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &tag_listen};
    if (l->stopping) /* asked to stop during preload: never serve */
        listen_close(l->ls);
    else if (l->ls && l->ls->fd >= 0 && epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->ls->fd, &ev) < 0)
        fatal("epoll_ctl on the listening socket: %s", strerror(errno));
    struct epoll_event events[128];
    for (;;) {
        if (l->stopping && m->jobs_in_flight > 0 && stop_overdue(l))
            return -HDM_E_DEADLINE_EXCEEDED;
        if (l->stopping && m->jobs_in_flight == 0) {
            if (l->stop_flush_deadline == 0)
                l->stop_flush_deadline = mono_ms() + STOP_FLUSH_MS;
            if (!output_pending(l) || mono_ms() >= l->stop_flush_deadline)
                break;
        }
        int timeout = deadline_wait_ms(l);
        if ((l->accept_paused || l->stopping) && (timeout < 0 || timeout > 100))
            timeout = 100;
        int n = epoll_wait(l->epfd, events, 128, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fatal("epoll_wait: %s", strerror(errno));
        }
        if (l->accept_paused && !l->stopping) {
            if (l->spare_fd < 0)
                l->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &tag_listen};
            if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->ls->fd, &lev) == 0)
                l->accept_paused = false;
        }
        for (int i = 0; i < n; i++) {
            void *tag = events[i].data.ptr;
            uint32_t e = events[i].events;
            if (tag == &tag_listen) {
                if (!l->stopping)
                    on_accept(l);
            } else if (tag == &tag_event) {
                process_events(l);
            } else if (tag == &tag_signal) {
                on_signal(l);
            } else if (tag == &tag_watchdog) {
                uint64_t ticks;
                if (read(l->wdfd, &ticks, sizeof(ticks)) > 0)
                    sd_notify(0, "WATCHDOG=1");
            } else {
                conn *c = tag;
                if (c->fd < 0)
                    continue;
                if (e & (EPOLLHUP | EPOLLERR)) {
                    conn_close(l, c, "hang-up");
                    continue;
                }
                if (e & EPOLLOUT)
                    mark_dirty(l, c);
                if (e & (EPOLLIN | EPOLLRDHUP))
                    on_readable(l, c);
            }
        }
        check_frame_deadlines(l);
        flush_dirty(l);
        while (l->dead) {
            conn *next = l->dead->hash_next;
            conn_free(l->dead);
            l->dead = next;
        }
    }
    return 0;
}
