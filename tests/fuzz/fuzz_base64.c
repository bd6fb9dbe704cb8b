/*
 * fuzz_base64.c - both base64 decoders on any bytes: the strict one must
 * round-trip what it accepts; the lenient (Python) one must agree with
 * itself decoding in place, stay within base64_decoded_max, and always say
 * why it refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t max = base64_decoded_max(size);
    uint8_t *out = malloc(max + 1);
    char *copy = malloc(size + 1);
    if (out == NULL || copy == NULL)
        goto out;

    long n = base64_decode((const char *)data, size, out, NULL);
    if (n >= 0) {
        char *enc = malloc(base64_encoded_len((size_t)n) + 1);
        if (enc != NULL) {
            base64_encode(out, (size_t)n, enc);
            /* Accepted input is canonical: it re-encodes to itself, padding aside. */
            if (strncmp(enc, (const char *)data, strlen(enc) < size ? strlen(enc) : size) != 0)
                abort();
            free(enc);
        }
    }

    hdm_err err;
    hdm_err_clear(&err);
    long a = base64_py_decode((const char *)data, size, out, &err);
    if (a < 0 && err.msg[0] == '\0')
        abort();
    if (a > (long)max)
        abort();
    memcpy(copy, data, size);
    long b = base64_py_decode(copy, size, (uint8_t *)copy, NULL);
    if (a != b || (a > 0 && memcmp(out, copy, (size_t)a) != 0))
        abort();

    const char *b64;
    size_t b64_len;
    if (base64_py_strip_data_uri((const char *)data, size, &b64, &b64_len, &err) == 0 &&
        (b64 < (const char *)data || b64 + b64_len > (const char *)data + size))
        abort();
out:
    free(copy);
    free(out);
    return 0;
}
