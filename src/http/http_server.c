/*
 * http_server.c - daemon start/stop, routing, bodies, auth, access log.
 *
 * DESIGN: libmicrohttpd runs a pool of cfg->threads I/O threads, each with
 * its own epoll loop over the shared listening socket.  Handlers do not run
 * on them (an MHD thread accepts several connections at once, so one
 * blocking handler would hold up the others it accepted): once a request's
 * body is in, the connection is suspended and the request goes to the
 * handler pool (http_pool.c, cfg->threads workers), where the handler may
 * block on the device; the worker resumes the connection and the reply is
 * queued from the access callback, as MHD requires.
 *
 * A request starts at MHD's URI callback (request line parsed, target not
 * yet %-decoded: we keep a copy for the NUL check).  MHD then calls the
 * access callback with the headers (http_check.c decides: framing, target,
 * token, route, Content-Length, Content-Type; an error is sent before any
 * body byte is read), then once per body piece (appended to req->body, 413
 * as soon as it grows past the route's limit), then with no data: the
 * connection leaves the guard's incomplete list (http_guard.c), is
 * suspended, watched for a hang-up (http_watch.c) and queued to the pool;
 * a full queue is 503 with Retry-After.  After the worker resumes us we
 * queue its reply (http_reply.c).  The completion callback writes the
 * access log line, stops watching, puts the connection back in the
 * incomplete list (waiting for its next request) and frees the request.
 * Streams are in http_stream.c.
 *
 * Stop: setting `stopping` closes the door (the accept policy closes every
 * new connection at once), we wait (bounded) until the in-flight requests
 * and the streams are done, cancel what remains, and only then
 * MHD_stop_daemon (MHD forbids stopping with suspended connections).  Not
 * MHD_quiesce_daemon: with a thread pool on epoll it races the worker
 * threads, which take the listening socket out of their epoll sets
 * themselves once they see the quiesce flag; when a worker wins, the
 * quiesce's own EPOLL_CTL_DEL fails with ENOENT and libmicrohttpd (0.9.75
 * and later) aborts the process ("Failed to remove listen FD from epoll
 * set").  A stop while connections are busy, as at SIGTERM, hits it.
 */
#include "http/http_internal.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timeutil.h"

#define HTTP_DEFAULT_THREADS 4
#define HTTP_DEFAULT_MAX_BODY (16u * 1024 * 1024)
#define HTTP_DEFAULT_TIMEOUT_S 60
/* Open connections in all, and from one address: a client that opens many
 * connections and sends half a request each cannot use up our descriptors. */
#define HTTP_DEFAULT_MAX_CONNECTIONS 512
#define HTTP_DEFAULT_MAX_CONNECTIONS_PER_IP 64
/* A whole request (headers and body) must arrive within this (http_guard.c). */
#define HTTP_DEFAULT_REQUEST_TIMEOUT_S 30
/* Requests waiting for a handler thread before new ones get 503. */
#define HTTP_DEFAULT_MAX_QUEUED 64
#define HTTP_DEFAULT_MAX_PARTS 64
#define HTTP_DEFAULT_MAX_PART_HEADER (8u * 1024)
#define HTTP_DEFAULT_BIG_BODY_WAIT_MS 10000

void http_config_defaults(http_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->host = "0.0.0.0";
    cfg->port = 0;
    cfg->threads = HTTP_DEFAULT_THREADS;
    cfg->max_body_bytes = HTTP_DEFAULT_MAX_BODY;
    cfg->bearer_token = NULL;
    cfg->connection_timeout_s = HTTP_DEFAULT_TIMEOUT_S;
    cfg->max_connections = HTTP_DEFAULT_MAX_CONNECTIONS;
    cfg->max_connections_per_ip = HTTP_DEFAULT_MAX_CONNECTIONS_PER_IP;
    cfg->service_name = "http";
    cfg->access_log = true;
    cfg->request_timeout_s = HTTP_DEFAULT_REQUEST_TIMEOUT_S;
    cfg->max_incomplete = HTTP_DEFAULT_MAX_CONNECTIONS / 2;
    cfg->max_queued = HTTP_DEFAULT_MAX_QUEUED;
    cfg->json_style = HTTP_JSON_COMPACT;
    cfg->max_parts = HTTP_DEFAULT_MAX_PARTS;
    cfg->max_part_header_bytes = HTTP_DEFAULT_MAX_PART_HEADER;
    cfg->big_body_wait_ms = HTTP_DEFAULT_BIG_BODY_WAIT_MS;
}

void http_request_free(http_request *r)
{
    if (r == NULL)
        return;
    http_admit_release(r); /* when it still holds a big-body ticket */
    free(r->method);
    free(r->path);
    free(r->raw_target);
    buf_free(&r->body);
    cJSON_Delete(r->json);
    http_form_free(&r->form);
    http_reply_clear(&r->reply);
    if (r->producer_free != NULL && r->producer_user != NULL)
        r->producer_free(r->producer_user);
    free(r);
}

/* A new request on conn (counted as active until its completion). */
static http_request *request_new(http_server *srv, struct MHD_Connection *conn)
{
    http_request *req = calloc(1, sizeof(*req));
    if (req == NULL)
        return NULL;
    req->srv = srv;
    req->conn = conn;
    req->start_s = mono_s();
    req->fd = -1;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci != NULL)
        req->fd = ci->connect_fd;
    req->hc = http_guard_of(conn);
    pthread_mutex_lock(&srv->lock);
    srv->active_requests++;
    pthread_mutex_unlock(&srv->lock);
    return req;
}

/* ---- request accessors -------------------------------------------------- */

const char *http_request_method(const http_request *r) { return r->method; }
const char *http_request_path(const http_request *r) { return r->path; }
const cJSON *http_request_json(const http_request *r) { return r->json; }
const http_form *http_request_form(const http_request *r) { return r->has_form ? &r->form : NULL; }

const uint8_t *http_request_body(const http_request *r, size_t *len)
{
    if (len != NULL)
        *len = r->body.data != NULL ? r->body.len : 0;
    return r->body.data;
}

const char *http_request_header(const http_request *r, const char *name)
{
    if (r->conn == NULL || name == NULL)
        return NULL;
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

void http_request_free_body(http_request *r)
{
    cJSON_Delete(r->json);
    r->json = NULL;
    http_form_free(&r->form);
    r->has_form = false;
    buf_free(&r->body);
}

void http_request_release_body(http_request *r)
{
    http_request_free_body(r);
    http_admit_release(r);
}

bool http_request_closed(http_request *r)
{
    if (__atomic_load_n(&r->peer_gone, __ATOMIC_ACQUIRE))
        return true;
    if (r->stream != NULL) /* the stream knows when the socket goes */
        return http_stream_closed(r->stream);
    if (r->fd < 0 || r->conn == NULL)
        return false;
    struct pollfd p = {.fd = r->fd, .events = POLLRDHUP};
    if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) {
        __atomic_store_n(&r->peer_gone, true, __ATOMIC_RELEASE);
        return true;
    }
    return false;
}

void http_request_on_close(http_request *r, void (*fn)(void *user), void *user)
{
    http_watch_set_hook(r->srv->watch, r, fn, user);
}

void http_request_stream(http_request *r, http_stream_fn producer, void *user,
                         void (*free_user)(void *user))
{
    http_request_stream_as(r, NULL, producer, user, free_user);
}

void http_request_stream_as(http_request *r, const char *content_type, http_stream_fn producer,
                            void *user, void (*free_user)(void *user))
{
    if (r->producer_free != NULL && r->producer_user != NULL)
        r->producer_free(r->producer_user);
    r->stream_wanted = producer != NULL;
    r->stream_type = content_type;
    r->producer = producer;
    r->producer_user = user;
    r->producer_free = free_user;
}

void http_server_stats(http_server *s, http_stats *out)
{
    pthread_mutex_lock(&s->guard_lock);
    *out = s->stats;
    out->incomplete_now = s->incomplete;
    pthread_mutex_unlock(&s->guard_lock);
    out->queued_now = http_pool_queued(s->pool);
    pthread_mutex_lock(&s->admit_lock);
    out->big_bodies_now = s->admit_in_use;
    out->held_now = s->held;
    out->big_bodies_peak = s->stats.big_bodies_peak;
    out->held_expired = s->stats.held_expired;
    out->held_gone = s->stats.held_gone;
    out->held_refused = s->stats.held_refused;
    pthread_mutex_unlock(&s->admit_lock);
}

/* ---- the layer's own errors --------------------------------------------- */

static enum MHD_Result send_layer_error(http_request *req, int status, const char *msg,
                                        const char *hname, const char *hvalue)
{
    http_reply r = {0};
    http_reply_layer_error(req->srv, req->route, &r, status, msg);
    if (hname != NULL)
        http_reply_header(&r, hname, hvalue);
    return http_reply_send(req, &r);
}

/* 503 with Retry-After for a big body that could not be let in. */
static enum MHD_Result send_busy(http_request *req)
{
    http_server *srv = req->srv;
    char msg[512], why[160], ra[16];
    if (req->admit == HTTP_ADMIT_STOPPED)
        snprintf(why, sizeof(why), "it is shutting down");
    else if (req->admit == HTTP_ADMIT_EXPIRED)
        snprintf(why, sizeof(why), "%d large requests are in progress (waited %d ms)",
                 srv->cfg.max_big_bodies, srv->cfg.big_body_wait_ms);
    else
        snprintf(why, sizeof(why), "%d large requests are already waiting", srv->cfg.max_queued);
    if (srv->busy_message != NULL)
        snprintf(msg, sizeof(msg), "%s", srv->busy_message);
    else
        snprintf(msg, sizeof(msg), "the server is busy: %s; try again", why);
    snprintf(ra, sizeof(ra), "%d", HTTP_RETRY_AFTER_S);
    return send_layer_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, msg, MHD_HTTP_HEADER_RETRY_AFTER,
                            ra);
}

/* A held request's connection runs again (http_admit.c): read its body,
 * close it (the client hung up) or answer 503.  The 503 of a request that
 * waited too long comes after its body was read and dropped (no memory
 * kept): closing a socket with unread bytes would reset the connection,
 * and a client still sending would lose the answer.  At a stop it goes out
 * at once, with the connection closed after it. */
static enum MHD_Result after_hold(http_request *req)
{
    http_server *srv = req->srv;
    http_watch_remove(srv->watch, req, false);
    switch (req->admit) {
    case HTTP_ADMIT_GRANTED:
        pthread_mutex_lock(&srv->admit_lock);
        req->admit = HTTP_ADMIT_IN;
        pthread_mutex_unlock(&srv->admit_lock);
        /* Its body must now arrive within request_timeout_s. */
        http_guard_request_done(srv, req->hc);
        return MHD_YES;
    case HTTP_ADMIT_GONE:
        return MHD_NO;
    case HTTP_ADMIT_STOPPED:
        req->close_after = true;
        return send_busy(req);
    default:
        req->busy_discard = true;
        http_guard_request_done(srv, req->hc);
        return MHD_YES;
    }
}

/* Prepares an error reply in the request (worker side). */
static void prepare_error(http_request *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void prepare_error(http_request *req, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    http_reply_layer_error(req->srv, req->route, &req->reply, status, msg);
}

/* ---- the worker side -------------------------------------------------------- */

/* Parses the JSON body into req->json; false after preparing a 400. */
static bool parse_json(http_request *req)
{
    if (req->body.len == 0) {
        prepare_error(req, MHD_HTTP_BAD_REQUEST, "invalid JSON body: the body is empty");
        return false;
    }
    const char *end = NULL;
    req->json = cJSON_ParseWithLengthOpts((const char *)req->body.data, req->body.len, &end, 0);
    size_t at = end != NULL ? (size_t)(end - (const char *)req->body.data) : 0;
    if (req->json == NULL) {
        prepare_error(req, MHD_HTTP_BAD_REQUEST, "invalid JSON body: parse error near byte %zu", at);
        return false;
    }
    while (at < req->body.len && req->body.data[at] != '\0' &&
           strchr(" \t\r\n", req->body.data[at]) != NULL)
        at++;
    if (at < req->body.len) {
        prepare_error(req, MHD_HTTP_BAD_REQUEST,
                      "invalid JSON body: unexpected data after the JSON value at byte %zu", at);
        return false;
    }
    if (!cJSON_IsObject(req->json)) {
        prepare_error(req, MHD_HTTP_BAD_REQUEST, "invalid JSON body: expected a JSON object");
        return false;
    }
    buf_free(&req->body); /* parsed: the handler has the JSON */
    return true;
}

static bool parse_multipart(http_request *req)
{
    http_server *srv = req->srv;
    http_multipart_limits lim = {.max_parts = srv->cfg.max_parts,
                                 .max_part_header_bytes = srv->cfg.max_part_header_bytes};
    char err[256];
    const char *ct = http_request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (http_multipart_parse(req->body.data, req->body.len, ct != NULL ? ct : "", &lim, &req->form,
                             err, sizeof(err)) < 0) {
        prepare_error(req, MHD_HTTP_BAD_REQUEST, "invalid multipart body: %s", err);
        return false;
    }
    req->has_form = true;
    return true;
}

/* Worker side: parses the body and runs the handler; the reply (or the
 * stream request) is left in req for the access callback to queue. */
static void handle_request(http_request *req)
{
    http_server *srv = req->srv;
    if (req->route->body != HTTP_BODY_NONE) {
        bool ok = req->body_type == HTTP_BODY_MULTIPART ? parse_multipart(req) : parse_json(req);
        if (!ok)
            return;
    }
    http_reply reply = {0};
    req->route->handler(req, &reply, srv->user);
    if (req->stream_wanted) {
        http_reply_clear(&reply);
        return;
    }
    if (reply.status == 0) {
        http_reply_clear(&reply);
        char method[16], path[200];
        snprintf(method, sizeof(method), "%s", req->method);
        snprintf(path, sizeof(path), "%s", req->path);
        prepare_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
                      "the handler for %s %s produced no reply", method, path);
        return;
    }
    req->reply = reply;
}

/* A pool worker: handle, then give the connection back to MHD, which calls
 * on_access again to send what we prepared.  A request whose client hung up
 * while it waited is dropped unrun. */
static void run_job(http_request *req)
{
    http_server *srv = req->srv;
    struct MHD_Connection *conn = req->conn;
    if (__atomic_load_n(&req->peer_gone, __ATOMIC_ACQUIRE) || http_request_closed(req)) {
        req->abandoned = true;
        pthread_mutex_lock(&srv->guard_lock);
        srv->stats.abandoned_in_queue++;
        pthread_mutex_unlock(&srv->guard_lock);
    } else {
        handle_request(req);
    }
    if (req->stream_wanted) {
        http_watch_set_hook(srv->watch, req, NULL, NULL); /* the producer sets its own */
    } else {
        http_watch_remove(srv->watch, req, false);
        /* The handler is done with the body: free it now, not after the
         * reply went out, and let the next big body in. */
        http_request_release_body(req);
    }
    /* After the resume the request may complete and be freed at any time. */
    __atomic_store_n(&req->handled, true, __ATOMIC_RELEASE);
    MHD_resume_connection(conn);
}

/* Access-callback side, once the whole body is in. */
static enum MHD_Result dispatch_or_reply(http_request *req)
{
    http_server *srv = req->srv;
    if (req->busy_discard)
        return send_busy(req);
    if (req->body_too_large) {
        char msg[160];
        snprintf(msg, sizeof(msg), "request body exceeds the limit of %zu bytes", req->body_limit);
        return send_layer_error(req, MHD_HTTP_CONTENT_TOO_LARGE, msg, NULL, NULL);
    }
    if (!req->dispatched) {
        req->dispatched = true;
        http_guard_request_complete(srv, req->hc);
        /* Suspend before queueing so the worker's resume always follows. */
        MHD_suspend_connection(req->conn);
        http_watch_add(srv->watch, req);
        if (http_pool_submit(srv->pool, req) < 0) {
            http_watch_remove(srv->watch, req, false);
            char msg[200];
            snprintf(msg, sizeof(msg),
                     "the server is busy: %d requests are already waiting; retry later",
                     srv->cfg.max_queued);
            prepare_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "%s", msg);
            char ra[16];
            snprintf(ra, sizeof(ra), "%d", HTTP_RETRY_AFTER_S);
            http_reply_header(&req->reply, MHD_HTTP_HEADER_RETRY_AFTER, ra);
            pthread_mutex_lock(&srv->guard_lock);
            srv->stats.queue_rejected++;
            pthread_mutex_unlock(&srv->guard_lock);
            __atomic_store_n(&req->handled, true, __ATOMIC_RELEASE);
            MHD_resume_connection(req->conn);
        }
        return MHD_YES;
    }
    if (!__atomic_load_n(&req->handled, __ATOMIC_ACQUIRE))
        return MHD_YES;
    if (req->abandoned)
        return MHD_NO; /* the client is gone: close */
    if (req->stream_wanted) {
        int rc = http_stream_start(req);
        if (rc == 0)
            return MHD_YES;
        char msg[160];
        if (rc == -EBUSY)
            snprintf(msg, sizeof(msg), "too many open event streams (limit %d); retry later",
                     HTTP_MAX_STREAMS);
        else
            snprintf(msg, sizeof(msg), "could not start the event stream");
        http_watch_remove(srv->watch, req, false);
        return send_layer_error(req, rc == -EBUSY ? MHD_HTTP_SERVICE_UNAVAILABLE
                                                  : MHD_HTTP_INTERNAL_SERVER_ERROR,
                                msg, NULL, NULL);
    }
    return http_reply_send(req, &req->reply);
}

/* A body with a Content-Length gets one buffer of exactly that size (the
 * buffer would otherwise double its way up, copying, to as much as twice
 * the body).  http_check.c validated the header and the limit refused
 * larger ones.  0, or -1 when out of memory. */
static int body_reserve_exact(http_request *req)
{
    const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end = NULL;
    unsigned long long n = cl != NULL ? strtoull(cl, &end, 10) : 0;
    if (cl == NULL || end == cl || n == 0 || n > req->body_limit)
        return 0; /* chunked, or nothing to plan for: grow as it comes */
    req->body.data = malloc((size_t)n);
    if (req->body.data == NULL)
        return -1;
    req->body.cap = (size_t)n;
    req->body.len = 0;
    return 0;
}

/* Called by MHD once the request line is parsed, before the headers and
 * before the target is %-decoded: the request starts here. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    http_request *req = request_new(cls, conn);
    if (req == NULL)
        return NULL;
    req->raw_ptr = uri;
    req->raw_target_len = strlen(uri);
    req->raw_target = strdup(uri); /* NULL when out of memory: the NUL check is skipped */
    return req;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    http_server *srv = cls;
    http_request *req = *con_cls;

    if (req == NULL) {
        if ((req = request_new(srv, conn)) == NULL)
            return MHD_NO;
        *con_cls = req;
    }
    if (req->method == NULL) {
        /* First call: the headers are in. */
        req->method = strdup(method);
        req->path = strdup(url);
        if (req->method == NULL || req->path == NULL)
            return MHD_NO;
        req->body_limit = srv->cfg.max_body_bytes;
        char msg[512], hbuf[160];
        const char *hname, *hvalue;
        int status = http_check_request(req, url, version, msg, sizeof(msg), &hname, &hvalue, hbuf,
                                        sizeof(hbuf));
        if (status != 0)
            return send_layer_error(req, status, msg, hname, hvalue);
        if (http_admit_enter(req) == HTTP_ADMIT_REFUSED)
            req->busy_discard = true; /* 503 once the body is dropped (after_hold) */
        return MHD_YES;
    }
    /* Re-entered after a hold (libmicrohttpd calls the header-time
     * callback again on resume).  GRANTED becomes IN, EXPIRED sets
     * busy_discard, the others answer or close: each runs once. */
    if (req->admit >= HTTP_ADMIT_HELD && req->admit <= HTTP_ADMIT_STOPPED && !req->responded &&
        !req->busy_discard)
        return after_hold(req);
    if (req->responded) {
        /* A reply is already queued (413 mid-body): drop what still arrives. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->body_too_large || req->busy_discard)
            return MHD_YES;
        if (req->body.len + n > req->body_limit) {
            req->body_too_large = true;
            buf_free(&req->body);
            /* MHD may refuse a reply before the upload ends; then the
             * rest is discarded and the 413 goes out at the end. */
            char msg[160];
            snprintf(msg, sizeof(msg), "request body exceeds the limit of %zu bytes",
                     req->body_limit);
            (void)send_layer_error(req, MHD_HTTP_CONTENT_TOO_LARGE, msg, NULL, NULL);
            return MHD_YES;
        }
        if (req->body.data == NULL && body_reserve_exact(req) != 0)
            return MHD_NO;
        if (buf_append(&req->body, upload_data, n) != 0)
            return MHD_NO;
        return MHD_YES;
    }
    return dispatch_or_reply(req);
}

/* Copies `in` for a log line: MHD has already %-decoded the path, so a
 * client could otherwise write newlines (fake lines) into the log. */
static void printable(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; in != NULL && *in != '\0' && n + 1 < cap; in++)
        out[n++] = ((unsigned char)*in < 0x20 || *in == 0x7f) ? '?' : *in;
    out[n] = '\0';
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server *srv = cls;
    http_request *req = *con_cls;
    if (req == NULL)
        return;
    *con_cls = NULL;
    bool ok = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;
    size_t bytes = req->stream != NULL ? http_stream_bytes(req->stream) : req->bytes_out;
    if (srv->cfg.access_log && req->method != NULL) {
        char method[16], path[256];
        printable(req->method, method, sizeof(method));
        printable(req->path, path, sizeof(path));
        log_info("%s %s %d %zu bytes %.1f ms%s", method, path, req->responded ? req->status : 0,
                 bytes, (mono_s() - req->start_s) * 1000.0,
                 req->abandoned ? " (client went away before its turn)"
                 : ok           ? ""
                                : " (connection closed early)");
    }
    /* The socket closes after this: stop watching it first. */
    http_watch_remove(srv->watch, req, !ok);
    if (ok)
        http_guard_request_done(srv, http_guard_of(conn));
    if (req->stream != NULL)
        http_stream_request_done(req->stream, ok); /* the stream owns req */
    else
        http_request_free(req);
    pthread_mutex_lock(&srv->lock);
    srv->active_requests--;
    pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);
}

/* MHD's accept policy: once stopping, a new connection is closed at once. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addr;
    (void)addrlen;
    http_server *srv = cls;
    return __atomic_load_n(&srv->stopping, __ATOMIC_ACQUIRE) ? MHD_NO : MHD_YES;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    http_server *srv = cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    /* Debug level: most of these are clients hanging up; start-up
     * failures reach the caller through err_msg. */
    log_debug("%s: libmicrohttpd: %s", srv->service_name, line);
}

/* ---- start / stop -------------------------------------------------------- */

static void server_free(http_server *s)
{
    if (s == NULL)
        return;
    http_pool_stop(s->pool);
    http_watch_stop(s->watch);
    pthread_mutex_destroy(&s->guard_lock);
    pthread_mutex_destroy(&s->admit_lock);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->idle);
    free(s->host);
    free(s->bearer_token);
    free(s->service_name);
    free(s->busy_message);
    free(s);
}

int http_server_start(const http_config *cfg, const http_route *routes, void *user,
                      http_server **out, char *err_msg, size_t err_len)
{
    struct addrinfo *ai = NULL;
    http_server *s = NULL;
    int rc;
    if (err_len > 0)
        err_msg[0] = '\0';
    if (cfg == NULL || routes == NULL || out == NULL) {
        snprintf(err_msg, err_len, "http_server_start: missing config, routes or output");
        return -EINVAL;
    }
    if (cfg->port < 0 || cfg->port > 65535) {
        snprintf(err_msg, err_len, "port %d is out of range (0-65535)", cfg->port);
        return -EINVAL;
    }
    for (const http_route *r = routes; r->method != NULL; r++) {
        if (r->path == NULL || r->handler == NULL) {
            snprintf(err_msg, err_len, "route %s has no path or handler", r->method);
            return -EINVAL;
        }
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        goto nomem;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->guard_lock, NULL);
    pthread_mutex_init(&s->admit_lock, NULL);
    pthread_cond_init(&s->idle, NULL);
    s->routes = routes;
    s->user = user;
    s->cfg = *cfg;
    if (s->cfg.threads <= 0)
        s->cfg.threads = HTTP_DEFAULT_THREADS;
    if (s->cfg.max_body_bytes == 0)
        s->cfg.max_body_bytes = HTTP_DEFAULT_MAX_BODY;
    if (s->cfg.connection_timeout_s <= 0)
        s->cfg.connection_timeout_s = HTTP_DEFAULT_TIMEOUT_S;
    if (s->cfg.max_connections <= 0)
        s->cfg.max_connections = HTTP_DEFAULT_MAX_CONNECTIONS;
    if (s->cfg.max_connections_per_ip <= 0)
        s->cfg.max_connections_per_ip = HTTP_DEFAULT_MAX_CONNECTIONS_PER_IP;
    if (s->cfg.request_timeout_s <= 0)
        s->cfg.request_timeout_s = HTTP_DEFAULT_REQUEST_TIMEOUT_S;
    if (s->cfg.max_incomplete <= 0 || s->cfg.max_incomplete >= s->cfg.max_connections)
        s->cfg.max_incomplete = s->cfg.max_connections > 1 ? s->cfg.max_connections / 2 : 1;
    if (s->cfg.max_queued <= 0)
        s->cfg.max_queued = HTTP_DEFAULT_MAX_QUEUED;
    if (s->cfg.max_parts <= 0)
        s->cfg.max_parts = HTTP_DEFAULT_MAX_PARTS;
    if (s->cfg.max_part_header_bytes == 0)
        s->cfg.max_part_header_bytes = HTTP_DEFAULT_MAX_PART_HEADER;
    s->host = strdup(cfg->host != NULL && cfg->host[0] != '\0' ? cfg->host : "0.0.0.0");
    s->service_name = strdup(cfg->service_name != NULL ? cfg->service_name : "http");
    if (s->host == NULL || s->service_name == NULL)
        goto nomem;
    if (s->cfg.max_big_bodies < 0)
        s->cfg.max_big_bodies = 0;
    if (s->cfg.big_body_wait_ms < 0)
        s->cfg.big_body_wait_ms = 0;
    if (cfg->busy_message != NULL && (s->busy_message = strdup(cfg->busy_message)) == NULL)
        goto nomem;
    s->cfg.busy_message = s->busy_message;
    if (cfg->bearer_token != NULL && cfg->bearer_token[0] != '\0') {
        s->bearer_token = strdup(cfg->bearer_token);
        if (s->bearer_token == NULL)
            goto nomem;
    }
    s->cfg.host = s->host;
    s->cfg.service_name = s->service_name;
    s->cfg.bearer_token = s->bearer_token;
    snprintf(s->challenge, sizeof(s->challenge), "Bearer realm=\"%s\"", s->service_name);

    char port_text[16];
    snprintf(port_text, sizeof(port_text), "%d", cfg->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    rc = getaddrinfo(s->host, port_text, &hints, &ai);
    if (rc != 0) {
        snprintf(err_msg, err_len, "cannot use bind address \"%s\": %s", s->host,
                 gai_strerror(rc));
        rc = -EINVAL;
        goto fail;
    }

    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6) {
        /* "::" listens on IPv4 too, as the default "0.0.0.0" users expect. */
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ai->ai_addr;
        bool any = memcmp(&a6->sin6_addr, &in6addr_any, sizeof(in6addr_any)) == 0;
        flags |= any ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
    }
    /* Threads inherit the mask: SIGTERM/SIGINT go to sigwait(). */
    http_block_signals();
    s->pool = http_pool_start(s->cfg.threads, s->cfg.max_queued, run_job);
    if (s->pool == NULL) {
        snprintf(err_msg, err_len, "cannot start %d handler threads", s->cfg.threads);
        rc = -EAGAIN;
        goto fail;
    }
    s->watch = http_watch_start(s);
    if (s->watch == NULL) {
        snprintf(err_msg, err_len, "cannot start the connection watcher thread");
        rc = -EAGAIN;
        goto fail;
    }
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, on_accept, s, on_access, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, /* first, so it sees everything */
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->cfg.threads,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->cfg.connection_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->cfg.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)s->cfg.max_connections_per_ip,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, http_guard_notify, s,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 128u,
        MHD_OPTION_END);
    if (s->daemon == NULL) {
        int e = errno != 0 ? errno : EADDRINUSE;
        snprintf(err_msg, err_len, "cannot listen on %s port %d: %s", s->host, cfg->port,
                 strerror(e));
        rc = -e;
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info != NULL ? info->port : cfg->port;
    freeaddrinfo(ai);
    *out = s;
    return 0;

nomem:
    snprintf(err_msg, err_len, "out of memory starting the HTTP server");
    rc = -ENOMEM;
fail:
    if (ai != NULL)
        freeaddrinfo(ai);
    server_free(s);
    return rc;
}

int http_server_port(const http_server *s) { return s != NULL ? s->port : -1; }

/* Waits until no request and no stream is active or `deadline_s` passes,
 * closing connections that have not sent a whole request (they would
 * otherwise hold the stop until their deadline).  Returns true when idle.
 * Caller holds s->lock. */
static bool wait_idle(http_server *s, double deadline_s)
{
    while (s->active_requests > 0 || s->active_streams > 0) {
        http_guard_close_incomplete(s);
        double left = deadline_s - mono_s();
        if (left <= 0)
            return false;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double wait = left < 0.2 ? left : 0.2;
        ts.tv_nsec += (long)(wait * 1e9);
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&s->idle, &s->lock, &ts);
    }
    return true;
}

void http_server_stop(http_server *s)
{
    if (s == NULL)
        return;
    __atomic_store_n(&s->stopping, true, __ATOMIC_RELEASE);
    /* Held connections are suspended, which MHD_stop_daemon forbids: they
     * are answered 503 now, and nothing new is held. */
    http_admit_stop(s);
    pthread_mutex_lock(&s->lock);
    bool idle = wait_idle(s, mono_s() + HTTP_STOP_GRACE_MS / 1000.0);
    pthread_mutex_unlock(&s->lock);

    if (!idle) {
        pthread_mutex_lock(&s->lock);
        int nreq = s->active_requests, nstreams = s->active_streams;
        pthread_mutex_unlock(&s->lock);
        log_warn("%s: %d request(s) and %d stream(s) still running after %d ms; cancelling streams",
                 s->service_name, nreq, nstreams, HTTP_STOP_GRACE_MS);
        http_stream_cancel_all(s);
        /* Producers see -1 from http_stream_send; the pool threads must
         * come back before MHD_stop_daemon may run (it joins them). */
        pthread_mutex_lock(&s->lock);
        while (!wait_idle(s, mono_s() + 5.0)) {
            int nreq = s->active_requests, nstreams = s->active_streams;
            pthread_mutex_unlock(&s->lock);
            log_warn("%s: still waiting for %d request(s) and %d stream(s)", s->service_name,
                     nreq, nstreams);
            http_stream_cancel_all(s);
            pthread_mutex_lock(&s->lock);
        }
        pthread_mutex_unlock(&s->lock);
    }
    MHD_stop_daemon(s->daemon); /* closes the listening socket too */
    server_free(s);
}
