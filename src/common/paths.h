/*
 * paths.h - confining file paths to allowed directories.
 *
 * A path is accepted only when realpath() of it lies inside realpath() of one
 * of the allowed directories (so "..", symlinks and bind tricks cannot escape).
 */
#ifndef HDM_COMMON_PATHS_H
#define HDM_COMMON_PATHS_H

#include "err.h"

typedef struct path_allowlist {
    char **dirs; /* canonical directory paths (malloc'd) */
    size_t n;
} path_allowlist;

/* Parses a colon-separated list; directories that do not exist are kept
 * (non-canonical) but never match.  Returns 0 or -HDM_E_NOMEM. */
int path_allowlist_parse(path_allowlist *l, const char *colon_list);
void path_allowlist_free(path_allowlist *l);
/*
 * Resolves `path` and checks it.  `what` names the field in messages.
 * Returns 0 and a malloc'd canonical path in *canonical, or
 * -HDM_E_BAD_REQUEST (empty, too long, NUL, relative), -HDM_E_NOT_FOUND
 * ("<what> not found: <path>") or -HDM_E_BAD_REQUEST ("<what> is outside the
 * allowed model directories: <path>").  Never opens the file.
 */
int path_resolve_allowed(const path_allowlist *l, const char *path, const char *what,
                         char **canonical, hdm_err *err);

#endif
