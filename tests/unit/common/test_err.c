/* test_err.c - the error table helpers, hdm_err, and dtype names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"

static void test_strerror_both_signs(void **state)
{
    (void)state;
    assert_string_equal(hdm_strerror(HDM_E_BAD_REQUEST), "bad request");
    assert_string_equal(hdm_strerror(-HDM_E_BAD_REQUEST), "bad request");
    assert_string_equal(hdm_strerror(-HDM_E_RESOURCE_EXHAUSTED), "device memory exhausted");
    assert_string_equal(hdm_strerror(-HDM_E_NOMEM), "out of memory");
    assert_string_equal(hdm_strerror(0), "success");
    assert_string_equal(hdm_strerror(HDM_E__COUNT), "unknown error");
    assert_string_equal(hdm_strerror(-1000), "unknown error");
    assert_string_equal(hdm_strerror(-2147483647 - 1), "unknown error");
}

static void test_code_names(void **state)
{
    (void)state;
    static const char *const protocol[] = {
        "bad_request", "not_found",         "unsupported", "too_large",    "resource_exhausted",
        "busy",        "deadline_exceeded", "cancelled",   "device_error", "internal",
    };
    for (int i = 0; i < 10; i++) {
        assert_string_equal(hdm_error_code_name(i + 1), protocol[i]);
        assert_string_equal(hdm_error_code_name(-(i + 1)), protocol[i]);
        assert_int_equal(hdm_error_code_from_name(protocol[i]), i + 1);
    }
    assert_string_equal(hdm_error_code_name(0), "ok");
    assert_string_equal(hdm_error_code_name(-HDM_E_UNAVAILABLE), "unavailable");
    assert_string_equal(hdm_error_code_name(-HDM_E_PROTOCOL), "protocol");
    /* Out of memory travels as "internal", which maps back to INTERNAL. */
    assert_string_equal(hdm_error_code_name(-HDM_E_NOMEM), "internal");
    assert_int_equal(hdm_error_code_from_name("internal"), HDM_E_INTERNAL);
    assert_int_equal(hdm_error_code_from_name("ok"), HDM_OK);
    assert_int_equal(hdm_error_code_from_name("no_such_code"), HDM_E_INTERNAL);
    assert_int_equal(hdm_error_code_from_name(""), HDM_E_INTERNAL);
    assert_int_equal(hdm_error_code_from_name(NULL), HDM_E_INTERNAL);
    assert_string_equal(hdm_error_code_name(99), "internal");
}

static void test_err_set_and_clear(void **state)
{
    (void)state;
    hdm_err err = {0};
    assert_int_equal(hdm_err_set(&err, HDM_E_BAD_REQUEST, "shape[%d] is negative", 2),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(err.code, HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "shape[2] is negative");
    /* A negative code is accepted too. */
    assert_int_equal(hdm_err_set(&err, -HDM_E_BUSY, "busy"), -HDM_E_BUSY);
    assert_int_equal(err.code, HDM_E_BUSY);
    assert_int_equal(hdm_err_set(NULL, HDM_E_NOT_FOUND, "x"), -HDM_E_NOT_FOUND);
    hdm_err_clear(&err);
    assert_int_equal(err.code, 0);
    assert_string_equal(err.msg, "");
    hdm_err_clear(NULL);
}

static void test_err_truncates_long_messages(void **state)
{
    (void)state;
    hdm_err err;
    char longs[2000];
    memset(longs, 'q', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    hdm_err_set(&err, HDM_E_INTERNAL, "%s", longs);
    assert_int_equal(strlen(err.msg), HDM_ERR_MSG_MAX - 1);
}

static void test_err_prefix(void **state)
{
    (void)state;
    hdm_err err;
    hdm_err_set(&err, HDM_E_NOT_FOUND, "model not found");
    assert_int_equal(hdm_err_prefix(&err, "load %s", "clip"), -HDM_E_NOT_FOUND);
    assert_string_equal(err.msg, "load clip: model not found");
    assert_int_equal(err.code, HDM_E_NOT_FOUND);

    /* Long prefixes and messages are cut, never overflowed. */
    char longs[1000];
    memset(longs, 'p', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    hdm_err_set(&err, HDM_E_BUSY, "tail");
    hdm_err_prefix(&err, "%s", longs);
    assert_int_equal(strlen(err.msg), HDM_ERR_MSG_MAX - 1);
    assert_int_equal(err.msg[0], 'p');
    hdm_err_set(&err, HDM_E_BUSY, "%s", longs);
    hdm_err_prefix(&err, "ctx");
    assert_int_equal(strlen(err.msg), HDM_ERR_MSG_MAX - 1);
    assert_memory_equal(err.msg, "ctx: ppp", 8);

    /* A prefix without an error still reports a failure. */
    assert_int_equal(hdm_err_prefix(NULL, "x"), -HDM_E_INTERNAL);
    hdm_err_clear(&err);
    assert_int_equal(hdm_err_prefix(&err, "x"), -HDM_E_INTERNAL);
}

static void test_dtypes(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        hdm_dtype dtype;
        size_t size;
    } all[] = {
        {"uint8", HDM_DT_UINT8, 1},     {"int8", HDM_DT_INT8, 1},   {"uint16", HDM_DT_UINT16, 2},
        {"int16", HDM_DT_INT16, 2},     {"int32", HDM_DT_INT32, 4}, {"float16", HDM_DT_FLOAT16, 2},
        {"float32", HDM_DT_FLOAT32, 4},
    };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        hdm_dtype d = HDM_DT__COUNT;
        assert_int_equal(hdm_dtype_parse(all[i].name, &d), 0);
        assert_int_equal(d, all[i].dtype);
        assert_string_equal(hdm_dtype_name(all[i].dtype), all[i].name);
        assert_int_equal(hdm_dtype_size(all[i].dtype), all[i].size);
    }
    hdm_dtype d = HDM_DT_UINT8;
    assert_int_equal(hdm_dtype_parse("float64", &d), -HDM_E_BAD_REQUEST);
    assert_int_equal(hdm_dtype_parse("UINT8", &d), -HDM_E_BAD_REQUEST);
    assert_int_equal(hdm_dtype_parse("", &d), -HDM_E_BAD_REQUEST);
    assert_int_equal(hdm_dtype_parse(NULL, &d), -HDM_E_BAD_REQUEST);
    assert_int_equal(d, HDM_DT_UINT8);
    assert_null(hdm_dtype_name(HDM_DT__COUNT));
    assert_null(hdm_dtype_name((hdm_dtype)-1));
    assert_int_equal(hdm_dtype_size(HDM_DT__COUNT), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_both_signs),
        cmocka_unit_test(test_code_names),
        cmocka_unit_test(test_err_set_and_clear),
        cmocka_unit_test(test_err_truncates_long_messages),
        cmocka_unit_test(test_err_prefix),
        cmocka_unit_test(test_dtypes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
