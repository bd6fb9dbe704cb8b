/*
 * test_reqjson.c - reqjson_parse gives the tree, end pointer and error
 * position cJSON gives, whatever the text: long strings cut out and put
 * back (values, in arrays, nested), and the texts it must parse whole
 * (keys, escapes, the marker itself, short strings, broken JSON).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manager/reqjson.h"

/* A string of n base64-like characters. */
static char *filler(size_t n, char c0)
{
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)(c0 + (char)(i % 26));
    s[n] = '\0';
    return s;
}

/* reqjson_parse and cJSON agree on `text` (its first len bytes). */
static void same_as_cjson(const char *text, size_t len)
{
    const char *end_c = NULL, *end_r = NULL;
    cJSON *c = cJSON_ParseWithLengthOpts(text, len, &end_c, false);
    const char *err_c = c ? NULL : cJSON_GetErrorPtr();
    cJSON *r = reqjson_parse(text, len, &end_r);
    const char *err_r = r ? NULL : cJSON_GetErrorPtr();
    assert_int_equal(c == NULL, r == NULL);
    if (!c) {
        assert_ptr_equal(err_c, err_r);
        return;
    }
    assert_ptr_equal(end_c, end_r);
    char *pc = cJSON_PrintUnformatted(c), *pr = cJSON_PrintUnformatted(r);
    assert_string_equal(pc, pr);
    free(pc);
    free(pr);
    cJSON_Delete(c);
    cJSON_Delete(r);
}

static void check(const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    assert_true(vasprintf(&text, fmt, ap) >= 0);
    va_end(ap);
    same_as_cjson(text, strlen(text));
    free(text);
}

static void test_long_values_come_back(void **state)
{
    (void)state;
    char *a = filler(REQJSON_LONG_STRING, 'A'), *b = filler(300000, 'a');
    check("{\"action\":\"infer\",\"input_data\":{\"tensor\":{\"dtype\":\"uint8\",\"shape\":[1],"
          "\"data_b64\":\"%s\"}},\"request_id\":\"x\"}",
          b);
    check("{\"frames\":[\"%s\",\"short\",\"%s\",{\"deep\":[[\"%s\"]]}],\"n\":1}  \n", a, b, a);
    check("[\"%s\"]", b);
    check("\"%s\"", b); /* a bare string value */
    free(a);
    free(b);
}

static void test_texts_parsed_whole(void **state)
{
    (void)state;
    char *a = filler(REQJSON_LONG_STRING + 10, 'A');
    check("{\"%s\":1}", a);                                /* a long key stays a key */
    check("{\"k\":\"\\n%s\"}", a);                         /* escapes: cJSON's own copy */
    check("{\"k\":\"%s\",\"m\":\"\\u0001\"}", a);          /* the marker in the request */
    check("{\"k\":\"%s\",\"m\":\"\x01\"}", a);             /* a raw 0x01 byte */
    check("{\"k\":\"%.*s\"}", REQJSON_LONG_STRING - 1, a); /* just too short */
    check("{\"k\":\"\",\"e\":[]}");
    free(a);
}

static void test_errors_and_end_are_cjsons(void **state)
{
    (void)state;
    char *a = filler(REQJSON_LONG_STRING * 2, 'A');
    check("{\"k\":\"%s\"} {\"x\":\"%s\"}", a, a); /* data after the value */
    check("{\"k\":\"%s\",}", a);                  /* broken after a long string */
    check("{\"k\":\"%s\", \"j\": tru}", a);
    check("{\"k\":\"%s", a);                /* unterminated */
    check("{\"k\":\"%s\"", a);              /* unclosed object */
    check("{\"k\":[\"%s\" \"%s\"]}", a, a); /* missing comma */
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_values_come_back),
        cmocka_unit_test(test_texts_parsed_whole),
        cmocka_unit_test(test_errors_and_end_are_cjsons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
