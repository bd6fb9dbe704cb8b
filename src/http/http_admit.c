/*
 * http_admit.c - back-pressure on big request bodies (http_config
 * big_body_bytes, max_big_bodies, big_body_wait_ms).
 *
 * DESIGN: a service whose requests wait for a scarce resource (hailo-ocr's
 * one image slot) would otherwise read every client's whole body first and
 * hold it while the request waits: eight clients posting a 1 MB image cost
 * eight bodies of memory for one request at work.  Here a request whose
 * body is big (a Content-Length above big_body_bytes, or a chunked body of
 * unknown size) needs one of max_big_bodies tickets before its first body
 * byte is read.  Without one it is held: the access callback suspends the
 * connection right after the headers, so libmicrohttpd stops reading the
 * socket, the body stays in the kernel's socket buffers and the client's
 * send blocks.  Held requests wait first come, first served.
 *
 * A ticket is held until the request's body is gone: the layer frees the
 * body (and its JSON or form) as soon as the handler returns
 * (http_server.c run_job), or, for a stream or a request that ended early,
 * when the request is freed.  Releasing a ticket hands it to the oldest
 * held request and resumes that connection.  Exactly one party takes a
 * held request off the queue (under `admit_lock`) and resumes it: the
 * release that grants it a ticket, the watcher's sweep (the client hung up:
 * the watch marked it gone; or it waited big_body_wait_ms: 503 busy with
 * Retry-After) or the stop (503).  The resumed connection re-enters the
 * access callback in the state it was suspended in (libmicrohttpd calls the
 * header-time callback again), which reads req->admit to learn the outcome.
 *
 * Held connections are not "incomplete" for the connection guard
 * (http_guard.c): we, not the client, are holding them back, so neither the
 * request deadline nor the incomplete cap closes them; a granted request
 * gets a fresh request_timeout_s to send its body, so a client that then
 * sends nothing is still cut off.  Their number is bounded by max_queued
 * (more is 503 at once).  The hang-up watch (http_watch.c) watches held
 * sockets as it watches queued ones.  MHD_stop_daemon must not meet a
 * suspended connection: http_server_stop calls http_admit_stop first,
 * which answers every held request 503 and holds no new one.
 */
#include "http/http_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/timeutil.h"

/* Whether req's body counts as big: a Content-Length above the limit, or a
 * body of unknown size (chunked).  Only for routes that read a body. */
static bool body_is_big(const http_request *req, size_t big)
{
    const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl == NULL) {
        const char *te = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_TRANSFER_ENCODING);
        return te != NULL; /* chunked (http_check.c refused every other coding) */
    }
    char *end = NULL;
    unsigned long long n = strtoull(cl, &end, 10);
    return end == cl || n > (unsigned long long)big; /* http_check.c validated it */
}

/* Takes a ticket for req.  Caller holds admit_lock. */
static void grant_locked(http_server *srv, http_request *req, http_admit_state st)
{
    req->admit = st;
    srv->admit_in_use++;
    if (srv->admit_in_use > srv->stats.big_bodies_peak)
        srv->stats.big_bodies_peak = srv->admit_in_use;
}

static void unlink_held_locked(http_server *srv, http_request *req)
{
    http_request **p = &srv->held_head;
    while (*p != NULL && *p != req)
        p = &(*p)->next_held;
    if (*p == NULL)
        return;
    *p = req->next_held;
    if (srv->held_tail == req) {
        srv->held_tail = NULL;
        for (http_request *h = srv->held_head; h != NULL; h = h->next_held)
            srv->held_tail = h;
    }
    req->next_held = NULL;
    srv->held--;
}

http_admit_result http_admit_enter(http_request *req)
{
    http_server *srv = req->srv;
    const http_config *c = &srv->cfg;
    if (c->max_big_bodies <= 0 || req->route == NULL || req->route->body == HTTP_BODY_NONE ||
        !body_is_big(req, c->big_body_bytes))
        return HTTP_ADMIT_GO;
    pthread_mutex_lock(&srv->admit_lock);
    if (srv->admit_stopping) {
        pthread_mutex_unlock(&srv->admit_lock);
        return HTTP_ADMIT_REFUSED;
    }
    if (srv->admit_in_use < c->max_big_bodies && srv->held_head == NULL) {
        grant_locked(srv, req, HTTP_ADMIT_IN);
        pthread_mutex_unlock(&srv->admit_lock);
        return HTTP_ADMIT_GO;
    }
    if (srv->held >= c->max_queued) {
        srv->stats.held_refused++;
        pthread_mutex_unlock(&srv->admit_lock);
        return HTTP_ADMIT_REFUSED;
    }
    pthread_mutex_unlock(&srv->admit_lock);

    /* Suspend before anyone else can see the request, so every resume
     * follows its suspend; the guard and the watch likewise first. */
    http_guard_request_complete(srv, req->hc);
    MHD_suspend_connection(req->conn);
    http_watch_add(srv->watch, req);
    bool resume = false;
    pthread_mutex_lock(&srv->admit_lock);
    if (srv->admit_stopping) {
        req->admit = HTTP_ADMIT_STOPPED;
        resume = true;
    } else if (srv->admit_in_use < c->max_big_bodies && srv->held_head == NULL) {
        grant_locked(srv, req, HTTP_ADMIT_GRANTED); /* a ticket came back meanwhile */
        resume = true;
    } else {
        req->admit = HTTP_ADMIT_HELD;
        req->held_until_s = mono_s() + c->big_body_wait_ms / 1000.0;
        req->next_held = NULL;
        if (srv->held_tail != NULL)
            srv->held_tail->next_held = req;
        else
            srv->held_head = req;
        srv->held_tail = req;
        srv->held++;
    }
    pthread_mutex_unlock(&srv->admit_lock);
    if (resume)
        MHD_resume_connection(req->conn);
    return HTTP_ADMIT_WAIT;
}

void http_admit_release(http_request *req)
{
    http_server *srv = req->srv;
    http_request *wake = NULL, **tail = &wake;
    pthread_mutex_lock(&srv->admit_lock);
    if (req->admit != HTTP_ADMIT_IN && req->admit != HTTP_ADMIT_GRANTED) {
        pthread_mutex_unlock(&srv->admit_lock);
        return;
    }
    req->admit = HTTP_ADMIT_DONE;
    srv->admit_in_use--;
    while (!srv->admit_stopping && srv->held_head != NULL &&
           srv->admit_in_use < srv->cfg.max_big_bodies) {
        http_request *h = srv->held_head;
        unlink_held_locked(srv, h);
        grant_locked(srv, h, HTTP_ADMIT_GRANTED);
        *tail = h;
        tail = &h->next_held;
    }
    pthread_mutex_unlock(&srv->admit_lock);
    /* Off the queue, each is ours alone until its connection runs again. */
    while (wake != NULL) {
        http_request *h = wake;
        wake = h->next_held;
        h->next_held = NULL;
        MHD_resume_connection(h->conn);
    }
}

/* Takes the held requests `pick` chooses off the queue with their new state,
 * then resumes them.  Returns the seconds until the next deadline (at most
 * `cap`). */
static double sweep(http_server *srv, bool stop, double cap)
{
    http_request *wake = NULL, **tail = &wake;
    double next = cap;
    pthread_mutex_lock(&srv->admit_lock);
    if (stop)
        srv->admit_stopping = true;
    double now = mono_s();
    http_request *h = srv->held_head;
    while (h != NULL) {
        http_request *after = h->next_held;
        http_admit_state st = HTTP_ADMIT_HELD;
        if (stop)
            st = HTTP_ADMIT_STOPPED;
        else if (__atomic_load_n(&h->peer_gone, __ATOMIC_ACQUIRE))
            st = HTTP_ADMIT_GONE;
        else if (now >= h->held_until_s)
            st = HTTP_ADMIT_EXPIRED;
        if (st != HTTP_ADMIT_HELD) {
            unlink_held_locked(srv, h);
            h->admit = st;
            if (st == HTTP_ADMIT_GONE)
                srv->stats.held_gone++;
            else if (st == HTTP_ADMIT_EXPIRED)
                srv->stats.held_expired++;
            *tail = h;
            tail = &h->next_held;
        } else if (h->held_until_s - now < next) {
            next = h->held_until_s - now;
        }
        h = after;
    }
    pthread_mutex_unlock(&srv->admit_lock);
    while (wake != NULL) {
        http_request *r = wake;
        wake = r->next_held;
        r->next_held = NULL;
        MHD_resume_connection(r->conn);
    }
    return next;
}

double http_admit_sweep(http_server *srv)
{
    return sweep(srv, false, 1.0);
}

void http_admit_stop(http_server *srv)
{
    (void)sweep(srv, true, 1.0);
}

void http_admit_usage(http_server *srv, int *bodies, int *held)
{
    pthread_mutex_lock(&srv->admit_lock);
    *bodies = srv->admit_in_use;
    *held = srv->held;
    pthread_mutex_unlock(&srv->admit_lock);
}
