/*
 * fuzz_image.c - the image decoders (JPEG, PNG, WebP by magic bytes) through
 * image_decode with a small pixel budget, then resize + centre crop of what
 * decoded.  The first byte picks the min_side hint (scaled JPEG decoding).
 */
#include <stdint.h>
#include <stdlib.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const int sides[4] = {0, 16, 224, 336};
    int min_side = sides[data[0] & 3];
    image_limits lim;
    image_limits_defaults(&lim);
    lim.max_pixels = 4u << 20;
    image img = {0};
    hdm_err err;
    hdm_err_clear(&err);
    if (image_decode(data + 1, size - 1, &lim, min_side, &img, &err) == 0) {
        if (img.width < 1 || img.height < 1 || !img.rgb ||
            (uint64_t)img.width * (uint64_t)img.height > lim.max_pixels)
            abort();
        static uint8_t out[32 * 32 * 3];
        image_resize_crop(&img, 32, out, &err);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    image_free(&img);
    return 0;
}
