/*
 * test_hailort_status.c - HailoRT status names to protocol codes
 * (src/backends/hailort-status.c), by name so it holds across versions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "backends/hailort-status.h"

static void test_memory_exhaustion(void **state)
{
    (void)state;
    /* 5.2 names, the 5.3 name, and host-side buffers eviction also frees. */
    const char *names[] = {"HAILO_OUT_OF_HOST_CMA_MEMORY", "HAILO_OUT_OF_FW_MEMORY",
                           "HAILO_OUT_OF_DESCRIPTORS",     "HAILO_RESOURCE_EXHAUSTED",
                           "HAILO_OUT_OF_HOST_MEMORY",     "HAILO_CANT_MEET_BUFFER_REQUIREMENTS"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_int_equal(hrt_status_code(names[i]), HDM_E_RESOURCE_EXHAUSTED);
}

static void test_timeout_busy_cancel(void **state)
{
    (void)state;
    assert_int_equal(hrt_status_code("HAILO_TIMEOUT"), HDM_E_DEADLINE_EXCEEDED);
    assert_int_equal(hrt_status_code("HAILO_DEVICE_TEMPORARILY_UNAVAILABLE"), HDM_E_BUSY);
    assert_int_equal(hrt_status_code("HAILO_DEVICE_IN_USE"), HDM_E_BUSY);
    assert_int_equal(hrt_status_code("HAILO_OUT_OF_PHYSICAL_DEVICES"), HDM_E_BUSY);
    assert_int_equal(hrt_status_code("HAILO_OPERATION_ABORTED"), HDM_E_CANCELLED);
}

static void test_device_lost(void **state)
{
    (void)state;
    const char *names[] = {
        "HAILO_DRIVER_OPERATION_FAILED", "HAILO_PCIE_DRIVER_FAIL",     "HAILO_DRIVER_FAIL",
        "HAILO_DEVICE_NOT_CONNECTED",    "HAILO_COMMUNICATION_CLOSED", "HAILO_RPC_FAILED",
        "HAILO_DRIVER_TIMEOUT",          "HAILO_FW_CONTROL_FAILURE"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(hrt_status_code(names[i]), HDM_E_DEVICE_ERROR);
        assert_true(hrt_status_is_device_lost(names[i]));
    }
    assert_false(hrt_status_is_device_lost("HAILO_TIMEOUT"));
    assert_false(hrt_status_is_device_lost(NULL));
}

/* Issue 22 item 5: statuses that are not a lost device.  INTERNAL_FAILURE is
 * HailoRT's own (a chat template refusing a client's messages raises it);
 * STREAM_ABORT and SHUTDOWN_EVENT_SIGNALED mean a model's streams were shut
 * down (after a failed run): the model is re-created and a retry works. */
static void test_not_device_loss(void **state)
{
    (void)state;
    assert_int_equal(hrt_status_code("HAILO_INTERNAL_FAILURE"), HDM_E_INTERNAL);
    assert_false(hrt_status_is_device_lost("HAILO_INTERNAL_FAILURE"));
    assert_int_equal(hrt_status_code("HAILO_STREAM_ABORT"), HDM_E_BUSY);
    assert_false(hrt_status_is_device_lost("HAILO_STREAM_ABORT"));
    assert_int_equal(hrt_status_code("HAILO_SHUTDOWN_EVENT_SIGNALED"), HDM_E_BUSY);
    assert_false(hrt_status_is_device_lost("HAILO_SHUTDOWN_EVENT_SIGNALED"));
    hdm_err err;
    hdm_err_clear(&err);
    assert_int_equal(hrt_status_error(&err, 63, "HAILO_STREAM_ABORT", "inference"), -HDM_E_BUSY);
    assert_non_null(strstr(err.msg, "shut the model's streams down; retry"));
    assert_non_null(strstr(err.msg, "HAILO_STREAM_ABORT = 63"));
}

static void test_model_file_problems(void **state)
{
    (void)state;
    assert_int_equal(hrt_status_code("HAILO_OPEN_FILE_FAILURE"), HDM_E_NOT_FOUND);
    assert_int_equal(hrt_status_code("HAILO_INVALID_HEF"), HDM_E_BAD_REQUEST);
    assert_int_equal(hrt_status_code("HAILO_HEF_NOT_COMPATIBLE_WITH_DEVICE"), HDM_E_BAD_REQUEST);
    assert_int_equal(hrt_status_code("HAILO_INVALID_ARGUMENT"), HDM_E_BAD_REQUEST);
    assert_int_equal(hrt_status_code("HAILO_NOT_SUPPORTED"), HDM_E_UNSUPPORTED);
}

static void test_unknown_and_future_names(void **state)
{
    (void)state;
    assert_int_equal(hrt_status_code(NULL), HDM_E_INTERNAL);
    assert_int_equal(hrt_status_code(""), HDM_E_INTERNAL);
    assert_int_equal(hrt_status_code("HAILO_INVALID_OPERATION"), HDM_E_INTERNAL);
    assert_int_equal(hrt_status_code("SOMETHING_ELSE"), HDM_E_INTERNAL);
    /* Families a later release may extend. */
    assert_int_equal(hrt_status_code("HAILO_OUT_OF_KV_CACHE"), HDM_E_RESOURCE_EXHAUSTED);
    assert_int_equal(hrt_status_code("HAILO_DEVICE_MEMORY_EXHAUSTED"), HDM_E_RESOURCE_EXHAUSTED);
    assert_int_equal(hrt_status_code("HAILO_DRIVER_GONE"), HDM_E_DEVICE_ERROR);
    assert_int_equal(hrt_status_code("HAILO_DEVICE_DISCONNECTED"), HDM_E_DEVICE_ERROR);
    assert_int_equal(hrt_status_code("HAILO_GENAI_TIMEOUT"), HDM_E_DEADLINE_EXCEEDED);
}

static void test_error_message_exhausted(void **state)
{
    (void)state;
    hdm_err err;
    hdm_err_clear(&err);
    int rc = hrt_status_error(&err, 71, "HAILO_OUT_OF_FW_MEMORY", "loading %s", "/m/clip.hef");
    assert_int_equal(rc, -HDM_E_RESOURCE_EXHAUSTED);
    assert_int_equal(err.code, HDM_E_RESOURCE_EXHAUSTED);
    /* Clients match on HAILO_RESOURCE_EXHAUSTED; operators want the real status. */
    assert_non_null(strstr(err.msg, "HAILO_RESOURCE_EXHAUSTED"));
    assert_non_null(strstr(err.msg, "HAILO_OUT_OF_FW_MEMORY = 71"));
    assert_non_null(strstr(err.msg, "loading /m/clip.hef: "));
}

static void test_error_message_other(void **state)
{
    (void)state;
    hdm_err err;
    hdm_err_clear(&err);
    assert_int_equal(hrt_status_error(&err, 4, "HAILO_TIMEOUT", "inference"),
                     -HDM_E_DEADLINE_EXCEEDED);
    assert_null(strstr(err.msg, "HAILO_RESOURCE_EXHAUSTED"));
    assert_non_null(strstr(err.msg, "HAILO_TIMEOUT = 4"));

    /* A number the installed library cannot name still says which it was. */
    assert_int_equal(hrt_status_error(&err, 123, NULL, "identify"), -HDM_E_INTERNAL);
    assert_non_null(strstr(err.msg, "HAILO_STATUS_123 = 123"));

    assert_int_equal(hrt_status_error(&err, 36, "HAILO_DRIVER_OPERATION_FAILED", "run"),
                     -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "driver failed"));

    /* err may be NULL everywhere. */
    assert_int_equal(hrt_status_error(NULL, 73, "HAILO_DEVICE_IN_USE", "open"), -HDM_E_BUSY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_exhaustion),
        cmocka_unit_test(test_timeout_busy_cancel),
        cmocka_unit_test(test_device_lost),
        cmocka_unit_test(test_not_device_loss),
        cmocka_unit_test(test_model_file_problems),
        cmocka_unit_test(test_unknown_and_future_names),
        cmocka_unit_test(test_error_message_exhausted),
        cmocka_unit_test(test_error_message_other),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
