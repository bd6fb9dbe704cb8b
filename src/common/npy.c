/*
 * npy.c - the .npy header parser, the memory mapping, and the writer.
 *
 * npy_parse_header is the one .npy header parser of the project: hailo-clip
 * maps its tables through it and hailo-devctl reads its tensor files.
 *
 * DESIGN: the header is a Python dict literal such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (49408, 512), }
 * padded with spaces and ended by '\n'.  We parse exactly that grammar
 * (quoted keys, a quoted string, True/False, a tuple of integers) rather
 * than scanning for substrings, so a damaged header cannot be half-read.
 */
#include "common/npy.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/tensor.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6

/* The little-endian descrs that name a hailodm dtype. */
static const struct {
    const char *descr;
    hdm_dtype dtype;
} descrs[] = {
    {"|u1", HDM_DT_UINT8}, {"<u1", HDM_DT_UINT8},   {"|i1", HDM_DT_INT8},
    {"<i1", HDM_DT_INT8},  {"<u2", HDM_DT_UINT16},  {"<i2", HDM_DT_INT16},
    {"<i4", HDM_DT_INT32}, {"<f2", HDM_DT_FLOAT16}, {"<f4", HDM_DT_FLOAT32},
};

typedef struct hdr_cursor {
    const char *p, *end;
} hdr_cursor;

static void skip_ws(hdr_cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static bool accept(hdr_cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* A '...' or "..." string without escapes into out (size out_len). */
static bool parse_str(hdr_cursor *c, char *out, size_t out_len)
{
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return false;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || n + 1 >= out_len)
            return false;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return false;
    c->p++;
    out[n] = '\0';
    return true;
}

static bool parse_word(hdr_cursor *c, const char *word)
{
    size_t n = strlen(word);
    skip_ws(c);
    if ((size_t)(c->end - c->p) >= n && memcmp(c->p, word, n) == 0) {
        c->p += n;
        return true;
    }
    return false;
}

static int parse_shape(hdr_cursor *c, const char *name, npy_header *out, hdm_err *err)
{
    if (!accept(c, '('))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: header 'shape' is not a tuple", name);
    out->ndim = 0;
    for (;;) {
        if (accept(c, ')'))
            return 0;
        skip_ws(c);
        if (c->p >= c->end || !isdigit((unsigned char)*c->p))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "%s: header 'shape' holds something other than non-negative "
                               "integers",
                               name);
        int64_t v = 0;
        while (c->p < c->end && isdigit((unsigned char)*c->p)) {
            if (v > (INT64_MAX - 9) / 10)
                return hdm_err_set(err, HDM_E_BAD_REQUEST,
                                   "%s: header 'shape' dimension "
                                   "overflows",
                                   name);
            v = v * 10 + (*c->p++ - '0');
        }
        if (out->ndim >= HDM_MAX_DIMS)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "%s: header 'shape' has more than %d "
                               "dimensions",
                               name, HDM_MAX_DIMS);
        out->shape[out->ndim++] = v;
        if (accept(c, ')'))
            return 0;
        if (!accept(c, ','))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "%s: header 'shape' is not a tuple "
                               "of integers",
                               name);
    }
}

static int parse_dict(const char *h, size_t len, const char *name, npy_header *out, hdm_err *err)
{
    hdr_cursor c = {h, h + len};
    bool have_descr = false, have_order = false, have_shape = false;
    char key[32];
    int r;

    if (!accept(&c, '{'))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: header is not a dict", name);
    while (!accept(&c, '}')) {
        if (!parse_str(&c, key, sizeof(key)) || !accept(&c, ':'))
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: header dict is malformed", name);
        if (strcmp(key, "descr") == 0) {
            if (!parse_str(&c, out->descr, sizeof(out->descr)))
                return hdm_err_set(err, HDM_E_BAD_REQUEST,
                                   "%s: header 'descr' is not a "
                                   "string",
                                   name);
            out->dtype = HDM_DT__COUNT;
            for (size_t i = 0; i < sizeof(descrs) / sizeof(descrs[0]); i++)
                if (strcmp(out->descr, descrs[i].descr) == 0)
                    out->dtype = descrs[i].dtype;
            have_descr = true;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (parse_word(&c, "True"))
                return hdm_err_set(err, HDM_E_BAD_REQUEST,
                                   "%s: fortran_order arrays are not "
                                   "supported (save it in C order)",
                                   name);
            if (!parse_word(&c, "False"))
                return hdm_err_set(err, HDM_E_BAD_REQUEST,
                                   "%s: header 'fortran_order' is not "
                                   "True or False",
                                   name);
            have_order = true;
        } else if (strcmp(key, "shape") == 0) {
            if ((r = parse_shape(&c, name, out, err)) < 0)
                return r;
            have_shape = true;
        } else {
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: header has an unknown key '%s'", name,
                               key);
        }
        if (!accept(&c, ',')) {
            if (!accept(&c, '}'))
                return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: header dict is malformed", name);
            break;
        }
    }
    skip_ws(&c);
    if (c.p != c.end)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: junk after the header dict", name);
    if (!have_descr || !have_order || !have_shape)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: header lacks '%s'", name,
                           !have_descr   ? "descr"
                           : !have_order ? "fortran_order"
                                         : "shape");
    return 0;
}

int npy_parse_header(const void *buf, size_t len, const char *name, npy_header *out, hdm_err *err)
{
    const uint8_t *p = buf;
    size_t hlen, hstart;
    int r;

    memset(out, 0, sizeof(*out));
    if (len < 10 || memcmp(p, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: not a .npy file (bad magic)", name);
    uint8_t major = p[6];
    if (major == 1) {
        hlen = (size_t)p[8] | (size_t)p[9] << 8;
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: truncated header", name);
        hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
        hstart = 12;
    } else {
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: .npy format version %u.%u is not "
                           "supported",
                           name, major, p[7]);
    }
    if (hlen > len - hstart)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: header length %zu runs past the end "
                           "of the file",
                           name, hlen);
    if (hlen == 0 || p[hstart + hlen - 1] != '\n')
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: header does not end with a newline", name);
    if ((r = parse_dict((const char *)p + hstart, hlen - 1, name, out, err)) < 0)
        return r;
    out->data_offset = hstart + hlen;
    return 0;
}

int npy_parse(const void *buf, size_t len, const char *name, npy_array *out, hdm_err *err)
{
    const uint8_t *p = buf;
    npy_array a = {0};
    npy_header h;
    int r;

    if ((r = npy_parse_header(buf, len, name, &h, err)) < 0)
        return r;
    if (h.dtype != HDM_DT_FLOAT32 && h.dtype != HDM_DT_FLOAT16)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: dtype '%s' is not supported "
                           "(need '<f4' float32 or '<f2' float16)",
                           name, h.descr);
    a.dtype = h.dtype;
    a.ndim = h.ndim;
    memcpy(a.shape, h.shape, sizeof(a.shape));
    size_t data_off = h.data_offset;
    size_t nbytes = hdm_dtype_size(a.dtype);
    if (a.ndim > 0) {
        hdm_err shape_err;
        if (tensor_shape_bytes(a.shape, a.ndim, hdm_dtype_size(a.dtype), &nbytes, &shape_err) < 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: shape is too large: %s", name,
                               shape_err.msg);
    }
    if (nbytes > len - data_off)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: truncated: the shape needs %zu data "
                           "bytes, the file has %zu",
                           name, nbytes, len - data_off);
    a.data = p + data_off;
    a.nbytes = nbytes;
    *out = a;
    return 0;
}

int npy_open(const char *path, npy_array *out, hdm_err *err)
{
    struct stat st;
    void *map;
    int fd, r;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hdm_err_set(err, errno == ENOENT ? HDM_E_NOT_FOUND : HDM_E_BAD_REQUEST,
                           "cannot open %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s is not a regular file", path);
    }
    if (st.st_size < 10) {
        close(fd);
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: not a .npy file (only %lld bytes)", path,
                           (long long)st.st_size);
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "cannot map %s: %s", path, strerror(errno));
    if ((r = npy_parse(map, (size_t)st.st_size, path, out, err)) < 0) {
        munmap(map, (size_t)st.st_size);
        return r;
    }
    out->map = map;
    out->map_len = (size_t)st.st_size;
    return 0;
}

void npy_close(npy_array *a)
{
    if (!a)
        return;
    if (a->map)
        munmap(a->map, a->map_len);
    memset(a, 0, sizeof(*a));
}

int npy_expect_shape(const npy_array *a, const char *what, int ndim, const int64_t *shape,
                     hdm_err *err)
{
    if (a->ndim != ndim)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s has %d dimensions, expected %d", what,
                           a->ndim, ndim);
    for (int i = 0; i < ndim; i++)
        if (shape[i] >= 0 && a->shape[i] != shape[i])
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s has shape[%d] = %lld, expected %lld",
                               what, i, (long long)a->shape[i], (long long)shape[i]);
    return 0;
}

float npy_get_f32(const npy_array *a, size_t i)
{
    const uint8_t *p = a->data;
    if (a->dtype == HDM_DT_FLOAT16) {
        uint16_t h;
        memcpy(&h, p + i * 2, 2);
        return half_to_float(h);
    }
    float f;
    memcpy(&f, p + i * 4, 4);
    return f;
}

int npy_write(const char *path, const hdm_tensor *t, hdm_err *err)
{
    static const char *const names[HDM_DT__COUNT] = {
        [HDM_DT_UINT8] = "|u1",   [HDM_DT_INT8] = "|i1",  [HDM_DT_UINT16] = "<u2",
        [HDM_DT_INT16] = "<i2",   [HDM_DT_INT32] = "<i4", [HDM_DT_FLOAT16] = "<f2",
        [HDM_DT_FLOAT32] = "<f4",
    };
    if ((unsigned)t->dtype >= HDM_DT__COUNT || t->ndim < 0 || t->ndim > HDM_MAX_DIMS)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: no .npy form for dtype %d with %d dims",
                           path, (int)t->dtype, t->ndim);
    /* A comma after every dimension: valid for any tuple, needed for (3,). */
    char shape[HDM_MAX_DIMS * 22 + 4] = "";
    size_t at = 0;
    for (int i = 0; i < t->ndim; i++)
        at += (size_t)snprintf(shape + at, sizeof(shape) - at, "%lld,%s", (long long)t->shape[i],
                               i + 1 < t->ndim ? " " : "");
    char hdr[512];
    int n =
        snprintf(hdr, sizeof(hdr) - 64, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
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
    bool ok = fwrite(magic, 1, 10, f) == 10 && fwrite(hdr, 1, hlen, f) == hlen &&
              fwrite(t->data, 1, t->nbytes, f) == t->nbytes;
    if (fclose(f) != 0 || !ok)
        return hdm_err_set(err, HDM_E_INTERNAL, "cannot write %s", path);
    return 0;
}
