/*
 * base64.c - standard base64 (RFC 4648, with padding), strict decoding.
 *
 * DESIGN: tensors arrive as base64 strings of hundreds of kilobytes, so both
 * directions work a whole quantum (3 bytes <-> 4 chars) per step through
 * tables.  Decoding is strict: any byte outside the alphabet, misplaced or
 * excess padding, an impossible length, or non-zero bits in the last
 * character's unused low bits (a non-canonical encoding that a correct
 * encoder never produces) is rejected with the offset of the offender.
 *
 * base64_py_decode() is CPython's binascii.a2b_base64 (non-strict) step for
 * step, since the services it serves must accept and refuse exactly what the
 * Python ones did: a state machine over the quantum position, with a fast
 * path for whole clean quanta (nearly every input is clean).
 */
#include "common/base64.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

static const char enc_table[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for alphabet bytes, 0x80 for everything else. */
static const uint8_t dec_table[256] = {
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x3e, 0x80, 0x80, 0x80, 0x3f,
    0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
    0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
};

size_t base64_encoded_len(size_t n)
{
    return (n / 3 + (n % 3 != 0)) * 4;
}

void base64_encode(const uint8_t *in, size_t n, char *out)
{
    size_t i = 0;
    char *o = out;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        o[0] = enc_table[v >> 18];
        o[1] = enc_table[(v >> 12) & 63];
        o[2] = enc_table[(v >> 6) & 63];
        o[3] = enc_table[v & 63];
        o += 4;
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        o[0] = enc_table[v >> 18];
        o[1] = enc_table[(v >> 12) & 63];
        o[2] = '=';
        o[3] = '=';
        o += 4;
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        o[0] = enc_table[v >> 18];
        o[1] = enc_table[(v >> 12) & 63];
        o[2] = enc_table[(v >> 6) & 63];
        o[3] = '=';
        o += 4;
    }
    *o = '\0';
}

size_t base64_decoded_max(size_t n)
{
    return n / 4 * 3 + (n % 4 == 0 ? 0 : 3);
}

static long fail(size_t *bad_pos, size_t pos)
{
    if (bad_pos != NULL)
        *bad_pos = pos;
    return -1;
}

/* Offset of the first non-alphabet byte in in[from..from+4). */
static size_t first_bad(const char *in, size_t from)
{
    for (size_t k = from; k < from + 4; k++)
        if (dec_table[(uint8_t)in[k]] & 0x80)
            return k;
    return from;
}

long base64_decode(const char *in, size_t len, uint8_t *out, size_t *bad_pos)
{
    size_t n = len;
    size_t npad = 0;
    while (npad < 2 && n > 0 && in[n - 1] == '=') {
        n--;
        npad++;
    }
    /* Padding, when present, completes the last quantum exactly. */
    if (npad > 0 && len % 4 != 0)
        return fail(bad_pos, len);
    size_t rem = n % 4;
    if (rem == 1)
        return fail(bad_pos, len);
    if (n / 4 > (size_t)(LONG_MAX / 3))
        return fail(bad_pos, len);

    const uint8_t *p = (const uint8_t *)in;
    uint8_t *o = out;
    size_t full = n - rem;
    for (size_t i = 0; i < full; i += 4) {
        uint32_t a = dec_table[p[i]], b = dec_table[p[i + 1]];
        uint32_t c = dec_table[p[i + 2]], d = dec_table[p[i + 3]];
        if ((a | b | c | d) & 0x80)
            return fail(bad_pos, first_bad(in, i));
        uint32_t v = a << 18 | b << 12 | c << 6 | d;
        o[0] = (uint8_t)(v >> 16);
        o[1] = (uint8_t)(v >> 8);
        o[2] = (uint8_t)v;
        o += 3;
    }
    if (rem >= 2) {
        uint32_t a = dec_table[p[full]], b = dec_table[p[full + 1]];
        uint32_t c = rem == 3 ? dec_table[p[full + 2]] : 0;
        for (size_t k = 0; k < rem; k++)
            if (dec_table[p[full + k]] & 0x80)
                return fail(bad_pos, full + k);
        /* The bits past the last whole byte must be zero (canonical form). */
        if (rem == 2 && (b & 0x0f) != 0)
            return fail(bad_pos, full + 1);
        if (rem == 3 && (c & 0x03) != 0)
            return fail(bad_pos, full + 2);
        uint32_t v = a << 18 | b << 12 | c << 6;
        *o++ = (uint8_t)(v >> 16);
        if (rem == 3)
            *o++ = (uint8_t)(v >> 8);
    }
    return (long)(o - out);
}

/* True when every byte of s[0..len) is ASCII. */
static bool all_ascii(const char *str, size_t len)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull)
            return false;
    }
    for (; i < len; i++)
        if (s[i] & 0x80)
            return false;
    return true;
}

long base64_py_decode(const char *in, size_t len, uint8_t *out, hdm_err *err)
{
    /* A str that is not ASCII is refused before any decoding. */
    if (!all_ascii(in, len))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "string argument should contain only ASCII characters");

    const uint8_t *p = (const uint8_t *)in;
    uint8_t *o = out;
    unsigned quad_pos = 0, pads = 0;
    uint32_t left = 0;
    size_t i = 0;
    while (i < len) {
        /* Fast path: four data characters at a quantum boundary. */
        if (quad_pos == 0 && i + 4 <= len) {
            uint32_t a = dec_table[p[i]], b = dec_table[p[i + 1]];
            uint32_t c = dec_table[p[i + 2]], d = dec_table[p[i + 3]];
            if (((a | b | c | d) & 0x80) == 0) {
                uint32_t v = a << 18 | b << 12 | c << 6 | d;
                o[0] = (uint8_t)(v >> 16);
                o[1] = (uint8_t)(v >> 8);
                o[2] = (uint8_t)v;
                o += 3;
                i += 4;
                pads = 0;
                continue;
            }
        }
        uint8_t ch = p[i++];
        if (ch == '=') {
            /* Padding counts only after two data characters of a quantum;
             * once it completes the quantum the data ends there. */
            if (quad_pos >= 2 && quad_pos + ++pads >= 4)
                return (long)(o - out);
            continue;
        }
        uint32_t v = dec_table[ch];
        if (v & 0x80)
            continue; /* not base64: skipped */
        pads = 0;
        switch (quad_pos) {
        case 0:
            left = v;
            quad_pos = 1;
            break;
        case 1:
            *o++ = (uint8_t)(left << 2 | v >> 4);
            left = v & 0x0f;
            quad_pos = 2;
            break;
        case 2:
            *o++ = (uint8_t)(left << 4 | v >> 2);
            left = v & 0x03;
            quad_pos = 3;
            break;
        default:
            *o++ = (uint8_t)(left << 6 | v);
            left = 0;
            quad_pos = 0;
            break;
        }
    }
    if (quad_pos == 1)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "Invalid base64-encoded string: number of data characters (%zu) "
                           "cannot be 1 more than a multiple of 4",
                           (size_t)(o - out) / 3 * 4 + 1);
    if (quad_pos != 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "Incorrect padding");
    return (long)(o - out);
}

int base64_py_strip_data_uri(const char *s, size_t len, const char **b64, size_t *b64_len,
                             hdm_err *err)
{
    if (len >= 5 && memcmp(s, "data:", 5) == 0) {
        const char *comma = memchr(s, ',', len);
        if (comma == NULL)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "list index out of range");
        *b64 = comma + 1;
        *b64_len = len - (size_t)(comma + 1 - s);
        return 0;
    }
    *b64 = s;
    *b64_len = len;
    return 0;
}
