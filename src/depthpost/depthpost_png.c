/*
 * depthpost_png.c - the original's depth_image (colormapped RGB PNG) and
 * depth_png_16 (16-bit greyscale PNG).
 *
 * DESIGN: both start with _normalize_depth on the map; here the
 * normalisation happens row by row inside the PNG encoder's row callback,
 * with the same float32 formula, so neither a normalised copy nor an RGB
 * image of the whole map is ever made.
 */
#include <math.h>
#include <stdlib.h>

#include "depthpost/depthpost.h"
#include "image/image_encode.h"

typedef struct norm_rows {
    const float *map;
    int width;
    float lo, range;
    bool scale; /* max - min > 0: normalise, else the values as they are */
    const depthpost_colormap *cm;
    float *tmp; /* one row of normalised values */
} norm_rows;

static int check_map(const float *map, int height, int width, hdm_err *err)
{
    if (map == NULL || height < 1 || width < 1 ||
        (size_t)height * (size_t)width > DEPTHPOST_MAX_ELEMENTS)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "cannot encode a %dx%d depth map", width,
                           height);
    return 0;
}

static void norm_init(norm_rows *r, const float *map, int height, int width)
{
    float hi;
    r->map = map;
    r->width = width;
    depthpost_minmax(map, (size_t)height * (size_t)width, &r->lo, &hi);
    r->range = hi - r->lo;
    r->scale = r->range > 0.0f;
}

static inline float norm_value(const norm_rows *r, float d)
{
    return r->scale ? (d - r->lo) / r->range : d;
}

static int color_row(void *ctx, int y, void *row, hdm_err *err)
{
    (void)err;
    norm_rows *r = ctx;
    const float *src = r->map + (size_t)y * (size_t)r->width;
    for (int x = 0; x < r->width; x++)
        r->tmp[x] = norm_value(r, src[x]);
    depthpost_colormap_apply(r->cm, r->tmp, (size_t)r->width, row);
    return 0;
}

int depthpost_png_color(const float *map, int height, int width, const depthpost_colormap *cm,
                        int level, buf *out, hdm_err *err)
{
    int rc = check_map(map, height, width, err);
    if (rc < 0)
        return rc;
    if (cm == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "no colormap for the depth image");
    norm_rows r = {.cm = cm};
    norm_init(&r, map, height, width);
    r.tmp = malloc((size_t)width * sizeof(float));
    if (r.tmp == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory colouring the depth map");
    rc = image_encode_png_rows(width, height, IMAGE_PNG_RGB8, level, color_row, &r, out, err);
    free(r.tmp);
    return rc;
}

/* float -> uint16 as (v * 65535).astype(uint16) for 0..65535, saturating
 * outside it (numpy's cast is undefined there) and 0 for NaN. */
static inline uint16_t to_u16(float v)
{
    float s = v * 65535.0f;
    if (!(s > 0.0f))
        return 0;
    if (s >= 65535.0f)
        return 65535;
    return (uint16_t)s;
}

static int grey16_row(void *ctx, int y, void *row, hdm_err *err)
{
    (void)err;
    norm_rows *r = ctx;
    const float *src = r->map + (size_t)y * (size_t)r->width;
    uint16_t *dst = row;
    for (int x = 0; x < r->width; x++)
        dst[x] = to_u16(norm_value(r, src[x]));
    return 0;
}

int depthpost_png16(const float *map, int height, int width, int level, buf *out, hdm_err *err)
{
    int rc = check_map(map, height, width, err);
    if (rc < 0)
        return rc;
    norm_rows r = {0};
    norm_init(&r, map, height, width);
    return image_encode_png_rows(width, height, IMAGE_PNG_GREY16, level, grey16_row, &r, out,
                                 err);
}
