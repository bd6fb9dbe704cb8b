/*
 * hailort-status.h - HailoRT statuses to the protocol's error codes.
 *
 * DESIGN: the mapping goes by the status NAME (what hailo_get_status_message()
 * returns, e.g. "HAILO_OUT_OF_FW_MEMORY"), never by number: numbers move
 * between HailoRT versions (81 is HAILO_OUT_OF_HOST_CMA_MEMORY in 5.2 and was
 * HAILO_RESOURCE_EXHAUSTED in 5.3), names do not.  Pure C without HailoRT
 * headers, so it is unit-tested on every machine.
 *
 *   resource_exhausted  device or DMA memory ran out: the registry evicts and
 *                       retries; the message always contains
 *                       "HAILO_RESOURCE_EXHAUSTED" (clients match on it)
 *   deadline_exceeded   HAILO_TIMEOUT
 *   busy                the device is temporarily taken, or HailoRT shut a
 *                       model's streams down (STREAM_ABORT,
 *                       SHUTDOWN_EVENT_SIGNALED): a retry works
 *   device_error        the device, its driver or the link to it is gone or
 *                       broken: after repeated ones the registry resets the
 *                       runtime.  Only statuses that mean that: a failure
 *                       a reset cannot fix must not make the registry loop
 *   cancelled           the operation was aborted on purpose
 *   bad_request / not_found / unsupported   the model file or arguments
 *   internal            everything else, HAILO_INTERNAL_FAILURE included
 *                       (the callers refine it when they know the cause: a
 *                       chat template refusing a client's messages)
 */
#ifndef HDM_BACKENDS_HAILORT_STATUS_H
#define HDM_BACKENDS_HAILORT_STATUS_H

#include <stdbool.h>

#include "common/err.h"

/* The positive HDM_E_* code for a status name (NULL: HDM_E_INTERNAL). */
int hrt_status_code(const char *status_name);

/* True when the status means the device is lost and the runtime must be reset. */
bool hrt_status_is_device_lost(const char *status_name);

/*
 * Fills err for a HailoRT call that failed with `status` (its number) and
 * `status_name` (NULL when the library does not know the number) and
 * returns the negative code.  The message is "<context>: <explanation>"
 * where the explanation names the status; resource exhaustion reads
 * "HAILO_RESOURCE_EXHAUSTED: device memory exhausted (HailoRT status
 * HAILO_OUT_OF_FW_MEMORY = 71)".
 */
int hrt_status_error(hdm_err *err, int status, const char *status_name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
