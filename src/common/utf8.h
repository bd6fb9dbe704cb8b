/*
 * utf8.h - strict UTF-8: no overlong forms, surrogates or values past U+10FFFF.
 */
#ifndef HDM_COMMON_UTF8_H
#define HDM_COMMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Decodes the character at s[0..len) (len >= 1).  Returns its length in
 * bytes (1-4) and sets *cp, or 0 when the bytes there are not valid UTF-8
 * (including a sequence cut short by len).
 */
size_t utf8_decode(const uint8_t *s, size_t len, uint32_t *cp);
/*
 * Where utf8_decode() returned 0 at s[0..len) (len >= 1): the length (1-3) of
 * the maximal subpart of the ill-formed sequence there, the bytes that one
 * U+FFFD replaces in Unicode's "best practice" (what Python's
 * bytes.decode("utf-8", "replace") does).
 */
size_t utf8_bad_len(const uint8_t *s, size_t len);
/* True when s[0..len) is valid UTF-8. */
bool utf8_valid(const char *s, size_t len);

#endif
