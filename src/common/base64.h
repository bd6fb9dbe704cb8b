/*
 * base64.h - standard base64 (RFC 4648, with padding): strict decoding for
 * the protocol, and Python's lenient base64.b64decode() for the services
 * that replace Python ones.
 */
#ifndef HDM_COMMON_BASE64_H
#define HDM_COMMON_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

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

/*
 * Decodes as Python's base64.b64decode(s) does for a str s (validate=False,
 * binascii.a2b_base64 in its lenient mode): bytes outside [A-Za-z0-9+/=] are
 * skipped, a "=" run that completes a quantum ends the data (the rest is
 * ignored), a stray "=" is skipped.  in[0..len) may hold NULs; out needs room
 * for base64_decoded_max(len) bytes and may be `in` itself (decoding in
 * place).  Returns the decoded length, or -HDM_E_BAD_REQUEST with Python's
 * own sentence in err:
 *   "string argument should contain only ASCII characters" (a byte >= 0x80),
 *   "Invalid base64-encoded string: number of data characters (N) cannot be
 *    1 more than a multiple of 4",
 *   "Incorrect padding".
 * out's contents are unspecified on failure.
 */
long base64_py_decode(const char *in, size_t len, uint8_t *out, hdm_err *err);

/*
 * The data-URI rule of the Python services: a string starting with "data:"
 * is cut after its first comma (`s.split(",", 1)[1]`, the media type is not
 * checked); any other string is kept whole.  Sets *b64 and *b64_len to the part
 * to decode (inside s) and returns 0, or -HDM_E_BAD_REQUEST with Python's
 * sentence "list index out of range" when a "data:" string has no comma.
 */
int base64_py_strip_data_uri(const char *s, size_t len, const char **b64, size_t *b64_len,
                             hdm_err *err);

#endif
