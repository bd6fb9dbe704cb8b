/*
 * modelpath.c - see modelpath.h.
 */
#include "modelpath.h"

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int modelpath_resolve(const path_allowlist *allow, const char *path, const char *what,
                      const char *missing, char **canonical, hdm_err *err, hdm_err *why)
{
    hdm_err real;
    hdm_err_clear(&real);
    int rc;
    bool said_as_is = true; /* the real sentence is the answer */
    if (!path || !path[0])
        rc = hdm_err_set(&real, HDM_E_BAD_REQUEST, "%s is empty", what);
    else if (strnlen(path, PATH_MAX) >= PATH_MAX)
        rc = hdm_err_set(&real, HDM_E_BAD_REQUEST, "%s is too long (limit %d bytes)", what,
                         PATH_MAX - 1);
    else if (path[0] != '/')
        rc = hdm_err_set(&real, HDM_E_BAD_REQUEST, "%s must be an absolute path: %.256s", what,
                         path);
    else {
        said_as_is = false;
        rc = path_resolve_allowed(allow, path, what, canonical, &real);
    }
    if (rc == 0) {
        /* Never hand a FIFO or device to a backend: opening one for reading
         * waits for a writer, and would wedge the device worker. */
        struct stat st;
        int fd = open(*canonical, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
        bool regular = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
        if (fd >= 0)
            close(fd);
        if (!regular) {
            free(*canonical);
            *canonical = NULL;
            rc = fd >= 0 ? hdm_err_set(&real, HDM_E_BAD_REQUEST,
                                       "%s is not a regular file: %.256s", what, path)
                         : hdm_err_set(&real, HDM_E_NOT_FOUND, "%s cannot be opened: %.256s",
                                       what, path);
            said_as_is = rc == -HDM_E_BAD_REQUEST;
        }
    }
    if (why)
        *why = real;
    if (rc == 0)
        return 0;
    if (said_as_is || rc == -HDM_E_NOMEM) {
        if (err)
            *err = real;
        return rc;
    }
    return hdm_err_set(err, HDM_E_NOT_FOUND, "%s: %.400s", missing, path);
}
