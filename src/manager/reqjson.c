/*
 * reqjson.c - see reqjson.h.
 *
 * DESIGN: outside strings JSON has no '"', so the strings are found with
 * memchr alone.  A long string value (not a key: no ':' follows it) with no
 * backslash in it is what cJSON would copy verbatim, so the text cJSON
 * parses has it replaced by the marker "\u0001", and a walk of the tree in
 * document order (cJSON keeps members and elements in text order) puts the
 * original bytes back into each marker string, in the order they were cut.
 * The marker cannot be confused with a string of the request: a text that
 * holds "\u0001" or a raw 0x01 byte anywhere is parsed whole, as is one
 * with no long string.  Anything unexpected (the copy does not parse, the
 * markers do not match the cuts) falls back to cJSON on the original text,
 * so errors and their byte offsets are cJSON's own.
 */
#include "reqjson.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

#define MARKER "\"\\u0001\""

typedef struct cut {
    size_t at, len; /* the string's content (between the quotes) in the text */
} cut;

typedef struct cuts {
    cut *v;
    size_t n, cap;
} cuts;

static bool cuts_add(cuts *c, size_t at, size_t len)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        cut *v = realloc(c->v, cap * sizeof(*v));
        if (!v)
            return false;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = (cut){at, len};
    return true;
}

/* Index of the quote that closes the string whose content starts at i (or
 * len); *plain says whether the content holds no backslash. */
static size_t string_end(const char *json, size_t len, size_t i, bool *plain)
{
    *plain = true;
    while (i < len) {
        const char *q = memchr(json + i, '"', len - i);
        size_t stop = q ? (size_t)(q - json) : len;
        const char *bs = memchr(json + i, '\\', stop - i);
        if (!bs)
            return stop;
        *plain = false;
        i = (size_t)(bs - json) + 2; /* the escaped character never ends the string */
    }
    return len;
}

/* Whether the next character after i that is not white space is ':'. */
static bool is_key(const char *json, size_t len, size_t i)
{
    while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r'))
        i++;
    return i < len && json[i] == ':';
}

/* Finds the long plain string values; false on out of memory. */
static bool find_cuts(const char *json, size_t len, cuts *c)
{
    size_t i = 0;
    while (i < len) {
        const char *q = memchr(json + i, '"', len - i);
        if (!q)
            break;
        size_t start = (size_t)(q - json) + 1;
        bool plain;
        size_t stop = string_end(json, len, start, &plain);
        if (stop >= len)
            break; /* unterminated: cJSON reports it */
        if (plain && stop - start >= REQJSON_LONG_STRING && !is_key(json, len, stop + 1) &&
            !cuts_add(c, start, stop - start))
            return false;
        i = stop + 1;
    }
    return true;
}

/* Puts the cut strings back into the marker strings of `node`, in document
 * order; *next counts the cuts used.  False when a marker has no cut. */
static bool restore(cJSON *node, const char *json, const cuts *c, size_t *next)
{
    for (; node; node = node->next) {
        if (cJSON_IsString(node) && node->valuestring && node->valuestring[0] == '\x01' &&
            node->valuestring[1] == '\0') {
            if (*next >= c->n)
                return false;
            const cut *k = &c->v[(*next)++];
            char *s = malloc(k->len + 1);
            if (!s)
                return false;
            memcpy(s, json + k->at, k->len);
            s[k->len] = '\0';
            free(node->valuestring); /* cJSON's allocator: the default malloc */
            node->valuestring = s;
        }
        if (node->child && !restore(node->child, json, c, next))
            return false;
    }
    return true;
}

cJSON *reqjson_parse(const char *json, size_t len, const char **end)
{
    cuts c = {0};
    buf text = {0};
    cJSON *req = NULL;
    if (memchr(json, '\x01', len) || memmem(json, len, "\\u0001", 6) || !find_cuts(json, len, &c) ||
        c.n == 0)
        goto whole;
    size_t from = 0;
    for (size_t i = 0; i < c.n; i++) {
        if (buf_append(&text, json + from, c.v[i].at - 1 - from) < 0 ||
            buf_append(&text, MARKER, sizeof(MARKER) - 1) < 0)
            goto whole;
        from = c.v[i].at + c.v[i].len + 1;
    }
    if (buf_append(&text, json + from, len - from) < 0)
        goto whole;
    const char *text_end = NULL;
    req = cJSON_ParseWithLengthOpts((const char *)text.data, text.len, &text_end, false);
    size_t used = 0;
    if (!req || !restore(req, json, &c, &used) || used != c.n)
        goto whole;
    if (end) {
        /* Past the value in the copy is the same place in `json`, plus
         * what each cut string added over its marker. */
        size_t at = (size_t)(text_end - (const char *)text.data);
        for (size_t i = 0; i < c.n; i++)
            at += c.v[i].len + 2 - (sizeof(MARKER) - 1);
        *end = json + at;
    }
    free(c.v);
    buf_free(&text);
    return req;
whole:
    cJSON_Delete(req);
    free(c.v);
    buf_free(&text);
    return cJSON_ParseWithLengthOpts(json, len, end, false);
}
