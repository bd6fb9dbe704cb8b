/*
 * unicode.h - the little Unicode CLIP's tokenizer needs: UTF-8 decoding,
 * the character classes of its pre-tokenisation regex (\s, \p{L}, \p{N})
 * and lower-casing.  Internal to hdm_cliptext.
 *
 * The classes are range tables covering the scripts CLIP's vocabulary was
 * trained on (Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic, Indic, Thai,
 * Georgian, Hangul, kana, CJK); code points outside them count as "other",
 * which only changes where a run of symbols is cut, never loses a byte.
 * Lower-casing covers ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic and
 * the full-width Latin letters, each mapping keeping the UTF-8 length.
 */
#ifndef HDM_CLIPTEXT_UNICODE_H
#define HDM_CLIPTEXT_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Marks a byte that does not start a valid UTF-8 sequence. */
#define UC_INVALID 0xFFFFFFFFu

/*
 * Decodes the code point at s[0..len) (len > 0) into *cp and returns the
 * bytes it takes (1..4).  An invalid or truncated sequence gives
 * *cp = UC_INVALID and 1, so the caller keeps the raw byte.
 */
size_t uc_decode(const uint8_t *s, size_t len, uint32_t *cp);
/* Writes cp as UTF-8 into out (room for 4) and returns its length. */
size_t uc_encode(uint32_t cp, uint8_t *out);

/* Python's str.isspace() set, as matched by \s. */
bool uc_is_space(uint32_t cp);
/* \p{L}: letters. */
bool uc_is_letter(uint32_t cp);
/* \p{N}: digits and other numerals. */
bool uc_is_number(uint32_t cp);
/* Lower-case form (same UTF-8 length), or cp itself. */
uint32_t uc_tolower(uint32_t cp);

#endif
