/*
 * image_webp.c - WebP to RGB8 with libwebp.
 *
 * WebPGetFeatures reads the dimensions (and whether there is alpha or
 * animation) from the header; they are checked before the pixel buffer is
 * allocated.  Decoding straight into RGB drops alpha, as Pillow's
 * convert("RGB") does.  Animated files need the demux library and carry many
 * frames; the services want one picture, so they are refused with a clear
 * error rather than decoded halfway.
 */
#include <stdlib.h>

#include <webp/decode.h>

#include "image/image_internal.h"

static const char *status_text(VP8StatusCode s)
{
    switch (s) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "corrupt bitstream";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "decoding suspended";
    case VP8_STATUS_USER_ABORT: return "decoding aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "not enough data";
    default: return "unknown error";
    }
}

int image_decode_webp(const uint8_t *data, size_t len, const image_limits *lim, image *out,
                      hdm_err *err)
{
    WebPDecoderConfig config;
    if (!WebPInitDecoderConfig(&config))
        return hdm_err_set(err, HDM_E_INTERNAL, "libwebp version mismatch");
    VP8StatusCode st = WebPGetFeatures(data, len, &config.input);
    if (st == VP8_STATUS_NOT_ENOUGH_DATA)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "image is truncated (WebP header ends early)");
    if (st != VP8_STATUS_OK)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "invalid WebP data: %s", status_text(st));
    if (config.input.has_animation)
        return hdm_err_set(err, HDM_E_UNSUPPORTED,
                           "animated WebP is not supported (send a single still image)");
    int rc = image_check_dims("WebP", (uint64_t)config.input.width,
                              (uint64_t)config.input.height, lim, err);
    if (rc < 0)
        return rc;

    size_t w = (size_t)config.input.width, h = (size_t)config.input.height;
    uint8_t *rgb = malloc(w * h * 3);
    if (rgb == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for a %zux%zu WebP", w, h);
    config.output.colorspace = MODE_RGB;
    config.output.is_external_memory = 1;
    config.output.u.RGBA.rgba = rgb;
    config.output.u.RGBA.stride = (int)(w * 3);
    config.output.u.RGBA.size = w * h * 3;
    st = WebPDecode(data, len, &config);
    WebPFreeDecBuffer(&config.output);
    if (st != VP8_STATUS_OK) {
        free(rgb);
        if (st == VP8_STATUS_NOT_ENOUGH_DATA)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "image is truncated (WebP data ends early)");
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "invalid WebP data: %s", status_text(st));
    }
    out->width = (int)w;
    out->height = (int)h;
    out->rgb = rgb;
    return 0;
}
