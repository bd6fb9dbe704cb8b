/*
 * test_image_encode.c - PNG (grey8, RGB8, grey16) and JPEG encoders: every
 * pixel survives a round trip through libpng's reader / our decoder, the
 * output is appended after what the buffer held, errors from the row
 * callback and bad arguments leave the buffer as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <png.h>

#include "image/image.h"
#include "image/image_encode.h"

/* ---- a plain libpng reader for checking what we wrote --------------------- */

typedef struct png_in {
    const uint8_t *data;
    size_t len, pos;
} png_in;

static void read_mem(png_structp png, png_bytep out, size_t n)
{
    png_in *in = png_get_io_ptr(png);
    if (n > in->len - in->pos)
        png_error(png, "truncated");
    memcpy(out, in->data + in->pos, n);
    in->pos += n;
}

typedef struct png_pixels {
    int width, height, bit_depth, color_type;
    uint8_t *px; /* rows as stored (16-bit samples big-endian) */
    size_t rowbytes;
} png_pixels;

static png_pixels read_png(const uint8_t *data, size_t len)
{
    png_pixels r = {0};
    png_in in = {data, len, 0};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    assert_int_equal(setjmp(png_jmpbuf(png)), 0);
    png_set_read_fn(png, &in, read_mem);
    png_read_info(png, info);
    r.width = (int)png_get_image_width(png, info);
    r.height = (int)png_get_image_height(png, info);
    r.bit_depth = png_get_bit_depth(png, info);
    r.color_type = png_get_color_type(png, info);
    r.rowbytes = png_get_rowbytes(png, info);
    r.px = malloc(r.rowbytes * (size_t)r.height);
    for (int y = 0; y < r.height; y++)
        png_read_row(png, r.px + (size_t)y * r.rowbytes, NULL);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    return r;
}

/* ---- row sources ------------------------------------------------------------ */

static int grey16_row(void *ctx, int y, void *row, hdm_err *err)
{
    (void)err;
    int w = *(int *)ctx;
    uint16_t *r = row;
    for (int x = 0; x < w; x++)
        r[x] = (uint16_t)(x * 4099 + y * 257 + (x ^ y));
    return 0;
}

static int grey8_row(void *ctx, int y, void *row, hdm_err *err)
{
    (void)err;
    int w = *(int *)ctx;
    uint8_t *r = row;
    for (int x = 0; x < w; x++)
        r[x] = (uint8_t)(x * 7 + y * 13);
    return 0;
}

static int failing_row(void *ctx, int y, void *row, hdm_err *err)
{
    (void)ctx;
    memset(row, 0, 1);
    if (y == 3)
        return hdm_err_set(err, HDM_E_DEVICE_ERROR, "row %d is broken", y);
    return 0;
}

static image make_rgb(int w, int h)
{
    image img = {.width = w, .height = h, .rgb = malloc((size_t)w * (size_t)h * 3)};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img.rgb + ((size_t)y * (size_t)w + (size_t)x) * 3;
            p[0] = (uint8_t)(x * 255 / (w > 1 ? w - 1 : 1));
            p[1] = (uint8_t)(y * 255 / (h > 1 ? h - 1 : 1));
            p[2] = (uint8_t)((x + y) & 1 ? 200 : 30);
        }
    return img;
}

/* ---- tests -------------------------------------------------------------------- */

static void test_png_rgb_round_trip(void **state)
{
    (void)state;
    image img = make_rgb(37, 23);
    static const char prefix[] = "already here";
    for (int level = -1; level <= 9; level += 5) {
        buf out = {0};
        assert_int_equal(buf_append(&out, prefix, sizeof(prefix)), 0);
        assert_int_equal(image_encode_png(&img, level, &out, NULL), 0);
        assert_memory_equal(out.data, prefix, sizeof(prefix));
        png_pixels p = read_png(out.data + sizeof(prefix), out.len - sizeof(prefix));
        assert_int_equal(p.width, 37);
        assert_int_equal(p.height, 23);
        assert_int_equal(p.bit_depth, 8);
        assert_int_equal(p.color_type, PNG_COLOR_TYPE_RGB);
        assert_memory_equal(p.px, img.rgb, (size_t)37 * 23 * 3);
        /* Our own decoder agrees. */
        image back = {0};
        assert_int_equal(image_decode(out.data + sizeof(prefix), out.len - sizeof(prefix), NULL,
                                      0, &back, NULL),
                         0);
        assert_memory_equal(back.rgb, img.rgb, (size_t)37 * 23 * 3);
        image_free(&back);
        free(p.px);
        buf_free(&out);
    }
    image_free(&img);
}

static void test_png_grey16(void **state)
{
    (void)state;
    int w = 19;
    buf out = {0};
    assert_int_equal(
        image_encode_png_rows(w, 11, IMAGE_PNG_GREY16, 1, grey16_row, &w, &out, NULL), 0);
    png_pixels p = read_png(out.data, out.len);
    assert_int_equal(p.bit_depth, 16);
    assert_int_equal(p.color_type, PNG_COLOR_TYPE_GRAY);
    assert_int_equal(p.width, w);
    assert_int_equal(p.height, 11);
    for (int y = 0; y < 11; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *s = p.px + (size_t)y * p.rowbytes + (size_t)x * 2;
            uint16_t v = (uint16_t)(s[0] << 8 | s[1]); /* PNG is big-endian */
            assert_int_equal(v, (uint16_t)(x * 4099 + y * 257 + (x ^ y)));
        }
    free(p.px);
    buf_free(&out);
}

static void test_png_grey8_one_pixel(void **state)
{
    (void)state;
    int w = 1;
    buf out = {0};
    assert_int_equal(image_encode_png_rows(1, 1, IMAGE_PNG_GREY8, 0, grey8_row, &w, &out, NULL),
                     0);
    png_pixels p = read_png(out.data, out.len);
    assert_int_equal(p.width, 1);
    assert_int_equal(p.color_type, PNG_COLOR_TYPE_GRAY);
    assert_int_equal(p.px[0], 0);
    free(p.px);
    buf_free(&out);
}

static void test_png_errors(void **state)
{
    (void)state;
    hdm_err err = {0};
    buf out = {0};
    int w = 8;
    assert_int_equal(buf_append(&out, "xy", 2), 0);
    assert_int_equal(
        image_encode_png_rows(8, 8, IMAGE_PNG_GREY8, 1, failing_row, &w, &out, &err),
        -HDM_E_DEVICE_ERROR);
    assert_string_equal(err.msg, "row 3 is broken");
    assert_int_equal(out.len, 2);
    assert_int_equal(image_encode_png_rows(0, 8, IMAGE_PNG_GREY8, 1, grey8_row, &w, &out, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "0x8"));
    assert_int_equal(image_encode_png_rows(8, 70000, IMAGE_PNG_GREY8, 1, grey8_row, &w, &out,
                                           &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(image_encode_png_rows(8, 8, IMAGE_PNG_GREY8, 10, grey8_row, &w, &out, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "level 10"));
    assert_int_equal(
        image_encode_png_rows(8, 8, (image_png_format)7, 1, grey8_row, &w, &out, &err),
        -HDM_E_BAD_REQUEST);
    assert_int_equal(image_encode_png_rows(8, 8, IMAGE_PNG_GREY8, 1, NULL, &w, &out, &err),
                     -HDM_E_BAD_REQUEST);
    image none = {0};
    assert_int_equal(image_encode_png(&none, 1, &out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(out.len, 2);
    buf_free(&out);
}

static void test_jpeg(void **state)
{
    (void)state;
    /* Large enough that the encoder must grow the buffer several times. */
    image img = make_rgb(640, 480);
    for (size_t i = 0; i < (size_t)640 * 480 * 3; i++)
        img.rgb[i] = (uint8_t)(img.rgb[i] ^ (uint8_t)(i * 2654435761u >> 24)); /* noise */
    buf out = {0};
    assert_int_equal(buf_append(&out, "abc", 3), 0);
    assert_int_equal(image_encode_jpeg(&img, 95, &out, NULL), 0);
    assert_memory_equal(out.data, "abc", 3);
    assert_int_equal(out.data[3], 0xFF);
    assert_int_equal(out.data[4], 0xD8);
    assert_int_equal(out.data[out.len - 2], 0xFF);
    assert_int_equal(out.data[out.len - 1], 0xD9);
    assert_true(out.len > 65536 * 2);
    image back = {0};
    assert_int_equal(image_decode(out.data + 3, out.len - 3, NULL, 0, &back, NULL), 0);
    assert_int_equal(back.width, 640);
    assert_int_equal(back.height, 480);
    buf_free(&out);
    image_free(&back);
    image_free(&img);

    /* A smooth image survives closely. */
    img = make_rgb(64, 48);
    for (size_t i = 2; i < (size_t)64 * 48 * 3; i += 3)
        img.rgb[i] = 128;
    assert_int_equal(image_encode_jpeg(&img, 90, &out, NULL), 0);
    assert_int_equal(image_decode(out.data, out.len, NULL, 0, &back, NULL), 0);
    long worst = 0;
    for (size_t i = 0; i < (size_t)64 * 48 * 3; i++) {
        long d = labs((long)back.rgb[i] - (long)img.rgb[i]);
        worst = d > worst ? d : worst;
    }
    assert_true(worst <= 12);
    buf_free(&out);
    image_free(&back);

    hdm_err err = {0};
    assert_int_equal(image_encode_jpeg(&img, 0, &out, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "quality 0"));
    assert_int_equal(image_encode_jpeg(&img, 101, &out, &err), -HDM_E_BAD_REQUEST);
    image bad = {.width = 0, .height = 5, .rgb = img.rgb};
    assert_int_equal(image_encode_jpeg(&bad, 80, &out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(out.len, 0);
    image_free(&img);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_png_rgb_round_trip),
        cmocka_unit_test(test_png_grey16),
        cmocka_unit_test(test_png_grey8_one_pixel),
        cmocka_unit_test(test_png_errors),
        cmocka_unit_test(test_jpeg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
