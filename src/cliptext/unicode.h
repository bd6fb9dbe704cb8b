/*
 * unicode.h - the Unicode steps of CLIP's tokenizer.json, over Debian's
 * libutf8proc.  Internal to hdm_cliptext.
 *
 * HuggingFace tokenizers runs, for CLIP: NFC, Replace(\s+ -> " "),
 * Lowercase (Rust's char::to_lowercase), then a Split on CLIP's regex whose
 * classes are Oniguruma's \s, \p{L} and \p{N}.  These functions give the
 * same answers from utf8proc's tables:
 *   - \s is Oniguruma's, not Python's: U+0009-000D, U+0085 and the
 *     categories Zs, Zl, Zp (U+001C-001F are not spaces there);
 *   - \p{L} is the categories Lu Ll Lt Lm Lo, \p{N} is Nd Nl No;
 *   - lower-casing is the full mapping of one character with no context
 *     (final sigma stays sigma): utf8proc's simple mapping plus the one
 *     unconditional multi-character entry of SpecialCasing.txt,
 *     U+0130 -> U+0069 U+0307.
 * utf8proc 2.8 carries Unicode 15.0; README.md in tests/data/cliptext says
 * where the HF build's tables differ and what that changes.
 */
#ifndef HDM_CLIPTEXT_UNICODE_H
#define HDM_CLIPTEXT_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Character classes of CLIP's pre-tokenisation regex. */
enum uc_class { UC_SPACE, UC_LETTER, UC_NUMBER, UC_OTHER };

/* The regex class of code point cp. */
enum uc_class uc_class_of(uint32_t cp);

/*
 * Lower-cases cp as Rust's char::to_lowercase does: writes 1 or 2 code
 * points to out[] and returns how many.
 */
int uc_lower(uint32_t cp, uint32_t out[2]);

/*
 * NFC of the valid UTF-8 s[0..len) as code points: *out is malloc'd (the
 * caller frees it) and *n is its length.  Returns 0, or -1 when memory ran
 * out or utf8proc refused the input (it is validated by the caller).
 */
int uc_nfc(const uint8_t *s, size_t len, uint32_t **out, size_t *n);

/* Writes cp as UTF-8 into out (room for 4) and returns its length. */
size_t uc_encode(uint32_t cp, uint8_t *out);

/* The Unicode version of the tables in use ("15.0.0"). */
const char *uc_unicode_version(void);

#endif
