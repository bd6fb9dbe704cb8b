/*
 * depthpost.h - hailo-depth's post-processing (ORIGINAL-SERVICES.md §3.5,
 * §3.6): the depth map out of the model's output tensor, min-max
 * normalisation, the optional logit-to-metres transform, the statistics,
 * and the three encodings the service returns (a .npz numpy.load reads, a
 * colormapped RGB PNG, a 16-bit greyscale PNG).
 *
 * Numerically the original's: float32 arithmetic where numpy computes in
 * float32, float64 where it promotes, the same rounding and truncation.
 * Maps are H x W float32, C order, owned by the caller; nothing here copies
 * a whole map (the encoders derive each row on the fly).
 *
 * One request, in order (the map resize in between is image's Pillow float
 * bilinear):
 *     depthpost_extract(output tensor)            -> model-size map
 *     [depthpost_transform(map)]                  optional: metres, §3.6
 *     resize to the input image size
 *     [depthpost_normalize(map)]                  when normalize is true
 *     depthpost_stats(map)                        when include_stats
 *     depthpost_npz(map) / depthpost_png_color(map, colormap) /
 *     depthpost_png16(map)                        per output_format
 *
 * Library code: never logs; errors are hdm_err sentences.
 */
#ifndef HDM_DEPTHPOST_DEPTHPOST_H
#define HDM_DEPTHPOST_DEPTHPOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "hailodm.h"

/* Largest map (elements) the statistics and the .npz accept: the .npz stays
 * a plain (not zip64) archive and counts fit 32 bits. */
#define DEPTHPOST_MAX_ELEMENTS ((size_t)1 << 28)

/* .npz compression (depthpost_npz's `level`, besides zlib's 1..9). */
#define DEPTHPOST_NPZ_STORED 0      /* no compression, as np.savez */
#define DEPTHPOST_NPZ_FAST (-1)     /* deflate with Huffman coding only: for float maps as
                                       small as level 6 (within 0.5%), about 4x faster */
#define DEPTHPOST_NPZ_LEVEL_NUMPY 6 /* what np.savez_compressed uses (zipfile's default) */

/* ---- the map (depthpost_map.c) --------------------------------------------- */

/*
 * The 2-D map inside a model output, as the original's
 * _extract_depth_output: size-1 dimensions are dropped; a 2-D result is the
 * map; a 3-D one is [0] when its first dimension is 3, else [:, :, 0];
 * anything else is an error.  The tensor must be float32 (the manager's
 * dense outputs are).  On success *out is a new malloc'd H x W copy (the
 * caller frees it) and *height, *width its size.  Returns 0,
 * -HDM_E_DEVICE_ERROR naming the shape or dtype the model returned, or
 * -HDM_E_NOMEM.
 */
int depthpost_extract(const hdm_tensor *t, float **out, int *height, int *width, hdm_err *err);

/* The map's minimum and maximum as numpy's min()/max() give them: NaN when
 * the map holds a NaN.  n == 0 gives NaN for both. */
void depthpost_minmax(const float *map, size_t n, float *min, float *max);

/*
 * The original's _normalize_depth in place: (d - min) / (max - min) in
 * float32 when max - min > 0, else the map is left as it is (a constant map,
 * or one holding NaN).  Returns true when the map was changed.
 */
bool depthpost_normalize(float *map, size_t n);

/*
 * The real depth of §3.6, in place: scdepthv3 outputs a logit x and
 * hailo-apps' depth_estimation.cpp turns it into metres as
 * 1 / (sigmoid(x) * 10 + 0.009), with sigmoid in float32 and the last step
 * in double as xtensor promotes it.  Off by default in the service (the
 * original keeps logits).
 */
void depthpost_transform(float *map, size_t n);

/* ---- statistics (depthpost_stats.c) ------------------------------------------- */

/* The original's `stats`, each exactly the value Python's float() of the
 * numpy result holds (print with a shortest-repr printer to match). */
typedef struct depthpost_stats {
    double min;  /* of the values <= p95 */
    double max;  /* of the values <= p95, so never above p95 */
    double mean; /* of the values <= p95, float32 as numpy's mean computes it */
    double p95;  /* np.percentile(map, 95), numpy's default (linear) method */
} depthpost_stats;

/*
 * Computes the statistics of map[0..n) without copying or reordering it.
 * Returns 0; -HDM_E_BAD_REQUEST for an empty map or one above
 * DEPTHPOST_MAX_ELEMENTS; -HDM_E_DEVICE_ERROR when the map holds NaN or the
 * percentile is not a number (where the original fails with a 500);
 * -HDM_E_NOMEM.
 */
int depthpost_stats_compute(const float *map, size_t n, depthpost_stats *out, hdm_err *err);

/* ---- colormaps (depthpost_colormap.c) ------------------------------------------ */

typedef struct depthpost_colormap depthpost_colormap;

/* The names the service offers, in the original's order, NULL-terminated:
 * viridis, plasma, magma, turbo, jet. */
extern const char *const depthpost_colormap_names[];

/* The colormap called `name` (exact, case-sensitive, as matplotlib), or
 * NULL when there is none. */
const depthpost_colormap *depthpost_colormap_find(const char *name);

/*
 * Colours n values already in matplotlib's 0..1 scale into rgb[0..3n), as
 * (cmap(v)[:3] * 255).astype(uint8): row int(v * 256), v == 1.0 -> row 255,
 * above 1 row 255, below 0 row 0, NaN black.
 */
void depthpost_colormap_apply(const depthpost_colormap *cm, const float *v, size_t n,
                              uint8_t *rgb);

/* ---- encodings (depthpost_npz.c, depthpost_png.c) ------------------------------- */

/*
 * Appends to `out` a .npz holding one member, depth.npy: the H x W float32
 * map with the .npy header numpy 1.24's np.save writes, byte for byte.
 * `level` is DEPTHPOST_NPZ_STORED, DEPTHPOST_NPZ_FAST or a zlib level 1..9
 * (np.savez_compressed uses DEPTHPOST_NPZ_LEVEL_NUMPY); numpy.load reads
 * them all alike.  Returns 0, -HDM_E_BAD_REQUEST (bad size or level),
 * -HDM_E_NOMEM; on failure `out` keeps its old length.
 */
int depthpost_npz(const float *map, int height, int width, int level, buf *out, hdm_err *err);

/*
 * Appends the original's depth_image: the map min-max normalised (as
 * depthpost_normalize, computed per row, the map is not changed), coloured
 * through `cm`, as an 8-bit RGB PNG (`level` as image_encode_png_rows:
 * 1 is fast, -1 is zlib's 6 as Pillow).  Returns 0 or a negative HDM_E_*
 * code; on failure `out` is unchanged.
 */
int depthpost_png_color(const float *map, int height, int width, const depthpost_colormap *cm,
                        int level, buf *out, hdm_err *err);

/*
 * Appends the original's depth_png_16: the map min-max normalised, times
 * 65535 in float32, truncated to uint16, as a 16-bit greyscale PNG.  Values
 * outside 0..65535 (a constant map outside 0..1 is not normalised) saturate
 * and NaN gives 0: there numpy's cast is undefined and differs by platform.
 */
int depthpost_png16(const float *map, int height, int width, int level, buf *out, hdm_err *err);

#endif
