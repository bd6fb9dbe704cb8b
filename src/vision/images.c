/*
 * images.c - an image reference from a chat message to a 336x336 RGB frame.
 *
 * DESIGN.  Three sources, each behind its own gate:
 *   data:image/...;base64,...   always (size checked before decoding);
 *   file:///path, /path         only inside images.allowed_dirs (a bare
 *                               absolute path, as the original service took
 *                               it, or a file:// URL);
 *   http(s)://...               only with images.allow_remote, to public
 *                               addresses and images.remote_allowed_networks.
 * The last two are the shared fetcher's (svc/fetch.h, which says how each
 * is confined and why a failed fetch has one answer).  Where plain base64 is
 * allowed too ({type:"image"} parts, /v1/vision/analyze strings), a string
 * starting with '/' is a path only when it cannot be base64 or lies beneath
 * an allowed directory: JPEG data in base64 starts with "/9j/".  Every
 * source ends in
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
        .remote_hint = "send the image as a data: URI, or set images.allow_remote: true in "
                       "hailo-vision.yaml to fetch http(s) URLs",
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

enum image_source { SOURCE_FILE_URL, SOURCE_PATH, SOURCE_REMOTE };

/* A file:// URL, a bare path or an http(s):// image: its bytes from the
 * shared fetcher, then the frame. */
static int load_fetched(const vision_images *vi, const char *ref, enum image_source source,
                        const char *what, uint8_t *frame, hdm_err *err)
{
    buf bytes = {0};
    int r = source == SOURCE_REMOTE  ? svc_fetch_remote(&vi->fetch, ref, what, &bytes, err)
            : source == SOURCE_PATH ? svc_fetch_path(&vi->fetch, ref, what, &bytes, err)
                                    : svc_fetch_file(&vi->fetch, ref, what, &bytes, err);
    if (r >= 0)
        r = decode_to_frame(vi, bytes.data, bytes.len, what, frame, err);
    buf_free(&bytes);
    return r;
}

/* Whether a string that starts with '/' names a file rather than base64:
 * it has a character base64 never has, or it lies beneath an allowed
 * directory. */
static bool looks_like_path(const vision_images *vi, const char *ref)
{
    if (ref[strspn(ref, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")])
        return true;
    const path_allowlist *dirs = &vi->fetch.dirs;
    for (size_t i = 0; i < dirs->n; i++) {
        size_t n = strlen(dirs->dirs[i]);
        if (strncmp(ref, dirs->dirs[i], n) == 0 && (ref[n] == '/' || n == 1))
            return true;
    }
    return false;
}

int vision_image_load(const vision_images *vi, const char *ref, bool bare_base64, const char *what,
                      uint8_t *frame, hdm_err *err)
{
    if (strncasecmp(ref, "data:", 5) == 0)
        return load_data_uri(vi, ref, what, frame, err);
    if (svc_fetch_is_file_url(ref))
        return load_fetched(vi, ref, SOURCE_FILE_URL, what, frame, err);
    if (svc_fetch_is_remote_url(ref))
        return load_fetched(vi, ref, SOURCE_REMOTE, what, frame, err);
    if (ref[0] == '/' && (!bare_base64 || looks_like_path(vi, ref)))
        return load_fetched(vi, ref, SOURCE_PATH, what, frame, err);
    if (bare_base64)
        return decode_b64(vi, ref, what, frame, err);
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       "%s: unsupported image URL (use a data:image/...;base64 URI, an absolute "
                       "path or file:// URL inside images.allowed_dirs, or http(s):// when "
                       "images.allow_remote is on)",
                       what);
}
