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
    double dot = 0;
    for (int i = 0; i < dim; i++)
        dot += (double)a[i] * b[i];
    return dot;
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

    int k = 3;
    const cJSON *tk = cJSON_GetObjectItemCaseSensitive(body, "top_k");
    if (tk && !cJSON_IsNull(tk)) {
        if (!cJSON_IsNumber(tk) || !isfinite(tk->valuedouble) || tk->valuedouble < 1 ||
            tk->valuedouble != floor(tk->valuedouble))
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "top_k must be a positive integer");
        k = tk->valuedouble > n ? n : (int)tk->valuedouble;
    }
    if (k > n)
        k = n;

    double th = 0.0;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "threshold");
    if (t && !cJSON_IsNull(t)) {
        if (!cJSON_IsNumber(t) || !isfinite(t->valuedouble))
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "threshold must be a number from 0 to 1");
        if (t->valuedouble < 0 || t->valuedouble > 1)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "threshold %g is out of range (0 to 1)", t->valuedouble);
        th = t->valuedouble;
    }
    *prompts = p;
    *n_prompts = n;
    *top_k = k;
    *threshold = th;
    return 0;
}
