/*
 * err.h - the one way errors travel inside our programs.
 *
 * A function that can fail returns 0 (or a non-negative value) on success and
 * -HDM_E_* on failure, and when it has an `hdm_err *` parameter fills it with
 * the code and a sentence naming what was wrong.  hdm_err_set() returns the
 * negative code, so the usual form is
 *     return hdm_err_set(err, HDM_E_BAD_REQUEST, "shape[%d] is negative", i);
 * `err` may be NULL everywhere.  Codes and names come from HDM_ERROR_MAP in
 * include/hailodm.h.
 */
#ifndef HDM_COMMON_ERR_H
#define HDM_COMMON_ERR_H

#include "hailodm.h"

#define HDM_ERR_MSG_MAX 512

typedef struct hdm_err {
    int code;                   /* positive HDM_E_*, 0 when none */
    char msg[HDM_ERR_MSG_MAX];  /* the sentence a client sees */
} hdm_err;

/* Sets *err (if not NULL) and returns -code. */
int hdm_err_set(hdm_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Clears *err. */
void hdm_err_clear(hdm_err *err);
/* Prefixes err->msg with "<prefix>: " (context added by a caller). Returns -err->code. */
int hdm_err_prefix(hdm_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
