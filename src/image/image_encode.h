/*
 * image_encode.h - encode pixels to PNG (8-bit grey, 8-bit RGB, 16-bit
 * grey) and JPEG (RGB) into a growable buffer.
 *
 * The encoders pull rows from a callback, so a caller that derives its
 * pixels from something else (a depth map through a colormap, say) never
 * materialises a whole image: one row buffer is all the memory besides the
 * encoded output.  Library code: never logs; errors are hdm_err sentences.
 */
#ifndef HDM_IMAGE_IMAGE_ENCODE_H
#define HDM_IMAGE_IMAGE_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "image/image.h"

/* Largest width or height either encoder accepts (PNG allows 2^31-1; we
 * stop where a row of 16-bit RGB would no longer be a sane allocation). */
#define IMAGE_ENCODE_MAX_SIDE 65535

typedef enum image_png_format {
    IMAGE_PNG_GREY8,  /* rows of width uint8 samples */
    IMAGE_PNG_RGB8,   /* rows of width*3 uint8 samples, R G B */
    IMAGE_PNG_GREY16, /* rows of width uint16 samples in host byte order */
} image_png_format;

/*
 * Fills `row` with row y (0 .. height-1, asked for in order) of the image
 * being encoded: width * channels samples of the format's type.  Returns 0,
 * or a negative HDM_E_* code (with err filled) to abandon the encoding; the
 * encoder then returns that code.
 */
typedef int (*image_encode_row_fn)(void *ctx, int y, void *row, hdm_err *err);

/*
 * Encodes a width x height PNG whose rows come from fn(ctx, y, row),
 * appending the file to `out` (on failure `out` keeps its old length).
 * `level` is the zlib level, 0 (stored) .. 9; -1 means zlib's default (6,
 * what Pillow uses).  Levels 1..3 use the Sub filter on every row (fast),
 * higher ones libpng's adaptive choice.  Returns 0, -HDM_E_BAD_REQUEST for a bad size, format
 * or level, -HDM_E_NOMEM, or the callback's code.
 */
int image_encode_png_rows(int width, int height, image_png_format format, int level,
                          image_encode_row_fn fn, void *ctx, buf *out, hdm_err *err);

/* Encodes an RGB8 image as PNG (see image_encode_png_rows for `level`). */
int image_encode_png(const image *img, int level, buf *out, hdm_err *err);

/*
 * Encodes an RGB8 image as a baseline JPEG of `quality` 1..100 (4:2:0
 * chroma subsampling, libjpeg-turbo's defaults), appending it to `out`.
 * Returns 0, -HDM_E_BAD_REQUEST for a bad size or quality, or -HDM_E_NOMEM.
 */
int image_encode_jpeg(const image *img, int quality, buf *out, hdm_err *err);

#endif
