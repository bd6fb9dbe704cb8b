/*
 * test_http_admit.c - back-pressure on big bodies (http_admit.c) against a
 * real server and raw sockets: never more than max_big_bodies bodies read
 * at once, held requests all answered in order, a held client that hangs
 * up, the wait bound (503 busy with Retry-After), the request deadline
 * that spares held connections but not a granted one that sends nothing,
 * and a stop with held connections.  Every wait polls a state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/timeutil.h"
#include "http/http.h"

#define BIG 1000       /* big_body_bytes */
#define BODY_PAD 20000 /* bytes of padding in a big body */

typedef struct fixture {
    http_server *srv;
    int port;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool release;   /* lets h_work return */
    int inside;     /* h_work handlers inside now */
    int runs;       /* h_work handlers started in all */
} fixture;

/* Echoes the body's "n" once the test lets it go. */
static void h_work(http_request *req, http_reply *reply, void *user)
{
    fixture *f = user;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(http_request_json(req), "n");
    pthread_mutex_lock(&f->lock);
    f->inside++;
    f->runs++;
    pthread_cond_broadcast(&f->cond);
    while (!f->release)
        pthread_cond_wait(&f->cond, &f->lock);
    f->inside--;
    pthread_mutex_unlock(&f->lock);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddNumberToObject(b, "n", cJSON_IsNumber(n) ? n->valuedouble : -1);
    http_reply_json(reply, 200, b);
}

/* Gives its body back at once (http_request_release_body), then works
 * like h_work: the next big body may be read meanwhile. */
static void h_early(http_request *req, http_reply *reply, void *user)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(http_request_json(req), "n");
    double v = cJSON_IsNumber(n) ? n->valuedouble : -1;
    http_request_release_body(req);
    assert_null(http_request_json(req));
    fixture *f = user;
    pthread_mutex_lock(&f->lock);
    f->inside++;
    f->runs++;
    pthread_cond_broadcast(&f->cond);
    while (!f->release)
        pthread_cond_wait(&f->cond, &f->lock);
    f->inside--;
    pthread_mutex_unlock(&f->lock);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddNumberToObject(b, "n", v);
    http_reply_json(reply, 200, b);
}

static const http_route routes[] = {
    {"POST", "/work", h_work, HTTP_BODY_JSON, false},
    {"POST", "/early", h_early, HTTP_BODY_JSON, false},
    {NULL, NULL, NULL, HTTP_BODY_NONE, false},
};

static void start(fixture *f, int max_bodies, int wait_ms, int request_timeout_s)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->cond, NULL);
    http_config cfg;
    http_config_defaults(&cfg);
    cfg.host = "127.0.0.1";
    cfg.threads = 8;
    cfg.max_body_bytes = 1 << 20;
    cfg.big_body_bytes = BIG;
    cfg.max_big_bodies = max_bodies;
    cfg.big_body_wait_ms = wait_ms;
    cfg.busy_message = "busy: the test's one slot is taken; try again";
    if (request_timeout_s > 0)
        cfg.request_timeout_s = request_timeout_s;
    char msg[256];
    assert_int_equal(http_server_start(&cfg, routes, f, &f->srv, msg, sizeof(msg)), 0);
    f->port = http_server_port(f->srv);
}

static void stop(fixture *f)
{
    http_server_stop(f->srv);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->cond);
}

static void let_go(fixture *f)
{
    pthread_mutex_lock(&f->lock);
    f->release = true;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->lock);
}

static http_stats stats(fixture *f)
{
    http_stats st;
    http_server_stats(f->srv, &st);
    return st;
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = 60}; /* a bound on a broken server only */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
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
            return;
        data += n;
        len -= (size_t)n;
    }
}

/* A big JSON body {"n": n, "pad": "xxx..."} of more than BIG bytes. */
static char *big_body(int n, size_t *len)
{
    char *b = malloc(BODY_PAD + 64);
    assert_non_null(b);
    int k = snprintf(b, 64, "{\"n\": %d, \"pad\": \"", n);
    memset(b + k, 'x', BODY_PAD);
    strcpy(b + k + BODY_PAD, "\"}");
    *len = strlen(b);
    return b;
}

static const char *head_fmt = "POST /work HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                              "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n";

/* Sends a whole big request (it fits in the socket buffers either way). */
static int post_big_to(int port, const char *path, int n)
{
    size_t len;
    char *body = big_body(n, &len);
    int fd = connect_to(port);
    char head[256];
    int h = snprintf(head, sizeof(head),
                     "POST %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     path, len);
    send_all(fd, head, (size_t)h);
    send_all(fd, body, len);
    free(body);
    return fd;
}

static int post_big(int port, int n) { return post_big_to(port, "/work", n); }

/* Reads the reply (Connection: close) and returns its status; *body gets
 * the body when asked (caller frees). */
static int read_status(int fd, char **body, char *retry_after, size_t ra_len)
{
    buf b = {0};
    char chunk[4096];
    ssize_t n;
    while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0)
        assert_int_equal(buf_append(&b, chunk, (size_t)n), 0);
    assert_int_equal(buf_append(&b, "", 1), 0);
    int status = 0;
    char *text = (char *)b.data;
    assert_int_equal(sscanf(text, "HTTP/1.%*d %d", &status), 1);
    char *sep = strstr(text, "\r\n\r\n");
    assert_non_null(sep);
    if (retry_after != NULL) {
        retry_after[0] = '\0';
        const char *ra = strcasestr(text, "\r\nRetry-After: ");
        int secs = -1;
        if (ra != NULL && ra < sep && sscanf(ra + 15, "%d", &secs) == 1)
            snprintf(retry_after, ra_len, "%d", secs);
    }
    if (body != NULL)
        *body = strdup(sep + 4);
    buf_free(&b);
    return status;
}

/* Polls cond(f) for up to 60 s. */
static bool wait_until(fixture *f, bool (*cond)(fixture *f))
{
    int64_t deadline = mono_ms() + 60000;
    while (!cond(f)) {
        if (mono_ms() >= deadline)
            return false;
        usleep(5 * 1000);
    }
    return true;
}

/* One ticket, five big requests: the first runs, the other four wait
 * before their bodies (unread, and not "incomplete" for the request
 * deadline); all five come back right, and never was more than one body
 * in. */
static void test_bound_and_all_answered(void **state)
{
    (void)state;
    fixture f;
    start(&f, 1, 60000, 0);
    int fds[5];
    fds[0] = post_big(f.port, 0);
    /* Let the first one in before the others arrive. */
    pthread_mutex_lock(&f.lock);
    while (f.inside == 0)
        pthread_cond_wait(&f.cond, &f.lock);
    pthread_mutex_unlock(&f.lock);
    for (int i = 1; i < 5; i++)
        fds[i] = post_big(f.port, i);
    /* The first holds the only ticket, the others wait before their body:
     * none of them is "incomplete" for the request deadline. */
    http_stats st;
    for (int64_t end = mono_ms() + 60000; mono_ms() < end;) {
        st = stats(&f);
        if (st.held_now == 4)
            break;
        usleep(5000);
    }
    assert_int_equal(st.held_now, 4);
    assert_int_equal(st.big_bodies_now, 1);
    assert_int_equal(st.incomplete_now, 0);
    let_go(&f);
    for (int i = 0; i < 5; i++) {
        char *body = NULL;
        assert_int_equal(read_status(fds[i], &body, NULL, 0), 200);
        char want[32];
        snprintf(want, sizeof(want), "\"n\":%d", i);
        assert_non_null(strstr(body, want));
        free(body);
        close(fds[i]);
    }
    st = stats(&f);
    assert_int_equal(st.big_bodies_peak, 1);
    assert_int_equal(st.big_bodies_now, 0);
    assert_int_equal(st.held_now, 0);
    assert_int_equal(f.runs, 5);
    stop(&f);
}

/* With two tickets: one body runs, the second is read and runs beside it
 * (8 threads), the other three are held; the peak stays 2. */
static void test_two_tickets(void **state)
{
    (void)state;
    fixture f;
    start(&f, 2, 60000, 0);
    int fds[5];
    for (int i = 0; i < 5; i++)
        fds[i] = post_big(f.port, i);
    http_stats st;
    for (int64_t end = mono_ms() + 60000; mono_ms() < end;) {
        st = stats(&f);
        pthread_mutex_lock(&f.lock);
        int inside = f.inside;
        pthread_mutex_unlock(&f.lock);
        if (inside == 2 && st.held_now == 3)
            break;
        usleep(5000);
    }
    assert_int_equal(st.held_now, 3);
    assert_int_equal(st.big_bodies_now, 2);
    let_go(&f);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(read_status(fds[i], NULL, NULL, 0), 200);
        close(fds[i]);
    }
    assert_int_equal(stats(&f).big_bodies_peak, 2);
    stop(&f);
}

static bool one_inside(fixture *f)
{
    pthread_mutex_lock(&f->lock);
    bool ok = f->inside == 1;
    pthread_mutex_unlock(&f->lock);
    return ok;
}

static bool one_held(fixture *f) { return stats(f).held_now == 1; }
static bool two_held(fixture *f) { return stats(f).held_now == 2; }
static bool held_gone(fixture *f) { return stats(f).held_gone == 1 && stats(f).held_now == 1; }

/* A held client that hangs up is dropped; the one behind it and the one
 * running are unaffected, and the server serves on. */
static void test_held_hangup(void **state)
{
    (void)state;
    fixture f;
    start(&f, 1, 60000, 0);
    int a = post_big(f.port, 1);
    assert_true(wait_until(&f, one_inside));
    int b = post_big(f.port, 2);
    assert_true(wait_until(&f, one_held));
    int c = post_big(f.port, 3);
    assert_true(wait_until(&f, two_held));
    close(b);
    assert_true(wait_until(&f, held_gone));
    let_go(&f);
    assert_int_equal(read_status(a, NULL, NULL, 0), 200);
    assert_int_equal(read_status(c, NULL, NULL, 0), 200);
    close(a);
    close(c);
    int d = post_big(f.port, 4);
    assert_int_equal(read_status(d, NULL, NULL, 0), 200);
    close(d);
    http_stats st = stats(&f);
    assert_int_equal(st.big_bodies_now, 0);
    assert_int_equal(st.held_now, 0);
    assert_int_equal(f.runs, 3);
    stop(&f);
}

/* Held past big_body_wait_ms: 503 with Retry-After and the service's
 * sentence, through its error shape. */
static void test_wait_bound(void **state)
{
    (void)state;
    fixture f;
    start(&f, 1, 300, 0);
    int a = post_big(f.port, 1);
    assert_true(wait_until(&f, one_inside));
    int b = post_big(f.port, 2);
    char *body = NULL, ra[16];
    assert_int_equal(read_status(b, &body, ra, sizeof(ra)), 503);
    assert_string_equal(ra, "1");
    assert_non_null(strstr(body, "busy: the test's one slot is taken; try again"));
    free(body);
    close(b);
    assert_int_equal(stats(&f).held_expired, 1);
    let_go(&f);
    assert_int_equal(read_status(a, NULL, NULL, 0), 200);
    close(a);
    assert_int_equal(f.runs, 1);
    stop(&f);
}

static bool expired_one(fixture *f) { return stats(f).incomplete_expired >= 1; }

/* A granted request that then sends no body is cut off at the request
 * deadline, and its ticket comes back. */
static void test_granted_silent_client_cut(void **state)
{
    (void)state;
    fixture f;
    start(&f, 1, 60000, 1);
    int a = post_big(f.port, 1);
    assert_true(wait_until(&f, one_inside));
    /* Headers only: held now, granted once a's ticket is back. */
    int b = connect_to(f.port);
    char head[256];
    int h = snprintf(head, sizeof(head), head_fmt, (size_t)5000);
    send_all(b, head, (size_t)h);
    assert_true(wait_until(&f, one_held));
    let_go(&f);
    assert_int_equal(read_status(a, NULL, NULL, 0), 200);
    close(a);
    assert_true(wait_until(&f, expired_one));
    char c;
    assert_true(recv(b, &c, 1, 0) <= 0); /* closed without a reply */
    close(b);
    int d = post_big(f.port, 3);
    assert_int_equal(read_status(d, NULL, NULL, 0), 200);
    close(d);
    assert_int_equal(stats(&f).big_bodies_now, 0);
    stop(&f);
}

/* Small bodies never wait. */
static void test_small_bodies_pass(void **state)
{
    (void)state;
    fixture f;
    start(&f, 1, 60000, 0);
    int a = post_big(f.port, 1);
    assert_true(wait_until(&f, one_inside));
    int b = connect_to(f.port);
    char req[256];
    const char *small = "{\"n\": 7}";
    int h = snprintf(req, sizeof(req), head_fmt, strlen(small));
    send_all(b, req, (size_t)h);
    send_all(b, small, strlen(small));
    for (int64_t end = mono_ms() + 60000; mono_ms() < end;) {
        pthread_mutex_lock(&f.lock);
        int runs = f.runs;
        pthread_mutex_unlock(&f.lock);
        if (runs == 2)
            break;
        usleep(5000);
    }
    assert_int_equal(f.runs, 2);
    assert_int_equal(stats(&f).held_now, 0);
    let_go(&f);
    assert_int_equal(read_status(a, NULL, NULL, 0), 200);
    assert_int_equal(read_status(b, NULL, NULL, 0), 200);
    close(a);
    close(b);
    stop(&f);
}

static bool three_inside(fixture *f)
{
    pthread_mutex_lock(&f->lock);
    bool ok = f->inside == 3;
    pthread_mutex_unlock(&f->lock);
    return ok;
}

/* A handler that gives its body back early lets the next big body in while
 * it still runs: with one ticket, three such requests all get inside at
 * once, and still no more than one body was ever kept. */
static void test_release_early(void **state)
{
    (void)state;
    fixture f;
    start(&f, 1, 60000, 0);
    int fds[3];
    for (int i = 0; i < 3; i++)
        fds[i] = post_big_to(f.port, "/early", i);
    assert_true(wait_until(&f, three_inside));
    http_stats st = stats(&f);
    assert_int_equal(st.big_bodies_now, 0);
    assert_int_equal(st.big_bodies_peak, 1);
    let_go(&f);
    for (int i = 0; i < 3; i++) {
        char *body = NULL;
        assert_int_equal(read_status(fds[i], &body, NULL, 0), 200);
        char want[32];
        snprintf(want, sizeof(want), "\"n\":%d", i);
        assert_non_null(strstr(body, want));
        free(body);
        close(fds[i]);
    }
    stop(&f);
}

typedef struct stopper {
    fixture *f;
    pthread_t t;
} stopper;

static void *stop_thread(void *arg)
{
    stopper *s = arg;
    http_server_stop(s->f->srv);
    return NULL;
}

/* A stop with held connections answers them 503 (MHD must not stop with
 * suspended connections) and still lets the running request finish. */
static void test_stop_with_held(void **state)
{
    (void)state;
    fixture f;
    start(&f, 1, 60000, 0);
    int a = post_big(f.port, 1);
    assert_true(wait_until(&f, one_inside));
    int b = post_big(f.port, 2);
    assert_true(wait_until(&f, one_held));
    stopper s = {.f = &f};
    assert_int_equal(pthread_create(&s.t, NULL, stop_thread, &s), 0);
    char *body = NULL;
    assert_int_equal(read_status(b, &body, NULL, 0), 503);
    free(body);
    close(b);
    let_go(&f);
    assert_int_equal(read_status(a, NULL, NULL, 0), 200);
    close(a);
    pthread_join(s.t, NULL);
    pthread_mutex_destroy(&f.lock);
    pthread_cond_destroy(&f.cond);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_and_all_answered),
        cmocka_unit_test(test_two_tickets),
        cmocka_unit_test(test_held_hangup),
        cmocka_unit_test(test_wait_bound),
        cmocka_unit_test(test_granted_silent_client_cut),
        cmocka_unit_test(test_small_bodies_pass),
        cmocka_unit_test(test_release_early),
        cmocka_unit_test(test_stop_with_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
