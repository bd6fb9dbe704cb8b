/*
 * image.h - decode JPEG/PNG/WebP to RGB8 within limits, and resample as
 * Pillow does.
 *
 * Library code: never logs; errors are hdm_err sentences naming the problem
 * ("image is truncated", "unsupported image format (not JPEG, PNG or WebP)",
 * "image of 7000x7000 has 49000000 pixels, above the limit of ...").
 * Codes: -HDM_E_BAD_REQUEST for a malformed or hostile image,
 * -HDM_E_UNSUPPORTED for a format we do not decode, -HDM_E_TOO_LARGE for an
 * image over a limit (size, pixels, CPU time), -HDM_E_BUSY when the
 * process's decode gate is full (retry later), -HDM_E_NOMEM.
 *
 * Decoding is bounded three ways (docs/SECURITY.md):
 *  - pixels, from the header, before any pixel buffer exists (image_limits,
 *    per service);
 *  - work: a progressive JPEG may have at most max_scans scans, and every
 *    decode at most max_cpu_ms of its thread's CPU time (checked in
 *    libjpeg's progress monitor, libpng's row callback and between the
 *    chunks fed to libwebp's incremental decoder);
 *  - concurrency: a process-wide gate (image_gate_*) admits a few decodes
 *    at once and large ones one at a time; a decoded image holds its slot
 *    until image_free, so the gate also bounds the memory of live images.
 *    Free each image before decoding the next one: a thread that holds a
 *    slot while waiting for another can only get BUSY (after wait_ms).
 */
#ifndef HDM_IMAGE_IMAGE_H
#define HDM_IMAGE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct image {
    int width, height;  /* pixels */
    uint8_t *rgb;       /* width*height*3, row-major, malloc'd */
    int gate_slot;      /* the decode slot held (0: none); image_free releases it */
} image;

typedef struct image_limits {
    int max_width, max_height;   /* default 16384 each */
    uint64_t max_pixels;         /* source pixels from the header, default 50 000 000 */
    size_t max_bytes;            /* encoded size, default 32 MiB */
    int max_scans;               /* progressive JPEG scans, default 64 (0: no limit) */
    int max_cpu_ms;              /* CPU time of one decode (this thread), default 5000
                                    (0: no limit) */
} image_limits;

void image_limits_defaults(image_limits *l);

/* How to decode (image_decode_with). */
typedef struct image_decode_opts {
    image_limits limits;
    /* The smallest size the caller needs on the shorter side: JPEG uses
     * libjpeg's scaled decoding (1/2, 1/4, 1/8) while the shorter side
     * stays >= min_side.  0 = full size (what Pillow and OpenCV decode). */
    int min_side;
    /* Apply the EXIF Orientation tag (JPEG APP1, PNG eXIf) by flipping and
     * transposing, as cv2.imdecode(..., IMREAD_COLOR) does.  Off: the
     * stored orientation, as PIL's Image.open().convert("RGB"). */
    bool exif_orientation;
} image_decode_opts;

/* Default limits, full size, no EXIF rotation. */
void image_decode_opts_defaults(image_decode_opts *o);

/*
 * Decodes an encoded image (sniffed: JPEG, PNG or WebP) into RGB8.  Grey,
 * palette, CMYK and 16-bit inputs are converted; alpha is dropped, as
 * Pillow's convert("RGB") does (CMYK as Pillow converts it).  On success
 * *out owns its pixels and a gate slot: image_free it.  `o` may be NULL
 * (defaults).  Returns 0 or a negative HDM_E_* code (see the top).
 */
int image_decode_with(const uint8_t *data, size_t len, const image_decode_opts *o, image *out,
                      hdm_err *err);
/* The same for a base64 string, optionally with a "data:image/...;base64,"
 * prefix (the media type must be image/...; line breaks and spaces are
 * ignored). */
int image_decode_base64_with(const char *b64, size_t len, const image_decode_opts *o,
                             image *out, hdm_err *err);

/* image_decode_with() with limits `lim` (NULL: defaults), scaled JPEG
 * decoding down to `min_side` and no EXIF rotation. */
int image_decode(const uint8_t *data, size_t len, const image_limits *lim, int min_side,
                 image *out, hdm_err *err);
int image_decode_base64(const char *b64, size_t len, const image_limits *lim, int min_side,
                        image *out, hdm_err *err);

/* Frees the pixels and gives the gate slot back; accepts NULL and an
 * image that holds nothing. */
void image_free(image *img);
/*
 * Keeps the pixel buffer of the last freed image (up to max_bytes; 0, the
 * default, keeps none) for the next decode: a service decoding one large
 * image after another then reuses one buffer instead of a heap that grows
 * by an image now and then (image_pixels.c).  Any thread, any time.
 */
void image_pixels_keep(size_t max_bytes);

/* ---- the decode gate ------------------------------------------------------ */

typedef struct image_gate_config {
    int slots;              /* decodes at once (default: online CPUs, at least 2, at most 8) */
    uint64_t heavy_pixels;  /* a decode of more source pixels is "large" (default 4 000 000) */
    int heavy_slots;        /* large decodes at once (default 1), within `slots` */
    int max_heavy_waiting;  /* large decodes that may wait (default 2); more get BUSY at once */
    int wait_ms;            /* longest wait for a slot before BUSY (default 10000) */
} image_gate_config;

void image_gate_config_defaults(image_gate_config *c);
/* Sets the process's gate (a service calls it at start-up; until then the
 * defaults apply).  0, or -HDM_E_BAD_REQUEST naming a bad field. */
int image_gate_configure(const image_gate_config *c, hdm_err *err);
/* Decodes holding a slot now, and decodes waiting for one (tests, status). */
void image_gate_usage(int *active, int *waiting);

/* ---- resampling ----------------------------------------------------------- */

typedef enum image_filter {
    /* Pillow Image.BILINEAR: a triangle of support 1, widened by the scale
     * when downscaling (antialiased). */
    IMAGE_FILTER_BILINEAR,
    /* Pillow Image.BICUBIC: a = -0.5, support 2, widened when downscaling. */
    IMAGE_FILTER_BICUBIC,
} image_filter;

/*
 * Pillow's img.resize((out_w, out_h), filter) of an RGB8 image, identical
 * pixels (Pillow 9.4's fixed-point Resample.c).  Writes out_w*out_h*3
 * bytes.  0, -HDM_E_BAD_REQUEST (empty input, size out of 1..16384) or
 * -HDM_E_NOMEM.
 */
int image_resize(const image *in, int out_w, int out_h, image_filter filter, uint8_t *out,
                 hdm_err *err);
/*
 * The same on a float32 single-channel image (Pillow mode "F", e.g.
 * Image.fromarray(float32_array).resize(...)): in is in_w*in_h floats,
 * row-major; writes out_w*out_h floats.  Same results as Pillow (sums in
 * double, stored as float).
 */
int image_resize_f32(const float *in, int in_w, int in_h, int out_w, int out_h,
                     image_filter filter, float *out, hdm_err *err);
/*
 * CLIP's reference preprocessing: Pillow bicubic resize of the shorter side
 * to `side` (the longer one truncated, as torchvision Resize(side) does),
 * then the centre side x side crop (offset rounded half to even); writes
 * side*side*3 bytes, identical to Pillow.  Only the kept pixels are
 * computed.
 */
int image_resize_crop(const image *in, int side, uint8_t *out, hdm_err *err);

#endif
