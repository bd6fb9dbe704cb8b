/*
 * depth_test_util.c - see depth_test_util.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <png.h>
#include <zlib.h>

#include "depth_test_util.h"

typedef struct mem_in {
    const uint8_t *data;
    size_t len, pos;
} mem_in;

static void read_mem(png_structp png, png_bytep out, size_t n)
{
    mem_in *in = png_get_io_ptr(png);
    if (n > in->len - in->pos)
        png_error(png, "truncated");
    memcpy(out, in->data + in->pos, n);
    in->pos += n;
}

test_png test_png_read(const uint8_t *data, size_t len)
{
    test_png r = {0};
    mem_in in = {data, len, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_int_equal(setjmp(png_jmpbuf(png)), 0);
    png_set_read_fn(png, &in, read_mem);
    png_read_info(png, info);
    r.width = (int)png_get_image_width(png, info);
    r.height = (int)png_get_image_height(png, info);
    r.bit_depth = png_get_bit_depth(png, info);
    r.color_type = png_get_color_type(png, info);
    r.channels = png_get_channels(png, info);
    assert_true(r.bit_depth == 8 || r.bit_depth == 16);
    size_t rowbytes = png_get_rowbytes(png, info);
    uint8_t *row = malloc(rowbytes);
    size_t per_row = (size_t)r.width * (size_t)r.channels;
    r.samples = malloc(per_row * (size_t)r.height * sizeof(uint16_t));
    for (int y = 0; y < r.height; y++) {
        png_read_row(png, row, NULL);
        for (size_t i = 0; i < per_row; i++)
            r.samples[(size_t)y * per_row + i] =
                r.bit_depth == 16 ? (uint16_t)(row[2 * i] << 8 | row[2 * i + 1]) : row[i];
    }
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(row);
    return r;
}

void test_png_free(test_png *p)
{
    free(p->samples);
    p->samples = NULL;
}

static uint32_t le16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
    return le16(p) | le16(p + 2) << 16;
}

uint8_t *test_npz_member(const uint8_t *zip, size_t len, size_t *out_len)
{
    /* End of central directory: no comment, so the last 22 bytes. */
    assert_true(len >= 22 + 30 + 46);
    const uint8_t *eocd = zip + len - 22;
    assert_int_equal(le32(eocd), 0x06054b50);
    assert_int_equal(le16(eocd + 8), 1);
    assert_int_equal(le16(eocd + 10), 1);
    uint32_t cd_size = le32(eocd + 12), cd_off = le32(eocd + 16);
    assert_int_equal((size_t)cd_off + cd_size, len - 22);
    const uint8_t *cd = zip + cd_off;
    assert_int_equal(le32(cd), 0x02014b50);
    uint32_t method = le16(cd + 10), crc = le32(cd + 16);
    uint32_t csize = le32(cd + 20), usize = le32(cd + 24);
    assert_int_equal(le16(cd + 28), 9);
    assert_memory_equal(cd + 46, "depth.npy", 9);
    assert_int_equal(le32(cd + 42), 0);
    assert_int_equal(46 + 9, cd_size);

    const uint8_t *lh = zip;
    assert_int_equal(le32(lh), 0x04034b50);
    assert_int_equal(le16(lh + 8), method);
    assert_int_equal(le32(lh + 14), crc);
    assert_int_equal(le32(lh + 18), csize);
    assert_int_equal(le32(lh + 22), usize);
    size_t data_off = 30 + le16(lh + 26) + le16(lh + 28);
    assert_memory_equal(lh + 30, "depth.npy", 9);
    assert_int_equal(data_off + csize, cd_off);

    uint8_t *out = malloc(usize ? usize : 1);
    if (method == 0) {
        assert_int_equal(csize, usize);
        memcpy(out, zip + data_off, usize);
    } else {
        assert_int_equal(method, 8);
        z_stream zs = {0};
        assert_int_equal(inflateInit2(&zs, -15), Z_OK);
        zs.next_in = (Bytef *)(zip + data_off);
        zs.avail_in = csize;
        zs.next_out = out;
        zs.avail_out = usize;
        assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
        assert_int_equal(zs.total_out, usize);
        assert_int_equal(zs.avail_in, 0);
        inflateEnd(&zs);
    }
    assert_int_equal(crc32(crc32(0L, Z_NULL, 0), out, usize), crc);
    *out_len = usize;
    return out;
}

uint8_t *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(n > 0 ? (size_t)n : 1);
    if (fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return data;
}
