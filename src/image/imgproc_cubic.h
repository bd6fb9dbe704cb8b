/*
 * imgproc_cubic.h - the C cubic resize behind imgproc.h's cubic functions,
 * and a way back to OpenCV's own cv::resize for the tests and benchmarks
 * that prove and measure it.  Internal to hdm_imgproc: services call
 * imgproc.h.
 *
 * Same buffer conventions and errors as imgproc.h (strides in bytes, 0 =
 * packed; 0 or -HDM_E_*).  Source and destination must not overlap.
 */
#ifndef HDM_IMAGE_IMGPROC_CUBIC_H
#define HDM_IMAGE_IMGPROC_CUBIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include <stdbool.h>

#include "common/err.h"

/*
 * Rows [y0, y1) of cv::resize(src, Size(dst_w, dst_h), 0, 0, INTER_CUBIC)
 * of a uint8 image with `channels` (1..4) interleaved channels, bit-identical
 * to OpenCV 4.6's, written to dst (dst points at row y0).  y0 == y1 writes
 * nothing.
 */
int imgproc_cubic_u8_rows(const uint8_t *src, int src_w, int src_h, size_t src_stride, int channels,
                          uint8_t *dst, int dst_w, int dst_h, size_t dst_stride, int y0, int y1,
                          hdm_err *err);

/*
 * Whether the uint8 horizontal pass may use its AVX2 version on a CPU that
 * has it (the default, true).  For the tests: with false the baseline
 * SSE2/scalar pass runs, so both are compared with OpenCV on one machine.
 * Affects resizes started afterwards, in every thread.
 */
void imgproc_cubic_allow_avx2(bool allow);

/*
 * OpenCV's cv::resize(INTER_CUBIC) itself on the same buffers (imgproc.cpp),
 * kept so the tests can compare the C code with it and the benchmarks can
 * time both.  Same arguments and checks as imgproc_resize_cubic_u8/_f32.
 */
int imgproc_cv_resize_cubic_u8(const uint8_t *src, int src_w, int src_h, size_t src_stride,
                               int channels, uint8_t *dst, int dst_w, int dst_h, size_t dst_stride,
                               hdm_err *err);
int imgproc_cv_resize_cubic_f32(const float *src, int src_w, int src_h, size_t src_stride,
                                float *dst, int dst_w, int dst_h, size_t dst_stride, hdm_err *err);

#ifdef __cplusplus
}
#endif

#endif
