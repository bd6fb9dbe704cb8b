/*
 * tensorfile.c - see tensorfile.h.  The .npy header is parsed by the
 * project's one parser (npy_parse_header in src/common/npy.c); this file
 * reads whole files into tensors and checks them against --dtype/--shape.
 */
#include "devctl/tensorfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/npy.h"
#include "common/tensor.h"

int tensorfile_parse_shape(const char *text, int64_t *shape, int *ndim, hdm_err *err)
{
    int n = 0;
    const char *p = text;
    while (*p != '\0') {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || v < 0 || errno != 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "shape %s: bad dimension at \"%s\"", text,
                               p);
        if (n == HDM_MAX_DIMS)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "shape %s has more than %d dimensions", text,
                               HDM_MAX_DIMS);
        shape[n++] = v;
        p = end;
        if (*p == ',' || *p == 'x')
            p++;
        else if (*p != '\0')
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "shape %s: unexpected \"%s\"", text, p);
    }
    if (n == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "shape is empty");
    *ndim = n;
    return 0;
}

/* The file's header through the shared parser; scalars become shape [1]. */
static int parse_header(const char *path, const uint8_t *file, size_t len, hdm_tensor *t,
                        size_t *offset, hdm_err *err)
{
    npy_header h;
    int r = npy_parse_header(file, len, path, &h, err);
    if (r < 0)
        return r;
    if (h.dtype == HDM_DT__COUNT)
        return hdm_err_set(err, HDM_E_UNSUPPORTED,
                           "%s: dtype %s is not supported (uint8, int8, uint16, int16, int32, "
                           "float16, float32; little-endian)",
                           path, h.descr);
    t->dtype = h.dtype;
    t->ndim = h.ndim;
    memcpy(t->shape, h.shape, sizeof(h.shape));
    if (t->ndim == 0) /* a NumPy scalar: one element */
        t->shape[t->ndim++] = 1;
    *offset = h.data_offset;
    return 0;
}

static int read_all(const char *path, uint8_t **data, size_t *len, hdm_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return hdm_err_set(err, HDM_E_NOT_FOUND, "cannot open %s: %s", path, strerror(errno));
    int r = 0;
    *data = NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s is not a regular file", path);
        goto out;
    }
    long size = ftell(f);
    rewind(f);
    if (size < 0) {
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s is not a regular file", path);
        goto out;
    }
    *data = malloc(size ? (size_t)size : 1);
    if (*data == NULL) {
        r = hdm_err_set(err, HDM_E_NOMEM, "%s: out of memory for %ld bytes", path, size);
        goto out;
    }
    if (fread(*data, 1, (size_t)size, f) != (size_t)size) {
        r = hdm_err_set(err, HDM_E_INTERNAL, "cannot read %s", path);
        free(*data);
        *data = NULL;
        goto out;
    }
    *len = (size_t)size;
out:
    fclose(f);
    return r;
}

static int is_npy_name(const char *path)
{
    size_t n = strlen(path);
    return n >= 4 && strcmp(path + n - 4, ".npy") == 0;
}

int tensorfile_load(const char *path, hdm_dtype dtype, int ndim, const int64_t *shape,
                    hdm_tensor *out, hdm_err *err)
{
    uint8_t *file = NULL;
    size_t len = 0;
    int r = read_all(path, &file, &len, err);
    if (r < 0)
        return r;
    hdm_tensor t = {.dtype = dtype, .ndim = ndim};
    size_t offset = 0;
    if (is_npy_name(path)) {
        if ((r = parse_header(path, file, len, &t, &offset, err)) < 0)
            goto fail;
        if (dtype != HDM_DT__COUNT && dtype != t.dtype) {
            r = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s holds %s, not the --dtype %s", path,
                            hdm_dtype_name(t.dtype), hdm_dtype_name(dtype));
            goto fail;
        }
        if (ndim > 0 && (ndim != t.ndim || memcmp(shape, t.shape, sizeof(*shape) * ndim) != 0)) {
            r = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: --shape does not match the file's shape",
                            path);
            goto fail;
        }
    } else {
        if (ndim == 0 || dtype == HDM_DT__COUNT) {
            r = hdm_err_set(err, HDM_E_BAD_REQUEST,
                            "%s is a raw file: give --dtype and --shape (or use a .npy file)",
                            path);
            goto fail;
        }
        memcpy(t.shape, shape, sizeof(*shape) * (size_t)ndim);
    }
    size_t want;
    if ((r = tensor_shape_bytes(t.shape, t.ndim, hdm_dtype_size(t.dtype), &want, err)) < 0)
        goto fail;
    if (len - offset != want) {
        r = hdm_err_set(err, HDM_E_BAD_REQUEST,
                        "%s holds %zu data bytes but %s of that shape needs %zu", path,
                        len - offset, hdm_dtype_name(t.dtype), want);
        goto fail;
    }
    /* Move the data to the front so out->data is the allocation itself. */
    memmove(file, file + offset, want);
    t.data = file;
    t.nbytes = want;
    *out = t;
    return 0;
fail:
    free(file);
    return r;
}
