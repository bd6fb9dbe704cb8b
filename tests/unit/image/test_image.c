/*
 * test_image.c - decoding of every format and colour type, broken and
 * hostile inputs, base64/data URIs, and resize + centre-crop correctness.
 *
 * JPEG and WebP inputs are encoded here with libjpeg and libwebp from known
 * pixels; PNG files come from tests/data/images (make-images.py) and from
 * libpng at run time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jpeglib.h>
#include <png.h>
#include <webp/encode.h>

#include "common/base64.h"
#include "common/buf.h"
#include "image/image.h"
#include "testutil.h"

static void assert_all_near(const image *img, int r, int g, int b, int tol)
{
    for (size_t i = 0; i < (size_t)img->width * img->height; i++) {
        const uint8_t *p = img->rgb + 3 * i;
        if (abs(p[0] - r) > tol || abs(p[1] - g) > tol || abs(p[2] - b) > tol)
            fail_msg("pixel %zu is (%d,%d,%d), expected (%d,%d,%d) +-%d", i, p[0], p[1], p[2], r,
                     g, b, tol);
    }
}

static void expect_error(const uint8_t *data, size_t len, int code, const char *needle)
{
    image img = {0};
    hdm_err err = {0};
    int rc = image_decode(data, len, NULL, 0, &img, &err);
    if (rc != -code || strstr(err.msg, needle) == NULL)
        fail_msg("expected error %d containing \"%s\", got %d \"%s\"", code, needle, rc, err.msg);
    assert_null(img.rgb);
}

/* ---- JPEG ---------------------------------------------------------------- */

static void test_jpeg_rgb(void **state)
{
    (void)state;
    const uint8_t colour[3] = {200, 100, 50};
    uint8_t *px = solid(64, 48, 3, colour);
    blob b = encode_jpeg(64, 48, 3, JCS_RGB, JCS_YCbCr, 1, px, 95);
    image img = {0};
    hdm_err err = {0};
    assert_int_equal(image_decode(b.data, b.len, NULL, 0, &img, &err), 0);
    assert_int_equal(img.width, 64);
    assert_int_equal(img.height, 48);
    assert_all_near(&img, 200, 100, 50, 4);
    image_free(&img);
    image_free(&img); /* idempotent */
    free(px);
    free(b.data);
}

static void test_jpeg_grey(void **state)
{
    (void)state;
    const uint8_t v = 128;
    uint8_t *px = solid(32, 32, 1, &v);
    blob b = encode_jpeg(32, 32, 1, JCS_GRAYSCALE, JCS_GRAYSCALE, 1, px, 95);
    image img = {0};
    assert_int_equal(image_decode(b.data, b.len, NULL, 0, &img, NULL), 0);
    assert_all_near(&img, 128, 128, 128, 2);
    image_free(&img);
    free(px);
    free(b.data);
}

static void test_jpeg_cmyk(void **state)
{
    (void)state;
    /* Red is C=0 M=255 Y=255 K=0.  Adobe files store the values inverted. */
    const uint8_t inverted[4] = {255, 0, 0, 255};
    const uint8_t plain[4] = {0, 255, 255, 0};
    struct {
        const uint8_t *px;
        J_COLOR_SPACE cs;
        int adobe;
    } cases[] = {
        {inverted, JCS_CMYK, 1},
        {inverted, JCS_YCCK, 1},
        {plain, JCS_CMYK, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t *px = solid(24, 16, 4, cases[i].px);
        blob b = encode_jpeg(24, 16, 4, JCS_CMYK, cases[i].cs, cases[i].adobe, px, 98);
        image img = {0};
        hdm_err err = {0};
        assert_int_equal(image_decode(b.data, b.len, NULL, 0, &img, &err), 0);
        assert_all_near(&img, 255, 0, 0, 6);
        image_free(&img);
        free(px);
        free(b.data);
    }
    /* 50% grey through K only: C=M=Y=0, K=128 -> 127 */
    const uint8_t k_only[4] = {255, 255, 255, 127}; /* inverted */
    uint8_t *px = solid(16, 16, 4, k_only);
    blob b = encode_jpeg(16, 16, 4, JCS_CMYK, JCS_CMYK, 1, px, 98);
    image img = {0};
    assert_int_equal(image_decode(b.data, b.len, NULL, 0, &img, NULL), 0);
    assert_all_near(&img, 127, 127, 127, 3);
    image_free(&img);
    free(px);
    free(b.data);
}

static void test_jpeg_scaled(void **state)
{
    (void)state;
    const uint8_t colour[3] = {30, 160, 220};
    uint8_t *px = solid(1600, 1200, 3, colour);
    blob b = encode_jpeg(1600, 1200, 3, JCS_RGB, JCS_YCbCr, 1, px, 85);
    struct {
        int min_side, w, h;
    } cases[] = {{0, 1600, 1200}, {224, 400, 300}, {150, 200, 150}, {100, 200, 150},
                 {301, 800, 600}, {600, 800, 600}, {601, 1600, 1200}, {5000, 1600, 1200}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        image img = {0};
        assert_int_equal(image_decode(b.data, b.len, NULL, cases[i].min_side, &img, NULL), 0);
        assert_int_equal(img.width, cases[i].w);
        assert_int_equal(img.height, cases[i].h);
        assert_all_near(&img, 30, 160, 220, 4);
        image_free(&img);
    }
    free(px);
    free(b.data);
}

static void test_jpeg_broken(void **state)
{
    (void)state;
    const uint8_t colour[3] = {10, 20, 30};
    uint8_t *px = solid(64, 64, 3, colour);
    blob b = encode_jpeg(64, 64, 3, JCS_RGB, JCS_YCbCr, 1, px, 90);
    /* Cut in the middle of the scan. */
    expect_error(b.data, b.len / 2, HDM_E_BAD_REQUEST, "truncated");
    /* Cut inside the header. */
    expect_error(b.data, 40, HDM_E_BAD_REQUEST, "JPEG");
    /* Garbage after SOI. */
    uint8_t junk[64] = {0xFF, 0xD8, 0xFF, 0x01, 0x02, 0x03};
    for (size_t i = 6; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 37);
    expect_error(junk, sizeof(junk), HDM_E_BAD_REQUEST, "JPEG");
    /* A frame header with an impossible sample precision. */
    const uint8_t bad_sof[] = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x05, 0x00, 0x10, 0x00,
                               0x10, 0x01, 0x01, 0x11, 0x00, 0xFF, 0xD9};
    expect_error(bad_sof, sizeof(bad_sof), HDM_E_BAD_REQUEST, "invalid JPEG data");
    /* Missing only the EOI marker: still a whole image. */
    image img = {0};
    assert_int_equal(image_decode(b.data, b.len - 2, NULL, 0, &img, NULL), 0);
    image_free(&img);
    free(px);
    free(b.data);
}

/* SOI + SOF0 claiming 65000x65000 (JPEG's dimensions are 16-bit). */
static void test_jpeg_huge_header(void **state)
{
    (void)state;
    const uint8_t huge[] = {0xFF, 0xD8,                                    /* SOI */
                            0xFF, 0xC0, 0x00, 0x11, 0x08, 0xFD, 0xE8,      /* SOF0, h=65000 */
                            0xFD, 0xE8, 0x03,                              /* w=65000, 3 comps */
                            0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
                            0xFF, 0xDA, 0x00, 0x0C, 0x03, 0x01, 0x00, 0x02, 0x11,
                            0x03, 0x11, 0x00, 0x3F, 0x00, 0x00, 0x00, 0x00, 0x00};
    expect_error(huge, sizeof(huge), HDM_E_TOO_LARGE, "65000x65000");
}

/* ---- PNG ----------------------------------------------------------------- */

static void decode_file(const char *name, image *img)
{
    blob b = read_data_file(name);
    hdm_err err = {0};
    int rc = image_decode(b.data, b.len, NULL, 0, img, &err);
    if (rc != 0)
        fail_msg("%s: %s", name, err.msg);
    free(b.data);
}

static void test_png_files(void **state)
{
    (void)state;
    image img = {0};
    decode_file("rgb-gradient-16x8.png", &img);
    assert_int_equal(img.width, 16);
    assert_int_equal(img.height, 8);
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 16; x++) {
            const uint8_t *p = img.rgb + ((size_t)y * 16 + x) * 3;
            assert_int_equal(p[0], x * 17);
            assert_int_equal(p[1], y * 36);
            assert_int_equal(p[2], 77);
        }
    image inter = {0};
    decode_file("rgb-gradient-interlaced.png", &inter);
    assert_memory_equal(img.rgb, inter.rgb, 16 * 8 * 3);
    image_free(&inter);
    image_free(&img);

    decode_file("grey8-90.png", &img);
    assert_all_near(&img, 90, 90, 90, 0);
    image_free(&img);

    decode_file("grey1-halves.png", &img);
    for (int x = 0; x < 16; x++) {
        int v = x < 8 ? 0 : 255;
        assert_int_equal(img.rgb[x * 3], v);
        assert_int_equal(img.rgb[x * 3 + 2], v);
    }
    image_free(&img);

    decode_file("greyalpha-200.png", &img);
    assert_all_near(&img, 200, 200, 200, 0);
    image_free(&img);

    decode_file("rgba-transparent.png", &img);
    assert_all_near(&img, 10, 20, 30, 0);
    image_free(&img);

    decode_file("palette-trns.png", &img);
    assert_int_equal(img.rgb[0], 255);
    assert_int_equal(img.rgb[1], 0);
    assert_int_equal(img.rgb[15 * 3 + 2], 255);
    assert_int_equal(img.rgb[15 * 3], 0);
    image_free(&img);

    decode_file("rgb16.png", &img);
    assert_all_near(&img, 0x12, 0xAB, 0xFF, 0);
    image_free(&img);
}

static void test_png_broken_files(void **state)
{
    (void)state;
    struct {
        const char *file;
        int code;
        const char *needle;
    } cases[] = {
        {"huge-100000x100000.png", HDM_E_TOO_LARGE, "100000x100000"},
        {"truncated.png", HDM_E_BAD_REQUEST, "truncated"},
        {"bad-crc.png", HDM_E_BAD_REQUEST, "invalid PNG data"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        blob b = read_data_file(cases[i].file);
        expect_error(b.data, b.len, cases[i].code, cases[i].needle);
        free(b.data);
    }
    /* Cut inside the signature-recognised header. */
    blob b = read_data_file("rgb-gradient-16x8.png");
    expect_error(b.data, 20, HDM_E_BAD_REQUEST, "truncated");
    free(b.data);
}

static void test_png_encoded(void **state)
{
    (void)state;
    /* 16-bit grey + alpha through libpng's own writer. */
    uint8_t px[4 * 4 * 4];
    for (size_t i = 0; i < 16; i++) {
        px[4 * i] = 0xC8; /* grey high byte 200 */
        px[4 * i + 1] = 0x01;
        px[4 * i + 2] = 0x00; /* alpha */
        px[4 * i + 3] = 0x10;
    }
    blob b = encode_png(4, 4, 16, PNG_COLOR_TYPE_GRAY_ALPHA, px, 16);
    image img = {0};
    assert_int_equal(image_decode(b.data, b.len, NULL, 0, &img, NULL), 0);
    assert_all_near(&img, 200, 200, 200, 0);
    image_free(&img);
    free(b.data);
}

/* ---- WebP ---------------------------------------------------------------- */

static void test_webp(void **state)
{
    (void)state;
    const uint8_t rgb[3] = {40, 180, 90};
    const uint8_t rgba[4] = {40, 180, 90, 30};
    uint8_t *p3 = solid(40, 30, 3, rgb);
    uint8_t *p4 = solid(40, 30, 4, rgba);
    for (int lossless = 0; lossless <= 1; lossless++) {
        for (int alpha = 0; alpha <= 1; alpha++) {
            blob b = encode_webp(40, 30, alpha ? p4 : p3, alpha, lossless);
            image img = {0};
            hdm_err err = {0};
            assert_int_equal(image_decode(b.data, b.len, NULL, 0, &img, &err), 0);
            assert_int_equal(img.width, 40);
            assert_int_equal(img.height, 30);
            assert_all_near(&img, 40, 180, 90, lossless ? 0 : 6);
            image_free(&img);
            expect_error(b.data, b.len - 10, HDM_E_BAD_REQUEST, "truncated");
            expect_error(b.data, 20, HDM_E_BAD_REQUEST, "WebP");
            free(b.data);
        }
    }
    free(p3);
    free(p4);
    /* A RIFF/WEBP container with garbage inside. */
    uint8_t junk[64] = "RIFF\x38\0\0\0WEBPVP8 \x2c\0\0\0";
    for (size_t i = 20; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 13);
    expect_error(junk, sizeof(junk), HDM_E_BAD_REQUEST, "WebP");
}

static void test_webp_animated(void **state)
{
    (void)state;
    /* RIFF WEBP with a VP8X header whose animation flag is set. */
    uint8_t anim[30] = "RIFF\x16\0\0\0WEBPVP8X\x0a\0\0\0";
    anim[20] = 0x02;             /* animation flag */
    anim[24] = 9;                /* canvas width - 1 = 9 */
    anim[27] = 9;                /* canvas height - 1 = 9 */
    image img = {0};
    hdm_err err = {0};
    int rc = image_decode(anim, sizeof(anim), NULL, 0, &img, &err);
    assert_true(rc < 0);
    if (strstr(err.msg, "animated") == NULL && strstr(err.msg, "WebP") == NULL)
        fail_msg("unexpected message: %s", err.msg);
}

/* ---- limits, empty, unknown ---------------------------------------------- */

static void test_limits_and_unknown(void **state)
{
    (void)state;
    expect_error((const uint8_t *)"", 0, HDM_E_BAD_REQUEST, "empty");
    expect_error(NULL, 0, HDM_E_BAD_REQUEST, "empty");
    expect_error((const uint8_t *)"GIF89a\x01\0\x01\0\0\0\0", 13, HDM_E_UNSUPPORTED, "GIF");
    expect_error((const uint8_t *)"hello world, not an image", 25, HDM_E_UNSUPPORTED,
                 "not JPEG, PNG or WebP");
    expect_error((const uint8_t *)"\xFF\xD8", 2, HDM_E_BAD_REQUEST, "too short");

    const uint8_t colour[3] = {1, 2, 3};
    uint8_t *px = solid(100, 80, 3, colour);
    blob b = encode_jpeg(100, 80, 3, JCS_RGB, JCS_YCbCr, 1, px, 80);
    image_limits lim;
    image_limits_defaults(&lim);
    assert_int_equal(lim.max_width, 16384);
    image img = {0};
    hdm_err err = {0};
    lim.max_pixels = 7999;
    assert_int_equal(image_decode(b.data, b.len, &lim, 0, &img, &err), -HDM_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "8000 pixels"));
    image_limits_defaults(&lim);
    lim.max_width = 99;
    assert_int_equal(image_decode(b.data, b.len, &lim, 0, &img, &err), -HDM_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "100x80"));
    image_limits_defaults(&lim);
    lim.max_bytes = b.len - 1;
    assert_int_equal(image_decode(b.data, b.len, &lim, 0, &img, &err), -HDM_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "bytes"));
    lim.max_bytes = b.len;
    assert_int_equal(image_decode(b.data, b.len, &lim, 0, &img, &err), 0);
    image_free(&img);
    free(px);
    free(b.data);
}

/* ---- base64 -------------------------------------------------------------- */

static void test_base64(void **state)
{
    (void)state;
    blob b = read_data_file("grey8-90.png");
    char *enc = malloc(base64_encoded_len(b.len) + 64);
    strcpy(enc, "data:image/png;base64,");
    base64_encode(b.data, b.len, enc + strlen(enc));
    image img = {0};
    hdm_err err = {0};
    assert_int_equal(image_decode_base64(enc, strlen(enc), NULL, 0, &img, &err), 0);
    assert_all_near(&img, 90, 90, 90, 0);
    image_free(&img);
    /* Without the prefix, and with a trailing newline. */
    const char *bare = enc + strlen("data:image/png;base64,");
    assert_int_equal(image_decode_base64(bare, strlen(bare), NULL, 0, &img, &err), 0);
    image_free(&img);
    /* Line-wrapped at 76 columns, as the base64 tool writes it. */
    buf wrapped = {0};
    for (size_t i = 0; i < strlen(bare); i += 76) {
        size_t n = strlen(bare + i) < 76 ? strlen(bare + i) : 76;
        buf_append(&wrapped, bare + i, n);
        buf_append(&wrapped, "\r\n", 2);
    }
    assert_true(wrapped.len > strlen(bare) + 2);
    assert_int_equal(image_decode_base64((const char *)wrapped.data, wrapped.len, NULL, 0, &img,
                                         &err),
                     0);
    assert_all_near(&img, 90, 90, 90, 0);
    image_free(&img);
    buf_free(&wrapped);
    /* The media type need not match the bytes; it must be an image. */
    char *other = malloc(strlen(bare) + 64);
    sprintf(other, "data:image/jpeg;name=x.png;base64,%s\n", bare);
    assert_int_equal(image_decode_base64(other, strlen(other), NULL, 0, &img, &err), 0);
    image_free(&img);
    sprintf(other, "data:text/plain;base64,%s", bare);
    assert_int_equal(image_decode_base64(other, strlen(other), NULL, 0, &img, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "text/plain"));
    sprintf(other, "data:image/png,%s", bare);
    assert_int_equal(image_decode_base64(other, strlen(other), NULL, 0, &img, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "base64"));
    assert_int_equal(image_decode_base64("data:image/png;base64", 21, NULL, 0, &img, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(image_decode_base64("data:image/png;base64,", 22, NULL, 0, &img, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(image_decode_base64("iVBO*w0K", 8, NULL, 0, &img, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "offset 4"));
    assert_int_equal(image_decode_base64("", 0, NULL, 0, &img, &err), -HDM_E_BAD_REQUEST);
    /* Size limit applies before decoding. */
    image_limits lim;
    image_limits_defaults(&lim);
    lim.max_bytes = 16;
    assert_int_equal(image_decode_base64(bare, strlen(bare), &lim, 0, &img, &err),
                     -HDM_E_TOO_LARGE);
    assert_null(img.rgb);
    free(other);
    free(enc);
    free(b.data);
}

/* Decode + resize of a real JPEG at the sizes the services use. */
static void test_pipeline(void **state)
{
    (void)state;
    int w = 1920, h = 1080;
    uint8_t *px = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(x * 255 / (w - 1));
            p[1] = (uint8_t)(y * 255 / (h - 1));
            p[2] = 128;
        }
    blob b = encode_jpeg(w, h, 3, JCS_RGB, JCS_YCbCr, 1, px, 90);
    int sides[] = {224, 336};
    for (size_t i = 0; i < 2; i++) {
        image img = {0};
        assert_int_equal(image_decode(b.data, b.len, NULL, sides[i], &img, NULL), 0);
        assert_true(img.height >= sides[i] && img.height < 2 * sides[i] + 8);
        uint8_t *out = malloc((size_t)sides[i] * sides[i] * 3);
        assert_int_equal(image_resize_crop(&img, sides[i], out, NULL), 0);
        int s = sides[i];
        /* Green rises top to bottom over the whole crop (the full height is kept). */
        int top = out[(0 * s + s / 2) * 3 + 1], bottom = out[((s - 1) * s + s / 2) * 3 + 1];
        assert_true(top < 10 && bottom > 245);
        /* Red is centred: the middle column is about half. */
        assert_true(abs(out[((s / 2) * s + s / 2) * 3] - 128) <= 6);
        free(out);
        image_free(&img);
    }
    free(px);
    free(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jpeg_rgb),
        cmocka_unit_test(test_jpeg_grey),
        cmocka_unit_test(test_jpeg_cmyk),
        cmocka_unit_test(test_jpeg_scaled),
        cmocka_unit_test(test_jpeg_broken),
        cmocka_unit_test(test_jpeg_huge_header),
        cmocka_unit_test(test_png_files),
        cmocka_unit_test(test_png_broken_files),
        cmocka_unit_test(test_png_encoded),
        cmocka_unit_test(test_webp),
        cmocka_unit_test(test_webp_animated),
        cmocka_unit_test(test_limits_and_unknown),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_pipeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
