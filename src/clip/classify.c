/*
 * classify.c - the maths of /v1/classify: cosine scores, softmax with the
 * logit scale, ranking, top_k and threshold, and the checks of those
 * request fields.  Pure functions, unit-tested on their own.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clip/clip.h"

double clip_cosine(const float *a, const float *b, int dim)
{
    double dot = 0, aa = 0, bb = 0;
    for (int i = 0; i < dim; i++) {
        dot += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    /* The original's formula, epsilon included (the vectors are unit
     * length, so this is their dot product to 1e-8). */
    return dot / (sqrt(aa) * sqrt(bb) + 1e-8);
}

void clip_softmax(double *scores, int n, double logit_scale)
{
    if (n <= 0)
        return;
    /* Subtracting the maximum keeps exp() finite for any scale. */
    double max = logit_scale * scores[0];
    for (int i = 1; i < n; i++)
        if (logit_scale * scores[i] > max)
            max = logit_scale * scores[i];
    double sum = 0;
    for (int i = 0; i < n; i++) {
        scores[i] = exp(logit_scale * scores[i] - max);
        sum += scores[i];
    }
    for (int i = 0; i < n; i++)
        scores[i] /= sum;
}

void clip_scores_finish(double *scores, int n, bool apply_softmax, double logit_scale)
{
    /* The original applies softmax only over two or more prompts: one
     * prompt keeps its raw cosine, so a threshold can judge it. */
    if (apply_softmax && n > 1)
        clip_softmax(scores, n, logit_scale);
}

static int by_score_desc(const void *pa, const void *pb)
{
    const clip_score *a = pa, *b = pb;
    if (a->score > b->score)
        return -1;
    if (a->score < b->score)
        return 1;
    return a->index - b->index;
}

int clip_rank(const double *scores, int n, int top_k, double threshold, clip_score *out)
{
    if (n <= 0 || top_k <= 0)
        return 0;
    for (int i = 0; i < n; i++) {
        out[i].index = i;
        out[i].score = scores[i];
    }
    qsort(out, (size_t)n, sizeof(*out), by_score_desc);
    int keep = top_k < n ? top_k : n;
    int kept = 0;
    for (int i = 0; i < keep; i++) {
        if (!(out[i].score >= threshold))
            break; /* sorted: everything after is lower too */
        out[i].rank = i + 1;
        kept++;
    }
    return kept;
}

/*
 * top_k and threshold take what the original accepted, where that was sane.
 * The original did `top_k = min(body.get("top_k", 3), len(prompts))`,
 * `results[:top_k]` and `score >= threshold` on numpy floats; what each
 * kind of value did there, and what we do:
 *
 *   top_k  integer >= 1 ............ capped at the prompts        (same)
 *          0, false ................ no classifications           (same)
 *          true .................... 1                            (same: bool is an int)
 *          above the prompts, also
 *          fractional or huge ...... capped at the prompts        (same: min() gives the int)
 *          whole number as 2.0 ..... as 2                         (there: a crash unless above
 *                                                                   the prompts; cJSON cannot
 *                                                                   tell 2.0 from 2)
 *          fractional below ........ 400                          (there: a crash, 500)
 *          negative ................ 400                          (there: results[:-k] dropped
 *                                                                   the k last: nonsense)
 *          string, null, list, object 400                         (there: a crash, 500)
 *   threshold any number, also < 0,
 *          > 1 or +-1e999 .......... compared as is               (same; a lone prompt's raw
 *                                                                   cosine can be negative)
 *          true / false ............ 1 / 0                        (same)
 *          string, null, object .... 400                          (there: a crash, 500)
 *          list .................... 400                          (there: numpy broadcasting:
 *                                                                   [x] acted as x, [] matched
 *                                                                   nothing, longer crashed)
 */
static int top_k_option(const cJSON *tk, int n, int *out, hdm_err *err)
{
    if (!tk) {
        *out = 3 < n ? 3 : n;
        return 0;
    }
    if (cJSON_IsBool(tk)) {
        *out = cJSON_IsTrue(tk) ? 1 : 0;
        return 0;
    }
    if (!cJSON_IsNumber(tk))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "top_k must be a number (an integer count)");
    double v = tk->valuedouble;
    if (v > n) {
        *out = n;
        return 0;
    }
    if (v < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "top_k must not be negative");
    if (v != floor(v))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "top_k %g is not a whole number (below the %d prompts)", v, n);
    *out = (int)v;
    return 0;
}

static int threshold_option(const cJSON *t, double *out, hdm_err *err)
{
    if (!t) {
        *out = 0.0;
        return 0;
    }
    if (cJSON_IsBool(t)) {
        *out = cJSON_IsTrue(t) ? 1.0 : 0.0;
        return 0;
    }
    if (!cJSON_IsNumber(t))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "threshold must be a number");
    *out = t->valuedouble;
    return 0;
}

int clip_classify_options(const cJSON *body, const cJSON **prompts, int *n_prompts, int *top_k,
                          double *threshold, hdm_err *err)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "prompts");
    if (!p)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "prompts is required (a list of strings)");
    if (!cJSON_IsArray(p))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "prompts must be a list of strings");
    int n = cJSON_GetArraySize(p);
    if (n == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "prompts must not be empty");
    if (n > CLIP_MAX_PROMPTS)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "prompts has %d entries; at most %d allowed",
                           n, CLIP_MAX_PROMPTS);
    int i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, p) {
        if (!cJSON_IsString(item))
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "prompts[%d] is not a string", i);
        i++;
    }
    int k = 0;
    double th = 0.0;
    int r = top_k_option(cJSON_GetObjectItemCaseSensitive(body, "top_k"), n, &k, err);
    if (r == 0)
        r = threshold_option(cJSON_GetObjectItemCaseSensitive(body, "threshold"), &th, err);
    if (r < 0)
        return r;
    *prompts = p;
    *n_prompts = n;
    *top_k = k;
    *threshold = th;
    return 0;
}
