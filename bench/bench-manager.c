/*
 * bench-manager.c - the device manager's load generator.
 *
 *   bench-manager encode  --kind ping|clip-image|clip-text --form json|binary
 *                         --model-path P --out FILE
 *       writes one request frame, as a client would send it, to FILE
 *   bench-manager setup   --socket S --model-path P --image-hef P --text-hef P
 *       loads the CLIP model through libhailodm (the public API)
 *   bench-manager capture --socket S --request FILE --out FILE
 *       sends the request once and saves the answer frame (the echo server
 *       replays it, so the floor moves the same bytes as the manager)
 *   bench-manager run     --socket S --request FILE --clients N --seconds T
 *       N threads, one connection each, send the pre-encoded request and read
 *       the whole answer frame, as fast as they can; prints
 *       "rps=.. p50_us=.. p99_us=.. requests=.. errors=.."; with
 *       --server-pid PID also "server_cpu_us=.. client_cpu_us=..": the CPU
 *       time per request (user + system, every thread, from the scheduler's
 *       per-thread run time) of that process and of this generator within
 *       the measuring window, the figure a busy machine disturbs least
 *   bench-manager ready   --socket S -- PROGRAM ARGS...
 *       execs PROGRAM and measures the time until `ping` on S is answered,
 *       then its resident memory (VmRSS) once idle; stops it with SIGTERM.
 *
 * DESIGN: the generator uses raw sockets and pre-encoded bytes, so the figure
 * measures the server, not a client library; the same generator drives the
 * echo server and the manager in the same run, so the two are comparable.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/buf.h"
#include "common/frame.h"
#include "hailodm.h"

extern char **environ;

static const char *opt_socket, *opt_kind = "ping", *opt_form = "json", *opt_model, *opt_out,
                               *opt_request, *opt_image_hef, *opt_text_hef;
static int opt_clients = 1, opt_server_pid;
static double opt_seconds = 2.0, opt_warmup = 0.3;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "bench-manager: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(1);
}

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        die("cannot write %s", path);
    return 0;
}

static void read_file(const char *path, buf *out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die("cannot read %s", path);
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(out, chunk, n);
    fclose(f);
}

/* ---- encode ------------------------------------------------------------ */

static int cmd_encode(void)
{
    if (opt_out == NULL)
        die("%s", "encode wants --out");
    bool binary = strcmp(opt_form, "binary") == 0;
    cJSON *req = cJSON_CreateObject();
    uint8_t *data = NULL;
    size_t nbytes = 0;
    if (strcmp(opt_kind, "ping") == 0) {
        cJSON_AddStringToObject(req, "action", "ping");
    } else {
        bool image = strcmp(opt_kind, "clip-image") == 0;
        if (!image && strcmp(opt_kind, "clip-text") != 0)
            die("unknown --kind %s", opt_kind);
        if (opt_model == NULL)
            die("%s", "encode of an infer wants --model-path");
        cJSON_AddStringToObject(req, "action", "infer");
        cJSON_AddStringToObject(req, "model_type", "clip");
        cJSON_AddStringToObject(req, "model_path", opt_model);
        cJSON *input = cJSON_AddObjectToObject(req, "input_data");
        cJSON_AddStringToObject(input, "mode", image ? "image" : "text");
        cJSON *t = cJSON_AddObjectToObject(input, "tensor");
        cJSON_AddStringToObject(t, "dtype", image ? "uint8" : "float32");
        int shape_img[] = {1, 224, 224, 3}, shape_txt[] = {1, 77, 512};
        cJSON_AddItemToObject(t, "shape",
                              image ? cJSON_CreateIntArray(shape_img, 4)
                                    : cJSON_CreateIntArray(shape_txt, 3));
        nbytes = image ? 224 * 224 * 3 : 77 * 512 * 4;
        data = malloc(nbytes);
        if (image) {
            for (size_t i = 0; i < nbytes; i++)
                data[i] = (uint8_t)(i * 31 + (i >> 8));
        } else {
            float *f = (float *)data;
            for (size_t i = 0; i < nbytes / 4; i++)
                f[i] = (float)((int)(i % 97) - 48) / 64.0f;
        }
        if (binary) {
            cJSON_AddNumberToObject(t, "attachment", 0);
        } else {
            char *b64 = malloc(base64_encoded_len(nbytes) + 1);
            base64_encode(data, nbytes, b64);
            cJSON_AddStringToObject(t, "data_b64", b64);
            free(b64);
        }
    }
    cJSON_AddStringToObject(req, "request_id", "bench");
    char *json = cJSON_PrintUnformatted(req);
    buf out = {0};
    if (binary) {
        /* Padded with spaces like libhailodm does, so the tensor starts 16-byte aligned. */
        size_t len = strlen(json), pad = data ? (16 - (len + 16) % 16) % 16 : 0;
        char *padded = malloc(len + pad + 1);
        memcpy(padded, json, len);
        memset(padded + len, ' ', pad);
        padded[len + pad] = '\0';
        free(json);
        json = padded;
        frame_attachment att = {data, nbytes};
        frame_encode_binary(&out, json, strlen(json), &att, data ? 1 : 0);
    } else {
        frame_encode_v1(&out, json, strlen(json));
    }
    write_file(opt_out, out.data, out.len);
    buf_free(&out);
    free(json);
    free(data);
    cJSON_Delete(req);
    return 0;
}

/* ---- setup (public API) ------------------------------------------------ */

static int cmd_setup(void)
{
    if (opt_model == NULL || opt_image_hef == NULL || opt_text_hef == NULL)
        die("%s", "setup wants --model-path, --image-hef and --text-hef");
    hdm_client_options o = {.socket_path = opt_socket, .client_name = "bench"};
    hdm_client *c;
    if (hdm_client_new(&o, &c) != 0)
        die("%s", "cannot create a client");
    cJSON *params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "image_hef_path", opt_image_hef);
    cJSON_AddStringToObject(params, "text_hef_path", opt_text_hef);
    cJSON_AddStringToObject(params, "text_input_layer", "text_input");
    cJSON_AddStringToObject(params, "text_output_layer", "text_output");
    hdm_response *resp = NULL;
    int r = hdm_load_model(c, "clip", opt_model, params, -1, &resp);
    if (r != 0)
        die("load_model failed: %s", hdm_response_error(resp));
    hdm_response_free(resp);
    cJSON_Delete(params);
    hdm_client_free(c);
    return 0;
}

/* ---- raw socket round trips -------------------------------------------- */

static int connect_to(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads one whole frame into rx (from its start); returns its length or -1. */
static long recv_frame(int fd, buf *rx)
{
    rx->len = 0;
    for (;;) {
        frame f;
        size_t need = 0;
        int r = frame_parse(rx->data, rx->len, 0, &f, &need, NULL);
        if (r == 1) {
            long len = (long)f.total_len;
            frame_clear(&f);
            return len;
        }
        if (r < 0)
            return -1;
        size_t want = need > rx->len ? need - rx->len : 4096;
        if (buf_reserve(rx, want < 65536 ? 65536 : want) < 0)
            return -1;
        ssize_t n = recv(fd, rx->data + rx->len, rx->cap - rx->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        rx->len += (size_t)n;
    }
}

static int cmd_capture(void)
{
    buf req = {0}, rx = {0};
    read_file(opt_request, &req);
    int fd = connect_to(opt_socket);
    if (fd < 0)
        die("cannot connect to %s", opt_socket);
    if (send_all(fd, req.data, req.len) < 0)
        die("%s", "send failed");
    long n = recv_frame(fd, &rx);
    if (n < 0)
        die("%s", "no answer frame");
    frame f;
    frame_parse(rx.data, (size_t)n, 0, &f, NULL, NULL);
    cJSON *json = cJSON_ParseWithLength(f.json, f.json_len);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(json, "error");
    if (err != NULL)
        die("the manager refused the request: %s", cJSON_IsString(err) ? err->valuestring : "?");
    frame_clear(&f);
    cJSON_Delete(json);
    write_file(opt_out, rx.data, (size_t)n);
    close(fd);
    buf_free(&req);
    buf_free(&rx);
    return 0;
}

typedef struct worker {
    pthread_t tid;
    const buf *req;
    double start, stop; /* measuring window (monotonic seconds) */
    uint32_t *lat_us;
    size_t n_lat, cap_lat;
    long errors;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    buf rx = {0};
    int fd = connect_to(opt_socket);
    if (fd < 0) {
        w->errors++;
        return NULL;
    }
    for (;;) {
        double t0 = now_s();
        if (t0 >= w->stop)
            break;
        if (send_all(fd, w->req->data, w->req->len) < 0 || recv_frame(fd, &rx) < 0) {
            w->errors++;
            break;
        }
        double t1 = now_s();
        if (t0 >= w->start && w->n_lat < w->cap_lat)
            w->lat_us[w->n_lat++] = (uint32_t)((t1 - t0) * 1e6);
    }
    close(fd);
    buf_free(&rx);
    return NULL;
}

/* Run time in ns of every thread of process `pid` now, from
 * /proc/PID/task/TID/schedstat (the server's threads live as long as it
 * does); -1 when it cannot be read. */
static double process_run_ns(int pid)
{
    char dir[64];
    snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    double total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[sizeof(dir) + sizeof(e->d_name) + 16];
        snprintf(path, sizeof(path), "%s/%s/schedstat", dir, e->d_name);
        FILE *f = fopen(path, "r");
        unsigned long long ns = 0;
        if (f != NULL && fscanf(f, "%llu", &ns) == 1)
            total += (double)ns;
        if (f != NULL)
            fclose(f);
    }
    closedir(d);
    return total;
}

/* CPU time in ns of this process, threads that have ended included. */
static double process_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void sleep_until(double t)
{
    double left;
    while ((left = t - now_s()) > 0) {
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmd_run(void)
{
    buf req = {0};
    read_file(opt_request, &req);
    if (opt_clients < 1 || opt_clients > 256)
        die("%s", "--clients wants 1..256");
    worker *ws = calloc((size_t)opt_clients, sizeof(*ws));
    double start = now_s() + opt_warmup, stop = start + opt_seconds;
    for (int i = 0; i < opt_clients; i++) {
        ws[i].req = &req;
        ws[i].start = start;
        ws[i].stop = stop;
        ws[i].cap_lat = 4 * 1024 * 1024;
        ws[i].lat_us = malloc(ws[i].cap_lat * sizeof(uint32_t));
        pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]);
    }
    double server_ns = 0, client_ns = 0;
    if (opt_server_pid > 0) { /* the CPU both sides use inside the window */
        sleep_until(start);
        server_ns = -process_run_ns(opt_server_pid);
        client_ns = -process_cpu_ns();
        sleep_until(stop);
        server_ns += process_run_ns(opt_server_pid);
        client_ns += process_cpu_ns();
    }
    size_t total = 0;
    long errors = 0;
    for (int i = 0; i < opt_clients; i++) {
        pthread_join(ws[i].tid, NULL);
        total += ws[i].n_lat;
        errors += ws[i].errors;
    }
    uint32_t *all = malloc((total ? total : 1) * sizeof(uint32_t));
    size_t at = 0;
    for (int i = 0; i < opt_clients; i++) {
        memcpy(all + at, ws[i].lat_us, ws[i].n_lat * sizeof(uint32_t));
        at += ws[i].n_lat;
        free(ws[i].lat_us);
    }
    qsort(all, total, sizeof(uint32_t), cmp_u32);
    uint32_t p50 = total ? all[total / 2] : 0, p99 = total ? all[total * 99 / 100] : 0;
    printf("rps=%.0f p50_us=%u p99_us=%u requests=%zu errors=%ld", (double)total / opt_seconds, p50,
           p99, total, errors);
    if (opt_server_pid > 0 && total > 0)
        printf(" server_cpu_us=%.2f client_cpu_us=%.2f", server_ns / 1e3 / (double)total,
               client_ns / 1e3 / (double)total);
    printf("\n");
    free(all);
    free(ws);
    buf_free(&req);
    return errors ? 1 : 0;
}

/* ---- ready time and idle memory ----------------------------------------- */

static int ping_once(void)
{
    static const char ping[] = "{\"action\":\"ping\"}";
    int fd = connect_to(opt_socket);
    if (fd < 0)
        return -1;
    buf out = {0}, rx = {0};
    frame_encode_v1(&out, ping, sizeof(ping) - 1);
    int ok = send_all(fd, out.data, out.len) == 0 && recv_frame(fd, &rx) > 0;
    close(fd);
    buf_free(&out);
    buf_free(&rx);
    return ok ? 0 : -1;
}

static long vm_rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kb;
}

static int cmd_ready(char **prog)
{
    unlink(opt_socket);
    double t0 = now_s();
    pid_t pid;
    if (posix_spawn(&pid, prog[0], NULL, NULL, prog, environ) != 0)
        die("cannot start %s", prog[0]);
    double ready = -1;
    while (now_s() - t0 < 10) {
        if (ping_once() == 0) {
            ready = now_s() - t0;
            break;
        }
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    struct timespec idle = {0, 500000000};
    nanosleep(&idle, NULL);
    long rss = vm_rss_kb(pid);
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    if (ready < 0)
        die("%s never answered ping", prog[0]);
    printf("ready_ms=%.2f rss_kb=%ld\n", ready * 1000, rss);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        die("%s", "usage: bench-manager encode|setup|capture|run|ready [options]");
    const char *cmd = argv[1];
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'},
        {"kind", required_argument, NULL, 'k'},
        {"form", required_argument, NULL, 'f'},
        {"model-path", required_argument, NULL, 'm'},
        {"out", required_argument, NULL, 'o'},
        {"request", required_argument, NULL, 'r'},
        {"clients", required_argument, NULL, 'c'},
        {"seconds", required_argument, NULL, 't'},
        {"warmup", required_argument, NULL, 'w'},
        {"image-hef", required_argument, NULL, 'I'},
        {"text-hef", required_argument, NULL, 'T'},
        {"server-pid", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    int c;
    /* Options follow the command word: parse argv[1..] with the command as argv[0]. */
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            opt_socket = optarg;
            break;
        case 'k':
            opt_kind = optarg;
            break;
        case 'f':
            opt_form = optarg;
            break;
        case 'm':
            opt_model = optarg;
            break;
        case 'o':
            opt_out = optarg;
            break;
        case 'r':
            opt_request = optarg;
            break;
        case 'c':
            opt_clients = atoi(optarg);
            break;
        case 't':
            opt_seconds = atof(optarg);
            break;
        case 'w':
            opt_warmup = atof(optarg);
            break;
        case 'I':
            opt_image_hef = optarg;
            break;
        case 'T':
            opt_text_hef = optarg;
            break;
        case 'p':
            opt_server_pid = atoi(optarg);
            break;
        default:
            die("%s", "unknown option");
        }
    }
    if (strcmp(cmd, "encode") == 0)
        return cmd_encode();
    if (opt_socket == NULL)
        die("%s", "--socket is required");
    if (strcmp(cmd, "setup") == 0)
        return cmd_setup();
    if ((strcmp(cmd, "capture") == 0 || strcmp(cmd, "run") == 0) && opt_request == NULL)
        die("%s", "--request is required");
    if (strcmp(cmd, "capture") == 0)
        return cmd_capture();
    if (strcmp(cmd, "run") == 0)
        return cmd_run();
    if (strcmp(cmd, "ready") == 0) {
        if (optind >= argc)
            die("%s", "ready wants -- PROGRAM ARGS...");
        return cmd_ready(argv + optind);
    }
    die("unknown command %s", cmd);
    return 1;
}
