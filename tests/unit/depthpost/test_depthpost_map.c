/*
 * test_depthpost_map.c - extraction of the map from the model output (the
 * original's squeeze rules), min/max with NaN, normalisation, and the
 * logit-to-metres transform.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "depthpost/depthpost.h"

static hdm_tensor tensor(int ndim, const int64_t *shape, float *data)
{
    hdm_tensor t = {.dtype = HDM_DT_FLOAT32, .ndim = ndim, .data = data};
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        t.shape[i] = shape[i];
        n *= (size_t)shape[i];
    }
    t.nbytes = n * sizeof(float);
    return t;
}

static float *iota(size_t n)
{
    float *p = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        p[i] = (float)i;
    return p;
}

static void test_extract_shapes(void **state)
{
    (void)state;
    float *data = iota(4 * 5 * 3);
    float *map = NULL;
    int h = 0, w = 0;
    hdm_err err = {0};

    /* The C manager's (1, H, W, 1) and GM's (H, W, 1): the map as it is. */
    hdm_tensor t = tensor(4, (const int64_t[]){1, 4, 5, 1}, data);
    assert_int_equal(depthpost_extract(&t, &map, &h, &w, &err), 0);
    assert_int_equal(h, 4);
    assert_int_equal(w, 5);
    assert_memory_equal(map, data, 20 * sizeof(float));
    free(map);
    t = tensor(2, (const int64_t[]){4, 5}, data);
    assert_int_equal(depthpost_extract(&t, &map, &h, &w, &err), 0);
    assert_memory_equal(map, data, 20 * sizeof(float));
    free(map);

    /* 3-D after squeezing: [0] when the first dimension is 3 ... */
    t = tensor(4, (const int64_t[]){1, 3, 4, 5}, data);
    assert_int_equal(depthpost_extract(&t, &map, &h, &w, &err), 0);
    assert_int_equal(h, 4);
    assert_int_equal(w, 5);
    assert_memory_equal(map, data, 20 * sizeof(float));
    free(map);
    /* ... else channel 0 of HWC. */
    t = tensor(3, (const int64_t[]){4, 5, 3}, data);
    assert_int_equal(depthpost_extract(&t, &map, &h, &w, &err), 0);
    for (int i = 0; i < 20; i++)
        assert_true(map[i] == (float)(i * 3));
    free(map);

    /* A 1x1 or 1xN output squeezes below two dimensions: the original fails. */
    t = tensor(4, (const int64_t[]){1, 1, 1, 1}, data);
    assert_int_equal(depthpost_extract(&t, &map, &h, &w, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "[1,1,1,1]"));
    t = tensor(3, (const int64_t[]){1, 5, 1}, data);
    assert_int_equal(depthpost_extract(&t, &map, &h, &w, &err), -HDM_E_DEVICE_ERROR);
    t = tensor(4, (const int64_t[]){2, 2, 3, 5}, data);
    assert_int_equal(depthpost_extract(&t, &map, &h, &w, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "unexpected depth output shape"));
    t = tensor(3, (const int64_t[]){4, 0, 3}, data);
    assert_int_equal(depthpost_extract(&t, &map, &h, &w, &err), -HDM_E_DEVICE_ERROR);

    /* dtype and byte count are checked. */
    t = tensor(2, (const int64_t[]){4, 5}, data);
    t.dtype = HDM_DT_UINT8;
    assert_int_equal(depthpost_extract(&t, &map, &h, &w, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "uint8"));
    t = tensor(2, (const int64_t[]){4, 5}, data);
    t.nbytes -= 4;
    assert_int_equal(depthpost_extract(&t, &map, &h, &w, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "bytes"));
    t = tensor(2, (const int64_t[]){4, -5}, data);
    assert_int_equal(depthpost_extract(&t, &map, &h, &w, &err), -HDM_E_DEVICE_ERROR);
    assert_int_equal(depthpost_extract(NULL, &map, &h, &w, &err), -HDM_E_DEVICE_ERROR);
    free(data);
}

static void test_extract_unaligned(void **state)
{
    (void)state;
    unsigned char *raw = malloc(6 * sizeof(float) + 1);
    float src[6] = {1.5f, -2.0f, 3.25f, 4.0f, 5.0f, 6.5f};
    memcpy(raw + 1, src, sizeof(src));
    hdm_tensor t = {.dtype = HDM_DT_FLOAT32, .ndim = 2, .shape = {2, 3}, .data = raw + 1,
                    .nbytes = sizeof(src)};
    float *map;
    int h, w;
    assert_int_equal(depthpost_extract(&t, &map, &h, &w, NULL), 0);
    assert_memory_equal(map, src, sizeof(src));
    free(map);
    free(raw);
}

static void test_minmax_normalize(void **state)
{
    (void)state;
    float m[4] = {1, 2, 3, 5};
    float lo, hi;
    depthpost_minmax(m, 4, &lo, &hi);
    assert_true(lo == 1.0f && hi == 5.0f);
    /* GM's own unit test: 0 at the minimum, 1 at the maximum. */
    assert_true(depthpost_normalize(m, 4));
    assert_true(m[0] == 0.0f && m[1] == 0.25f && m[2] == 0.5f && m[3] == 1.0f);
    /* Normalising again changes nothing (the service relies on it). */
    float again[4];
    memcpy(again, m, sizeof(m));
    depthpost_normalize(again, 4);
    assert_memory_equal(again, m, sizeof(m));

    float c[3] = {7, 7, 7};
    assert_false(depthpost_normalize(c, 3));
    assert_true(c[0] == 7.0f && c[2] == 7.0f);

    float n[3] = {1, NAN, 3};
    depthpost_minmax(n, 3, &lo, &hi);
    assert_true(isnan(lo) && isnan(hi));
    assert_false(depthpost_normalize(n, 3));
    assert_true(n[0] == 1.0f && n[2] == 3.0f);
    depthpost_minmax(n, 0, &lo, &hi);
    assert_true(isnan(lo));

    /* float32 arithmetic, as numpy: (d - min) / (max - min) rounded to float. */
    float f[3] = {0.1f, 0.7f, 0.3f};
    depthpost_normalize(f, 3);
    assert_true(f[2] == (0.3f - 0.1f) / (0.7f - 0.1f));
}

static void test_transform(void **state)
{
    (void)state;
    float x[5] = {-8.0f, -3.0f, 0.0f, 2.0f, 10.0f};
    float orig[5];
    memcpy(orig, x, sizeof(x));
    depthpost_transform(x, 5);
    for (int i = 0; i < 5; i++) {
        double s = 1.0 / (1.0 + exp(-(double)orig[i]));
        double want = 1.0 / (s * 10.0 + 0.009);
        assert_true(fabs(x[i] - want) <= 1e-6 * want);
        if (i > 0)
            assert_true(x[i] < x[i - 1]); /* larger logit: nearer */
    }
    /* sigmoid 0.5: 1 / 5.009 m */
    assert_true(fabsf(x[2] - 1.0f / 5.009f) < 1e-6f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extract_shapes),
        cmocka_unit_test(test_extract_unaligned),
        cmocka_unit_test(test_minmax_normalize),
        cmocka_unit_test(test_transform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
