/*
 * test_posepost_argsort.c - posepost_argsort gives numpy 1.24's argsort
 * order, ties and NaN included, on the arrays of tests/data/pose/argsort.json
 * (one of them drives numpy's introsort into its heapsort fallback).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pose_test_util.h"
#include "posepost/posepost_internal.h"

static void test_numpy_order(void **state)
{
    (void)state;
    cJSON *all = pose_load_json("pose/argsort.json");
    const cJSON *c;
    int arrays = 0;
    cJSON_ArrayForEach(c, all)
    {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        const cJSON *vals = cJSON_GetObjectItem(c, "values");
        const cJSON *want = cJSON_GetObjectItem(c, "argsort");
        size_t n = (size_t)cJSON_GetArraySize(vals);
        double *v = malloc((n ? n : 1) * sizeof(double));
        size_t *idx = malloc((n ? n : 1) * sizeof(size_t));
        size_t i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, vals) v[i++] = cJSON_IsNull(e) ? NAN : e->valuedouble;
        posepost_argsort(v, n, idx);
        i = 0;
        cJSON_ArrayForEach(e, want)
        {
            if (idx[i] != (size_t)e->valuedouble)
                fail_msg("%s: position %zu holds %zu, numpy has %d", name, i, idx[i],
                         (int)e->valuedouble);
            i++;
        }
        assert_int_equal(i, n);
        free(v);
        free(idx);
        arrays++;
    }
    assert_int_equal(arrays, 16);
    cJSON_Delete(all);
}

static void test_sorted_and_permutation(void **state)
{
    (void)state;
    /* Any input: the result is a permutation in non-decreasing order. */
    size_t n = 3001;
    double *v = malloc(n * sizeof(double));
    size_t *idx = malloc(n * sizeof(size_t));
    unsigned char *seen = calloc(n, 1);
    uint32_t s = 99;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        v[i] = (double)((s >> 8) % 50);
    }
    posepost_argsort(v, n, idx);
    for (size_t i = 0; i < n; i++) {
        assert_true(idx[i] < n);
        assert_false(seen[idx[i]]);
        seen[idx[i]] = 1;
        if (i > 0)
            assert_true(v[idx[i - 1]] <= v[idx[i]]);
    }
    free(v);
    free(idx);
    free(seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numpy_order),
        cmocka_unit_test(test_sorted_and_permutation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
