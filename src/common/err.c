/*
 * err.c - hdm_err helpers and the names and messages of the error table.
 */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const error_messages[HDM_E__COUNT] = {[HDM_OK] = "success",
#define HDM_X_MSG(name, code, msg) [HDM_E_##name] = msg,
                                                         HDM_ERROR_MAP(HDM_X_MSG)
#undef HDM_X_MSG
};

static const char *const error_names[HDM_E__COUNT] = {[HDM_OK] = "ok",
#define HDM_X_NAME(name, code, msg) [HDM_E_##name] = code,
                                                      HDM_ERROR_MAP(HDM_X_NAME)
#undef HDM_X_NAME
};

/* Both signs name the same code; anything outside the table is "unknown". */
static int code_index(int code)
{
    if (code < 0) {
        if (code == -2147483647 - 1)
            return -1;
        code = -code;
    }
    return code < HDM_E__COUNT ? code : -1;
}

HDM_EXTERN const char *hdm_strerror(int code)
{
    int i = code_index(code);
    return i < 0 ? "unknown error" : error_messages[i];
}

HDM_EXTERN const char *hdm_error_code_name(int code)
{
    int i = code_index(code);
    /* An unknown code is still a failure: the protocol calls that "internal". */
    return i < 0 ? "internal" : error_names[i];
}

HDM_EXTERN int hdm_error_code_from_name(const char *name)
{
    if (name == NULL)
        return HDM_E_INTERNAL;
    if (strcmp(name, "ok") == 0)
        return HDM_OK;
    /* The first match wins, so "internal" maps to HDM_E_INTERNAL, not NOMEM. */
    for (int i = 1; i < HDM_E__COUNT; i++)
        if (strcmp(name, error_names[i]) == 0)
            return i;
    return HDM_E_INTERNAL;
}

int hdm_err_set(hdm_err *err, int code, const char *fmt, ...)
{
    if (code < 0)
        code = -code;
    if (err != NULL) {
        err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
    }
    return -code;
}

void hdm_err_clear(hdm_err *err)
{
    if (err == NULL)
        return;
    err->code = 0;
    err->msg[0] = '\0';
}

int hdm_err_prefix(hdm_err *err, const char *fmt, ...)
{
    /* Without an error to extend the caller still failed: keep it a failure. */
    if (err == NULL)
        return -HDM_E_INTERNAL;
    if (err->code == 0)
        err->code = HDM_E_INTERNAL;

    char prefix[HDM_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);

    /* Shift the old sentence right and put the prefix in front, truncating the tail. */
    size_t room = sizeof(err->msg) - 1;
    size_t plen = strnlen(prefix, room);
    size_t mlen = strnlen(err->msg, room);
    size_t keep = plen + 2 <= room ? room - plen - 2 : 0;
    if (mlen > keep)
        mlen = keep;
    if (plen + 2 <= room) {
        memmove(err->msg + plen + 2, err->msg, mlen);
        memcpy(err->msg + plen, ": ", 2);
        err->msg[plen + 2 + mlen] = '\0';
    } else {
        err->msg[plen] = '\0';
    }
    memcpy(err->msg, prefix, plen);
    return -err->code;
}
