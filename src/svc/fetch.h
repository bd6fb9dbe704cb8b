/*
 * fetch.h - the bytes behind a URL a client named (an image reference),
 * fetched safely.  Shared by hailo-vision (image_url parts) and hailo-depth
 * (image_url); moved here from hailo-vision's images.c.
 *
 *   file:///path   only beneath the configured directories, opened there by
 *                  the kernel (common/paths.h path_open_allowed:
 *                  RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or O_NOFOLLOW per
 *                  component), regular files only: "..", symlinks and a
 *                  directory swapped for a symlink cannot lead outside;
 *   http(s)://...  only when enabled, through libcurl with a byte limit, a
 *                  time limit, at most 3 redirects, http/https only, no
 *                  proxy; every connection (redirects too) is checked at the
 *                  address it is about to connect to (svc/netpolicy.h), so a
 *                  name resolving to 127.0.0.1 or a redirect to the LAN is
 *                  refused unless the operator allowed that block.
 * A failed remote fetch has one answer whatever the cause (refused address,
 * no such host, closed port, timeout, HTTP error), and a file one answer for
 * "not found" and "outside the directories", so the service cannot be used
 * to map hosts, ports or files; the log line has the reason.
 *
 * Sentences start with `what: ` when `what` is given (the request field),
 * and name the config keys of the service (svc_fetch_opts).
 */
#ifndef HDM_SVC_FETCH_H
#define HDM_SVC_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/paths.h"
#include "common/yamlconf.h"
#include "svc/netpolicy.h"

typedef struct svc_fetch_opts {
    const conf_strlist *allowed_dirs;     /* file:// directories (NULL or empty: refused) */
    bool allow_remote;                    /* http(s):// allowed at all */
    const conf_strlist *allowed_networks; /* CIDR blocks allowed besides public addresses */
    size_t max_bytes;                     /* largest body or file */
    int timeout_ms;                       /* one remote fetch, connect included */
    /* The config keys the sentences name, e.g. "images.allowed_dirs",
     * "images.allow_remote", "images.remote_allowed_networks". */
    const char *dirs_key, *remote_key, *networks_key;
    const char *remote_hint; /* appended to "remote ... disabled (...)", may be NULL */
    const char *user_agent;  /* "hailo-vision/0.1.0" */
} svc_fetch_opts;

typedef struct svc_fetch {
    path_allowlist dirs;
    bool allow_remote;
    net_block *allow_nets;
    size_t n_allow_nets;
    size_t max_bytes;
    int timeout_ms;
    char *dirs_key, *remote_key, *networks_key, *remote_hint, *user_agent;
} svc_fetch;

/* Fills *f from o.  Returns 0, -HDM_E_NOMEM, or -HDM_E_BAD_REQUEST naming
 * a bad network block.  svc_fetch_free it (also after a failure). */
int svc_fetch_init(svc_fetch *f, const svc_fetch_opts *o, hdm_err *err);
void svc_fetch_free(svc_fetch *f);

/* True for the URL schemes the functions below take ("file://",
 * "http://", "https://", any case). */
bool svc_fetch_is_file_url(const char *url);
bool svc_fetch_is_remote_url(const char *url);

/*
 * Appends the bytes of a file:// URL ("file:///abs/path" or
 * "file://localhost/abs/path", %XX escapes decoded) to `out`.  Returns 0;
 * -HDM_E_BAD_REQUEST (file:// disabled, a malformed URL, no readable file
 * inside the directories); -HDM_E_TOO_LARGE (over max_bytes); -HDM_E_NOMEM
 * or -HDM_E_INTERNAL (out of descriptors, I/O error).
 */
int svc_fetch_file(const svc_fetch *f, const char *url, const char *what, buf *out, hdm_err *err);
/* As svc_fetch_file for a plain absolute path (no URL decoding). */
int svc_fetch_path(const svc_fetch *f, const char *path, const char *what, buf *out,
                   hdm_err *err);
/*
 * Appends the body of an http(s):// URL to `out`.  Returns 0;
 * -HDM_E_BAD_REQUEST (remote fetching disabled, or the one "cannot fetch
 * the image URL" for every failure); -HDM_E_TOO_LARGE; -HDM_E_NOMEM.
 * Blocks for at most timeout_ms.
 */
int svc_fetch_remote(const svc_fetch *f, const char *url, const char *what, buf *out, hdm_err *err);

#endif
