/*
 * npy.c - see npy.h.  The .npy header is a Python dict literal; only the
 * three keys NumPy always writes are read ('descr', 'fortran_order',
 * 'shape'), with every length checked against the file.
 */
#include "devctl/npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tensor.h"

static const struct {
    const char *descr;
    hdm_dtype dtype;
} descrs[] = {
    {"|u1", HDM_DT_UINT8}, {"<u1", HDM_DT_UINT8},   {"|i1", HDM_DT_INT8},
    {"<i1", HDM_DT_INT8},  {"<u2", HDM_DT_UINT16},  {"<i2", HDM_DT_INT16},
    {"<i4", HDM_DT_INT32}, {"<f2", HDM_DT_FLOAT16}, {"<f4", HDM_DT_FLOAT32},
};

int npy_parse_shape(const char *text, int64_t *shape, int *ndim, hdm_err *err)
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

/* Finds 'key': in the header dict and returns the text after the colon. */
static const char *dict_value(const char *hdr, const char *key)
{
    char quoted[32];
    snprintf(quoted, sizeof(quoted), "'%s'", key);
    const char *p = strstr(hdr, quoted);
    if (p == NULL)
        return NULL;
    p = strchr(p + strlen(quoted), ':');
    if (p == NULL)
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

static int parse_header(const char *path, const char *hdr, hdm_tensor *t, hdm_err *err)
{
    const char *d = dict_value(hdr, "descr");
    if (d == NULL || *d != '\'')
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: .npy header has no 'descr'", path);
    size_t i;
    for (i = 0; i < sizeof(descrs) / sizeof(descrs[0]); i++)
        if (strncmp(d + 1, descrs[i].descr, 3) == 0 && d[4] == '\'')
            break;
    if (i == sizeof(descrs) / sizeof(descrs[0]))
        return hdm_err_set(err, HDM_E_UNSUPPORTED,
                           "%s: dtype %.8s is not supported (uint8, int8, uint16, int16, int32, "
                           "float16, float32; little-endian)",
                           path, d);
    t->dtype = descrs[i].dtype;
    const char *f = dict_value(hdr, "fortran_order");
    if (f == NULL || strncmp(f, "False", 5) != 0)
        return hdm_err_set(err, HDM_E_UNSUPPORTED, "%s: only C-order arrays are supported", path);
    const char *s = dict_value(hdr, "shape");
    if (s == NULL || *s != '(')
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: .npy header has no 'shape'", path);
    s++;
    t->ndim = 0;
    while (*s != ')') {
        while (*s == ' ' || *s == ',')
            s++;
        if (*s == ')')
            break;
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s || v < 0 || t->ndim == HDM_MAX_DIMS)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: bad 'shape' in the .npy header", path);
        t->shape[t->ndim++] = v;
        s = end;
    }
    if (t->ndim == 0) /* a NumPy scalar: one element */
        t->shape[t->ndim++] = 1;
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

int npy_load(const char *path, hdm_dtype dtype, int ndim, const int64_t *shape, hdm_tensor *out,
             hdm_err *err)
{
    uint8_t *file = NULL;
    size_t len = 0;
    int r = read_all(path, &file, &len, err);
    if (r < 0)
        return r;
    hdm_tensor t = {.dtype = dtype, .ndim = ndim};
    size_t offset = 0;
    if (is_npy_name(path)) {
        if (len < 10 || memcmp(file, "\x93NUMPY", 6) != 0) {
            r = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s is not a .npy file", path);
            goto fail;
        }
        int major = file[6];
        size_t hlen, hstart;
        if (major == 1) {
            hlen = (size_t)file[8] | (size_t)file[9] << 8;
            hstart = 10;
        } else if ((major == 2 || major == 3) && len >= 12) {
            hlen = (size_t)file[8] | (size_t)file[9] << 8 | (size_t)file[10] << 16 |
                   (size_t)file[11] << 24;
            hstart = 12;
        } else {
            r = hdm_err_set(err, HDM_E_UNSUPPORTED, "%s: .npy version %d is not supported", path,
                            major);
            goto fail;
        }
        if (hlen > len - hstart) {
            r = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: truncated .npy header", path);
            goto fail;
        }
        char *hdr = strndup((const char *)file + hstart, hlen);
        if (hdr == NULL) {
            r = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
            goto fail;
        }
        r = parse_header(path, hdr, &t, err);
        free(hdr);
        if (r < 0)
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
        offset = hstart + hlen;
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

int npy_save(const char *path, const hdm_tensor *t, hdm_err *err)
{
    static const char *const names[HDM_DT__COUNT] = {
        [HDM_DT_UINT8] = "|u1",   [HDM_DT_INT8] = "|i1",  [HDM_DT_UINT16] = "<u2",
        [HDM_DT_INT16] = "<i2",   [HDM_DT_INT32] = "<i4", [HDM_DT_FLOAT16] = "<f2",
        [HDM_DT_FLOAT32] = "<f4",
    };
    char shape[256] = "";
    size_t at = 0;
    for (int i = 0; i < t->ndim && at < sizeof(shape); i++)
        at += (size_t)snprintf(shape + at, sizeof(shape) - at, "%lld,%s", (long long)t->shape[i],
                               i + 1 < t->ndim ? " " : "");
    char hdr[640];
    int n = snprintf(hdr, 512, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
                     names[t->dtype], shape);
    /* Pad with spaces so magic + header is a multiple of 64 and ends in '\n'. */
    int total = 10 + n + 1;
    int pad = (64 - total % 64) % 64;
    memset(hdr + n, ' ', (size_t)pad);
    hdr[n + pad] = '\n';
    uint16_t hlen = (uint16_t)(n + pad + 1);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return hdm_err_set(err, HDM_E_INTERNAL, "cannot write %s: %s", path, strerror(errno));
    uint8_t magic[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)hlen, (uint8_t)(hlen >> 8)};
    int ok = fwrite(magic, 1, 10, f) == 10 && fwrite(hdr, 1, hlen, f) == hlen &&
             fwrite(t->data, 1, t->nbytes, f) == t->nbytes;
    if (fclose(f) != 0 || !ok)
        return hdm_err_set(err, HDM_E_INTERNAL, "cannot write %s", path);
    return 0;
}
