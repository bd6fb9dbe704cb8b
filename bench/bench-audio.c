/*
 * bench-audio.c - the C audio path of hailo-whisper, timed: an encoded file
 * held in memory (as the service holds an upload) decoded and resampled to
 * 16 kHz mono float32 and cut into 30-s windows with the original's silence
 * trimming, the windows going nowhere.
 *
 *   bench-audio [--runs N] [--one-thread] [--max-seconds S] FILE
 *       prints "wall_ms=<median> cpu_ms=<median> samples=<n> windows=<n>"
 *   bench-audio --rss [--max-seconds S] FILE
 *       one decode in this fresh process, then "peak_rss_kb=<ru_maxrss>"
 *       (program, libraries, the encoded file and every buffer included)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "audio/audio.h"
#include "audio/audio_window.h"

static double now_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int on_window(void *ctx, const float *s, size_t n, uint64_t offset, hdm_err *err)
{
    (void)s;
    (void)n;
    (void)offset;
    (void)err;
    ++*(unsigned *)ctx;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *d = malloc(n > 0 ? (size_t)n : 1);
    if (!d || fread(d, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "bench-audio: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    *len = (size_t)n;
    return d;
}

/* One decode into windows; returns the samples decoded. */
static uint64_t run_once(const unsigned char *data, size_t len, const char *name,
                         const audio_limits *lim, unsigned *windows)
{
    audio_windower *w;
    audio_info info;
    hdm_err err = {0};
    *windows = 0;
    if (audio_windower_new(NULL, on_window, windows, &w, &err) != 0 ||
        audio_decode(data, len, name, lim, audio_windower_push, w, &info, &err) != 0 ||
        audio_windower_finish(w, &err) != 0) {
        fprintf(stderr, "bench-audio: %s: %s\n", name, err.msg);
        exit(1);
    }
    audio_windower_free(w);
    return info.samples;
}

int main(int argc, char **argv)
{
    int runs = 5, rss = 0;
    const char *file = NULL;
    audio_limits lim;
    audio_limits_defaults(&lim);
    lim.max_seconds = 4 * 3600;
    lim.max_bytes = 1u << 30;
    lim.max_cpu_ms = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--one-thread") == 0)
            lim.decode_thread = false;
        else if (strcmp(argv[i], "--max-seconds") == 0 && i + 1 < argc)
            lim.max_seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--rss") == 0)
            rss = 1;
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else {
            fprintf(stderr, "usage: bench-audio [--runs N] [--one-thread] [--rss] "
                            "[--max-seconds S] FILE\n");
            return 2;
        }
    }
    if (!file || runs < 1) {
        fprintf(stderr, "usage: bench-audio [--runs N] [--one-thread] [--rss] FILE\n");
        return 2;
    }
    size_t len;
    unsigned char *data = read_all(file, &len);
    unsigned windows;
    if (rss) {
        uint64_t samples = run_once(data, len, file, &lim, &windows);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("peak_rss_kb=%ld samples=%llu windows=%u encoded_bytes=%zu\n", ru.ru_maxrss,
               (unsigned long long)samples, windows, len);
        free(data);
        return 0;
    }
    double *wall = calloc((size_t)runs, sizeof(double)),
           *cpu = calloc((size_t)runs, sizeof(double));
    uint64_t samples = 0;
    for (int r = 0; r < runs; r++) {
        double w0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
        samples = run_once(data, len, file, &lim, &windows);
        wall[r] = now_ms(CLOCK_MONOTONIC) - w0;
        cpu[r] = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    qsort(wall, (size_t)runs, sizeof(double), cmp_double);
    qsort(cpu, (size_t)runs, sizeof(double), cmp_double);
    printf("wall_ms=%.1f cpu_ms=%.1f samples=%llu windows=%u\n", wall[runs / 2], cpu[runs / 2],
           (unsigned long long)samples, windows);
    free(wall);
    free(cpu);
    free(data);
    return 0;
}
