/*
 * bench-ocr-service.c - hailo-ocr's host-side time per request, measured
 * on the service's own code (src/ocr/host.c): decode, letterbox, boxes,
 * crops, CTC, with its kept workspace and OpenCV on the threads it is
 * given, around the two NPU calls (whose outputs are read from files, not
 * timed).
 *
 *   bench-ocr-service --inputs DIR [--runs N] [--threads T] [--json]
 *
 * DIR is what `bench-ocr --save-inputs DIR` wrote: page.jpg (the 1920x1080
 * page of ~150 lines), heat.f32 (the simulator's 544x960 detection map)
 * and rec.f32 (one 40x97 recognition output per box), so the C and the
 * Python side (docs/BENCHMARKS.md) run on the same bytes.  --threads is
 * what performance.opencv_threads sets (0: all cores, the service's
 * default; 1: the caller's thread only).  Prints a Markdown table of the
 * median wall-clock and process CPU time per step (CPU sums every thread);
 * --json prints one JSON object instead, with the step names of
 * bench/bench-ocr-orig.py (the original's path on the same inputs), which
 * bench/bench-ocr-service.sh runs alternately with this.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image/imgproc.h"
#include "ocr/ocr.h"
#include "ocrpost/crop.h"

#define MODEL_W 960
#define MODEL_H 544
#define STEPS 40
#define CLASSES 97
#define BATCH 8

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void *slurp(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench-ocr-service: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(n > 0 ? (size_t)n : 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "bench-ocr-service: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void die(const char *what, const hdm_err *err)
{
    fprintf(stderr, "bench-ocr-service: %s: %s\n", what, err->msg);
    exit(1);
}

enum { DECODE, LETTERBOX, BOXES, CROPS, CTC, N_STEPS };
static const char *const step_names[N_STEPS] = {
    "decode (JPEG, EXIF orientation)",
    "letterbox to 960x544 (INTER_CUBIC, pad 128)",
    "boxes: map to 1920x1080, DB, unclip, reading order",
    "crops: mask, warp, 48x320 letterbox",
    "CTC decodes (40x97)",
};

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int runs = 21, threads = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--inputs") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else
            dir = NULL, i = argc;
    }
    if (!dir) {
        fprintf(stderr,
                "usage: bench-ocr-service --inputs DIR [--runs N] [--threads T] [--json]\n");
        return 2;
    }
    if (runs < 1)
        runs = 1;
    imgproc_set_threads(threads);
    size_t jpeg_len, heat_len, rec_len;
    uint8_t *jpeg = slurp(dir, "page.jpg", &jpeg_len);
    float *heat = slurp(dir, "heat.f32", &heat_len);
    float *rec = slurp(dir, "rec.f32", &rec_len);
    const size_t rec_floats = (size_t)STEPS * CLASSES;
    if (heat_len != (size_t)MODEL_W * MODEL_H * sizeof(float) || rec_len % (rec_floats * 4)) {
        fprintf(stderr, "bench-ocr-service: %s holds no bench-ocr inputs\n", dir);
        return 1;
    }
    size_t n_rec = rec_len / (rec_floats * sizeof(float));

    ocr_config cfg;
    hdm_err err = {0};
    if (ocr_config_defaults(&cfg) < 0)
        return 1;
    ocr_workspace_pool pool;
    ocr_workspace_pool_init(&pool, (size_t)40 << 20);
    size_t per_fill = ocr_host_fill_count(BATCH);
    double *wall[N_STEPS], *cpu[N_STEPS], *wall_all = calloc((size_t)runs, sizeof(double)),
                                          *cpu_all = calloc((size_t)runs, sizeof(double)),
                                          *wall_nodec = calloc((size_t)runs, sizeof(double)),
                                          *cpu_nodec = calloc((size_t)runs, sizeof(double));
    for (int s = 0; s < N_STEPS; s++) {
        wall[s] = calloc((size_t)runs, sizeof(double));
        cpu[s] = calloc((size_t)runs, sizeof(double));
    }
    size_t boxes_found = 0, chars = 0;
    /* One untimed request first: the workspace and OpenCV's threads exist
     * in a running service. */
    for (int r = -1; r < runs; r++) {
        double t[N_STEPS + 1], c[N_STEPS + 1];
        image img = {0};
        ocr_boxes boxes = {0};
        ocr_workspace *ws = ocr_workspace_get(&pool);
        t[0] = clock_ms(CLOCK_MONOTONIC), c[0] = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        if (ocr_host_decode(&cfg, jpeg, jpeg_len, &img, &err) < 0)
            die("decode", &err);
        t[1] = clock_ms(CLOCK_MONOTONIC), c[1] = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        if (ocr_host_letterbox(ws, &img, MODEL_W, MODEL_H, &err) < 0)
            die("letterbox", &err);
        t[2] = clock_ms(CLOCK_MONOTONIC), c[2] = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        if (ocr_host_map(ws, heat, MODEL_W, MODEL_H, 1, img.width, img.height, &err) < 0 ||
            ocr_host_boxes(ws, img.width, img.height, &boxes, &err) < 0)
            die("boxes", &err);
        t[3] = clock_ms(CLOCK_MONOTONIC), c[3] = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        if (ocr_workspace_reserve((void **)&ws->bytes, &ws->bytes_cap, per_fill,
                                  OCR_REC_INPUT_BYTES, "recognition inputs", &err) < 0)
            die("crops", &err);
        for (size_t start = 0; start < boxes.count; start += per_fill) {
            size_t run = boxes.count - start < per_fill ? boxes.count - start : per_fill;
            if (ocr_host_crops(&img, boxes.items + start, run, ws->bytes, start, &err) < 0)
                die("crops", &err);
        }
        t[4] = clock_ms(CLOCK_MONOTONIC), c[4] = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        chars = 0;
        for (size_t i = 0; i < boxes.count && i < n_rec; i++) {
            char text[OCR_TEXT_MAX + 1];
            double conf;
            if (ocr_host_text(rec + i * rec_floats, STEPS, CLASSES, text, &conf, &err) < 0)
                die("ctc", &err);
            chars += strlen(text);
        }
        t[5] = clock_ms(CLOCK_MONOTONIC), c[5] = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
        boxes_found = boxes.count;
        ocr_boxes_free(&boxes);
        ocr_workspace_put(&pool, ws);
        image_free(&img);
        if (r < 0)
            continue;
        for (int s = 0; s < N_STEPS; s++) {
            wall[s][r] = t[s + 1] - t[s];
            cpu[s][r] = c[s + 1] - c[s];
        }
        wall_all[r] = t[N_STEPS] - t[0];
        cpu_all[r] = c[N_STEPS] - c[0];
        wall_nodec[r] = t[N_STEPS] - t[DECODE + 1];
        cpu_nodec[r] = c[N_STEPS] - c[DECODE + 1];
    }
    if (boxes_found != n_rec)
        fprintf(stderr, "bench-ocr-service: %zu boxes but %zu recognition outputs\n", boxes_found,
                n_rec);
    double all_w = median(wall_all, runs), all_c = median(cpu_all, runs);
    double nodec_w = median(wall_nodec, runs), nodec_c = median(cpu_nodec, runs);
    if (json) {
        static const char *const keys[N_STEPS] = {"decode", "letterbox", "boxes", "crops", "ctc"};
        printf("{\"info\": {\"boxes\": %zu, \"chars\": %zu, \"runs\": %d, \"threads\": %d}, "
               "\"steps\": {",
               boxes_found, chars, runs, threads);
        for (int s = 0; s < N_STEPS; s++)
            printf("\"%s\": [%.4f, %.4f], ", keys[s], median(wall[s], runs), median(cpu[s], runs));
        printf("\"total\": [%.4f, %.4f], \"nodecode\": [%.4f, %.4f]}}\n", all_w, all_c, nodec_w,
               nodec_c);
    } else {
        printf("%zu boxes, %zu characters; OpenCV threads: %s; median of %d runs, wall clock and "
               "process CPU time (all threads).\n\n",
               boxes_found, chars, threads == 1 ? "1 (the caller's)" : "all cores", runs);
        printf("| step | wall ms | CPU ms |\n|---|---:|---:|\n");
        for (int s = 0; s < N_STEPS; s++)
            printf("| %s | %.2f | %.2f |\n", step_names[s], median(wall[s], runs),
                   median(cpu[s], runs));
        printf("| **total** | **%.2f** | **%.2f** |\n", all_w, all_c);
        printf("| total without decoding | %.2f | %.2f |\n", nodec_w, nodec_c);
    }
    for (int s = 0; s < N_STEPS; s++) {
        free(wall[s]);
        free(cpu[s]);
    }
    free(wall_all);
    free(cpu_all);
    free(wall_nodec);
    free(cpu_nodec);
    ocr_workspace_pool_free(&pool);
    ocr_config_free(&cfg);
    free(jpeg);
    free(heat);
    free(rec);
    return 0;
}
