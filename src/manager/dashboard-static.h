/*
 * dashboard-static.h - the dashboard's files: a fixed list of URLs, each
 * mapped to one file of the install directory with its Content-Type, read
 * beneath that directory by the kernel (common/paths.h) and answered with a
 * strong ETag (a hash of the content), or 304 when the client has it.
 *
 * DESIGN: a URL never becomes a path.  It is looked up in the list, and only
 * the list's file names are opened, so "..", "%2e" and NUL bytes in requests
 * cannot name anything else; a file is opened beneath the directory by the
 * kernel, so a symlink installed there cannot lead outside it either.  Files are read at each
 * request (a few KB): nothing is kept in memory while nobody looks, and an upgrade is seen at once
 * (no-cache plus the ETag makes a browser revalidate).
 */
#ifndef HDM_MANAGER_DASHBOARD_STATIC_H
#define HDM_MANAGER_DASHBOARD_STATIC_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/paths.h"

/* Largest file served (the page's files are a few KB). */
#define DASHBOARD_STATIC_MAX_BYTES (1024 * 1024)

typedef struct dashboard_file {
    const char *url;  /* request path, e.g. "/dashboard.js" */
    const char *name; /* file in the directory */
    const char *type; /* Content-Type */
} dashboard_file;

/* The entry for a request path, or NULL when it is not one of the page's. */
const dashboard_file *dashboard_static_find(const char *url);
/* Every entry (n set to the count), for tests and documentation. */
const dashboard_file *dashboard_static_files(size_t *n);

/*
 * The directory to serve: `configured` when not NULL/empty, else the
 * running program's ../share/hailo-ai-services/dashboard (so a build tree,
 * `cmake --install` and the .deb all find their own copy).  Returns a
 * malloc'd path, or NULL when out of memory or the program's path is
 * unknown.
 */
char *dashboard_static_dir(const char *configured);

typedef struct dashboard_static_reply {
    int status; /* 200 or 304 */
    char *body; /* malloc'd content (200), NULL for 304 */
    size_t len;
    char etag[24];    /* "\"<16 hex digits>\"" */
    const char *type; /* the entry's Content-Type */
} dashboard_static_reply;

/*
 * Reads file f beneath dir (an allow-list of one directory, from
 * path_allowlist_parse(dashboard_static_dir(...))) and fills
 * *out: 304 when `if_none_match` (the request's header, or NULL) names its
 * ETag, else 200 with the content.  Returns 0, or -HDM_E_NOT_FOUND "the
 * dashboard file NAME is not installed in DIR" (missing, a symlink leading
 * outside DIR, not a regular file), -HDM_E_TOO_LARGE, -HDM_E_NOMEM / -HDM_E_INTERNAL with err.
 */
int dashboard_static_load(const path_allowlist *dir, const dashboard_file *f,
                          const char *if_none_match, dashboard_static_reply *out, hdm_err *err);
/* Frees out->body (a zeroed reply is fine). */
void dashboard_static_reply_free(dashboard_static_reply *out);

/* If-None-Match (RFC 9110 13.1.2): true when `header` is "*" or lists
 * `etag`, compared weakly (a W/ prefix is ignored). */
bool dashboard_etag_matches(const char *header, const char *etag);

#endif
