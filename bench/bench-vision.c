/*
 * bench-vision.c - time to first token and tokens/s of streamed generations,
 * through hailo-vision (HTTP + SSE) and straight to the manager (libhailodm),
 * for the "hailo-vision" section of docs/BENCHMARKS.md (bench/bench-vision.sh).
 *
 *   bench-vision direct SOCKET HEF N [image]   N streamed infers via hdm_call_stream
 *   bench-vision http PORT N [image]           N streamed chat completions over HTTP
 *   bench-vision load PORT CLIENTS SECONDS     CLIENTS threads streaming for SECONDS
 *
 * Both paths ask for the same generation: the same system + user messages,
 * temperature 0, seed 1, max 32 tokens, and with "image" one 336x336 frame
 * (direct) or a 64x64 PNG data URI (http; the service decodes and resizes
 * it).  TTFT is from sending the request (connection already open) to the
 * first text delta; tokens/s is over the deltas after the first.  Prints one
 * line: "ttft_p50_ms=.. ttft_p90_ms=.. tok_s=.. tokens=.. n=..".
 * Uses only the public client API and plain sockets.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hailodm.h"

#define MAX_TOKENS 32
#define SIDE 336

/* A 64x64 PNG (one colour), base64; the service decodes and resizes it. */
static const char PNG64[] = "iVBORw0KGgoAAAANSUhEUgAAAEAAAABACAIAAAAlC+"
                            "aJAAAAeklEQVR4nO3PUQkAIBTAwBfHiEY0liH8OITBAtzm7PV1wwUNaEEDWtCAFjSgBQ1o"
                            "QQNa0IAWNKAFDWhBA1rQgBY0oAUNaEEDWtCAFjSgBQ1oQQNa0IAWNKAFDWhBA1rQgBY0oA"
                            "UNaEEDWtCAFjSgBQ1oQQNa0IAWPHYBAOaBS/AeSBkAAAAASUVORK5CYII=";

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct sample {
    double ttft_ms;
    double first_ms, last_ms;
    int tokens;
} sample;

static void report(sample *s, int n)
{
    double *t = malloc((size_t)n * sizeof(double));
    double tok_time = 0;
    long tokens = 0, rate_tokens = 0;
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

/* ---- direct: libhailodm ------------------------------------------------------ */

typedef struct direct_ctx {
    double t0;
    sample *s;
} direct_ctx;

static int on_delta(void *user, const char *delta, size_t len)
{
    direct_ctx *c = user;
    double t = now_ms();
    (void)delta;
    (void)len;
    if (c->s->tokens == 0) {
        c->s->ttft_ms = t - c->t0;
        c->s->first_ms = t;
    }
    c->s->last_ms = t;
    c->s->tokens++;
    return 0;
}

static cJSON *prompt_json(int with_image)
{
    char text[512];
    snprintf(text, sizeof(text),
             "[{\"role\":\"system\",\"content\":[{\"type\":\"text\",\"text\":\"You are a helpful "
             "assistant.\"}]},{\"role\":\"user\",\"content\":[%s{\"type\":\"text\",\"text\":"
             "\"Describe the picture.\"}]}]",
             with_image ? "{\"type\":\"image\"}," : "");
    return cJSON_Parse(text);
}

static int run_direct(const char *sock, const char *hef, int n, int with_image)
{
    hdm_client_options o = {.socket_path = sock, .client_name = "bench-vision"};
    hdm_client *cl = NULL;
    uint8_t *frame = calloc(1, SIDE * SIDE * 3);
    sample *s = calloc((size_t)n, sizeof(*s));
    if (!frame || !s || hdm_client_new(&o, &cl) < 0)
        return 1;
    memset(frame, 0x80, SIDE * SIDE * 3);
    for (int i = -2; i < n; i++) { /* two warm-up runs */
        sample tmp = {0};
        direct_ctx c = {.s = i >= 0 ? &s[i] : &tmp};
        hdm_request *req = hdm_request_new("infer");
        cJSON *j = hdm_request_json(req);
        cJSON_AddStringToObject(j, "model_type", "vlm_chat");
        cJSON_AddStringToObject(j, "model_path", hef);
        cJSON *in = cJSON_AddObjectToObject(j, "input_data");
        cJSON_AddItemToObject(in, "prompt", prompt_json(with_image));
        cJSON *fr = cJSON_AddArrayToObject(in, "frames");
        cJSON_AddNumberToObject(in, "temperature", 0);
        cJSON_AddNumberToObject(in, "seed", 1);
        cJSON_AddNumberToObject(in, "max_generated_tokens", MAX_TOKENS);
        if (with_image) {
            hdm_tensor t = {.dtype = HDM_DT_UINT8,
                            .ndim = 3,
                            .shape = {SIDE, SIDE, 3},
                            .data = frame,
                            .nbytes = SIDE * SIDE * 3};
            hdm_request_add_tensor(req, fr, NULL, &t);
        }
        hdm_response *resp = NULL;
        c.t0 = now_ms();
        int r = hdm_call_stream(cl, req, 60000, on_delta, &c, &resp);
        if (r < 0) {
            fprintf(stderr, "bench-vision: infer failed: %s\n",
                    resp && hdm_response_error(resp) ? hdm_response_error(resp) : hdm_strerror(r));
            return 1;
        }
        hdm_response_free(resp);
        hdm_request_free(req);
    }
    report(s, n);
    hdm_client_free(cl);
    free(frame);
    free(s);
    return 0;
}

/* ---- http: plain sockets -------------------------------------------------------- */

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        perror("bench-vision: connect");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static char *chat_body(int with_image)
{
    size_t cap = sizeof(PNG64) + 1024;
    char *b = malloc(cap);
    char img[sizeof(PNG64) + 128] = "";
    if (with_image)
        snprintf(img, sizeof(img),
                 "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,%s\"}},",
                 PNG64);
    snprintf(b, cap,
             "{\"model\":\"qwen2-vl-2b-instruct\",\"stream\":true,\"temperature\":0,\"seed\":1,"
             "\"max_tokens\":%d,\"messages\":[{\"role\":\"system\",\"content\":\"You are a "
             "helpful assistant.\"},{\"role\":\"user\",\"content\":[%s{\"type\":\"text\","
             "\"text\":\"Describe the picture.\"}]}]}",
             MAX_TOKENS, img);
    return b;
}

/* Counts occurrences of needle in the new bytes (a needle split across reads is
 * found through the kept tail). */
static int http_one(int port, const char *body, sample *s)
{
    static const char needle[] = "\"delta\":{\"content\":";
    char req[512], buf[65536 + sizeof(needle)];
    size_t keep = 0;
    int fd = connect_port(port);
    if (fd < 0)
        return -1;
    int hl = snprintf(req, sizeof(req),
                      "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      strlen(body));
    double t0 = now_ms();
    if (write(fd, req, (size_t)hl) != hl ||
        write(fd, body, strlen(body)) != (ssize_t)strlen(body)) {
        close(fd);
        return -1;
    }
    int done = 0;
    for (;;) {
        ssize_t n = read(fd, buf + keep, sizeof(buf) - keep - 1);
        if (n <= 0)
            break;
        double t = now_ms();
        size_t len = keep + (size_t)n;
        buf[len] = '\0';
        for (char *p = buf; (p = strstr(p, needle)) != NULL; p += sizeof(needle) - 1) {
            if ((size_t)(p - buf) + sizeof(needle) - 1 <= keep)
                continue; /* counted in the previous read */
            if (s->tokens == 0) {
                s->ttft_ms = t - t0;
                s->first_ms = t;
            }
            s->last_ms = t;
            s->tokens++;
        }
        if (strstr(buf, "data: [DONE]"))
            done = 1;
        keep = len < sizeof(needle) ? len : sizeof(needle);
        memmove(buf, buf + len - keep, keep);
    }
    close(fd);
    return done ? 0 : -1;
}

static int run_http(int port, int n, int with_image)
{
    char *body = chat_body(with_image);
    sample *s = calloc((size_t)n, sizeof(*s));
    for (int i = -2; i < n; i++) {
        sample tmp = {0};
        if (http_one(port, body, i >= 0 ? &s[i] : &tmp) < 0) {
            fprintf(stderr, "bench-vision: streamed request failed\n");
            return 1;
        }
    }
    report(s, n);
    free(body);
    free(s);
    return 0;
}

/* ---- load: concurrent streaming clients ----------------------------------------- */

typedef struct load_arg {
    int port;
    double until;
    const char *body;
    atomic_long *ok, *failed;
} load_arg;

static void *load_thread(void *p)
{
    load_arg *a = p;
    while (now_ms() < a->until) {
        sample s = {0};
        if (http_one(a->port, a->body, &s) == 0)
            atomic_fetch_add(a->ok, 1);
        else
            atomic_fetch_add(a->failed, 1);
    }
    return NULL;
}

static int run_load(int port, int clients, double seconds)
{
    char *body = chat_body(1);
    atomic_long ok = 0, failed = 0;
    pthread_t th[256];
    load_arg a = {.port = port,
                  .until = now_ms() + seconds * 1000,
                  .body = body,
                  .ok = &ok,
                  .failed = &failed};
    if (clients > 256)
        clients = 256;
    for (int i = 0; i < clients; i++)
        pthread_create(&th[i], NULL, load_thread, &a);
    for (int i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    printf("requests=%ld failed=%ld\n", (long)ok, (long)failed);
    free(body);
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "direct") == 0)
        return run_direct(argv[2], argv[3], atoi(argv[4]), argc > 5);
    if (argc >= 4 && strcmp(argv[1], "http") == 0)
        return run_http(atoi(argv[2]), atoi(argv[3]), argc > 4);
    if (argc >= 5 && strcmp(argv[1], "load") == 0)
        return run_load(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
    fprintf(stderr, "usage: bench-vision direct SOCKET HEF N [image] | http PORT N [image] | "
                    "load PORT CLIENTS SECONDS\n");
    return 2;
}
