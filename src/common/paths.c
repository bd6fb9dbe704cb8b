/*
 * paths.c - confining file paths to allowed directories.
 *
 * DESIGN: the check compares canonical paths (realpath of the file against
 * realpath of each allowed directory), so "..", symlinks and doubled slashes
 * are all judged by where they finally lead.  Directories are canonicalised
 * again at every check rather than once at start-up: a model directory that
 * did not exist when the daemon started starts matching once it is created,
 * and one that disappears stops matching (it never matches while it is
 * missing).  Nothing here opens the file; the caller opens the canonical path.
 */
#include "common/paths.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int path_allowlist_parse(path_allowlist *l, const char *colon_list)
{
    path_allowlist built = {0};
    const char *p = colon_list != NULL ? colon_list : "";
    while (*p != '\0') {
        const char *end = strchr(p, ':');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > 0) {
            char **dirs = realloc(built.dirs, (built.n + 1) * sizeof(*dirs));
            if (dirs == NULL)
                goto nomem;
            built.dirs = dirs;
            char *raw = strndup(p, len);
            if (raw == NULL)
                goto nomem;
            char *canon = realpath(raw, NULL);
            if (canon != NULL) {
                free(raw);
                built.dirs[built.n++] = canon;
            } else {
                built.dirs[built.n++] = raw;
            }
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    *l = built;
    return 0;

nomem:
    path_allowlist_free(&built);
    return -HDM_E_NOMEM;
}

void path_allowlist_free(path_allowlist *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->dirs[i]);
    free(l->dirs);
    l->dirs = NULL;
    l->n = 0;
}

/* True when canonical path `file` is `dir` or lies below it. */
static bool is_inside(const char *file, const char *dir)
{
    size_t dlen = strlen(dir);
    if (dlen == 1 && dir[0] == '/')
        return file[0] == '/';
    return strncmp(file, dir, dlen) == 0 && (file[dlen] == '/' || file[dlen] == '\0');
}

int path_resolve_allowed(const path_allowlist *l, const char *path, const char *what,
                         char **canonical, hdm_err *err)
{
    if (what == NULL)
        what = "path";
    if (path == NULL || path[0] == '\0')
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s is empty", what);
    size_t len = strnlen(path, PATH_MAX);
    if (len >= PATH_MAX)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s is too long (limit %d bytes)", what,
                           PATH_MAX - 1);
    if (path[0] != '/')
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be an absolute path: %s", what, path);

    char *canon = realpath(path, NULL);
    if (canon == NULL) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            return hdm_err_set(err, HDM_E_NOT_FOUND, "%s not found: %s", what, path);
        if (e == ENOMEM)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory resolving %s", what);
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s cannot be resolved: %s (%s)", what, path,
                           strerror(e));
    }

    bool allowed = false;
    for (size_t i = 0; l != NULL && i < l->n && !allowed; i++) {
        char *dir = realpath(l->dirs[i], NULL);
        if (dir == NULL)
            continue;
        allowed = is_inside(canon, dir);
        free(dir);
    }
    if (!allowed) {
        free(canon);
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s is outside the allowed model directories: %s", what, path);
    }
    *canonical = canon;
    return 0;
}
