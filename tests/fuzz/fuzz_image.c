/*
 * fuzz_image.c - the image decoders (JPEG, PNG, WebP by magic bytes) through
 * image_decode_with with a small pixel budget, then every resampling path
 * on what decoded; and the EXIF tag reader on the raw bytes.
 *
 * The first byte picks the options: bits 0-1 the min_side hint (scaled JPEG
 * decoding), bit 2 EXIF orientation (JPEG APP1, PNG eXIf), bit 3 the filter
 * of image_resize (bilinear or bicubic), bits 4-7 the output size.
 */
#include <stdint.h>
#include <stdlib.h>

#include "image/image.h"
#include "image/image_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const int sides[4] = {0, 16, 224, 336};
    uint8_t sel = data[0];
    int orientation = image_exif_orientation(data + 1, size - 1);
    if (orientation < 0 || orientation > 8)
        abort();

    image_decode_opts o;
    image_decode_opts_defaults(&o);
    o.limits.max_pixels = 4u << 20;
    o.limits.max_cpu_ms = 2000;
    o.min_side = sides[sel & 3];
    o.exif_orientation = (sel & 4) != 0;
    image img = {0};
    hdm_err err;
    hdm_err_clear(&err);
    if (image_decode_with(data + 1, size - 1, &o, &img, &err) == 0) {
        if (img.width < 1 || img.height < 1 || !img.rgb ||
            (uint64_t)img.width * (uint64_t)img.height > o.limits.max_pixels)
            abort();
        static uint8_t out[48 * 48 * 3];
        static float fin[64 * 64], fout[48 * 48];
        int ow = 1 + (sel >> 4) * 3, oh = 1 + ((sel >> 4) * 7) % 48;
        image_filter f = (sel & 8) ? IMAGE_FILTER_BICUBIC : IMAGE_FILTER_BILINEAR;
        if (image_resize(&img, ow, oh, f, out, &err) != 0)
            abort();
        if (image_resize_crop(&img, 32, out, &err) != 0)
            abort();
        /* Mode "F": the red channel of the top-left corner (at most 64x64). */
        int fw = img.width < 64 ? img.width : 64, fh = img.height < 64 ? img.height : 64;
        for (int y = 0; y < fh; y++)
            for (int x = 0; x < fw; x++)
                fin[y * fw + x] = (float)img.rgb[((size_t)y * img.width + x) * 3] - 127.5f;
        if (image_resize_f32(fin, fw, fh, ow, oh, f, fout, &err) != 0)
            abort();
    } else if (err.msg[0] == '\0') {
        abort();
    }
    image_free(&img);
    return 0;
}
