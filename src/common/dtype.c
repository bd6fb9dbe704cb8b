/*
 * dtype.c - tensor element types: NumPy names and sizes.
 */
#include <string.h>

#include "hailodm.h"

static const struct {
    const char *name;
    size_t size;
} dtypes[HDM_DT__COUNT] = {
    [HDM_DT_UINT8] = {"uint8", 1},     [HDM_DT_INT8] = {"int8", 1},
    [HDM_DT_UINT16] = {"uint16", 2},   [HDM_DT_INT16] = {"int16", 2},
    [HDM_DT_INT32] = {"int32", 4},     [HDM_DT_FLOAT16] = {"float16", 2},
    [HDM_DT_FLOAT32] = {"float32", 4},
};

static int dtype_valid(hdm_dtype dtype)
{
    return (int)dtype >= 0 && (int)dtype < HDM_DT__COUNT;
}

HDM_EXTERN const char *hdm_dtype_name(hdm_dtype dtype)
{
    return dtype_valid(dtype) ? dtypes[dtype].name : NULL;
}

HDM_EXTERN int hdm_dtype_parse(const char *name, hdm_dtype *out)
{
    if (name == NULL)
        return -HDM_E_BAD_REQUEST;
    for (int i = 0; i < HDM_DT__COUNT; i++) {
        if (strcmp(name, dtypes[i].name) == 0) {
            if (out != NULL)
                *out = (hdm_dtype)i;
            return 0;
        }
    }
    return -HDM_E_BAD_REQUEST;
}

HDM_EXTERN size_t hdm_dtype_size(hdm_dtype dtype)
{
    return dtype_valid(dtype) ? dtypes[dtype].size : 0;
}
