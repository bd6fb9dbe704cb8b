/*
 * test_dashboard_health.c - how an answer is read (up, degraded, the
 * detail shown), and real probe rounds against local sockets: a service
 * that answers, one that refuses connections, one that accepts and never
 * answers (the round still ends, bounded by the timeout).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
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
    const char *answer;
} server;

/* Answers one request with s->answer and closes. */
static void *serve_one(void *arg)
{
    server *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    char req[2048];
    ssize_t got = 0, r;
    while ((r = read(c, req + got, sizeof(req) - 1 - (size_t)got)) > 0) {
        got += r;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    if (write(c, s->answer, strlen(s->answer)) < 0)
        perror("write");
    close(c);
    return NULL;
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
    close(up.fd);
    close(hang_fd);
    dashboard_health_free(h);
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
        cmocka_unit_test(test_probe_round),
        cmocka_unit_test(test_no_services),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
