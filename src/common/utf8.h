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
/* True when s[0..len) is valid UTF-8. */
bool utf8_valid(const char *s, size_t len);

#endif
