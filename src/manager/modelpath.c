/*
 * modelpath.c - see modelpath.h.
 */
#include "modelpath.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int modelpath_resolve(const path_allowlist *allow, const char *path, const char *what,
                      const char *missing, char **canonical, hdm_err *err, hdm_err *why)
{
    hdm_err real;
    hdm_err_clear(&real);
    int rc;
    bool malformed = true;
    if (!path || !path[0])
        rc = hdm_err_set(&real, HDM_E_BAD_REQUEST, "%s is empty", what);
    else if (strnlen(path, PATH_MAX) >= PATH_MAX)
        rc = hdm_err_set(&real, HDM_E_BAD_REQUEST, "%s is too long (limit %d bytes)", what,
                         PATH_MAX - 1);
    else if (path[0] != '/')
        rc = hdm_err_set(&real, HDM_E_BAD_REQUEST, "%s must be an absolute path: %.256s", what,
                         path);
    else {
        malformed = false;
        rc = path_resolve_allowed(allow, path, what, canonical, &real);
    }
    if (why)
        *why = real;
    if (rc == 0)
        return 0;
    if (malformed || rc == -HDM_E_NOMEM) {
        if (err)
            *err = real;
        return rc;
    }
    return hdm_err_set(err, HDM_E_NOT_FOUND, "%s: %.400s", missing, path);
}
