/*
 * http_guard.c - slow clients: a deadline for each request and a cap on
 * the connections that have not sent one whole.
 *
 * DESIGN: libmicrohttpd's connection timeout is an idle timeout that starts
 * again on every byte, so a client sending a byte every few seconds keeps a
 * connection for ever, and enough of them (the per-address cap times a few
 * addresses) take every slot.  The guard tracks each connection from
 * MHD's accept notification on.  A connection is "incomplete" from its
 * accept, and again from the end of each reply, until its next request has
 * arrived whole (headers and body: the request is handed to a handler).
 * Incomplete connections sit in one list in the order they became
 * incomplete, which is also the order of their deadlines, so:
 *   - the watcher thread (http_watch.c) closes those at the head that are
 *     older than request_timeout_s (http_guard_sweep);
 *   - when an accept makes more than max_incomplete of them, the oldest is
 *     closed at once.  max_incomplete is below the connection limit, so the
 *     rest of the slots always stay for requests that did arrive, and a new
 *     client is never refused: it costs the slowest incomplete one its
 *     place.  An attacker would have to open max_incomplete connections in
 *     the few milliseconds a real request takes to arrive.
 * Closing is shutdown(SHUT_RDWR) on the socket: MHD's own I/O thread then
 * reads EOF and cleans the connection up as a client hang-up.  The socket is
 * still open then: MHD calls the CLOSED notification (which takes our lock
 * and unlinks the connection) before it closes the descriptor, and we only
 * shut down linked connections, under that lock.
 */
#include "http/http_internal.h"

#include <stdlib.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/timeutil.h"

struct http_conn {
    int fd;
    double since;       /* mono_s() when it became incomplete */
    bool linked;        /* in the incomplete list */
    http_conn *prev, *next;
};

/* Evictions are logged at most once per this many seconds. */
#define EVICT_LOG_INTERVAL_S 10.0

static void unlink_locked(http_server *srv, http_conn *c)
{
    if (!c->linked)
        return;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->incomplete_head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    else
        srv->incomplete_tail = c->prev;
    c->prev = c->next = NULL;
    c->linked = false;
    srv->incomplete--;
}

static void append_locked(http_server *srv, http_conn *c)
{
    unlink_locked(srv, c);
    c->since = mono_s();
    c->prev = srv->incomplete_tail;
    c->next = NULL;
    if (srv->incomplete_tail != NULL)
        srv->incomplete_tail->next = c;
    else
        srv->incomplete_head = c;
    srv->incomplete_tail = c;
    c->linked = true;
    srv->incomplete++;
}

/* Closes c (linked, so its socket is open) and unlinks it. */
static void close_locked(http_server *srv, http_conn *c)
{
    if (c->fd >= 0)
        shutdown(c->fd, SHUT_RDWR);
    unlink_locked(srv, c);
}

void http_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode code)
{
    http_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        http_conn *c = calloc(1, sizeof(*c));
        if (c == NULL)
            return; /* untracked: MHD's idle timeout still applies */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        c->fd = ci != NULL ? ci->connect_fd : -1;
        *socket_context = c;
        pthread_mutex_lock(&srv->guard_lock);
        append_locked(srv, c);
        uint64_t evicted = 0;
        while (srv->incomplete > srv->cfg.max_incomplete && srv->incomplete_head != c) {
            close_locked(srv, srv->incomplete_head);
            srv->stats.incomplete_evicted++;
            evicted++;
        }
        double now = mono_s();
        bool log_now = false;
        srv->evicted_since_log += evicted;
        if (srv->evicted_since_log > 0 && now - srv->last_evict_log_s >= EVICT_LOG_INTERVAL_S) {
            log_now = true;
            evicted = srv->evicted_since_log;
            srv->evicted_since_log = 0;
            srv->last_evict_log_s = now;
        }
        pthread_mutex_unlock(&srv->guard_lock);
        if (log_now)
            log_warn("%s: %d connections had not sent a whole request; closed the %llu oldest "
                     "(max_incomplete)",
                     srv->service_name, srv->cfg.max_incomplete, (unsigned long long)evicted);
        return;
    }
    http_conn *c = *socket_context;
    if (c == NULL)
        return;
    *socket_context = NULL;
    pthread_mutex_lock(&srv->guard_lock);
    unlink_locked(srv, c);
    pthread_mutex_unlock(&srv->guard_lock);
    free(c);
}

http_conn *http_guard_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
}

void http_guard_request_complete(http_server *srv, http_conn *hc)
{
    if (hc == NULL)
        return;
    pthread_mutex_lock(&srv->guard_lock);
    unlink_locked(srv, hc);
    pthread_mutex_unlock(&srv->guard_lock);
}

void http_guard_request_done(http_server *srv, http_conn *hc)
{
    if (hc == NULL)
        return;
    pthread_mutex_lock(&srv->guard_lock);
    append_locked(srv, hc);
    pthread_mutex_unlock(&srv->guard_lock);
}

double http_guard_sweep(http_server *srv)
{
    double timeout = srv->cfg.request_timeout_s, next = 1.0;
    pthread_mutex_lock(&srv->guard_lock);
    double now = mono_s();
    while (srv->incomplete_head != NULL) {
        http_conn *c = srv->incomplete_head;
        double left = c->since + timeout - now;
        if (left > 0) {
            if (left < next)
                next = left;
            break;
        }
        close_locked(srv, c);
        srv->stats.incomplete_expired++;
    }
    pthread_mutex_unlock(&srv->guard_lock);
    return next;
}

void http_guard_close_incomplete(http_server *srv)
{
    pthread_mutex_lock(&srv->guard_lock);
    while (srv->incomplete_head != NULL)
        close_locked(srv, srv->incomplete_head);
    pthread_mutex_unlock(&srv->guard_lock);
}
