/*
 * image_decode.c - format sniffing, limits and the per-decode CPU budget,
 * EXIF orientation after decoding, base64/data-URI input.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/base64.h"
#include "image/image_internal.h"

#define IMAGE_DEFAULT_MAX_SIDE 16384
#define IMAGE_DEFAULT_MAX_PIXELS 50000000ull
#define IMAGE_DEFAULT_MAX_BYTES (32u * 1024 * 1024)
/* A progressive JPEG from libjpeg's default script has 10 scans (6 for
 * grey); optimised encoders use a few more.  Each scan walks every block of
 * its components, so a file of thousands of tiny scans costs thousands of
 * decodes: 64 leaves six times the usual count and bounds the rest. */
#define IMAGE_DEFAULT_MAX_SCANS 64
/* A 49-Mpixel PNG takes about 0.4 s of CPU on the x86-64 build machine;
 * 5 s leaves room for slower cores (Raspberry Pi, qemu) and only stops
 * files that cost far more than their pixels. */
#define IMAGE_DEFAULT_MAX_CPU_MS 5000

void image_limits_defaults(image_limits *l)
{
    l->max_width = IMAGE_DEFAULT_MAX_SIDE;
    l->max_height = IMAGE_DEFAULT_MAX_SIDE;
    l->max_pixels = IMAGE_DEFAULT_MAX_PIXELS;
    l->max_bytes = IMAGE_DEFAULT_MAX_BYTES;
    l->max_scans = IMAGE_DEFAULT_MAX_SCANS;
    l->max_cpu_ms = IMAGE_DEFAULT_MAX_CPU_MS;
}

void image_decode_opts_defaults(image_decode_opts *o)
{
    memset(o, 0, sizeof(*o));
    image_limits_defaults(&o->limits);
}

void image_free(image *img)
{
    if (img == NULL)
        return;
    image_pixels_free(img->rgb);
    image_gate_leave(img->gate_slot);
    img->rgb = NULL;
    img->width = 0;
    img->height = 0;
    img->gate_slot = 0;
}

int64_t image_thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int image_budget_error(const image_job *job, const char *format, hdm_err *err)
{
    return hdm_err_set(err, HDM_E_TOO_LARGE,
                       "image (%s) needs more than the limit of %d ms of CPU time to decode",
                       format, job->o->limits.max_cpu_ms);
}

static int check_dims(const char *format, uint64_t width, uint64_t height,
                      const image_limits *lim, hdm_err *err)
{
    if (width == 0 || height == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s header gives an empty image (%llux%llu)",
                           format, (unsigned long long)width, (unsigned long long)height);
    if (width > (uint64_t)lim->max_width || height > (uint64_t)lim->max_height)
        return hdm_err_set(err, HDM_E_TOO_LARGE,
                           "image dimensions %llux%llu exceed the limit of %dx%d",
                           (unsigned long long)width, (unsigned long long)height, lim->max_width,
                           lim->max_height);
    if (width * height > lim->max_pixels)
        return hdm_err_set(err, HDM_E_TOO_LARGE,
                           "image of %llux%llu has %llu pixels, above the limit of %llu",
                           (unsigned long long)width, (unsigned long long)height,
                           (unsigned long long)(width * height),
                           (unsigned long long)lim->max_pixels);
    return 0;
}

int image_admit(image_job *job, const char *format, uint64_t width, uint64_t height,
                hdm_err *err)
{
    int r = check_dims(format, width, height, &job->o->limits, err);
    if (r < 0)
        return r;
    return image_gate_enter(width * height, &job->slot, err);
}

void image_job_release(image_job *job)
{
    image_gate_leave(job->slot);
    job->slot = 0;
}

/* Names a few formats we do not decode, so the error says what was sent. */
static const char *other_format(const uint8_t *d, size_t len)
{
    if (len >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0))
        return "GIF";
    if (len >= 2 && d[0] == 'B' && d[1] == 'M')
        return "BMP";
    if (len >= 4 && (memcmp(d, "II*\0", 4) == 0 || memcmp(d, "MM\0*", 4) == 0))
        return "TIFF";
    if (len >= 12 && memcmp(d + 4, "ftyp", 4) == 0)
        return "HEIF/AVIF";
    return NULL;
}

static int decode_sniffed(const uint8_t *data, size_t len, image_job *job, image *out,
                          hdm_err *err)
{
    if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        return image_decode_jpeg(data, len, job, out, err);
    if (len >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0)
        return image_decode_png(data, len, job, out, err);
    if (len >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
        return image_decode_webp(data, len, job, out, err);
    const char *other = other_format(data, len);
    if (other != NULL)
        return hdm_err_set(err, HDM_E_UNSUPPORTED,
                           "unsupported image format %s (send JPEG, PNG or WebP)", other);
    if (len < 12)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "image is too short (%zu bytes) to be JPEG, PNG or WebP", len);
    return hdm_err_set(err, HDM_E_UNSUPPORTED, "unsupported image format (not JPEG, PNG or WebP)");
}

int image_decode_with(const uint8_t *data, size_t len, const image_decode_opts *o, image *out,
                      hdm_err *err)
{
    image_decode_opts defaults;
    if (o == NULL) {
        image_decode_opts_defaults(&defaults);
        o = &defaults;
    }
    if (out == NULL)
        return hdm_err_set(err, HDM_E_INTERNAL, "image_decode: no output image");
    if (data == NULL || len == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "image is empty (0 bytes)");
    if (len > o->limits.max_bytes)
        return hdm_err_set(err, HDM_E_TOO_LARGE,
                           "encoded image of %zu bytes exceeds the limit of %zu bytes", len,
                           o->limits.max_bytes);
    image_job job = {.o = o};
    int64_t budget_ms = o->limits.max_cpu_ms > 0 ? o->limits.max_cpu_ms : INT32_MAX;
    job.cpu_deadline_ns = image_thread_cpu_ns() + budget_ms * 1000000;
    image img = {0};
    int r = decode_sniffed(data, len, &job, &img, err);
    if (r < 0)
        return r;
    if (o->exif_orientation && (r = image_orient(&img, job.orientation, err)) < 0) {
        image_free(&img);
        return r;
    }
    *out = img;
    return 0;
}

int image_decode(const uint8_t *data, size_t len, const image_limits *lim, int min_side,
                 image *out, hdm_err *err)
{
    image_decode_opts o;
    image_decode_opts_defaults(&o);
    if (lim != NULL)
        o.limits = *lim;
    o.min_side = min_side;
    return image_decode_with(data, len, &o, out, err);
}

/* Strips a data URI header: "data:image/png;base64," (media type must be
 * image/..., parameters allowed, ";base64" required). */
static int strip_data_uri(const char **b64, size_t *len, hdm_err *err)
{
    const char *s = *b64;
    size_t n = *len;
    if (n < 5 || strncasecmp(s, "data:", 5) != 0)
        return 0;
    const char *comma = memchr(s, ',', n);
    if (comma == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "data URI has no ',' before the data");
    size_t hlen = (size_t)(comma - s);
    const char *media = s + 5;
    size_t mlen = hlen - 5;
    if (mlen < 6 || strncasecmp(media, "image/", 6) != 0) {
        int shown = (int)(mlen < 40 ? mlen : 40);
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "data URI media type \"%.*s\" is not an image type (image/...)", shown,
                           media);
    }
    if (mlen < 7 || strncasecmp(media + mlen - 7, ";base64", 7) != 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "data URI is not base64-encoded (no ;base64)");
    *b64 = comma + 1;
    *len = n - hlen - 1;
    return 0;
}

/* Decodes base64 without whitespace, then the image. */
static int decode_compact(const char *b64, size_t len, const image_decode_opts *o, image *out,
                          hdm_err *err)
{
    int rc;
    if (len == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "image is empty (no base64 data)");
    if (base64_decoded_max(len) > o->limits.max_bytes + 3)
        return hdm_err_set(err, HDM_E_TOO_LARGE,
                           "encoded image of about %zu bytes exceeds the limit of %zu bytes",
                           base64_decoded_max(len), o->limits.max_bytes);
    uint8_t *raw = malloc(base64_decoded_max(len) + 1);
    if (raw == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory decoding base64 image");
    size_t bad = 0;
    long n = base64_decode(b64, len, raw, &bad);
    if (n < 0) {
        free(raw);
        if (bad < len)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "image is not valid base64 (bad character at offset %zu)", bad);
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "image is not valid base64 (bad length %zu)",
                           len);
    }
    rc = image_decode_with(raw, (size_t)n, o, out, err);
    free(raw);
    return rc;
}

int image_decode_base64_with(const char *b64, size_t len, const image_decode_opts *o,
                             image *out, hdm_err *err)
{
    image_decode_opts defaults;
    if (o == NULL) {
        image_decode_opts_defaults(&defaults);
        o = &defaults;
    }
    if (b64 == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "image is empty (no base64 data)");
    int rc = strip_data_uri(&b64, &len, err);
    if (rc < 0)
        return rc;
    /* Line-wrapped base64 (the base64 tool, MIME) was accepted by the
     * Python services these replace, so whitespace is dropped first. */
    char *compact = NULL;
    if (memchr(b64, '\n', len) != NULL || memchr(b64, ' ', len) != NULL ||
        memchr(b64, '\r', len) != NULL || memchr(b64, '\t', len) != NULL) {
        compact = malloc(len);
        if (compact == NULL)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory decoding base64 image");
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
            if (b64[i] != '\n' && b64[i] != '\r' && b64[i] != ' ' && b64[i] != '\t')
                compact[n++] = b64[i];
        b64 = compact;
        len = n;
    }
    rc = decode_compact(b64, len, o, out, err);
    free(compact);
    return rc;
}

int image_decode_base64(const char *b64, size_t len, const image_limits *lim, int min_side,
                        image *out, hdm_err *err)
{
    image_decode_opts o;
    image_decode_opts_defaults(&o);
    if (lim != NULL)
        o.limits = *lim;
    o.min_side = min_side;
    return image_decode_base64_with(b64, len, &o, out, err);
}
