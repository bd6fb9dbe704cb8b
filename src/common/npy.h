/*
 * npy.h - NumPy .npy files: the project's one header parser, read-only
 * memory-mapped arrays, and writing a tensor as .npy.
 *
 * Versions 1.0, 2.0 and 3.0 of the format; the mapped arrays are
 * little-endian float32 ('<f4') and float16 ('<f2') in C order, which is
 * what CLIP's tables ship as; the header parser and the writer know every
 * hailodm dtype.
 * Every header field is checked and a bad file gets a sentence naming the
 * file and the problem.  Library code: never logs.
 */
#ifndef HDM_COMMON_NPY_H
#define HDM_COMMON_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "hailodm.h"

typedef struct npy_array {
    hdm_dtype dtype; /* HDM_DT_FLOAT32 or HDM_DT_FLOAT16 */
    int ndim;        /* 0..HDM_MAX_DIMS */
    int64_t shape[HDM_MAX_DIMS];
    const void *data; /* the elements, C order, little-endian */
    size_t nbytes;    /* element bytes */
    void *map;        /* the mapping (NULL for npy_parse) */
    size_t map_len;
} npy_array;

/* What a .npy header says (npy_parse_header). */
typedef struct npy_header {
    char descr[16];  /* as written, e.g. "<f4" */
    hdm_dtype dtype; /* HDM_DT__COUNT when descr names no hailodm dtype */
    int ndim;        /* 0..HDM_MAX_DIMS (0: a NumPy scalar) */
    int64_t shape[HDM_MAX_DIMS];
    size_t data_offset; /* where the elements start in the file */
} npy_header;

/*
 * Parses the preamble and header dict at the start of buf[0..len) (format
 * 1.0-3.0; the dict must hold exactly 'descr', 'fortran_order' False and
 * 'shape').  Any descr string is accepted: out->dtype says whether it names
 * a hailodm dtype (little-endian uint8, int8, uint16, int16, int32, float16,
 * float32).  The data are not checked.  Returns 0 or -HDM_E_BAD_REQUEST
 * with err naming `name` and the bad field.
 */
int npy_parse_header(const void *buf, size_t len, const char *name, npy_header *out, hdm_err *err);

/*
 * Memory-maps `path` and parses its header into *out.  Returns 0, or
 * -HDM_E_NOT_FOUND (missing file) / -HDM_E_BAD_REQUEST with err naming the
 * file and the bad field.  Release with npy_close().
 */
int npy_open(const char *path, npy_array *out, hdm_err *err);
/*
 * Parses a whole .npy file image buf[0..len) (borrowed: out->data points
 * into it, out->map stays NULL).  `name` is used in messages.
 */
int npy_parse(const void *buf, size_t len, const char *name, npy_array *out, hdm_err *err);
/* Unmaps.  Accepts NULL and zeroed arrays. */
void npy_close(npy_array *a);

/*
 * Checks the rank and, for each dimension whose expected value is >= 0, its
 * size; the error names `what` and the first mismatch.
 */
int npy_expect_shape(const npy_array *a, const char *what, int ndim, const int64_t *shape,
                     hdm_err *err);

/* Element i of a float32 or float16 array, as float. */
float npy_get_f32(const npy_array *a, size_t i);

/*
 * Writes t to `path` as a .npy file (format 1.0, C order, little-endian).
 * Returns 0, or -HDM_E_BAD_REQUEST (t's dtype or shape cannot be written)
 * / -HDM_E_INTERNAL (the file cannot be written) with the reason.
 */
int npy_write(const char *path, const hdm_tensor *t, hdm_err *err);

#endif
