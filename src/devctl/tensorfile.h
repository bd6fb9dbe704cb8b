/*
 * tensorfile.h - the tensor files of `hailo-devctl infer`: NumPy .npy files
 * (through common/npy) or raw bytes described by --dtype and --shape.
 */
#ifndef HDM_DEVCTL_TENSORFILE_H
#define HDM_DEVCTL_TENSORFILE_H

#include "common/err.h"
#include "hailodm.h"

/*
 * Reads a tensor from `path` into *out (out->data malloc'd; free it).  A file
 * ending in ".npy" is parsed as NumPy; anything else is raw bytes described
 * by dtype and shape (HDM_DT__COUNT and ndim 0 mean "not given", an error
 * for raw files).
 * For .npy files, a given dtype or shape must match the file's.
 */
int tensorfile_load(const char *path, hdm_dtype dtype, int ndim, const int64_t *shape,
                    hdm_tensor *out, hdm_err *err);
/* Parses "1,224,224,3" into shape[]/ndim.  Returns 0 or -HDM_E_BAD_REQUEST. */
int tensorfile_parse_shape(const char *text, int64_t *shape, int *ndim, hdm_err *err);

#endif
