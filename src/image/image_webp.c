/*
 * image_webp.c - WebP to RGB8 with libwebp.
 *
 * WebPGetFeatures reads the dimensions (and whether there is alpha or
 * animation) from the header; they are checked before the pixel buffer is
 * allocated.  Decoding straight into RGB drops alpha, as Pillow's
 * convert("RGB") does.  Animated files need the demux library and carry many
 * frames; the services want one picture, so they are refused with a clear
 * error rather than decoded halfway.
 *
 * libwebp has no progress callback, so the data is fed to its incremental
 * decoder in slices (a 16th of the file, 256 bytes to 64 KB) and the CPU
 * budget is checked between slices.  A file of a few hundred bytes that
 * expands to megapixels (single-symbol lossless codes cost zero bits per
 * pixel) is decoded in one step: the pixel limit, checked from the header,
 * is what bounds it.  EXIF orientation is not applied to WebP: OpenCV 4.6
 * does not either.
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

/* Slice size: a 16th of the file, between 256 bytes and 64 KB. */
static size_t slice_of(size_t len)
{
    size_t n = len / 16;
    return n < 256 ? 256 : n > 65536 ? 65536 : n;
}

int image_decode_webp(const uint8_t *data, size_t len, image_job *ij, image *out, hdm_err *err)
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
    int rc = image_admit(ij, "WebP", (uint64_t)config.input.width, (uint64_t)config.input.height,
                         err);
    if (rc < 0)
        return rc;

    size_t w = (size_t)config.input.width, h = (size_t)config.input.height;
    uint8_t *rgb = image_pixels_alloc(w * h * 3);
    WebPIDecoder *idec = NULL;
    if (rgb == NULL) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory for a %zux%zu WebP", w, h);
        goto out;
    }
    config.output.colorspace = MODE_RGB;
    config.output.is_external_memory = 1;
    config.output.u.RGBA.rgba = rgb;
    config.output.u.RGBA.stride = (int)(w * 3);
    config.output.u.RGBA.size = w * h * 3;
    idec = WebPINewDecoder(&config.output);
    if (idec == NULL) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory decoding a %zux%zu WebP", w, h);
        goto out;
    }
    size_t slice = slice_of(len), fed = 0;
    st = VP8_STATUS_SUSPENDED;
    while (st == VP8_STATUS_SUSPENDED && fed < len) {
        fed += len - fed < slice ? len - fed : slice;
        /* WebPIUpdate reads data[0, fed) in place: no copy. */
        st = WebPIUpdate(idec, data, fed);
        if (st == VP8_STATUS_SUSPENDED && image_over_budget(ij)) {
            rc = image_budget_error(ij, "WebP", err);
            goto out;
        }
    }
    if (st == VP8_STATUS_SUSPENDED || st == VP8_STATUS_NOT_ENOUGH_DATA)
        rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "image is truncated (WebP data ends early)");
    else if (st != VP8_STATUS_OK)
        rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "invalid WebP data: %s", status_text(st));
    if (rc < 0)
        goto out;
    out->width = (int)w;
    out->height = (int)h;
    out->rgb = rgb;
    out->gate_slot = ij->slot;
    ij->slot = 0;
    rgb = NULL;
out:
    WebPIDelete(idec);
    WebPFreeDecBuffer(&config.output);
    image_pixels_free(rgb);
    image_job_release(ij);
    return rc;
}
