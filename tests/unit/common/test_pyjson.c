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

/* Decimals of at most three places (times in ms, counts, tenths) take a
 * short cut in pyfloat_repr; the values next to it and past its bounds
 * (10^12, more places) do not.  Expected: Python 3's repr of each value. */
static void test_repr_three_places(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *repr;
    } cases[] = {
        {0x1.0624dd2f1a9fcp-10, "0.001"},
        {0x1.0624dd2f1a9fcp-9, "0.002"},
        {0x1.47ae147ae147bp-7, "0.01"},
        {0x1.999999999999ap-4, "0.1"},
        {0x1.0000000000000p-1, "0.5"},
        {0x1.0000000000000p+0, "1.0"},
        {0x1.004189374bc6ap+0, "1.001"},
        {0x1.4000000000000p+1, "2.5"},
        {0x1.899999999999ap+3, "12.3"},
        {0x1.8ffef9db22d0ep+6, "99.999"},
        {0x1.edd2f1a9fbe77p+6, "123.456"},
        {0x1.f400000000000p+9, "1000.0"},
        {0x1.c204000000000p+11, "3600.125"},
        {0x1.517fffbe76c8bp+16, "86399.999"},
        {0x1.ac45da1c74bc7p+30, "1796306567.114"},
        {0x1.ac45da1c66666p+30, "1796306567.1"},
        {0x1.d1a94a1fffff8p+39, "999999999999.999"},
        {0x1.d1a94a1fff000p+39, "999999999999.5"},
        {0x1.89374bc6a7efap-10, "0.0015"},
        {0x1.f9acffa7eb6bfp-4, "0.123456"},
        {0x1.d1a94a2000000p+39, "1000000000000.0"},
        {0x1.d1a94a2001000p+39, "1000000000000.5"},
        {0x1.0000000000001p+0, "1.0000000000000002"},
        {0x1.3333333333334p-2, "0.30000000000000004"},
        {0x1.0624dd2f1a9fdp+42, "4503599627370.497"},
        {0x1.d6f34540c49bap+26, "123456789.012"},
        {0x1.ed0034403126fp+28, "516948804.012"},
        {0x1.28e14ae11a9fcp+28, "311301294.069"},
        {0x1.de8d3aa2a7efap+27, "250898901.083"},
        {0x1.7b425ed70a3d7p+22, "6213783.71"},
        {0x1.bf4d7cf983127p+29, "938061727.189"},
        {0x1.76153e4718937p+29, "784508872.887"},
        {0x1.eda3faa59999ap+27, "258809813.175"},
        {0x1.cff431ea45a1dp+27, "243245455.321"},
        {0x1.333dd203ae148p+28, "322166048.23"},
        {0x1.aa9a430b0624ep+29, "894650465.378"},
        {0x1.5cd8a1338d4fep+29, "731583526.444"},
        {0x1.3cea1d7bb020cp+29, "664617903.461"},
        {0x1.5c00d549ba5e3p+24, "22806741.288"},
        {0x1.d137ac2441893p+27, "243907937.133"},
        {-0x1.0624dd2f1a9fcp-10, "-0.001"},
        {-0x1.0624dd2f1a9fcp-9, "-0.002"},
        {-0x1.47ae147ae147bp-7, "-0.01"},
        {-0x1.999999999999ap-4, "-0.1"},
        {-0x1.0000000000000p-1, "-0.5"},
        {-0x1.0000000000000p+0, "-1.0"},
    };
    char buf[PYFLOAT_REPR_MAX];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(pyfloat_repr(cases[i].v, buf, sizeof(buf)), strlen(cases[i].repr));
        assert_string_equal(buf, cases[i].repr);
    }
    /* Every time in ms of the first 1000 s, a stride of 997 ms (a prime:
     * every fraction comes round) through the rest of the day and one
     * through ten years: the text reads back as the value and has no digit
     * to spare.  (Every ms of the whole day took 26 s here and over 4 min
     * under qemu, past the unit tests' timeout.) */
    for (uint64_t ms = 0; ms < 315360000000ull; ms += ms < 1000000    ? 1
                                                      : ms < 86400000 ? 997
                                                                      : 7919993) {
        double v = (double)ms / 1000.0;
        assert_true(pyfloat_repr(v, buf, sizeof(buf)) > 0);
        assert_true(strtod(buf, NULL) == v);
        size_t n = strlen(buf);
        assert_true(n >= 3 && (buf[n - 1] != '0' || buf[n - 2] == '.'));
    }
}

static void test_uint_items(void **state)
{
    (void)state;
    cJSON *o = cJSON_CreateObject();
    assert_non_null(pyjson_add_uint(o, "zero", 0));
    assert_non_null(pyjson_add_uint(o, "bytes", 314572800));
    assert_non_null(pyjson_add_uint(o, "big", 8589934592ull));
    assert_non_null(pyjson_add_uint(o, "max", UINT64_MAX));
    char *text = cJSON_PrintUnformatted(o);
    assert_string_equal(text, "{\"zero\":0,\"bytes\":314572800,\"big\":8589934592,"
                              "\"max\":18446744073709551615}");
    free(text);
    assert_true(cJSON_GetObjectItem(o, "bytes")->valuedouble == 314572800.0);
    cJSON_Delete(o);
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
        cmocka_unit_test(test_repr_three_places),   cmocka_unit_test(test_uint_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
