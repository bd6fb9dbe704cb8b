/*
 * test_npy.c - the .npy reader: good files of each version and dtype, and
 * every kind of bad header answered with a sentence naming the problem.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/npy.h"

/* Builds a .npy image: magic, version, header padded to 64, data. */
static size_t make_npy(uint8_t *out, int major, const char *dict, const void *data,
                       size_t data_len)
{
    size_t pre = major == 1 ? 10 : 12;
    size_t dlen = strlen(dict);
    size_t total = pre + dlen + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = dlen + pad + 1;
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (uint8_t)major;
    out[7] = 0;
    if (major == 1) {
        out[8] = (uint8_t)(hlen & 0xFF);
        out[9] = (uint8_t)(hlen >> 8);
    } else {
        for (int i = 0; i < 4; i++)
            out[8 + i] = (uint8_t)(hlen >> (8 * i));
    }
    memcpy(out + pre, dict, dlen);
    memset(out + pre + dlen, ' ', pad);
    out[pre + dlen + pad] = '\n';
    memcpy(out + pre + hlen, data, data_len);
    return pre + hlen + data_len;
}

static void test_good_v1_f32(void **state)
{
    (void)state;
    uint8_t file[256];
    float vals[6] = {1, 2, 3, 4, 5, 6};
    size_t n = make_npy(file, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                        vals, sizeof(vals));
    npy_array a;
    hdm_err err = {0};
    assert_int_equal(npy_parse(file, n, "t.npy", &a, &err), 0);
    assert_int_equal(a.dtype, HDM_DT_FLOAT32);
    assert_int_equal(a.ndim, 2);
    assert_int_equal(a.shape[0], 2);
    assert_int_equal(a.shape[1], 3);
    assert_int_equal(a.nbytes, 24);
    assert_true(npy_get_f32(&a, 5) == 6.0f);
    int64_t want[2] = {2, -1};
    assert_int_equal(npy_expect_shape(&a, "t", 2, want, &err), 0);
    want[1] = 4;
    assert_int_equal(npy_expect_shape(&a, "t", 2, want, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "shape[1] = 3, expected 4"));
    assert_int_equal(npy_expect_shape(&a, "t", 3, want, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "2 dimensions, expected 3"));
}

static void test_good_v2_v3_f16(void **state)
{
    (void)state;
    uint8_t file[256];
    uint16_t halves[2] = {0x3C00, 0xC000}; /* 1.0, -2.0 */
    npy_array a;
    hdm_err err = {0};
    for (int major = 2; major <= 3; major++) {
        size_t n = make_npy(file, major, "{\"descr\":\"<f2\",\"fortran_order\":False,\"shape\":(2,)}",
                            halves, sizeof(halves));
        assert_int_equal(npy_parse(file, n, "h.npy", &a, &err), 0);
        assert_int_equal(a.dtype, HDM_DT_FLOAT16);
        assert_int_equal(a.ndim, 1);
        assert_true(npy_get_f32(&a, 0) == 1.0f);
        assert_true(npy_get_f32(&a, 1) == -2.0f);
    }
    /* a scalar: shape () */
    float one = 1;
    size_t n = make_npy(file, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': ()}", &one, 4);
    assert_int_equal(npy_parse(file, n, "s.npy", &a, &err), 0);
    assert_int_equal(a.ndim, 0);
    assert_int_equal(a.nbytes, 4);
}

static void expect_bad(const uint8_t *file, size_t n, const char *needle)
{
    npy_array a;
    hdm_err err = {0};
    int r = npy_parse(file, n, "bad.npy", &a, &err);
    if (r == 0 || !strstr(err.msg, needle))
        fprintf(stderr, "r=%d message \"%s\" lacks \"%s\"\n", r, err.msg, needle);
    assert_int_equal(r, -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "bad.npy"));
    assert_non_null(strstr(err.msg, needle));
}

static void expect_bad_dict(const char *dict, const char *needle)
{
    uint8_t file[512];
    float vals[4] = {0};
    size_t n = make_npy(file, 1, dict, vals, sizeof(vals));
    expect_bad(file, n, needle);
}

static void test_bad_headers(void **state)
{
    (void)state;
    uint8_t file[512];
    float vals[4] = {0};
    size_t n;

    expect_bad((const uint8_t *)"hello world, not numpy", 22, "bad magic");
    expect_bad((const uint8_t *)"\x93NUMPY", 6, "bad magic");
    n = make_npy(file, 4, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}", vals, 16);
    expect_bad(file, n, "version 4.0");
    /* header length past the end */
    n = make_npy(file, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}", vals, 16);
    file[8] = 0xFF;
    file[9] = 0x7F;
    expect_bad(file, n, "runs past the end");
    /* header not ending in a newline */
    n = make_npy(file, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}", vals, 16);
    file[10 + (file[8] | file[9] << 8) - 1] = ' ';
    expect_bad(file, n, "newline");
    /* truncated data */
    n = make_npy(file, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}", vals, 16);
    expect_bad(file, n - 1, "truncated");

    expect_bad_dict("{'descr': '>f4', 'fortran_order': False, 'shape': (4,)}", "'>f4'");
    expect_bad_dict("{'descr': '<i8', 'fortran_order': False, 'shape': (2,)}", "'<i8'");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': True, 'shape': (4,)}", "fortran_order");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (4,)}", "fortran_order");
    expect_bad_dict("{'descr': '<f4', 'shape': (4,)}", "lacks 'fortran_order'");
    expect_bad_dict("{'fortran_order': False, 'shape': (4,)}", "lacks 'descr'");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False}", "lacks 'shape'");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': [4]}", "not a tuple");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (-4,)}",
                    "non-negative integers");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (4 4)}", "not a tuple");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1)}",
                    "more than 8");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': "
                    "(99999999999999999999,)}", "overflows");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': "
                    "(4294967296, 4294967296)}", "too large");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}",
                    "unknown key 'x'");
    expect_bad_dict("['descr', '<f4']", "not a dict");
    expect_bad_dict("{'descr' '<f4'}", "malformed");
    expect_bad_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (4,)} junk", "junk");
}

/* The shared header parser (hailo-devctl reads through it too): every
 * hailodm dtype is named, other descrs come back as HDM_DT__COUNT. */
static void test_parse_header_dtypes(void **state)
{
    (void)state;
    uint8_t file[512];
    uint8_t vals[16] = {0};
    npy_header h;
    hdm_err err = {0};
    size_t n = make_npy(file, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 4, 4), }",
                        vals, sizeof(vals));
    assert_int_equal(npy_parse_header(file, n, "u8.npy", &h, &err), 0);
    assert_int_equal(h.dtype, HDM_DT_UINT8);
    assert_string_equal(h.descr, "|u1");
    assert_int_equal(h.ndim, 3);
    assert_int_equal(h.shape[2], 4);
    assert_int_equal(h.data_offset, n - sizeof(vals));
    n = make_npy(file, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (4,)}", vals, 16);
    assert_int_equal(npy_parse_header(file, n, "i32.npy", &h, &err), 0);
    assert_int_equal(h.dtype, HDM_DT_INT32);
    n = make_npy(file, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,)}", vals, 16);
    assert_int_equal(npy_parse_header(file, n, "i64.npy", &h, &err), 0);
    assert_int_equal(h.dtype, HDM_DT__COUNT);
    assert_string_equal(h.descr, "<i8");
    n = make_npy(file, 1, "{'descr': '<i4', 'fortran_order': True, 'shape': (4,)}", vals, 16);
    assert_int_equal(npy_parse_header(file, n, "f.npy", &h, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "fortran_order"));
}

static void test_open_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_npy_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    uint8_t file[256];
    float vals[4] = {0.5f, 1.5f, 2.5f, 3.5f};
    size_t n = make_npy(file, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                        vals, sizeof(vals));
    assert_int_equal(write(fd, file, n), (ssize_t)n);
    close(fd);

    npy_array a;
    hdm_err err = {0};
    assert_int_equal(npy_open(path, &a, &err), 0);
    assert_non_null(a.map);
    assert_true(npy_get_f32(&a, 3) == 3.5f);
    npy_close(&a);
    npy_close(&a); /* zeroed: harmless */
    npy_close(NULL);

    /* an empty file */
    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    assert_int_equal(npy_open(path, &a, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "not a .npy file"));
    unlink(path);
    assert_int_equal(npy_open(path, &a, &err), -HDM_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, path));
    assert_int_equal(npy_open("/tmp", &a, &err), -HDM_E_BAD_REQUEST);
}

/* npy_write, read back by the one header parser (and by npy_open for floats). */
static void test_write_round_trip(void **state)
{
    (void)state;
    char path[] = "/tmp/test_npy_write_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    uint8_t bytes[6] = {1, 2, 3, 4, 5, 6};
    float floats[3] = {0.5f, -1.0f, 2.25f};
    const hdm_tensor cases[] = {
        {.dtype = HDM_DT_UINT8, .ndim = 2, .shape = {2, 3}, .data = bytes, .nbytes = 6},
        {.dtype = HDM_DT_FLOAT32, .ndim = 1, .shape = {3}, .data = floats, .nbytes = 12},
    };
    for (size_t c = 0; c < 2; c++) {
        const hdm_tensor *t = &cases[c];
        hdm_err err;
        assert_int_equal(npy_write(path, t, &err), 0);
        uint8_t file[256];
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        size_t len = fread(file, 1, sizeof(file), f);
        fclose(f);
        npy_header h;
        assert_int_equal(npy_parse_header(file, len, path, &h, &err), 0);
        assert_int_equal(h.dtype, t->dtype);
        assert_int_equal(h.ndim, t->ndim);
        assert_memory_equal(h.shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
        assert_int_equal(h.data_offset % 64, 0);
        assert_int_equal(len - h.data_offset, t->nbytes);
        assert_memory_equal(file + h.data_offset, t->data, t->nbytes);
    }
    npy_array a;
    hdm_err err;
    assert_int_equal(npy_open(path, &a, &err), 0);
    assert_true(npy_get_f32(&a, 2) == 2.25f);
    npy_close(&a);
    hdm_tensor bad = {.dtype = (hdm_dtype)42, .ndim = 1, .shape = {1}};
    assert_int_equal(npy_write(path, &bad, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(npy_write("/nonexistent-dir/x.npy", &cases[0], &err), -HDM_E_INTERNAL);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_v1_f32),
        cmocka_unit_test(test_good_v2_v3_f16),
        cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_parse_header_dtypes),
        cmocka_unit_test(test_open_file),
        cmocka_unit_test(test_write_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
