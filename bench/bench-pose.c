/*
 * bench-pose.c - host time of YOLOv8s-pose post-processing: finding the 9
 * outputs, decoding the 8400 proposals, top-k, NMS and mapping the people
 * back to a 1920x1080 image, as hailo-pose does for every request.
 *
 *   bench-pose [--runs N] [--dump DIR]
 *
 * The outputs are synthetic but shaped like the real network's: background
 * scores of 0.0001 .. 0.004 (a sigmoid head), DFL and keypoint logits drawn
 * from a fixed generator, and 6 people, each claimed by 9 neighbouring
 * anchors at lower scores, as a detector does.  Two parameter sets: GM's
 * defaults (confidence 0.5, IoU 0.45, max 10) and a permissive one
 * (confidence 0.001, max 300: a few thousand candidates, NMS-bound).
 * --dump writes the nine tensors as DIR/<level>_<head>.npy (float32,
 * (1, H, W, C)), so the Python path can be timed on the same data.
 * Medians of wall-clock and thread CPU time, minimum and 90th percentile.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "posepost/posepost.h"

static const int strides[3] = {32, 16, 8};
static const int channels[3] = {64, 1, 51};
static const char *const head_names[3] = {"box", "cls", "kpt"};

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint32_t rng_state = 12345;
static float uniform(float lo, float hi)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(rng_state >> 8) / 16777216.0f;
}

static float *cell_at(hdm_tensor *t, int lv, int hd, int gy, int gx)
{
    int g = 640 / strides[lv];
    return (float *)t[lv * 3 + hd].data + ((size_t)gy * g + gx) * channels[hd];
}

/* A person at (lv, gy, gx) with half-size (hw, hh) pixels and score. */
static void person(hdm_tensor *t, int lv, int gy, int gx, float hw, float hh, float score)
{
    int s = strides[lv];
    float *box = cell_at(t, lv, 0, gy, gx);
    float half[4] = {hw, hh, hw, hh};
    for (int side = 0; side < 4; side++)
        for (int i = 0; i < 16; i++) {
            float d = (float)i - half[side] / (float)s;
            box[side * 16 + i] = -d * d;
        }
    *cell_at(t, lv, 1, gy, gx) = score;
    float *kp = cell_at(t, lv, 2, gy, gx);
    for (int k = 0; k < 17; k++) {
        kp[k * 3] = uniform(-0.5f, 1.5f);
        kp[k * 3 + 1] = uniform(-1.0f, 2.0f);
        kp[k * 3 + 2] = uniform(-2.0f, 6.0f);
    }
}

static void build(hdm_tensor *t)
{
    for (int i = 0; i < 9; i++) {
        int g = 640 / strides[i / 3], c = channels[i % 3];
        size_t n = (size_t)g * g * c;
        float *v = malloc(n * sizeof(float));
        for (size_t k = 0; k < n; k++)
            v[k] = i % 3 == 1 ? uniform(0.0001f, 0.004f) : uniform(-4.0f, 4.0f);
        t[i] = (hdm_tensor){.dtype = HDM_DT_FLOAT32, .ndim = 4, .shape = {1, g, g, c}, .data = v,
                            .nbytes = n * sizeof(float)};
    }
    static const struct {
        int lv, gy, gx;
        float hw, hh, score;
    } people[6] = {{1, 12, 8, 60, 170, 0.93f}, {1, 20, 30, 55, 160, 0.88f},
                   {2, 40, 60, 25, 70, 0.81f},  {0, 9, 12, 120, 280, 0.9f},
                   {2, 60, 20, 30, 90, 0.66f},  {1, 30, 18, 70, 140, 0.72f}};
    for (int p = 0; p < 6; p++)
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                float drop = (dy || dx) ? uniform(0.05f, 0.35f) : 0.0f;
                person(t, people[p].lv, people[p].gy + dy, people[p].gx + dx, people[p].hw,
                       people[p].hh, people[p].score - drop);
            }
}

static int dump(const hdm_tensor *t, const char *dir)
{
    for (int i = 0; i < 9; i++) {
        char path[1024], header[128];
        snprintf(path, sizeof(path), "%s/%d_%s.npy", dir, strides[i / 3], head_names[i % 3]);
        int n = snprintf(header, sizeof(header),
                         "{'descr': '<f4', 'fortran_order': False, 'shape': (1, %lld, %lld, %lld), }",
                         (long long)t[i].shape[1], (long long)t[i].shape[2],
                         (long long)t[i].shape[3]);
        int total = 10 + n + 1;
        int pad = (64 - total % 64) % 64;
        FILE *f = fopen(path, "wb");
        if (f == NULL) {
            perror(path);
            return -1;
        }
        uint16_t hlen = (uint16_t)(n + pad + 1);
        fwrite("\x93NUMPY\x01\x00", 1, 8, f);
        fputc(hlen & 0xff, f);
        fputc(hlen >> 8, f);
        fwrite(header, 1, (size_t)n, f);
        for (int k = 0; k < pad; k++)
            fputc(' ', f);
        fputc('\n', f);
        fwrite(t[i].data, 1, t[i].nbytes, f);
        fclose(f);
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void run(const hdm_tensor *t, const char *label, posepost_params p, int runs)
{
    double *wall = malloc((size_t)runs * sizeof(double)), *cpu = malloc((size_t)runs * sizeof(double));
    size_t people = 0;
    posepost_letterbox lb;
    posepost_letterbox_init(&lb, 1920, 1080, 640, 640, NULL);
    for (int r = 0; r < runs; r++) {
        double w0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
        posepost_heads h;
        posepost_result res;
        hdm_err err = {0};
        if (posepost_heads_find(t, 9, 640, 640, &h, &err) < 0 ||
            posepost_decode(&h, &p, &res, &err) < 0) {
            fprintf(stderr, "bench-pose: %s\n", err.msg);
            exit(1);
        }
        posepost_pose pose;
        for (size_t i = 0; i < res.count; i++)
            posepost_map(&lb, &res.people[i], &pose);
        people = res.count;
        posepost_result_free(&res);
        wall[r] = clock_ms(CLOCK_MONOTONIC) - w0;
        cpu[r] = clock_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
    }
    qsort(wall, (size_t)runs, sizeof(double), cmp_double);
    qsort(cpu, (size_t)runs, sizeof(double), cmp_double);
    printf("| %s | %zu | %.1f | %.1f | %.1f | %.1f |\n", label, people, wall[runs / 2] * 1e3,
           cpu[runs / 2] * 1e3, wall[0] * 1e3, wall[(runs * 9) / 10] * 1e3);
    free(wall);
    free(cpu);
}

int main(int argc, char **argv)
{
    int runs = 201;
    const char *dump_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc)
            dump_dir = argv[++i];
        else {
            fprintf(stderr, "usage: bench-pose [--runs N] [--dump DIR]\n");
            return 2;
        }
    }
    if (runs < 1)
        runs = 1;
    hdm_tensor t[9];
    build(t);
    if (dump_dir && dump(t, dump_dir) < 0)
        return 1;
    printf("| parameters | people | median µs | median CPU µs | min µs | p90 µs |\n");
    printf("|---|---:|---:|---:|---:|---:|\n");
    run(t, "confidence 0.5, IoU 0.45, max 10 (GM defaults)", (posepost_params){0.5, 0.45, 10},
        runs);
    run(t, "confidence 0.001, IoU 0.45, max 300", (posepost_params){0.001, 0.45, 300}, runs);
    for (int i = 0; i < 9; i++)
        free(t[i].data);
    return 0;
}
