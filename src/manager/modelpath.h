/*
 * modelpath.h - the manager's rule for the model files a request names
 * (model_path and the paths in model_params): inside the allowed
 * directories, canonical, and one answer for every file a client may not
 * use, so the socket cannot be used to learn which files exist.
 */
#ifndef HDM_MANAGER_MODELPATH_H
#define HDM_MANAGER_MODELPATH_H

#include "backends/backend.h"
#include "common/err.h"
#include "common/paths.h"

/*
 * The allowed directories in force, as an immutable, reference-counted
 * snapshot: a job keeps the one it was checked against until the device
 * worker has loaded its files (the backends open them beneath it), while a
 * reload (SIGHUP) puts a new one in place.  Refs may be dropped from any
 * thread.
 */
typedef struct modelpath_dirs modelpath_dirs;

/* A snapshot of the colon-separated list (one reference); NULL when out of memory. */
modelpath_dirs *modelpath_dirs_new(const char *colon_list);
/* Another reference to d (NULL is fine). */
modelpath_dirs *modelpath_dirs_ref(modelpath_dirs *d);
/* Drops a reference; the last frees d.  NULL is fine. */
void modelpath_dirs_unref(modelpath_dirs *d);
/* The parsed list, and the text it came from. */
const path_allowlist *modelpath_dirs_list(const modelpath_dirs *d);
const char *modelpath_dirs_text(const modelpath_dirs *d);

/*
 * Opens `path` (the value of request field `what`) beneath one of `allow`'s
 * directories, in the kernel and without following symlinks, if it is a
 * regular file (never blocking: a FIFO is refused, not waited on).
 * Returns 0 and *out (close it with path_file_close; out->path is the
 * canonical name).  Otherwise:
 *   -HDM_E_BAD_REQUEST "<what> is empty" / "<what> must be an absolute
 *       path: <path>" / "<what> is too long ..." for a malformed path, and
 *       "<what> is not a regular file: <path>" for a FIFO, device, socket or
 *       directory inside the allowed directories;
 *   -HDM_E_NOT_FOUND "<missing>: <path>" (e.g. "Model file not found: /x")
 *       for a file that is missing, outside the allowed directories (also
 *       through a symlink or ".."), or unreadable: one answer for all;
 *   -HDM_E_NOMEM / -HDM_E_INTERNAL with the reason.
 * *why (may be NULL) gets the real reason in every case, for the log.
 */
int modelpath_open(const path_allowlist *allow, const char *path, const char *what,
                   const char *missing, path_file *out, hdm_err *err, hdm_err *why);

/*
 * How a request's paths become canonical: a shortcut for paths the caller
 * already knows (a resident model's, remembered when it was loaded: no
 * file-system lookup per request), else modelpath_open.
 */
typedef struct modelpath_resolver {
    const path_allowlist *allow;
    /* Optional: a malloc'd canonical path remembered for `requested` (a
     * file of a resident model of `kind`), or NULL when none is known. */
    char *(*remembered)(void *ctx, model_kind kind, const char *requested);
    void *ctx;
} modelpath_resolver;

/* modelpath_open, keeping only the canonical name (malloc'd, in *canonical). */
int modelpath_resolve(const path_allowlist *allow, const char *path, const char *what,
                      const char *missing, char **canonical, hdm_err *err, hdm_err *why);

#endif
