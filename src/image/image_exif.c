/*
 * image_exif.c - the EXIF Orientation tag, and turning pixels upright by it.
 *
 * DESIGN: we need one 16-bit value from IFD0 of a TIFF structure, so we
 * read it ourselves rather than link libexif (a parser for every tag and
 * maker note, with a long CVE history, for one number).  The rules are
 * OpenCV's ExifReader's, since the services that ask for orientation
 * replace code that used cv2.imdecode: byte order "II" or "MM", the 42
 * mark, the IFD0 offset, then the entries in order; the first entry with
 * tag 0x0112 gives its 16-bit value at the entry's value field whatever
 * its declared type; values outside 1..8 mean "leave it".  An entry that
 * runs past the data ends the scan.  (OpenCV also stops at a few other
 * tags whose values point outside the block; we skip those, which only
 * matters for broken files.)  Every read is checked against the block's
 * length, and the entry count is 16-bit, so the scan is bounded.
 *
 * The transforms are OpenCV's ApplyExifOrientation: 2 mirror left-right,
 * 3 rotate 180, 4 mirror top-bottom, 5 transpose, 6 transpose + mirror
 * left-right (90 degrees clockwise), 7 transpose + rotate 180, 8 transpose
 * + mirror top-bottom (90 degrees counter-clockwise).
 */
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"

#define EXIF_TAG_ORIENTATION 0x0112

typedef struct tiff_reader {
    const uint8_t *d;
    size_t len;
    int intel; /* "II": little-endian */
} tiff_reader;

/* 0 and *v, or -1 when [off, off+2) is outside the data. */
static int get_u16(const tiff_reader *t, size_t off, unsigned *v)
{
    if (off > t->len || t->len - off < 2)
        return -1;
    const uint8_t *p = t->d + off;
    *v = t->intel ? (unsigned)(p[0] | p[1] << 8) : (unsigned)(p[0] << 8 | p[1]);
    return 0;
}

static int get_u32(const tiff_reader *t, size_t off, uint32_t *v)
{
    if (off > t->len || t->len - off < 4)
        return -1;
    const uint8_t *p = t->d + off;
    *v = t->intel ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                        (uint32_t)p[3] << 24
                  : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
                        (uint32_t)p[3];
    return 0;
}

int image_exif_orientation(const uint8_t *tiff, size_t len)
{
    if (tiff == NULL || len < 8 || tiff[0] != tiff[1] || (tiff[0] != 'I' && tiff[0] != 'M'))
        return 0;
    tiff_reader t = {tiff, len, tiff[0] == 'I'};
    unsigned mark, count;
    uint32_t ifd0;
    if (get_u16(&t, 2, &mark) < 0 || mark != 42 || get_u32(&t, 4, &ifd0) < 0 ||
        get_u16(&t, ifd0, &count) < 0)
        return 0;
    size_t entry = (size_t)ifd0 + 2;
    for (unsigned i = 0; i < count; i++, entry += 12) {
        unsigned tag, value;
        if (get_u16(&t, entry, &tag) < 0)
            return 0;
        if (tag != EXIF_TAG_ORIENTATION)
            continue;
        if (get_u16(&t, entry + 8, &value) < 0)
            return 0;
        return value >= 1 && value <= 8 ? (int)value : 0;
    }
    return 0;
}

static void mirror_lr(image *img)
{
    for (int y = 0; y < img->height; y++) {
        uint8_t *row = img->rgb + (size_t)y * img->width * 3;
        for (int a = 0, b = img->width - 1; a < b; a++, b--) {
            uint8_t t[3];
            memcpy(t, row + 3 * a, 3);
            memcpy(row + 3 * a, row + 3 * b, 3);
            memcpy(row + 3 * b, t, 3);
        }
    }
}

static void mirror_tb(image *img)
{
    size_t stride = (size_t)img->width * 3;
    for (int a = 0, b = img->height - 1; a < b; a++, b--) {
        uint8_t *ra = img->rgb + (size_t)a * stride, *rb = img->rgb + (size_t)b * stride;
        for (size_t i = 0; i < stride; i++) {
            uint8_t t = ra[i];
            ra[i] = rb[i];
            rb[i] = t;
        }
    }
}

/* Rows become columns: a new buffer, height x width. */
static int transpose(image *img)
{
    int w = img->width, h = img->height;
    uint8_t *t = image_pixels_alloc((size_t)w * h * 3);
    if (t == NULL)
        return -1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(t + ((size_t)x * h + y) * 3, img->rgb + ((size_t)y * w + x) * 3, 3);
    image_pixels_free(img->rgb);
    img->rgb = t;
    img->width = h;
    img->height = w;
    return 0;
}

int image_orient(image *img, int orientation, hdm_err *err)
{
    if (orientation < 2 || orientation > 8)
        return 0;
    if (orientation >= 5 && transpose(img) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory turning a %dx%d image upright",
                           img->width, img->height);
    switch (orientation) {
    case 2:
    case 6:
        mirror_lr(img);
        break;
    case 3:
    case 7:
        mirror_lr(img);
        mirror_tb(img);
        break;
    case 4:
    case 8:
        mirror_tb(img);
        break;
    default: /* 5: the transpose alone */
        break;
    }
    return 0;
}
