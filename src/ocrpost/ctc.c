/*
 * ctc.c - greedy CTC decoding (ctc.h).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocrpost/ctc.h"

/* paddle_ocr_utils.CHARACTERS; '\0' stands for the blank. */
const char ocr_ctc_charset[OCR_CTC_CLASSES] = {
    '\0', '0',  '1', '2', '3', '4', '5', '6', '7', '8', '9', ':',  ';', '<', '=', '>', '?',
    '@',  'A',  'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K',  'L', 'M', 'N', 'O', 'P',
    'Q',  'R',  'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', '[', '\\', ']', '^', '_', '`', 'a',
    'b',  'c',  'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm',  'n', 'o', 'p', 'q', 'r',
    's',  't',  'u', 'v', 'w', 'x', 'y', 'z', '{', '|', '}', '~',  '!', '"', '#', '$', '%',
    '&',  '\'', '(', ')', '*', '+', ',', '-', '.', '/', ' ', ' '};

/* numpy's float32 pairwise summation (pairwise_sum in loops_utils), which
 * np.mean uses for a contiguous array: sequential below 8 values, eight
 * interleaved accumulators up to 128, halves above. */
static float pairwise_sum(const float *a, size_t n)
{
    if (n < 8) {
        float res = 0.0f;
        for (size_t i = 0; i < n; i++)
            res += a[i];
        return res;
    }
    if (n <= 128) {
        float r[8];
        size_t i;
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

/*
 * np.argmax / np.max of one row: the first maximum (compared with >, so of
 * equal values, -0.0 and 0.0 among them, the first), its value as stored;
 * a NaN wins at once, the first one.  Rows without NaN take the vector
 * path: the largest value (any of equal ones), then the first element
 * equal to it.
 */
static size_t row_argmax(const float *row, size_t n, float *value)
{
    size_t c = 0;
    if (n >= 8) {
        v4f m0, m1, x;
        v4i nan = {0, 0, 0, 0};
        memcpy(&m0, row, sizeof(m0));
        memcpy(&m1, row + 4, sizeof(m1));
        nan |= (m0 != m0) | (m1 != m1);
        for (c = 8; c + 4 <= n; c += 4) {
            memcpy(&x, row + c, sizeof(x));
            v4i gt = x > m0;
            nan |= x != x;
            m0 = (v4f)(((v4i)x & gt) | ((v4i)m0 & ~gt));
            v4f t = m0; /* alternate the accumulators: shorter chains */
            m0 = m1;
            m1 = t;
        }
        float m = m0[0];
        for (int k = 1; k < 4; k++)
            m = m0[k] > m ? m0[k] : m;
        for (int k = 0; k < 4; k++)
            m = m1[k] > m ? m1[k] : m;
        int any_nan = nan[0] | nan[1] | nan[2] | nan[3];
        for (; c < n; c++) {
            any_nan |= isnan(row[c]);
            m = row[c] > m ? row[c] : m;
        }
        if (!any_nan)
            for (c = 0; c < n; c++)
                if (row[c] == m) {
                    *value = row[c];
                    return c;
                }
    }
    size_t best = 0;
    float best_v = row[0];
    if (!isnan(best_v))
        for (c = 1; c < n; c++) {
            if (isnan(row[c])) {
                best = c;
                best_v = row[c];
                break;
            }
            if (row[c] > best_v) {
                best = c;
                best_v = row[c];
            }
        }
    *value = best_v;
    return best;
}

int ocr_ctc_decode(const float *probs, size_t steps, size_t classes, char *text, size_t text_size,
                   double *confidence, hdm_err *err)
{
    if (probs == NULL || text == NULL || confidence == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "CTC decode: missing buffers");
    if (classes < 1 || classes > OCR_CTC_CLASSES)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "recognition output has %zu classes; the character list has %d", classes,
                           OCR_CTC_CLASSES);
    if (steps < 1 || steps > 1u << 20)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "recognition output has %zu time steps", steps);
    if (text_size < 1)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "CTC decode: no room for the text");

    float *kept = malloc(steps * sizeof(float));
    if (kept == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "CTC decode: out of memory");
    size_t n_kept = 0, len = 0;
    size_t prev = 0;
    for (size_t t = 0; t < steps; t++) {
        float best_v;
        size_t best = row_argmax(probs + t * classes, classes, &best_v);
        int keep = (t == 0 || best != prev) && best != 0;
        prev = best;
        if (!keep)
            continue;
        if (len + 1 >= text_size) {
            free(kept);
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "CTC decode: text buffer of %zu bytes is too small", text_size);
        }
        text[len++] = ocr_ctc_charset[best];
        kept[n_kept++] = best_v;
    }
    text[len] = '\0';
    if (n_kept == 0)
        *confidence = 0.0;
    else
        *confidence = (double)(float)((double)pairwise_sum(kept, n_kept) / (double)n_kept);
    free(kept);
    return 0;
}
