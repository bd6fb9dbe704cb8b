/*
 * budget.c - bytes the large buffers of requests may hold at once.
 *
 * DESIGN: a counter of held bytes under a mutex, and a FIFO of waiters so a
 * large request is not starved by a stream of small ones: only the first
 * waiter may take bytes, and it takes them when they fit beside what is
 * held, or when nothing is held at all (a request larger than the whole
 * budget then runs alone rather than never).  Waiting is in slices of at
 * most CANCEL_POLL_MS so a client that hangs up stops waiting soon.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "depth/depth.h"

#define CANCEL_POLL_MS 100

typedef struct waiter {
    struct waiter *next;
} waiter;

struct depth_budget {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    size_t limit, held;
    waiter *head, *tail;
    int n_waiting;
};

int depth_budget_new(size_t limit, depth_budget **out)
{
    depth_budget *b = calloc(1, sizeof(*b));
    if (!b)
        return -HDM_E_NOMEM;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (pthread_mutex_init(&b->lock, NULL) != 0) {
        pthread_condattr_destroy(&ca);
        free(b);
        return -HDM_E_NOMEM;
    }
    if (pthread_cond_init(&b->changed, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        pthread_mutex_destroy(&b->lock);
        free(b);
        return -HDM_E_NOMEM;
    }
    pthread_condattr_destroy(&ca);
    b->limit = limit;
    *out = b;
    return 0;
}

void depth_budget_free(depth_budget *b)
{
    if (!b)
        return;
    pthread_cond_destroy(&b->changed);
    pthread_mutex_destroy(&b->lock);
    free(b);
}

static bool fd_readable(int fd)
{
    if (fd < 0)
        return false;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool fits(const depth_budget *b, size_t n)
{
    return b->held == 0 || (n <= b->limit && b->held <= b->limit - n);
}

static void unlink_waiter(depth_budget *b, waiter *w)
{
    waiter **p = &b->head, *prev = NULL;
    while (*p && *p != w) {
        prev = *p;
        p = &(*p)->next;
    }
    if (*p) {
        *p = w->next;
        if (b->tail == w)
            b->tail = prev;
    }
    b->n_waiting--;
}

int depth_budget_acquire(depth_budget *b, size_t n, int wait_ms, int cancel_fd)
{
    pthread_mutex_lock(&b->lock);
    if (b->head == NULL && fits(b, n)) {
        b->held += n;
        pthread_mutex_unlock(&b->lock);
        return 0;
    }
    waiter w = {0};
    if (b->tail)
        b->tail->next = &w;
    else
        b->head = &w;
    b->tail = &w;
    b->n_waiting++;
    double deadline = now_ms() + wait_ms;
    int r = 0;
    for (;;) {
        if (b->head == &w && fits(b, n)) {
            b->held += n;
            break;
        }
        double left = deadline - now_ms();
        if (left <= 0) {
            r = -HDM_E_BUSY;
            break;
        }
        if (fd_readable(cancel_fd)) {
            r = -HDM_E_CANCELLED;
            break;
        }
        double slice = left < CANCEL_POLL_MS ? left : CANCEL_POLL_MS;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        long ns = ts.tv_nsec + (long)(slice * 1e6);
        ts.tv_sec += ns / 1000000000L;
        ts.tv_nsec = ns % 1000000000L;
        pthread_cond_timedwait(&b->changed, &b->lock, &ts);
    }
    unlink_waiter(b, &w);
    /* The next in line may fit now (or become the head). */
    pthread_cond_broadcast(&b->changed);
    pthread_mutex_unlock(&b->lock);
    return r;
}

void depth_budget_release(depth_budget *b, size_t n)
{
    pthread_mutex_lock(&b->lock);
    b->held = n > b->held ? 0 : b->held - n;
    pthread_cond_broadcast(&b->changed);
    pthread_mutex_unlock(&b->lock);
}

void depth_budget_usage(depth_budget *b, size_t *held, int *waiting)
{
    pthread_mutex_lock(&b->lock);
    if (held)
        *held = b->held;
    if (waiting)
        *waiting = b->n_waiting;
    pthread_mutex_unlock(&b->lock);
}
