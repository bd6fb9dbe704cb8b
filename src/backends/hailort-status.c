/*
 * hailort-status.c - HailoRT status names to protocol codes (see
 * hailort-status.h for the classes and why names, not numbers).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hailort-status.h"

typedef struct status_class {
    const char *name;
    int code;
} status_class;

/* Exact names, from HailoRT 5.2's hailort.h plus names older or newer
 * releases used (HAILO_RESOURCE_EXHAUSTED, HAILO_PCIE_DRIVER_FAIL,
 * HAILO_DRIVER_FAIL). */
static const status_class exact[] = {
    /* Memory on the device or for its DMA: eviction frees it. */
    {"HAILO_RESOURCE_EXHAUSTED", HDM_E_RESOURCE_EXHAUSTED},
    {"HAILO_OUT_OF_HOST_CMA_MEMORY", HDM_E_RESOURCE_EXHAUSTED},
    {"HAILO_OUT_OF_FW_MEMORY", HDM_E_RESOURCE_EXHAUSTED},
    {"HAILO_OUT_OF_DESCRIPTORS", HDM_E_RESOURCE_EXHAUSTED},
    {"HAILO_OUT_OF_HOST_MEMORY", HDM_E_RESOURCE_EXHAUSTED},
    {"HAILO_CANT_MEET_BUFFER_REQUIREMENTS", HDM_E_RESOURCE_EXHAUSTED},
    /* Time. */
    {"HAILO_TIMEOUT", HDM_E_DEADLINE_EXCEEDED},
    /* Someone else has the device for now. */
    {"HAILO_DEVICE_TEMPORARILY_UNAVAILABLE", HDM_E_BUSY},
    {"HAILO_DEVICE_IN_USE", HDM_E_BUSY},
    {"HAILO_OUT_OF_PHYSICAL_DEVICES", HDM_E_BUSY},
    {"HAILO_QUEUE_IS_FULL", HDM_E_BUSY},
    /* The device, its driver or the link to it is gone or broken. */
    {"HAILO_DRIVER_OPERATION_FAILED", HDM_E_DEVICE_ERROR},
    {"HAILO_DRIVER_FAIL", HDM_E_DEVICE_ERROR},
    {"HAILO_PCIE_DRIVER_FAIL", HDM_E_DEVICE_ERROR},
    {"HAILO_DRIVER_INVALID_RESPONSE", HDM_E_DEVICE_ERROR},
    {"HAILO_DRIVER_INVALID_IOCTL", HDM_E_DEVICE_ERROR},
    {"HAILO_DRIVER_TIMEOUT", HDM_E_DEVICE_ERROR},
    {"HAILO_DRIVER_NOT_INSTALLED", HDM_E_DEVICE_ERROR},
    {"HAILO_DEVICE_NOT_CONNECTED", HDM_E_DEVICE_ERROR},
    {"HAILO_COMMUNICATION_CLOSED", HDM_E_DEVICE_ERROR},
    {"HAILO_CONNECTION_REFUSED", HDM_E_DEVICE_ERROR},
    {"HAILO_RPC_FAILED", HDM_E_DEVICE_ERROR},
    {"HAILO_FW_CONTROL_FAILURE", HDM_E_DEVICE_ERROR},
    {"HAILO_INVALID_CONTROL_RESPONSE", HDM_E_DEVICE_ERROR},
    {"HAILO_GET_CONTROL_RESPONSE_FAIL", HDM_E_DEVICE_ERROR},
    {"HAILO_CONTROL_RESPONSE_MD5_MISMATCH", HDM_E_DEVICE_ERROR},
    {"HAILO_START_VDMA_CHANNEL_FAIL", HDM_E_DEVICE_ERROR},
    {"HAILO_SYNC_VDMA_BUFFER_FAIL", HDM_E_DEVICE_ERROR},
    {"HAILO_STOP_VDMA_CHANNEL_FAIL", HDM_E_DEVICE_ERROR},
    {"HAILO_CLOSE_VDMA_CHANNEL_FAIL", HDM_E_DEVICE_ERROR},
    {"HAILO_INVALID_DRIVER_VERSION", HDM_E_DEVICE_ERROR},
    {"HAILO_UNSUPPORTED_FW_VERSION", HDM_E_DEVICE_ERROR},
    {"HAILO_INVALID_SERVICE_VERSION", HDM_E_DEVICE_ERROR},
    /* A stream or configured model that HailoRT shut down (after a failed
     * run, or while stopping): the device is fine, the backend re-creates
     * the model and a retry works. */
    {"HAILO_STREAM_ABORT", HDM_E_BUSY},
    {"HAILO_SHUTDOWN_EVENT_SIGNALED", HDM_E_BUSY},
    /* HailoRT's own failure: raised for many causes (a chat template that
     * refuses a client's messages among them), none of them a lost device. */
    {"HAILO_INTERNAL_FAILURE", HDM_E_INTERNAL},
    /* Aborted on purpose (our abort, or the process is stopping). */
    {"HAILO_OPERATION_ABORTED", HDM_E_CANCELLED},
    {"HAILO_DRIVER_WAIT_CANCELED", HDM_E_CANCELLED},
    {"HAILO_DRIVER_INTERRUPTED", HDM_E_CANCELLED},
    {"HAILO_INTERRUPTED_BY_SIGNAL", HDM_E_CANCELLED},
    /* The model file or the arguments. */
    {"HAILO_OPEN_FILE_FAILURE", HDM_E_NOT_FOUND},
    {"HAILO_NOT_FOUND", HDM_E_NOT_FOUND},
    {"HAILO_INVALID_HEF", HDM_E_BAD_REQUEST},
    {"HAILO_HEF_FILE_CORRUPTED", HDM_E_BAD_REQUEST},
    {"HAILO_HEF_NOT_SUPPORTED", HDM_E_BAD_REQUEST},
    {"HAILO_HEF_NOT_COMPATIBLE_WITH_DEVICE", HDM_E_BAD_REQUEST},
    {"HAILO_INVALID_HEF_USE", HDM_E_BAD_REQUEST},
    {"HAILO_INVALID_ARGUMENT", HDM_E_BAD_REQUEST},
    {"HAILO_INSUFFICIENT_BUFFER", HDM_E_BAD_REQUEST},
    {"HAILO_FILE_OPERATION_FAILURE", HDM_E_BAD_REQUEST},
    {"HAILO_NOT_IMPLEMENTED", HDM_E_UNSUPPORTED},
    {"HAILO_NOT_SUPPORTED", HDM_E_UNSUPPORTED},
    {"HAILO_INVALID_DEVICE_ARCHITECTURE", HDM_E_UNSUPPORTED},
};

int hrt_status_code(const char *status_name)
{
    if (!status_name || !*status_name)
        return HDM_E_INTERNAL;
    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (strcmp(exact[i].name, status_name) == 0)
            return exact[i].code;
    /* Names a future release may add in the same families. */
    if (strncmp(status_name, "HAILO_OUT_OF_", 13) == 0 || strstr(status_name, "EXHAUSTED"))
        return HDM_E_RESOURCE_EXHAUSTED;
    if (strncmp(status_name, "HAILO_DRIVER_", 13) == 0 || strstr(status_name, "_DRIVER_FAIL") ||
        strstr(status_name, "DISCONNECTED") || strstr(status_name, "NOT_CONNECTED"))
        return HDM_E_DEVICE_ERROR;
    if (strstr(status_name, "TIMEOUT"))
        return HDM_E_DEADLINE_EXCEEDED;
    return HDM_E_INTERNAL;
}

bool hrt_status_is_device_lost(const char *status_name)
{
    return hrt_status_code(status_name) == HDM_E_DEVICE_ERROR;
}

/* Why a status matters to whoever reads the message. */
static const char *explanation(const char *name, int code)
{
    if (name && (strcmp(name, "HAILO_STREAM_ABORT") == 0 ||
                 strcmp(name, "HAILO_SHUTDOWN_EVENT_SIGNALED") == 0))
        return "HailoRT shut the model's streams down; retry";
    switch (code) {
    case HDM_E_RESOURCE_EXHAUSTED:
        return "HAILO_RESOURCE_EXHAUSTED: device memory exhausted";
    case HDM_E_DEADLINE_EXCEEDED:
        return "the device did not answer in time";
    case HDM_E_BUSY:
        return "the device is in use, retry later";
    case HDM_E_DEVICE_ERROR:
        return "the Hailo device or its driver failed";
    case HDM_E_CANCELLED:
        return "the operation was aborted";
    case HDM_E_NOT_FOUND:
        return "a file or element was not found";
    case HDM_E_BAD_REQUEST:
        return "the model file or an argument was rejected";
    case HDM_E_UNSUPPORTED:
        return "not supported by this device or HailoRT";
    default:
        return "HailoRT failed";
    }
}

int hrt_status_error(hdm_err *err, int status, const char *status_name, const char *fmt, ...)
{
    char context[HDM_ERR_MSG_MAX / 2], unknown[32];
    int code = hrt_status_code(status_name);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(context, sizeof(context), fmt, ap);
    va_end(ap);
    if (!status_name || !*status_name) {
        /* A number this HailoRT cannot name: newer firmware or service. */
        snprintf(unknown, sizeof(unknown), "HAILO_STATUS_%d", status);
        status_name = unknown;
    }
    return hdm_err_set(err, code, "%s: %s (HailoRT status %s = %d)", context,
                       explanation(status_name, code), status_name, status);
}
