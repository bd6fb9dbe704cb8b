/*
 * fetch.c - the bytes behind a file:// or http(s):// URL, within the
 * service's directories, address policy and limits (fetch.h says why each
 * rule is there).  Moved from hailo-vision's images.c; the config keys the
 * sentences name are now the caller's, and a read error on a file is
 * reported instead of passing on the bytes read before it.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"
#include "svc/fetch.h"

#define MAX_REDIRECTS 3

static int dup_or_null(char **dst, const char *s)
{
    *dst = NULL;
    if (s && !(*dst = strdup(s)))
        return -1;
    return 0;
}

int svc_fetch_init(svc_fetch *f, const svc_fetch_opts *o, hdm_err *err)
{
    memset(f, 0, sizeof(*f));
    f->allow_remote = o->allow_remote;
    f->max_bytes = o->max_bytes;
    f->timeout_ms = o->timeout_ms;
    if (dup_or_null(&f->dirs_key, o->dirs_key ? o->dirs_key : "allowed directories") < 0 ||
        dup_or_null(&f->remote_key, o->remote_key ? o->remote_key : "remote fetching") < 0 ||
        dup_or_null(&f->networks_key, o->networks_key ? o->networks_key : "allowed networks") < 0 ||
        dup_or_null(&f->remote_hint, o->remote_hint) < 0 ||
        dup_or_null(&f->user_agent, o->user_agent ? o->user_agent : "hailo/" HDM_VERSION) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    /* paths.h takes a colon-separated list. */
    buf list = {0};
    int r = 0;
    size_t n_dirs = o->allowed_dirs ? o->allowed_dirs->n : 0;
    for (size_t i = 0; i < n_dirs && r == 0; i++) {
        const char *d = o->allowed_dirs->items[i];
        if (i)
            r = buf_append(&list, ":", 1);
        if (r == 0)
            r = buf_append(&list, d, strlen(d));
    }
    if (r == 0)
        r = buf_append(&list, "", 1);
    if (r == 0)
        r = path_allowlist_parse(&f->dirs, (const char *)list.data);
    buf_free(&list);
    if (r < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    size_t n = o->allowed_networks ? o->allowed_networks->n : 0;
    if (n > 0 && !(f->allow_nets = calloc(n, sizeof(*f->allow_nets))))
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if ((r = netpolicy_parse(f->networks_key, o->allowed_networks->items[i], &f->allow_nets[i],
                                 err)) < 0)
            return r;
    f->n_allow_nets = n;
    return 0;
}

void svc_fetch_free(svc_fetch *f)
{
    if (!f)
        return;
    path_allowlist_free(&f->dirs);
    free(f->allow_nets);
    free(f->dirs_key);
    free(f->remote_key);
    free(f->networks_key);
    free(f->remote_hint);
    free(f->user_agent);
    memset(f, 0, sizeof(*f));
}

bool svc_fetch_is_file_url(const char *url)
{
    return strncasecmp(url, "file://", 7) == 0;
}

bool svc_fetch_is_remote_url(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

/* "what: " or "" for the sentences. */
#define WHAT_FMT "%s%s"
#define WHAT_ARGS(what) (what) ? (what) : "", (what) ? ": " : ""

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* file://[localhost]/path with %XX escapes to a plain path (malloc'd). */
static int file_url_path(const char *ref, const char *what, char **out, hdm_err *err)
{
    const char *p = ref + 7;
    if (strncmp(p, "localhost/", 10) == 0)
        p += 9;
    if (*p != '/')
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           WHAT_FMT "file URL must be file:///absolute/path", WHAT_ARGS(what));
    char *path = malloc(strlen(p) + 1), *o = path;
    if (!path)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    for (; *p; p++) {
        if (*p == '%') {
            int hi = hexval((unsigned char)p[1]), lo = hi >= 0 ? hexval((unsigned char)p[2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(path);
                return hdm_err_set(err, HDM_E_BAD_REQUEST, WHAT_FMT "bad %%-escape in file URL",
                                   WHAT_ARGS(what));
            }
            *o++ = (char)(hi * 16 + lo);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    *out = path;
    return 0;
}

/* "Image files are disabled" naming the key that enables them. */
static int files_disabled(const svc_fetch *f, const char *what, hdm_err *err)
{
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       WHAT_FMT "image files are disabled: list the directories they may come "
                                "from in %s",
                       WHAT_ARGS(what), f->dirs_key);
}

int svc_fetch_file(const svc_fetch *f, const char *url, const char *what, buf *out, hdm_err *err)
{
    char *path = NULL;
    if (f->dirs.n == 0)
        return files_disabled(f, what, err);
    int r = file_url_path(url, what, &path, err);
    if (r == 0)
        r = svc_fetch_path(f, path, what, out, err);
    free(path);
    return r;
}

int svc_fetch_path(const svc_fetch *f, const char *path, const char *what, buf *out, hdm_err *err)
{
    path_file pf = {.fd = -1};
    enum path_refusal why = PATH_REFUSED_NONE;
    size_t start = out->len;
    int r;
    if (f->dirs.n == 0)
        return files_disabled(f, what, err);
    /* Opened beneath the allowed directory by the kernel, no symlink
     * followed, regular files only: what is checked is what is read. */
    if ((r = path_open_allowed(&f->dirs, path, "image", PATH_OPEN_UNIFORM, &pf, &why, err)) < 0) {
        if (why == PATH_REFUSED_SYSTEM)
            goto out; /* out of memory or descriptors: the server's trouble */
        /* One answer for "not found", "outside" and "not a file", so a
         * client cannot probe which files exist outside. */
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, WHAT_FMT "no readable image file %.200s inside %s",
                        WHAT_ARGS(what), path, f->dirs_key);
        goto out;
    }
    if ((uint64_t)pf.st.st_size > f->max_bytes) {
        r = hdm_err_set(err, HDM_E_TOO_LARGE, WHAT_FMT "image file is larger than %zu bytes",
                        WHAT_ARGS(what), f->max_bytes);
        goto out;
    }
    size_t len = (size_t)pf.st.st_size, got = 0;
    if (buf_reserve(out, len ? len : 1) < 0) {
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        goto out;
    }
    while (got < len) {
        ssize_t n = read(pf.fd, out->data + start + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = hdm_err_set(err, HDM_E_INTERNAL, WHAT_FMT "cannot read the image file: %s",
                            WHAT_ARGS(what), strerror(errno));
            goto out;
        }
        if (n == 0)
            break; /* the file shrank: decode what is there */
        got += (size_t)n;
    }
    out->len = start + got;
    r = 0;
out:
    path_file_close(&pf);
    return r;
}

typedef struct fetch_ctx {
    buf *body;
    size_t start;
    size_t limit;
    bool too_large;
    bool nomem;
    const svc_fetch *f;
    bool refused; /* an address the policy refused */
    char refused_addr[64];
} fetch_ctx;

/* libcurl's open-socket callback: the last word on every connection,
 * redirects included, made with the address actually about to be used. */
static curl_socket_t fetch_open_socket(void *user, curlsocktype purpose, struct curl_sockaddr *a)
{
    fetch_ctx *c = user;
    if (purpose != CURLSOCKTYPE_IPCXN ||
        !netpolicy_allowed(c->f->allow_nets, c->f->n_allow_nets, &a->addr)) {
        c->refused = true;
        const void *bytes = a->family == AF_INET
                                ? (const void *)&((struct sockaddr_in *)&a->addr)->sin_addr
                                : (const void *)&((struct sockaddr_in6 *)&a->addr)->sin6_addr;
        if ((a->family != AF_INET && a->family != AF_INET6) ||
            !inet_ntop(a->family, bytes, c->refused_addr, sizeof(c->refused_addr)))
            snprintf(c->refused_addr, sizeof(c->refused_addr), "(family %d)", a->family);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t fetch_write(char *ptr, size_t size, size_t nmemb, void *user)
{
    fetch_ctx *c = user;
    size_t n = size * nmemb;
    if (c->body->len - c->start + n > c->limit) {
        c->too_large = true;
        return 0;
    }
    if (buf_append(c->body, ptr, n) < 0) {
        c->nomem = true;
        return 0;
    }
    return n;
}

/* libcurl's global set-up (TLS libraries: a few MB of RSS) happens on the
 * first remote fetch, not at start-up: most services never fetch.  Once per
 * process, before any curl_easy_init. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_start(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int svc_fetch_remote(const svc_fetch *f, const char *url, const char *what, buf *out, hdm_err *err)
{
    if (!f->allow_remote)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           WHAT_FMT "remote image URLs are disabled (%s is off)%s%s",
                           WHAT_ARGS(what), f->remote_key, f->remote_hint ? "; " : "",
                           f->remote_hint ? f->remote_hint : "");
    pthread_once(&curl_once, curl_start);
    CURL *c = curl_easy_init();
    if (!c)
        return hdm_err_set(err, HDM_E_NOMEM, "cannot start an HTTP fetch");
    fetch_ctx ctx = {.body = out, .start = out->len, .limit = f->max_bytes, .f = f};
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)f->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)f->timeout_ms);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->max_bytes);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, f->user_agent);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &ctx);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, fetch_open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &ctx);
    /* A proxy from the environment would be the address connected to. */
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    CURLcode cc = curl_easy_perform(c);
    int r = 0;
    if (ctx.too_large || cc == CURLE_FILESIZE_EXCEEDED) {
        r = hdm_err_set(err, HDM_E_TOO_LARGE, WHAT_FMT "remote image is larger than %zu bytes",
                        WHAT_ARGS(what), f->max_bytes);
    } else if (ctx.nomem) {
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory fetching the image URL");
    } else if (cc != CURLE_OK) {
        /* One sentence for every cause; the reason goes to the log only. */
        if (ctx.refused)
            log_info(WHAT_FMT "remote image refused: %s is not a public address (see %s)",
                     WHAT_ARGS(what), ctx.refused_addr, f->networks_key);
        else
            log_info(WHAT_FMT "remote image fetch failed: %s", WHAT_ARGS(what),
                     ebuf[0] ? ebuf : curl_easy_strerror(cc));
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, WHAT_FMT "cannot fetch the image URL",
                        WHAT_ARGS(what));
    }
    if (r < 0)
        out->len = ctx.start;
    curl_easy_cleanup(c);
    return r;
}
