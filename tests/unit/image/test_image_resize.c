/*
 * test_image_resize.c - Pillow's resampling: image_resize and
 * image_resize_f32 against Pillow 9.4's outputs over many sizes
 * (tests/data/images/resample-*.bin, make-resample-reference.py), and
 * image_resize_crop (CLIP's centre crop): geometry, antialiasing and
 * Pillow's pixels.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

/* ---- the reference files ------------------------------------------------- */

typedef struct reader {
    const uint8_t *p, *end;
} reader;

static uint32_t rd_u32(reader *r)
{
    assert_true(r->end - r->p >= 4);
    uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
                 (uint32_t)r->p[3] << 24;
    r->p += 4;
    return v;
}

static const uint8_t *rd_bytes(reader *r, size_t n)
{
    assert_true((size_t)(r->end - r->p) >= n);
    const uint8_t *at = r->p;
    r->p += n;
    return at;
}

typedef struct sample_img {
    uint32_t w, h;
    const uint8_t *data; /* w*h*ch samples (floats little-endian) */
} sample_img;

/* Runs every case of resample-<kind>.bin through `check`. */
static int for_each_case(const char *file, uint32_t kind,
                         void (*check)(const sample_img *in, int filter, const sample_img *ref))
{
    blob b = read_data_file(file);
    reader r = {b.data, b.data + b.len};
    assert_memory_equal(rd_bytes(&r, 8), "HDMRS1\0\0", 8);
    assert_int_equal(rd_u32(&r), kind);
    size_t ch = kind == 1 ? 3 : 4; /* bytes per pixel */
    uint32_t n_in = rd_u32(&r);
    sample_img in[16];
    assert_true(n_in <= 16);
    for (uint32_t i = 0; i < n_in; i++) {
        in[i].w = rd_u32(&r);
        in[i].h = rd_u32(&r);
        in[i].data = rd_bytes(&r, (size_t)in[i].w * in[i].h * ch);
    }
    uint32_t n_cases = rd_u32(&r);
    for (uint32_t c = 0; c < n_cases; c++) {
        uint32_t idx = rd_u32(&r), filter = rd_u32(&r);
        sample_img ref;
        ref.w = rd_u32(&r);
        ref.h = rd_u32(&r);
        ref.data = rd_bytes(&r, (size_t)ref.w * ref.h * ch);
        assert_true(idx < n_in && filter <= 1);
        check(&in[idx], filter == 0 ? IMAGE_FILTER_BILINEAR : IMAGE_FILTER_BICUBIC, &ref);
    }
    assert_true(r.p == r.end);
    free(b.data);
    return (int)n_cases;
}

static void check_u8(const sample_img *in, int filter, const sample_img *ref)
{
    image img = {.width = (int)in->w, .height = (int)in->h, .rgb = (uint8_t *)in->data};
    size_t n = (size_t)ref->w * ref->h * 3;
    uint8_t *out = malloc(n);
    assert_int_equal(image_resize(&img, (int)ref->w, (int)ref->h, filter, out, NULL), 0);
    for (size_t i = 0; i < n; i++)
        if (out[i] != ref->data[i])
            fail_msg("%ux%u -> %ux%u (%s): byte %zu is %d, Pillow has %d", in->w, in->h, ref->w,
                     ref->h, filter == IMAGE_FILTER_BILINEAR ? "bilinear" : "bicubic", i, out[i],
                     ref->data[i]);
    free(out);
}

static float le_float(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, sizeof(f));
    return f;
}

static void check_f32(const sample_img *in, int filter, const sample_img *ref)
{
    size_t n_in = (size_t)in->w * in->h, n = (size_t)ref->w * ref->h;
    float *src = malloc(n_in * sizeof(float)), *out = malloc(n * sizeof(float));
    for (size_t i = 0; i < n_in; i++)
        src[i] = le_float(in->data + 4 * i);
    assert_int_equal(image_resize_f32(src, (int)in->w, (int)in->h, (int)ref->w, (int)ref->h,
                                      filter, out, NULL),
                     0);
    for (size_t i = 0; i < n; i++) {
        float want = le_float(ref->data + 4 * i);
        if (fabsf(out[i] - want) > 1e-6f * fmaxf(fabsf(want), 1.0f))
            fail_msg("%ux%u -> %ux%u (%s): value %zu is %.9g, Pillow has %.9g", in->w, in->h,
                     ref->w, ref->h, filter == IMAGE_FILTER_BILINEAR ? "bilinear" : "bicubic",
                     i, out[i], want);
    }
    free(src);
    free(out);
}

/* Identical uint8 pixels for every size and both filters. */
static void test_resize_u8_matches_pillow(void **state)
{
    (void)state;
    int n = for_each_case("resample-u8.bin", 1, check_u8);
    assert_true(n >= 90);
}

/* Mode "F": within 1e-6 relative (measured: bit-identical on x86-64; the sums
 * are Pillow's, in double, in its order). */
static void test_resize_f32_matches_pillow(void **state)
{
    (void)state;
    int n = for_each_case("resample-f32.bin", 4, check_f32);
    assert_true(n >= 50);
}

/* Bilinear is antialiased like Pillow's: a 4x downscale of alternating
 * columns is mid-grey, and a same-size resize is a copy. */
static void test_resize_bilinear_properties(void **state)
{
    (void)state;
    image img = {.width = 64, .height = 8, .rgb = malloc(64 * 8 * 3)};
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 64; x++)
            memset(img.rgb + ((size_t)y * 64 + x) * 3, (x & 1) ? 255 : 0, 3);
    uint8_t out[16 * 8 * 3];
    assert_int_equal(image_resize(&img, 16, 8, IMAGE_FILTER_BILINEAR, out, NULL), 0);
    for (int x = 1; x < 15; x++)
        assert_true(abs(out[(4 * 16 + x) * 3] - 128) <= 1);
    uint8_t same[64 * 8 * 3];
    assert_int_equal(image_resize(&img, 64, 8, IMAGE_FILTER_BILINEAR, same, NULL), 0);
    assert_memory_equal(same, img.rgb, sizeof(same));
    free(img.rgb);

    float f[4] = {0.0f, 1.0f, 2.0f, 3.0f}, fo[8];
    assert_int_equal(image_resize_f32(f, 4, 1, 4, 1, IMAGE_FILTER_BILINEAR, fo, NULL), 0);
    assert_memory_equal(fo, f, sizeof(f));
    assert_int_equal(image_resize_f32(f, 2, 2, 4, 2, IMAGE_FILTER_BILINEAR, fo, NULL), 0);
    assert_true(fo[0] == 0.0f && fo[3] == 1.0f && fo[4] == 2.0f && fo[7] == 3.0f);
}

static void test_resize_new_errors(void **state)
{
    (void)state;
    uint8_t px[12] = {0}, out[12];
    float f[4] = {0}, fo[4];
    image img = {.width = 2, .height = 2, .rgb = px};
    hdm_err err = {0};
    assert_int_equal(image_resize(&img, 0, 2, IMAGE_FILTER_BICUBIC, out, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "0x2"));
    assert_int_equal(image_resize(&img, 2, 20000, IMAGE_FILTER_BICUBIC, out, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(image_resize(&img, 2, 2, (image_filter)7, out, &err), -HDM_E_INTERNAL);
    assert_int_equal(image_resize(NULL, 2, 2, IMAGE_FILTER_BICUBIC, out, &err), -HDM_E_INTERNAL);
    assert_int_equal(image_resize_f32(f, 0, 2, 2, 2, IMAGE_FILTER_BILINEAR, fo, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "empty"));
    assert_int_equal(image_resize_f32(NULL, 2, 2, 2, 2, IMAGE_FILTER_BILINEAR, fo, &err),
                     -HDM_E_INTERNAL);
}

/* ---- centre crop (CLIP's reference preprocessing) ------------------------ */


static image make_image(int w, int h)
{
    image img = {.width = w, .height = h, .rgb = malloc((size_t)w * h * 3)};
    return img;
}

static void test_resize_solid(void **state)
{
    (void)state;
    int sizes[][2] = {{1920, 1080}, {480, 270}, {100, 300}, {7, 5}, {224, 224}, {225, 224}};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        image img = make_image(sizes[i][0], sizes[i][1]);
        for (size_t p = 0; p < (size_t)img.width * img.height; p++) {
            img.rgb[3 * p] = 12;
            img.rgb[3 * p + 1] = 200;
            img.rgb[3 * p + 2] = 255;
        }
        uint8_t out[224 * 224 * 3];
        assert_int_equal(image_resize_crop(&img, 224, out, NULL), 0);
        image o = {.width = 224, .height = 224, .rgb = out};
        assert_all_near(&o, 12, 200, 255, 0);
        image_free(&img);
    }
}

static void test_resize_orientation(void **state)
{
    (void)state;
    /* Red grows left to right, green top to bottom. */
    image img = make_image(64, 48);
    for (int y = 0; y < 48; y++)
        for (int x = 0; x < 64; x++) {
            uint8_t *p = img.rgb + ((size_t)y * 64 + x) * 3;
            p[0] = (uint8_t)(x * 4);
            p[1] = (uint8_t)(y * 5);
            p[2] = 0;
        }
    uint8_t out[32 * 32 * 3];
    assert_int_equal(image_resize_crop(&img, 32, out, NULL), 0);
    /* 64x48 -> 42x32, crop x from 5: red at column c ~ (c + 5 + 0.5) * 64/42 * 4. */
    for (int c = 1; c < 32; c++) {
        assert_true(out[(16 * 32 + c) * 3] > out[(16 * 32 + c - 1) * 3]);
        assert_true(out[(c * 32 + 16) * 3 + 1] > out[((c - 1) * 32 + 16) * 3 + 1]);
    }
    int mid_red = out[(16 * 32 + 16) * 3];
    double expect = ((16 + 5 + 0.5) * 64.0 / 42.0 - 0.5) * 4.0;
    assert_true(abs(mid_red - (int)(expect + 0.5)) <= 2);
    image_free(&img);
}

static void test_resize_crop_centred(void **state)
{
    (void)state;
    /* Landscape: three vertical bands; the crop keeps the middle one. */
    image img = make_image(600, 200);
    for (int y = 0; y < 200; y++)
        for (int x = 0; x < 600; x++) {
            uint8_t *p = img.rgb + ((size_t)y * 600 + x) * 3;
            p[0] = x < 200 ? 255 : 0;
            p[1] = x >= 200 && x < 400 ? 255 : 0;
            p[2] = x >= 400 ? 255 : 0;
        }
    uint8_t out[100 * 100 * 3];
    assert_int_equal(image_resize_crop(&img, 100, out, NULL), 0);
    for (int y = 0; y < 100; y++)
        for (int x = 2; x < 98; x++) { /* the filter reaches 2 pixels past the edge */
            const uint8_t *p = out + ((size_t)y * 100 + x) * 3;
            assert_int_equal(p[0], 0);
            assert_int_equal(p[1], 255);
            assert_int_equal(p[2], 0);
        }
    image_free(&img);

    /* Portrait: three horizontal bands. */
    img = make_image(50, 150);
    for (int y = 0; y < 150; y++)
        for (int x = 0; x < 50; x++) {
            uint8_t *p = img.rgb + ((size_t)y * 50 + x) * 3;
            p[0] = y < 50 ? 255 : 0;
            p[1] = y >= 50 && y < 100 ? 255 : 0;
            p[2] = y >= 100 ? 255 : 0;
        }
    uint8_t out2[25 * 25 * 3];
    assert_int_equal(image_resize_crop(&img, 25, out2, NULL), 0);
    for (int y = 2; y < 23; y++)
        for (int x = 0; x < 25; x++) {
            const uint8_t *p = out2 + ((size_t)y * 25 + x) * 3;
            assert_int_equal(p[1], 255);
            assert_int_equal(p[0], 0);
        }
    image_free(&img);
}

static void test_resize_antialias(void **state)
{
    (void)state;
    /* Alternating black/white columns, downscaled 4x: an area filter gives
     * mid-grey everywhere; point sampling would give stripes. */
    image img = make_image(896, 224 * 4);
    for (int y = 0; y < img.height; y++)
        for (int x = 0; x < img.width; x++)
            memset(img.rgb + ((size_t)y * img.width + x) * 3, (x & 1) ? 255 : 0, 3);
    uint8_t out[224 * 224 * 3];
    assert_int_equal(image_resize_crop(&img, 224, out, NULL), 0);
    for (int x = 4; x < 220; x++)
        assert_true(abs(out[(100 * 224 + x) * 3] - 128) <= 2);
    image_free(&img);

    /* Upscale 2x2 -> 8x8: smooth, within the input range, corners ordered. */
    image small = make_image(2, 2);
    const uint8_t v[4] = {0, 80, 160, 240};
    for (int i = 0; i < 4; i++)
        memset(small.rgb + 3 * i, v[i], 3);
    uint8_t up[8 * 8 * 3];
    assert_int_equal(image_resize_crop(&small, 8, up, NULL), 0);
    assert_true(up[0] < up[7 * 3]);
    assert_true(up[7 * 3] < up[(7 * 8) * 3]);
    assert_true(up[(7 * 8) * 3] < up[(7 * 8 + 7) * 3]);
    image_free(&small);
}

/* Against Pillow's resize(BICUBIC) + centre crop, computed once by
 * tests/data/images/make-resize-reference.py: identical pixels. */
static void test_resize_matches_pillow(void **state)
{
    (void)state;
    const struct {
        int w, h, side;
    } cases[] = {{61, 37, 24}, {29, 53, 20}, {9, 7, 16}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[64];
        snprintf(name, sizeof(name), "resize-in-%dx%d.rgb", cases[i].w, cases[i].h);
        blob in = read_data_file(name);
        snprintf(name, sizeof(name), "resize-out-%dx%d-%d.rgb", cases[i].w, cases[i].h,
                 cases[i].side);
        blob ref = read_data_file(name);
        size_t n = (size_t)cases[i].side * cases[i].side * 3;
        assert_int_equal(in.len, (size_t)cases[i].w * cases[i].h * 3);
        assert_int_equal(ref.len, n);
        image img = {.width = cases[i].w, .height = cases[i].h, .rgb = in.data};
        uint8_t *out = malloc(n);
        assert_int_equal(image_resize_crop(&img, cases[i].side, out, NULL), 0);
        int worst = 0;
        for (size_t k = 0; k < n; k++) {
            int d = abs(out[k] - ref.data[k]);
            if (d > worst)
                worst = d;
        }
        if (worst > 0)
            fail_msg("%dx%d -> %d differs from Pillow by up to %d", cases[i].w, cases[i].h,
                     cases[i].side, worst);
        free(out);
        free(in.data);
        free(ref.data);
    }
}

static void test_resize_errors(void **state)
{
    (void)state;
    image img = make_image(4, 4);
    memset(img.rgb, 0, 48);
    uint8_t out[16];
    hdm_err err = {0};
    assert_int_equal(image_resize_crop(&img, 0, out, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "side 0"));
    assert_int_equal(image_resize_crop(&img, 100000, out, &err), -HDM_E_BAD_REQUEST);
    image empty = {.width = 0, .height = 5, .rgb = img.rgb};
    assert_int_equal(image_resize_crop(&empty, 2, out, &err), -HDM_E_BAD_REQUEST);
    assert_true(image_resize_crop(NULL, 2, out, &err) < 0);
    image_free(&img);
    image_free(NULL);
}


int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resize_u8_matches_pillow),
        cmocka_unit_test(test_resize_f32_matches_pillow),
        cmocka_unit_test(test_resize_bilinear_properties),
        cmocka_unit_test(test_resize_new_errors),
        cmocka_unit_test(test_resize_solid),
        cmocka_unit_test(test_resize_orientation),
        cmocka_unit_test(test_resize_crop_centred),
        cmocka_unit_test(test_resize_antialias),
        cmocka_unit_test(test_resize_matches_pillow),
        cmocka_unit_test(test_resize_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
