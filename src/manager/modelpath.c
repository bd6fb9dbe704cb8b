/*
 * modelpath.c - see modelpath.h.  The confinement itself (the kernel opens
 * the file beneath an allowed directory, without following symlinks, never
 * blocking) is common/paths.c; this file decides what a client is told.
 */
#include "modelpath.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct modelpath_dirs {
    atomic_int refs;
    path_allowlist list;
    char *text;
};

modelpath_dirs *modelpath_dirs_new(const char *colon_list)
{
    modelpath_dirs *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    atomic_init(&d->refs, 1);
    if (!(d->text = strdup(colon_list ? colon_list : "")) ||
        path_allowlist_parse(&d->list, d->text) < 0) {
        free(d->text);
        free(d);
        return NULL;
    }
    return d;
}

modelpath_dirs *modelpath_dirs_ref(modelpath_dirs *d)
{
    if (d)
        atomic_fetch_add(&d->refs, 1);
    return d;
}

void modelpath_dirs_unref(modelpath_dirs *d)
{
    if (!d || atomic_fetch_sub(&d->refs, 1) != 1)
        return;
    path_allowlist_free(&d->list);
    free(d->text);
    free(d);
}

const path_allowlist *modelpath_dirs_list(const modelpath_dirs *d)
{
    return d ? &d->list : NULL;
}

const char *modelpath_dirs_text(const modelpath_dirs *d)
{
    return d ? d->text : "";
}

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
