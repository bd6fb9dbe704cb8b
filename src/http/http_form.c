/*
 * http_form.c - reading the fields of a parsed multipart form: lookup, and
 * text, number, boolean and file fields whose errors name the field.
 */
#include "http/http_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/utf8.h"

size_t http_form_count(const http_form *f) { return f != NULL ? f->n : 0; }

const http_part *http_form_at(const http_form *f, size_t i)
{
    return f != NULL && i < f->n ? &f->parts[i] : NULL;
}

const http_part *http_form_get(const http_form *f, const char *name)
{
    for (size_t i = 0; f != NULL && name != NULL && i < f->n; i++)
        if (strcmp(f->parts[i].name, name) == 0)
            return &f->parts[i];
    return NULL;
}

static int field_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int field_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* The value shown in a message: at most 40 bytes, controls as '?'. */
static void shown(const http_part *p, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < p->len && n + 1 < cap && i < 40; i++)
        out[n++] = p->data[i] < 0x20 || p->data[i] == 0x7f ? '?' : (char)p->data[i];
    out[n] = '\0';
}

/* The field's text (trimmed of surrounding blanks) in buf; -1 with err when
 * it is not text. */
static int field_text(const http_part *p, char *buf, size_t cap, char *err, size_t errlen)
{
    if (memchr(p->data, '\0', p->len) != NULL || !utf8_valid((const char *)p->data, p->len))
        return field_err(err, errlen, "field '%s' must be UTF-8 text", p->name);
    size_t b = 0, e = p->len;
    while (b < e && strchr(" \t\r\n", p->data[b]) != NULL)
        b++;
    while (e > b && strchr(" \t\r\n", p->data[e - 1]) != NULL)
        e--;
    if (e - b >= cap)
        return field_err(err, errlen, "field '%s' is too long for a number or a flag", p->name);
    memcpy(buf, p->data + b, e - b);
    buf[e - b] = '\0';
    return 0;
}

int http_form_string(const http_form *f, const char *name, char **out, char *err, size_t errlen)
{
    const http_part *p = http_form_get(f, name);
    if (p == NULL)
        return 0;
    if (memchr(p->data, '\0', p->len) != NULL || !utf8_valid((const char *)p->data, p->len))
        return field_err(err, errlen, "field '%s' must be UTF-8 text", name);
    char *s = malloc(p->len + 1);
    if (s == NULL)
        return field_err(err, errlen, "out of memory reading field '%s'", name);
    memcpy(s, p->data, p->len);
    s[p->len] = '\0';
    *out = s;
    return 1;
}

int http_form_double(const http_form *f, const char *name, double lo, double hi, double *out,
                     char *err, size_t errlen)
{
    const http_part *p = http_form_get(f, name);
    if (p == NULL)
        return 0;
    char text[64], show[48];
    shown(p, show, sizeof(show));
    if (field_text(p, text, sizeof(text), err, errlen) < 0)
        return -1;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (text[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(v) || v < lo || v > hi)
        return field_err(err, errlen, "field '%s' must be a number between %g and %g, got '%s'",
                         name, lo, hi, show);
    *out = v;
    return 1;
}

int http_form_long(const http_form *f, const char *name, long lo, long hi, long *out, char *err,
                   size_t errlen)
{
    const http_part *p = http_form_get(f, name);
    if (p == NULL)
        return 0;
    char text[64], show[48];
    shown(p, show, sizeof(show));
    if (field_text(p, text, sizeof(text), err, errlen) < 0)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
        return field_err(err, errlen,
                         "field '%s' must be an integer between %ld and %ld, got '%s'", name, lo,
                         hi, show);
    *out = v;
    return 1;
}

int http_form_bool(const http_form *f, const char *name, bool *out, char *err, size_t errlen)
{
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    const http_part *p = http_form_get(f, name);
    if (p == NULL)
        return 0;
    char text[16], show[48];
    shown(p, show, sizeof(show));
    if (field_text(p, text, sizeof(text), err, errlen) == 0) {
        for (size_t i = 0; i < 4; i++) {
            if (strcasecmp(text, yes[i]) == 0) {
                *out = true;
                return 1;
            }
            if (strcasecmp(text, no[i]) == 0) {
                *out = false;
                return 1;
            }
        }
    }
    return field_err(err, errlen, "field '%s' must be true or false, got '%s'", name, show);
}

int http_form_file(const http_form *f, const char *name, const http_part **out, char *err,
                   size_t errlen)
{
    const http_part *p = http_form_get(f, name);
    if (p == NULL)
        return 0;
    if (p->len == 0)
        return field_err(err, errlen, "field '%s' is empty", name);
    *out = p;
    return 1;
}
