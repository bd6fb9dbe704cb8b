/*
 * bench-cubic.c - the C cubic resize (imgproc_cubic.c) against OpenCV 4.6's
 * cv::resize(INTER_CUBIC) on the shapes the services resize, one thread.
 *
 *   bench-cubic [--runs N]
 *
 * Rows: hailo-ocr's page letterbox (1920x1080 RGB -> 960x540 in 960x544),
 * its probability map back to the page (float 960x540 -> 1920x1080), its
 * text crops to the recogniser's 48x320 (147 crops of a 1080p page, the
 * count bench-ocr finds; sizes spread like its lines), a phone photo
 * letterboxed for OCR (4032x3024 -> 960x720), and hailo-pose's letterbox
 * (1920x1080 -> 640x360 in 640x640).  Each is run N times both ways
 * (OpenCV limited to one thread, as the services call it); medians of this
 * thread's CPU time are printed as a Markdown table, with a check that both
 * gave the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image/imgproc.h"
#include "image/imgproc_cubic.h"

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return v[n / 2];
}

static uint32_t rng = 2463534242u;

static uint8_t *photo(int w, int h)
{
    uint8_t *px = malloc((size_t)w * (size_t)h * 3);
    if (px == NULL)
        return NULL;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                rng ^= rng << 13;
                rng ^= rng >> 17;
                rng ^= rng << 5;
                int v = (x * 255 / w + y * 255 / h + c * 40) / 2 + (int)(rng % 24) - 12;
                px[((size_t)y * (size_t)w + (size_t)x) * 3 + (size_t)c] = (uint8_t)(v < 0     ? 0
                                                                                    : v > 255 ? 255
                                                                                              : v);
            }
    return px;
}

/* One way of doing a job: own (1) or OpenCV (0). */
typedef int (*job_fn)(int own, void *ctx, hdm_err *err);

typedef struct letterbox_job {
    const uint8_t *src;
    int src_w, src_h;
    int dst_w, dst_h;
    uint8_t *out;
} letterbox_job;

/* OpenCV's letterbox as imgproc.cpp did it: fill, resize into the ROI. */
static int letterbox_run(int own, void *vctx, hdm_err *err)
{
    letterbox_job *j = vctx;
    imgproc_letterbox g;
    int rc = imgproc_letterbox_geometry(j->src_w, j->src_h, j->dst_w, j->dst_h, &g, err);
    if (rc < 0)
        return rc;
    if (own)
        return imgproc_letterbox_u8(j->src, j->src_w, j->src_h, 0, 3, &g, 128, j->out, j->dst_w,
                                    j->dst_h, err);
    size_t row = (size_t)j->dst_w * 3;
    memset(j->out, 128, row * (size_t)j->dst_h);
    return imgproc_cv_resize_cubic_u8(j->src, j->src_w, j->src_h, 0, 3,
                                      j->out + (size_t)g.y_off * row + (size_t)g.x_off * 3, g.new_w,
                                      g.new_h, row, err);
}

typedef struct crops_job {
    const uint8_t *page; /* 1920x1080 */
    int n;
    int (*box)[4]; /* x, y, w, h */
    uint8_t *out;  /* n x 48 x 320 x 3 */
} crops_job;

static int crops_run(int own, void *vctx, hdm_err *err)
{
    crops_job *j = vctx;
    for (int i = 0; i < j->n; i++) {
        const int *b = j->box[i];
        letterbox_job one = {.src = NULL,
                             .src_w = b[2],
                             .src_h = b[3],
                             .dst_w = 320,
                             .dst_h = 48,
                             .out = j->out + (size_t)i * 48 * 320 * 3};
        imgproc_letterbox g;
        int rc = imgproc_letterbox_geometry(b[2], b[3], 320, 48, &g, err);
        if (rc < 0)
            return rc;
        const uint8_t *src = j->page + ((size_t)b[1] * 1920 + (size_t)b[0]) * 3;
        if (own) {
            rc = imgproc_letterbox_u8(src, b[2], b[3], 1920 * 3, 3, &g, 128, one.out, 320, 48, err);
        } else {
            memset(one.out, 128, 48 * 320 * 3);
            rc = imgproc_cv_resize_cubic_u8(src, b[2], b[3], 1920 * 3, 3,
                                            one.out + ((size_t)g.y_off * 320 + (size_t)g.x_off) * 3,
                                            g.new_w, g.new_h, 320 * 3, err);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

typedef struct map_job {
    const float *src;
    float *out;
} map_job;

static int map_run(int own, void *vctx, hdm_err *err)
{
    map_job *j = vctx;
    if (own)
        return imgproc_resize_cubic_f32(j->src, 960, 540, 0, j->out, 1920, 1080, 0, err);
    return imgproc_cv_resize_cubic_f32(j->src, 960, 540, 0, j->out, 1920, 1080, 0, err);
}

/* Runs a job `runs` times each way, checks both give out_len equal bytes,
 * prints a table row. */
static int bench_row(const char *name, job_fn fn, void *ctx, uint8_t *out, size_t out_len, int runs)
{
    double *t[2];
    uint8_t *first = malloc(out_len);
    t[0] = malloc(sizeof(double) * (size_t)runs);
    t[1] = malloc(sizeof(double) * (size_t)runs);
    if (first == NULL || t[0] == NULL || t[1] == NULL) {
        fprintf(stderr, "bench-cubic: out of memory\n");
        return -1;
    }
    hdm_err err = {0};
    for (int r = 0; r < runs; r++)
        for (int own = 0; own < 2; own++) {
            double t0 = cpu_ms();
            if (fn(own, ctx, &err) < 0) {
                fprintf(stderr, "bench-cubic: %s: %s\n", name, err.msg);
                return -1;
            }
            t[own][r] = cpu_ms() - t0;
            if (r == 0 && own == 0)
                memcpy(first, out, out_len);
            if (r == 0 && own == 1 && memcmp(first, out, out_len) != 0) {
                fprintf(stderr, "bench-cubic: %s: the C resize differs from OpenCV's\n", name);
                return -1;
            }
        }
    double cv = median(t[0], runs), mine = median(t[1], runs);
    printf("| %s | %.2f | %.2f | %.1fx |\n", name, cv, mine, cv / mine);
    free(first);
    free(t[0]);
    free(t[1]);
    return 0;
}

int main(int argc, char **argv)
{
    int runs = 21;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: bench-cubic [--runs N]\n");
            return 2;
        }
    }
    if (runs < 1)
        runs = 1;
    imgproc_set_threads(1);
    uint8_t *page = photo(1920, 1080), *phone = photo(4032, 3024);
    float *map = malloc(960 * 540 * sizeof(float)), *map_out = malloc(1920 * 1080 * sizeof(float));
    uint8_t *canvas = malloc(960 * 720 * 3), *pose = malloc(640 * 640 * 3);
    enum { CROPS = 147 };
    int(*boxes)[4] = malloc(sizeof(int[4]) * CROPS);
    uint8_t *crop_out = malloc((size_t)CROPS * 48 * 320 * 3);
    if (!page || !phone || !map || !map_out || !canvas || !pose || !boxes || !crop_out) {
        fprintf(stderr, "bench-cubic: out of memory\n");
        return 1;
    }
    for (int i = 0; i < 960 * 540; i++) {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        map[i] = (float)(rng % 1000) / 1000.0f;
    }
    /* Text lines of a page: heights 18..45 px, widths 40..900 px. */
    for (int i = 0; i < CROPS; i++) {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        int h = 18 + (int)(rng % 28), w = 40 + (int)((rng >> 8) % 861);
        boxes[i][0] = (int)((rng >> 4) % (uint32_t)(1920 - w));
        boxes[i][1] = (int)((rng >> 12) % (uint32_t)(1080 - h));
        boxes[i][2] = w;
        boxes[i][3] = h;
    }
    printf("| Resize (one thread) | OpenCV ms | C ms | speed-up |\n|---|---:|---:|---:|\n");
    letterbox_job ocr = {page, 1920, 1080, 960, 544, canvas};
    letterbox_job ocr_phone = {phone, 4032, 3024, 960, 720, canvas};
    letterbox_job pose_lb = {page, 1920, 1080, 640, 640, pose};
    map_job m = {map, map_out};
    crops_job c = {page, CROPS, boxes, crop_out};
    int rc = 0;
    rc |= bench_row("OCR letterbox 1920x1080 -> 960x540 (RGB)", letterbox_run, &ocr, canvas,
                    960 * 544 * 3, runs);
    rc |= bench_row("OCR map 960x540 -> 1920x1080 (float)", map_run, &m, (uint8_t *)map_out,
                    1920 * 1080 * sizeof(float), runs);
    rc |= bench_row("OCR 147 crops -> 48x320 (RGB)", crops_run, &c, crop_out,
                    (size_t)CROPS * 48 * 320 * 3, runs);
    rc |= bench_row("OCR letterbox 4032x3024 -> 960x720 (RGB)", letterbox_run, &ocr_phone, canvas,
                    960 * 720 * 3, runs);
    rc |= bench_row("pose letterbox 1920x1080 -> 640x360 (RGB)", letterbox_run, &pose_lb, pose,
                    640 * 640 * 3, runs);
    free(page);
    free(phone);
    free(map);
    free(map_out);
    free(canvas);
    free(pose);
    free(boxes);
    free(crop_out);
    return rc ? 1 : 0;
}
