/*
 * http.c - GET /v1/device/status and GET /metrics over libmicrohttpd.
 */
#include "http.h"

#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "common/timeutil.h"
#include "proto.h"
#include "stats.h"

struct http_endpoint {
    struct MHD_Daemon *daemon;
    loop *l;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             char *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result r = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return r;
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

void http_metrics_text(loop *l, buf *out)
{
    loop_counters *k = &l->counters;
    char dev[160];
    stats_prom_escape_to(dev, sizeof(dev), l->info.device_id);
    metric_header(out, "hailo_manager_info", "gauge", "Manager build and device.");
    buf_printf(out, "hailo_manager_info{version=\"%s\",backend=\"%s\",device_id=\"%s\",simulated=\"%s\"} 1\n",
               HDM_VERSION, l->ops->name, dev, l->info.simulated ? "true" : "false");
    metric_header(out, "hailo_manager_uptime_seconds", "gauge", "Seconds since the manager started.");
    buf_printf(out, "hailo_manager_uptime_seconds %.3f\n", (double)(mono_ms() - l->started_ms) / 1000.0);
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
        buf_printf(out, "hailo_manager_errors_total{code=\"%s\"} %llu\n",
                   hdm_error_code_name(code), (unsigned long long)n);
    }
    metric_header(out, "hailo_manager_busy_rejections_total", "counter",
                  "Requests refused because the queue was full.");
    buf_printf(out, "hailo_manager_busy_rejections_total %llu\n",
               (unsigned long long)atomic_load(&k->busy_rejections));
    metric_header(out, "hailo_manager_connections_open", "gauge", "Client connections open.");
    buf_printf(out, "hailo_manager_connections_open %d\n", atomic_load(&k->connections_open));
    metric_header(out, "hailo_manager_connections_total", "counter", "Client connections accepted.");
    buf_printf(out, "hailo_manager_connections_total %llu\n",
               (unsigned long long)atomic_load(&k->connections_total));
    metric_header(out, "hailo_manager_connections_dropped_total", "counter",
                  "Connections closed for a protocol error or for not reading answers.");
    buf_printf(out, "hailo_manager_connections_dropped_total %llu\n",
               (unsigned long long)atomic_load(&k->connections_dropped));
    metric_header(out, "hailo_manager_received_bytes_total", "counter", "Request bytes received.");
    buf_printf(out, "hailo_manager_received_bytes_total %llu\n",
               (unsigned long long)atomic_load(&k->bytes_in));
    metric_header(out, "hailo_manager_sent_bytes_total", "counter", "Answer bytes queued.");
    buf_printf(out, "hailo_manager_sent_bytes_total %llu\n",
               (unsigned long long)atomic_load(&k->bytes_out));
    sched_metrics(l->sched, out);
    registry_metrics(l->reg, out);
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
    bool known = strcmp(url, "/v1/device/status") == 0 || strcmp(url, "/metrics") == 0;
    if (!known)
        return reply_error(conn, 404, "Not found");
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply_error(conn, 405, "Method not allowed (use GET)");
    if (strcmp(url, "/metrics") == 0) {
        buf out = {0};
        http_metrics_text(h->l, &out);
        if (!out.data)
            return MHD_NO;
        return reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", (char *)out.data,
                     out.len);
    }
    cJSON *st = proto_status_json(h->l, true, true);
    char *body = st ? cJSON_PrintUnformatted(st) : NULL;
    cJSON_Delete(st);
    if (!body)
        return reply_error(conn, 500, "out of memory");
    return reply(conn, 200, "application/json", body, strlen(body));
}

int http_endpoint_start(loop *l, const char *bind, http_endpoint **out, hdm_err *err)
{
    char host[256], port[16];
    if (config_split_bind(bind, host, sizeof(host), port, sizeof(port)) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "http bind '%s' is not HOST:PORT", bind);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g != 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "http bind '%s': %s", bind, gai_strerror(g));
    http_endpoint *h = calloc(1, sizeof(*h));
    if (!h) {
        freeaddrinfo(ai);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    h->l = l;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
                                 ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->daemon) {
        free(h);
        return hdm_err_set(err, HDM_E_UNAVAILABLE,
                           "cannot serve HTTP on %s (address in use or not available)", bind);
    }
    *out = h;
    return 0;
}

void http_endpoint_stop(http_endpoint *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->daemon);
    free(h);
}
