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
 * MHD calls the access callback first with the headers (we create the
 * request, route it, check the token and Content-Length and may answer right
 * away: 404/405/401/413 are sent before any body byte is read), then once per
 * body piece (appended to req->body, 413 as soon as it grows past the limit:
 * chunked bodies have no Content-Length), then with no data: we hand the
 * request to the pool, and after the worker resumes us, queue its reply.
 * The completion callback writes the access log line and frees the request.
 * Streams are in http_stream.c.
 *
 * Stop: MHD_quiesce_daemon closes the door, we wait (bounded) until the
 * in-flight requests and the streams are done, cancel what remains, and only
 * then MHD_stop_daemon (MHD forbids stopping with suspended connections).
 */
#include "http/http_internal.h"

#include <errno.h>
#include <netdb.h>
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
 * connections and sends half a request each cannot use up our descriptors
 * before the idle timeout closes them. */
#define HTTP_DEFAULT_MAX_CONNECTIONS 512
#define HTTP_DEFAULT_MAX_CONNECTIONS_PER_IP 64

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
}

void http_server_set_error_body(http_server *s, http_error_body_fn fn)
{
    if (s != NULL)
        __atomic_store_n(&s->error_body, fn, __ATOMIC_RELEASE);
}

cJSON *http_error_body(http_server *srv, int status, const char *message)
{
    http_error_body_fn fn = __atomic_load_n(&srv->error_body, __ATOMIC_ACQUIRE);
    cJSON *body = fn != NULL ? fn(status, message) : NULL;
    if (body == NULL) {
        body = cJSON_CreateObject();
        if (body != NULL)
            cJSON_AddStringToObject(body, "error", message);
    }
    return body;
}

void http_request_free(http_request *r)
{
    if (r == NULL)
        return;
    free(r->method);
    free(r->path);
    buf_free(&r->body);
    cJSON_Delete(r->json);
    cJSON_Delete(r->reply_body);
    if (r->producer_free != NULL && r->producer_user != NULL)
        r->producer_free(r->producer_user);
    free(r);
}

/* ---- request accessors -------------------------------------------------- */

const char *http_request_method(const http_request *r) { return r->method; }
const char *http_request_path(const http_request *r) { return r->path; }
const cJSON *http_request_json(const http_request *r) { return r->json; }

const char *http_request_header(const http_request *r, const char *name)
{
    if (r->conn == NULL || name == NULL)
        return NULL;
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

void http_request_stream(http_request *r, http_stream_fn producer, void *user,
                         void (*free_user)(void *user))
{
    if (r->producer_free != NULL && r->producer_user != NULL)
        r->producer_free(r->producer_user);
    r->stream_wanted = producer != NULL;
    r->producer = producer;
    r->producer_user = user;
    r->producer_free = free_user;
}

/* ---- replies ------------------------------------------------------------ */

/* Queues `body` (consumed) with `status` and an optional extra header. */
static enum MHD_Result send_json(http_request *req, int status, cJSON *body,
                                 const char *hname, const char *hvalue)
{
    char *text = NULL;
    size_t len = 0;
    if (body != NULL) {
        text = cJSON_PrintUnformatted(body);
        cJSON_Delete(body);
        if (text == NULL) {
            status = MHD_HTTP_INTERNAL_SERVER_ERROR;
            text = strdup("{\"error\":\"out of memory while writing the reply\"}");
            if (text == NULL)
                return MHD_NO;
        }
        len = strlen(text);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, text != NULL ? text : "",
                                        text != NULL ? MHD_RESPMEM_MUST_FREE
                                                     : MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        free(text);
        return MHD_NO;
    }
    if (text != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (hname != NULL)
        MHD_add_response_header(resp, hname, hvalue);
    enum MHD_Result r = MHD_queue_response(req->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    if (r == MHD_YES) {
        req->responded = true;
        req->status = status;
        req->bytes_out = len;
    }
    return r;
}

static enum MHD_Result send_error(http_request *req, int status, const char *hname,
                                  const char *hvalue, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum MHD_Result send_error(http_request *req, int status, const char *hname,
                                  const char *hvalue, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return send_json(req, status, http_error_body(req->srv, status, msg), hname, hvalue);
}

void http_reply_json(http_reply *reply, int status, cJSON *body)
{
    if (reply->body != NULL && reply->body != body)
        cJSON_Delete(reply->body);
    reply->status = status;
    reply->body = body;
}

void http_reply_error(http_reply *reply, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON *body = cJSON_CreateObject();
    if (body != NULL)
        cJSON_AddStringToObject(body, "error", msg);
    http_reply_json(reply, status, body);
}

/* ---- routing and auth --------------------------------------------------- */

/* Compares without an early exit so the time does not reveal how much of the
 * token matched; the length difference is folded into the result. */
static bool token_equal(const char *expected, const char *given)
{
    size_t elen = strlen(expected), glen = strlen(given);
    unsigned diff = (unsigned)(elen ^ glen);
    for (size_t i = 0; i < elen; i++) {
        unsigned char g = i < glen ? (unsigned char)given[i] : 0;
        diff |= (unsigned)((unsigned char)expected[i] ^ g);
    }
    return diff == 0;
}

static bool auth_ok(const http_request *req)
{
    const char *token = req->srv->bearer_token;
    if (token == NULL)
        return true;
    const char *h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_AUTHORIZATION);
    if (h == NULL)
        return false;
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    h += 7;
    while (*h == ' ')
        h++;
    char given[512];
    size_t n = strlen(h);
    while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    if (n >= sizeof(given))
        return false;
    memcpy(given, h, n);
    given[n] = '\0';
    return token_equal(token, given);
}

/* Answers 404/405/401/413 before the body when the headers already say so.
 * Returns true when a reply was queued (or queueing failed: *res says). */
static bool early_reply(http_request *req, enum MHD_Result *res)
{
    http_server *srv = req->srv;
    const http_route *path_match = NULL;
    char allow[128] = "";
    for (const http_route *r = srv->routes; r->method != NULL; r++) {
        if (strcmp(r->path, req->path) != 0)
            continue;
        if (path_match == NULL || !path_match->public_route)
            path_match = r;
        if (strcmp(r->method, req->method) == 0)
            req->route = r;
        if (strstr(allow, r->method) == NULL && strlen(allow) + strlen(r->method) + 3 < sizeof(allow)) {
            if (allow[0] != '\0')
                strcat(allow, ", ");
            strcat(allow, r->method);
        }
    }
    bool is_public = req->route != NULL ? req->route->public_route
                                        : (path_match != NULL && path_match->public_route);
    char challenge[160];
    snprintf(challenge, sizeof(challenge), "Bearer realm=\"%s\"", srv->service_name);

    if (__atomic_load_n(&srv->stopping, __ATOMIC_ACQUIRE)) {
        *res = send_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, MHD_HTTP_HEADER_CONNECTION, "close",
                          "server is shutting down");
        return true;
    }
    if (!is_public && !auth_ok(req)) {
        *res = send_error(req, MHD_HTTP_UNAUTHORIZED, MHD_HTTP_HEADER_WWW_AUTHENTICATE, challenge,
                          "missing or invalid bearer token");
        return true;
    }
    if (path_match == NULL) {
        *res = send_error(req, MHD_HTTP_NOT_FOUND, NULL, NULL, "no route for %s %s",
                          req->method, req->path);
        return true;
    }
    if (req->route == NULL) {
        *res = send_error(req, MHD_HTTP_METHOD_NOT_ALLOWED, MHD_HTTP_HEADER_ALLOW, allow,
                          "method %s is not allowed on %s (allowed: %s)", req->method,
                          req->path, allow);
        return true;
    }
    const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno != 0 || end == cl || n > srv->cfg.max_body_bytes) {
            *res = send_error(req, MHD_HTTP_CONTENT_TOO_LARGE, NULL, NULL,
                              "request body of %s bytes exceeds the limit of %zu bytes", cl,
                              srv->cfg.max_body_bytes);
            return true;
        }
    }
    return false;
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
    cJSON_Delete(req->reply_body);
    req->reply_status = status;
    req->reply_body = http_error_body(req->srv, status, msg);
}

/* Worker side: parses the body and runs the handler; the reply (or the
 * stream request) is left in req for the access callback to queue. */
static void handle_request(http_request *req)
{
    http_server *srv = req->srv;
    if (req->route->needs_body) {
        if (req->body.len == 0) {
            prepare_error(req, MHD_HTTP_BAD_REQUEST, "invalid JSON body: the body is empty");
            return;
        }
        const char *end = NULL;
        req->json = cJSON_ParseWithLengthOpts((const char *)req->body.data, req->body.len, &end, 0);
        size_t at = end != NULL ? (size_t)(end - (const char *)req->body.data) : 0;
        if (req->json == NULL) {
            prepare_error(req, MHD_HTTP_BAD_REQUEST, "invalid JSON body: parse error near byte %zu",
                          at);
            return;
        }
        while (at < req->body.len && req->body.data[at] != '\0' &&
               strchr(" \t\r\n", req->body.data[at]) != NULL)
            at++;
        if (at < req->body.len) {
            prepare_error(req, MHD_HTTP_BAD_REQUEST,
                          "invalid JSON body: unexpected data after the JSON value at byte %zu", at);
            return;
        }
        if (!cJSON_IsObject(req->json)) {
            prepare_error(req, MHD_HTTP_BAD_REQUEST, "invalid JSON body: expected a JSON object");
            return;
        }
    }
    buf_free(&req->body); /* parsed: the handler has the JSON */
    http_reply reply = {0};
    req->route->handler(req, &reply, srv->user);
    if (req->stream_wanted) {
        cJSON_Delete(reply.body);
        return;
    }
    if (reply.status == 0) {
        cJSON_Delete(reply.body);
        prepare_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR,
                      "the handler for %s %s produced no reply", req->method, req->path);
        return;
    }
    req->reply_status = reply.status;
    req->reply_body = reply.body;
}

/* A pool worker: handle, then give the connection back to MHD, which calls
 * on_access again to send what we prepared. */
static void run_job(http_request *req)
{
    struct MHD_Connection *conn = req->conn;
    handle_request(req);
    /* After the resume the request may complete and be freed at any time. */
    __atomic_store_n(&req->handled, true, __ATOMIC_RELEASE);
    MHD_resume_connection(conn);
}

/* Access-callback side, once the whole body is in. */
static enum MHD_Result dispatch_or_reply(http_request *req)
{
    http_server *srv = req->srv;
    if (req->body_too_large)
        return send_error(req, MHD_HTTP_CONTENT_TOO_LARGE, NULL, NULL,
                          "request body exceeds the limit of %zu bytes", srv->cfg.max_body_bytes);
    if (!req->dispatched) {
        req->dispatched = true;
        /* Suspend before queueing so the worker's resume always follows. */
        MHD_suspend_connection(req->conn);
        http_pool_submit(srv->pool, req);
        return MHD_YES;
    }
    if (!__atomic_load_n(&req->handled, __ATOMIC_ACQUIRE))
        return MHD_YES;
    if (req->stream_wanted) {
        int rc = http_stream_start(req);
        if (rc == 0)
            return MHD_YES;
        if (rc == -EBUSY)
            return send_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, NULL,
                              "too many open event streams (limit %d); retry later",
                              HTTP_MAX_STREAMS);
        return send_error(req, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL,
                          "could not start the event stream");
    }
    cJSON *body = req->reply_body;
    req->reply_body = NULL;
    return send_json(req, req->reply_status, body, NULL, NULL);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    http_server *srv = cls;
    http_request *req = *con_cls;
    (void)version;

    if (req == NULL) {
        req = calloc(1, sizeof(*req));
        if (req == NULL)
            return MHD_NO;
        req->srv = srv;
        req->conn = conn;
        req->start_s = mono_s();
        req->method = strdup(method);
        req->path = strdup(url);
        if (req->method == NULL || req->path == NULL) {
            http_request_free(req);
            return MHD_NO;
        }
        *con_cls = req;
        pthread_mutex_lock(&srv->lock);
        srv->active_requests++;
        pthread_mutex_unlock(&srv->lock);
        enum MHD_Result res = MHD_YES;
        if (early_reply(req, &res))
            return res;
        return MHD_YES;
    }
    if (req->responded) {
        /* A reply is already queued (413 mid-body): drop what still arrives. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (req->body_too_large)
            return MHD_YES;
        if (req->body.len + n > srv->cfg.max_body_bytes) {
            req->body_too_large = true;
            buf_free(&req->body);
            /* MHD may refuse a reply before the upload ends; then the
             * rest is discarded and the 413 goes out at the end. */
            (void)send_error(req, MHD_HTTP_CONTENT_TOO_LARGE, NULL, NULL,
                             "request body exceeds the limit of %zu bytes",
                             srv->cfg.max_body_bytes);
            return MHD_YES;
        }
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
    for (; *in != '\0' && n + 1 < cap; in++)
        out[n++] = ((unsigned char)*in < 0x20 || *in == 0x7f) ? '?' : *in;
    out[n] = '\0';
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server *srv = cls;
    http_request *req = *con_cls;
    (void)conn;
    if (req == NULL)
        return;
    *con_cls = NULL;
    bool ok = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;
    size_t bytes = req->stream != NULL ? http_stream_bytes(req->stream) : req->bytes_out;
    if (srv->cfg.access_log) {
        char method[16], path[256];
        printable(req->method, method, sizeof(method));
        printable(req->path, path, sizeof(path));
        log_info("%s %s %d %zu bytes %.1f ms%s", method, path, req->responded ? req->status : 0,
                 bytes, (mono_s() - req->start_s) * 1000.0,
                 ok ? "" : " (connection closed early)");
    }
    if (req->stream != NULL)
        http_stream_request_done(req->stream, ok); /* the stream owns req */
    else
        http_request_free(req);
    pthread_mutex_lock(&srv->lock);
    srv->active_requests--;
    pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->lock);
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
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->idle);
    free(s->host);
    free(s->bearer_token);
    free(s->service_name);
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
    s->host = strdup(cfg->host != NULL && cfg->host[0] != '\0' ? cfg->host : "0.0.0.0");
    s->service_name = strdup(cfg->service_name != NULL ? cfg->service_name : "http");
    if (s->host == NULL || s->service_name == NULL)
        goto nomem;
    if (cfg->bearer_token != NULL && cfg->bearer_token[0] != '\0') {
        s->bearer_token = strdup(cfg->bearer_token);
        if (s->bearer_token == NULL)
            goto nomem;
    }
    s->cfg.host = s->host;
    s->cfg.service_name = s->service_name;
    s->cfg.bearer_token = s->bearer_token;

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
    s->pool = http_pool_start(s->cfg.threads, run_job);
    if (s->pool == NULL) {
        snprintf(err_msg, err_len, "cannot start %d handler threads", s->cfg.threads);
        rc = -EAGAIN;
        goto fail;
    }
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, on_access, s,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, /* first, so it sees everything */
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)s->cfg.threads,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->cfg.connection_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->cfg.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)s->cfg.max_connections_per_ip,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
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

/* Waits until no request and no stream is active or `deadline_s` passes.
 * Returns true when idle.  Caller holds s->lock. */
static bool wait_idle(http_server *s, double deadline_s)
{
    while (s->active_requests > 0 || s->active_streams > 0) {
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
    MHD_socket listen_fd = MHD_quiesce_daemon(s->daemon);

    pthread_mutex_lock(&s->lock);
    __atomic_store_n(&s->stopping, true, __ATOMIC_RELEASE);
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
    MHD_stop_daemon(s->daemon);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    server_free(s);
}
