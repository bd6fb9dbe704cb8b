/*
 * unclip.h - DB's "unclip": the detected text kernel grown back to the text
 * line by a round offset of its polygon, as PaddleOCR's DBPostProcess does
 * it with shapely (the distance) and pyclipper (the offset).
 *
 * Library code: never logs; thread-safe.
 */
#ifndef HDM_OCRPOST_UNCLIP_H
#define HDM_OCRPOST_UNCLIP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "common/err.h" /* a C header without C++ guards of its own */

/* Largest |coordinate| the offset accepts (Clipper works in integers). */
#define OCR_UNCLIP_MAX_COORD 1000000.0

/*
 * The offset distance of DBPostProcess.unclip: area * ratio / perimeter of
 * the closed polygon xy[2n] (float32 points taken as doubles), with the
 * area and the perimeter computed as GEOS does (shoelace relative to the
 * first x; segment lengths summed in order), so the double result is the
 * same bit for bit.  0.0 when the perimeter is 0 (shapely would give nan;
 * the caller then drops the box).
 */
double ocr_unclip_distance(const float *xy, size_t n, double ratio);

/*
 * Clipper 6.4's ClipperOffset (miter limit 2, arc tolerance 0.25) of the
 * closed polygon xy[2n] by `delta` with round joins (JT_ROUND,
 * ET_CLOSEDPOLYGON), as pyclipper.PyclipperOffset does: each float is
 * truncated towards zero to an integer on entry.  The points of every
 * resulting path, one path after another in Clipper's order, go into a
 * malloc'd array *out_xy of *out_n (x, y) pairs that the caller frees;
 * *out_paths is the number of paths (1 for any convex quadrilateral with an
 * area and delta > 0).  A coordinate that is not finite or beyond
 * OCR_UNCLIP_MAX_COORD is -HDM_E_BAD_REQUEST; no memory -HDM_E_NOMEM.
 */
int ocr_unclip_offset(const float *xy, size_t n, double delta, int32_t **out_xy, size_t *out_n,
                      size_t *out_paths, hdm_err *err);

#ifdef __cplusplus
}
#endif

#endif
