/*
 * hailort-capi.c - the parts of hailort-rt.h that HailoRT's C API serves:
 * status names, the device scan and the library version.
 */
#include <stdio.h>

#include <hailo/hailort.h>

#include "hailort-rt.h"

#define MAX_SCANNED_DEVICES 8

const char *hrt_status_name(int status)
{
    if (status < 0 || status >= HAILO_STATUS_COUNT)
        return NULL; /* newer than this library: it would log and return NULL */
    return hailo_get_status_message((hailo_status)status);
}

int hrt_scan_devices(size_t *count, char *first_id, size_t id_size)
{
    hailo_device_id_t ids[MAX_SCANNED_DEVICES];
    size_t n = MAX_SCANNED_DEVICES;
    hailo_status st = hailo_scan_devices(NULL, ids, &n);

    if (st != HAILO_SUCCESS)
        return st;
    *count = n;
    if (id_size)
        snprintf(first_id, id_size, "%s", n ? ids[0].id : "");
    return HAILO_SUCCESS;
}

int hrt_library_version(char *buf, size_t size)
{
    hailo_version_t v = {0};
    hailo_status st = hailo_get_library_version(&v);

    if (st == HAILO_SUCCESS)
        snprintf(buf, size, "%u.%u.%u", v.major, v.minor, v.revision);
    return st;
}
