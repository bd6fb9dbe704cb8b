/*
 * test_dashboard_health.c - how an answer is read (up, degraded, the
 * detail shown), and real probe rounds against local sockets: a service
 * that answers, one that refuses connections, one left in the backlog and
 * one that accepts and never answers (the round still ends, bounded by the
 * timeout), an answer longer than the prober reads, one kept open after its
 * Content-Length, one cut within its headers, one that is not HTTP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "manager/dashboard-health.h"

static void test_classify_2xx_is_up_with_status_word(void **state)
{
    (void)state;
    dashboard_health_result r;
    const char body[] = "{\"status\":\"ok\",\"model\":\"clip\"}";
    dashboard_health_classify(200, body, strlen(body), &r);
    assert_int_equal(r.state, DASHBOARD_HEALTH_UP);
    assert_int_equal(r.http_status, 200);
    assert_string_equal(r.detail, "ok");
    assert_string_equal(dashboard_health_state_name(r.state), "up");
}

static void test_classify_503_is_degraded(void **state)
{
    (void)state;
    dashboard_health_result r;
    const char body[] = "{\"ready\":false,\"reason\":\"model loading\"}";
    dashboard_health_classify(503, body, strlen(body), &r);
    assert_int_equal(r.state, DASHBOARD_HEALTH_DEGRADED);
    assert_string_equal(r.detail, "model loading");
    /* No body: the status code says it. */
    dashboard_health_classify(500, NULL, 0, &r);
    assert_string_equal(r.detail, "HTTP 500");
    assert_string_equal(dashboard_health_state_name(r.state), "degraded");
}

static void test_classify_odd_bodies(void **state)
{
    (void)state;
    dashboard_health_result r;
    /* Not JSON, not an object, a non-string status: no detail for 2xx. */
    dashboard_health_classify(204, "<html>", 6, &r);
    assert_int_equal(r.state, DASHBOARD_HEALTH_UP);
    assert_string_equal(r.detail, "");
    dashboard_health_classify(200, "[1,2]", 5, &r);
    assert_string_equal(r.detail, "");
    dashboard_health_classify(200, "{\"status\":1,\"error\":\"e\"}", 24, &r);
    assert_string_equal(r.detail, "e");
    /* Not NUL-terminated: only len bytes are read. */
    const char cut[] = "{\"status\":\"up\"}GARBAGE";
    dashboard_health_classify(200, cut, 15, &r);
    assert_string_equal(r.detail, "up");
    /* Control characters are blanked, long words cut to fit. */
    const char ctl[] = "{\"status\":\"a\\nb\\u0007c\"}";
    dashboard_health_classify(200, ctl, strlen(ctl), &r);
    assert_string_equal(r.detail, "a b c");
    char big[600];
    int n = snprintf(big, sizeof(big), "{\"status\":\"%0400d\"}", 1);
    dashboard_health_classify(200, big, (size_t)n, &r);
    assert_int_equal(strlen(r.detail), sizeof(r.detail) - 1);
    /* 3xx (no redirects followed) and 1xx-style oddities count as degraded. */
    dashboard_health_classify(301, "", 0, &r);
    assert_int_equal(r.state, DASHBOARD_HEALTH_DEGRADED);
    assert_string_equal(dashboard_health_state_name(DASHBOARD_HEALTH_UNKNOWN), "unknown");
    assert_string_equal(dashboard_health_state_name(DASHBOARD_HEALTH_DOWN), "down");
}

/* Answers as a probe received them, without a socket. */
static void test_read_answer(void **state)
{
    (void)state;
    dashboard_health_result r;
    const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}JUNK";
    dashboard_health_read_answer(ok, strlen(ok), &r);
    assert_int_equal(r.state, DASHBOARD_HEALTH_UP);
    assert_string_equal(r.detail, "ok");
    /* Only len bytes are read: the same answer cut within its headers. */
    dashboard_health_read_answer(ok, 20, &r);
    assert_int_equal(r.state, DASHBOARD_HEALTH_DOWN);
    assert_string_equal(r.detail, "the connection closed within the headers");
    /* Headers that fill the whole cap. */
    size_t cap = DASHBOARD_HEALTH_REPLY_MAX;
    char *big = malloc(cap);
    assert_non_null(big);
    memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 21);
    memset(big + 21, 'a', cap - 21);
    dashboard_health_read_answer(big, cap, &r);
    assert_int_equal(r.state, DASHBOARD_HEALTH_DOWN);
    assert_string_equal(r.detail, "headers longer than 16 KiB");
    free(big);
    /* A status line alone, then no headers: cut short. */
    dashboard_health_read_answer("HTTP/1.0 200", 12, &r);
    assert_string_equal(r.detail, "the connection closed within the headers");
    /* Not HTTP: codes outside 100..599, no version, control bytes quoted safely. */
    dashboard_health_read_answer("HTTP/1.1 600 X\r\n\r\n", 18, &r);
    assert_string_equal(r.detail, "not an HTTP answer: 'HTTP/1.1 600 X'");
    dashboard_health_read_answer("HTTP/1.1 2000 OK\r\n\r\n", 20, &r);
    assert_int_equal(r.state, DASHBOARD_HEALTH_DOWN);
    dashboard_health_read_answer("HTTP/x.1 200 OK\r\n\r\n", 19, &r);
    assert_int_equal(r.state, DASHBOARD_HEALTH_DOWN);
    dashboard_health_read_answer("\x01\xff\tz", 4, &r);
    assert_string_equal(r.detail, "not an HTTP answer: '???z'");
    dashboard_health_read_answer(NULL, 0, &r);
    assert_string_equal(r.detail, "not an HTTP answer: ''");
    assert_int_equal(r.http_status, 0);
}

/* ---- real rounds -------------------------------------------------------- */

/* A listening socket on 127.0.0.1; *port set. */
static int listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

typedef struct server {
    int fd;
    const char *answer; /* NULL: answer nothing */
    size_t answer_len;  /* 0: strlen(answer) */
    bool hold;          /* after answering, wait for the prober to close */
    char request[2048]; /* what the prober sent */
} server;

/* Accepts one connection, reads the request, answers s->answer, then
 * closes (or, holding, waits for the other side to close first). */
static void *serve_one(void *arg)
{
    server *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    size_t got = 0;
    ssize_t r;
    while ((r = read(c, s->request + got, sizeof(s->request) - 1 - got)) > 0) {
        got += (size_t)r;
        s->request[got] = '\0';
        if (strstr(s->request, "\r\n\r\n"))
            break;
    }
    size_t len = s->answer ? (s->answer_len ? s->answer_len : strlen(s->answer)) : 0;
    for (size_t sent = 0; sent < len;) {
        ssize_t w = send(c, s->answer + sent, len - sent, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the prober stopped reading and closed */
        sent += (size_t)w;
    }
    char drain[512];
    while (s->hold && read(c, drain, sizeof(drain)) > 0)
        ;
    close(c);
    return NULL;
}

/* How many file descriptors this process has open. */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static dashboard_health *make_prober(dashboard_service *svcs, size_t n, int timeout_ms)
{
    dashboard_health *h = NULL;
    hdm_err err;
    hdm_err_clear(&err);
    assert_int_equal(dashboard_health_new(svcs, n, timeout_ms, &h, &err), 0);
    return h;
}

static void test_probe_round(void **state)
{
    (void)state;
    int up_port, hang_port, closed_port;
    server up = {.fd = listener(&up_port),
                 .answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                           "Content-Length: 15\r\nConnection: close\r\n\r\n{\"status\":\"ok\"}"};
    int hang_fd = listener(&hang_port); /* accepts (backlog), never answers */
    int closed_fd = listener(&closed_port);
    close(closed_fd); /* nothing listens there any more */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, serve_one, &up), 0);

    char e1[64], e2[64], e3[64];
    snprintf(e1, sizeof(e1), "http://127.0.0.1:%d/health", up_port);
    snprintf(e2, sizeof(e2), "http://127.0.0.1:%d/health", hang_port);
    snprintf(e3, sizeof(e3), "http://127.0.0.1:%d/health", closed_port);
    dashboard_service svcs[] = {{"up", e1}, {"hangs", e2}, {"gone", e3}};
    dashboard_health *h = NULL;
    hdm_err err;
    hdm_err_clear(&err);
    assert_int_equal(dashboard_health_new(svcs, 3, 300, &h, &err), 0);
    assert_int_equal(dashboard_health_count(h), 3);
    assert_int_equal(dashboard_health_result_at(h, 0)->state, DASHBOARD_HEALTH_UNKNOWN);
    assert_null(dashboard_health_result_at(h, 3));

    int64_t t0 = mono_ms();
    assert_int_equal(dashboard_health_probe(h, &err), 0);
    int64_t took = mono_ms() - t0;
    /* Bounded: one timeout for the whole round, whatever hangs (generous
     * slack for a loaded machine; the bound, not the speed, is checked). */
    assert_true(took < 300 + 250 + 5000);

    const dashboard_health_result *r = dashboard_health_result_at(h, 0);
    assert_int_equal(r->state, DASHBOARD_HEALTH_UP);
    assert_int_equal(r->http_status, 200);
    assert_string_equal(r->detail, "ok");
    assert_true(r->checked_at > 0);
    r = dashboard_health_result_at(h, 1);
    assert_int_equal(r->state, DASHBOARD_HEALTH_DOWN);
    assert_int_equal(r->http_status, 0);
    assert_true(r->detail[0] != '\0');
    r = dashboard_health_result_at(h, 2);
    assert_int_equal(r->state, DASHBOARD_HEALTH_DOWN);

    cJSON *j = dashboard_health_json(h);
    assert_int_equal(cJSON_GetArraySize(j), 3);
    const cJSON *first = cJSON_GetArrayItem(j, 0);
    assert_string_equal(cJSON_GetObjectItem(first, "name")->valuestring, "up");
    assert_string_equal(cJSON_GetObjectItem(first, "state")->valuestring, "up");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 2), "state")->valuestring,
                        "down");
    cJSON_Delete(j);

    pthread_join(t, NULL);
    /* The request: HTTP/1.0, the URL's path, its host, no keep-alive. */
    char want[128];
    snprintf(want, sizeof(want), "GET /health HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n", up_port);
    assert_non_null(strstr(up.request, want));
    assert_non_null(strstr(up.request, "\r\nConnection: close\r\n\r\n"));
    close(up.fd);
    close(hang_fd);
    dashboard_health_free(h);
}

/* Answers that end the round for their service before its deadline (the
 * timeout is long: a prober that waited for it would find these held
 * connections still open and report them down), and answers that are not
 * health. */
static void test_answers_read_and_refused(void **state)
{
    (void)state;
    int fds_before = open_fds();
    size_t big_len = 100 * 1024;
    char *big = malloc(big_len);
    assert_non_null(big);
    int head = snprintf(
        big, big_len, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n{\"status\":\"ok\",\"pad\":\"",
        big_len);
    memset(big + head, 'x', big_len - (size_t)head);
    server srv[] = {
        /* Larger than the prober reads: cut at the cap, the status kept. */
        {.answer = big, .answer_len = big_len, .hold = true},
        /* Kept open after a complete body (Content-Length says so). */
        {.answer = "HTTP/1.1 503 Service Unavailable\r\ncontent-length:  26\r\n\r\n"
                   "{\"reason\":\"model loading\"}\n\nNOT-READ",
         .hold = true},
        /* Closed within the headers. */
        {.answer = "HTTP/1.1 200 OK\r\nContent-Type: appl"},
        /* Not HTTP. */
        {.answer = "SSH-2.0-OpenSSH_9.2\r\n"},
        {.answer = "HTTP/1.1 20 OK\r\n\r\n{}"},
        /* The body runs to the close (no Content-Length); bare LFs. */
        {.answer = "HTTP/1.0 204 No Content\nServer: x\n\n{\"status\":\"fine\"}"},
    };
    enum { N = sizeof(srv) / sizeof(srv[0]) };
    pthread_t t[N];
    char urls[N][64];
    dashboard_service svcs[N];
    static const char *const names[N] = {"big", "held", "cut", "ssh", "short-code", "lf"};
    for (size_t i = 0; i < N; i++) {
        int port;
        srv[i].fd = listener(&port);
        snprintf(urls[i], sizeof(urls[i]), "http://localhost:%d/health?x=1#frag", port);
        svcs[i].name = (char *)names[i];
        svcs[i].url = urls[i];
        assert_int_equal(pthread_create(&t[i], NULL, serve_one, &srv[i]), 0);
    }
    dashboard_health *h = make_prober(svcs, N, 20000);
    hdm_err err;
    hdm_err_clear(&err);
    assert_int_equal(dashboard_health_probe(h, &err), 0);

    const dashboard_health_result *r = dashboard_health_result_at(h, 0);
    assert_int_equal(r->state, DASHBOARD_HEALTH_UP);
    assert_int_equal(r->http_status, 200);
    assert_string_equal(r->detail, ""); /* the cut body is no JSON */
    r = dashboard_health_result_at(h, 1);
    assert_int_equal(r->state, DASHBOARD_HEALTH_DEGRADED);
    assert_int_equal(r->http_status, 503);
    assert_string_equal(r->detail, "model loading");
    r = dashboard_health_result_at(h, 2);
    assert_int_equal(r->state, DASHBOARD_HEALTH_DOWN);
    assert_int_equal(r->http_status, 0);
    assert_string_equal(r->detail, "the connection closed within the headers");
    r = dashboard_health_result_at(h, 3);
    assert_int_equal(r->state, DASHBOARD_HEALTH_DOWN);
    assert_string_equal(r->detail, "not an HTTP answer: 'SSH-2.0-OpenSSH_9.2'");
    r = dashboard_health_result_at(h, 4);
    assert_int_equal(r->state, DASHBOARD_HEALTH_DOWN);
    assert_string_equal(r->detail, "not an HTTP answer: 'HTTP/1.1 20 OK'");
    r = dashboard_health_result_at(h, 5);
    assert_int_equal(r->state, DASHBOARD_HEALTH_UP);
    assert_int_equal(r->http_status, 204);
    assert_string_equal(r->detail, "fine");

    for (size_t i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        close(srv[i].fd);
    }
    /* localhost is 127.0.0.1; the Host header is the URL's; no fragment. */
    assert_non_null(strstr(srv[0].request, "GET /health?x=1 HTTP/1.0\r\nHost: localhost:"));
    dashboard_health_free(h);
    free(big);
    assert_int_equal(open_fds(), fds_before); /* every socket closed */
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

/* A service that accepts, reads the request and never answers: down when
 * the round's deadline passes, the round bounded by it.  A signal every
 * 10 ms (no SA_RESTART) interrupts the prober's poll() meanwhile: EINTR
 * neither ends the round early nor stretches it. */
static void test_accepts_never_answers(void **state)
{
    (void)state;
    int fds_before = open_fds();
    int port;
    server silent = {.hold = true};
    silent.fd = listener(&port);
    sigset_t alrm, old;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, &old); /* the server thread never sees it */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, serve_one, &silent), 0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    struct sigaction sa = {.sa_handler = on_alarm}, old_sa;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGALRM, &sa, &old_sa), 0);

    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/health", port);
    dashboard_service svc = {"silent", url};
    dashboard_health *h = make_prober(&svc, 1, 200);
    hdm_err err;
    hdm_err_clear(&err);
    struct itimerval every = {.it_interval = {0, 10000}, .it_value = {0, 10000}}, off = {0};
    alarms = 0;
    assert_int_equal(setitimer(ITIMER_REAL, &every, NULL), 0);
    int64_t t0 = mono_ms();
    assert_int_equal(dashboard_health_probe(h, &err), 0);
    int64_t took = mono_ms() - t0;
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old_sa, NULL);
    assert_true(alarms > 0);
    assert_true(took >= 200);
    assert_true(took < 200 + 5000); /* generous: the bound, not the speed */
    const dashboard_health_result *r = dashboard_health_result_at(h, 0);
    assert_int_equal(r->state, DASHBOARD_HEALTH_DOWN);
    assert_string_equal(r->detail, "no answer within 200 ms");
    assert_true(r->latency_ms > 190);
    /* The prober closed its side: the server saw the end and returned. */
    pthread_join(t, NULL);
    assert_non_null(strstr(silent.request, "GET /health HTTP/1.0\r\n"));
    close(silent.fd);
    dashboard_health_free(h);
    assert_int_equal(open_fds(), fds_before);
}

/* A URL the config would refuse is refused here too, naming the service. */
static void test_new_refuses_non_http(void **state)
{
    (void)state;
    dashboard_service svc = {"tls", "https://127.0.0.1:5000/health"};
    dashboard_health *h = NULL;
    hdm_err err;
    hdm_err_clear(&err);
    assert_int_equal(dashboard_health_new(&svc, 1, 100, &h, &err), -HDM_E_BAD_REQUEST);
    assert_null(h);
    assert_non_null(strstr(err.msg, "dashboard service 'tls'"));
    assert_non_null(strstr(err.msg, "https://"));
}

static void test_no_services(void **state)
{
    (void)state;
    dashboard_health *h = NULL;
    hdm_err err;
    hdm_err_clear(&err);
    assert_int_equal(dashboard_health_new(NULL, 0, 100, &h, &err), 0);
    assert_int_equal(dashboard_health_probe(h, &err), 0);
    cJSON *j = dashboard_health_json(h);
    assert_int_equal(cJSON_GetArraySize(j), 0);
    cJSON_Delete(j);
    dashboard_health_free(h);
    dashboard_health_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify_2xx_is_up_with_status_word),
        cmocka_unit_test(test_classify_503_is_degraded),
        cmocka_unit_test(test_classify_odd_bodies),
        cmocka_unit_test(test_read_answer),
        cmocka_unit_test(test_probe_round),
        cmocka_unit_test(test_answers_read_and_refused),
        cmocka_unit_test(test_accepts_never_answers),
        cmocka_unit_test(test_new_refuses_non_http),
        cmocka_unit_test(test_no_services),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
