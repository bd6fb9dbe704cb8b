/*
 * ctc.h - greedy CTC decoding of the recognition model's output, as
 * hailo-apps' ocr_eval_postprocess does it: per time step the class with
 * the highest value (the first one on ties), repeats collapsed, class 0
 * (blank) dropped, the characters looked up in the 97-entry list below.
 * The confidence is the mean of the kept steps' highest values, the model's
 * output used as it is (the HEF ends in a softmax: probabilities), 0.0
 * when nothing is kept.  Library code: never logs; thread-safe.
 */
#ifndef HDM_OCRPOST_CTC_H
#define HDM_OCRPOST_CTC_H

#include <stddef.h>

#include "common/err.h"

/* Classes of the English recognition model: blank + 96 characters. */
#define OCR_CTC_CLASSES 97
/* Time steps of the 48 x 320 recognition models. */
#define OCR_CTC_STEPS 40

/*
 * The character of each class, from paddle_ocr_utils.CHARACTERS: index 0
 * is the blank ("blank" there, never emitted: NULL here), then
 * 0-9 : ; < = > ? @ A-Z [ \ ] ^ _ ` a-z { | } ~ ! " # $ % & ' ( ) * + , - . /
 * and two spaces (95 and 96 are both " ").  Single ASCII bytes.
 */
extern const char ocr_ctc_charset[OCR_CTC_CLASSES];

/*
 * Decodes one output of `steps` x `classes` float32 values (row-major, the
 * leading batch of 1 dropped by the caller) into text[text_size] (NUL
 * terminated; text_size >= steps + 1 always suffices) and *confidence.
 * The confidence is computed as numpy does it (a float32 pairwise sum,
 * divided in double, rounded to float32) so it is the original's value
 * exactly.  NaN follows numpy too (argmax picks the first NaN, the mean is
 * NaN).  classes must be 1..OCR_CTC_CLASSES (the original indexes its list
 * with the class: more classes would be an IndexError there), steps >= 1,
 * else -HDM_E_BAD_REQUEST; a text_size too small is -HDM_E_BAD_REQUEST.
 */
int ocr_ctc_decode(const float *probs, size_t steps, size_t classes, char *text, size_t text_size,
                   double *confidence, hdm_err *err);

#endif
