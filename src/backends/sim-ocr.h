/*
 * sim-ocr.h - the simulated PaddleOCR networks (sim-ocr.c), behind the
 * ocr model of the sim backend (backend-sim-models.c calls these).
 *
 * Both work on what the real networks get, uint8 RGB in HWC order, and
 * answer in the real networks' value domains: the detection map is a
 * probability per pixel (the DB head ends in a sigmoid), the recognition
 * output one probability distribution over the 97 classes per time step
 * (the recognition HEF ends in a softmax).  Both are pure functions of
 * their input; thread-safe.
 */
#ifndef HDM_BACKENDS_SIM_OCR_H
#define HDM_BACKENDS_SIM_OCR_H

#include <stdint.h>

/* The recognition output: time steps x classes (as SIM_OCR_REC_* say). */
#define SIM_OCR_STEPS 40
#define SIM_OCR_CLASSES 97

/*
 * The detection network: prob[h * w] receives, for the h x w image rgb, a
 * probability map in which runs of dark strokes on a lighter background
 * (text lines) are blobs of about 0.95, shrunk vertically as DB's text
 * kernels are, on a background of about 0.02.  The letterbox padding
 * (exactly grey 128) is never text.  Returns 0, or -1 when out of memory.
 */
int sim_ocr_detect(const uint8_t *rgb, int h, int w, float *prob);

/*
 * The recognition network for one crop (h x w RGB, normally 48 x 320):
 * probs[SIM_OCR_STEPS * SIM_OCR_CLASSES] receives per time step a
 * distribution (non-negative, summing to 1) whose greedy CTC decoding is
 * one character per dark glyph of the crop, left to right, a space where
 * glyphs are a word apart, and nothing for a blank crop.  The character of
 * a glyph follows from its coarse shape and `lang`, so the same glyphs read
 * the same way and different ones differently; `seed` (the model's) only
 * moves the small probabilities.  The winning probability is 0.82 to 0.98.
 */
void sim_ocr_recognize(const uint8_t *rgb, int h, int w, uint64_t seed, const char *lang,
                       float *probs);

#endif
