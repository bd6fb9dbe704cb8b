/*
 * test_image_bounds.c - hostile but valid images (issue 20) against the
 * decoders' bounds: a progressive JPEG of many empty scans (the scan
 * limit), decodes stopped by their CPU budget (JPEG progress monitor, PNG
 * row callback, WebP incremental slices), and tiny files that expand to
 * tens of megapixels (refused from the header by a service's pixel limit).
 * The bombs are built here; tests/integration/hostile_images.py builds the
 * same ones for the HTTP tests and the benchmark.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "image/image.h"
#include "testutil.h"

/* ---- a progressive JPEG of empty scans ----------------------------------- */

typedef struct bits {
    buf *out;
    unsigned acc, n;
} bits;

static void bits_byte(bits *b, unsigned v)
{
    uint8_t c = (uint8_t)v;
    buf_append(b->out, &c, 1);
    if (c == 0xFF)
        buf_append(b->out, "", 1); /* stuffed zero */
}

static void bits_put(bits *b, unsigned value, int nbits)
{
    for (int i = nbits - 1; i >= 0; i--) {
        b->acc = (b->acc << 1) | ((value >> i) & 1);
        if (++b->n == 8) {
            bits_byte(b, b->acc);
            b->acc = b->n = 0;
        }
    }
}

static void bits_flush(bits *b)
{
    if (b->n)
        bits_byte(b, (b->acc << (8 - b->n)) | ((1u << (8 - b->n)) - 1));
    b->acc = b->n = 0;
}

static void segment(buf *out, uint8_t marker, const uint8_t *payload, size_t n)
{
    uint8_t head[4] = {0xFF, marker, (uint8_t)((n + 2) >> 8), (uint8_t)(n + 2)};
    buf_append(out, head, 4);
    buf_append(out, payload, n);
}

/* Greyscale w x h: a DC scan, then `scans` AC scans of end-of-band runs
 * only.  Valid (Pillow decodes it); every scan walks every block. */
static blob scan_bomb(int w, int h, int scans)
{
    buf out = {0};
    unsigned blocks = (unsigned)((w + 7) / 8) * (unsigned)((h + 7) / 8);
    buf_append(&out, "\xFF\xD8", 2);
    uint8_t dqt[65] = {0};
    memset(dqt + 1, 1, 64);
    segment(&out, 0xDB, dqt, sizeof(dqt));
    uint8_t sof[9] = {8, (uint8_t)(h >> 8), (uint8_t)h, (uint8_t)(w >> 8), (uint8_t)w, 1, 1,
                      0x11, 0};
    segment(&out, 0xC2, sof, sizeof(sof));
    uint8_t dht[18] = {0x00, 1};
    segment(&out, 0xC4, dht, sizeof(dht)); /* DC: one 1-bit code, "difference 0" */
    dht[0] = 0x10;
    dht[17] = 0xE0;
    segment(&out, 0xC4, dht, sizeof(dht)); /* AC: one 1-bit code, EOBRUN + 14 bits */
    const uint8_t dc_sos[6] = {1, 1, 0x00, 0, 0, 0};
    segment(&out, 0xDA, dc_sos, sizeof(dc_sos));
    bits b = {&out, 0, 0};
    for (unsigned i = 0; i < blocks; i++)
        bits_put(&b, 0, 1);
    bits_flush(&b);
    for (int s = 0; s < scans; s++) {
        uint8_t band = (uint8_t)(1 + s % 63);
        const uint8_t sos[6] = {1, 1, 0x00, band, band, 0};
        segment(&out, 0xDA, sos, sizeof(sos));
        for (long left = blocks; left > 0;) {
            long run = left < 32767 ? left : 32767;
            if (run < 16384)
                run = 16384; /* the last run may pass the end: the scan just ends */
            bits_put(&b, 0, 1);
            bits_put(&b, (unsigned)(run - 16384), 14);
            left -= run;
        }
        bits_flush(&b);
    }
    buf_append(&out, "\xFF\xD9", 2);
    return (blob){out.data, out.len};
}

/* VP8L bits, least significant first. */
typedef struct lsb_bits {
    uint8_t *d;
    int n;
} lsb_bits;

static void lsb_put(lsb_bits *b, unsigned value, int count)
{
    for (int i = 0; i < count; i++, b->n++)
        if ((value >> i) & 1)
            b->d[b->n / 8] |= (uint8_t)(1u << (b->n % 8));
}

/* A lossless WebP of one colour (200, 30, 90) in 32 bytes: no transform,
 * no colour cache, five prefix codes of one symbol each (green, red, blue,
 * alpha; distance), so every pixel takes zero bits. */
static size_t webp_bomb(int w, int h, uint8_t out[64])
{
    memset(out, 0, 64);
    lsb_bits b = {out + 20, 0};
    lsb_put(&b, 0x2F, 8);
    lsb_put(&b, (unsigned)w - 1, 14);
    lsb_put(&b, (unsigned)h - 1, 14);
    lsb_put(&b, 0, 4); /* no alpha, version 0 */
    lsb_put(&b, 0, 3); /* no transform, colour cache or meta codes */
    const unsigned sym[4] = {30, 200, 90, 255};
    for (int i = 0; i < 4; i++) {
        lsb_put(&b, 1, 1); /* simple code */
        lsb_put(&b, 0, 1); /* one symbol */
        lsb_put(&b, 1, 1); /* of 8 bits */
        lsb_put(&b, sym[i], 8);
    }
    lsb_put(&b, 1, 1);
    lsb_put(&b, 0, 2);
    lsb_put(&b, 0, 1); /* distance: the 1-bit symbol 0 */
    size_t len = (size_t)(b.n + 7) / 8;
    len += len & 1;
    memcpy(out, "RIFF", 4);
    memcpy(out + 8, "WEBPVP8L", 8);
    for (int i = 0; i < 4; i++) {
        out[4 + i] = (uint8_t)((12 + len) >> (8 * i));
        out[16 + i] = (uint8_t)(len >> (8 * i));
    }
    return 20 + len;
}

static void test_scan_limit(void **state)
{
    (void)state;
    blob bomb = scan_bomb(256, 128, 200);
    image img = {0};
    hdm_err err = {0};
    image_limits lim;
    image_limits_defaults(&lim);
    assert_int_equal(lim.max_scans, 64);
    assert_int_equal(image_decode(bomb.data, bomb.len, NULL, 0, &img, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "more than 64 progressive scans"));
    assert_null(img.rgb);
    /* The same file is valid: with room for its 201 scans it decodes, to the
     * mid-grey of all-zero coefficients. */
    lim.max_scans = 201;
    assert_int_equal(image_decode(bomb.data, bomb.len, &lim, 0, &img, &err), 0);
    assert_int_equal(img.width, 256);
    assert_int_equal(img.height, 128);
    for (size_t i = 0; i < (size_t)256 * 128 * 3; i++)
        assert_int_equal(img.rgb[i], 128);
    image_free(&img);
    lim.max_scans = 200;
    assert_int_equal(image_decode(bomb.data, bomb.len, &lim, 0, &img, &err), -HDM_E_BAD_REQUEST);
    free(bomb.data);
}

/* An ordinary progressive JPEG (libjpeg's script: 10 scans) is untouched
 * by the default limit, and refused by a limit below its scan count. */
static void test_scan_limit_ordinary_progressive(void **state)
{
    (void)state;
    int w = 96, h = 64;
    uint8_t *px = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++)
        px[i] = (uint8_t)(i * 7 % 251);
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
    jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = px + (size_t)c.next_scanline * w * 3;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    image img = {0};
    hdm_err err = {0};
    assert_int_equal(image_decode(mem, memlen, NULL, 0, &img, &err), 0);
    image_free(&img);
    image_limits lim;
    image_limits_defaults(&lim);
    lim.max_scans = 9;
    assert_int_equal(image_decode(mem, memlen, &lim, 0, &img, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "more than 9 progressive scans"));
    free(mem);
    free(px);
}

/* The CPU budget stops each decoder mid-way with a 413-class error. */
static void test_cpu_budget(void **state)
{
    (void)state;
    image_limits lim;
    image_limits_defaults(&lim);
    assert_int_equal(lim.max_cpu_ms, 5000);
    lim.max_cpu_ms = 1;
    lim.max_scans = 1000;
    image img = {0};
    hdm_err err = {0};

    /* JPEG: 2048x2048 with 60 empty scans is ~4 million block visits. */
    blob bomb = scan_bomb(2048, 2048, 60);
    assert_int_equal(image_decode(bomb.data, bomb.len, &lim, 0, &img, &err), -HDM_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "image (JPEG) needs more than the limit of 1 ms of CPU"));
    assert_null(img.rgb);
    free(bomb.data);

    /* PNG: a 3000x3000 RGB gradient, 27 MB of rows to inflate and unfilter. */
    int w = 3000, h = 3000;
    uint8_t *px = malloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h * 3; i++)
        px[i] = (uint8_t)(i % 253);
    blob png = encode_png(w, h, 8, PNG_COLOR_TYPE_RGB, px, (size_t)w * 3);
    assert_int_equal(image_decode(png.data, png.len, &lim, 0, &img, &err), -HDM_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "image (PNG) needs more than"));
    free(png.data);

    /* WebP: lossless, fed in slices; the budget is checked between them. */
    blob webp = encode_webp(1500, 1500, px, 0, 1);
    assert_true(webp.len > 16 * 256);
    assert_int_equal(image_decode(webp.data, webp.len, &lim, 0, &img, &err), -HDM_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "image (WebP) needs more than"));
    /* With the default budget the same file decodes whole, slice by slice. */
    assert_int_equal(image_decode(webp.data, webp.len, NULL, 0, &img, &err), 0);
    assert_memory_equal(img.rgb, px, (size_t)1500 * 3); /* lossless: the first row exactly */
    image_free(&img);
    /* Cut short, the incremental decoder reports truncation. */
    assert_int_equal(image_decode(webp.data, webp.len - 100, NULL, 0, &img, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "truncated"));
    free(webp.data);
    free(px);
}

/* A few KB that expand to 49 Mpixel: refused from the header when a
 * service's limit is lower, before any pixel memory exists. */
static void test_pixel_bombs(void **state)
{
    (void)state;
    int w = 7000, h = 7000;
    size_t rowbytes = (size_t)(w + 7) / 8;
    uint8_t *rows = calloc(rowbytes * (size_t)h, 1);
    blob png = encode_png(w, h, 1, PNG_COLOR_TYPE_GRAY, rows, rowbytes);
    free(rows);
    assert_true(png.len < 64 * 1024);
    image_limits lim;
    image_limits_defaults(&lim);
    lim.max_pixels = 24000000;
    image img = {0};
    hdm_err err = {0};
    assert_int_equal(image_decode(png.data, png.len, &lim, 224, &img, &err), -HDM_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "7000x7000 has 49000000 pixels, above the limit of 24000000"));
    free(png.data);

    uint8_t webp[64];
    size_t n = webp_bomb(w, h, webp);
    assert_int_equal(n, 32);
    assert_int_equal(image_decode(webp, n, &lim, 224, &img, &err), -HDM_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "49000000 pixels"));
    /* Under the limit it is a valid picture of one colour. */
    n = webp_bomb(300, 200, webp);
    assert_int_equal(image_decode(webp, n, &lim, 0, &img, &err), 0);
    assert_int_equal(img.width, 300);
    for (size_t i = 0; i < (size_t)300 * 200; i++)
        assert_memory_equal(img.rgb + 3 * i, "\xC8\x1E\x5A", 3);
    image_free(&img);

    blob jpeg = scan_bomb(7000, 7000, 1);
    assert_int_equal(image_decode(jpeg.data, jpeg.len, &lim, 224, &img, &err), -HDM_E_TOO_LARGE);
    free(jpeg.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_limit),
        cmocka_unit_test(test_scan_limit_ordinary_progressive),
        cmocka_unit_test(test_cpu_budget),
        cmocka_unit_test(test_pixel_bombs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
