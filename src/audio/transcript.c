/*
 * transcript.c - stitching the model's segments of successive windows into
 * one transcript with absolute times, and its text as the original joined
 * it.  See transcript.h.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "transcript_text.h"

/* Offsets and window lengths beyond this are refused (a year: times stay
 * exact to the millisecond in a double). */
#define TRANSCRIPT_MAX_S (366.0 * 24 * 3600)

void transcript_free(transcript *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->segments[i].text);
    free(t->segments);
    memset(t, 0, sizeof(*t));
}

/* Reads a time field: absent is 0.0 (as the original's .get(k, 0.0)). */
static int read_time(const cJSON *seg, const char *key, size_t i, double *out, hdm_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(seg, key);
    if (!v) {
        *out = 0.0;
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return hdm_err_set(err, HDM_E_INTERNAL,
                           "the model's result.segments[%zu].%s is not a number", i, key);
    *out = v->valuedouble;
    return 0;
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Window time to recording time, rounded to the millisecond. */
static double absolute(double offset_s, double t)
{
    return round((offset_s + t) * 1000.0) / 1000.0;
}

int transcript_add_window(transcript *t, const cJSON *result, double offset_s, double window_s,
                          hdm_err *err)
{
    const cJSON *segs;
    size_t first = t->n, count;
    int rc;

    if (!cJSON_IsObject(result))
        return hdm_err_set(err, HDM_E_INTERNAL, "the model's result is not an object");
    if (!(offset_s >= 0 && offset_s <= TRANSCRIPT_MAX_S && window_s >= 0 &&
          window_s <= TRANSCRIPT_MAX_S))
        return hdm_err_set(err, HDM_E_INTERNAL,
                           "window offset %g s or length %g s is out of range (0 to %g s)",
                           offset_s, window_s, TRANSCRIPT_MAX_S);
    segs = cJSON_GetObjectItemCaseSensitive(result, "segments");
    if (!segs)
        return 0;
    if (!cJSON_IsArray(segs))
        return hdm_err_set(err, HDM_E_INTERNAL, "the model's result.segments is not a list");
    count = (size_t)cJSON_GetArraySize(segs);
    if (count == 0)
        return 0;
    if (t->n + count > t->cap) {
        size_t cap = t->cap ? t->cap : 16;
        while (cap < t->n + count)
            cap *= 2;
        transcript_segment *p = realloc(t->segments, cap * sizeof(*p));
        if (!p)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory for the transcript");
        t->segments = p;
        t->cap = cap;
    }

    size_t i = 0;
    const cJSON *seg;
    cJSON_ArrayForEach(seg, segs)
    {
        double start = 0.0, end = 0.0;
        const char *text = "";
        if (!cJSON_IsObject(seg)) {
            rc = hdm_err_set(err, HDM_E_INTERNAL,
                             "the model's result.segments[%zu] is not an object", i);
            goto fail;
        }
        if ((rc = read_time(seg, "start", i, &start, err)) < 0 ||
            (rc = read_time(seg, "end", i, &end, err)) < 0)
            goto fail;
        const cJSON *tx = cJSON_GetObjectItemCaseSensitive(seg, "text");
        if (tx && !cJSON_IsString(tx)) {
            rc = hdm_err_set(err, HDM_E_INTERNAL,
                             "the model's result.segments[%zu].text is not a string", i);
            goto fail;
        }
        if (tx)
            text = tx->valuestring;
        start = clamp(start, 0.0, window_s);
        end = clamp(end, start, window_s);
        transcript_segment *s = &t->segments[t->n];
        if (!(s->text = strdup(text))) {
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory for the transcript");
            goto fail;
        }
        s->start = absolute(offset_s, start);
        s->end = absolute(offset_s, end);
        t->n++;
        i++;
    }
    /* The window's segments in time order (stable: a short list, insertion). */
    for (size_t a = first + 1; a < t->n; a++) {
        transcript_segment s = t->segments[a];
        size_t b = a;
        while (b > first && t->segments[b - 1].start > s.start) {
            t->segments[b] = t->segments[b - 1];
            b--;
        }
        t->segments[b] = s;
    }
    return 0;
fail:
    while (t->n > first)
        free(t->segments[--t->n].text);
    return rc;
}

/* ---- text ------------------------------------------------------------------------ */

bool transcript_py_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 ||
           cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

int transcript_append_clean(buf *out, const char *s, size_t len)
{
    static const char replacement[] = "\xef\xbf\xbd";
    const uint8_t *p = (const uint8_t *)s;
    size_t run = 0, i = 0;

    while (i < len) {
        uint32_t cp;
        size_t n = utf8_decode(p + i, len - i, &cp);
        if (n) {
            i += n;
            continue;
        }
        if (buf_append(out, p + run, i - run) < 0 || buf_append(out, replacement, 3) < 0)
            return -HDM_E_NOMEM;
        i += utf8_bad_len(p + i, len - i);
        run = i;
    }
    return buf_append(out, p + run, len - run);
}

void transcript_py_strip(const char *s, size_t len, size_t *start, size_t *end)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t a = 0, b = len;
    uint32_t cp;

    while (a < b) {
        size_t n = utf8_decode(p + a, b - a, &cp);
        if (!n || !transcript_py_space(cp))
            break;
        a += n;
    }
    while (b > a) {
        /* Step back to the start of the last character. */
        size_t c = b - 1;
        while (c > a && (p[c] & 0xc0) == 0x80 && b - c < 4)
            c--;
        size_t n = utf8_decode(p + c, b - c, &cp);
        if (n != b - c || !transcript_py_space(cp))
            break;
        b = c;
    }
    *start = a;
    *end = b;
}

char *transcript_text(const transcript *t)
{
    buf joined = {0};
    size_t a, b;
    char *text = NULL;

    for (size_t i = 0; i < t->n; i++)
        if (transcript_append_clean(&joined, t->segments[i].text, strlen(t->segments[i].text)) < 0)
            goto out;
    transcript_py_strip((const char *)joined.data, joined.len, &a, &b);
    if ((text = malloc(b - a + 1))) {
        if (b > a)
            memcpy(text, joined.data + a, b - a);
        text[b - a] = '\0';
    }
out:
    buf_free(&joined);
    return text;
}
