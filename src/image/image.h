/*
 * image.h - decode JPEG/PNG/WebP to RGB8, resize, centre-crop.
 *
 * Library code: never logs; errors are hdm_err sentences naming the problem
 * ("image is truncated", "unsupported image format (not JPEG, PNG or WebP)",
 * "image dimensions 40000x40000 exceed the limit of ...").
 */
#ifndef HDM_IMAGE_IMAGE_H
#define HDM_IMAGE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct image {
    int width, height;  /* pixels */
    uint8_t *rgb;       /* width*height*3, row-major, malloc'd */
} image;

typedef struct image_limits {
    int max_width, max_height;   /* default 16384 each */
    uint64_t max_pixels;         /* default 50 000 000, checked from the header */
    size_t max_bytes;            /* encoded size, default 32 MiB */
} image_limits;

void image_limits_defaults(image_limits *l);

/*
 * Decodes an encoded image into RGB8.  Grey, palette, CMYK and 16-bit
 * inputs are converted; alpha is dropped, as Pillow's convert("RGB") does.
 * `min_side` hints the smallest size the caller needs: JPEG uses scaled
 * decoding (1/2, 1/4, 1/8) while the shorter side stays >= min_side
 * (0 = full size).
 */
int image_decode(const uint8_t *data, size_t len, const image_limits *lim, int min_side,
                 image *out, hdm_err *err);
void image_free(image *img);

/* Resizes so the shorter side is `side` (area-averaging/bilinear quality
 * filter), then centre-crops to side x side, writing side*side*3 bytes. */
int image_resize_crop(const image *in, int side, uint8_t *out, hdm_err *err);

/* Decodes a base64 string, optionally with a "data:image/...;base64," prefix
 * (the media type must be image/...; line breaks and spaces are ignored). */
int image_decode_base64(const char *b64, size_t len, const image_limits *lim, int min_side,
                        image *out, hdm_err *err);

#endif
