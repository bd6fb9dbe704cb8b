/*
 * images.c - an image reference from a chat message to a 336x336 RGB frame.
 *
 * DESIGN.  Three sources, each behind its own gate:
 *   data:image/...;base64,...   always (size checked before decoding);
 *   file:///path                only inside images.allowed_dirs;
 *   http(s)://...               only with images.allow_remote, to public
 *                               addresses and images.remote_allowed_networks.
 * The last two are the shared fetcher's (svc/fetch.h, which says how each
 * is confined and why a failed fetch has one answer).  Every source ends in
 * image_decode (pixel limit checked from the header) and image_resize_crop
 * to the model's square input.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "image/image.h"
#include "vision/vision.h"

int vision_images_init(vision_images *vi, const vision_config *cfg, hdm_err *err)
{
    memset(vi, 0, sizeof(*vi));
    vi->max_bytes = (size_t)cfg->image_max_bytes;
    vi->max_pixels = (uint64_t)cfg->image_max_pixels;
    const svc_fetch_opts o = {
        .allowed_dirs = &cfg->allowed_dirs,
        .allow_remote = cfg->allow_remote,
        .allowed_networks = &cfg->remote_allowed_networks,
        .max_bytes = vi->max_bytes,
        .timeout_ms = cfg->fetch_timeout_ms,
        .dirs_key = "images.allowed_dirs",
        .remote_key = "images.allow_remote",
        .networks_key = "images.remote_allowed_networks",
        .remote_hint = "send the image as a data: URI",
        .user_agent = "hailo-vision/" HDM_VERSION,
    };
    return svc_fetch_init(&vi->fetch, &o, err);
}

void vision_images_free(vision_images *vi)
{
    if (!vi)
        return;
    svc_fetch_free(&vi->fetch);
}

static void limits(const vision_images *vi, image_limits *lim)
{
    image_limits_defaults(lim);
    lim->max_bytes = vi->max_bytes;
    lim->max_pixels = vi->max_pixels;
}

/*
 * Second half of every image source: the decode result r, then resize and
 * centre-crop into frame.  Anything but size and memory is the client's
 * image being bad (400), named by `what`.
 */
static int finish_frame(image *img, int r, const char *what, uint8_t *frame, hdm_err *err)
{
    if (r >= 0)
        r = image_resize_crop(img, VISION_FRAME_SIDE, frame, err);
    image_free(img);
    if (r < 0) {
        if (err && err->code != HDM_E_TOO_LARGE && err->code != HDM_E_NOMEM &&
            err->code != HDM_E_BUSY)
            err->code = HDM_E_BAD_REQUEST;
        return hdm_err_prefix(err, "%s", what);
    }
    return 0;
}

static int decode_to_frame(const vision_images *vi, const uint8_t *data, size_t len,
                           const char *what, uint8_t *frame, hdm_err *err)
{
    image_limits lim;
    image img = {0};
    limits(vi, &lim);
    int r = image_decode(data, len, &lim, VISION_FRAME_SIDE, &img, err);
    return finish_frame(&img, r, what, frame, err);
}

/* Base64 (no prefix) to a frame; the encoded size is checked first. */
static int decode_b64(const vision_images *vi, const char *b64, const char *what, uint8_t *frame,
                      hdm_err *err)
{
    size_t len = strlen(b64);
    if (len / 4 * 3 > vi->max_bytes + 3)
        return hdm_err_set(err, HDM_E_TOO_LARGE, "%s: image is larger than %zu bytes", what,
                           vi->max_bytes);
    image_limits lim;
    image img = {0};
    limits(vi, &lim);
    int r = image_decode_base64(b64, len, &lim, VISION_FRAME_SIDE, &img, err);
    return finish_frame(&img, r, what, frame, err);
}

static int load_data_uri(const vision_images *vi, const char *ref, const char *what, uint8_t *frame,
                         hdm_err *err)
{
    const char *comma = strchr(ref, ',');
    if (!comma)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: data URI has no ',' before its data", what);
    size_t hdr = (size_t)(comma - ref);
    if (hdr < 7 || strncasecmp(comma - 7, ";base64", 7) != 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: only base64 data URIs are supported (data:image/...;base64,...)",
                           what);
    if (strncasecmp(ref, "data:image/", 11) != 0 && hdr != 12 /* "data:;base64" */)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: data URI is not an image (%.*s)", what,
                           (int)(hdr < 60 ? hdr : 60), ref);
    return decode_b64(vi, comma + 1, what, frame, err);
}

/* A file:// or http(s):// image: its bytes from the shared fetcher, then
 * the frame. */
static int load_url(const vision_images *vi, const char *ref, bool remote, const char *what,
                    uint8_t *frame, hdm_err *err)
{
    buf bytes = {0};
    int r = remote ? svc_fetch_remote(&vi->fetch, ref, what, &bytes, err)
                   : svc_fetch_file(&vi->fetch, ref, what, &bytes, err);
    if (r >= 0)
        r = decode_to_frame(vi, bytes.data, bytes.len, what, frame, err);
    buf_free(&bytes);
    return r;
}

int vision_image_load(const vision_images *vi, const char *ref, bool bare_base64, const char *what,
                      uint8_t *frame, hdm_err *err)
{
    if (strncasecmp(ref, "data:", 5) == 0)
        return load_data_uri(vi, ref, what, frame, err);
    if (svc_fetch_is_file_url(ref))
        return load_url(vi, ref, false, what, frame, err);
    if (svc_fetch_is_remote_url(ref))
        return load_url(vi, ref, true, what, frame, err);
    if (bare_base64)
        return decode_b64(vi, ref, what, frame, err);
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       "%s: unsupported image URL (use a data:image/...;base64 URI, file:// or "
                       "http(s)://)",
                       what);
}
