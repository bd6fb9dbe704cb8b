/*
 * Unit tests of common/pyjson.c against Python's own output
 * (floats.txt and trees.txt in tests/data/pyjson, written by make_expected.py
 * with python3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pyjson.h"

static FILE *open_data(const char *name)
{
    const char *dir = getenv("HDM_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof(path), "%s/pyjson/%s", dir != NULL ? dir : "tests/data", name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    return f;
}

static void test_repr_examples(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *repr;
    } cases[] = {
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {3.0, "3.0"},
        {1e-05, "1e-05"},
        {0.0001, "0.0001"},
        {1e16, "1e+16"},
        {1e15, "1000000000000000.0"},
        {0.1, "0.1"},
        {1.2345678901234568e+17, "1.2345678901234568e+17"},
        {-2.5, "-2.5"},
        {5e-324, "5e-324"},
        {1.7976931348623157e+308, "1.7976931348623157e+308"},
    };
    char buf[PYFLOAT_REPR_MAX];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(pyfloat_repr(cases[i].v, buf, sizeof(buf)), strlen(cases[i].repr));
        assert_string_equal(buf, cases[i].repr);
    }
    pyfloat_repr(NAN, buf, sizeof(buf));
    assert_string_equal(buf, "NaN");
    pyfloat_repr(INFINITY, buf, sizeof(buf));
    assert_string_equal(buf, "Infinity");
    pyfloat_repr(-INFINITY, buf, sizeof(buf));
    assert_string_equal(buf, "-Infinity");
}

static void test_repr_small_buffer(void **state)
{
    (void)state;
    char buf[4] = "xyz";
    assert_int_equal(pyfloat_repr(0.125, buf, sizeof(buf)), -1);
    assert_string_equal(buf, "");
    assert_int_equal(pyfloat_repr(0.5, buf, sizeof(buf)), 3);
    assert_string_equal(buf, "0.5");
    assert_int_equal(pyfloat_repr(0.5, buf, 0), -1);
}

/* Every value of floats.txt prints exactly as Python printed it. */
static void test_repr_matches_python(void **state)
{
    (void)state;
    FILE *f = open_data("floats.txt");
    char line[128];
    int n = 0, bad = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '#')
            continue;
        unsigned long long bits;
        char want[64];
        if (sscanf(line, "%llx %63s", &bits, want) != 2)
            fail_msg("bad line in floats.txt: %s", line);
        double v;
        uint64_t b = bits;
        memcpy(&v, &b, sizeof(v));
        char got[PYFLOAT_REPR_MAX];
        pyfloat_repr(v, got, sizeof(got));
        if (strcmp(got, want) != 0 && bad++ < 10)
            print_error("%016llx: python %s, ours %s\n", bits, want, got);
        n++;
    }
    fclose(f);
    assert_true(n > 5000);
    assert_int_equal(bad, 0);
}

static void unhex(const char *hex, size_t n, char *out)
{
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (char)v;
    }
    out[n / 2] = '\0';
}

/* Each tree of trees.txt, parsed by cJSON, prints as Python's three styles. */
static void test_print_matches_python(void **state)
{
    (void)state;
    FILE *f = open_data("trees.txt");
    static char line[65536];
    int n = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '#')
            continue;
        char *field[4];
        char *save = NULL;
        for (int i = 0; i < 4; i++) {
            field[i] = strtok_r(i == 0 ? line : NULL, " \n", &save);
            assert_non_null(field[i]);
        }
        char in[16384], want[16384];
        unhex(field[0], strlen(field[0]), in);
        cJSON *doc = cJSON_Parse(in);
        if (doc == NULL)
            fail_msg("cJSON cannot parse %s", in);
        static const enum pyjson_style styles[3] = {PYJSON_DUMPS, PYJSON_COMPACT, PYJSON_FLASK};
        for (int s = 0; s < 3; s++) {
            unhex(field[s + 1], strlen(field[s + 1]), want);
            char *got = pyjson_print(doc, styles[s]);
            assert_non_null(got);
            if (strcmp(got, want) != 0)
                fail_msg("style %d of %s:\n python %s\n ours   %s", s, field[0], want, got);
            free(got);
        }
        cJSON_Delete(doc);
        n++;
    }
    fclose(f);
    assert_true(n > 100);
}

/* Floats added with pyjson_add_float keep their .0 through cJSON's printer. */
static void test_float_items(void **state)
{
    (void)state;
    cJSON *o = cJSON_CreateObject();
    assert_non_null(pyjson_add_float(o, "score", 0.0));
    assert_non_null(pyjson_add_float(o, "t", 3.0));
    assert_non_null(pyjson_add_float(o, "small", 1e-05));
    cJSON *arr = cJSON_AddArrayToObject(o, "embedding");
    cJSON_AddItemToArray(arr, pyjson_float(0.5));
    cJSON_AddItemToArray(arr, pyjson_float(-1.0));
    cJSON_AddNumberToObject(o, "count", 2);

    char *c = cJSON_PrintUnformatted(o);
    assert_string_equal(
        c, "{\"score\":0.0,\"t\":3.0,\"small\":1e-05,\"embedding\":[0.5,-1.0],\"count\":2}");
    free(c);
    char *d = pyjson_print(o, PYJSON_DUMPS);
    assert_string_equal(d, "{\"score\": 0.0, \"t\": 3.0, \"small\": 1e-05, "
                           "\"embedding\": [0.5, -1.0], \"count\": 2}");
    free(d);
    assert_true(cJSON_GetObjectItem(o, "t")->valuedouble == 3.0);

    /* Read back by a JSON parser, the raw items are numbers again. */
    char *e = pyjson_print(o, PYJSON_COMPACT);
    cJSON *back = cJSON_Parse(e);
    assert_non_null(back);
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(back, "small")));
    assert_true(cJSON_GetObjectItem(back, "small")->valuedouble == 1e-05);
    cJSON_Delete(back);
    free(e);
    cJSON_Delete(o);
}

static void test_print_edges(void **state)
{
    (void)state;
    assert_null(pyjson_print(NULL, PYJSON_DUMPS));
    cJSON *n = cJSON_CreateNumber(-0.0);
    char *s = pyjson_print(n, PYJSON_DUMPS);
    assert_string_equal(s, "0");
    free(s);
    cJSON_Delete(n);
    n = cJSON_CreateNumber(NAN);
    s = pyjson_print(n, PYJSON_COMPACT);
    assert_string_equal(s, "NaN");
    free(s);
    cJSON_Delete(n);
    /* A string cJSON was handed directly: invalid bytes never go out raw. */
    cJSON *str = cJSON_CreateString("ok\xff\xc3(\xe2\x82");
    s = pyjson_print(str, PYJSON_COMPACT);
    assert_string_equal(s, "\"ok\xef\xbf\xbd\xef\xbf\xbd(\xef\xbf\xbd\"");
    free(s);
    s = pyjson_print(str, PYJSON_DUMPS);
    assert_string_equal(s, "\"ok\\ufffd\\ufffd(\\ufffd\"");
    free(s);
    cJSON_Delete(str);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repr_examples),       cmocka_unit_test(test_repr_small_buffer),
        cmocka_unit_test(test_repr_matches_python), cmocka_unit_test(test_print_matches_python),
        cmocka_unit_test(test_float_items),         cmocka_unit_test(test_print_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
