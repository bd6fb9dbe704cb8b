/* test_tensorfile.c - hailo-devctl's tensor files: .npy or raw bytes, checked
 * against --dtype/--shape, and --shape parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/npy.h"
#include "devctl/tensorfile.h"

static char dir[] = "/tmp/hdm-test-tensorfile-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static void test_parse_shape(void **state)
{
    (void)state;
    int64_t shape[HDM_MAX_DIMS];
    int ndim = 0;
    hdm_err err;
    assert_int_equal(tensorfile_parse_shape("1,224,224,3", shape, &ndim, &err), 0);
    assert_int_equal(ndim, 4);
    assert_int_equal(shape[1], 224);
    assert_int_equal(tensorfile_parse_shape("2x3", shape, &ndim, &err), 0);
    assert_int_equal(ndim, 2);
    assert_int_equal(tensorfile_parse_shape("", shape, &ndim, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "shape is empty");
    assert_int_equal(tensorfile_parse_shape("1,-2", shape, &ndim, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(tensorfile_parse_shape("1;2", shape, &ndim, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "shape 1;2: unexpected \";2\"");
    assert_int_equal(tensorfile_parse_shape("1,1,1,1,1,1,1,1,1", shape, &ndim, &err),
                     -HDM_E_BAD_REQUEST);
}

static void test_npy_file(void **state)
{
    (void)state;
    char p[256];
    path_of(p, sizeof(p), "t.npy");
    float v[6] = {1, 2, 3, 4, 5, 6};
    hdm_tensor t = {.dtype = HDM_DT_FLOAT32, .ndim = 2, .shape = {2, 3}, .data = v, .nbytes = 24};
    hdm_err err;
    assert_int_equal(npy_write(p, &t, &err), 0);

    hdm_tensor got;
    assert_int_equal(tensorfile_load(p, HDM_DT__COUNT, 0, NULL, &got, &err), 0);
    assert_int_equal(got.dtype, HDM_DT_FLOAT32);
    assert_int_equal(got.ndim, 2);
    assert_int_equal(got.shape[1], 3);
    assert_memory_equal(got.data, v, sizeof(v));
    free(got.data);
    /* A given dtype or shape must agree with the file's. */
    static const int64_t right[2] = {2, 3}, wrong[2] = {3, 2};
    assert_int_equal(tensorfile_load(p, HDM_DT_FLOAT32, 2, right, &got, &err), 0);
    free(got.data);
    assert_int_equal(tensorfile_load(p, HDM_DT_UINT8, 0, NULL, &got, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "holds float32, not the --dtype uint8"));
    assert_int_equal(tensorfile_load(p, HDM_DT__COUNT, 2, wrong, &got, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "--shape does not match"));
}

static void test_raw_file(void **state)
{
    (void)state;
    char p[256];
    path_of(p, sizeof(p), "t.raw");
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    fwrite("abcdef", 1, 6, f);
    fclose(f);
    static const int64_t shape[2] = {2, 3}, bigger[2] = {2, 4};
    hdm_tensor got;
    hdm_err err;
    assert_int_equal(tensorfile_load(p, HDM_DT_UINT8, 2, shape, &got, &err), 0);
    assert_memory_equal(got.data, "abcdef", 6);
    free(got.data);
    assert_int_equal(tensorfile_load(p, HDM_DT__COUNT, 0, NULL, &got, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "give --dtype and --shape"));
    assert_int_equal(tensorfile_load(p, HDM_DT_UINT8, 2, bigger, &got, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "holds 6 data bytes but uint8 of that shape needs 8"));
    path_of(p, sizeof(p), "missing.raw");
    assert_int_equal(tensorfile_load(p, HDM_DT_UINT8, 2, shape, &got, &err), -HDM_E_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_shape),
        cmocka_unit_test(test_npy_file),
        cmocka_unit_test(test_raw_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
