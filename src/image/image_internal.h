/*
 * image_internal.h - what the per-format decoders behind image_decode_with()
 * share (not a contract for services: they use image.h).
 *
 * Each decoder gets data already sniffed as its format and within the byte
 * limit.  It reads the header, calls image_admit() (dimensions against the
 * limits, then a slot of the decode gate) before allocating any pixels,
 * checks image_over_budget() while it works, and fills *out only on success
 * (out->gate_slot then owns the slot; on failure the decoder releases it).
 */
#ifndef HDM_IMAGE_IMAGE_INTERNAL_H
#define HDM_IMAGE_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "image/image.h"

/* One decode in progress. */
typedef struct image_job {
    const image_decode_opts *o;
    int64_t cpu_deadline_ns;  /* this thread's CPU clock at which we give up */
    int slot;                 /* gate slot taken by image_admit (0: none yet) */
    int orientation;          /* EXIF Orientation found (1..8), 0 when none or not asked */
} image_job;

int image_decode_jpeg(const uint8_t *data, size_t len, image_job *job, image *out, hdm_err *err);
int image_decode_png(const uint8_t *data, size_t len, image_job *job, image *out, hdm_err *err);
int image_decode_webp(const uint8_t *data, size_t len, image_job *job, image *out, hdm_err *err);

/*
 * Checks width x height (from a header) against the limits (TOO_LARGE, or
 * BAD_REQUEST for a zero dimension, with a sentence naming the format),
 * then takes a gate slot into job->slot (BUSY when none frees in time).
 */
int image_admit(image_job *job, const char *format, uint64_t width, uint64_t height,
                hdm_err *err);
/* Gives job->slot back (when a decode fails after image_admit). */
void image_job_release(image_job *job);
/* A decoded image's pixel buffer (the kept one when it fits), and its
 * release (kept for the next when image_pixels_keep allows).  Plain malloc
 * memory either way.  image_pixels.c. */
uint8_t *image_pixels_alloc(size_t bytes);
void image_pixels_free(uint8_t *p);

/* This thread's CPU time in nanoseconds. */
int64_t image_thread_cpu_ns(void);
/* True once the decode has used its max_cpu_ms. */
static inline bool image_over_budget(const image_job *job)
{
    return image_thread_cpu_ns() > job->cpu_deadline_ns;
}
/* The TOO_LARGE sentence for a decode stopped by its CPU budget. */
int image_budget_error(const image_job *job, const char *format, hdm_err *err);

/* ---- image_gate.c ---- */

/* Waits for a slot for a decode of `pixels` source pixels: *slot becomes
 * 1 (ordinary) or 2 (large).  0, or -HDM_E_BUSY with err set. */
int image_gate_enter(uint64_t pixels, int *slot, hdm_err *err);
/* Gives a slot back (0 is ignored). */
void image_gate_leave(int slot);

/* ---- image_exif.c ---- */

/*
 * The Orientation tag (0x0112) of IFD0 in a TIFF-structured EXIF block
 * (starting at the byte-order mark), read as OpenCV's ExifReader does:
 * the first such entry, its 16-bit value, whatever the field type.
 * Returns 1..8, or 0 when the block is malformed or has no valid tag.
 * Reads only inside [tiff, tiff + len).
 */
int image_exif_orientation(const uint8_t *tiff, size_t len);
/* Applies an EXIF orientation (2..8; others leave the image alone) by
 * flips and a transpose, as OpenCV's ApplyExifOrientation does.  0 or
 * -HDM_E_NOMEM (the image is then unchanged). */
int image_orient(image *img, int orientation, hdm_err *err);

#endif
