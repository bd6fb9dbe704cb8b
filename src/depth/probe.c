/*
 * probe.c - an encoded image's size from its header, without decoding it,
 * so a request can take the memory its decode needs from the budget first.
 *
 * Reads only what the decoders read first: JPEG's SOFn segment (walking the
 * marker segments by their lengths), PNG's IHDR, WebP's VP8/VP8L/VP8X
 * header.  The answer is an estimate for the budget, not a promise: the
 * decoder reads the same header and enforces images.max_pixels itself.
 */
#include <string.h>

#include "depth/depth.h"

static unsigned be16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static unsigned le16(const uint8_t *p)
{
    return (unsigned)p[1] << 8 | p[0];
}

static unsigned long le24(const uint8_t *p)
{
    return (unsigned long)p[2] << 16 | (unsigned long)p[1] << 8 | p[0];
}

static int jpeg(const uint8_t *d, size_t n, int *w, int *h)
{
    size_t i = 2;
    while (i + 4 <= n) {
        if (d[i] != 0xFF)
            return -1;
        uint8_t m = d[i + 1];
        if (m == 0xFF) { /* fill byte */
            i++;
            continue;
        }
        if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) { /* no length */
            i += 2;
            continue;
        }
        unsigned len = be16(d + i + 2);
        if (len < 2)
            return -1;
        /* SOF0..SOF15 but DHT (C4), JPG (C8) and DAC (CC) */
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (i + 9 > n || len < 7)
                return -1;
            *h = (int)be16(d + i + 5);
            *w = (int)be16(d + i + 7);
            return 0;
        }
        if (m == 0xDA || m == 0xD9) /* scan data or the end before any frame */
            return -1;
        i += 2 + (size_t)len;
    }
    return -1;
}

static int png(const uint8_t *d, size_t n, int *w, int *h)
{
    if (n < 24 || memcmp(d + 12, "IHDR", 4) != 0)
        return -1;
    uint32_t pw = (uint32_t)d[16] << 24 | (uint32_t)d[17] << 16 | (uint32_t)d[18] << 8 | d[19];
    uint32_t ph = (uint32_t)d[20] << 24 | (uint32_t)d[21] << 16 | (uint32_t)d[22] << 8 | d[23];
    if (pw == 0 || ph == 0 || pw > 0x7fffffff || ph > 0x7fffffff)
        return -1;
    *w = (int)pw;
    *h = (int)ph;
    return 0;
}

static int webp(const uint8_t *d, size_t n, int *w, int *h)
{
    if (n < 30)
        return -1;
    const uint8_t *c = d + 12; /* the first chunk */
    if (memcmp(c, "VP8X", 4) == 0) {
        *w = (int)le24(c + 12) + 1;
        *h = (int)le24(c + 15) + 1;
        return 0;
    }
    if (memcmp(c, "VP8L", 4) == 0) {
        if (c[8] != 0x2F)
            return -1;
        uint32_t bits =
            (uint32_t)c[9] | (uint32_t)c[10] << 8 | (uint32_t)c[11] << 16 | (uint32_t)c[12] << 24;
        *w = (int)(bits & 0x3FFF) + 1;
        *h = (int)((bits >> 14) & 0x3FFF) + 1;
        return 0;
    }
    if (memcmp(c, "VP8 ", 4) == 0) {
        if (c[11] != 0x9D || c[12] != 0x01 || c[13] != 0x2A)
            return -1;
        *w = (int)(le16(c + 14) & 0x3FFF);
        *h = (int)(le16(c + 16) & 0x3FFF);
        return *w > 0 && *h > 0 ? 0 : -1;
    }
    return -1;
}

int depth_probe_size(const uint8_t *data, size_t len, int *width, int *height)
{
    int w = 0, h = 0, r = -1;
    if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        r = jpeg(data, len, &w, &h);
    else if (len >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0)
        r = png(data, len, &w, &h);
    else if (len >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
        r = webp(data, len, &w, &h);
    if (r < 0 || w < 1 || h < 1)
        return -1;
    *width = w;
    *height = h;
    return 0;
}
