/*
 * base64.h - standard base64 (RFC 4648, with padding), strict decoding.
 */
#ifndef HDM_COMMON_BASE64_H
#define HDM_COMMON_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Exact encoded length of n bytes (without NUL). */
size_t base64_encoded_len(size_t n);
/* Writes base64_encoded_len(n) chars plus a NUL into out. */
void base64_encode(const uint8_t *in, size_t n, char *out);
/* Upper bound of the decoded length of an encoded string of length n. */
size_t base64_decoded_max(size_t n);
/*
 * Decodes `in` (len chars; whitespace not allowed, padding optional) into out
 * (room for base64_decoded_max(len)).  Returns the decoded length, or -1 on
 * an invalid character or length (*bad_pos, if not NULL, gets the offset).
 */
long base64_decode(const char *in, size_t len, uint8_t *out, size_t *bad_pos);

#endif
