/*
 * modelpath.c - see modelpath.h.  The confinement itself (the kernel opens
 * the file beneath an allowed directory, without following symlinks, never
 * blocking) is common/paths.c; this file decides what a client is told.
 */
#include "modelpath.h"

#include <stdio.h>
#include <stdlib.h>

int modelpath_open(const path_allowlist *allow, const char *path, const char *what,
                   const char *missing, path_file *out, hdm_err *err, hdm_err *why)
{
    hdm_err real;
    hdm_err_clear(&real);
    enum path_refusal refusal = PATH_REFUSED_NONE;
    int rc = path_open_allowed(allow, path, what, 0, out, &refusal, &real);
    if (why)
        *why = real;
    if (rc == 0)
        return 0;
    switch (refusal) {
    case PATH_REFUSED_NOT_FOUND:
    case PATH_REFUSED_NOT_ALLOWED:
        /* One answer for both: a client must not learn which files exist. */
        return hdm_err_set(err, HDM_E_NOT_FOUND, "%s: %.400s", missing, path);
    default:
        /* Malformed, a FIFO or device inside the allowed directories, or
         * out of memory: the real sentence. */
        if (err)
            *err = real;
        return rc;
    }
}

int modelpath_resolve(const path_allowlist *allow, const char *path, const char *what,
                      const char *missing, char **canonical, hdm_err *err, hdm_err *why)
{
    path_file f;
    int rc = modelpath_open(allow, path, what, missing, &f, err, why);
    if (rc < 0)
        return rc;
    *canonical = f.path;
    f.path = NULL;
    path_file_close(&f);
    return 0;
}
