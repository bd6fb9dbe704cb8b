/*
 * test_image_exif.c - decoding with EXIF orientation applied, against what
 * OpenCV 4.6's cv2.imdecode(data, IMREAD_COLOR) gives for the same files
 * (tests/data/images/exif, make-photos.py): all 8 orientations, JPEG (APP1)
 * and PNG (eXIf); the option off keeps the stored orientation as Pillow
 * does; and the tag reader on malformed EXIF blocks.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "image/image.h"
#include "image/image_internal.h"
#include "testutil.h"

/* The cv2 reference of `name`: exif/<name>.cv2-WxH.rgb (found by prefix). */
static blob cv2_reference(const char *name, int *w, int *h)
{
    const char *dir = getenv("HDM_TEST_DATA");
    char path[1024], prefix[128];
    snprintf(path, sizeof(path), "%s/images/exif", dir != NULL ? dir : "tests/data");
    snprintf(prefix, sizeof(prefix), "%s.cv2-", name);
    DIR *d = opendir(path);
    if (d == NULL)
        fail_msg("cannot open %s (set HDM_TEST_DATA)", path);
    struct dirent *e;
    char found[256] = "";
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            snprintf(found, sizeof(found), "%s", e->d_name);
    closedir(d);
    assert_true(found[0] != '\0');
    assert_int_equal(sscanf(found + strlen(prefix), "%dx%d.rgb", w, h), 2);
    char rel[512];
    snprintf(rel, sizeof(rel), "images/exif/%s", found);
    return read_test_file(rel);
}

static void decode_oriented(const char *name, bool exif, image *img)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "images/exif/%s", name);
    blob b = read_test_file(rel);
    image_decode_opts o;
    image_decode_opts_defaults(&o);
    o.exif_orientation = exif;
    hdm_err err = {0};
    if (image_decode_with(b.data, b.len, &o, img, &err) != 0)
        fail_msg("%s: %s", name, err.msg);
    free(b.data);
}

/* Identical pixels and size to OpenCV for every orientation. */
static void test_orientations_match_opencv(void **state)
{
    (void)state;
    const char *exts[] = {"jpg", "png"};
    for (int n = 1; n <= 8; n++)
        for (int e = 0; e < 2; e++) {
            char name[64];
            snprintf(name, sizeof(name), "orient-%d.%s", n, exts[e]);
            int w, h;
            blob ref = cv2_reference(name, &w, &h);
            image img = {0};
            decode_oriented(name, true, &img);
            if (img.width != w || img.height != h)
                fail_msg("%s: %dx%d, OpenCV gives %dx%d", name, img.width, img.height, w, h);
            assert_int_equal(ref.len, (size_t)w * h * 3);
            for (size_t i = 0; i < ref.len; i++)
                if (img.rgb[i] != ref.data[i])
                    fail_msg("%s: byte %zu is %d, OpenCV has %d", name, i, img.rgb[i],
                             ref.data[i]);
            /* Without the option: the stored 48x64 frame, as Pillow reads it. */
            image raw = {0};
            decode_oriented(name, false, &raw);
            assert_int_equal(raw.width, 48);
            assert_int_equal(raw.height, 64);
            if (n == 1)
                assert_memory_equal(raw.rgb, img.rgb, ref.len);
            image_free(&raw);
            image_free(&img);
            free(ref.data);
        }
}

/* Orientation with scaled JPEG decoding: the sizes swap as well. */
static void test_orientation_scaled(void **state)
{
    (void)state;
    blob b = read_test_file("images/exif/orient-6.jpg");
    image_decode_opts o;
    image_decode_opts_defaults(&o);
    o.exif_orientation = true;
    o.min_side = 20;
    image img = {0};
    assert_int_equal(image_decode_with(b.data, b.len, &o, &img, NULL), 0);
    assert_int_equal(img.width, 32); /* 48x64 at 1/2, turned */
    assert_int_equal(img.height, 24);
    image_free(&img);
    free(b.data);
}

/* ---- the tag reader -------------------------------------------------------- */

/* A TIFF block: byte order, IFD0 at 8 with `n` entries (tag, type, count,
 * value), written big- or little-endian. */
static size_t tiff(uint8_t *out, int intel, const unsigned (*entries)[4], int n)
{
    size_t p = 0;
#define PUT16(v)                                                                                   \
    do {                                                                                           \
        unsigned _v = (v);                                                                         \
        out[p++] = (uint8_t)(intel ? _v : _v >> 8);                                                \
        out[p++] = (uint8_t)(intel ? _v >> 8 : _v);                                                \
    } while (0)
#define PUT32(v)                                                                                   \
    do {                                                                                           \
        unsigned long _w = (v);                                                                    \
        for (int _i = 0; _i < 4; _i++)                                                             \
            out[p++] = (uint8_t)(_w >> (intel ? 8 * _i : 8 * (3 - _i)));                           \
    } while (0)
    out[p++] = intel ? 'I' : 'M';
    out[p++] = intel ? 'I' : 'M';
    PUT16(42);
    PUT32(8);
    PUT16((unsigned)n);
    for (int i = 0; i < n; i++) {
        PUT16(entries[i][0]);
        PUT16(entries[i][1]);
        PUT32(entries[i][2]);
        PUT16(entries[i][3]); /* a SHORT value sits in the first two bytes */
        PUT16(0);
    }
    PUT32(0);
#undef PUT16
#undef PUT32
    return p;
}

static void test_exif_reader(void **state)
{
    (void)state;
    uint8_t b[256];
    const unsigned one[][4] = {{0x0112, 3, 1, 6}};
    const unsigned two[][4] = {{0x010F, 2, 20, 0}, {0x0112, 3, 1, 8}, {0x0112, 3, 1, 3}};
    const unsigned bad_value[][4] = {{0x0112, 3, 1, 9}};
    const unsigned zero_value[][4] = {{0x0112, 3, 1, 0}};
    const unsigned none[][4] = {{0x0110, 2, 4, 0}};
    for (int intel = 0; intel <= 1; intel++) {
        size_t n = tiff(b, intel, one, 1);
        assert_int_equal(image_exif_orientation(b, n), 6);
        /* The first orientation entry wins, after other tags. */
        n = tiff(b, intel, two, 3);
        assert_int_equal(image_exif_orientation(b, n), 8);
        assert_int_equal(image_exif_orientation(b, tiff(b, intel, bad_value, 1)), 0);
        assert_int_equal(image_exif_orientation(b, tiff(b, intel, zero_value, 1)), 0);
        assert_int_equal(image_exif_orientation(b, tiff(b, intel, none, 1)), 0);
        /* Every truncation is refused without reading past the end. */
        n = tiff(b, intel, one, 1);
        for (size_t cut = 0; cut < 8 + 2 + 10; cut++) {
            uint8_t *copy = malloc(cut ? cut : 1);
            memcpy(copy, b, cut);
            assert_int_equal(image_exif_orientation(copy, cut), 0);
            free(copy);
        }
    }
    size_t n = tiff(b, 1, one, 1);
    b[0] = 'I';
    b[1] = 'M'; /* mixed byte order */
    assert_int_equal(image_exif_orientation(b, n), 0);
    n = tiff(b, 1, one, 1);
    b[2] = 43; /* not the 42 mark */
    assert_int_equal(image_exif_orientation(b, n), 0);
    n = tiff(b, 1, one, 1);
    b[4] = 0xF0; /* IFD0 far outside the block */
    b[7] = 0xFF;
    assert_int_equal(image_exif_orientation(b, n), 0);
    n = tiff(b, 1, one, 1);
    b[8] = 0xFF; /* 65535 entries announced, one present */
    b[9] = 0xFF;
    assert_int_equal(image_exif_orientation(b, n), 6);
    b[10] = 0x10; /* ... and the one present is another tag: runs out, 0 */
    assert_int_equal(image_exif_orientation(b, n), 0);
    assert_int_equal(image_exif_orientation(NULL, 10), 0);
}

/* A JPEG whose first APP1 is not EXIF (XMP): no orientation, as OpenCV. */
static void test_first_app1_only(void **state)
{
    (void)state;
    blob b = read_test_file("images/exif/orient-6.jpg");
    const char xmp[] = "http://ns.adobe.com/xap/1.0/";
    size_t seg = sizeof(xmp) + 2; /* with its NUL */
    uint8_t *d = malloc(b.len + seg + 2);
    memcpy(d, b.data, 2);
    d[2] = 0xFF;
    d[3] = 0xE1;
    d[4] = (uint8_t)(seg >> 8);
    d[5] = (uint8_t)seg;
    memcpy(d + 6, xmp, sizeof(xmp));
    memcpy(d + 6 + sizeof(xmp), b.data + 2, b.len - 2);
    image_decode_opts o;
    image_decode_opts_defaults(&o);
    o.exif_orientation = true;
    image img = {0};
    assert_int_equal(image_decode_with(d, b.len + seg + 2, &o, &img, NULL), 0);
    assert_int_equal(img.width, 48);
    assert_int_equal(img.height, 64);
    image_free(&img);
    free(d);
    free(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orientations_match_opencv),
        cmocka_unit_test(test_orientation_scaled),
        cmocka_unit_test(test_exif_reader),
        cmocka_unit_test(test_first_app1_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
