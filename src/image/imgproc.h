/*
 * imgproc.h - OpenCV imgproc (Debian libopencv-imgproc 4.6) on plain C
 * buffers: the resampling and geometry the OCR and pose pipelines share with
 * their Python originals, bit for bit (the originals call these same OpenCV
 * functions through cv2).
 *
 * Buffers are row-major with an explicit row stride in bytes (a stride of 0
 * means tightly packed: width * channels * element size).  uint8 images are
 * interleaved (RGB when the caller's image is RGB: nothing here depends on
 * the channel order).  Coordinates are pixels, x to the right, y down.
 *
 * Every function returns 0 or a negative HDM_E_* code and, on failure, an
 * hdm_err sentence: HDM_E_BAD_REQUEST for bad arguments (named),
 * HDM_E_NOMEM when memory runs out, HDM_E_INTERNAL when OpenCV itself
 * refuses (its message is kept).  No C++ exception ever leaves these
 * functions.  Outputs are untouched on failure unless said otherwise.
 * Library code: never logs; thread-safe (no shared state).
 *
 * The cubic resizes (imgproc_resize_cubic_*, imgproc_letterbox_u8) are our
 * own C (imgproc_cubic.c), proven bit-identical to OpenCV 4.6's
 * cv::resize(INTER_CUBIC) on x86-64 and arm64 and several times faster.
 * The whole-image ones split an output of 256 KB or more into bands of
 * rows run on OpenCV's worker threads (imgproc_parallel_for, so as many as
 * imgproc_set_threads allows; the caller's thread alone inside another
 * parallel loop); the bytes do not depend on the split.  Everything else
 * calls OpenCV.
 */
#ifndef HDM_IMAGE_IMGPROC_H
#define HDM_IMAGE_IMGPROC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "common/err.h" /* a C header without C++ guards of its own */

/*
 * How many threads OpenCV may use inside one call (cv::setNumThreads, a
 * process-wide setting): 1 keeps each call on its caller's thread, which
 * suits a service that already runs requests side by side; 0 or less lets
 * OpenCV choose (its default: all cores).  Results do not depend on it.
 */
void imgproc_set_threads(int n);
/* How many threads imgproc_parallel_for may use now (1: the caller's alone). */
int imgproc_threads(void);

/*
 * Runs fn(user, begin, end) over the index range [0, n), split into
 * disjoint sub-ranges run on OpenCV's worker threads (cv::parallel_for_):
 * as many as imgproc_set_threads allows, the caller's thread alone when
 * that is 1 or when called from inside another parallel region (OpenCV
 * does not nest).  A service uses it to spread independent per-item work
 * (one crop per index) over the cores OpenCV's own calls use.  fn is C and
 * must not unwind.  Returns 0, or -HDM_E_INTERNAL when OpenCV could not run
 * the loop; some sub-ranges may have run then, so fn must tolerate running
 * an index again (write its own outputs only).
 */
int imgproc_parallel_for(size_t n, void (*fn)(void *user, size_t begin, size_t end), void *user,
                         hdm_err *err);

/* Largest width or height these functions accept (OpenCV's own limit is
 * INT_MAX; this keeps every byte count far from overflowing). */
#define IMGPROC_MAX_SIDE 65536

/*
 * Where a letterboxed image sits: the source scaled by `scale` to
 * new_w x new_h, at (x_off, y_off) on the destination canvas.
 */
typedef struct imgproc_letterbox {
    double scale;     /* min(dst_w / src_w, dst_h / src_h), in double */
    int new_w, new_h; /* int(src * scale): truncated, may be 0 for a thin source */
    int x_off, y_off; /* (dst - new) // 2; the remainder goes right and below */
} imgproc_letterbox;

/*
 * The letterbox geometry exactly as hailo-apps computes it in Python
 * (resize_with_padding, default_preprocess, resize_heatmap_to_original):
 * scale = min(dst_w / src_w, dst_h / src_h); new = int(src * scale);
 * off = (dst - new) // 2.  All sizes must be >= 1 (else
 * -HDM_E_BAD_REQUEST); new_w or new_h may come out 0, which
 * imgproc_letterbox_u8 refuses.
 */
int imgproc_letterbox_geometry(int src_w, int src_h, int dst_w, int dst_h, imgproc_letterbox *out,
                               hdm_err *err);

/*
 * cv::resize(INTER_CUBIC) of a uint8 image with `channels` (1..4)
 * interleaved channels from src_w x src_h to dst_w x dst_h (OpenCV's
 * bicubic, a = -0.75, not antialiased, 11-bit fixed point for uint8).
 */
int imgproc_resize_cubic_u8(const uint8_t *src, int src_w, int src_h, size_t src_stride,
                            int channels, uint8_t *dst, int dst_w, int dst_h, size_t dst_stride,
                            hdm_err *err);

/* cv::resize(INTER_CUBIC) of a single-channel float32 image. */
int imgproc_resize_cubic_f32(const float *src, int src_w, int src_h, size_t src_stride, float *dst,
                             int dst_w, int dst_h, size_t dst_stride, hdm_err *err);

/* Rows [y0, y1) of cv::resize(src, Size(dst_w, dst_h), 0, 0, INTER_CUBIC) of a
 * single-channel float32 image (src_stride, dst_stride in bytes; 0 = packed),
 * bit-identical to OpenCV's, written to dst (dst points at row y0).  0 or -HDM_E_*.
 * Any split of [0, dst_h) into bands gives the rows of the whole resize; a
 * band costs its own rows plus up to three source rows of overlap, so a
 * caller can produce a large map a band at a time.  y0 == y1 writes
 * nothing; dst must not overlap src.  Runs on the caller's thread (plain C,
 * imgproc_set_threads does not apply). */
int imgproc_resize_cubic_f32_rows(const float *src, int src_w, int src_h, size_t src_stride,
                                  float *dst, int dst_w, int dst_h, size_t dst_stride, int y0,
                                  int y1, hdm_err *err);

/*
 * Letterboxes a uint8 image into dst (dst_w x dst_h x channels, packed):
 * resizes it with INTER_CUBIC to geom->new_w x geom->new_h, places it at
 * (geom->x_off, geom->y_off) and fills the rest with `pad` on every channel,
 * which is what cv2.copyMakeBorder(BORDER_CONSTANT) and the canvas of
 * default_preprocess give.  geom normally comes from
 * imgproc_letterbox_geometry; a geometry that does not fit inside dst, or a
 * new size of 0, is -HDM_E_BAD_REQUEST.
 */
int imgproc_letterbox_u8(const uint8_t *src, int src_w, int src_h, size_t src_stride, int channels,
                         const imgproc_letterbox *geom, uint8_t pad, uint8_t *dst, int dst_w,
                         int dst_h, hdm_err *err);

/*
 * cv::getPerspectiveTransform: the 3x3 matrix m (row-major) mapping the four
 * points src[0..7] (x0,y0,...,x3,y3, float32 as cv2 gets them) onto dst.
 * Degenerate points give what OpenCV gives (its LU solve then returns a zero
 * matrix), not an error.
 */
int imgproc_perspective_transform(const float src[8], const float dst[8], double m[9],
                                  hdm_err *err);

/*
 * cv::warpPerspective(src, m, (dst_w, dst_h), INTER_LINEAR, BORDER_CONSTANT
 * 0) of a uint8 image with `channels` channels into dst (packed).  m maps
 * source to destination (it is inverted inside, as OpenCV does without
 * WARP_INVERSE_MAP).  dst_w and dst_h must be >= 1 (cv2 silently uses the
 * source size for a 0 size; callers that need that do it themselves).
 */
int imgproc_warp_perspective_u8(const uint8_t *src, int src_w, int src_h, size_t src_stride,
                                int channels, const double m[9], uint8_t *dst, int dst_w, int dst_h,
                                hdm_err *err);

/* The contours of a binary image, in OpenCV's order. */
typedef struct imgproc_contours {
    size_t count;  /* number of contours */
    size_t *start; /* count + 1 offsets: contour i is points start[i] .. start[i+1]-1 */
    int32_t *xy;   /* x, y pairs of every point, contour after contour */
} imgproc_contours;

/*
 * cv::findContours(mask, RETR_LIST, CHAIN_APPROX_SIMPLE) of a uint8 image
 * (non-zero pixels are the foreground).  The contours go into *out, which
 * the caller frees with imgproc_contours_free (also on failure, where it is
 * left empty).
 */
int imgproc_find_contours(const uint8_t *mask, int w, int h, size_t stride, imgproc_contours *out,
                          hdm_err *err);
/*
 * imgproc_find_contours without the bordered copy cv::findContours makes of
 * its input (a w+2 x h+2 byte buffer, 2 MB for a 1920x1080 map): `framed`
 * is that buffer already, (w + 2) x (h + 2) bytes, packed, the w x h mask
 * in its interior at (1, 1) and a one-pixel frame around it (zeroed here).
 * The same OpenCV border following on the same bytes with the same offset,
 * so the same contours, in the inner image's coordinates.  OpenCV turns the
 * buffer into 0/1 in place: its contents are not kept.
 */
int imgproc_find_contours_framed(uint8_t *framed, int w, int h, imgproc_contours *out,
                                 hdm_err *err);
/* Frees what imgproc_find_contours allocated and empties *c; accepts NULL. */
void imgproc_contours_free(imgproc_contours *c);

/* cv::RotatedRect, as cv::minAreaRect returns it (float32 fields). */
typedef struct imgproc_rotated_rect {
    float cx, cy; /* centre */
    float w, h;   /* side lengths */
    float angle;  /* degrees, OpenCV 4.5+ convention (0, 90] */
} imgproc_rotated_rect;

/* cv::minAreaRect of n integer points xy[2n] (n == 0 gives a zero rect). */
int imgproc_min_area_rect_i32(const int32_t *xy, size_t n, imgproc_rotated_rect *out, hdm_err *err);
/* cv::boxPoints: the four corners (float32 x, y pairs) of a rotated rect, in
 * OpenCV's order. */
int imgproc_box_points(const imgproc_rotated_rect *r, float xy[8], hdm_err *err);

/*
 * cv::fillPoly of one polygon (n integer points xy[2n], 8-connected edges,
 * no shift) with `value` on a single-channel uint8 image; parts outside the
 * image are clipped.
 */
int imgproc_fill_poly_u8(uint8_t *img, int w, int h, size_t stride, const int32_t *xy, size_t n,
                         uint8_t value, hdm_err *err);

/*
 * cv::mean(src, mask)[0] of a single-channel float32 image over the pixels
 * where the uint8 mask (same size) is non-zero; 0.0 when there are none.
 */
int imgproc_mean_masked_f32(const float *src, int w, int h, size_t src_stride, const uint8_t *mask,
                            size_t mask_stride, double *mean, hdm_err *err);

#ifdef __cplusplus
}
#endif

#endif
