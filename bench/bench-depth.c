/*
 * bench-depth.c - host time and memory of hailo-depth's post-processing on
 * a map already at the image's size (the resize before it is image's):
 * normalise, statistics, .npz, colormapped PNG, 16-bit PNG.
 *
 *   bench-depth [--runs N] [--dump DIR]
 *
 * Maps of 1920x1080 and 4000x3000: a smooth field like scdepthv3's logits
 * plus a little texture.  Each step is timed on its own (median of N
 * runs, wall clock and thread CPU); "both" is what output_format=both
 * costs (normalise + stats + npz + colour PNG), once at numpy's and
 * Pillow's zlib level 6 and once fast (Huffman-only .npz, PNG level 1).  Before the timings, the growth
 * of peak RSS during one "both" is printed next to the size of the output
 * buffer: what the steps allocate besides their results.  --dump writes
 * DIR/depth-<w>x<h>.npy so the Python path can be timed on the same maps.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "depthpost/depthpost.h"

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static float *make_map(int w, int h)
{
    float *m = malloc((size_t)w * h * sizeof(float));
    uint32_t rng = 99;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            rng = rng * 1664525u + 1013904223u;
            double fx = (double)x / w, fy = (double)y / h;
            m[(size_t)y * w + x] = (float)(-3.0 + 1.2 * sin(fx * 9.0) * cos(fy * 7.0) - fy +
                                           0.02 * ((double)(rng >> 8) / 16777216.0));
        }
    return m;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef enum step {
    NORMALIZE,
    STATS,
    NPZ6,
    NPZ_FAST,
    NPZ_STORED,
    PNG6,
    PNG1,
    PNG16,
    BOTH6,
    BOTH_FAST,
    STEPS
} step;
static const char *const step_names[STEPS] = {
    "normalise", "stats", ".npz (zlib 6, as numpy)", ".npz (fast: Huffman only)", ".npz (stored)",
    "colour PNG (zlib 6, as Pillow)", "colour PNG (zlib 1)", "16-bit PNG (zlib 1)",
    "both, numpy's and Pillow's levels", "both, fast (.npz fast, PNG zlib 1)"};

/* Runs one step on a fresh copy of the map (normalising changes it). */
static size_t run_step(step s, float *map, int w, int h, buf *out)
{
    size_t n = (size_t)w * h;
    depthpost_stats st;
    const depthpost_colormap *cm = depthpost_colormap_find("viridis");
    out->len = 0;
    switch (s) {
    case NORMALIZE: depthpost_normalize(map, n); break;
    case STATS: depthpost_stats_compute(map, n, &st, NULL); break;
    case NPZ6: depthpost_npz(map, h, w, 6, out, NULL); break;
    case NPZ_FAST: depthpost_npz(map, h, w, DEPTHPOST_NPZ_FAST, out, NULL); break;
    case NPZ_STORED: depthpost_npz(map, h, w, DEPTHPOST_NPZ_STORED, out, NULL); break;
    case PNG6: depthpost_png_color(map, h, w, cm, 6, out, NULL); break;
    case PNG1: depthpost_png_color(map, h, w, cm, 1, out, NULL); break;
    case PNG16: depthpost_png16(map, h, w, 1, out, NULL); break;
    case BOTH6:
    case BOTH_FAST: {
        int fast = s == BOTH_FAST;
        depthpost_normalize(map, n);
        depthpost_stats_compute(map, n, &st, NULL);
        depthpost_npz(map, h, w, fast ? DEPTHPOST_NPZ_FAST : 6, out, NULL);
        depthpost_png_color(map, h, w, cm, fast ? 1 : 6, out, NULL);
        break;
    }
    default: break;
    }
    return out->len;
}

static void bench_size(int w, int h, int runs, const char *dump_dir)
{
    float *orig = make_map(w, h), *map = malloc((size_t)w * h * sizeof(float));
    size_t bytes = (size_t)w * h * sizeof(float);
    if (dump_dir) {
        char path[1024], header[128];
        snprintf(path, sizeof(path), "%s/depth-%dx%d.npy", dump_dir, w, h);
        int n = snprintf(header, sizeof(header),
                         "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", h, w);
        int pad = (64 - (10 + n + 1) % 64) % 64;
        FILE *f = fopen(path, "wb");
        if (f) {
            uint16_t hl = (uint16_t)(n + pad + 1);
            fwrite("\x93NUMPY\x01\x00", 1, 8, f);
            fputc(hl & 0xff, f);
            fputc(hl >> 8, f);
            fwrite(header, 1, (size_t)n, f);
            for (int k = 0; k < pad; k++)
                fputc(' ', f);
            fputc('\n', f);
            fwrite(orig, 1, bytes, f);
            fclose(f);
        }
    }
    printf("\n%dx%d map (%.1f MB of float32):\n\n", w, h, bytes / 1e6);

    /* Peak memory of one "both" first, while the process peak is the two maps. */
    memcpy(map, orig, bytes);
    long before = peak_rss_kb();
    buf fresh = {0};
    run_step(BOTH_FAST, map, w, h, &fresh);
    long grown = peak_rss_kb() - before;
    printf("Peak RSS growth during one fast \"both\": %.1f MB, of which %.1f MB is the "
           "output buffer (the map existed before).\n\n",
           grown / 1024.0, fresh.cap / 1e6);
    buf_free(&fresh);

    printf("| step | output | median ms | median CPU ms | min ms |\n|---|---:|---:|---:|---:|\n");
    double *wall = malloc((size_t)runs * sizeof(double)), *cpu = malloc((size_t)runs * sizeof(double));
    buf out = {0};
    for (int s = 0; s < STEPS; s++) {
        size_t size = 0;
        for (int r = 0; r < runs; r++) {
            memcpy(map, orig, bytes);
            double w0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
            size = run_step((step)s, map, w, h, &out);
            wall[r] = clock_ms(CLOCK_MONOTONIC) - w0;
            cpu[r] = clock_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
        }
        qsort(wall, (size_t)runs, sizeof(double), cmp_double);
        qsort(cpu, (size_t)runs, sizeof(double), cmp_double);
        char out_text[32] = "-";
        if (size)
            snprintf(out_text, sizeof(out_text), "%.2f MB", size / 1e6);
        printf("| %s | %s | %.1f | %.1f | %.1f |\n", step_names[s], out_text, wall[runs / 2],
               cpu[runs / 2], wall[0]);
    }
    buf_free(&out);
    free(wall);
    free(cpu);
    free(orig);
    free(map);
}

int main(int argc, char **argv)
{
    int runs = 7;
    const char *dump_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc)
            dump_dir = argv[++i];
        else {
            fprintf(stderr, "usage: bench-depth [--runs N] [--dump DIR]\n");
            return 2;
        }
    }
    if (runs < 1)
        runs = 1;
    bench_size(1920, 1080, runs, dump_dir);
    bench_size(4000, 3000, runs < 3 ? runs : 3, dump_dir);
    return 0;
}
