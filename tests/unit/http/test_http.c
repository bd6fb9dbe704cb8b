/*
 * test_http.c - the HTTP layer against a raw-socket client: routing errors,
 * body limits (413 before the body), JSON errors, bearer auth, the error
 * hook, concurrent handlers and streams whose client hangs up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/timeutil.h"
#include "common/log.h"
#include "common/utf8.h"
#include "http/http.h"

#define POOL_THREADS 4

/* ---- a tiny client ------------------------------------------------------ */

typedef struct reply {
    int status;
    char *head;   /* status line + headers */
    char *body;   /* after the blank line, chunked framing left as is */
} reply;

static void reply_free(reply *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    /* A bound on a broken server only: ASan on a busy machine is slow. */
    struct timeval tv = {.tv_sec = 60};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Connects to port from 127.0.0.<host>. */
static int connect_from(int port, int host)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in src = {.sin_family = AF_INET};
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.%d", host);
    inet_pton(AF_INET, addr, &src.sin_addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the server may close early (413); the reply tells */
        data += n;
        len -= (size_t)n;
    }
}

/* Reads until EOF (requests use Connection: close) and splits the reply. */
static void read_reply(int fd, reply *out)
{
    buf b = {0};
    char chunk[4096];
    ssize_t n;
    while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0)
        assert_int_equal(buf_append(&b, chunk, (size_t)n), 0);
    assert_int_equal(buf_append(&b, "", 1), 0);
    char *text = (char *)b.data;
    char *sep = strstr(text, "\r\n\r\n");
    assert_non_null(sep);
    *sep = '\0';
    out->head = strdup(text);
    out->body = strdup(sep + 4);
    assert_int_equal(sscanf(out->head, "HTTP/1.%*d %d", &out->status), 1);
    buf_free(&b);
}

static reply exchange(int port, const char *raw, size_t len)
{
    reply r = {0};
    int fd = connect_to(port);
    send_all(fd, raw, len);
    read_reply(fd, &r);
    close(fd);
    return r;
}

static reply request(int port, const char *method, const char *path, const char *extra_headers,
                     const char *body)
{
    char raw[8192];
    size_t blen = body != NULL ? strlen(body) : 0;
    /* JSON bodies say so unless the test sets its own Content-Type. */
    bool typed = extra_headers != NULL && strcasestr(extra_headers, "Content-Type:") != NULL;
    int n = snprintf(raw, sizeof(raw),
                     "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n%s%s"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, path, extra_headers != NULL ? extra_headers : "",
                     body != NULL && !typed ? "Content-Type: application/json\r\n" : "", blen,
                     body != NULL ? body : "");
    return exchange(port, raw, (size_t)n);
}

static const char *header_value(const reply *r, const char *name, char *out, size_t outlen)
{
    const char *p = r->head;
    size_t nl = strlen(name);
    while ((p = strstr(p, "\r\n")) != NULL) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            p += nl + 1;
            while (*p == ' ')
                p++;
            size_t i = 0;
            while (p[i] != '\0' && p[i] != '\r' && i + 1 < outlen) {
                out[i] = p[i];
                i++;
            }
            out[i] = '\0';
            return out;
        }
    }
    return NULL;
}

static char *error_message(const reply *r)
{
    cJSON *j = cJSON_Parse(r->body);
    assert_non_null(j);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    assert_true(cJSON_IsString(e));
    char *msg = strdup(e->valuestring);
    cJSON_Delete(j);
    return msg;
}

/* ---- the test service --------------------------------------------------- */

typedef struct fixture {
    http_server *srv;
    int port;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int running;          /* slow handlers inside */
    int max_running;
    int stream_result;    /* 0 running, 1 saw -1 from send, 2 finished */
    int stream_sent;
    bool release;         /* lets h_block handlers return */
    int blocked;          /* h_block handlers inside */
    int block_runs;       /* h_block handlers started in all */
    int hangup_waiting;   /* h_wait_hangup handlers inside */
    int hook_fired;       /* h_wait_hangup saw its on_close hook */
    bool saw_closed;      /* ... and http_request_closed() said so */
} fixture;

static void h_health(http_request *req, http_reply *reply, void *user)
{
    (void)req;
    (void)user;
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "status", "ok");
    http_reply_json(reply, 200, b);
}

static void h_echo(http_request *req, http_reply *reply, void *user)
{
    (void)user;
    const cJSON *j = http_request_json(req);
    assert_non_null(j);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddItemToObject(b, "got", cJSON_Duplicate(j, 1));
    const char *h = http_request_header(req, "X-Test");
    cJSON_AddStringToObject(b, "x_test", h != NULL ? h : "");
    cJSON_AddStringToObject(b, "method", http_request_method(req));
    cJSON_AddStringToObject(b, "path", http_request_path(req));
    http_reply_json(reply, 200, b);
}

static void h_fail(http_request *req, http_reply *reply, void *user)
{
    (void)req;
    (void)user;
    http_reply_error(reply, 422, "field %s is wrong", "x");
}

/* Waits until POOL_THREADS handlers are inside at once (or 60 s pass): only
 * concurrent handlers can all get past this point. */
static void h_slow(http_request *req, http_reply *reply, void *user)
{
    fixture *f = user;
    (void)req;
    pthread_mutex_lock(&f->lock);
    f->running++;
    if (f->running > f->max_running)
        f->max_running = f->running;
    pthread_cond_broadcast(&f->cond);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    while (f->max_running < POOL_THREADS) {
        if (pthread_cond_timedwait(&f->cond, &f->lock, &deadline) == ETIMEDOUT)
            break;
    }
    bool together = f->max_running >= POOL_THREADS;
    f->running--;
    pthread_mutex_unlock(&f->lock);
    if (together)
        http_reply_json(reply, 200, cJSON_CreateObject());
    else
        http_reply_error(reply, 500, "handlers did not run concurrently");
}

static void produce_forever(http_stream *s, void *user)
{
    fixture *f = user;
    int result = 2;
    for (int i = 0; i < 20000; i++) { /* 20000 x 5 ms: far longer than the test */
        char ev[64];
        int n = snprintf(ev, sizeof(ev), "data: {\"n\": %d}\n\n", i);
        if (http_stream_send(s, ev, (size_t)n) != 0) {
            assert_true(http_stream_closed(s));
            result = 1;
            break;
        }
        pthread_mutex_lock(&f->lock);
        f->stream_sent++;
        pthread_mutex_unlock(&f->lock);
        usleep(5000);
    }
    pthread_mutex_lock(&f->lock);
    f->stream_result = result;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static void h_stream_forever(http_request *req, http_reply *reply, void *user)
{
    (void)reply;
    http_request_stream(req, produce_forever, user, NULL);
}

typedef struct three_events {
    int count;
} three_events;

static void produce_three(http_stream *s, void *user)
{
    three_events *t = user;
    for (int i = 0; i < t->count; i++) {
        char ev[64];
        int n = snprintf(ev, sizeof(ev), "data: event-%d\n\n", i);
        if (http_stream_send(s, ev, (size_t)n) != 0)
            return;
        usleep(2000);
    }
    http_stream_send(s, "data: [DONE]\n\n", 14);
}

static void h_stream_three(http_request *req, http_reply *reply, void *user)
{
    (void)reply;
    (void)user;
    const cJSON *j = http_request_json(req);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "count");
    three_events *t = malloc(sizeof(*t));
    assert_non_null(t);
    t->count = cJSON_IsNumber(n) ? n->valueint : 3;
    http_request_stream(req, produce_three, t, free);
}

/* One event and [DONE] under another Content-Type (http_request_stream_as). */
static void h_ndjson(http_request *req, http_reply *reply, void *user)
{
    (void)reply;
    (void)user;
    three_events *t = malloc(sizeof(*t));
    assert_non_null(t);
    t->count = 1;
    http_request_stream_as(req, "application/x-ndjson", produce_three, t, free);
}

/* Blocks until the test sets f->release. */
static void h_block(http_request *req, http_reply *reply, void *user)
{
    fixture *f = user;
    (void)req;
    pthread_mutex_lock(&f->lock);
    f->blocked++;
    f->block_runs++;
    pthread_cond_broadcast(&f->cond);
    while (!f->release)
        pthread_cond_wait(&f->cond, &f->lock);
    f->blocked--;
    pthread_mutex_unlock(&f->lock);
    http_reply_json(reply, 200, cJSON_CreateObject());
}

static void hangup_hook(void *user)
{
    fixture *f = user;
    pthread_mutex_lock(&f->lock);
    f->hook_fired++;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

/* Waits (up to 60 s) for its client to hang up, as a handler blocked on the
 * device would, and records what the layer told it. */
static void h_wait_hangup(http_request *req, http_reply *reply, void *user)
{
    fixture *f = user;
    http_request_on_close(req, hangup_hook, f);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    pthread_mutex_lock(&f->lock);
    f->hangup_waiting++;
    pthread_cond_broadcast(&f->cond);
    while (f->hook_fired == 0) {
        if (pthread_cond_timedwait(&f->cond, &f->lock, &deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&f->lock);
    http_request_on_close(req, NULL, NULL);
    bool closed = http_request_closed(req);
    pthread_mutex_lock(&f->lock);
    f->saw_closed = closed;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
    http_reply_json(reply, 200, cJSON_CreateObject());
}

static void h_text(http_request *req, http_reply *reply, void *user)
{
    (void)req;
    (void)user;
    http_reply_text(reply, 200, "text/vtt; charset=utf-8", "WEBVTT\n");
    assert_int_equal(http_reply_header(reply, "Content-Disposition", "inline; filename=\"a.vtt\""),
                     0);
    assert_int_equal(http_reply_header(reply, "X-Bad", "a\r\nInjected: 1"), -1);
}

/* Echoes a multipart form: each part as {name, filename, type, size}. */
static void h_form(http_request *req, http_reply *reply, void *user)
{
    (void)user;
    const http_form *form = http_request_form(req);
    assert_non_null(form);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < http_form_count(form); i++) {
        const http_part *p = http_form_at(form, i);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", p->name);
        if (p->filename != NULL)
            cJSON_AddStringToObject(o, "filename", p->filename);
        if (p->content_type != NULL)
            cJSON_AddStringToObject(o, "type", p->content_type);
        cJSON_AddNumberToObject(o, "size", (double)p->len);
        cJSON_AddItemToArray(arr, o);
    }
    char err[200];
    double th = 0.5;
    if (http_form_double(form, "threshold", 0, 1, &th, err, sizeof(err)) < 0) {
        cJSON_Delete(arr);
        http_reply_error(reply, 400, "%s", err);
        return;
    }
    cJSON *b = cJSON_CreateObject();
    cJSON_AddItemToObject(b, "parts", arr);
    cJSON_AddNumberToObject(b, "threshold", th);
    http_reply_json(reply, 200, b);
}

static void h_kind(http_request *req, http_reply *reply, void *user)
{
    (void)user;
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "kind", http_request_json(req) != NULL ? "json"
                                       : http_request_form(req) != NULL ? "form"
                                                                        : "none");
    http_reply_json(reply, 200, b);
}

/* http_reply_take: the body is handed over, and its release runs once the
 * layer is done with it (counted in taken_released). */
static atomic_int taken_released;

static void taken_release(void *arg)
{
    free(arg);
    atomic_fetch_add(&taken_released, 1);
}

static void h_take(http_request *req, http_reply *reply, void *user)
{
    (void)req;
    (void)user;
    char *body = strdup("{\"taken\": true}");
    assert_non_null(body);
    assert_int_equal(http_reply_take(reply, 200, "application/json; charset=utf-8", body,
                                     strlen(body), taken_release, body),
                     0);
}

/* A taken body replaced by another reply is released at once. */
static void h_take_replaced(http_request *req, http_reply *reply, void *user)
{
    (void)req;
    (void)user;
    char *body = strdup("dropped");
    assert_non_null(body);
    http_reply_take(reply, 200, "text/plain", body, strlen(body), taken_release, body);
    http_reply_text(reply, 201, "text/plain", "kept");
}

static const http_route routes[] = {
    {"GET", "/health", h_health, false, true},
    {"POST", "/echo", h_echo, true, false},
    {"PUT", "/echo", h_echo, true, false},
    {"GET", "/fail", h_fail, false, false},
    {"GET", "/slow", h_slow, false, false},
    {"GET", "/stream", h_stream_forever, false, false},
    {"POST", "/stream3", h_stream_three, true, false},
    {"GET", "/block", h_block, false, false},
    {"GET", "/wait-hangup", h_wait_hangup, false, false},
    {"GET", "/text", h_text, false, false},
    {"POST", "/form", h_form, HTTP_BODY_MULTIPART, false},
    {"POST", "/either", h_kind, HTTP_BODY_JSON | HTTP_BODY_MULTIPART, false},
    {"POST", "/any", h_kind, HTTP_BODY_JSON_ANY, false},
    {"GET", "/ndjson", h_ndjson, false, false},
    {"POST", "/v1/echo", h_echo, true, false},
    {"GET", "/take", h_take, false, false},
    {"GET", "/take-replaced", h_take_replaced, false, false},
    {NULL, NULL, NULL, false, false},
};

static bool chunked_server; /* the next start_server() sets accept_chunked */

static int start_server(fixture *f, const char *token)
{
    http_config cfg;
    http_config_defaults(&cfg);
    cfg.accept_chunked = chunked_server;
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.threads = POOL_THREADS;
    cfg.max_body_bytes = 4096;
    cfg.bearer_token = token;
    cfg.service_name = "test";
    char msg[256];
    int rc = http_server_start(&cfg, routes, f, &f->srv, msg, sizeof(msg));
    if (rc != 0)
        fprintf(stderr, "start failed: %s\n", msg);
    assert_int_equal(rc, 0);
    f->port = http_server_port(f->srv);
    assert_true(f->port > 0);
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    start_server(f, NULL);
    *state = f;
    return 0;
}

static int setup_chunked(void **state)
{
    chunked_server = true;
    int rc = setup(state);
    chunked_server = false;
    return rc;
}

static int setup_auth(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    start_server(f, "s3cret-token");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    http_server_stop(f->srv);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
    free(f);
    return 0;
}

/* ---- tests -------------------------------------------------------------- */

static void test_ok_and_json(void **state)
{
    fixture *f = *state;
    reply r = request(f->port, "GET", "/health", NULL, NULL);
    assert_int_equal(r.status, 200);
    char v[128];
    assert_non_null(header_value(&r, "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "application/json");
    assert_string_equal(r.body, "{\"status\":\"ok\"}");
    reply_free(&r);

    r = request(f->port, "POST", "/echo", "X-Test: hello\r\n", "{\"a\": [1, 2]}");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body,
                        "{\"got\":{\"a\":[1,2]},\"x_test\":\"hello\",\"method\":\"POST\",\"path\":\"/echo\"}");
    reply_free(&r);

    r = request(f->port, "GET", "/fail", NULL, NULL);
    assert_int_equal(r.status, 422);
    char *m = error_message(&r);
    assert_string_equal(m, "field x is wrong");
    free(m);
    reply_free(&r);
}

static void test_404_405(void **state)
{
    fixture *f = *state;
    reply r = request(f->port, "GET", "/nope", NULL, NULL);
    assert_int_equal(r.status, 404);
    char *m = error_message(&r);
    assert_non_null(strstr(m, "/nope"));
    free(m);
    reply_free(&r);

    r = request(f->port, "DELETE", "/echo", NULL, NULL);
    assert_int_equal(r.status, 405);
    char v[128];
    assert_non_null(header_value(&r, "Allow", v, sizeof(v)));
    assert_string_equal(v, "POST, PUT");
    m = error_message(&r);
    assert_non_null(strstr(m, "DELETE"));
    free(m);
    reply_free(&r);

    /* Exact match only: a trailing slash is another path. */
    r = request(f->port, "GET", "/health/", NULL, NULL);
    assert_int_equal(r.status, 404);
    reply_free(&r);
}

static void test_bad_json(void **state)
{
    fixture *f = *state;
    reply r = request(f->port, "POST", "/echo", NULL, "{\"a\": ");
    assert_int_equal(r.status, 400);
    char *m = error_message(&r);
    assert_non_null(strstr(m, "invalid JSON body"));
    free(m);
    reply_free(&r);

    r = request(f->port, "POST", "/echo", NULL, "[1, 2]");
    assert_int_equal(r.status, 400);
    m = error_message(&r);
    assert_non_null(strstr(m, "object"));
    free(m);
    reply_free(&r);

    r = request(f->port, "POST", "/echo", "Content-Type: application/json\r\n", NULL);
    assert_int_equal(r.status, 400);
    m = error_message(&r);
    assert_non_null(strstr(m, "empty"));
    free(m);
    reply_free(&r);

    r = request(f->port, "POST", "/echo", NULL, "{\"a\": 1} trailing");
    assert_int_equal(r.status, 400);
    reply_free(&r);
}

static void test_413_before_body(void **state)
{
    fixture *f = *state;
    /* Claims 100 MB and sends none of it: the answer must still come. */
    const char *raw = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n"
                      "Content-Type: application/json\r\n\r\n";
    reply r = exchange(f->port, raw, strlen(raw));
    assert_int_equal(r.status, 413);
    char *m = error_message(&r);
    assert_non_null(strstr(m, "4096"));
    free(m);
    reply_free(&r);

    /* The same with Expect: 100-continue: no "100 Continue" is sent. */
    raw = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n"
          "Content-Type: application/json\r\n\r\n";
    r = exchange(f->port, raw, strlen(raw));
    assert_int_equal(r.status, 413);
    reply_free(&r);

    /* Just under the limit is accepted. */
    char body[4096];
    memset(body, ' ', sizeof(body));
    memcpy(body, "{\"k\":1}", 7);
    body[sizeof(body) - 1] = '\0';
    r = request(f->port, "POST", "/echo", NULL, body);
    assert_int_equal(r.status, 200);
    reply_free(&r);
}

/* Chunked request bodies are refused before any chunk is read (411), so
 * libmicrohttpd never parses a chunk line: a 64 KiB chunk extension, which
 * it would answer with its own 500 page, gets the same clear 411. */
static void test_chunked_refused(void **state)
{
    fixture *f = *state;
    buf raw = {0};
    buf_printf(&raw, "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "7\r\n{\"k\":1}\r\n0\r\n\r\n");
    reply r = exchange(f->port, (const char *)raw.data, raw.len);
    assert_int_equal(r.status, 411);
    char *m = error_message(&r);
    assert_non_null(strstr(m, "Content-Length"));
    free(m);
    reply_free(&r);
    buf_reset(&raw);

    buf_printf(&raw, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n7;ext=");
    for (int i = 0; i < 65536; i++)
        buf_append(&raw, "a", 1);
    buf_printf(&raw, "\r\n{\"k\":1}\r\n0\r\n\r\n");
    r = exchange(f->port, (const char *)raw.data, raw.len);
    assert_int_equal(r.status, 411);
    reply_free(&r);
    buf_free(&raw);
}

/* With accept_chunked (an upload service), a chunked body is read, parsed
 * and handled as one with a Content-Length, and still counted against
 * max_body_bytes: 413 once it goes over. */
static void test_chunked_accepted(void **state)
{
    fixture *f = *state;
    const char *raw = "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                      "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "4\r\n{\"k\"\r\n3\r\n:1}\r\n0\r\n\r\n";
    reply r = exchange(f->port, raw, strlen(raw));
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"got\":{\"k\":1}"));
    reply_free(&r);

    buf big = {0};
    buf_printf(&big, "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 5; i++) { /* 5 x 1000 bytes: over the 4096-byte limit */
        buf_printf(&big, "3e8\r\n");
        for (int k = 0; k < 1000; k++)
            buf_append(&big, " ", 1);
        buf_printf(&big, "\r\n");
    }
    buf_printf(&big, "0\r\n\r\n");
    r = exchange(f->port, (const char *)big.data, big.len);
    assert_int_equal(r.status, 413);
    reply_free(&r);
    buf_free(&big);

    /* Other transfer codings stay refused. */
    raw = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
          "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n";
    r = exchange(f->port, raw, strlen(raw));
    assert_int_equal(r.status, 501);
    reply_free(&r);
}

static void test_error_hook(void **state)
{
    fixture *f = *state;
    http_server_set_error_body(f->srv, NULL);
    reply r = request(f->port, "GET", "/missing", NULL, NULL);
    cJSON *j = cJSON_Parse(r.body);
    assert_true(cJSON_IsString(cJSON_GetObjectItem(j, "error")));
    cJSON_Delete(j);
    reply_free(&r);
}

static cJSON *openai_error(int status, const char *message)
{
    cJSON *b = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(b, "error");
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddStringToObject(e, "type", status == 404 ? "not_found" : "invalid_request_error");
    cJSON_AddNumberToObject(e, "status", status);
    return b;
}

static void test_error_hook_shapes(void **state)
{
    fixture *f = *state;
    http_server_set_error_body(f->srv, openai_error);
    reply r = request(f->port, "POST", "/echo", NULL, "nope");
    assert_int_equal(r.status, 400);
    cJSON *j = cJSON_Parse(r.body);
    const cJSON *e = cJSON_GetObjectItem(j, "error");
    assert_true(cJSON_IsObject(e));
    assert_string_equal(cJSON_GetObjectItem(e, "type")->valuestring, "invalid_request_error");
    assert_non_null(strstr(cJSON_GetObjectItem(e, "message")->valuestring, "invalid JSON body"));
    cJSON_Delete(j);
    reply_free(&r);
    http_server_set_error_body(f->srv, NULL);
}

static void test_auth(void **state)
{
    fixture *f = *state;
    reply r = request(f->port, "GET", "/health", NULL, NULL); /* public */
    assert_int_equal(r.status, 200);
    reply_free(&r);

    r = request(f->port, "POST", "/echo", NULL, "{}");
    assert_int_equal(r.status, 401);
    char v[128];
    assert_non_null(header_value(&r, "WWW-Authenticate", v, sizeof(v)));
    assert_non_null(strstr(v, "Bearer"));
    reply_free(&r);

    r = request(f->port, "POST", "/echo", "Authorization: Bearer s3cret-tokem\r\n", "{}");
    assert_int_equal(r.status, 401);
    reply_free(&r);
    r = request(f->port, "POST", "/echo", "Authorization: Bearer s3cret-token-longer\r\n", "{}");
    assert_int_equal(r.status, 401);
    reply_free(&r);
    r = request(f->port, "POST", "/echo", "Authorization: Basic s3cret-token\r\n", "{}");
    assert_int_equal(r.status, 401);
    reply_free(&r);
    /* Unknown paths do not reveal themselves without the token. */
    r = request(f->port, "GET", "/secret-path", NULL, NULL);
    assert_int_equal(r.status, 401);
    reply_free(&r);

    r = request(f->port, "POST", "/echo", "Authorization: bearer s3cret-token\r\n", "{\"x\":1}");
    assert_int_equal(r.status, 200);
    reply_free(&r);
}

static void *slow_client(void *arg)
{
    fixture *f = arg;
    reply *r = malloc(sizeof(*r));
    *r = request(f->port, "GET", "/slow", NULL, NULL);
    return r;
}

static void test_concurrency(void **state)
{
    fixture *f = *state;
    pthread_t t[POOL_THREADS];
    for (int i = 0; i < POOL_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, slow_client, f), 0);
    for (int i = 0; i < POOL_THREADS; i++) {
        reply *r;
        pthread_join(t[i], (void **)&r);
        assert_int_equal(r->status, 200);
        reply_free(r);
        free(r);
    }
    assert_int_equal(f->max_running, POOL_THREADS);
}

static void *echo_client(void *arg)
{
    fixture *f = arg;
    long ok = 0;
    for (int i = 0; i < 5; i++) {
        char body[64], want[64];
        snprintf(body, sizeof(body), "{\"i\": %d}", i);
        snprintf(want, sizeof(want), "{\"got\":{\"i\":%d}", i);
        reply r = request(f->port, "POST", "/echo", NULL, body);
        if (r.status == 200 && strstr(r.body, want) != NULL)
            ok++;
        reply_free(&r);
    }
    return (void *)ok;
}

/* More clients than handler threads: every request is answered. */
static void test_many_clients(void **state)
{
    fixture *f = *state;
    pthread_t t[16];
    for (int i = 0; i < 16; i++)
        assert_int_equal(pthread_create(&t[i], NULL, echo_client, f), 0);
    long total = 0;
    for (int i = 0; i < 16; i++) {
        void *ok;
        pthread_join(t[i], &ok);
        total += (long)ok;
    }
    assert_int_equal(total, 16 * 5);
}

/* Reads one reply with a Content-Length from a kept-alive connection. */
static int read_one(int fd, char *out, size_t cap)
{
    size_t len = 0;
    for (;;) {
        ssize_t n = recv(fd, out + len, cap - 1 - len, 0);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        out[len] = '\0';
        char *sep = strstr(out, "\r\n\r\n");
        const char *cl = strcasestr(out, "Content-Length:");
        if (sep != NULL && cl != NULL && len >= (size_t)(sep + 4 - out) + (size_t)atoi(cl + 15))
            return 0;
    }
}

static void test_keep_alive(void **state)
{
    fixture *f = *state;
    int fd = connect_to(f->port);
    char resp[4096];
    for (int i = 0; i < 3; i++) {
        const char *raw = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                          "Content-Length: 8\r\n\r\n{\"k\": 1}";
        send_all(fd, raw, strlen(raw));
        assert_int_equal(read_one(fd, resp, sizeof(resp)), 0);
        assert_non_null(strstr(resp, "HTTP/1.1 200"));
        assert_non_null(strstr(resp, "{\"got\":{\"k\":1}"));
    }
    close(fd);
}

static void test_stream_complete(void **state)
{
    fixture *f = *state;
    reply r = request(f->port, "POST", "/stream3", NULL, "{\"count\": 3}");
    assert_int_equal(r.status, 200);
    char v[128];
    assert_string_equal(header_value(&r, "Content-Type", v, sizeof(v)), "text/event-stream");
    assert_string_equal(header_value(&r, "Cache-Control", v, sizeof(v)), "no-cache");
    assert_string_equal(header_value(&r, "X-Accel-Buffering", v, sizeof(v)), "no");
    assert_string_equal(header_value(&r, "Transfer-Encoding", v, sizeof(v)), "chunked");
    const char *e0 = strstr(r.body, "data: event-0\n\n");
    const char *e2 = strstr(r.body, "data: event-2\n\n");
    const char *done = strstr(r.body, "data: [DONE]\n\n");
    assert_non_null(e0);
    assert_non_null(e2);
    assert_non_null(done);
    assert_true(e0 < e2 && e2 < done);
    assert_null(strstr(r.body, "event-3"));
    /* The chunked body ends with the last-chunk marker. */
    size_t n = strlen(r.body);
    assert_true(n >= 5);
    assert_string_equal(r.body + n - 5, "0\r\n\r\n");
    reply_free(&r);
}

static void test_stream_disconnect(void **state)
{
    fixture *f = *state;
    int fd = connect_to(f->port);
    const char *raw = "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n";
    send_all(fd, raw, strlen(raw));
    /* Read until a few events arrived, then hang up. */
    buf got = {0};
    char chunk[1024];
    while (got.len < 200) {
        ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
        assert_true(n > 0);
        buf_append(&got, chunk, (size_t)n);
    }
    buf_append(&got, "", 1);
    assert_non_null(strstr((char *)got.data, "200"));
    assert_non_null(strstr((char *)got.data, "data: {\"n\": 0}"));
    buf_free(&got);
    close(fd);

    /* The producer must learn that the client left (bounded wait). */
    pthread_mutex_lock(&f->lock);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 20;
    while (f->stream_result == 0) {
        if (pthread_cond_timedwait(&f->cond, &f->lock, &deadline) == ETIMEDOUT)
            break;
    }
    int result = f->stream_result;
    pthread_mutex_unlock(&f->lock);
    assert_int_equal(result, 1);

    /* And the server is still healthy. */
    reply r = request(f->port, "GET", "/health", NULL, NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);
}

/* Stopping with a live stream: the producer is cancelled (-1) after the
 * grace period, the suspended connection is resumed and closed, nothing hangs. */
static void test_stop_with_stream(void **state)
{
    fixture *f = *state;
    int fd = connect_to(f->port);
    const char *raw = "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n";
    send_all(fd, raw, strlen(raw));
    char chunk[256];
    assert_true(recv(fd, chunk, sizeof(chunk), 0) > 0);
    http_server_stop(f->srv);
    f->srv = NULL;
    pthread_mutex_lock(&f->lock);
    int result = f->stream_result;
    pthread_mutex_unlock(&f->lock);
    assert_int_equal(result, 1);
    /* The client sees the end of the connection. */
    while (recv(fd, chunk, sizeof(chunk), 0) > 0)
        ;
    close(fd);
}

static void test_start_errors(void **state)
{
    (void)state;
    http_config cfg;
    http_config_defaults(&cfg);
    http_server *s = NULL;
    char msg[256];
    cfg.host = "not-an-address.invalid";
    assert_true(http_server_start(&cfg, routes, NULL, &s, msg, sizeof(msg)) < 0);
    assert_non_null(strstr(msg, "not-an-address.invalid"));
    assert_null(s);
    cfg.host = "127.0.0.1";
    cfg.port = 70000;
    assert_true(http_server_start(&cfg, routes, NULL, &s, msg, sizeof(msg)) < 0);
    assert_non_null(strstr(msg, "70000"));

    /* A port in use is reported, naming the port. */
    fixture f = {0};
    pthread_mutex_init(&f.lock, NULL);
    pthread_cond_init(&f.cond, NULL);
    start_server(&f, NULL);
    cfg.port = f.port;
    assert_true(http_server_start(&cfg, routes, NULL, &s, msg, sizeof(msg)) < 0);
    char port_text[16];
    snprintf(port_text, sizeof(port_text), "%d", f.port);
    assert_non_null(strstr(msg, port_text));
    http_server_stop(f.srv);
    pthread_mutex_destroy(&f.lock);
    pthread_cond_destroy(&f.cond);
    http_server_stop(NULL);
}

static void test_ipv6(void **state)
{
    (void)state;
    http_config cfg;
    http_config_defaults(&cfg);
    cfg.host = "::1";
    http_server *s = NULL;
    char msg[256];
    if (http_server_start(&cfg, routes, NULL, &s, msg, sizeof(msg)) != 0) {
        /* Hosts without IPv6 loopback (some containers) cannot run this. */
        skip();
    }
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = {.sin6_family = AF_INET6,
                             .sin6_port = htons((uint16_t)http_server_port(s))};
    inet_pton(AF_INET6, "::1", &a.sin6_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    const char *raw = "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    send_all(fd, raw, strlen(raw));
    reply r = {0};
    read_reply(fd, &r);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    close(fd);
    http_server_stop(s);
}

/* Waits (up to 120 s: ASan on a busy machine) until the server holds `want`
 * connections that have not sent a whole request. */
static bool wait_incomplete(http_server *s, int want)
{
    int64_t deadline = mono_ms() + 120000;
    http_stats st;
    for (;;) {
        http_server_stats(s, &st);
        if (st.incomplete_now == want)
            return true;
        if (mono_ms() >= deadline)
            return false;
        usleep(5 * 1000);
    }
}

/* A whole GET from 127.0.0.<host>: 1 and the status when answered, 0 when
 * the server closed the connection unanswered, -1 when nothing came in 60 s. */
static int probe(int port, int host, int *status)
{
    int fd = host == 1 ? connect_to(port) : connect_from(port, host);
    struct timeval tv = {.tv_sec = 60};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    const char *raw = "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    send_all(fd, raw, strlen(raw));
    char head[512] = {0}, rest[512];
    size_t have = 0;
    ssize_t n;
    /* Read to the end, so an answered probe leaves as a normal client. */
    while ((n = recv(fd, have < sizeof(head) - 1 ? head + have : rest,
                     have < sizeof(head) - 1 ? sizeof(head) - 1 - have : sizeof(rest), 0)) > 0)
        have += have < sizeof(head) - 1 ? (size_t)n : 0;
    int e = errno;
    close(fd);
    *status = 0;
    if (have > 0) {
        assert_int_equal(sscanf(head, "HTTP/1.%*d %d", status), 1);
        return 1;
    }
    return n == 0 || e == ECONNRESET || e == EPIPE ? 0 : -1;
}

/* Half-sent requests from one address cannot hold more than the per-IP cap:
 * a connection beyond it is closed at once, another address is still
 * served, and a slot frees when one held connection goes. */
static void test_per_ip_connection_limit(void **state)
{
    (void)state;
    http_config cfg;
    http_config_defaults(&cfg);
    cfg.host = "127.0.0.1";
    cfg.max_connections_per_ip = 3;
    /* Neither deadline may close a held connection, however slow the run. */
    cfg.request_timeout_s = 3600;
    cfg.connection_timeout_s = 3600;
    http_server *s = NULL;
    char msg[256];
    assert_int_equal(http_server_start(&cfg, routes, NULL, &s, msg, sizeof(msg)), 0);
    int port = http_server_port(s);
    /* One at a time, each taken in before the next: MHD's worker threads
     * accept from one listening socket concurrently and count the address
     * only after accept(), so connections opened together may be counted
     * in any order, and a later one (the probe) can take the last slot
     * while a held one is refused.  The accept notification (which puts a
     * connection on the incomplete list) follows the count. */
    int held[3];
    for (int i = 0; i < 3; i++) {
        held[i] = connect_to(port);
        const char *half = "GET /health HTTP/1.1\r\nHo";
        send_all(held[i], half, strlen(half));
        if (!wait_incomplete(s, i + 1))
            fail_msg("held connection %d was not taken in", i);
    }
    int status;
    int got = probe(port, 1, &status);
    if (got != 0)
        fail_msg("a 4th connection from 127.0.0.1 was %s", got > 0 ? "served" : "left waiting");
    /* The cap is per address: another one is served, and the held three are
     * all still there. */
    assert_int_equal(probe(port, 2, &status), 1);
    assert_int_equal(status, 200);
    assert_true(wait_incomplete(s, 3));

    /* Once the server has seen one held connection go, a new one is served.
     * MHD releases the address's count just after its close notification,
     * so a probe in between may still be refused: retry until served. */
    close(held[0]);
    assert_true(wait_incomplete(s, 2));
    int64_t deadline = mono_ms() + 120000;
    int refused = 0;
    while ((got = probe(port, 1, &status)) == 0 && mono_ms() < deadline) {
        refused++;
        usleep(5 * 1000);
    }
    if (got != 1)
        fail_msg("no slot came free: %d probes refused, then %s", refused,
                 got == 0 ? "the deadline passed" : "one was left waiting");
    assert_int_equal(status, 200);
    for (int i = 1; i < 3; i++)
        close(held[i]);
    http_server_stop(s);
}

/* ---- issue 20: framing, types, targets (http_check.c) ---------------------- */

/* Reads everything until EOF and counts the HTTP responses in it. */
static int count_responses(int port, const char *raw, size_t len, int *first_status)
{
    int fd = connect_to(port);
    send_all(fd, raw, len);
    buf b = {0};
    char chunk[4096];
    ssize_t n;
    while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0)
        buf_append(&b, chunk, (size_t)n);
    close(fd);
    buf_append(&b, "", 1);
    int count = 0;
    const char *p = (const char *)b.data;
    if (first_status != NULL)
        *first_status = 0;
    while ((p = strstr(p, "HTTP/1.1 ")) != NULL) {
        if (count == 0 && first_status != NULL)
            *first_status = atoi(p + 9);
        count++;
        p += 9;
    }
    buf_free(&b);
    return count;
}

static void test_smuggling(void **state)
{
    fixture *f = *state;
    int status;
    /* Two different lengths: 400, closed, and the tail is never a request. */
    const char *two_cl = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                         "Content-Length: 7\r\nContent-Length: 46\r\n\r\n{\"a\":1}"
                         "GET /health HTTP/1.1\r\nHost: t\r\n\r\n";
    assert_int_equal(count_responses(f->port, two_cl, strlen(two_cl), &status), 1);
    assert_int_equal(status, 400);

    const char *cl_te = "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                        "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "7\r\n{\"a\":1}\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: t\r\n\r\n";
    assert_int_equal(count_responses(f->port, cl_te, strlen(cl_te), &status), 1);
    assert_int_equal(status, 400);

    reply r = exchange(f->port, "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json"
                                "\r\nTransfer-Encoding: xchunked\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n",
                       strlen("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json"
                              "\r\nTransfer-Encoding: xchunked\r\n\r\n7\r\n{\"a\":1}\r\n0\r\n\r\n"));
    assert_int_equal(r.status, 501);
    char *m = error_message(&r);
    assert_non_null(strstr(m, "xchunked"));
    free(m);
    char v[64];
    assert_string_equal(header_value(&r, "Connection", v, sizeof(v)), "close");
    reply_free(&r);

    /* The same length twice is not ambiguous. */
    r = request(f->port, "POST", "/echo", "Content-Length: 7\r\n", "{\"a\":1}");
    assert_int_equal(r.status, 200);
    reply_free(&r);
}

static void test_content_type(void **state)
{
    fixture *f = *state;
    reply r = request(f->port, "POST", "/echo", "Content-Type: text/plain\r\n", "{\"a\":1}");
    assert_int_equal(r.status, 415);
    char *m = error_message(&r);
    assert_non_null(strstr(m, "application/json"));
    assert_non_null(strstr(m, "text/plain"));
    free(m);
    reply_free(&r);

    const char *untyped = "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                          "Content-Length: 7\r\n\r\n{\"a\":1}";
    r = exchange(f->port, untyped, strlen(untyped));
    assert_int_equal(r.status, 415);
    reply_free(&r);

    r = request(f->port, "POST", "/echo", "Content-Type: Application/JSON; charset=utf-8\r\n",
                "{\"a\":1}");
    assert_int_equal(r.status, 200);
    reply_free(&r);

    /* A form is refused on a JSON route and accepted where declared. */
    r = request(f->port, "POST", "/echo", "Content-Type: multipart/form-data; boundary=x\r\n",
                "--x--");
    assert_int_equal(r.status, 415);
    reply_free(&r);
    r = request(f->port, "POST", "/either", NULL, "{}");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"json\""));
    reply_free(&r);
    r = request(f->port, "POST", "/either", "Content-Type: multipart/form-data; boundary=b\r\n",
                "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\n");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"form\""));
    reply_free(&r);
}

/* HTTP_BODY_JSON_ANY: JSON whatever the Content-Type (Ollama's curl examples). */
static void test_json_any(void **state)
{
    fixture *f = *state;
    const char *types[] = {"Content-Type: application/x-www-form-urlencoded\r\n",
                           "Content-Type: text/plain\r\n", "Content-Type: application/json\r\n"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        reply r = request(f->port, "POST", "/any", types[i], "{\"a\":1}");
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.body, "\"json\""));
        reply_free(&r);
    }
    const char *untyped = "POST /any HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                          "Content-Length: 7\r\n\r\n{\"a\":1}";
    reply r = exchange(f->port, untyped, strlen(untyped));
    assert_int_equal(r.status, 200);
    reply_free(&r);
    r = request(f->port, "POST", "/any", "Content-Type: text/plain\r\n", "{bad");
    assert_int_equal(r.status, 400);
    reply_free(&r);
}

/* http_request_stream_as: the stream's Content-Type is the caller's. */
static void test_stream_as(void **state)
{
    fixture *f = *state;
    reply r = request(f->port, "GET", "/ndjson", NULL, NULL);
    assert_int_equal(r.status, 200);
    char v[128];
    assert_string_equal(header_value(&r, "Content-Type", v, sizeof(v)), "application/x-ndjson");
    assert_non_null(strstr(r.body, "event-0"));
    reply_free(&r);
}

static cJSON *prefixed_error(int status, const char *message)
{
    cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddNumberToObject(e, "status", status);
    return o;
}

/* http_server_set_error_body_for: routes under a prefix shape the layer's
 * errors their way, the others keep the default. */
static void test_error_body_for(void **state)
{
    fixture *f = *state;
    assert_int_equal(http_server_set_error_body_for(f->srv, "/v1/", prefixed_error), 0);
    reply r = request(f->port, "POST", "/v1/echo", NULL, "{bad");
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, "\"error\":{\"message\""));
    assert_non_null(strstr(r.body, "\"status\":400"));
    reply_free(&r);
    r = request(f->port, "POST", "/echo", NULL, "{bad");
    assert_int_equal(r.status, 400);
    char *m = error_message(&r);
    assert_non_null(m);
    free(m);
    reply_free(&r);
    for (int i = 1; i < HTTP_MAX_ERROR_PREFIXES; i++)
        assert_int_equal(http_server_set_error_body_for(f->srv, "/x/", prefixed_error), 0);
    assert_int_equal(http_server_set_error_body_for(f->srv, "/y/", prefixed_error), -1);
}

static void test_head_and_text(void **state)
{
    fixture *f = *state;
    reply r = request(f->port, "HEAD", "/health", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "");
    char v[128];
    assert_non_null(header_value(&r, "Content-Length", v, sizeof(v)));
    assert_string_equal(v, "15");
    reply_free(&r);

    r = request(f->port, "PATCH", "/health", NULL, NULL);
    assert_int_equal(r.status, 405);
    assert_string_equal(header_value(&r, "Allow", v, sizeof(v)), "GET, HEAD");
    reply_free(&r);

    r = request(f->port, "GET", "/text", NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_string_equal(header_value(&r, "Content-Type", v, sizeof(v)), "text/vtt; charset=utf-8");
    assert_string_equal(header_value(&r, "Content-Disposition", v, sizeof(v)),
                        "inline; filename=\"a.vtt\"");
    assert_null(header_value(&r, "Injected", v, sizeof(v)));
    assert_string_equal(r.body, "WEBVTT\n");
    reply_free(&r);
}

static void test_reply_take(void **state)
{
    fixture *f = *state;
    int before = atomic_load(&taken_released);
    reply r = request(f->port, "GET", "/take", NULL, NULL);
    assert_int_equal(r.status, 200);
    char v[128];
    assert_string_equal(header_value(&r, "Content-Type", v, sizeof(v)),
                        "application/json; charset=utf-8");
    assert_string_equal(r.body, "{\"taken\": true}");
    reply_free(&r);
    /* Released once MHD let go of the response: by the next request's end
     * at the latest, as MHD destroys it before reading the next. */
    r = request(f->port, "GET", "/take-replaced", NULL, NULL);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "kept");
    reply_free(&r);
    for (int64_t end = mono_ms() + 60000;
         atomic_load(&taken_released) < before + 2 && mono_ms() < end;)
        usleep(10000);
    assert_int_equal(atomic_load(&taken_released), before + 2);
    /* A bad content type: released at once, and a 500. */
    http_reply rep = {0};
    char *body = strdup("x");
    assert_int_equal(http_reply_take(&rep, 200, "bad\r\ntype", body, 1, taken_release, body),
                     -1);
    assert_int_equal(atomic_load(&taken_released), before + 3);
    assert_int_equal(rep.status, 500);
    cJSON_Delete(rep.body);
}

static void test_nul_and_utf8(void **state)
{
    fixture *f = *state;
    static const char raw_nul[] = "GET /health\0/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    reply r = exchange(f->port, raw_nul, sizeof(raw_nul) - 1);
    assert_int_equal(r.status, 400);
    char *m = error_message(&r);
    assert_non_null(strstr(m, "NUL"));
    free(m);
    reply_free(&r);

    r = request(f->port, "GET", "/health%00.png", NULL, NULL);
    assert_int_equal(r.status, 400);
    reply_free(&r);

    /* Invalid UTF-8 from the path is escaped, never echoed raw. */
    r = request(f->port, "GET", "/nope%ff%fe", NULL, NULL);
    assert_int_equal(r.status, 404);
    assert_true(utf8_valid(r.body, strlen(r.body)));
    assert_non_null(strstr(r.body, "\xEF\xBF\xBD"));
    reply_free(&r);
}

/* ---- issue 20: queue bound and hang-ups (http_pool.c, http_watch.c) ------- */

static int start_small(fixture *f, int threads, int max_queued)
{
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    http_config cfg;
    http_config_defaults(&cfg);
    cfg.host = "127.0.0.1";
    cfg.threads = threads;
    cfg.max_queued = max_queued;
    char msg[256];
    assert_int_equal(http_server_start(&cfg, routes, f, &f->srv, msg, sizeof(msg)), 0);
    f->port = http_server_port(f->srv);
    return 0;
}

static void stop_small(fixture *f)
{
    http_server_stop(f->srv);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
}

/* Waits until pred(f) holds (lock held while checking), at most 60 s. */
static bool wait_for(fixture *f, bool (*pred)(fixture *f))
{
    int64_t deadline = mono_ms() + 60000;
    for (;;) {
        pthread_mutex_lock(&f->lock);
        bool ok = pred(f);
        pthread_mutex_unlock(&f->lock);
        if (ok)
            return true;
        if (mono_ms() >= deadline)
            return false;
        usleep(10 * 1000);
    }
}

static bool one_blocked(fixture *f) { return f->blocked == 1; }

static int queued_now(fixture *f)
{
    http_stats st;
    http_server_stats(f->srv, &st);
    return st.queued_now;
}

static bool one_queued(fixture *f) { return queued_now(f) == 1; }
static bool two_queued(fixture *f) { return queued_now(f) == 2; }

static int send_get(int port, const char *path)
{
    int fd = connect_to(port);
    char raw[128];
    int n = snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                     path);
    send_all(fd, raw, (size_t)n);
    return fd;
}

static void release_all(fixture *f)
{
    pthread_mutex_lock(&f->lock);
    f->release = true;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static void test_queue_bound(void **state)
{
    (void)state;
    fixture f = {0};
    start_small(&f, 1, 2);
    int busy = send_get(f.port, "/block");
    assert_true(wait_for(&f, one_blocked));
    int q1 = send_get(f.port, "/block"), q2 = send_get(f.port, "/block");
    assert_true(wait_for(&f, two_queued));
    /* The third waiting request is one too many: 503 with Retry-After. */
    reply r = request(f.port, "GET", "/block", NULL, NULL);
    assert_int_equal(r.status, 503);
    char v[32];
    assert_string_equal(header_value(&r, "Retry-After", v, sizeof(v)), "1");
    char *m = error_message(&r);
    assert_non_null(strstr(m, "busy"));
    free(m);
    reply_free(&r);
    release_all(&f);
    int fds[3] = {busy, q1, q2};
    for (int i = 0; i < 3; i++) {
        reply ok = {0};
        read_reply(fds[i], &ok);
        assert_int_equal(ok.status, 200);
        reply_free(&ok);
        close(fds[i]);
    }
    http_stats st;
    http_server_stats(f.srv, &st);
    assert_int_equal(st.queue_rejected, 1);
    stop_small(&f);
}

static bool hook_done(fixture *f) { return f->hook_fired > 0 && f->saw_closed; }
static bool hangup_waiting(fixture *f) { return f->hangup_waiting == 1; }

/* A handler blocked on something else learns that its client hung up. */
static void test_hangup_hook(void **state)
{
    (void)state;
    fixture f = {0};
    start_small(&f, 2, 8);
    int fd = send_get(f.port, "/wait-hangup");
    assert_true(wait_for(&f, hangup_waiting)); /* the hang-up comes while it runs */
    close(fd);
    assert_true(wait_for(&f, hook_done));
    http_stats st;
    http_server_stats(f.srv, &st);
    assert_true(st.hangups_seen >= 1);
    stop_small(&f);
}

static bool hangup_seen(fixture *f)
{
    http_stats st;
    http_server_stats(f->srv, &st);
    return st.hangups_seen >= 1;
}

static bool abandoned_one(fixture *f)
{
    http_stats st;
    http_server_stats(f->srv, &st);
    return st.abandoned_in_queue == 1;
}

/* A request whose client left while it waited for a thread never runs. */
static void test_abandoned_in_queue(void **state)
{
    (void)state;
    fixture f = {0};
    start_small(&f, 1, 8);
    int busy = send_get(f.port, "/block");
    assert_true(wait_for(&f, one_blocked));
    int gone = send_get(f.port, "/block");
    assert_true(wait_for(&f, one_queued));
    close(gone);
    /* The watcher must have seen it go before a thread is free for it. */
    assert_true(wait_for(&f, hangup_seen));
    release_all(&f);
    reply r = {0};
    read_reply(busy, &r);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    close(busy);
    assert_true(wait_for(&f, abandoned_one));
    pthread_mutex_lock(&f.lock);
    assert_int_equal(f.block_runs, 1);
    pthread_mutex_unlock(&f.lock);
    stop_small(&f);
}

/* ---- issue 20: slow requests (http_guard.c) ----------------------------------- */

/* A request that trickles in a byte at a time is cut at its deadline, even
 * though it never stays idle as long as the idle timeout. */
static void test_request_deadline(void **state)
{
    (void)state;
    http_config cfg;
    http_config_defaults(&cfg);
    cfg.host = "127.0.0.1";
    cfg.request_timeout_s = 1;
    http_server *s = NULL;
    char msg[256];
    assert_int_equal(http_server_start(&cfg, routes, NULL, &s, msg, sizeof(msg)), 0);
    int fd = connect_to(http_server_port(s));
    const char *slow = "GET /health HTTP/1.1\r\nHost: t\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    bool cut = false;
    for (size_t i = 0; i < strlen(slow) && !cut; i++) {
        if (send(fd, slow + i, 1, MSG_NOSIGNAL) != 1)
            cut = true;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) > 0) {
            char c;
            cut = recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
        }
    }
    assert_true(cut); /* 180 bytes at 100 ms each would take 18 s */
    close(fd);
    http_stats st;
    http_server_stats(s, &st);
    assert_true(st.incomplete_expired >= 1);
    http_server_stop(s);
}

/* Many half-sent requests from several addresses (each under the per-address
 * cap) cannot shut a normal client out: beyond max_incomplete the oldest
 * is closed and the new request is served. */
static void test_incomplete_cap(void **state)
{
    (void)state;
    http_config cfg;
    http_config_defaults(&cfg);
    cfg.host = "127.0.0.1";
    cfg.max_connections = 64;
    cfg.max_incomplete = 16;
    cfg.max_connections_per_ip = 20;
    http_server *s = NULL;
    char msg[256];
    assert_int_equal(http_server_start(&cfg, routes, NULL, &s, msg, sizeof(msg)), 0);
    int port = http_server_port(s);
    enum { SLOW = 3 * 20 };
    int held[SLOW];
    for (int i = 0; i < SLOW; i++) {
        held[i] = connect_from(port, 2 + i / 20);
        send_all(held[i], "GET /health HTTP/1.1\r\nHo", 24);
    }
    http_stats st;
    int64_t end = mono_ms() + 60000;
    for (;;) {
        http_server_stats(s, &st);
        if (st.incomplete_evicted >= SLOW - 16 || mono_ms() >= end)
            break;
        usleep(10 * 1000);
    }
    assert_true(st.incomplete_evicted >= SLOW - 16);
    assert_true(st.incomplete_now <= 16);
    reply r = request(port, "GET", "/health", NULL, NULL);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    for (int i = 0; i < SLOW; i++)
        close(held[i]);
    http_server_stop(s);
}

/* ---- reply styles -------------------------------------------------------------- */

static void aiohttp_errors(int status, const char *message, http_reply *reply)
{
    (void)message;
    char text[64];
    snprintf(text, sizeof(text), "%d: %s", status, status == 404 ? "Not Found" : "Error");
    http_reply_text(reply, status, "text/plain; charset=utf-8", text);
}

/* A service may print JSON as Flask does and answer the layer's own errors
 * as aiohttp does (ORIGINAL-SERVICES.md 0.2). */
static void test_json_style_and_error_reply(void **state)
{
    (void)state;
    http_config cfg;
    http_config_defaults(&cfg);
    cfg.host = "127.0.0.1";
    cfg.json_style = HTTP_JSON_FLASK;
    http_server *s = NULL;
    char msg[256];
    assert_int_equal(http_server_start(&cfg, routes, NULL, &s, msg, sizeof(msg)), 0);
    int port = http_server_port(s);
    reply r = request(port, "POST", "/echo", NULL, "{\"b\": 1.5, \"a\": \"\u00e9\"}");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"got\":{\"a\":\"\\u00e9\",\"b\":1.5},\"method\":\"POST\","
                                "\"path\":\"/echo\",\"x_test\":\"\"}\n");
    reply_free(&r);
    http_server_set_error_reply(s, aiohttp_errors);
    r = request(port, "GET", "/missing", NULL, NULL);
    assert_int_equal(r.status, 404);
    char v[64];
    assert_string_equal(header_value(&r, "Content-Type", v, sizeof(v)), "text/plain; charset=utf-8");
    assert_string_equal(r.body, "404: Not Found");
    reply_free(&r);
    http_server_stop(s);
}

/* ---- multipart routes -------------------------------------------------------- */

static void test_multipart_route(void **state)
{
    fixture *f = *state;
    const char *ct = "Content-Type: multipart/form-data; boundary=XyZ\r\n";
    reply r = request(f->port, "POST", "/form", ct,
                      "--XyZ\r\nContent-Disposition: form-data; name=\"image\"; "
                      "filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\nPNGDATA\r\n"
                      "--XyZ\r\nContent-Disposition: form-data; name=\"threshold\"\r\n\r\n0.25"
                      "\r\n--XyZ--\r\n");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"parts\":[{\"name\":\"image\",\"filename\":\"a.png\",\"type\":"
                                "\"image/png\",\"size\":7},{\"name\":\"threshold\",\"size\":4}],"
                                "\"threshold\":0.25}");
    reply_free(&r);

    r = request(f->port, "POST", "/form", ct,
                "--XyZ\r\nContent-Disposition: form-data; name=\"threshold\"\r\n\r\nabc"
                "\r\n--XyZ--\r\n");
    assert_int_equal(r.status, 400);
    char *m = error_message(&r);
    assert_string_equal(m, "field 'threshold' must be a number between 0 and 1, got 'abc'");
    free(m);
    reply_free(&r);

    r = request(f->port, "POST", "/form", "Content-Type: multipart/form-data\r\n", "--x--");
    assert_int_equal(r.status, 400);
    m = error_message(&r);
    assert_non_null(strstr(m, "boundary"));
    free(m);
    reply_free(&r);

    r = request(f->port, "POST", "/form", ct,
                "--XyZ\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\na\r\n"
                "--XyZ\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nb\r\n--XyZ--");
    assert_int_equal(r.status, 400);
    m = error_message(&r);
    assert_string_equal(m, "invalid multipart body: field 'image' is given more than once");
    free(m);
    reply_free(&r);
}

/* A service's main: SIGTERM is taken by http_wait_for_signal, not fatal. */
static void test_wait_for_signal(void **state)
{
    (void)state;
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        http_block_signals();
        if (write(ready[1], "r", 1) != 1)
            _exit(3);
        int sig = http_wait_for_signal();
        _exit(sig == SIGTERM ? 0 : 2);
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(kill(pid, SIGTERM), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* SIGHUP is taken too (returned to the caller), never fatal. */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        http_block_signals();
        if (write(ready[1], "r", 1) != 1)
            _exit(3);
        int sig = http_wait_for_signal();
        _exit(sig == SIGHUP ? 0 : 2);
    }
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(kill(pid, SIGHUP), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    close(ready[0]);
    close(ready[1]);
    /* Outside systemd there is nobody to notify. */
    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(http_notify_ready("serving"), 0);
    assert_int_equal(http_notify_stopping(NULL), 0);
}

int main(void)
{
    log_init("test_http", LOG_LEVEL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ok_and_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_404_405, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_413_before_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunked_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunked_accepted, setup_chunked, teardown),
        cmocka_unit_test_setup_teardown(test_error_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_hook_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth, setup_auth, teardown),
        cmocka_unit_test_setup_teardown(test_concurrency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_any, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_as, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_body_for, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_disconnect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_with_stream, setup, teardown),
        cmocka_unit_test(test_start_errors),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_per_ip_connection_limit),
        cmocka_unit_test(test_wait_for_signal),
        cmocka_unit_test_setup_teardown(test_smuggling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_content_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_and_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_and_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multipart_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reply_take, setup, teardown),
        cmocka_unit_test(test_queue_bound),
        cmocka_unit_test(test_hangup_hook),
        cmocka_unit_test(test_abandoned_in_queue),
        cmocka_unit_test(test_request_deadline),
        cmocka_unit_test(test_incomplete_cap),
        cmocka_unit_test(test_json_style_and_error_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
