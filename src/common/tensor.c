/*
 * tensor.c - tensors in JSON (base64 or binary attachment) and dtype helpers.
 *
 * DESIGN: request tensors can be megabytes of base64, so the string cJSON
 * parsed is decoded once, straight into the tensor's buffer, after the shape
 * and the length the string implies have been checked (a mismatch is refused
 * before any allocation).  Outgoing base64 is written into a buffer that cJSON
 * adopts as the string value, again without an extra copy.  Every check names
 * the tensor (`what`) and says which test failed, because these sentences go
 * back to the client.
 */
#include "common/tensor.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"

/* Writes "[d0,d1,...]" into out (truncated with "..." when it does not fit). */
static const char *shape_str(const int64_t *shape, int ndim, char *out, size_t size)
{
    size_t at = 0;
    at += (size_t)snprintf(out, size, "[");
    for (int i = 0; i < ndim && at < size; i++)
        at += (size_t)snprintf(out + at, size - at, i == 0 ? "%lld" : ",%lld", (long long)shape[i]);
    if (at < size)
        snprintf(out + at, size - at, "]");
    if (at >= size - 1 && size > 4)
        memcpy(out + size - 4, "...", 4);
    return out;
}

int tensor_shape_bytes(const int64_t *shape, int ndim, size_t elem_size, size_t *bytes,
                       hdm_err *err)
{
    if (ndim < 0 || ndim > HDM_MAX_DIMS)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "shape must have at most %d dimensions (got %d)",
                           HDM_MAX_DIMS, ndim);
    bool zero = false;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "shape[%d] is negative (%lld)", i,
                               (long long)shape[i]);
        if (shape[i] == 0)
            zero = true;
    }
    /* An empty dimension makes the tensor empty whatever the others say. */
    if (zero) {
        *bytes = 0;
        return 0;
    }
    /* No object may exceed PTRDIFF_MAX bytes, so that is where sizes stop being sizes. */
    uint64_t total = elem_size;
    for (int i = 0; i < ndim; i++) {
        if (__builtin_mul_overflow(total, (uint64_t)shape[i], &total) || total > PTRDIFF_MAX) {
            char s[160];
            return hdm_err_set(err, HDM_E_TOO_LARGE,
                               "shape %s with %zu-byte elements is too large (size overflows)",
                               shape_str(shape, ndim, s, sizeof(s)), elem_size);
        }
    }
    *bytes = (size_t)total;
    return 0;
}

/* Decoded length a base64 string of len chars would have, or -1 if no valid one has it. */
static long b64_exact_len(const char *s, size_t len)
{
    size_t n = len, npad = 0;
    while (npad < 2 && n > 0 && s[n - 1] == '=') {
        n--;
        npad++;
    }
    if ((npad > 0 && len % 4 != 0) || n % 4 == 1)
        return -1;
    return (long)(n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1));
}

static int size_mismatch(hdm_err *err, const char *what, const int64_t *shape, int ndim,
                         hdm_dtype dtype, size_t need, unsigned long long have)
{
    char s[160];
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       "%s: shape %s x %s needs %zu bytes but data has %llu", what,
                       shape_str(shape, ndim, s, sizeof(s)), hdm_dtype_name(dtype), need, have);
}

static const cJSON *field(const cJSON *obj, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNull(item) ? NULL : item;
}

/* A JSON number holding a whole value in [0, 2^63); sets *out. */
static bool json_uint(const cJSON *item, int64_t *out)
{
    if (!cJSON_IsNumber(item))
        return false;
    double d = item->valuedouble;
    if (!(d >= 0) || d >= 9223372036854775808.0 || d != floor(d))
        return false;
    *out = (int64_t)d;
    return true;
}

int tensor_from_json(const cJSON *obj, const char *what, const frame_attachment *att,
                     uint32_t n_att, hdm_tensor *out, void **owned, hdm_err *err)
{
    if (what == NULL)
        what = "tensor";
    if (!cJSON_IsObject(obj))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: tensor must be an object", what);

    const cJSON *jdtype = field(obj, "dtype");
    const cJSON *jshape = field(obj, "shape");
    const cJSON *jdata = field(obj, "data_b64");
    const cJSON *jatt = field(obj, "attachment");
    if (jdtype == NULL || jshape == NULL || (jdata == NULL && jatt == NULL))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s", TENSOR_MISSING_FIELDS_MSG);
    if (jdata != NULL && jatt != NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: give either data_b64 or attachment, not both", what);

    hdm_tensor t = {0};
    if (!cJSON_IsString(jdtype))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: dtype must be a string", what);
    if (hdm_dtype_parse(jdtype->valuestring, &t.dtype) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: unknown dtype \"%.40s\" (expected uint8, int8, uint16, int16, "
                           "int32, float16 or float32)",
                           what, jdtype->valuestring);

    if (!cJSON_IsArray(jshape))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: shape must be an array of integers", what);
    int ndim = cJSON_GetArraySize(jshape);
    if (ndim < 1 || ndim > HDM_MAX_DIMS)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: shape must have 1 to %d dimensions (got %d)", what, HDM_MAX_DIMS,
                           ndim);
    int i = 0;
    const cJSON *dim;
    cJSON_ArrayForEach(dim, jshape)
    {
        if (cJSON_IsNumber(dim) && dim->valuedouble < 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: shape[%d] is negative (%g)", what, i,
                               dim->valuedouble);
        if (!json_uint(dim, &t.shape[i]))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "%s: shape[%d] must be a non-negative integer below 2^63", what, i);
        i++;
    }
    t.ndim = ndim;

    size_t need = 0;
    int r = tensor_shape_bytes(t.shape, ndim, hdm_dtype_size(t.dtype), &need, err);
    if (r < 0) {
        hdm_err_prefix(err, "%s", what);
        return r;
    }

    if (jatt != NULL) {
        int64_t index;
        if (!json_uint(jatt, &index))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "%s: attachment must be a non-negative integer", what);
        if (att == NULL || index >= (int64_t)n_att)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "%s: attachment %lld is out of range (the frame has %u)", what,
                               (long long)index, att == NULL ? 0u : n_att);
        if (att[index].len != need)
            return size_mismatch(err, what, t.shape, ndim, t.dtype, need,
                                 (unsigned long long)att[index].len);
        t.data = (void *)att[index].data;
        t.nbytes = need;
        if (owned != NULL)
            *owned = NULL;
        /* Attachments sit wherever the sender's JSON length put them; a
         * misaligned float32/int16 view would be undefined behaviour, so
         * such tensors get an aligned copy (aligned ones stay zero-copy). */
        if ((uintptr_t)t.data % hdm_dtype_size(t.dtype) != 0) {
            if (owned == NULL)
                return hdm_err_set(err, HDM_E_INTERNAL, "%s: no place to keep an aligned copy",
                                   what);
            void *copy = malloc(need > 0 ? need : 1);
            if (copy == NULL)
                return hdm_err_set(err, HDM_E_NOMEM, "%s: out of memory for %zu bytes", what, need);
            memcpy(copy, t.data, need);
            t.data = copy;
            *owned = copy;
        }
        *out = t;
        return 0;
    }

    if (!cJSON_IsString(jdata))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: data_b64 must be a string", what);
    if (owned == NULL)
        return hdm_err_set(err, HDM_E_INTERNAL, "%s: no place to keep the decoded data", what);
    const char *b64 = jdata->valuestring;
    size_t b64_len = strlen(b64);
    long have = b64_exact_len(b64, b64_len);
    if (have < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: data_b64 is not valid base64 (length %zu is impossible)", what,
                           b64_len);
    if ((size_t)have != need)
        return size_mismatch(err, what, t.shape, ndim, t.dtype, need, (unsigned long long)have);
    uint8_t *data = malloc(need > 0 ? need : 1);
    if (data == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "%s: out of memory for %zu bytes", what, need);
    size_t bad_pos = 0;
    if (base64_decode(b64, b64_len, data, &bad_pos) < 0) {
        free(data);
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: data_b64 is not valid base64 (bad character at offset %zu)", what,
                           bad_pos);
    }
    t.data = data;
    t.nbytes = need;
    *out = t;
    *owned = data;
    return 0;
}

int tensor_check(const hdm_tensor *t, const char *what, hdm_err *err)
{
    if (what == NULL)
        what = "tensor";
    size_t elem = hdm_dtype_size(t->dtype);
    if (elem == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: unknown dtype %d", what, (int)t->dtype);
    if (t->ndim < 1 || t->ndim > HDM_MAX_DIMS)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: shape must have 1 to %d dimensions (got %d)", what, HDM_MAX_DIMS,
                           t->ndim);
    size_t need;
    int r = tensor_shape_bytes(t->shape, t->ndim, elem, &need, err);
    if (r < 0) {
        hdm_err_prefix(err, "%s", what);
        return r;
    }
    if (need != t->nbytes)
        return size_mismatch(err, what, t->shape, t->ndim, t->dtype, need,
                             (unsigned long long)t->nbytes);
    if (t->nbytes > 0 && t->data == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: %zu bytes but no data", what, t->nbytes);
    return 0;
}

/* {"dtype", "shape"} for t, or NULL (invalid dtype or ndim, out of memory). */
static cJSON *tensor_head(const hdm_tensor *t)
{
    const char *dtype = hdm_dtype_name(t->dtype);
    if (dtype == NULL || t->ndim < 0 || t->ndim > HDM_MAX_DIMS)
        return NULL;
    cJSON *obj = cJSON_CreateObject();
    if (obj == NULL || cJSON_AddStringToObject(obj, "dtype", dtype) == NULL)
        goto fail;
    cJSON *shape = cJSON_AddArrayToObject(obj, "shape");
    if (shape == NULL)
        goto fail;
    for (int i = 0; i < t->ndim; i++) {
        cJSON *dim = cJSON_CreateNumber((double)t->shape[i]);
        if (dim == NULL || !cJSON_AddItemToArray(shape, dim)) {
            cJSON_Delete(dim);
            goto fail;
        }
    }
    return obj;
fail:
    cJSON_Delete(obj);
    return NULL;
}

cJSON *tensor_ref_json(const hdm_tensor *t, uint32_t index)
{
    cJSON *obj = tensor_head(t);
    if (obj != NULL && cJSON_AddNumberToObject(obj, "attachment", (double)index) == NULL) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

cJSON *tensor_b64_json(const void *data, size_t n, bool raw)
{
    size_t enc = base64_encoded_len(n);
    char *s = cJSON_malloc(enc + (raw ? 3 : 1));
    if (s == NULL)
        return NULL;
    if (raw) {
        s[0] = '"';
        base64_encode(data, n, s + 1);
        s[enc + 1] = '"';
        s[enc + 2] = '\0';
    } else {
        base64_encode(data, n, s);
    }
    cJSON *item = raw ? cJSON_CreateRaw("") : cJSON_CreateString("");
    if (item == NULL) {
        cJSON_free(s);
        return NULL;
    }
    /* Hand the buffer over instead of copying it. */
    cJSON_free(item->valuestring);
    item->valuestring = s;
    return item;
}

long tensor_refs_to_b64(cJSON *node, const hdm_tensor *tensors, uint32_t n_tensors)
{
    if (cJSON_IsObject(node)) {
        cJSON *att = cJSON_GetObjectItemCaseSensitive(node, "attachment");
        if (cJSON_IsNumber(att) && cJSON_GetObjectItemCaseSensitive(node, "dtype") != NULL) {
            double idx = att->valuedouble;
            if (!(idx >= 0) || idx >= (double)n_tensors || idx != floor(idx))
                return -1;
            const hdm_tensor *t = &tensors[(uint32_t)idx];
            /* Raw: the printer copies the answer's base64 instead of scanning
             * it for escapes (a [1,77,512] answer is 210 KB of it). */
            cJSON *data = tensor_b64_json(t->data, t->nbytes, true);
            if (data == NULL)
                return -1;
            cJSON_DeleteItemFromObjectCaseSensitive(node, "attachment");
            cJSON_AddItemToObject(node, "data_b64", data);
            return (long)base64_encoded_len(t->nbytes);
        }
    }
    long added = 0;
    cJSON *child;
    cJSON_ArrayForEach(child, node)
    {
        long n = tensor_refs_to_b64(child, tensors, n_tensors);
        if (n < 0)
            return -1;
        added += n;
    }
    return added;
}

cJSON *tensor_to_json(const hdm_tensor *t, frame_attachment **atts, uint32_t *n_att)
{
    if (atts == NULL) {
        cJSON *obj = tensor_head(t), *data = NULL;
        if (obj == NULL || (data = tensor_b64_json(t->data, t->nbytes, false)) == NULL ||
            !cJSON_AddItemToObject(obj, "data_b64", data)) {
            cJSON_Delete(data);
            cJSON_Delete(obj);
            return NULL;
        }
        return obj;
    }
    frame_attachment *grown = realloc(*atts, (*n_att + 1) * sizeof(**atts));
    if (grown == NULL)
        return NULL;
    *atts = grown;
    cJSON *obj = tensor_ref_json(t, *n_att);
    if (obj == NULL)
        return NULL;
    grown[*n_att].data = t->data;
    grown[*n_att].len = t->nbytes;
    (*n_att)++;
    return obj;
}

int tensor_expect(const hdm_tensor *t, const char *what, hdm_dtype dtype, int ndim,
                  const int64_t *shape, hdm_err *err)
{
    if (what == NULL)
        what = "tensor";
    if (t->dtype != dtype) {
        const char *got = hdm_dtype_name(t->dtype);
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: expected dtype %s but got %s", what,
                           hdm_dtype_name(dtype), got != NULL ? got : "(invalid)");
    }
    bool same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        if (shape[i] >= 0 && t->shape[i] != shape[i])
            same = false;
    if (!same) {
        char want[160], got[160];
        int got_ndim = t->ndim < 0 ? 0 : t->ndim > HDM_MAX_DIMS ? HDM_MAX_DIMS : t->ndim;
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: expected shape %s but got %s", what,
                           shape_str(shape, ndim, want, sizeof(want)),
                           shape_str(t->shape, got_ndim, got, sizeof(got)));
    }
    return 0;
}

float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        /* Zero or subnormal: mant x 2^-24, exact in a float. */
        float v = (float)mant * 5.9604644775390625e-8f;
        return sign ? -v : v;
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof(f));
    return f;
}

uint16_t float_to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof(x));
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t exp = (x >> 23) & 0xffu;
    uint32_t mant = x & 0x7fffffu;

    if (exp == 0xff) /* Inf stays Inf; NaN stays a (quiet) NaN. */
        return (uint16_t)(sign | 0x7c00u | (mant != 0 ? 0x200u | (mant >> 13) : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31)
        return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10)
            return sign;
        /* Subnormal half: shift the full significand, round to nearest even. */
        mant |= 0x800000u;
        unsigned shift = (unsigned)(14 - e);
        uint32_t hm = mant >> shift;
        uint32_t rest = mant & ((1u << shift) - 1);
        uint32_t halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (hm & 1)))
            hm++;
        return (uint16_t)(sign | hm);
    }
    uint16_t h = (uint16_t)(sign | ((uint32_t)e << 10) | (mant >> 13));
    uint32_t rest = mant & 0x1fffu;
    /* A carry out of the mantissa correctly bumps the exponent (up to Inf). */
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1)))
        h++;
    return h;
}
