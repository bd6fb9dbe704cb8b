/*
 * image_internal.h - the per-format decoders behind image_decode() (not a
 * contract for services: they use image.h).
 *
 * Each decoder gets data already sniffed as its format and within the byte
 * limit; it checks the dimensions from the header with image_check_dims()
 * before allocating pixels and fills *out only on success.
 */
#ifndef HDM_IMAGE_IMAGE_INTERNAL_H
#define HDM_IMAGE_IMAGE_INTERNAL_H

#include <stdint.h>

#include "image/image.h"

int image_decode_jpeg(const uint8_t *data, size_t len, const image_limits *lim, int min_side,
                      image *out, hdm_err *err);
int image_decode_png(const uint8_t *data, size_t len, const image_limits *lim, image *out,
                     hdm_err *err);
int image_decode_webp(const uint8_t *data, size_t len, const image_limits *lim, image *out,
                      hdm_err *err);

/* 0 when width x height (from a header) fits the limits; else TOO_LARGE (or
 * BAD_REQUEST for a zero dimension) with a sentence naming the format. */
int image_check_dims(const char *format, uint64_t width, uint64_t height,
                     const image_limits *lim, hdm_err *err);

#endif
