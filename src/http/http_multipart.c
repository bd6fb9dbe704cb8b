/*
 * http_multipart.c - multipart/form-data bodies (RFC 7578 over RFC 2046).
 *
 * DESIGN: libmicrohttpd has a post processor, but it cannot serve here: it
 * needs a live MHD connection (so it cannot be fuzzed or unit-tested on
 * bytes), it reports a malformed body as a bare MHD_NO without saying what
 * was wrong, and it hands parts to a callback in pieces, so duplicate or
 * nameless parts could only be found after the fact.  The layer already
 * holds the whole body (bounded by the route's body limit) when the handler
 * runs, so this parser works on that buffer in one pass: parts point into
 * it (no copy of file data), names, filenames and types are copied into
 * one string block, and every refusal is a sentence naming the part.
 *
 * Grammar accepted (RFC 2046 5.1.1):
 *   [preamble CRLF] "--" boundary *WSP CRLF part
 *   *( CRLF "--" boundary *WSP CRLF part ) CRLF "--" boundary "--" [anything]
 *   part = *( header CRLF ) CRLF data
 * Headers: Content-Disposition (form-data, name, filename, filename*),
 * Content-Type; others (Content-Transfer-Encoding, ...) are ignored.
 */
#include "http/http_internal.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A part while parsing: string offsets into the string block. */
typedef struct raw_part {
    size_t name, filename, ctype; /* offsets, NO_STR when absent */
    const uint8_t *data;
    size_t len;
} raw_part;

#define NO_STR SIZE_MAX

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static bool is_bchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           strchr("'()+_,-./:=? ", c) != NULL;
}

/* Reads a parameter value (token or quoted-string) at *p into out; advances *p.
 * Returns the value's length, or -1 when malformed or longer than cap-1. */
static long read_value(const char **p, const char *end, char *out, size_t cap)
{
    const char *s = *p;
    size_t n = 0;
    if (s < end && *s == '"') {
        s++;
        for (;;) {
            if (s >= end)
                return -1; /* unterminated */
            if (*s == '"') {
                s++;
                break;
            }
            if (*s == '\\' && s + 1 < end)
                s++;
            if (n + 1 >= cap)
                return -1;
            out[n++] = *s++;
        }
    } else {
        while (s < end && *s != ';' && *s != ' ' && *s != '\t') {
            if (n + 1 >= cap)
                return -1;
            out[n++] = *s++;
        }
    }
    out[n] = '\0';
    *p = s;
    return (long)n;
}

/*
 * Walks "; name=value" parameters of a header value from p to end, calling
 * want(name) to pick the ones to copy.  Returns 0, or -1 when malformed.
 */
typedef struct params {
    char name[256];
    bool has_name;
    char filename[1024];
    bool has_filename;
    char filename_ext[1024]; /* filename*=charset'lang'pct-encoded */
    bool has_filename_ext;
    char boundary[HTTP_MULTIPART_BOUNDARY_MAX + 2];
    bool has_boundary;
    bool boundary_too_long;
} params;

static int parse_params(const char *p, const char *end, params *out)
{
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p >= end)
            break;
        if (*p != ';')
            return -1;
        p++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p >= end)
            break; /* a trailing ';' is tolerated */
        const char *key = p;
        while (p < end && *p != '=' && *p != ';' && *p != ' ' && *p != '\t')
            p++;
        size_t klen = (size_t)(p - key);
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p >= end || *p != '=' || klen == 0)
            return -1;
        p++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        char scratch[2048];
        char *dst = scratch;
        size_t cap = sizeof(scratch);
        bool *flag = NULL;
        if (klen == 4 && strncasecmp(key, "name", 4) == 0) {
            dst = out->name, cap = sizeof(out->name), flag = &out->has_name;
        } else if (klen == 8 && strncasecmp(key, "filename", 8) == 0) {
            dst = out->filename, cap = sizeof(out->filename), flag = &out->has_filename;
        } else if (klen == 9 && strncasecmp(key, "filename*", 9) == 0) {
            dst = out->filename_ext, cap = sizeof(out->filename_ext), flag = &out->has_filename_ext;
        } else if (klen == 8 && strncasecmp(key, "boundary", 8) == 0) {
            dst = out->boundary, cap = sizeof(out->boundary), flag = &out->has_boundary;
        }
        if (read_value(&p, end, dst, cap) < 0) {
            if (flag == &out->has_boundary) {
                out->boundary_too_long = true;
                return 0;
            }
            return -1;
        }
        if (flag != NULL) {
            if (*flag)
                return -1; /* the same parameter twice */
            *flag = true;
        }
    }
    return 0;
}

int http_multipart_boundary(const char *content_type, char *out, size_t cap, char *err,
                            size_t errlen)
{
    const char *semi = content_type != NULL ? strchr(content_type, ';') : NULL;
    params pr = {0};
    if (semi == NULL ||
        parse_params(semi, content_type + strlen(content_type), &pr) < 0 ||
        (!pr.has_boundary && !pr.boundary_too_long)) {
        set_err(err, errlen,
                semi == NULL || !pr.has_boundary
                    ? "multipart/form-data needs a boundary parameter in its Content-Type"
                    : "the Content-Type parameters are malformed");
        return -1;
    }
    size_t n = pr.boundary_too_long ? SIZE_MAX : strlen(pr.boundary);
    if (n == 0 || n > HTTP_MULTIPART_BOUNDARY_MAX || n >= cap) {
        set_err(err, errlen, "the multipart boundary must be 1 to %d characters long",
                HTTP_MULTIPART_BOUNDARY_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_bchar((unsigned char)pr.boundary[i]) || (i == n - 1 && pr.boundary[i] == ' ')) {
            set_err(err, errlen, "the multipart boundary has a character RFC 2046 does not allow");
            return -1;
        }
    }
    memcpy(out, pr.boundary, n + 1);
    return (int)n;
}

/* Finds needle in [hay, hay+len); NULL when absent. */
static const uint8_t *find(const uint8_t *hay, size_t len, const uint8_t *needle, size_t nlen)
{
    if (nlen > len)
        return NULL;
    return memmem(hay, len, needle, nlen);
}

/* Appends s (n bytes) and a NUL to the string block; returns its offset or NO_STR. */
static size_t add_string(buf *strings, const char *s, size_t n)
{
    size_t off = strings->len;
    if (buf_append(strings, s, n) < 0 || buf_append(strings, "", 1) < 0)
        return NO_STR;
    return off;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* filename*=charset'lang'pct-encoded, decoded in place; false when malformed. */
static bool decode_ext(char *s)
{
    char *q = strchr(s, '\'');
    q = q != NULL ? strchr(q + 1, '\'') : NULL;
    if (q == NULL)
        return false;
    char *o = s;
    for (const char *p = q + 1; *p != '\0'; p++) {
        if (*p == '%') {
            int hi = hexval((unsigned char)p[1]), lo = hi >= 0 ? hexval((unsigned char)p[2]) : -1;
            if (hi < 0 || lo < 0 || (hi | lo) == 0)
                return false;
            *o++ = (char)(hi * 16 + lo);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return true;
}

/* Parses one part's header block [h, h+hlen) into rp.  Returns 0 or -1 (err set). */
static int parse_part_headers(const char *h, size_t hlen, size_t index, buf *strings, raw_part *rp,
                              char *err, size_t errlen)
{
    const char *end = h + hlen;
    bool has_disposition = false;
    rp->name = rp->filename = rp->ctype = NO_STR;
    while (h < end) {
        const char *eol = memchr(h, '\r', (size_t)(end - h));
        if (eol == NULL || eol + 1 >= end || eol[1] != '\n') {
            if (eol == NULL)
                eol = end; /* the last line (the caller cut its CRLF) */
            else {
                set_err(err, errlen, "part %zu has a header line with a bare CR", index + 1);
                return -1;
            }
        }
        const char *colon = memchr(h, ':', (size_t)(eol - h));
        if (colon == NULL || colon == h || *h == ' ' || *h == '\t' ||
            memchr(h, '\0', (size_t)(eol - h)) != NULL) {
            set_err(err, errlen, "part %zu has a malformed header line", index + 1);
            return -1;
        }
        size_t nlen = (size_t)(colon - h);
        const char *v = colon + 1;
        while (v < eol && (*v == ' ' || *v == '\t'))
            v++;
        const char *vend = eol;
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
            vend--;
        if (nlen == 19 && strncasecmp(h, "Content-Disposition", 19) == 0) {
            if (has_disposition) {
                set_err(err, errlen, "part %zu has two Content-Disposition headers", index + 1);
                return -1;
            }
            has_disposition = true;
            const char *semi = memchr(v, ';', (size_t)(vend - v));
            const char *type_end = semi != NULL ? semi : vend;
            while (type_end > v && (type_end[-1] == ' ' || type_end[-1] == '\t'))
                type_end--;
            if ((size_t)(type_end - v) != 9 || strncasecmp(v, "form-data", 9) != 0) {
                set_err(err, errlen, "part %zu: Content-Disposition must be form-data",
                        index + 1);
                return -1;
            }
            params pr = {0};
            if (semi != NULL && parse_params(semi, vend, &pr) < 0) {
                set_err(err, errlen, "part %zu has a malformed Content-Disposition", index + 1);
                return -1;
            }
            if (!pr.has_name || pr.name[0] == '\0') {
                set_err(err, errlen, "part %zu has no name in its Content-Disposition",
                        index + 1);
                return -1;
            }
            if ((rp->name = add_string(strings, pr.name, strlen(pr.name))) == NO_STR)
                goto nomem;
            if (pr.has_filename_ext && decode_ext(pr.filename_ext)) {
                if ((rp->filename = add_string(strings, pr.filename_ext,
                                               strlen(pr.filename_ext))) == NO_STR)
                    goto nomem;
            } else if (pr.has_filename) {
                if ((rp->filename = add_string(strings, pr.filename, strlen(pr.filename))) ==
                    NO_STR)
                    goto nomem;
            }
        } else if (nlen == 12 && strncasecmp(h, "Content-Type", 12) == 0) {
            if (rp->ctype != NO_STR) {
                set_err(err, errlen, "part %zu has two Content-Type headers", index + 1);
                return -1;
            }
            if ((rp->ctype = add_string(strings, v, (size_t)(vend - v))) == NO_STR)
                goto nomem;
        }
        h = eol == end ? end : eol + 2;
    }
    if (!has_disposition) {
        set_err(err, errlen, "part %zu has no Content-Disposition header", index + 1);
        return -1;
    }
    return 0;
nomem:
    set_err(err, errlen, "out of memory reading the parts");
    return -1;
}

void http_form_free(http_form *f)
{
    if (f == NULL)
        return;
    free(f->parts);
    free(f->strings);
    memset(f, 0, sizeof(*f));
}

/* True when part names may repeat ("files[]"). */
static bool multi_valued(const char *name)
{
    size_t n = strlen(name);
    return n >= 2 && name[n - 2] == '[' && name[n - 1] == ']';
}

int http_multipart_parse(const uint8_t *body, size_t len, const char *content_type,
                         const http_multipart_limits *lim, http_form *out, char *err,
                         size_t errlen)
{
    char boundary[HTTP_MULTIPART_BOUNDARY_MAX + 1];
    uint8_t delim[HTTP_MULTIPART_BOUNDARY_MAX + 4];
    raw_part *parts = NULL;
    size_t n = 0, cap = 0;
    buf strings = {0};
    memset(out, 0, sizeof(*out));
    int blen = http_multipart_boundary(content_type, boundary, sizeof(boundary), err, errlen);
    if (blen < 0)
        return -1;
    /* delim = CRLF "--" boundary; the first one may come without its CRLF. */
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, (size_t)blen);
    size_t dlen = (size_t)blen + 4;
    if (body == NULL)
        len = 0;

    const uint8_t *p, *end = body + len;
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        p = body + dlen - 2;
    } else {
        const uint8_t *d = len > 0 ? find(body, len, delim, dlen) : NULL;
        if (d == NULL) {
            set_err(err, errlen, len == 0 ? "the body is empty"
                                          : "the body does not contain the boundary of its "
                                            "Content-Type");
            goto fail;
        }
        p = d + dlen;
    }
    for (;;) {
        /* p is just past a delimiter. */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            break; /* the close delimiter; the epilogue is ignored */
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') {
            set_err(err, errlen, p >= end ? "the body ends without the closing boundary"
                                          : "a boundary line is not followed by CRLF");
            goto fail;
        }
        p += 2;
        if ((int)n >= lim->max_parts) {
            set_err(err, errlen, "the body has more than %d parts", lim->max_parts);
            goto fail;
        }
        /* Headers end at the first empty line. */
        const uint8_t *hend;
        size_t hlen;
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            hend = p;
            hlen = 0;
        } else {
            size_t window = (size_t)(end - p);
            if (window > lim->max_part_header_bytes + 4)
                window = lim->max_part_header_bytes + 4;
            hend = find(p, window, (const uint8_t *)"\r\n\r\n", 4);
            if (hend == NULL) {
                if ((size_t)(end - p) > lim->max_part_header_bytes)
                    set_err(err, errlen, "the headers of part %zu are longer than %zu bytes",
                            n + 1, lim->max_part_header_bytes);
                else
                    set_err(err, errlen, "part %zu ends inside its headers", n + 1);
                goto fail;
            }
            hlen = (size_t)(hend - p);
            hend += 2;
        }
        if (hlen > lim->max_part_header_bytes) {
            set_err(err, errlen, "the headers of part %zu are longer than %zu bytes", n + 1,
                    lim->max_part_header_bytes);
            goto fail;
        }
        if (n == cap) {
            size_t ncap = cap != 0 ? cap * 2 : 8;
            raw_part *np = realloc(parts, ncap * sizeof(*np));
            if (np == NULL) {
                set_err(err, errlen, "out of memory reading the parts");
                goto fail;
            }
            parts = np;
            cap = ncap;
        }
        raw_part *rp = &parts[n];
        if (parse_part_headers((const char *)p, hlen, n, &strings, rp, err, errlen) < 0)
            goto fail;
        const uint8_t *data = hend + 2;
        const uint8_t *next = find(data, (size_t)(end - data), delim, dlen);
        if (next == NULL) {
            set_err(err, errlen, "part %zu is not followed by a boundary", n + 1);
            goto fail;
        }
        rp->data = data;
        rp->len = (size_t)(next - data);
        n++;
        p = next + dlen;
    }
    if (n == 0) {
        set_err(err, errlen, "the body has no parts");
        goto fail;
    }
    out->parts = calloc(n, sizeof(*out->parts));
    if (out->parts == NULL) {
        set_err(err, errlen, "out of memory reading the parts");
        goto fail;
    }
    out->strings = (char *)strings.data;
    strings.data = NULL;
    out->n = n;
    for (size_t i = 0; i < n; i++) {
        http_part *hp = &out->parts[i];
        hp->name = out->strings + parts[i].name;
        hp->filename = parts[i].filename != NO_STR ? out->strings + parts[i].filename : NULL;
        hp->content_type = parts[i].ctype != NO_STR ? out->strings + parts[i].ctype : NULL;
        hp->data = parts[i].data;
        hp->len = parts[i].len;
        if (multi_valued(hp->name))
            continue;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(out->parts[j].name, hp->name) == 0) {
                char shown[80];
                size_t k = 0;
                for (const char *c = hp->name; *c != '\0' && k + 1 < sizeof(shown); c++)
                    shown[k++] = (unsigned char)*c < 0x20 ? '?' : *c;
                shown[k] = '\0';
                set_err(err, errlen, "field '%s' is given more than once", shown);
                http_form_free(out);
                free(parts);
                return -1;
            }
        }
    }
    free(parts);
    return 0;
fail:
    free(parts);
    buf_free(&strings);
    http_form_free(out);
    return -1;
}
