/*
 * http_watch.c - one thread that notices clients hanging up while their
 * request waits or runs, and closes requests past their deadline.
 *
 * DESIGN: while a request is with a handler (queued or running) its
 * connection is suspended and libmicrohttpd does not look at the socket, so
 * a client that gives up is only noticed when the reply is written: a
 * handler blocked on the device would run to the end for nobody.  The
 * watcher keeps an epoll set of the sockets of those requests, armed once
 * (EPOLLONESHOT) for EPOLLRDHUP/EPOLLHUP/EPOLLERR only, so pipelined bytes
 * (EPOLLIN) never wake it.  On a hang-up it marks the request gone and runs
 * the handler's on_close hook (http_request_on_close), under the watch lock.
 *
 * Requests are named in the epoll set by a slot index and a generation, not
 * by pointer: an event already returned by epoll_wait for a request that was
 * removed (and freed) meanwhile finds its slot's generation changed and is
 * dropped.  Removal takes the same lock the hook runs under, so after
 * http_watch_remove (or clearing the hook) no hook of that request runs.
 *
 * Between events the thread runs the connection guard's deadline sweep
 * (http_guard.c) and the sweep of requests held before their body
 * (http_admit.c: a hang-up marked here is acted on there), so it wakes at
 * least once a second.
 */
#include "http/http_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define WATCH_STOP_ID UINT64_MAX
#define WATCH_EVENTS 64

typedef struct slot {
    http_request *req; /* NULL when free */
    uint32_t gen;
} slot;

struct http_watch {
    http_server *srv;
    int epfd;
    int stopfd;
    pthread_t thread;
    pthread_mutex_t lock;
    slot *slots;
    uint32_t *free_list;
    size_t cap, n_free;
};

static void fire_locked(http_watch *w, http_request *req)
{
    (void)w;
    if (__atomic_exchange_n(&req->peer_gone, true, __ATOMIC_ACQ_REL))
        return;
    pthread_mutex_lock(&w->srv->guard_lock);
    w->srv->stats.hangups_seen++;
    pthread_mutex_unlock(&w->srv->guard_lock);
    void (*fn)(void *) = req->on_close;
    req->on_close = NULL;
    if (fn != NULL)
        fn(req->on_close_user);
}

static void *watch_main(void *arg)
{
    http_watch *w = arg;
    struct epoll_event evs[WATCH_EVENTS];
    for (;;) {
        double next = http_guard_sweep(w->srv);
        double held = http_admit_sweep(w->srv); /* hung up or waited too long */
        if (held < next)
            next = held;
        int ms = (int)(next * 1000.0) + 1;
        int n = epoll_wait(w->epfd, evs, WATCH_EVENTS, ms);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            uint64_t id = evs[i].data.u64;
            if (id == WATCH_STOP_ID)
                return NULL;
            size_t idx = (size_t)(id & 0xffffffffu);
            uint32_t gen = (uint32_t)(id >> 32);
            pthread_mutex_lock(&w->lock);
            if (idx < w->cap && w->slots[idx].req != NULL && w->slots[idx].gen == gen)
                fire_locked(w, w->slots[idx].req);
            pthread_mutex_unlock(&w->lock);
        }
    }
    return NULL;
}

http_watch *http_watch_start(http_server *srv)
{
    http_watch *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->srv = srv;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_mutex_init(&w->lock, NULL);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WATCH_STOP_ID};
    if (w->epfd < 0 || w->stopfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->stopfd, &ev) < 0 ||
        pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        if (w->epfd >= 0)
            close(w->epfd);
        if (w->stopfd >= 0)
            close(w->stopfd);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

void http_watch_stop(http_watch *w)
{
    if (w == NULL)
        return;
    uint64_t one = 1;
    if (write(w->stopfd, &one, sizeof(one)) != (ssize_t)sizeof(one)) {
        /* An eventfd write only fails on overflow, which one write cannot cause. */
    }
    pthread_join(w->thread, NULL);
    close(w->epfd);
    close(w->stopfd);
    pthread_mutex_destroy(&w->lock);
    free(w->slots);
    free(w->free_list);
    free(w);
}

/* A free slot index (growing the table), or -1 when out of memory. */
static long take_slot_locked(http_watch *w)
{
    if (w->n_free == 0) {
        size_t ncap = w->cap != 0 ? w->cap * 2 : 64;
        slot *ns = realloc(w->slots, ncap * sizeof(*ns));
        if (ns == NULL)
            return -1;
        w->slots = ns;
        uint32_t *nf = realloc(w->free_list, ncap * sizeof(*nf));
        if (nf == NULL)
            return -1;
        w->free_list = nf;
        for (size_t i = w->cap; i < ncap; i++) {
            w->slots[i] = (slot){0};
            w->free_list[w->n_free++] = (uint32_t)(ncap - 1 - (i - w->cap));
        }
        w->cap = ncap;
    }
    return (long)w->free_list[--w->n_free];
}

int http_watch_add(http_watch *w, http_request *req)
{
    if (w == NULL || req->fd < 0)
        return -1;
    pthread_mutex_lock(&w->lock);
    long idx = take_slot_locked(w);
    if (idx < 0) {
        pthread_mutex_unlock(&w->lock);
        return -1;
    }
    slot *s = &w->slots[idx];
    s->gen++;
    s->req = req;
    req->watch_id = ((uint64_t)s->gen << 32) | (uint64_t)idx;
    struct epoll_event ev = {.events = EPOLLRDHUP | EPOLLONESHOT, .data.u64 = req->watch_id};
    int rc = epoll_ctl(w->epfd, EPOLL_CTL_ADD, req->fd, &ev);
    if (rc < 0) {
        s->req = NULL;
        w->free_list[w->n_free++] = (uint32_t)idx;
        req->watch_id = 0;
    }
    pthread_mutex_unlock(&w->lock);
    return rc < 0 ? -1 : 0;
}

void http_watch_remove(http_watch *w, http_request *req, bool gone)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    if (gone)
        fire_locked(w, req); /* the connection ended before its reply: tell the producer */
    if (req->watch_id != 0) {
        size_t idx = (size_t)(req->watch_id & 0xffffffffu);
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, req->fd, NULL);
        w->slots[idx].req = NULL;
        w->free_list[w->n_free++] = (uint32_t)idx;
        req->watch_id = 0;
    }
    req->on_close = NULL;
    req->on_close_user = NULL;
    pthread_mutex_unlock(&w->lock);
}

void http_watch_set_hook(http_watch *w, http_request *req, void (*fn)(void *), void *user)
{
    pthread_mutex_lock(&w->lock);
    req->on_close = fn;
    req->on_close_user = user;
    if (fn != NULL && __atomic_load_n(&req->peer_gone, __ATOMIC_ACQUIRE)) {
        req->on_close = NULL;
        fn(user);
    }
    pthread_mutex_unlock(&w->lock);
}
