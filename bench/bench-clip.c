/*
 * bench-clip.c - HTTP load generator for hailo-clip.
 *
 *   bench-clip --port N [--host H] [--path P] --body FILE [--clients C]
 *              [--seconds S] [--pid PID]
 *
 * C client threads each keep one HTTP/1.1 connection and send the same
 * pre-built POST (the body file) back to back for S seconds.  Prints one
 * line: "requests=... errors=... req_s=... p50_ms=... p99_ms=..." and, with
 * --pid, the service's largest anonymous RSS seen while the load ran
 * (sampled every 50 ms) and its file-backed RSS (the mapped tables), in KB.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES (1u << 22)

static const char *host = "127.0.0.1";
static int port;
static const char *path = "/v1/classify";
static char *request;
static size_t request_len;
static double seconds = 3.0;
static atomic_bool stop_flag;
static atomic_long errors;

typedef struct lat_buf {
    double *ms;
    size_t n, cap;
} lat_buf;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads one response; returns its status (0 on a broken connection) and
 * sets *keep when the connection may be reused. */
static int read_response(int fd, char *buf, size_t cap, bool *keep)
{
    size_t have = 0;
    char *end = NULL;
    while (!(end = memmem(buf, have, "\r\n\r\n", 4))) {
        if (have == cap)
            return 0;
        ssize_t r = recv(fd, buf + have, cap - have, 0);
        if (r <= 0)
            return 0;
        have += (size_t)r;
    }
    int status = 0;
    sscanf(buf, "HTTP/1.%*d %d", &status);
    size_t header_len = (size_t)(end - buf) + 4;
    long content_length = -1;
    *keep = true;
    for (char *line = strstr(buf, "\r\n"); line && line < end; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
            content_length = strtol(line + 17, NULL, 10);
        else if (strncasecmp(line + 2, "Connection: close", 17) == 0)
            *keep = false;
    }
    if (content_length < 0)
        return 0;
    size_t body_have = have - header_len;
    while (body_have < (size_t)content_length) {
        char sink[65536];
        size_t want = (size_t)content_length - body_have;
        ssize_t r = recv(fd, sink, want < sizeof(sink) ? want : sizeof(sink), 0);
        if (r <= 0)
            return 0;
        body_have += (size_t)r;
    }
    return status;
}

static void *client(void *arg)
{
    lat_buf *lat = arg;
    char *buf = malloc(1 << 16);
    int fd = -1;
    while (!atomic_load(&stop_flag)) {
        if (fd < 0 && (fd = connect_to()) < 0) {
            atomic_fetch_add(&errors, 1);
            usleep(10000);
            continue;
        }
        double t0 = now_s();
        bool keep = false;
        int status = send_all(fd, request, request_len) ? read_response(fd, buf, 1 << 16, &keep)
                                                         : 0;
        double ms = (now_s() - t0) * 1000.0;
        if (status != 200)
            atomic_fetch_add(&errors, 1);
        else if (lat->n < lat->cap)
            lat->ms[lat->n++] = ms;
        if (status == 0 || !keep) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}

static long status_kb(int pid, const char *field)
{
    char p[64], line[256];
    snprintf(p, sizeof(p), "/proc/%d/status", pid);
    FILE *f = fopen(p, "r");
    long v = -1;
    if (!f)
        return -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    fclose(f);
    return v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'H'}, {"port", required_argument, NULL, 'p'},
        {"path", required_argument, NULL, 'P'}, {"body", required_argument, NULL, 'b'},
        {"clients", required_argument, NULL, 'c'}, {"seconds", required_argument, NULL, 's'},
        {"pid", required_argument, NULL, 'i'}, {NULL, 0, NULL, 0},
    };
    const char *body_path = NULL;
    int clients = 1, pid = 0, c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'P': path = optarg; break;
        case 'b': body_path = optarg; break;
        case 'c': clients = atoi(optarg); break;
        case 's': seconds = atof(optarg); break;
        case 'i': pid = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: bench-clip --port N --body FILE [--clients C] [--seconds S] "
                            "[--pid PID] [--host H] [--path P]\n");
            return 2;
        }
    }
    if (!port || !body_path || clients < 1 || clients > 1024 || seconds <= 0) {
        fprintf(stderr, "bench-clip: --port and --body are required\n");
        return 2;
    }
    FILE *f = fopen(body_path, "rb");
    if (!f) {
        perror(body_path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long body_len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char head[512];
    int hl = snprintf(head, sizeof(head),
                      "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                      "Content-Length: %ld\r\n\r\n", path, host, port, body_len);
    request_len = (size_t)hl + (size_t)body_len;
    request = malloc(request_len);
    memcpy(request, head, (size_t)hl);
    if (fread(request + hl, 1, (size_t)body_len, f) != (size_t)body_len) {
        fprintf(stderr, "bench-clip: cannot read %s\n", body_path);
        return 1;
    }
    fclose(f);

    pthread_t *th = calloc((size_t)clients, sizeof(*th));
    lat_buf *lat = calloc((size_t)clients, sizeof(*lat));
    for (int i = 0; i < clients; i++) {
        lat[i].cap = MAX_SAMPLES / (size_t)clients;
        lat[i].ms = malloc(lat[i].cap * sizeof(double));
        pthread_create(&th[i], NULL, client, &lat[i]);
    }
    double t0 = now_s();
    long anon_max = -1;
    while (now_s() - t0 < seconds) {
        usleep(50000);
        if (pid) {
            long a = status_kb(pid, "RssAnon");
            if (a > anon_max)
                anon_max = a;
        }
    }
    atomic_store(&stop_flag, true);
    for (int i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    double elapsed = now_s() - t0;

    size_t total = 0;
    for (int i = 0; i < clients; i++)
        total += lat[i].n;
    double *all = malloc((total ? total : 1) * sizeof(double));
    size_t k = 0;
    for (int i = 0; i < clients; i++) {
        memcpy(all + k, lat[i].ms, lat[i].n * sizeof(double));
        k += lat[i].n;
        free(lat[i].ms);
    }
    qsort(all, total, sizeof(double), cmp_double);
    double p50 = total ? all[total / 2] : 0, p99 = total ? all[(size_t)(total * 0.99)] : 0;
    printf("requests=%zu errors=%ld req_s=%.1f p50_ms=%.2f p99_ms=%.2f", total,
           atomic_load(&errors), (double)total / elapsed, p50, p99);
    if (pid)
        printf(" rss_anon_kb=%ld rss_file_kb=%ld", anon_max, status_kb(pid, "RssFile"));
    printf("\n");
    free(all);
    free(lat);
    free(th);
    free(request);
    return atomic_load(&errors) > 0 && total == 0 ? 1 : 0;
}
