/*
 * test_depthpost_colormap.c - names, and matplotlib's index rule: row
 * int(v * 256), 1.0 -> 255, above 1 -> 255, below 0 -> 0, NaN -> black.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "depthpost/depthpost.h"

static void colour(const depthpost_colormap *cm, float v, uint8_t out[3])
{
    depthpost_colormap_apply(cm, &v, 1, out);
}

static void assert_same_colour(const depthpost_colormap *cm, float a, float b)
{
    uint8_t ca[3], cb[3];
    colour(cm, a, ca);
    colour(cm, b, cb);
    assert_memory_equal(ca, cb, 3);
}

static void test_names(void **state)
{
    (void)state;
    int n = 0;
    for (const char *const *p = depthpost_colormap_names; *p; p++, n++)
        assert_non_null(depthpost_colormap_find(*p));
    assert_int_equal(n, 5);
    assert_string_equal(depthpost_colormap_names[0], "viridis");
    assert_string_equal(depthpost_colormap_names[4], "jet");
    assert_null(depthpost_colormap_find("Viridis"));
    assert_null(depthpost_colormap_find("viridis_r"));
    assert_null(depthpost_colormap_find(""));
    assert_null(depthpost_colormap_find(NULL));
}

static void test_known_rows(void **state)
{
    (void)state;
    uint8_t c[3];
    /* matplotlib 3.6: viridis(0) = (0.267004, 0.004874, 0.329415) -> 68,1,84;
     * viridis(255) = (0.993248, 0.906157, 0.143936) -> 253,231,36. */
    const depthpost_colormap *v = depthpost_colormap_find("viridis");
    colour(v, 0.0f, c);
    assert_memory_equal(c, ((uint8_t[]){68, 1, 84}), 3);
    colour(v, 1.0f, c);
    assert_memory_equal(c, ((uint8_t[]){253, 231, 36}), 3);
    /* jet starts dark blue (0, 0, 0.5) and ends dark red (0.5, 0, 0). */
    const depthpost_colormap *j = depthpost_colormap_find("jet");
    colour(j, 0.0f, c);
    assert_memory_equal(c, ((uint8_t[]){0, 0, 127}), 3);
    colour(j, 1.0f, c);
    assert_memory_equal(c, ((uint8_t[]){127, 0, 0}), 3);
}

static void test_index_rule(void **state)
{
    (void)state;
    for (const char *const *p = depthpost_colormap_names; *p; p++) {
        const depthpost_colormap *cm = depthpost_colormap_find(*p);
        /* Rows are [k/256, (k+1)/256). */
        assert_same_colour(cm, 0.5f, 128.0f / 256.0f);
        assert_same_colour(cm, nextafterf(1.0f / 256.0f, 0.0f), 0.0f);
        assert_same_colour(cm, 1.0f / 256.0f, 1.5f / 256.0f);
        assert_same_colour(cm, nextafterf(1.0f, 0.0f), 1.0f);
        assert_same_colour(cm, 255.0f / 256.0f, 1.0f);
        /* Out of range: under -> row 0, over -> row 255. */
        assert_same_colour(cm, -0.001f, 0.0f);
        assert_same_colour(cm, -1e30f, 0.0f);
        assert_same_colour(cm, -0.0f, 0.0f);
        assert_same_colour(cm, 1.5f, 1.0f);
        assert_same_colour(cm, INFINITY, 1.0f);
        assert_same_colour(cm, -INFINITY, 0.0f);
        assert_same_colour(cm, 3e38f, 1.0f); /* v * 256 overflows to inf */
        uint8_t c[3];
        colour(cm, NAN, c);
        assert_memory_equal(c, ((uint8_t[]){0, 0, 0}), 3);
    }
    /* Different rows really differ (viridis is strictly monotone in blue->yellow). */
    uint8_t a[3], b[3];
    const depthpost_colormap *v = depthpost_colormap_find("viridis");
    colour(v, 0.0f, a);
    colour(v, 1.0f / 256.0f, b);
    assert_memory_not_equal(a, b, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_known_rows),
        cmocka_unit_test(test_index_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
