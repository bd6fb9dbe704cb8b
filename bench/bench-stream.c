/*
 * bench-stream.c - the streaming benchmarks' shared parts (bench-stream.h):
 * samples and their report, and streamed HTTP requests over plain sockets.
 */
#include "bench-stream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void bench_sample_event(bench_sample *s, double t0, double t)
{
    if (s->tokens == 0) {
        s->ttft_ms = t - t0;
        s->first_ms = t;
    }
    s->last_ms = t;
    s->tokens++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void bench_report(bench_sample *s, int n)
{
    double *t = malloc((size_t)n * sizeof(double));
    double tok_time = 0;
    long tokens = 0, rate_tokens = 0;
    if (!t)
        return;
    for (int i = 0; i < n; i++) {
        t[i] = s[i].ttft_ms;
        tokens += s[i].tokens;
        if (s[i].tokens > 1) {
            tok_time += s[i].last_ms - s[i].first_ms;
            rate_tokens += s[i].tokens - 1;
        }
    }
    qsort(t, (size_t)n, sizeof(double), cmp_double);
    printf("ttft_p50_ms=%.3f ttft_p90_ms=%.3f tok_s=%.1f tokens=%.1f n=%d\n", t[n / 2],
           t[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1],
           tok_time > 0 ? rate_tokens * 1000.0 / tok_time : 0.0, (double)tokens / n, n);
    free(t);
}

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        perror("bench: connect");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* Counts occurrences of the event marker in the new bytes (a marker split
 * across reads is found through the kept tail). */
int bench_http_one(const bench_http *h, bench_sample *s)
{
    size_t nl = strlen(h->event), dl = strlen(h->done);
    size_t tail = nl > dl ? nl : dl;
    char req[512], buf[65536 + 256];
    size_t keep = 0;
    int fd = connect_port(h->port);
    if (fd < 0)
        return -1;
    size_t blen = strlen(h->body);
    int hl = snprintf(req, sizeof(req),
                      "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      h->path, blen);
    double t0 = bench_now_ms();
    if (write(fd, req, (size_t)hl) != hl || write(fd, h->body, blen) != (ssize_t)blen) {
        close(fd);
        return -1;
    }
    int done = 0;
    for (;;) {
        ssize_t n = read(fd, buf + keep, sizeof(buf) - keep - 1);
        if (n <= 0)
            break;
        double t = bench_now_ms();
        size_t len = keep + (size_t)n;
        buf[len] = '\0';
        for (char *p = buf; (p = strstr(p, h->event)) != NULL; p += nl) {
            if ((size_t)(p - buf) + nl <= keep)
                continue; /* counted in the previous read */
            bench_sample_event(s, t0, t);
        }
        if (strstr(buf, h->done))
            done = 1;
        keep = len < tail ? len : tail;
        memmove(buf, buf + len - keep, keep);
    }
    close(fd);
    return done ? 0 : -1;
}

int bench_http_run(const bench_http *h, int n, const char *name)
{
    bench_sample *s = calloc((size_t)n, sizeof(*s));
    if (!s)
        return 1;
    for (int i = -2; i < n; i++) { /* two warm-up runs */
        bench_sample tmp = {0};
        if (bench_http_one(h, i >= 0 ? &s[i] : &tmp) < 0) {
            fprintf(stderr, "%s: streamed request failed\n", name);
            free(s);
            return 1;
        }
    }
    bench_report(s, n);
    free(s);
    return 0;
}

typedef struct load_arg {
    const bench_http *h;
    double until;
    atomic_long *ok, *failed;
} load_arg;

static void *load_thread(void *p)
{
    load_arg *a = p;
    while (bench_now_ms() < a->until) {
        bench_sample s = {0};
        if (bench_http_one(a->h, &s) == 0)
            atomic_fetch_add(a->ok, 1);
        else
            atomic_fetch_add(a->failed, 1);
    }
    return NULL;
}

int bench_http_load(const bench_http *h, int clients, double seconds)
{
    atomic_long ok = 0, failed = 0;
    pthread_t th[256];
    load_arg a = {.h = h, .until = bench_now_ms() + seconds * 1000, .ok = &ok, .failed = &failed};
    if (clients > 256)
        clients = 256;
    for (int i = 0; i < clients; i++)
        pthread_create(&th[i], NULL, load_thread, &a);
    for (int i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    printf("requests=%ld failed=%ld\n", (long)ok, (long)failed);
    return failed ? 1 : 0;
}
