/*
 * bench-ocr.c - hailo-ocr's host-side work for one request on a 1920x1080
 * page of about 150 text lines: everything the service does around the two
 * NPU calls (src/ocrpost on OpenCV), step by step.
 *
 *   bench-ocr [--runs N] [--save-inputs DIR]
 *
 * The page is drawn here (dark glyph blocks in 3 columns of 52 lines on a
 * light background) and JPEG-encoded (quality 90).  The NPU's outputs come
 * from the simulator's networks (src/backends/sim-ocr.c), made once and not
 * timed: the detection map of the letterboxed page and one recognition
 * output per box.  Timed, each the median of N runs on one thread (OpenCV
 * told to stay on it), as wall clock and as process CPU time:
 *   decode     JPEG -> RGB (hdm_image; reported apart: "excluding decode"
 *              is the figure to compare with the Python path, which the
 *              original also times without decoding)
 *   letterbox  ocr_det_prepare: 1920x1080 -> 960x544, INTER_CUBIC, pad 128
 *   post       ocr_det_boxes: map back to 1920x1080 (INTER_CUBIC, float),
 *              DB (threshold, contours, boxes, scores, unclip), reading order
 *   crops      ocr_crop_rec_input for every box: mask, perspective warp,
 *              48x320 letterbox
 *   ctc        ocr_ctc_decode of every recognition output (40 x 97)
 * With --save-inputs DIR it also writes page.jpg, heat.f32 (544x960 float32)
 * and rec.f32 (boxes x 40 x 97 float32) for a side-by-side run of the
 * Python reference (see docs/BENCHMARKS.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jpeglib.h>

#include "backends/sim-ocr.h"
#include "image/imgproc.h"
#include "image/image.h"
#include "ocrpost/crop.h"
#include "ocrpost/ctc.h"
#include "ocrpost/det.h"

#define PAGE_W 1920
#define PAGE_H 1080
#define MODEL_W 960
#define MODEL_H 544

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}
/* CPU time of the process: what the work costs, without the time other
 * processes on a busy machine hold the CPU (OpenCV runs on this thread). */
static double cpu_ms(void)
{
    return clock_ms(CLOCK_PROCESS_CPUTIME_ID);
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

static uint32_t rng_state = 2463534242u;
static int rnd(int lo, int hi) /* [lo, hi] */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return lo + (int)(rng_state % (uint32_t)(hi - lo + 1));
}

/* Three columns of 52 lines of glyphs 13 px high, words of 2-9 glyphs. */
static uint8_t *draw_page(int *lines)
{
    uint8_t *px = malloc((size_t)PAGE_W * PAGE_H * 3);
    if (px == NULL)
        return NULL;
    memset(px, 245, (size_t)PAGE_W * PAGE_H * 3);
    *lines = 0;
    for (int col = 0; col < 3; col++)
        for (int row = 0; row < 52; row++) {
            int x = 40 + col * 630, y = 22 + row * 20, end = x + rnd(250, 590);
            while (x < end) {
                int glyphs = rnd(2, 9);
                for (int g = 0; g < glyphs && x < end; g++) {
                    int gw = rnd(4, 9), top = y + rnd(0, 3), bottom = y + 13 - rnd(0, 3);
                    for (int yy = top; yy < bottom; yy++)
                        for (int xx = x; xx < x + gw; xx++) {
                            uint8_t *p = px + ((size_t)yy * PAGE_W + (size_t)xx) * 3;
                            /* Strokes, not blocks: the middle of wide glyphs stays light. */
                            int inner = gw > 5 && xx > x + 1 && xx < x + gw - 2 && yy > top + 1 &&
                                        yy < bottom - 2;
                            p[0] = p[1] = p[2] = inner ? 245 : 30;
                        }
                    x += gw + rnd(1, 3);
                }
                x += rnd(9, 14);
            }
            (*lines)++;
        }
    return px;
}

static int encode_jpeg(const uint8_t *px, unsigned char **out, unsigned long *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, out, len);
    c.image_width = PAGE_W;
    c.image_height = PAGE_H;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 90, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * PAGE_W * 3);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return 0;
}

static int save(const char *dir, const char *name, const void *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len) {
        fprintf(stderr, "bench-ocr: cannot write %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f);
}

static void die(const char *what, const hdm_err *err)
{
    fprintf(stderr, "bench-ocr: %s: %s\n", what, err->msg);
    exit(1);
}

int main(int argc, char **argv)
{
    int runs = 21, lines;
    const char *save_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--save-inputs") == 0 && i + 1 < argc)
            save_dir = argv[++i];
        else {
            fprintf(stderr, "usage: bench-ocr [--runs N] [--save-inputs DIR]\n");
            return 2;
        }
    }
    if (runs < 1)
        runs = 1;
    imgproc_set_threads(1); /* one thread: comparable with CPU time */
    hdm_err err = {0};
    uint8_t *page = draw_page(&lines);
    unsigned char *jpeg = NULL;
    unsigned long jpeg_len = 0;
    if (page == NULL || encode_jpeg(page, &jpeg, &jpeg_len) < 0)
        return 1;

    /* The inputs as the service has them: the decoded page, the NPU's map
     * and recognition outputs (made once by the simulator). */
    image img;
    image_limits lim;
    image_limits_defaults(&lim);
    if (image_decode(jpeg, jpeg_len, &lim, 0, &img, &err) < 0)
        die("decode", &err);
    uint8_t *det_in = malloc((size_t)MODEL_W * MODEL_H * 3);
    float *heat = malloc((size_t)MODEL_W * MODEL_H * sizeof(float));
    if (det_in == NULL || heat == NULL)
        return 1;
    if (ocr_det_prepare(img.rgb, img.width, img.height, 0, MODEL_W, MODEL_H, det_in, NULL, &err))
        die("letterbox", &err);
    if (sim_ocr_detect(det_in, MODEL_H, MODEL_W, heat) < 0)
        return 1;
    ocr_boxes boxes;
    if (ocr_det_boxes(heat, MODEL_W, MODEL_H, 1, img.width, img.height, NULL, &boxes, &err) < 0)
        die("post-processing", &err);
    size_t n = boxes.count;
    const size_t rec_floats = (size_t)SIM_OCR_STEPS * SIM_OCR_CLASSES;
    uint8_t *rec_in = malloc(n * OCR_REC_INPUT_BYTES + 1);
    float *rec_out = malloc(n * rec_floats * sizeof(float) + 1);
    if (rec_in == NULL || rec_out == NULL)
        return 1;
    size_t chars = 0;
    for (size_t i = 0; i < n; i++) {
        if (ocr_crop_rec_input(img.rgb, img.width, img.height, 0, &boxes.items[i],
                               rec_in + i * OCR_REC_INPUT_BYTES, &err) < 0)
            die("crop", &err);
        sim_ocr_recognize(rec_in + i * OCR_REC_INPUT_BYTES, OCR_REC_HEIGHT, OCR_REC_WIDTH, 1, "en",
                          rec_out + i * rec_floats);
    }
    if (save_dir != NULL &&
        (save(save_dir, "page.jpg", jpeg, jpeg_len) < 0 ||
         save(save_dir, "heat.f32", heat, (size_t)MODEL_W * MODEL_H * sizeof(float)) < 0 ||
         save(save_dir, "rec.f32", rec_out, n * rec_floats * sizeof(float)) < 0))
        return 1;

    double *t_dec = calloc((size_t)runs, sizeof(double)),
           *t_lb = calloc((size_t)runs, sizeof(double));
    double *t_post = calloc((size_t)runs, sizeof(double)),
           *t_crop = calloc((size_t)runs, sizeof(double));
    double *t_ctc = calloc((size_t)runs, sizeof(double)),
           *t_all = calloc((size_t)runs, sizeof(double));
    double *c_dec = calloc((size_t)runs, sizeof(double)),
           *c_lb = calloc((size_t)runs, sizeof(double));
    double *c_post = calloc((size_t)runs, sizeof(double)),
           *c_crop = calloc((size_t)runs, sizeof(double));
    double *c_ctc = calloc((size_t)runs, sizeof(double)),
           *c_all = calloc((size_t)runs, sizeof(double));
    for (int r = 0; r < runs; r++) {
        image dec;
        ocr_boxes b;
        double c0 = cpu_ms(), t0 = now_ms();
        if (image_decode(jpeg, jpeg_len, &lim, 0, &dec, &err) < 0)
            die("decode", &err);
        double t1 = now_ms(), c1 = cpu_ms();
        if (ocr_det_prepare(dec.rgb, dec.width, dec.height, 0, MODEL_W, MODEL_H, det_in, NULL,
                            &err))
            die("letterbox", &err);
        double t2 = now_ms(), c2 = cpu_ms();
        if (ocr_det_boxes(heat, MODEL_W, MODEL_H, 1, dec.width, dec.height, NULL, &b, &err) < 0)
            die("post-processing", &err);
        double t3 = now_ms(), c3 = cpu_ms();
        for (size_t i = 0; i < b.count; i++)
            if (ocr_crop_rec_input(dec.rgb, dec.width, dec.height, 0, &b.items[i],
                                   rec_in + i * OCR_REC_INPUT_BYTES, &err) < 0)
                die("crop", &err);
        double t4 = now_ms(), c4 = cpu_ms();
        chars = 0;
        for (size_t i = 0; i < b.count; i++) {
            char text[OCR_CTC_STEPS + 1];
            double conf;
            if (ocr_ctc_decode(rec_out + i * rec_floats, SIM_OCR_STEPS, SIM_OCR_CLASSES, text,
                               sizeof(text), &conf, &err) < 0)
                die("ctc", &err);
            chars += strlen(text);
        }
        double t5 = now_ms(), c5 = cpu_ms();
        if (b.count != n) {
            fprintf(stderr, "bench-ocr: %zu boxes, then %zu\n", n, b.count);
            return 1;
        }
        ocr_boxes_free(&b);
        image_free(&dec);
        t_dec[r] = t1 - t0, t_lb[r] = t2 - t1, t_post[r] = t3 - t2, t_crop[r] = t4 - t3;
        t_ctc[r] = t5 - t4, t_all[r] = t5 - t1;
        c_dec[r] = c1 - c0, c_lb[r] = c2 - c1, c_post[r] = c3 - c2, c_crop[r] = c4 - c3;
        c_ctc[r] = c5 - c4, c_all[r] = c5 - c1;
    }
    double dec_ms = median(t_dec, runs), all_ms = median(t_all, runs);
    double dec_cpu = median(c_dec, runs), all_cpu = median(c_all, runs);
    printf("Page: %dx%d JPEG (%lu bytes), %d lines drawn, %zu boxes found, %zu characters read; "
           "median of %d runs, one thread (OpenCV too): wall clock and process CPU time.\n\n",
           PAGE_W, PAGE_H, jpeg_len, lines, n, chars, runs);
    printf("| step | wall ms | CPU ms |\n|---|---:|---:|\n");
    printf("| JPEG decode (not in the total) | %.2f | %.2f |\n", dec_ms, dec_cpu);
    printf("| letterbox to 960x544 (INTER_CUBIC, pad 128) | %.2f | %.2f |\n", median(t_lb, runs),
           median(c_lb, runs));
    printf("| post-processing: map to 1920x1080, DB, unclip, reading order | %.2f | %.2f |\n",
           median(t_post, runs), median(c_post, runs));
    printf("| %zu crops: mask, perspective warp, 48x320 letterbox | %.2f | %.2f |\n", n,
           median(t_crop, runs), median(c_crop, runs));
    printf("| %zu CTC decodes (40x97) | %.2f | %.2f |\n", n, median(t_ctc, runs),
           median(c_ctc, runs));
    printf("| **total, excluding decode** | **%.2f** | **%.2f** |\n", all_ms, all_cpu);
    printf("| total, including decode | %.2f | %.2f |\n", all_ms + dec_ms, all_cpu + dec_cpu);
    free(c_dec), free(c_lb), free(c_post), free(c_crop), free(c_ctc), free(c_all);
    free(t_dec), free(t_lb), free(t_post), free(t_crop), free(t_ctc), free(t_all);
    free(rec_in), free(rec_out), free(det_in), free(heat), free(page), free(jpeg);
    ocr_boxes_free(&boxes);
    image_free(&img);
    return 0;
}
