/*
 * http.c - GET /v1/device/status, GET /metrics and the dashboard (its page's
 * files and the two documents the page polls) over libmicrohttpd.
 *
 * DESIGN: libmicrohttpd is loaded with dlopen() when the endpoint starts
 * (after READY=1), not linked: it drags in GnuTLS and its half-dozen
 * libraries, whose loading and constructors would otherwise dominate the
 * manager's start-up time and idle memory (systemd loads its optional
 * libraries the same way).  The header still gives the types and constants;
 * only the functions used here are looked up.
 *
 * Everything here is read-only.  With http_bearer_token set, every route but
 * the page's static files (which hold no data: the page asks for the token
 * and sends it with its polls) wants "Authorization: Bearer <token>".
 */
#include "http.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>

#include "common/log.h"
#include "common/paths.h"
#include "common/timeutil.h"
#include "dashboard-static.h"
#include "dashboard.h"
#include "proto.h"
#include "registry.h"
#include "stats.h"

/* The libmicrohttpd functions we call, resolved at run time. */
static struct {
    struct MHD_Daemon *(*start_daemon)(unsigned int, uint16_t, MHD_AcceptPolicyCallback, void *,
                                       MHD_AccessHandlerCallback, void *, ...);
    void (*stop_daemon)(struct MHD_Daemon *);
    struct MHD_Response *(*create_response_from_buffer)(size_t, void *,
                                                        enum MHD_ResponseMemoryMode);
    enum MHD_Result (*add_response_header)(struct MHD_Response *, const char *, const char *);
    enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int, struct MHD_Response *);
    void (*destroy_response)(struct MHD_Response *);
    const char *(*lookup_connection_value)(struct MHD_Connection *, enum MHD_ValueKind,
                                           const char *);
} mhd;

static int mhd_load(hdm_err *err)
{
    if (mhd.start_daemon)
        return 0;
    void *lib = dlopen("libmicrohttpd.so.12", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return hdm_err_set(err, HDM_E_UNAVAILABLE, "cannot load libmicrohttpd: %s", dlerror());
        /* dlsym returns void *; POSIX guarantees it converts to function pointers. */
#define SYM(field, name)                                                                           \
    do {                                                                                           \
        void *p = dlsym(lib, name);                                                                \
        if (!p)                                                                                    \
            return hdm_err_set(err, HDM_E_UNAVAILABLE, "libmicrohttpd lacks %s", name);            \
        memcpy(&mhd.field, &p, sizeof(p));                                                         \
    } while (0)
    SYM(stop_daemon, "MHD_stop_daemon");
    SYM(create_response_from_buffer, "MHD_create_response_from_buffer");
    SYM(add_response_header, "MHD_add_response_header");
    SYM(queue_response, "MHD_queue_response");
    SYM(destroy_response, "MHD_destroy_response");
    SYM(lookup_connection_value, "MHD_lookup_connection_value");
    SYM(start_daemon, "MHD_start_daemon");
#undef SYM
    return 0;
}

/* Connections served at once, in total and per client address.  Each open
 * dashboard page keeps one keep-alive connection (its polls), and local
 * pages, scrapers and curl all come from 127.0.0.1: room for a few dozen. */
#define HTTP_MAX_CONNECTIONS 128
#define HTTP_PER_ADDRESS 32
/* A connection idle this long is closed. */
#define HTTP_IDLE_TIMEOUT_S 5

/* A poll that finds no snapshot yet (the first after a quiet time) waits
 * this long for the sampler's first one. */
#define HTTP_DASHBOARD_WAIT_MS 3000

struct http_endpoint {
    struct MHD_Daemon *daemon;
    manager *m;
    const char *token;  /* m->cfg->http_token; NULL: no auth */
    dashboard *dash;    /* the sampler behind /v1/dashboard/... */
    path_allowlist www; /* the page's directory, one entry */
    char *www_dir;
    char bind[300];
    pthread_t starter; /* loads the library and starts the daemon off the loop's path */
    int wake_fd;       /* eventfd: tells the starter to give up waiting (stop) */
    bool ipv6;
};

/* The page may load only its own files and talk only to this server. */
#define HTTP_PAGE_CSP                                                                              \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* Queues body (taken; NULL with len 0 for an empty body) with the headers
 * every answer carries; `cache` is the Cache-Control value, `etag` NULL or
 * the entity tag. */
static enum MHD_Result reply_full(struct MHD_Connection *conn, unsigned status, const char *type,
                                  char *body, size_t len, const char *cache, const char *etag)
{
    struct MHD_Response *resp =
        body ? mhd.create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
             : mhd.create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    if (type)
        mhd.add_response_header(resp, "Content-Type", type);
    mhd.add_response_header(resp, "Cache-Control", cache);
    mhd.add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (etag)
        mhd.add_response_header(resp, "ETag", etag);
    if (type && strncmp(type, "text/html", 9) == 0) {
        mhd.add_response_header(resp, "Content-Security-Policy", HTTP_PAGE_CSP);
        mhd.add_response_header(resp, "X-Frame-Options", "DENY");
        mhd.add_response_header(resp, "Referrer-Policy", "no-referrer");
    }
    if (status == 401)
        mhd.add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"hailo-device-manager\"");
    enum MHD_Result r = mhd.queue_response(conn, status, resp);
    mhd.destroy_response(resp);
    return r;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             char *body, size_t len)
{
    return reply_full(conn, status, type, body, len, "no-store", NULL);
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    char *body = NULL;
    if (o && cJSON_AddStringToObject(o, "error", msg))
        body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!body)
        return MHD_NO;
    return reply(conn, status, "application/json", body, strlen(body));
}

static void metric_header(buf *out, const char *name, const char *type, const char *help)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void http_dashboard_metrics(dashboard *d, buf *out)
{
    dashboard_stats st;
    dashboard_get_stats(d, &st);
    metric_header(out, "hailo_manager_dashboard_polls_total", "counter",
                  "Dashboard documents served to pages.");
    buf_printf(out, "hailo_manager_dashboard_polls_total %llu\n", (unsigned long long)st.polls);
    metric_header(out, "hailo_manager_dashboard_snapshots_total", "counter",
                  "Dashboard snapshots built (only while a page is open).");
    buf_printf(out, "hailo_manager_dashboard_snapshots_total %llu\n",
               (unsigned long long)st.snapshots);
    metric_header(out, "hailo_manager_dashboard_probe_rounds_total", "counter",
                  "Rounds of service health probes (only while a page is open).");
    buf_printf(out, "hailo_manager_dashboard_probe_rounds_total %llu\n",
               (unsigned long long)st.probe_rounds);
    metric_header(out, "hailo_manager_dashboard_watched", "gauge",
                  "1 while a dashboard page has polled recently.");
    buf_printf(out, "hailo_manager_dashboard_watched %d\n", st.watched);
}

void http_metrics_text(manager *m, buf *out)
{
    manager_counters *k = &m->counters;
    char dev[160];
    stats_prom_escape_to(dev, sizeof(dev), m->info.device_id);
    metric_header(out, "hailo_manager_info", "gauge", "Manager build and device.");
    buf_printf(
        out,
        "hailo_manager_info{version=\"%s\",backend=\"%s\",device_id=\"%s\",simulated=\"%s\"} 1\n",
        HDM_VERSION, m->ops->name, dev, m->info.simulated ? "true" : "false");
    metric_header(out, "hailo_manager_uptime_seconds", "gauge",
                  "Seconds since the manager started.");
    buf_printf(out, "hailo_manager_uptime_seconds %.3f\n",
               (double)(mono_ms() - m->started_ms) / 1000.0);
    metric_header(out, "hailo_manager_requests_total", "counter", "Requests received, by action.");
    for (int a = 0; a < ACT__COUNT; a++)
        buf_printf(out, "hailo_manager_requests_total{action=\"%s\"} %llu\n",
                   proto_action_name((proto_action)a),
                   (unsigned long long)atomic_load(&k->requests[a]));
    metric_header(out, "hailo_manager_errors_total", "counter", "Error answers, by code.");
    for (int code = 1; code < HDM_E__COUNT; code++) {
        if (code == HDM_E_NOMEM)
            continue; /* reported under "internal" */
        uint64_t n = atomic_load(&k->errors[code]);
        if (code == HDM_E_INTERNAL)
            n += atomic_load(&k->errors[HDM_E_NOMEM]);
        buf_printf(out, "hailo_manager_errors_total{code=\"%s\"} %llu\n", hdm_error_code_name(code),
                   (unsigned long long)n);
    }
    metric_header(out, "hailo_manager_busy_rejections_total", "counter",
                  "Requests refused because the queue was full.");
    buf_printf(out, "hailo_manager_busy_rejections_total %llu\n",
               (unsigned long long)atomic_load(&k->busy_rejections));
    metric_header(out, "hailo_manager_connections_open", "gauge", "Client connections open.");
    buf_printf(out, "hailo_manager_connections_open %d\n", atomic_load(&k->connections_open));
    metric_header(out, "hailo_manager_connections_refused_total", "counter",
                  "Connections refused because the manager was out of file descriptors.");
    buf_printf(out, "hailo_manager_connections_refused_total %llu\n",
               (unsigned long long)atomic_load(&k->connections_refused));
    metric_header(out, "hailo_manager_connections_total", "counter",
                  "Client connections accepted.");
    buf_printf(out, "hailo_manager_connections_total %llu\n",
               (unsigned long long)atomic_load(&k->connections_total));
    metric_header(out, "hailo_manager_connections_dropped_total", "counter",
                  "Connections closed for a protocol error or for not reading answers.");
    buf_printf(out, "hailo_manager_connections_dropped_total %llu\n",
               (unsigned long long)atomic_load(&k->connections_dropped));
    metric_header(out, "hailo_manager_frames_timed_out_total", "counter",
                  "Connections closed because a frame was not complete in time.");
    buf_printf(out, "hailo_manager_frames_timed_out_total %llu\n",
               (unsigned long long)atomic_load(&k->frames_timed_out));
    metric_header(out, "hailo_manager_input_overflow_drops_total", "counter",
                  "Connections closed because unfinished requests filled the input buffer cap.");
    buf_printf(out, "hailo_manager_input_overflow_drops_total %llu\n",
               (unsigned long long)atomic_load(&k->input_overflow_drops));
    metric_header(out, "hailo_manager_buffered_input_bytes", "gauge",
                  "Bytes of unfinished requests held, all connections.");
    buf_printf(out, "hailo_manager_buffered_input_bytes %zu\n",
               (size_t)atomic_load(&k->buffered_bytes));
    metric_header(out, "hailo_manager_received_bytes_total", "counter", "Request bytes received.");
    buf_printf(out, "hailo_manager_received_bytes_total %llu\n",
               (unsigned long long)atomic_load(&k->bytes_in));
    metric_header(out, "hailo_manager_sent_bytes_total", "counter", "Answer bytes queued.");
    buf_printf(out, "hailo_manager_sent_bytes_total %llu\n",
               (unsigned long long)atomic_load(&k->bytes_out));
    sched_metrics(m->sched, out);
    registry_metrics(m->reg, out);
}

/* Constant-time comparison of the expected token with the given one. */
static bool token_equal(const char *expected, const char *given, size_t glen)
{
    size_t elen = strlen(expected);
    unsigned diff = (unsigned)(elen ^ glen);
    for (size_t i = 0; i < elen; i++) {
        unsigned char g = i < glen ? (unsigned char)given[i] : 0;
        diff |= (unsigned)((unsigned char)expected[i] ^ g);
    }
    return diff == 0;
}

bool http_token_ok(const char *token, const char *v)
{
    if (!token || !token[0])
        return true;
    if (!v)
        return false;
    while (*v == ' ')
        v++;
    if (strncasecmp(v, "Bearer ", 7) != 0)
        return false;
    v += 7;
    while (*v == ' ')
        v++;
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return token_equal(token, v, n);
}

static bool auth_ok(http_endpoint *h, struct MHD_Connection *conn)
{
    return !h->token || http_token_ok(h->token, mhd.lookup_connection_value(conn, MHD_HEADER_KIND,
                                                                            "Authorization"));
}

/* One of the page's files: public, revalidated at each load (no-cache with
 * a strong ETag, so an upgrade shows at once and a reload costs a 304). */
static enum MHD_Result serve_file(http_endpoint *h, struct MHD_Connection *conn,
                                  const dashboard_file *f)
{
    if (!h->www_dir)
        return reply_error(conn, 500, "the dashboard's directory is unknown (set dashboard.dir)");
    dashboard_static_reply r;
    hdm_err err;
    hdm_err_clear(&err);
    const char *inm = mhd.lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    if (dashboard_static_load(&h->www, f, inm, &r, &err) < 0) {
        log_warn("dashboard: %s", err.msg);
        return reply_error(conn, err.code == HDM_E_NOT_FOUND ? 404 : 500, err.msg);
    }
    char *body = r.body;
    r.body = NULL;
    return reply_full(conn, (unsigned)r.status, r.type, body, r.len, "no-cache", r.etag);
}

static enum MHD_Result serve_dashboard_doc(http_endpoint *h, struct MHD_Connection *conn,
                                           dashboard_doc doc)
{
    char *text = NULL;
    size_t len = 0;
    hdm_err err;
    hdm_err_clear(&err);
    if (dashboard_poll(h->dash, doc, HTTP_DASHBOARD_WAIT_MS, &text, &len, &err) < 0)
        return reply_error(conn, err.code == HDM_E_NOMEM ? 500 : 503, err.msg);
    return reply(conn, 200, "application/json", text, len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_len, void **state)
{
    (void)version;
    (void)upload;
    http_endpoint *h = cls;
    /* First call per request: headers only.  Bodies are not accepted. */
    if (*state == NULL) {
        *state = h;
        return MHD_YES;
    }
    if (*upload_len > 0) {
        *upload_len = 0;
        return reply_error(conn, 413, "This endpoint takes no request body");
    }
    const dashboard_file *file = dashboard_static_find(url);
    bool known = file || strcmp(url, "/v1/device/status") == 0 || strcmp(url, "/metrics") == 0 ||
                 strcmp(url, "/v1/dashboard/state") == 0 ||
                 strcmp(url, "/v1/dashboard/history") == 0;
    if (!known)
        return reply_error(conn, 404, "Not found");
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply_error(conn, 405, "Method not allowed (use GET)");
    if (file)
        return serve_file(h, conn, file);
    if (!auth_ok(h, conn))
        return reply_error(conn, 401, "missing or invalid bearer token");
    if (strcmp(url, "/v1/dashboard/state") == 0)
        return serve_dashboard_doc(h, conn, DASHBOARD_STATE);
    if (strcmp(url, "/v1/dashboard/history") == 0)
        return serve_dashboard_doc(h, conn, DASHBOARD_HISTORY);
    if (strcmp(url, "/metrics") == 0) {
        buf out = {0};
        http_metrics_text(h->m, &out);
        if (h->dash)
            http_dashboard_metrics(h->dash, &out);
        if (!out.data)
            return MHD_NO;
        return reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", (char *)out.data,
                     out.len);
    }
    cJSON *st = proto_status_json(h->m, true, true);
    char *body = st ? cJSON_PrintUnformatted(st) : NULL;
    cJSON_Delete(st);
    if (!body)
        return reply_error(conn, 500, "out of memory");
    return reply(conn, 200, "application/json", body, strlen(body));
}

/* The sampler's view of the manager: the status endpoint's document with
 * the residency details of the socket's status (loaded_models: footprint,
 * keep-alive, requests) in place of the v1 "networks" list. */
static cJSON *dashboard_status(void *ctx)
{
    manager *m = ctx;
    cJSON *st = proto_status_json(m, true, true);
    if (st) {
        registry_status_json(m->reg, st, false);
        cJSON_DeleteItemFromObjectCaseSensitive(st, "networks");
    }
    return st;
}

/* Binds and listens on h->bind; returns the socket or -1 with err. */
static int bind_listen(http_endpoint *h, hdm_err *err)
{
    char host[256], port[16];
    if (config_split_bind(h->bind, host, sizeof(host), port, sizeof(port)) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "http bind '%s' is not HOST:PORT", h->bind);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g != 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "http bind '%s': %s", h->bind, gai_strerror(g));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    h->ipv6 = ai->ai_family == AF_INET6;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return hdm_err_set(err, HDM_E_UNAVAILABLE, "cannot serve HTTP on %s: %s", h->bind,
                           strerror(e));
    }
    freeaddrinfo(ai);
    return fd;
}

/*
 * The endpoint's helper thread: listens at once, but loads libmicrohttpd
 * (and GnuTLS behind it) only when the first HTTP client connects, so an
 * idle manager does not carry those libraries.  Then MHD serves the socket
 * with its own thread and this one exits.
 */
static void *starter_main(void *arg)
{
    http_endpoint *h = arg;
    hdm_err err;
    hdm_err_clear(&err);
    int fd = bind_listen(h, &err);
    if (fd < 0) {
        log_error("status endpoint disabled: %s", err.msg);
        return NULL;
    }
    log_info("status endpoint on http://%s/v1/device/status, dashboard on http://%s/", h->bind,
             h->bind);
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = h->wake_fd, .events = POLLIN}};
    while (poll(p, 2, -1) < 0 && errno == EINTR)
        ;
    if (p[1].revents || !(p[0].revents & POLLIN)) {
        close(fd);
        return NULL; /* stopping before anyone asked */
    }
    if (mhd_load(&err) < 0) {
        log_error("status endpoint disabled: %s", err.msg);
        close(fd);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    if (h->ipv6)
        flags |= MHD_USE_IPv6;
    /* Requests here are one short GET: a client holding connections open
     * (slowly sent headers) may hold HTTP_PER_ADDRESS of them, so one
     * address cannot take every slot from the metrics scraper. */
    h->daemon = mhd.start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, fd,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNECTIONS,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_ADDRESS,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT_S,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_END);
    if (!h->daemon) {
        log_error("status endpoint disabled: libmicrohttpd could not serve %s", h->bind);
        close(fd);
    }
    return NULL;
}

int http_endpoint_start(manager *m, const char *bind, http_endpoint **out, hdm_err *err)
{
    char host[256], port[16];
    if (config_split_bind(bind, host, sizeof(host), port, sizeof(port)) < 0 ||
        strlen(bind) >= sizeof(((http_endpoint *)0)->bind))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "http bind '%s' is not HOST:PORT", bind);
    http_endpoint *h = calloc(1, sizeof(*h));
    if (!h)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    h->m = m;
    h->token = m->cfg->http_token && m->cfg->http_token[0] ? m->cfg->http_token : NULL;
    snprintf(h->bind, sizeof(h->bind), "%s", bind);
    int rc = dashboard_new(&m->cfg->dashboard, dashboard_status, m, &h->dash, err);
    if (rc < 0) {
        free(h);
        return rc;
    }
    /* Unknown only when /proc is missing: the page then answers 500 saying so. */
    h->www_dir = dashboard_static_dir(m->cfg->dashboard.dir);
    if (h->www_dir && path_allowlist_parse(&h->www, h->www_dir) < 0) {
        free(h->www_dir);
        h->www_dir = NULL;
    }
    h->wake_fd = eventfd(0, EFD_CLOEXEC);
    if (h->wake_fd < 0 || pthread_create(&h->starter, NULL, starter_main, h) != 0) {
        if (h->wake_fd >= 0)
            close(h->wake_fd);
        dashboard_free(h->dash);
        path_allowlist_free(&h->www);
        free(h->www_dir);
        free(h);
        return hdm_err_set(err, HDM_E_INTERNAL, "cannot start the HTTP endpoint thread");
    }
    *out = h;
    return 0;
}

void http_endpoint_stop(http_endpoint *h)
{
    if (!h)
        return;
    uint64_t one = 1;
    if (write(h->wake_fd, &one, sizeof(one)) < 0)
        log_warn("cannot wake the HTTP endpoint thread: %s", strerror(errno));
    pthread_join(h->starter, NULL);
    close(h->wake_fd);
    if (h->daemon)
        mhd.stop_daemon(h->daemon);
    dashboard_free(h->dash);
    path_allowlist_free(&h->www);
    free(h->www_dir);
    free(h);
}
