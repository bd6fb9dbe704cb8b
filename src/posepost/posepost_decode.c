/*
 * posepost_decode.c - YOLOv8-pose proposals to people: score filter,
 * top-k, DFL box and keypoint decoding, NMS.
 *
 * DESIGN: the original decodes all 8400 proposals with numpy and then keeps
 * those with score > conf.  Each proposal decodes on its own, so this file
 * first picks the candidates from the score maps alone, ranks them as the
 * original does (numpy's argsort, reversed, first max_detections) and
 * decodes only those: a few dozen softmaxes instead of 8400.
 *
 * The arithmetic follows numpy's types step by step (and the library is
 * built without FMA contraction):
 *  - DFL: softmax in float32 (expf, a float32 pairwise sum of the 16 bins,
 *    a float32 division), times the bin index in float64, summed in
 *    float64 (pairwise, 16 terms), times the stride; corners are
 *    centre -/+ distance, then through (x, y, w, h) and back to corners as
 *    the original's xywh2xyxy does, in float64;
 *  - keypoints: ((2x - 0.5) * stride) in float32, plus the float64 centre,
 *    rounded to float32; confidence 1 / (1 + exp(-v)) in float64;
 *  - the score is compared in float64 against the threshold, strictly.
 * One departure: numpy's softmax takes exp of the raw bins and turns into
 * NaN past |x| ~ 88; here bins that large are shifted by their maximum
 * first, which gives the mathematically right distribution instead.
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "posepost/posepost_internal.h"

#define DFL_BINS (POSEPOST_REG_MAX + 1)
#define EXP_SAFE 80.0f

int posepost_params_check(const posepost_params *p, hdm_err *err)
{
    if (p == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "no pose decoding parameters");
    if (!(p->conf_threshold > 0.0 && p->conf_threshold <= 1.0))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "confidence_threshold %g is outside (0, 1]: it must be above 0 "
                           "and at most 1",
                           p->conf_threshold);
    if (!(p->iou_threshold >= 0.0 && p->iou_threshold <= 1.0))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "iou_threshold %g is outside [0, 1]",
                           p->iou_threshold);
    if (p->max_detections < 1 || p->max_detections > POSEPOST_MAX_DETECTIONS)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "max_detections %d is outside 1..%d",
                           p->max_detections, POSEPOST_MAX_DETECTIONS);
    return 0;
}

/* numpy's pairwise sum of exactly 16 terms: 8 accumulators, then a tree. */
static inline float sum16f(const float *a)
{
    float r[8];
    for (int j = 0; j < 8; j++)
        r[j] = a[j] + a[j + 8];
    return ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
}

static inline double sum16d(const double *a)
{
    double r[8];
    for (int j = 0; j < 8; j++)
        r[j] = a[j] + a[j + 8];
    return ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
}

/* Expected bin of one side's 16 logits, times the stride. */
static double dfl_distance(const unsigned char *bins, int stride)
{
    float x[DFL_BINS], e[DFL_BINS];
    double weighted[DFL_BINS];
    float hi = posepost_load(bins, 0);
    for (int i = 0; i < DFL_BINS; i++) {
        x[i] = posepost_load(bins, (size_t)i);
        hi = x[i] > hi ? x[i] : hi;
    }
    float shift = (hi > EXP_SAFE || hi < -EXP_SAFE) ? hi : 0.0f;
    for (int i = 0; i < DFL_BINS; i++)
        e[i] = expf(x[i] - shift);
    float total = sum16f(e);
    for (int i = 0; i < DFL_BINS; i++)
        weighted[i] = (double)(e[i] / total) * (double)i;
    return sum16d(weighted) * (double)stride;
}

int posepost_decode_one(const posepost_heads *h, int level, size_t cell, posepost_person *out)
{
    const int s = posepost_strides[level];
    const size_t gw = (size_t)h->gw[level];
    const double cx = ((double)(cell % gw) + 0.5) * (double)s;
    const double cy = ((double)(cell / gw) + 0.5) * (double)s;
    const unsigned char *box = h->box[level] + cell * POSEPOST_BOX_CHANNELS * sizeof(float);
    const unsigned char *kpt = h->kpt[level] + cell * POSEPOST_KPT_CHANNELS * sizeof(float);

    double d[4];
    for (int side = 0; side < 4; side++)
        d[side] = dfl_distance(box + (size_t)side * DFL_BINS * sizeof(float), s);
    double xmin = cx + -d[0], ymin = cy + -d[1], xmax = cx + d[2], ymax = cy + d[3];
    /* decoder() keeps (x, y, w, h); non_max_suppression() turns it back. */
    double bx = (xmin + xmax) / 2.0, by = (ymin + ymax) / 2.0;
    double bw = xmax - xmin, bh = ymax - ymin;
    out->box[0] = bx - bw / 2.0;
    out->box[1] = by - bh / 2.0;
    out->box[2] = bx + bw / 2.0;
    out->box[3] = by + bh / 2.0;
    out->score = posepost_load(h->cls[level], cell);

    const float sf = (float)s;
    for (int k = 0; k < POSEPOST_KEYPOINTS; k++) {
        float x = posepost_load(kpt, (size_t)k * 3);
        float y = posepost_load(kpt, (size_t)k * 3 + 1);
        double v = (double)posepost_load(kpt, (size_t)k * 3 + 2);
        out->kpt[k][0] = (float)((double)((x * 2.0f - 0.5f) * sf) + cx);
        out->kpt[k][1] = (float)((double)((y * 2.0f - 0.5f) * sf) + cy);
        out->kpt_conf[k] = 1.0 / (1.0 + exp(-v));
    }
    for (int i = 0; i < 4; i++)
        if (!isfinite(out->box[i]))
            return -1;
    return 0;
}

void posepost_result_free(posepost_result *r)
{
    if (r == NULL)
        return;
    free(r->people);
    r->people = NULL;
    r->count = 0;
}

/* Level and cell of proposal p (levels in order 32, 16, 8, row-major). */
static void locate(const posepost_heads *h, size_t p, int *level, size_t *cell)
{
    int lv = 0;
    while (lv < POSEPOST_LEVELS - 1 && p >= (size_t)h->gh[lv] * (size_t)h->gw[lv]) {
        p -= (size_t)h->gh[lv] * (size_t)h->gw[lv];
        lv++;
    }
    *level = lv;
    *cell = p;
}

int posepost_decode(const posepost_heads *h, const posepost_params *p, posepost_result *out,
                    hdm_err *err)
{
    int rc = posepost_params_check(p, err);
    if (rc < 0)
        return rc;
    *out = (posepost_result){0};

    /* Candidates: score > conf, in proposal order. */
    size_t *cand = malloc(h->proposals * sizeof(*cand));
    double *cand_score = malloc(h->proposals * sizeof(*cand_score));
    size_t *order = malloc(h->proposals * sizeof(*order));
    posepost_person *top = NULL;
    double(*boxes)[4] = NULL;
    double *scores = NULL;
    unsigned char *keep = NULL;
    if (cand == NULL || cand_score == NULL || order == NULL)
        goto nomem;
    size_t n_cand = 0, p_index = 0;
    for (int lv = 0; lv < POSEPOST_LEVELS; lv++) {
        size_t cells = (size_t)h->gh[lv] * (size_t)h->gw[lv];
        for (size_t c = 0; c < cells; c++, p_index++) {
            double score = (double)posepost_load(h->cls[lv], c);
            if (score > p->conf_threshold) {
                cand[n_cand] = p_index;
                cand_score[n_cand++] = score;
            }
        }
    }

    /* x[x[:, 4].argsort()[::-1][:max_det]] */
    posepost_argsort(cand_score, n_cand, order);
    size_t k = n_cand < (size_t)p->max_detections ? n_cand : (size_t)p->max_detections;
    if (k == 0)
        goto done;
    top = malloc(k * sizeof(*top));
    boxes = malloc(k * sizeof(*boxes));
    scores = malloc(k * sizeof(*scores));
    keep = malloc(k);
    if (top == NULL || boxes == NULL || scores == NULL || keep == NULL)
        goto nomem;
    for (size_t i = 0; i < k; i++) {
        size_t ci = order[n_cand - 1 - i];
        int level;
        size_t cell;
        locate(h, cand[ci], &level, &cell);
        if (posepost_decode_one(h, level, cell, &top[i]) < 0) {
            /* It would survive NMS (NaN overlaps never suppress) and the
             * original's int() of it raises. */
            rc = hdm_err_set(err, HDM_E_DEVICE_ERROR,
                             "the pose model output gives proposal %zu a box that is not a "
                             "finite number",
                             cand[ci]);
            goto fail;
        }
        for (int j = 0; j < 4; j++)
            boxes[i][j] = top[i].box[j];
        scores[i] = (double)top[i].score;
    }

    posepost_nms((const double(*)[4])boxes, scores, k, p->iou_threshold, order, keep);
    size_t w = 0;
    for (size_t i = 0; i < k; i++) {
        if (!keep[i])
            continue;
        const posepost_person *pp = &top[i];
        bool bad = !isfinite(pp->score);
        for (int j = 0; j < POSEPOST_KEYPOINTS && !bad; j++)
            bad = isnan(pp->kpt[j][0]) || isnan(pp->kpt[j][1]) || isnan(pp->kpt_conf[j]);
        if (bad) {
            rc = hdm_err_set(err, HDM_E_DEVICE_ERROR,
                             "the pose model output gives a person a score or keypoint that "
                             "is not a number");
            goto fail;
        }
        top[w++] = *pp;
    }
    out->people = top;
    out->count = w;
    top = NULL;
done:
    rc = 0;
    goto cleanup;
nomem:
    rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory decoding poses");
fail:
cleanup:
    free(cand);
    free(cand_score);
    free(order);
    free(top);
    free(boxes);
    free(scores);
    free(keep);
    return rc;
}
