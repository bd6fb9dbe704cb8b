/*
 * test_depthpost_npz.c - the .npz: one member depth.npy whose header is
 * numpy's, byte for byte, and whose data are the map; stored and deflated;
 * consistent zip records; errors leave the buffer alone.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "depth_test_util.h"
#include "depthpost/depthpost.h"

/* numpy 1.24's np.save header for a (h, w) float32 array: the dict, 21 -
 * len(str(h)) growth spaces, padding to 64 bytes, '\n'. */
static void numpy_header(int h, int w, char *out, size_t *len)
{
    char dict[128];
    int n = snprintf(dict, sizeof(dict),
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", h, w);
    char digits[16];
    int spaces = 21 - snprintf(digits, sizeof(digits), "%d", h);
    size_t hlen = (size_t)n + (size_t)spaces + 1;
    size_t pad = 64 - ((10 + hlen) % 64);
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (char)((hlen + pad) & 0xff);
    out[9] = (char)((hlen + pad) >> 8);
    memcpy(out + 10, dict, (size_t)n);
    memset(out + 10 + n, ' ', (size_t)spaces + pad);
    out[10 + hlen + pad - 1] = '\n';
    *len = 10 + hlen + pad;
}

static void check_npz(const buf *out, size_t start, const float *map, int h, int w)
{
    size_t len;
    uint8_t *npy = test_npz_member(out->data + start, out->len - start, &len);
    char header[256];
    size_t hl;
    numpy_header(h, w, header, &hl);
    assert_int_equal(len, hl + (size_t)h * (size_t)w * 4);
    assert_memory_equal(npy, header, hl);
    assert_memory_equal(npy + hl, map, (size_t)h * (size_t)w * 4);
    free(npy);
}

static void test_header_bytes(void **state)
{
    (void)state;
    /* What np.save wrote for (256, 320), from numpy itself. */
    static const char want[] =
        "{'descr': '<f4', 'fortran_order': False, 'shape': (256, 320), }"
        "                                                      \n";
    char header[256];
    size_t hl;
    numpy_header(256, 320, header, &hl);
    assert_int_equal(hl, 128);
    assert_memory_equal(header + 10, want, sizeof(want) - 1);
    float m[1] = {2.5f};
    buf out = {0};
    assert_int_equal(depthpost_npz(m, 1, 1, 6, &out, NULL), 0);
    size_t len;
    uint8_t *npy = test_npz_member(out.data, out.len, &len);
    assert_int_equal(len, 128 + 4);
    assert_memory_equal(npy + 10,
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", 58);
    free(npy);
    buf_free(&out);
}

static void test_round_trip(void **state)
{
    (void)state;
    static const int sizes[][2] = {{1, 1}, {3, 7}, {256, 320}, {1000, 3}, {123456789 % 97 + 1, 1}};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        int h = sizes[s][0], w = sizes[s][1];
        float *m = malloc((size_t)h * (size_t)w * sizeof(float));
        for (int i = 0; i < h * w; i++)
            m[i] = (float)((i * 2654435761u) % 100000) / 977.0f - 30.0f;
        for (int level = DEPTHPOST_NPZ_FAST; level <= 9; level += level < 1 ? 1 : 3) {
            buf out = {0};
            assert_int_equal(buf_append(&out, "prefix", 6), 0);
            assert_int_equal(depthpost_npz(m, h, w, level, &out, NULL), 0);
            assert_memory_equal(out.data, "prefix", 6);
            check_npz(&out, 6, m, h, w);
            buf_free(&out);
        }
        free(m);
    }
}

static void test_compresses(void **state)
{
    (void)state;
    /* A constant map deflates to almost nothing; stored keeps every byte. */
    int h = 300, w = 400;
    float *m = calloc((size_t)h * (size_t)w, sizeof(float));
    buf stored = {0}, deflated = {0}, fast = {0};
    assert_int_equal(depthpost_npz(m, h, w, DEPTHPOST_NPZ_STORED, &stored, NULL), 0);
    assert_int_equal(depthpost_npz(m, h, w, DEPTHPOST_NPZ_LEVEL_NUMPY, &deflated, NULL), 0);
    assert_int_equal(depthpost_npz(m, h, w, DEPTHPOST_NPZ_FAST, &fast, NULL), 0);
    assert_true(stored.len > (size_t)h * w * 4);
    assert_true(deflated.len < 2000);
    /* Huffman only: one bit per zero byte at best. */
    assert_true(fast.len < (size_t)h * w * 4 / 7);
    check_npz(&deflated, 0, m, h, w);
    check_npz(&fast, 0, m, h, w);
    buf_free(&fast);
    buf_free(&stored);
    buf_free(&deflated);
    free(m);
}

static void test_errors(void **state)
{
    (void)state;
    float m[4] = {0};
    buf out = {0};
    hdm_err err = {0};
    assert_int_equal(buf_append(&out, "x", 1), 0);
    assert_int_equal(depthpost_npz(m, 0, 4, 6, &out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(depthpost_npz(m, 2, 2, 10, &out, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "level 10"));
    assert_int_equal(depthpost_npz(m, 2, 2, -2, &out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(depthpost_npz(NULL, 2, 2, 6, &out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(depthpost_npz(m, 1 << 15, 1 << 14, 6, &out, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(out.len, 1);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_bytes),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_compresses),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
