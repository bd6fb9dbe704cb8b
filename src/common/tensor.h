/*
 * tensor.h - tensors in JSON: {"dtype","shape","data_b64"} or, in binary
 * frames, {"dtype","shape","attachment": i}.
 */
#ifndef HDM_COMMON_TENSOR_H
#define HDM_COMMON_TENSOR_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "err.h"
#include "frame.h"
#include "hailodm.h"

/* The sentence v1 clients match on when a tensor lacks a field. */
#define TENSOR_MISSING_FIELDS_MSG "tensor must include dtype, shape, and data_b64"

/*
 * Element count of shape[0..ndim) times elem_size into *bytes, overflow-safe.
 * Returns 0, or -HDM_E_BAD_REQUEST / -HDM_E_TOO_LARGE with a message.
 */
int tensor_shape_bytes(const int64_t *shape, int ndim, size_t elem_size, size_t *bytes,
                       hdm_err *err);

/*
 * Parses a tensor object.  `what` names it in messages ("input_data.tensor").
 * With data_b64 the bytes are decoded into a fresh buffer (*owned set to it,
 * free() it); with "attachment": i they point into att[i] (*owned NULL),
 * unless att[i] is misaligned for the dtype: then *owned is an aligned copy.
 * Checks dtype, shape (1..HDM_MAX_DIMS dims, each >= 0), and that the product
 * of shape times the element size equals the data length; the error says
 * which check failed.  A missing field gives TENSOR_MISSING_FIELDS_MSG.
 */
int tensor_from_json(const cJSON *obj, const char *what, const frame_attachment *att,
                     uint32_t n_att, hdm_tensor *out, void **owned, hdm_err *err);

/*
 * Checks a tensor about to be sent, the way tensor_from_json() will judge it
 * on the other side: a known dtype, 1 to HDM_MAX_DIMS dimensions each >= 0,
 * nbytes equal to the shape times the element size, data set when nbytes >
 * 0.  Returns 0, -HDM_E_BAD_REQUEST or -HDM_E_TOO_LARGE (err names the
 * check, prefixed with `what`).
 */
int tensor_check(const hdm_tensor *t, const char *what, hdm_err *err);

/*
 * {"dtype", "shape", "attachment": index} for t (the data travels as binary
 * attachment `index`).  Returns NULL when t's dtype or ndim is invalid or
 * out of memory.
 */
cJSON *tensor_ref_json(const hdm_tensor *t, uint32_t index);

/*
 * A cJSON item with data[0..n) in base64, written once into a buffer cJSON
 * adopts (no copy): a string item, or with `raw` a raw item holding the
 * quoted string, which cJSON prints without scanning it (megabytes of base64
 * in a request).  Returns NULL when out of memory.
 */
cJSON *tensor_b64_json(const void *data, size_t n, bool raw);

/*
 * Turns a binary answer into a v1 one: every object under `node` with a
 * "dtype" and an "attachment": i gets "data_b64" holding tensors[i]'s bytes
 * instead of the reference.  Returns the base64 bytes added, or -1 when an
 * index is out of range or memory runs out.
 */
long tensor_refs_to_b64(cJSON *node, const hdm_tensor *tensors, uint32_t n_tensors);

/*
 * Builds a tensor object.  With `atts` NULL the data is base64-encoded into
 * data_b64 (v1); otherwise the tensor is appended to *atts / *n_att (a
 * realloc'd array the caller frees; data borrowed) and referenced by index.
 * Returns NULL when out of memory.
 */
cJSON *tensor_to_json(const hdm_tensor *t, frame_attachment **atts, uint32_t *n_att);

/* Checks that t has exactly the expected dtype and shape; names the mismatch. */
int tensor_expect(const hdm_tensor *t, const char *what, hdm_dtype dtype, int ndim,
                  const int64_t *shape, hdm_err *err);

/* Float16 <-> float32 conversion helpers (IEEE half). */
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);

#endif
