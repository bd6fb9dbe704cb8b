/*
 * posepost_nms.c - hailo-apps' greedy NMS with the "+1 pixel" IoU.
 *
 * DESIGN: the original sorts the (already best-first) scores again with
 * argsort and walks that order reversed, so among equal scores the later
 * one is visited first and may suppress the earlier; survivors are then
 * reported in their original (best-first) order.  Both steps are kept:
 * posepost_argsort gives numpy's order for ties.  The IoU is computed in
 * float64 in the original's order of operations: area = (x2 - x1 + 1) *
 * (y2 - y1 + 1), w = max(0, xx2 - xx1 + 1), inter / (area_i + area_j -
 * inter).
 */
#include "posepost/posepost_internal.h"

static inline double max_value(double a, double b)
{
    return a >= b ? a : b;
}

static inline double min_value(double a, double b)
{
    return a <= b ? a : b;
}

static inline double area(const double b[4])
{
    return (b[2] - b[0] + 1.0) * (b[3] - b[1] + 1.0);
}

size_t posepost_nms(const double (*boxes)[4], const double *scores, size_t n,
                    double iou_threshold, size_t *order, unsigned char *keep)
{
    posepost_argsort(scores, n, order);
    /* Walk the ascending order backwards: argsort(scores)[::-1]. */
    for (size_t i = 0; i < n / 2; i++) {
        size_t t = order[i];
        order[i] = order[n - 1 - i];
        order[n - 1 - i] = t;
    }
    for (size_t i = 0; i < n; i++)
        keep[i] = 1;
    for (size_t a = 0; a < n; a++) {
        size_t i = order[a];
        if (!keep[i])
            continue;
        const double *bi = boxes[i];
        double area_i = area(bi);
        for (size_t b = a + 1; b < n; b++) {
            size_t j = order[b];
            if (!keep[j])
                continue;
            const double *bj = boxes[j];
            double xx1 = max_value(bi[0], bj[0]);
            double yy1 = max_value(bi[1], bj[1]);
            double xx2 = min_value(bi[2], bj[2]);
            double yy2 = min_value(bi[3], bj[3]);
            double w = max_value(0.0, xx2 - xx1 + 1.0);
            double h = max_value(0.0, yy2 - yy1 + 1.0);
            double inter = w * h;
            double overlap = inter / (area_i + area(bj) - inter);
            if (overlap >= iou_threshold)
                keep[j] = 0;
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        kept += keep[i];
    return kept;
}
