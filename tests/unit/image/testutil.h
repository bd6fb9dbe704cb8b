/*
 * testutil.h - helpers the image tests share: a byte blob, reading a file
 * of tests/data (HDM_TEST_DATA) into one, and encoders (libjpeg, libpng,
 * libwebp) for inputs made at run time.  Include after cmocka.h.
 */
#ifndef HDM_TEST_IMAGE_TESTUTIL_H
#define HDM_TEST_IMAGE_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <webp/encode.h>

#include "common/buf.h"

typedef struct blob {
    uint8_t *data;
    size_t len;
} blob;

/* tests/data/<rel> read whole; fails the test when missing. */
static inline blob read_test_file(const char *rel)
{
    const char *dir = getenv("HDM_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : "tests/data", rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s (set HDM_TEST_DATA)", path);
    buf b = {0};
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        buf_append(&b, tmp, n);
    fclose(f);
    return (blob){b.data, b.len};
}

/* tests/data/images/<name>. */
static inline blob read_data_file(const char *name)
{
    char rel[512];
    snprintf(rel, sizeof(rel), "images/%s", name);
    return read_test_file(rel);
}

/* ---- encoders for test inputs ------------------------------------------ */

/* components: 1 grey, 3 RGB, 4 CMYK.  jpeg_cs picks the stored colour
 * space (JCS_YCbCr, JCS_GRAYSCALE, JCS_CMYK, JCS_YCCK); adobe=0 suppresses
 * the Adobe marker. */
static inline blob encode_jpeg(int w, int h, int components, J_COLOR_SPACE in_cs,
                               J_COLOR_SPACE jpeg_cs, int adobe, const uint8_t *px,
                               int quality)
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
    c.input_components = components;
    c.in_color_space = in_cs;
    jpeg_set_defaults(&c);
    jpeg_set_colorspace(&c, jpeg_cs);
    if (!adobe)
        c.write_Adobe_marker = FALSE;
    jpeg_set_quality(&c, quality, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * w * components);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    blob b = {malloc(memlen), memlen};
    memcpy(b.data, mem, memlen);
    free(mem);
    return b;
}

static inline uint8_t *solid(int w, int h, int comps, const uint8_t *value)
{
    uint8_t *p = malloc((size_t)w * h * comps);
    for (size_t i = 0; i < (size_t)w * h; i++)
        memcpy(p + i * comps, value, (size_t)comps);
    return p;
}

static inline void png_write_to_buf(png_structp png, png_bytep data, size_t n)
{
    buf_append(png_get_io_ptr(png), data, n);
}
static inline void png_flush_noop(png_structp png) { (void)png; }

static inline blob encode_png(int w, int h, int bit_depth, int color_type, const uint8_t *px,
                       size_t rowbytes)
{
    buf out = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_int_equal(setjmp(png_jmpbuf(png)), 0);
    png_set_write_fn(png, &out, png_write_to_buf, png_flush_noop);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, bit_depth, color_type,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, px + (size_t)y * rowbytes);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return (blob){out.data, out.len};
}

static inline blob encode_webp(int w, int h, const uint8_t *px, int alpha, int lossless)
{
    uint8_t *mem = NULL;
    size_t n;
    if (alpha)
        n = lossless ? WebPEncodeLosslessRGBA(px, w, h, w * 4, &mem)
                     : WebPEncodeRGBA(px, w, h, w * 4, 90, &mem);
    else
        n = lossless ? WebPEncodeLosslessRGB(px, w, h, w * 3, &mem)
                     : WebPEncodeRGB(px, w, h, w * 3, 90, &mem);
    assert_true(n > 0);
    blob b = {malloc(n), n};
    memcpy(b.data, mem, n);
    WebPFree(mem);
    return b;
}

#endif
