/*
 * http_pool.c - the threads that run route handlers.
 *
 * DESIGN: why not run handlers on libmicrohttpd's own pool threads?  Each
 * MHD worker accepts up to ten pending connections in one go, so several
 * requests arriving together land on one thread and a blocking handler
 * (a device call) would serialise them behind it.  Instead the access
 * callback suspends the connection and queues the request here; one of
 * cfg->threads workers runs the handler (it may block as long as it needs),
 * stores the reply in the request and resumes the connection, and MHD calls
 * the access callback again on its I/O thread, which queues the reply.  The
 * queue is an intrusive FIFO (submitting never allocates) bounded by
 * max_queued: a full queue is the caller's 503, so a flood of requests
 * costs each a few bytes and an answer, never unbounded waiting.
 */
#include "http/http_internal.h"

#include <stdlib.h>

struct http_pool {
    pthread_mutex_t lock;
    pthread_cond_t work;
    http_request *head, *tail;
    bool stopping;
    int queued, max_queued;
    int nthreads;
    pthread_t *threads;
    void (*run)(http_request *req);
};

static void *pool_main(void *arg)
{
    http_pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->work, &p->lock);
        if (p->head == NULL)
            break; /* stopping and drained */
        http_request *req = p->head;
        p->head = req->next_job;
        if (p->head == NULL)
            p->tail = NULL;
        req->next_job = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->lock);
        p->run(req);
        pthread_mutex_lock(&p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

http_pool *http_pool_start(int threads, int max_queued, void (*run)(http_request *req))
{
    http_pool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->threads = calloc((size_t)threads, sizeof(pthread_t));
    if (p->threads == NULL) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    p->run = run;
    p->max_queued = max_queued;
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&p->threads[i], NULL, pool_main, p) != 0) {
            http_pool_stop(p);
            return NULL;
        }
        p->nthreads++;
    }
    return p;
}

int http_pool_submit(http_pool *p, http_request *req)
{
    pthread_mutex_lock(&p->lock);
    if (p->queued >= p->max_queued) {
        pthread_mutex_unlock(&p->lock);
        return -1;
    }
    p->queued++;
    req->next_job = NULL;
    if (p->tail != NULL)
        p->tail->next_job = req;
    else
        p->head = req;
    p->tail = req;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

int http_pool_queued(http_pool *p)
{
    pthread_mutex_lock(&p->lock);
    int n = p->queued;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void http_pool_stop(http_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    free(p->threads);
    free(p);
}
