/*
 * test_image_pixels.c - the kept pixel buffer (image_pixels.c): off by
 * default, then the last freed buffer is handed to the next decode that
 * fits, a decode that does not fit gets new memory, and a decoded
 * image's pixels go round through it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <png.h>

#include "image/image.h"
#include "image/image_internal.h"

static void test_keep(void **state)
{
    (void)state;
    /* Off: freed buffers are not kept (a new block may reuse the address,
     * so only the kept case is asserted by identity below). */
    image_pixels_keep(0);
    uint8_t *a = image_pixels_alloc(1 << 20);
    assert_non_null(a);
    memset(a, 1, 1 << 20);
    image_pixels_free(a);

    image_pixels_keep(4 << 20);
    uint8_t *b = image_pixels_alloc(3 << 20);
    assert_non_null(b);
    memset(b, 2, 3 << 20);
    image_pixels_free(b);
    /* The next one that fits gets the same buffer, contents untouched. */
    uint8_t *c = image_pixels_alloc(2 << 20);
    assert_ptr_equal(c, b);
    assert_int_equal(c[(2 << 20) - 1], 2);
    /* Nothing kept while it is in use: another gets its own memory. */
    uint8_t *d = image_pixels_alloc(1 << 20);
    assert_non_null(d);
    assert_ptr_not_equal(d, c);
    image_pixels_free(c); /* kept */
    image_pixels_free(d); /* a buffer is already kept: freed */
    /* Larger than the kept one: new memory (the kept one is dropped). */
    image_pixels_keep(8 << 20);
    uint8_t *e = image_pixels_alloc(4 << 20);
    assert_non_null(e);
    memset(e, 3, 4 << 20);
    image_pixels_free(e);
    uint8_t *f = image_pixels_alloc(1 << 20);
    assert_ptr_equal(f, e);
    image_pixels_free(f);
    image_pixels_keep(0);
}

/* A tiny PNG in memory. */
static size_t png_bytes(uint8_t **out)
{
    png_image img;
    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    img.width = 40;
    img.height = 30;
    img.format = PNG_FORMAT_RGB;
    uint8_t px[40 * 30 * 3];
    for (size_t i = 0; i < sizeof(px); i++)
        px[i] = (uint8_t)(i * 7);
    png_alloc_size_t len = 0;
    assert_true(png_image_write_to_memory(&img, NULL, &len, 0, px, 0, NULL));
    *out = malloc(len);
    assert_true(png_image_write_to_memory(&img, *out, &len, 0, px, 0, NULL));
    return len;
}

static void test_decode_reuses(void **state)
{
    (void)state;
    uint8_t *data;
    size_t len = png_bytes(&data);
    hdm_err err = {0};
    image_pixels_keep(1 << 20);
    image a = {0}, b = {0};
    assert_int_equal(image_decode_with(data, len, NULL, &a, &err), 0);
    uint8_t *first = a.rgb, want[40 * 30 * 3];
    memcpy(want, a.rgb, sizeof(want));
    image_free(&a);
    assert_int_equal(image_decode_with(data, len, NULL, &b, &err), 0);
    assert_ptr_equal(b.rgb, first); /* the same buffer, decoded again */
    assert_memory_equal(b.rgb, want, sizeof(want));
    image_free(&b);
    image_pixels_keep(0);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep),
        cmocka_unit_test(test_decode_reuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
