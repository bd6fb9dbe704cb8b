/*
 * images.c - an image reference from a chat message to a 336x336 RGB frame.
 *
 * DESIGN.  Three sources, each behind its own gate:
 *   data:image/...;base64,...   always (size checked before decoding);
 *   file:///path, /path         only inside images.allowed_dirs (a bare
 *                               absolute path, as the original service took
 *                               it, or a file:// URL), opened
 *                               beneath the allowed directory by the kernel
 *                               (common/paths.h path_open_allowed: openat2
 *                               RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, or
 *                               O_NOFOLLOW per component), so "..", symlinks
 *                               and a directory swapped for a symlink while
 *                               the request runs cannot escape;
 *   http(s)://...               only with images.allow_remote, through
 *                               libcurl with a byte limit, a time limit,
 *                               at most 3 redirects and only http/https;
 *                               every connection (redirects too) is checked
 *                               at the address it is about to connect to
 *                               (netpolicy.c): loopback, private and other
 *                               special-purpose addresses are refused unless
 *                               images.remote_allowed_networks lists them.
 * A failed fetch has one answer whatever the cause (refused address, no
 * such host, closed port, timeout, HTTP error), so the service cannot be
 * used to map which hosts and ports exist; the log has the reason.  A
 * file image likewise has one answer for "not found" and "outside the
 * allowed directories".  Where plain base64 is allowed too ({type:"image"}
 * parts, /v1/vision/analyze strings), a string starting with '/' is a path
 * only when it cannot be base64 or lies beneath an allowed directory: JPEG
 * data in base64 starts with "/9j/".
 * Every source ends in image_decode (pixel limit checked from the header)
 * and image_resize_crop to the model's square input.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "image/image.h"
#include "vision/vision.h"

#define MAX_REDIRECTS 3

int vision_images_init(vision_images *vi, const vision_config *cfg, hdm_err *err)
{
    memset(vi, 0, sizeof(*vi));
    vi->allow_remote = cfg->allow_remote;
    vi->max_bytes = (size_t)cfg->image_max_bytes;
    vi->max_pixels = (uint64_t)cfg->image_max_pixels;
    vi->fetch_timeout_ms = cfg->fetch_timeout_ms;
    /* paths.h takes a colon-separated list. */
    buf list = {0};
    int r = 0;
    for (size_t i = 0; i < cfg->allowed_dirs.n && r == 0; i++) {
        const char *d = cfg->allowed_dirs.items[i];
        if (i)
            r = buf_append(&list, ":", 1);
        if (r == 0)
            r = buf_append(&list, d, strlen(d));
    }
    if (r == 0)
        r = buf_append(&list, "", 1);
    if (r == 0)
        r = path_allowlist_parse(&vi->dirs, (const char *)list.data);
    buf_free(&list);
    if (r < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    size_t n = cfg->remote_allowed_networks.n;
    if (n > 0 && !(vi->allow_nets = calloc(n, sizeof(*vi->allow_nets))))
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if ((r = netpolicy_parse(cfg->remote_allowed_networks.items[i], &vi->allow_nets[i], err)) <
            0)
            return r;
    vi->n_allow_nets = n;
    return 0;
}

void vision_images_free(vision_images *vi)
{
    if (!vi)
        return;
    path_allowlist_free(&vi->dirs);
    free(vi->allow_nets);
    vi->allow_nets = NULL;
}

static void limits(const vision_images *vi, image_limits *lim)
{
    image_limits_defaults(lim);
    lim->max_bytes = vi->max_bytes;
    lim->max_pixels = vi->max_pixels;
}

/*
 * Second half of every image source: the decode result r, then resize and
 * centre-crop into frame.  Anything but size and memory is the client's
 * image being bad (400), named by `what`.
 */
static int finish_frame(image *img, int r, const char *what, uint8_t *frame, hdm_err *err)
{
    if (r >= 0)
        r = image_resize_crop(img, VISION_FRAME_SIDE, frame, err);
    image_free(img);
    if (r < 0) {
        if (err && err->code != HDM_E_TOO_LARGE && err->code != HDM_E_NOMEM &&
            err->code != HDM_E_BUSY)
            err->code = HDM_E_BAD_REQUEST;
        return hdm_err_prefix(err, "%s", what);
    }
    return 0;
}

static int decode_to_frame(const vision_images *vi, const uint8_t *data, size_t len,
                           const char *what, uint8_t *frame, hdm_err *err)
{
    image_limits lim;
    image img = {0};
    limits(vi, &lim);
    int r = image_decode(data, len, &lim, VISION_FRAME_SIDE, &img, err);
    return finish_frame(&img, r, what, frame, err);
}

/* Base64 (no prefix) to a frame; the encoded size is checked first. */
static int decode_b64(const vision_images *vi, const char *b64, const char *what, uint8_t *frame,
                      hdm_err *err)
{
    size_t len = strlen(b64);
    if (len / 4 * 3 > vi->max_bytes + 3)
        return hdm_err_set(err, HDM_E_TOO_LARGE, "%s: image is larger than %zu bytes", what,
                           vi->max_bytes);
    image_limits lim;
    image img = {0};
    limits(vi, &lim);
    int r = image_decode_base64(b64, len, &lim, VISION_FRAME_SIDE, &img, err);
    return finish_frame(&img, r, what, frame, err);
}

static int load_data_uri(const vision_images *vi, const char *ref, const char *what, uint8_t *frame,
                         hdm_err *err)
{
    const char *comma = strchr(ref, ',');
    if (!comma)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: data URI has no ',' before its data", what);
    size_t hdr = (size_t)(comma - ref);
    if (hdr < 7 || strncasecmp(comma - 7, ";base64", 7) != 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: only base64 data URIs are supported (data:image/...;base64,...)",
                           what);
    if (strncasecmp(ref, "data:image/", 11) != 0 && hdr != 12 /* "data:;base64" */)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: data URI is not an image (%.*s)", what,
                           (int)(hdr < 60 ? hdr : 60), ref);
    return decode_b64(vi, comma + 1, what, frame, err);
}

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
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: file URL must be file:///absolute/path",
                           what);
    char *path = malloc(strlen(p) + 1), *o = path;
    if (!path)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    for (; *p; p++) {
        if (*p == '%') {
            int hi = hexval((unsigned char)p[1]), lo = hi >= 0 ? hexval((unsigned char)p[2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(path);
                return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: bad %%-escape in file URL", what);
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

/* One answer for "not found", "outside images.allowed_dirs" and "cannot be
 * opened", so a client cannot probe which files exist outside. */
static int no_such_image(const char *what, const char *path, hdm_err *err)
{
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       "%s: no readable image file %.200s inside images.allowed_dirs", what, path);
}

/* An absolute path, confined to images.allowed_dirs, to a frame. */
static int load_path(const vision_images *vi, const char *path, const char *what, uint8_t *frame,
                     hdm_err *err)
{
    uint8_t *data = NULL;
    path_file pf = {.fd = -1};
    enum path_refusal why = PATH_REFUSED_NONE;
    int r;
    if (vi->dirs.n == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: image files are disabled: list the directories they may come "
                           "from in images.allowed_dirs (hailo-vision.yaml)",
                           what);
    /* Opened beneath the allowed directory by the kernel, no symlink
     * followed, regular files only: what is checked is what is read. */
    if ((r = path_open_allowed(&vi->dirs, path, "image", PATH_OPEN_UNIFORM, &pf, &why, err)) < 0) {
        if (why == PATH_REFUSED_SYSTEM)
            goto out; /* out of memory or descriptors: the server's trouble */
        r = no_such_image(what, path, err);
        goto out;
    }
    if ((uint64_t)pf.st.st_size > vi->max_bytes) {
        r = hdm_err_set(err, HDM_E_TOO_LARGE, "%s: image file is larger than %zu bytes", what,
                        vi->max_bytes);
        goto out;
    }
    size_t len = (size_t)pf.st.st_size, got = 0;
    if (!(data = malloc(len ? len : 1))) {
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        goto out;
    }
    while (got < len) {
        ssize_t n = read(pf.fd, data + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    r = decode_to_frame(vi, data, got, what, frame, err);
out:
    path_file_close(&pf);
    free(data);
    return r;
}

static int load_file(const vision_images *vi, const char *ref, const char *what, uint8_t *frame,
                     hdm_err *err)
{
    char *path = NULL;
    int r = file_url_path(ref, what, &path, err);
    if (r == 0)
        r = load_path(vi, path, what, frame, err);
    free(path);
    return r;
}

typedef struct fetch_ctx {
    buf body;
    size_t limit;
    bool too_large;
    const vision_images *vi;
    bool refused;        /* an address the policy refused */
    char refused_addr[64];
} fetch_ctx;

/* libcurl's open-socket callback: the last word on every connection,
 * redirects included, made with the address actually about to be used. */
static curl_socket_t fetch_open_socket(void *user, curlsocktype purpose, struct curl_sockaddr *a)
{
    fetch_ctx *f = user;
    if (purpose != CURLSOCKTYPE_IPCXN ||
        !netpolicy_allowed(f->vi->allow_nets, f->vi->n_allow_nets, &a->addr)) {
        f->refused = true;
        const void *bytes = a->family == AF_INET
                                ? (const void *)&((struct sockaddr_in *)&a->addr)->sin_addr
                                : (const void *)&((struct sockaddr_in6 *)&a->addr)->sin6_addr;
        if ((a->family != AF_INET && a->family != AF_INET6) ||
            !inet_ntop(a->family, bytes, f->refused_addr, sizeof(f->refused_addr)))
            snprintf(f->refused_addr, sizeof(f->refused_addr), "(family %d)", a->family);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static size_t fetch_write(char *ptr, size_t size, size_t nmemb, void *user)
{
    fetch_ctx *f = user;
    size_t n = size * nmemb;
    if (f->body.len + n > f->limit) {
        f->too_large = true;
        return 0;
    }
    return buf_append(&f->body, ptr, n) < 0 ? 0 : n;
}

static int load_remote(const vision_images *vi, const char *ref, const char *what, uint8_t *frame,
                       hdm_err *err)
{
    if (!vi->allow_remote)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: remote image URLs are disabled (images.allow_remote is off): "
                           "send the image as a data: URI, or set images.allow_remote: true in "
                           "hailo-vision.yaml to fetch http(s) URLs",
                           what);
    CURL *c = curl_easy_init();
    if (!c)
        return hdm_err_set(err, HDM_E_NOMEM, "cannot start an HTTP fetch");
    fetch_ctx f = {.limit = vi->max_bytes, .vi = vi};
    char ebuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, ref);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)vi->fetch_timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)vi->fetch_timeout_ms);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)vi->max_bytes);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "hailo-vision/" HDM_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &f);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, fetch_open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &f);
    /* A proxy from the environment would be the address connected to. */
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    CURLcode cc = curl_easy_perform(c);
    int r;
    if (f.too_large || cc == CURLE_FILESIZE_EXCEEDED)
        r = hdm_err_set(err, HDM_E_TOO_LARGE, "%s: remote image is larger than %zu bytes", what,
                        vi->max_bytes);
    else if (cc != CURLE_OK) {
        /* One sentence for every cause; the reason goes to the log only. */
        if (f.refused)
            log_info("%s: remote image refused: %s is not a public address (see "
                     "images.remote_allowed_networks)", what, f.refused_addr);
        else
            log_info("%s: remote image fetch failed: %s", what,
                     ebuf[0] ? ebuf : curl_easy_strerror(cc));
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: cannot fetch the image URL", what);
    } else
        r = decode_to_frame(vi, f.body.data, f.body.len, what, frame, err);
    curl_easy_cleanup(c);
    buf_free(&f.body);
    return r;
}

/* Whether a string that starts with '/' names a file rather than base64:
 * it has a character base64 never has, or it lies beneath an allowed
 * directory. */
static bool looks_like_path(const vision_images *vi, const char *ref)
{
    if (ref[strspn(ref, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")])
        return true;
    for (size_t i = 0; i < vi->dirs.n; i++) {
        size_t n = strlen(vi->dirs.dirs[i]);
        if (strncmp(ref, vi->dirs.dirs[i], n) == 0 && (ref[n] == '/' || n == 1))
            return true;
    }
    return false;
}

int vision_image_load(const vision_images *vi, const char *ref, bool bare_base64, const char *what,
                      uint8_t *frame, hdm_err *err)
{
    if (strncasecmp(ref, "data:", 5) == 0)
        return load_data_uri(vi, ref, what, frame, err);
    if (strncasecmp(ref, "file://", 7) == 0)
        return load_file(vi, ref, what, frame, err);
    if (strncasecmp(ref, "http://", 7) == 0 || strncasecmp(ref, "https://", 8) == 0)
        return load_remote(vi, ref, what, frame, err);
    if (ref[0] == '/' && (!bare_base64 || looks_like_path(vi, ref)))
        return load_path(vi, ref, what, frame, err);
    if (bare_base64)
        return decode_b64(vi, ref, what, frame, err);
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       "%s: unsupported image URL (use a data:image/...;base64 URI, an absolute "
                       "path or file:// URL inside images.allowed_dirs, or http(s):// when "
                       "images.allow_remote is on)",
                       what);
}
