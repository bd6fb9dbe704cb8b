/*
 * bench-image.c - image preprocessing time: decode + resize to the CLIP
 * input (224x224 RGB, the whole frame squashed with Pillow's bicubic), as
 * hailo-clip does for every request.
 *
 *   bench-image [--runs N] [--side S] [--save-inputs DIR]
 *
 * Inputs are encoded here from synthetic pixels (smooth gradients plus
 * texture and noise, so the entropy coder has real work) with libjpeg
 * (quality 90, 4:2:0) and libpng (default compression): 640x480, 1920x1080
 * and 4000x3000 JPEGs and a 1920x1080 PNG.  Each is decoded and resized
 * N times; medians (wall clock, and this thread's CPU time, which a busy
 * machine disturbs less), the minimum and the 90th percentile are printed as
 * a Markdown table.  JPEGs are decoded at reduced scale while the shorter
 * side stays >= 2 x 224 (clip.fast_jpeg_decode, the default); the last
 * column is the total with full-size decoding (fast_jpeg_decode false,
 * bit-identical to Pillow).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jpeglib.h>
#include <png.h>

#include "common/buf.h"
#include "image/image.h"

typedef struct blob {
    uint8_t *data;
    size_t len;
} blob;

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
/* CPU time of this thread: what the work costs, without the time other
 * processes on a busy machine hold the CPU. */
static double cpu_ms(void) { return clock_ms(CLOCK_THREAD_CPUTIME_ID); }

/* Gradients + a few sine textures + xorshift noise of +-noise/2: photo-like
 * statistics (the noise sets how much the entropy coder has to do). */
static uint8_t *synthetic(int w, int h, int noise_amp)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    if (px == NULL)
        return NULL;
    uint32_t rng = 2463534242u;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            double fx = (double)x / w, fy = (double)y / h;
            double tex = 30.0 * sin(x * 0.07) * cos(y * 0.05) + 20.0 * sin((x + y) * 0.013);
            int noise = (int)(rng % (uint32_t)(noise_amp + 1)) - noise_amp / 2;
            int r = (int)(200 * fx + tex) + noise;
            int g = (int)(180 * fy - tex * 0.5) + 40 + noise;
            int b = (int)(120 * (1 - fx * fy) + tex * 0.3) + 60 + noise;
            uint8_t *p = px + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
            p[1] = (uint8_t)(g < 0 ? 0 : g > 255 ? 255 : g);
            p[2] = (uint8_t)(b < 0 ? 0 : b > 255 ? 255 : b);
        }
    }
    return px;
}

static blob encode_jpeg(const uint8_t *px, int w, int h, int quality)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    unsigned char *mem = NULL;
    unsigned long memlen = 0;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &mem, &memlen);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * w * 3);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return (blob){mem, memlen};
}

static void png_write_to_buf(png_structp png, png_bytep data, size_t n)
{
    buf_append(png_get_io_ptr(png), data, n);
}
static void png_flush_noop(png_structp png) { (void)png; }

static blob encode_png(const uint8_t *px, int w, int h)
{
    buf out = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png)) != 0) {
        fprintf(stderr, "bench-image: PNG encoding failed\n");
        exit(1);
    }
    png_set_write_fn(png, &out, png_write_to_buf, png_flush_noop);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, px + (size_t)y * w * 3);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return (blob){out.data, out.len};
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct stats {
    double min, median, p90;
} stats;

static stats summarise(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    stats s = {v[0], v[n / 2], v[(n * 9) / 10 < n ? (n * 9) / 10 : n - 1]};
    if (n % 2 == 0)
        s.median = (v[n / 2 - 1] + v[n / 2]) / 2;
    return s;
}

typedef struct result {
    stats decode, resize, total, cpu, total_full;
    int dw, dh;
} result;

/* min_side 0 = full-size decode. */
static int run(const blob *in, int side, int runs, int min_side, double *dec, double *rsz,
               double *tot, double *cpu, int *dw, int *dh)
{
    uint8_t *out = malloc((size_t)side * side * 3);
    if (out == NULL)
        return -1;
    for (int i = 0; i < runs; i++) {
        image img = {0};
        hdm_err err = {0};
        double c0 = cpu_ms();
        double t0 = now_ms();
        if (image_decode(in->data, in->len, NULL, min_side, &img, &err) != 0) {
            fprintf(stderr, "bench-image: decode failed: %s\n", err.msg);
            free(out);
            return -1;
        }
        double t1 = now_ms();
        if (image_resize(&img, side, side, IMAGE_FILTER_BICUBIC, out, &err) != 0) {
            fprintf(stderr, "bench-image: resize failed: %s\n", err.msg);
            image_free(&img);
            free(out);
            return -1;
        }
        double t2 = now_ms();
        cpu[i] = cpu_ms() - c0;
        dec[i] = t1 - t0;
        rsz[i] = t2 - t1;
        tot[i] = t2 - t0;
        *dw = img.width;
        *dh = img.height;
        image_free(&img);
    }
    free(out);
    return 0;
}

int main(int argc, char **argv)
{
    int runs = 31, side = 224;
    const char *save_dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--side") == 0 && i + 1 < argc)
            side = atoi(argv[++i]);
        else if (strcmp(argv[i], "--save-inputs") == 0 && i + 1 < argc)
            save_dir = argv[++i];
        else {
            fprintf(stderr, "usage: bench-image [--runs N] [--side S] [--save-inputs DIR]\n");
            return 2;
        }
    }
    if (runs < 1 || side < 1 || side > 4096) {
        fprintf(stderr, "bench-image: --runs must be >= 1 and --side 1..4096\n");
        return 2;
    }
    /* Decode time follows the compressed size (every coefficient must be
     * Huffman-decoded even at 1/8 scale), so one 1080p JPEG is made noisier
     * and at higher quality to show the upper end. */
    struct {
        const char *label;
        int w, h, png, noise, quality;
    } inputs[] = {
        {"JPEG 640x480 q90", 640, 480, 0, 8, 90},
        {"JPEG 1920x1080 q90", 1920, 1080, 0, 8, 90},
        {"JPEG 1920x1080 q95, heavy noise", 1920, 1080, 0, 16, 95},
        {"JPEG 4000x3000 q90", 4000, 3000, 0, 8, 90},
        {"PNG 1920x1080", 1920, 1080, 1, 8, 0},
    };
    double *dec = malloc(sizeof(double) * (size_t)runs);
    double *rsz = malloc(sizeof(double) * (size_t)runs);
    double *tot = malloc(sizeof(double) * (size_t)runs);
    double *cpu = malloc(sizeof(double) * (size_t)runs);
    if (dec == NULL || rsz == NULL || tot == NULL || cpu == NULL)
        return 1;

    printf("| input | encoded | decoded at | decode ms | resize ms | total ms | "
           "total CPU ms | total ms min / p90 | total with full-size decode ms |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t k = 0; k < sizeof(inputs) / sizeof(inputs[0]); k++) {
        uint8_t *px = synthetic(inputs[k].w, inputs[k].h, inputs[k].noise);
        if (px == NULL)
            return 1;
        blob in = inputs[k].png ? encode_png(px, inputs[k].w, inputs[k].h)
                                : encode_jpeg(px, inputs[k].w, inputs[k].h, inputs[k].quality);
        free(px);
        if (save_dir != NULL) {
            /* The inputs as files, to compare with other decoders. */
            char path[1024];
            snprintf(path, sizeof(path), "%s/bench-%zu-%dx%d.%s", save_dir, k, inputs[k].w,
                     inputs[k].h, inputs[k].png ? "png" : "jpg");
            FILE *f = fopen(path, "wb");
            if (f == NULL || fwrite(in.data, 1, in.len, f) != in.len) {
                fprintf(stderr, "bench-image: cannot write %s\n", path);
                return 1;
            }
            fclose(f);
        }
        result r;
        /* One untimed pass warms caches and the allocator. */
        if (run(&in, side, 1, 2 * side, dec, rsz, tot, cpu, &r.dw, &r.dh) != 0)
            return 1;
        if (run(&in, side, runs, 2 * side, dec, rsz, tot, cpu, &r.dw, &r.dh) != 0)
            return 1;
        r.decode = summarise(dec, runs);
        r.resize = summarise(rsz, runs);
        r.total = summarise(tot, runs);
        r.cpu = summarise(cpu, runs);
        char full[32] = "same";
        if (!inputs[k].png) {
            int fw, fh;
            int full_runs = runs < 11 ? runs : 11;
            if (run(&in, side, full_runs, 0, dec, rsz, tot, cpu, &fw, &fh) != 0)
                return 1;
            r.total_full = summarise(tot, full_runs);
            snprintf(full, sizeof(full), "%.2f", r.total_full.median);
        }
        printf("| %s | %zu KiB | %dx%d | %.2f | %.2f | **%.2f** | %.2f | %.2f / %.2f | %s |\n",
               inputs[k].label, in.len / 1024, r.dw, r.dh, r.decode.median, r.resize.median,
               r.total.median, r.cpu.median, r.total.min, r.total.p90, full);
        fflush(stdout);
        free(in.data);
    }
    free(dec);
    free(rsz);
    free(tot);
    free(cpu);
    return 0;
}
