/*
 * dashboard-health.c - parallel /health probes: one non-blocking TCP
 * connection per service, all polled together until one deadline.
 *
 * DESIGN: a round connects to every service at once, sends a fixed HTTP/1.0
 * request (Connection: close), and reads each answer into a buffer of
 * DASHBOARD_HEALTH_REPLY_MAX bytes until the server closes, the body is
 * complete by its Content-Length, or the buffer is full.  One poll() waits for all of them
 * and is never given more than what is left of the round's deadline, so a
 * round ends within timeout_ms however many services hang.  The buffers
 * live for the round only; between rounds a prober holds its parsed URLs
 * and the last results.  Addresses are numbers, parsed when the prober is
 * made (dashboard_url_parse): no resolver is asked, nothing can block.
 */
#include "manager/dashboard-health.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/pyjson.h"
#include "common/timeutil.h"

typedef enum probe_step {
    STEP_DONE,       /* finished (or not started): no socket */
    STEP_CONNECTING, /* waiting for the connection */
    STEP_SENDING,    /* writing the request */
    STEP_READING,    /* reading the answer */
} probe_step;

typedef struct probe {
    dashboard_service svc;
    dashboard_url url;
    char *request; /* the GET, made once */
    size_t request_len;
    dashboard_health_result res;
    /* one round */
    probe_step step;
    int fd;
    size_t sent;
    char *reply; /* DASHBOARD_HEALTH_REPLY_MAX bytes of the round's buffer */
    size_t got;
} probe;

struct dashboard_health {
    probe *p;
    size_t n;
    int timeout_ms;
};

int dashboard_health_new(const dashboard_service *services, size_t n, int timeout_ms,
                         dashboard_health **out, hdm_err *err)
{
    dashboard_health *h = calloc(1, sizeof(*h));
    if (!h || (n && !(h->p = calloc(n, sizeof(*h->p))))) {
        free(h);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    h->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    for (size_t i = 0; i < n; i++) {
        probe *p = &h->p[i];
        p->fd = -1;
        h->n++;
        p->svc.name = strdup(services[i].name);
        p->svc.url = strdup(services[i].url);
        if (!p->svc.name || !p->svc.url) {
            dashboard_health_free(h);
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        }
        int rc = dashboard_url_parse(p->svc.url, &p->url, err);
        if (rc < 0) {
            dashboard_health_free(h);
            return hdm_err_prefix(err, "dashboard service '%s'", services[i].name);
        }
        int len = asprintf(&p->request,
                           "GET %s HTTP/1.0\r\nHost: %s\r\n"
                           "User-Agent: hailo-device-manager-dashboard/" HDM_VERSION "\r\n"
                           "Accept: application/json\r\nConnection: close\r\n\r\n",
                           p->url.target, p->url.host);
        if (len < 0) {
            p->request = NULL;
            dashboard_health_free(h);
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        }
        p->request_len = (size_t)len;
    }
    *out = h;
    return 0;
}

void dashboard_health_free(dashboard_health *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++) {
        free(h->p[i].svc.name);
        free(h->p[i].svc.url);
        free(h->p[i].request);
    }
    free(h->p);
    free(h);
}

size_t dashboard_health_count(const dashboard_health *h)
{
    return h ? h->n : 0;
}

const dashboard_health_result *dashboard_health_result_at(const dashboard_health *h, size_t i)
{
    return h && i < h->n ? &h->p[i].res : NULL;
}

const char *dashboard_health_state_name(dashboard_health_state s)
{
    switch (s) {
    case DASHBOARD_HEALTH_UP:
        return "up";
    case DASHBOARD_HEALTH_DEGRADED:
        return "degraded";
    case DASHBOARD_HEALTH_DOWN:
        return "down";
    case DASHBOARD_HEALTH_UNKNOWN:
        break;
    }
    return "unknown";
}

/* Copies printable text from s (at most len bytes) into detail (its size),
 * control characters as blanks. */
static void copy_detail(char *detail, size_t size, const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; s && i < len && s[i] && o + 1 < size; i++)
        detail[o++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
    detail[o] = '\0';
}

void dashboard_health_classify(long http_code, const char *body, size_t len,
                               dashboard_health_result *res)
{
    res->http_status = (int)http_code;
    res->state =
        http_code >= 200 && http_code < 300 ? DASHBOARD_HEALTH_UP : DASHBOARD_HEALTH_DEGRADED;
    res->detail[0] = '\0';
    cJSON *j = body && len ? cJSON_ParseWithLength(body, len) : NULL;
    static const char *const keys[] = {"status", "reason", "error"};
    for (size_t k = 0; j && k < sizeof(keys) / sizeof(keys[0]); k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[k]);
        if (cJSON_IsString(v)) {
            copy_detail(res->detail, sizeof(res->detail), v->valuestring, SIZE_MAX);
            break;
        }
    }
    cJSON_Delete(j);
    if (!res->detail[0] && res->state == DASHBOARD_HEALTH_DEGRADED)
        snprintf(res->detail, sizeof(res->detail), "HTTP %ld", http_code);
}

/* ---- one round ------------------------------------------------------------ */

/* Ends p's part of the round: the socket closed, the time taken. */
static void probe_end(probe *p, double started)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    p->step = STEP_DONE;
    p->res.latency_ms = round((mono_s() - started) * 10000.0) / 10.0;
    p->res.checked_at = wall_s();
}

/* p failed without an HTTP answer: down, with why. */
static void probe_down(probe *p, double started, const char *why)
{
    probe_end(p, started);
    p->res.state = DASHBOARD_HEALTH_DOWN;
    p->res.http_status = 0;
    copy_detail(p->res.detail, sizeof(p->res.detail), why, SIZE_MAX);
}

static void probe_down_errno(probe *p, double started, const char *what, int e)
{
    char why[sizeof(p->res.detail)];
    snprintf(why, sizeof(why), "%s: %s", what, strerror(e));
    probe_down(p, started, why);
}

/* The end of the headers of reply [r, r + len) (the body's first byte), or
 * NULL when they do not end there. */
static const char *headers_end(const char *r, size_t len)
{
    const char *end = r + len;
    for (const char *c = r; c < end; c++)
        if (*c == '\n' &&
            ((c + 1 < end && c[1] == '\n') || (c + 2 < end && c[1] == '\r' && c[2] == '\n')))
            return c + (c[1] == '\n' ? 2 : 3);
    return NULL;
}

/* Content-Length of the headers [r, body), or -1 when absent or unreadable
 * (values above the cap read as just above it). */
static long content_length(const char *r, const char *body)
{
    static const char name[] = "\ncontent-length:";
    for (const char *c = r; c + sizeof(name) - 1 <= body; c++) {
        if (strncasecmp(c, name, sizeof(name) - 1) != 0)
            continue;
        const char *v = c + sizeof(name) - 1;
        while (v < body && (*v == ' ' || *v == '\t'))
            v++;
        long n = 0;
        const char *d = v;
        for (; d < body && *d >= '0' && *d <= '9' && n <= DASHBOARD_HEALTH_REPLY_MAX; d++)
            n = n * 10 + (*d - '0');
        return d > v ? n : -1;
    }
    return -1;
}

/* Whether p's reply is complete without waiting for the server to close:
 * headers and Content-Length bytes of body (a server may keep an HTTP/1.0
 * connection open anyway). */
static bool reply_complete(const probe *p)
{
    const char *body = headers_end(p->reply, p->got);
    if (!body)
        return false;
    long want = content_length(p->reply, body);
    return want >= 0 && (size_t)(p->reply + p->got - body) >= (size_t)want;
}

void dashboard_health_read_answer(const char *reply, size_t len, dashboard_health_result *res)
{
    const char *r = reply;
    size_t line = 0;
    while (line < len && r[line] != '\r' && r[line] != '\n')
        line++;
    bool http = len >= 12 && memcmp(r, "HTTP/", 5) == 0 && r[5] >= '0' && r[5] <= '9' &&
                r[6] == '.' && r[7] >= '0' && r[7] <= '9' && r[8] == ' ' && r[9] >= '1' &&
                r[9] <= '5' && r[10] >= '0' && r[10] <= '9' && r[11] >= '0' && r[11] <= '9' &&
                (line == 12 || r[12] == ' ');
    const char *body = http ? headers_end(r, len) : NULL;
    res->state = DASHBOARD_HEALTH_DOWN;
    res->http_status = 0;
    if (!http) {
        snprintf(res->detail, sizeof(res->detail), "not an HTTP answer: '%.*s'",
                 (int)(line > 60 ? 60 : line), line ? r : "");
        for (char *c = res->detail; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                *c = '?'; /* the page's JSON stays printable ASCII */
        return;
    }
    if (!body) {
        snprintf(res->detail, sizeof(res->detail), "%s",
                 len >= DASHBOARD_HEALTH_REPLY_MAX ? "headers longer than 16 KiB"
                                                   : "the connection closed within the headers");
        return;
    }
    size_t body_len = (size_t)(r + len - body);
    long want = content_length(r, body);
    if (want >= 0 && (size_t)want < body_len)
        body_len = (size_t)want;
    long code = (r[9] - '0') * 100 + (r[10] - '0') * 10 + (r[11] - '0');
    dashboard_health_classify(code, body, body_len, res);
}

/* The round's end for p: its answer (all of it, or the cap's worth) read. */
static void probe_answered(probe *p, double started)
{
    probe_end(p, started);
    dashboard_health_read_answer(p->reply, p->got, &p->res);
}

/* Starts p's connection (non-blocking). */
static void probe_connect(probe *p, double started)
{
    p->sent = 0;
    p->got = 0;
    p->fd = socket(p->url.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->fd < 0) {
        probe_down_errno(p, started, "socket", errno);
        return;
    }
    p->step = STEP_CONNECTING;
    /* EINTR: the connection goes on asynchronously, as with EINPROGRESS. */
    if (connect(p->fd, (const struct sockaddr *)&p->url.addr, p->url.addr_len) == 0)
        p->step = STEP_SENDING;
    else if (errno != EINPROGRESS && errno != EINTR)
        probe_down_errno(p, started, "connect", errno);
}

/* Moves p on after poll() said its socket is ready (revents). */
static void probe_step_on(probe *p, short revents, double started)
{
    if (p->step == STEP_CONNECTING) {
        int e = 0;
        socklen_t len = sizeof(e);
        if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
            e = errno;
        if (e) {
            probe_down_errno(p, started, "connect", e);
            return;
        }
        p->step = STEP_SENDING;
    }
    while (p->step == STEP_SENDING) {
        ssize_t n = send(p->fd, p->request + p->sent, p->request_len - p->sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0) {
            probe_down_errno(p, started, "send", errno);
            return;
        }
        p->sent += (size_t)n;
        if (p->sent == p->request_len)
            p->step = STEP_READING;
    }
    if (p->step != STEP_READING || !(revents & (POLLIN | POLLHUP | POLLERR)))
        return;
    for (;;) {
        ssize_t n = recv(p->fd, p->reply + p->got, DASHBOARD_HEALTH_REPLY_MAX - p->got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && p->got == 0) {
            probe_down_errno(p, started, "recv", errno);
            return;
        }
        if (n > 0)
            p->got += (size_t)n;
        /* Closed, reset after some bytes, full, or complete: read what came. */
        if (n <= 0 || p->got == DASHBOARD_HEALTH_REPLY_MAX || reply_complete(p)) {
            probe_answered(p, started);
            return;
        }
    }
}

/* Marks every result unknown with why (a round that could not start). */
static void all_unknown(dashboard_health *h, const char *why)
{
    double now = wall_s();
    for (size_t i = 0; i < h->n; i++) {
        probe *p = &h->p[i];
        p->res.state = DASHBOARD_HEALTH_UNKNOWN;
        p->res.http_status = 0;
        p->res.latency_ms = 0;
        p->res.checked_at = now;
        copy_detail(p->res.detail, sizeof(p->res.detail), why, SIZE_MAX);
    }
}

int dashboard_health_probe(dashboard_health *h, hdm_err *err)
{
    if (h->n == 0)
        return 0;
    char *buf = malloc(h->n * DASHBOARD_HEALTH_REPLY_MAX);
    struct pollfd *pfd = calloc(h->n, sizeof(*pfd));
    if (!buf || !pfd) {
        free(buf);
        free(pfd);
        all_unknown(h, "out of memory");
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for a probe round");
    }
    double started = mono_s();
    int64_t deadline = mono_ms() + h->timeout_ms;
    for (size_t i = 0; i < h->n; i++) {
        h->p[i].reply = buf + i * DASHBOARD_HEALTH_REPLY_MAX;
        probe_connect(&h->p[i], started);
    }
    for (;;) {
        size_t active = 0;
        for (size_t i = 0; i < h->n; i++) {
            const probe *p = &h->p[i];
            pfd[i].fd = p->fd; /* negative: poll() skips it */
            pfd[i].events = p->step == STEP_READING ? POLLIN : POLLOUT;
            pfd[i].revents = 0;
            active += p->step != STEP_DONE;
        }
        int64_t left = deadline - mono_ms();
        if (active == 0 || left <= 0)
            break;
        int ready = poll(pfd, h->n, (int)left);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0) {
            int e = errno; /* before close() may change it */
            for (size_t i = 0; i < h->n; i++)
                if (h->p[i].step != STEP_DONE)
                    probe_down_errno(&h->p[i], started, "poll", e);
            break;
        }
        for (size_t i = 0; i < h->n; i++)
            if (pfd[i].revents && h->p[i].step != STEP_DONE)
                probe_step_on(&h->p[i], pfd[i].revents, started);
    }
    char why[64];
    snprintf(why, sizeof(why), "no answer within %d ms", h->timeout_ms);
    for (size_t i = 0; i < h->n; i++) {
        if (h->p[i].step != STEP_DONE)
            probe_down(&h->p[i], started, why);
        h->p[i].reply = NULL;
    }
    free(pfd);
    free(buf);
    return 0;
}

cJSON *dashboard_health_json(const dashboard_health *h)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && h && i < h->n; i++) {
        const probe *p = &h->p[i];
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddStringToObject(o, "name", p->svc.name) ||
            !cJSON_AddStringToObject(o, "url", p->svc.url) ||
            !cJSON_AddStringToObject(o, "state", dashboard_health_state_name(p->res.state)) ||
            !cJSON_AddNumberToObject(o, "http_status", p->res.http_status) ||
            !pyjson_add_float(o, "latency_ms", p->res.latency_ms) ||
            !(p->res.checked_at > 0 ? pyjson_add_float(o, "checked_at", p->res.checked_at)
                                    : cJSON_AddNullToObject(o, "checked_at")) ||
            !cJSON_AddStringToObject(o, "detail", p->res.detail)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return NULL;
        }
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}
