/*
 * posepost_internal.h - the pieces of the pose decoder that its files share
 * and its unit tests reach: numpy's argsort, the NMS, one proposal's decode.
 * Not a contract for services (posepost.h is).
 */
#ifndef HDM_POSEPOST_POSEPOST_INTERNAL_H
#define HDM_POSEPOST_POSEPOST_INTERNAL_H

#include <stddef.h>
#include <string.h>

#include "posepost/posepost.h"

/* Element i of a float32 tensor at any alignment. */
static inline float posepost_load(const unsigned char *p, size_t i)
{
    float f;
    memcpy(&f, p + i * sizeof(float), sizeof(f));
    return f;
}

/*
 * numpy's argsort(v) with the default kind ("quicksort": numpy's introsort
 * over indices, insertion sort below 16 elements, heapsort past the depth
 * limit, NaN last), written from numpy 1.24's npysort so that equal values
 * come out in the same order: idx[0..n) receives the ascending order.
 */
void posepost_argsort(const double *v, size_t n, size_t *idx);

/*
 * hailo-apps' nms() over boxes[n][4] (xmin, ymin, xmax, ymax) and scores[n]:
 * visits argsort(scores) reversed, suppresses j after i when the "+1 pixel"
 * IoU >= iou_threshold.  Sets keep[i] to 1 for survivors, 0 otherwise, and
 * returns their count.  `order` is scratch room for n indices.
 */
size_t posepost_nms(const double (*boxes)[4], const double *scores, size_t n,
                    double iou_threshold, size_t *order, unsigned char *keep);

/*
 * Decodes proposal `cell` of level `level` into *out (box through DFL,
 * keypoints, keypoint confidences; score copied).  Returns 0, or -1 when
 * its box is not finite.
 */
int posepost_decode_one(const posepost_heads *h, int level, size_t cell, posepost_person *out);

#endif
