/*
 * modelpath.h - the manager's rule for the model files a request names
 * (model_path and the paths in model_params): inside the allowed
 * directories, canonical, and one answer for every file a client may not
 * use, so the socket cannot be used to learn which files exist.
 */
#ifndef HDM_MANAGER_MODELPATH_H
#define HDM_MANAGER_MODELPATH_H

#include "common/err.h"
#include "common/paths.h"

/*
 * Resolves `path` (the value of request field `what`) against `allow`.
 * Returns 0 and a malloc'd canonical path in *canonical.  Otherwise:
 *   -HDM_E_BAD_REQUEST "<what> is empty" / "<what> must be an absolute
 *       path: <path>" / "<what> is too long ..." for a malformed path, and
 *       "<what> is not a regular file: <path>" for a FIFO, device, socket or
 *       directory inside the allowed directories (never opened for reading);
 *   -HDM_E_NOT_FOUND "<missing>: <path>" (e.g. "Model file not found: /x")
 *       for a file that is missing, outside the allowed directories (also
 *       through a symlink or ".."), or unreadable;
 *   -HDM_E_NOMEM.
 * *why (may be NULL) gets the real reason in every case, for the log.
 */
int modelpath_resolve(const path_allowlist *allow, const char *path, const char *what,
                      const char *missing, char **canonical, hdm_err *err, hdm_err *why);

#endif
