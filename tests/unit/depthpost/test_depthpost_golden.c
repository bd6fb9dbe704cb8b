/*
 * test_depthpost_golden.c - depthpost against GM's hailo-depth run by
 * Python (tests/data/depth, README there): for every recorded request the
 * statistics must be equal, the .npz array within 1e-6 (its .npy header
 * byte-identical), the colormapped and 16-bit PNGs pixel-identical; and the
 * statistics of 16 recipe-built maps (1 to 131073 values) equal.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "common/npy.h"
#include "depth_test_util.h"
#include "depthpost/depthpost.h"

static char data_dir[800];

static void path_of(char *out, size_t size, const char *rel)
{
    snprintf(out, size, "%s/depth/%s", data_dir, rel);
}

static cJSON *load_json(const char *rel)
{
    char path[1200];
    size_t len;
    path_of(path, sizeof(path), rel);
    uint8_t *text = test_read_file(path, &len);
    if (text == NULL)
        fail_msg("cannot read %s", path);
    cJSON *j = cJSON_ParseWithLength((const char *)text, len);
    free(text);
    assert_non_null(j);
    return j;
}

static float *load_map(const char *rel, int *h, int *w)
{
    char path[1200];
    npy_array a;
    hdm_err err = {0};
    path_of(path, sizeof(path), rel);
    if (npy_open(path, &a, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(a.dtype, HDM_DT_FLOAT32);
    assert_int_equal(a.ndim, 2);
    *h = (int)a.shape[0];
    *w = (int)a.shape[1];
    float *m = malloc(a.nbytes);
    memcpy(m, a.data, a.nbytes);
    npy_close(&a);
    return m;
}

static double num(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void check_stats(const depthpost_stats *got, const cJSON *want, const char *what)
{
    double w[4] = {num(want, "min"), num(want, "max"), num(want, "mean"), num(want, "p95")};
    double g[4] = {got->min, got->max, got->mean, got->p95};
    static const char *const names[4] = {"min", "max", "mean", "p95"};
    for (int i = 0; i < 4; i++)
        if (g[i] != w[i])
            fail_msg("%s: stats.%s is %.17g, Python says %.17g", what, names[i], g[i], w[i]);
}

static void check_npz(const buf *npz, const char *expected_rel, const char *what)
{
    char path[1200];
    size_t want_len, got_len;
    path_of(path, sizeof(path), expected_rel);
    uint8_t *want = test_read_file(path, &want_len);
    assert_non_null(want);
    uint8_t *got = test_npz_member(npz->data, npz->len, &got_len);
    assert_int_equal(got_len, want_len);
    size_t header = 10 + (size_t)(want[8] | want[9] << 8);
    assert_memory_equal(got, want, header);
    for (size_t off = header; off + 4 <= want_len; off += 4) {
        float a, b;
        memcpy(&a, got + off, 4);
        memcpy(&b, want + off, 4);
        if (!(fabsf(a - b) <= 1e-6f))
            fail_msg("%s: value %zu is %.9g, Python says %.9g", what, (off - header) / 4, a, b);
    }
    free(want);
    free(got);
}

static void check_png(const buf *png, const char *expected_rel, const char *what)
{
    char path[1200];
    size_t len;
    path_of(path, sizeof(path), expected_rel);
    uint8_t *data = test_read_file(path, &len);
    assert_non_null(data);
    test_png want = test_png_read(data, len);
    test_png got = test_png_read(png->data, png->len);
    assert_int_equal(got.width, want.width);
    assert_int_equal(got.height, want.height);
    assert_int_equal(got.bit_depth, want.bit_depth);
    assert_int_equal(got.channels, want.channels);
    size_t n = (size_t)want.width * want.height * want.channels;
    for (size_t i = 0; i < n; i++)
        if (got.samples[i] != want.samples[i])
            fail_msg("%s: sample %zu is %u, Python's is %u", what, i, got.samples[i],
                     want.samples[i]);
    test_png_free(&want);
    test_png_free(&got);
    free(data);
}

static void test_runs(void **state)
{
    (void)state;
    cJSON *runs = load_json("runs.json");
    int count = 0;
    const cJSON *run;
    cJSON_ArrayForEach(run, runs)
    {
        const char *map_name = cJSON_GetObjectItem(run, "map")->valuestring;
        const cJSON *params = cJSON_GetObjectItem(run, "params");
        char rel[200], what[400];
        int h, w;
        snprintf(rel, sizeof(rel), "maps/%s", map_name);
        float *map = load_map(rel, &h, &w);
        size_t n = (size_t)h * (size_t)w;
        bool normalize = cJSON_IsTrue(cJSON_GetObjectItem(params, "normalize"));
        const cJSON *cm_name = cJSON_GetObjectItem(params, "colormap");
        snprintf(what, sizeof(what), "%s normalize=%d colormap=%s", map_name, normalize,
                 cJSON_IsString(cm_name) ? cm_name->valuestring : "-");
        if (normalize)
            depthpost_normalize(map, n);

        const cJSON *stats = cJSON_GetObjectItem(run, "stats");
        if (stats) {
            depthpost_stats s;
            assert_int_equal(depthpost_stats_compute(map, n, &s, NULL), 0);
            check_stats(&s, stats, what);
        }
        const cJSON *item = cJSON_GetObjectItem(run, "npy");
        if (item) {
            buf npz = {0};
            assert_int_equal(depthpost_npz(map, h, w, DEPTHPOST_NPZ_LEVEL_NUMPY, &npz, NULL), 0);
            check_npz(&npz, item->valuestring, what);
            buf_free(&npz);
        }
        item = cJSON_GetObjectItem(run, "image");
        if (item) {
            const depthpost_colormap *cm = depthpost_colormap_find(cm_name->valuestring);
            assert_non_null(cm);
            buf png = {0};
            assert_int_equal(depthpost_png_color(map, h, w, cm, 1, &png, NULL), 0);
            check_png(&png, item->valuestring, what);
            buf_free(&png);
        }
        item = cJSON_GetObjectItem(run, "png16");
        if (item) {
            buf png = {0};
            assert_int_equal(depthpost_png16(map, h, w, 1, &png, NULL), 0);
            check_png(&png, item->valuestring, what);
            buf_free(&png);
        }
        free(map);
        count++;
    }
    assert_true(count >= 40);
    cJSON_Delete(runs);
}

static void test_stats_recipes(void **state)
{
    (void)state;
    cJSON *table = load_json("stats-lcg.json");
    const cJSON *row;
    cJSON_ArrayForEach(row, table)
    {
        size_t n = (size_t)num(row, "n");
        uint32_t s = (uint32_t)num(row, "seed"), span = (uint32_t)num(row, "span");
        float *m = malloc(n * sizeof(float));
        for (size_t i = 0; i < n; i++) {
            s = s * 1664525u + 1013904223u;
            m[i] = (float)((int64_t)((s >> 8) % span) - (int64_t)(span / 2)) / 1024.0f;
        }
        depthpost_stats st;
        char what[64];
        snprintf(what, sizeof(what), "recipe n=%zu", n);
        assert_int_equal(depthpost_stats_compute(m, n, &st, NULL), 0);
        check_stats(&st, cJSON_GetObjectItem(row, "stats"), what);
        free(m);
    }
    cJSON_Delete(table);
}

int main(void)
{
    const char *dir = getenv("HDM_TEST_DATA");
    snprintf(data_dir, sizeof(data_dir), "%s", dir ? dir : "tests/data");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_stats_recipes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
