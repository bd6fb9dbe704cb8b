/*
 * http_check.c - what a request's headers decide before any body byte is
 * read: shutdown, framing, the target, auth, the route and the body type.
 *
 * DESIGN: libmicrohttpd 0.9.75 frames the body from the first
 * Content-Length it finds and prefers Transfer-Encoding when both are
 * there, so a front proxy that reads another header than it does would see
 * another message boundary (request smuggling, RFC 9112 6.3 and 11.2).
 * MHD_get_connection_values shows every header line, so the ambiguous
 * cases are refused here, with Connection: close, before MHD reads a body:
 *   - Content-Length and Transfer-Encoding together            -> 400
 *   - two Content-Length headers with different values          -> 400
 *   - a transfer coding other than chunked                      -> 501
 *   - chunked request bodies                                    -> 411
 *     (unless the service set accept_chunked)
 * Chunked bodies are refused (411 Length Required, which RFC 9112 6.3 allows)
 * because MHD parses chunk lines in a fixed 32 KiB buffer and answers a chunk
 * extension longer than that with its own 500 page: the only way to give a
 * clear 4xx is not to read chunked bodies at all.  The clients of the JSON
 * services (requests, httpx/OpenAI SDK, curl -d/-F, browsers) send
 * Content-Length; an upload service whose clients stream files (the openai
 * npm package sends a file stream chunked) sets accept_chunked and takes
 * that residue.
 *
 * A NUL in the target: MHD hands the path over as a C string, cut at a raw
 * NUL and at a decoded %00, so "/health\0x" would be served as "/health".
 * The URI callback saw the raw target before decoding (req->raw_target);
 * its strlen is compared with the length MHD's own pointers imply.
 */
#include "http/http_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"

/* Header lines that decide framing, collected from MHD's header list. */
typedef struct framing {
    int n_length;
    const char *length;     /* the first Content-Length */
    bool length_conflict;   /* another Content-Length differs */
    int n_encoding;
    const char *encoding;   /* the first Transfer-Encoding */
} framing;

static enum MHD_Result collect_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    framing *f = cls;
    (void)kind;
    if (key == NULL)
        return MHD_YES;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->n_length++ == 0)
            f->length = value;
        else if (value == NULL || f->length == NULL || strcmp(value, f->length) != 0)
            f->length_conflict = true;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        if (f->n_encoding++ == 0)
            f->encoding = value;
    }
    return MHD_YES;
}

/* The media type of a Content-Type value (lower-cased, parameters cut). */
static void media_type(const char *ct, char *out, size_t cap)
{
    size_t n = 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    for (; *ct != '\0' && *ct != ';' && *ct != ' ' && *ct != '\t' && n + 1 < cap; ct++)
        out[n++] = (char)(*ct >= 'A' && *ct <= 'Z' ? *ct + 32 : *ct);
    out[n] = '\0';
}

/* Copies s for a message: control bytes as '?', at most cap-1 bytes. */
static void shown(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; s != NULL && *s != '\0' && n + 1 < cap; s++)
        out[n++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
    out[n] = '\0';
}

static void type_list(unsigned types, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s%s", (types & HTTP_BODY_JSON) ? "application/json" : "",
             (types & HTTP_BODY_JSON) && (types & HTTP_BODY_MULTIPART) ? " or " : "",
             (types & HTTP_BODY_MULTIPART) ? "multipart/form-data" : "");
}

/* Checks the body's Content-Type against the route.  Returns 0 or a status. */
static int check_body_type(http_request *req, char *msg, size_t msglen)
{
    const http_route *route = req->route;
    unsigned types = route->body;
    const char *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_TYPE);
    char mt[96] = "", got[96], want[64];
    if (ct != NULL)
        media_type(ct, mt, sizeof(mt));
    if ((types & HTTP_BODY_JSON) && strcmp(mt, "application/json") == 0) {
        req->body_type = HTTP_BODY_JSON;
        return 0;
    }
    if ((types & HTTP_BODY_MULTIPART) && strcmp(mt, "multipart/form-data") == 0) {
        char boundary[HTTP_MULTIPART_BOUNDARY_MAX + 1];
        if (http_multipart_boundary(ct, boundary, sizeof(boundary), msg, msglen) < 0)
            return MHD_HTTP_BAD_REQUEST;
        req->body_type = HTTP_BODY_MULTIPART;
        return 0;
    }
    if (types & HTTP_BODY_JSON_ANY) {
        req->body_type = HTTP_BODY_JSON;
        return 0;
    }
    type_list(types, want, sizeof(want));
    shown(ct, got, sizeof(got));
    if (ct == NULL)
        snprintf(msg, msglen, "Content-Type must be %s (the request has no Content-Type)", want);
    else
        snprintf(msg, msglen, "Content-Type must be %s, not \"%s\"", want, got);
    return MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
}

/* Compares without an early exit so the time does not reveal how much of the
 * token matched; the length difference is folded into the result. */
static bool token_equal(const char *expected, const char *given)
{
    size_t elen = strlen(expected), glen = strlen(given);
    unsigned diff = (unsigned)(elen ^ glen);
    for (size_t i = 0; i < elen; i++) {
        unsigned char g = i < glen ? (unsigned char)given[i] : 0;
        diff |= (unsigned)((unsigned char)expected[i] ^ g);
    }
    return diff == 0;
}

static bool auth_ok(const http_request *req)
{
    const char *token = req->srv->bearer_token;
    if (token == NULL)
        return true;
    const char *h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_AUTHORIZATION);
    if (h == NULL)
        return false;
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    h += 7;
    while (*h == ' ')
        h++;
    char given[512];
    size_t n = strlen(h);
    while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    if (n >= sizeof(given))
        return false;
    memcpy(given, h, n);
    given[n] = '\0';
    return token_equal(token, given);
}

/* True when the target held a NUL, raw or as %00. */
static bool target_has_nul(const http_request *req, const char *url, const char *version)
{
    if (req->raw_target == NULL)
        return false;
    if (strstr(req->raw_target, "%00") != NULL)
        return true;
    /* MHD cut the request line in place: the target ends one byte (the
     * space) before the version.  Both pointers are into that line. */
    uintptr_t u = (uintptr_t)url, v = (uintptr_t)version;
    if (url == req->raw_ptr && version != NULL && version[0] != '\0' && v > u &&
        v - u < 1024 * 1024)
        return v - 1 - u != req->raw_target_len;
    return false;
}

int http_check_request(http_request *req, const char *url, const char *version, char *msg,
                       size_t msglen, const char **hname, const char **hvalue, char *hbuf,
                       size_t hbuflen)
{
    http_server *srv = req->srv;
    char shown_path[200];
    *hname = *hvalue = NULL;
    shown(req->path, shown_path, sizeof(shown_path));

    if (__atomic_load_n(&srv->stopping, __ATOMIC_ACQUIRE)) {
        req->close_after = true;
        snprintf(msg, msglen, "server is shutting down");
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    }

    framing f = {0};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, collect_framing, &f);
    if (f.n_encoding > 0 && f.n_length > 0) {
        req->close_after = true;
        snprintf(msg, msglen, "the request has both Content-Length and Transfer-Encoding; "
                              "send one (RFC 9112 section 6.3)");
        return MHD_HTTP_BAD_REQUEST;
    }
    if (f.length_conflict) {
        req->close_after = true;
        snprintf(msg, msglen, "the request has conflicting Content-Length headers");
        return MHD_HTTP_BAD_REQUEST;
    }
    if (f.n_encoding > 0) {
        char te[80];
        req->close_after = true;
        shown(f.encoding, te, sizeof(te));
        bool chunked =
            f.n_encoding == 1 && f.encoding != NULL && strcasecmp(f.encoding, "chunked") == 0;
        if (chunked && !srv->cfg.accept_chunked) {
            snprintf(msg, msglen, "chunked request bodies are not accepted; send the body with "
                                  "a Content-Length");
            return MHD_HTTP_LENGTH_REQUIRED;
        }
        if (!chunked) {
            snprintf(msg, msglen, "Transfer-Encoding \"%s\" is not implemented; send the body "
                                  "with a Content-Length", te);
            return MHD_HTTP_NOT_IMPLEMENTED;
        }
        /* A chunked body the service reads: counted against the limit as it comes. */
    }
    if (target_has_nul(req, url, version)) {
        req->close_after = true;
        snprintf(msg, msglen, "the request target contains a NUL byte");
        return MHD_HTTP_BAD_REQUEST;
    }

    /* Routing: a GET route answers HEAD too (MHD sends no body). */
    const http_route *path_match = NULL;
    bool is_head = strcmp(req->method, "HEAD") == 0;
    char *allow = hbuf;
    allow[0] = '\0';
    for (const http_route *r = srv->routes; r->method != NULL; r++) {
        if (strcmp(r->path, req->path) != 0)
            continue;
        if (path_match == NULL || !path_match->public_route)
            path_match = r;
        if (strcmp(r->method, req->method) == 0 ||
            (is_head && strcmp(r->method, "GET") == 0 && req->route == NULL))
            req->route = r;
        const char *names[2] = {r->method, strcmp(r->method, "GET") == 0 ? "HEAD" : NULL};
        for (int i = 0; i < 2 && names[i] != NULL; i++) {
            if (strstr(allow, names[i]) == NULL &&
                strlen(allow) + strlen(names[i]) + 3 < hbuflen) {
                if (allow[0] != '\0')
                    strcat(allow, ", ");
                strcat(allow, names[i]);
            }
        }
    }
    bool is_public = req->route != NULL ? req->route->public_route
                                        : (path_match != NULL && path_match->public_route);
    if (!is_public && !auth_ok(req)) {
        *hname = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
        *hvalue = srv->challenge;
        snprintf(msg, msglen, "missing or invalid bearer token");
        return MHD_HTTP_UNAUTHORIZED;
    }
    if (path_match == NULL) {
        char method[16];
        shown(req->method, method, sizeof(method));
        snprintf(msg, msglen, "no route for %s %s", method, shown_path);
        return MHD_HTTP_NOT_FOUND;
    }
    if (req->route == NULL) {
        char method[16];
        shown(req->method, method, sizeof(method));
        *hname = MHD_HTTP_HEADER_ALLOW;
        *hvalue = allow;
        snprintf(msg, msglen, "method %s is not allowed on %s (allowed: %s)", method, shown_path,
                 allow);
        return MHD_HTTP_METHOD_NOT_ALLOWED;
    }

    req->body_limit = srv->cfg.max_body_bytes;
    if (req->route->body == HTTP_BODY_NONE)
        return 0;
    if (f.length != NULL) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(f.length, &end, 10);
        if (errno != 0 || end == f.length || n > req->body_limit) {
            char cl[32];
            shown(f.length, cl, sizeof(cl));
            snprintf(msg, msglen, "request body of %s bytes exceeds the limit of %zu bytes", cl,
                     req->body_limit);
            return MHD_HTTP_CONTENT_TOO_LARGE;
        }
    }
    return check_body_type(req, msg, msglen);
}
