/*
 * rawjson.c - see rawjson.h.
 *
 * DESIGN: valid JSON has backslashes only inside strings, each starting a
 * two-character escape (or \uXXXX), so stepping from backslash to backslash
 * two characters at a time finds every \u0000 without tracking anything
 * else.  The member scan walks the text once, skipping strings, counting
 * nesting, and noting which top-level name each value belongs to.
 */
#include "rawjson.h"

#include <string.h>

bool rawjson_has_nul_escape(const char *json, size_t len)
{
    const char *p = json, *end = json + len;
    while (p < end && (p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
        if (end - p >= 6 && memcmp(p + 1, "u0000", 5) == 0)
            return true;
        p += 2; /* the escaped character is never a backslash that starts an escape */
    }
    return false;
}

/* Index just past the string that opens at json[i] (a '"'); sets *nul when
 * it holds \u0000. */
static size_t skip_string(const char *json, size_t len, size_t i, bool *nul)
{
    for (i++; i < len; i++) {
        if (json[i] == '"')
            return i + 1;
        if (json[i] == '\\') {
            if (len - i >= 6 && memcmp(json + i + 1, "u0000", 5) == 0)
                *nul = true;
            i++;
        }
    }
    return len;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void rawjson_scan(const char *json, size_t len, const char *key, const char **val, size_t *val_len,
                  const char **nul_key, size_t *nul_key_len)
{
    size_t key_len = key ? strlen(key) : 0;
    const char *member = NULL; /* name of the top-level member being read */
    size_t member_len = 0;
    bool want_name = false;    /* at depth 1, the next string is a name */
    bool in_key_value = false; /* reading the value of `key` (first time) */
    const char *value_start = NULL;
    int depth = 0;
    if (val)
        *val = NULL, *val_len = 0;
    if (nul_key)
        *nul_key = NULL, *nul_key_len = 0;

    for (size_t i = 0; i < len;) {
        char c = json[i];
        if (c == '"') {
            bool nul = false;
            size_t end = skip_string(json, len, i, &nul);
            if (depth == 1 && want_name) {
                member = json + i + 1;
                member_len = end - i - 2;
                want_name = false;
                if (val && !*val && !value_start && key && member_len == key_len &&
                    memcmp(member, key, key_len) == 0)
                    in_key_value = true;
            } else if (depth == 1 && in_key_value && !value_start) {
                value_start = json + i;
            }
            if (nul && nul_key && !*nul_key && member) {
                *nul_key = member;
                *nul_key_len = member_len;
            }
            i = end;
            continue;
        }
        if (is_space(c) || c == ':') {
            i++;
            continue;
        }
        if (c == ',' || c == '}') {
            if (depth == 1 && in_key_value && value_start) {
                const char *e = json + i;
                while (e > value_start && is_space(e[-1]))
                    e--;
                *val = value_start;
                *val_len = (size_t)(e - value_start);
                in_key_value = false;
            }
            if (c == '}')
                depth--;
            else if (depth == 1)
                want_name = true;
            i++;
            continue;
        }
        /* The start of a value: a scalar, or an object or array opening. */
        if (depth == 1 && in_key_value && !value_start)
            value_start = json + i;
        if (c == '{' || c == '[') {
            depth++;
            if (depth == 1)
                want_name = true;
        } else if (c == ']') {
            depth--;
        }
        i++;
    }
}
