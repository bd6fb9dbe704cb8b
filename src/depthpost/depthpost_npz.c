/*
 * depthpost_npz.c - the original's depth_map: np.savez_compressed(buf,
 * depth=map), a ZIP archive with one member, depth.npy.
 *
 * DESIGN: the .npy inside is byte for byte what numpy 1.24 writes (the
 * header dict with its spare growth spaces, padded to 64 bytes).  The zip
 * around it is a plain one numpy's zipfile reads (numpy itself forces
 * zip64 records; they are not needed below 4 GiB).  The map is fed to zlib
 * straight from the caller's array, in slices, and zlib writes straight
 * into the free tail of the output buf; the local header is written first
 * and its CRC and sizes patched once the data is through.
 */
#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "depthpost/depthpost.h"

#define NPY_ALIGN 64
#define NPY_GROWTH_AXIS_MAX_DIGITS 21
#define FEED_BYTES ((size_t)1 << 20)
#define MEMBER_NAME "depth.npy"
#define DOS_DATE_1980_01_01 0x0021 /* fixed: the archive is the same for the same map */

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v & 0xffffu);
    put16(p + 2, v >> 16);
}

/* numpy.lib.format's header for a C-order <f4 array of (height, width);
 * returns its length (a multiple of 64). */
static size_t npy_header(char *out, size_t size, int height, int width)
{
    char dict[160];
    int n = snprintf(dict, sizeof(dict),
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", height,
                     width);
    char digits[16];
    int spaces = NPY_GROWTH_AXIS_MAX_DIGITS - snprintf(digits, sizeof(digits), "%d", height);
    size_t hlen = (size_t)n + (size_t)spaces + 1; /* the dict, spare spaces, '\n' */
    size_t pad = NPY_ALIGN - ((8 + 2 + hlen) % NPY_ALIGN);
    size_t total = 10 + hlen + pad;
    if (total > size)
        return 0;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    put16((uint8_t *)out + 8, (uint32_t)(hlen + pad));
    memcpy(out + 10, dict, (size_t)n);
    memset(out + 10 + n, ' ', (size_t)spaces + pad);
    out[total - 1] = '\n';
    return total;
}

typedef struct deflater {
    z_stream zs;
    buf *out;
    bool stored;
    uLong crc;
    uint64_t in_bytes;
} deflater;

/* Feeds data[0..len) (len may be 0 with finish set). */
static int feed(deflater *d, const void *data, size_t len, bool finish)
{
    if (len > 0) /* crc32() of Z_NULL returns the initial value, not crc */
        d->crc = crc32(d->crc, data, (uInt)len);
    d->in_bytes += len;
    if (d->stored)
        return buf_append(d->out, data, len);
    d->zs.next_in = (Bytef *)data;
    d->zs.avail_in = (uInt)len;
    for (;;) {
        if (d->out->cap - d->out->len < 4096 && buf_reserve(d->out, len / 2 + 65536) < 0)
            return -HDM_E_NOMEM;
        size_t room = d->out->cap - d->out->len;
        d->zs.next_out = d->out->data + d->out->len;
        d->zs.avail_out = (uInt)(room > UINT32_MAX ? UINT32_MAX : room);
        uInt before = d->zs.avail_out;
        int zr = deflate(&d->zs, finish ? Z_FINISH : Z_NO_FLUSH);
        d->out->len += before - d->zs.avail_out;
        if (zr == Z_STREAM_END)
            return 0;
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            return -HDM_E_INTERNAL;
        if (!finish && d->zs.avail_in == 0)
            return 0;
    }
}

int depthpost_npz(const float *map, int height, int width, int level, buf *out, hdm_err *err)
{
    if (map == NULL || height < 1 || width < 1 ||
        (size_t)height * (size_t)width > DEPTHPOST_MAX_ELEMENTS)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "cannot write a %dx%d depth map as .npz",
                           width, height);
    if (level < DEPTHPOST_NPZ_FAST || level > 9)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           ".npz compression level %d is outside -1 (fast), 0 (stored) .. 9",
                           level);

    char header[256];
    size_t header_len = npy_header(header, sizeof(header), height, width);
    size_t data_len = (size_t)height * (size_t)width * sizeof(float);
    const size_t name_len = sizeof(MEMBER_NAME) - 1;
    const uint16_t method = level == DEPTHPOST_NPZ_STORED ? 0 : 8; /* stored or deflated */
    size_t start = out->len;
    int rc = 0;

    /* Local file header; CRC and sizes are patched below. */
    uint8_t lh[30];
    memset(lh, 0, sizeof(lh));
    put32(lh, 0x04034b50);
    put16(lh + 4, 20); /* version needed: 2.0 (deflate) */
    put16(lh + 8, method);
    put16(lh + 12, DOS_DATE_1980_01_01);
    put16(lh + 26, (uint32_t)name_len);
    if (buf_append(out, lh, sizeof(lh)) < 0 || buf_append(out, MEMBER_NAME, name_len) < 0)
        goto nomem;
    size_t data_start = out->len;

    deflater d = {.out = out, .stored = level == DEPTHPOST_NPZ_STORED,
                  .crc = crc32(0L, Z_NULL, 0)};
    /* Float bits have few repeats worth finding: Huffman coding alone gets
     * nearly all of level 6's gain at a fraction of its time. */
    int zlevel = level == DEPTHPOST_NPZ_FAST ? 1 : level;
    int strategy = level == DEPTHPOST_NPZ_FAST ? Z_HUFFMAN_ONLY : Z_DEFAULT_STRATEGY;
    if (!d.stored && deflateInit2(&d.zs, zlevel, Z_DEFLATED, -15, 8, strategy) != Z_OK)
        goto nomem;
    rc = feed(&d, header, header_len, false);
    const unsigned char *bytes = (const unsigned char *)map;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (size_t off = 0; rc == 0 && off < data_len; off += FEED_BYTES) {
        size_t n = data_len - off < FEED_BYTES ? data_len - off : FEED_BYTES;
        rc = feed(&d, bytes + off, n, false);
    }
#else
    for (size_t off = 0; rc == 0 && off < data_len; off += 4096) {
        uint8_t le[4096];
        size_t n = data_len - off < sizeof(le) ? data_len - off : sizeof(le);
        for (size_t i = 0; i < n; i += 4)
            for (int j = 0; j < 4; j++)
                le[i + (size_t)j] = bytes[off + i + 3 - (size_t)j];
        rc = feed(&d, le, n, false);
    }
#endif
    if (rc == 0)
        rc = feed(&d, NULL, 0, true);
    if (!d.stored)
        deflateEnd(&d.zs);
    if (rc == -HDM_E_NOMEM)
        goto nomem;
    if (rc < 0) {
        out->len = start;
        return hdm_err_set(err, HDM_E_INTERNAL, "zlib failed compressing the depth map");
    }
    uint64_t csize = out->len - data_start;
    if (csize > UINT32_MAX - 1 || d.in_bytes > UINT32_MAX - 1) {
        out->len = start;
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "depth map too large for a .npz");
    }
    put32(out->data + start + 14, (uint32_t)d.crc);
    put32(out->data + start + 18, (uint32_t)csize);
    put32(out->data + start + 22, (uint32_t)d.in_bytes);

    /* Central directory (one entry) and its end record. */
    size_t cd_start = out->len;
    uint8_t cd[46];
    memset(cd, 0, sizeof(cd));
    put32(cd, 0x02014b50);
    put16(cd + 4, 3u << 8 | 20); /* made by: Unix, 2.0 */
    put16(cd + 6, 20);
    put16(cd + 10, method);
    put16(cd + 14, DOS_DATE_1980_01_01);
    memcpy(cd + 16, out->data + start + 14, 12); /* CRC and sizes */
    put16(cd + 28, (uint32_t)name_len);
    put32(cd + 38, 0600u << 16); /* rw------- as zipfile writes it */
    put32(cd + 42, 0);           /* the local header's offset in the archive */
    if (buf_append(out, cd, sizeof(cd)) < 0 || buf_append(out, MEMBER_NAME, name_len) < 0)
        goto nomem;
    uint8_t eocd[22];
    memset(eocd, 0, sizeof(eocd));
    put32(eocd, 0x06054b50);
    put16(eocd + 8, 1);
    put16(eocd + 10, 1);
    put32(eocd + 12, (uint32_t)(out->len - cd_start));
    put32(eocd + 16, (uint32_t)(cd_start - start));
    if (buf_append(out, eocd, sizeof(eocd)) < 0)
        goto nomem;
    return 0;

nomem:
    out->len = start;
    return hdm_err_set(err, HDM_E_NOMEM, "out of memory writing the .npz");
}
