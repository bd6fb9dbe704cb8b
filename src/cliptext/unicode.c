/*
 * unicode.c - NFC, lower-casing and the regex classes of CLIP's tokenizer
 * over utf8proc (see unicode.h for how each matches HuggingFace's).
 */
#include "cliptext/unicode.h"

#include <stdint.h>
#include <stdlib.h>
#include <utf8proc.h>

enum uc_class uc_class_of(uint32_t cp)
{
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'))
            return UC_LETTER;
        if (cp >= '0' && cp <= '9')
            return UC_NUMBER;
        if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D))
            return UC_SPACE;
        return UC_OTHER;
    }
    if (cp == 0x85)
        return UC_SPACE;
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
        return UC_LETTER;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return UC_NUMBER;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return UC_SPACE;
    default:
        return UC_OTHER;
    }
}

int uc_lower(uint32_t cp, uint32_t out[2])
{
    if (cp < 0x80) {
        out[0] = cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
        return 1;
    }
    /* The only unconditional lower-case mapping of SpecialCasing.txt that
     * is longer than one character; utf8proc has the simple mapping only. */
    if (cp == 0x130) {
        out[0] = 0x69;
        out[1] = 0x307;
        return 2;
    }
    out[0] = (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
    return 1;
}

int uc_nfc(const uint8_t *s, size_t len, uint32_t **out, size_t *n)
{
    const utf8proc_option_t opts = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
    /* Canonical decomposition rarely grows text by much: try with room
     * for a little more than one code point per byte, then exactly. */
    size_t cap = len + 16;
    utf8proc_int32_t *buf = NULL;
    utf8proc_ssize_t r;

    if (len > (size_t)PTRDIFF_MAX / 8)
        return -1;
    for (;;) {
        utf8proc_int32_t *grown = realloc(buf, cap * sizeof(*buf));
        if (!grown) {
            free(buf);
            return -1;
        }
        buf = grown;
        r = utf8proc_decompose(s, (utf8proc_ssize_t)len, buf, (utf8proc_ssize_t)cap, opts);
        if (r < 0) {
            free(buf);
            return -1;
        }
        if ((size_t)r <= cap)
            break;
        cap = (size_t)r;
    }
    r = utf8proc_normalize_utf32(buf, r, opts);
    if (r < 0) {
        free(buf);
        return -1;
    }
    *out = (uint32_t *)buf;
    *n = (size_t)r;
    return 0;
}

size_t uc_encode(uint32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

const char *uc_unicode_version(void)
{
    return utf8proc_unicode_version();
}
