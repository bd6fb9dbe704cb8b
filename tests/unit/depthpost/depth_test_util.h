/*
 * depth_test_util.h - helpers for the depthpost tests: read a PNG as stored
 * (8- or 16-bit samples), open a .npz the way numpy's zipfile does and
 * inflate its depth.npy, read files.
 */
#ifndef HDM_TESTS_DEPTH_TEST_UTIL_H
#define HDM_TESTS_DEPTH_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

typedef struct test_png {
    int width, height, bit_depth, color_type, channels;
    uint16_t *samples; /* width*height*channels samples, 8-bit ones widened */
} test_png;

/* Decodes a PNG with libpng (no transformations); fails the test on error. */
test_png test_png_read(const uint8_t *data, size_t len);
void test_png_free(test_png *p);

/*
 * Checks the archive `zip[0..len)` holds exactly one member named
 * "depth.npy" with consistent local header, central directory and end
 * record and a matching CRC-32, and returns the member's bytes (malloc'd,
 * *out_len set).  Fails the test on any inconsistency.
 */
uint8_t *test_npz_member(const uint8_t *zip, size_t len, size_t *out_len);

/* The whole file (malloc'd) or NULL; *len set. */
uint8_t *test_read_file(const char *path, size_t *len);

#endif
