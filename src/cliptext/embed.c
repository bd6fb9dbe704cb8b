/*
 * embed.c - token-embedding gather, end-token pick, projection, normalisation.
 */
#include "cliptext/embed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error ".npy tables are read as little-endian; this host is not"
#endif

int clip_tables_open(const char *token_embedding_path, const char *projection_path,
                     int expected_dim, clip_text_tables *out, hdm_err *err)
{
    clip_text_tables t = {0};
    int r;

    if ((r = npy_open(token_embedding_path, &t.token_embedding, err)) < 0)
        return r;
    if ((r = npy_open(projection_path, &t.projection, err)) < 0)
        goto fail;
    if (t.token_embedding.ndim != 2 || t.token_embedding.shape[0] < 1 ||
        t.token_embedding.shape[1] < 1 || t.token_embedding.shape[1] > 65536) {
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: token embedding table must be 2-D "
                        "[vocab, width] with 1..65536 columns", token_embedding_path);
        goto fail;
    }
    t.vocab = t.token_embedding.shape[0];
    t.width = (int)t.token_embedding.shape[1];
    int64_t want[2] = {t.width, expected_dim > 0 ? expected_dim : -1};
    if ((r = npy_expect_shape(&t.projection, projection_path, 2, want, err)) < 0) {
        hdm_err_prefix(err, "projection must be [%d, %s] to match the token table", t.width,
                       expected_dim > 0 ? "embedding_dimension" : "dim");
        goto fail;
    }
    if (t.projection.shape[1] < 1 || t.projection.shape[1] > 65536) {
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: projection has %lld columns",
                        projection_path, (long long)t.projection.shape[1]);
        goto fail;
    }
    t.dim = (int)t.projection.shape[1];
    if (t.projection.dtype == HDM_DT_FLOAT32 && ((uintptr_t)t.projection.data % 4) == 0) {
        t.proj = t.projection.data;
    } else {
        size_t n = (size_t)t.width * (size_t)t.dim;
        t.proj_owned = malloc(n * sizeof(float));
        if (!t.proj_owned) {
            r = hdm_err_set(err, HDM_E_NOMEM, "out of memory converting %s", projection_path);
            goto fail;
        }
        for (size_t i = 0; i < n; i++)
            t.proj_owned[i] = npy_get_f32(&t.projection, i);
        t.proj = t.proj_owned;
    }
    *out = t;
    return 0;
fail:
    clip_tables_close(&t);
    return r;
}

void clip_tables_close(clip_text_tables *t)
{
    if (!t)
        return;
    npy_close(&t->token_embedding);
    npy_close(&t->projection);
    free(t->proj_owned);
    memset(t, 0, sizeof(*t));
}

static void copy_row(const clip_text_tables *t, int32_t id, float *dst)
{
    size_t w = (size_t)t->width;
    size_t base = (size_t)id * w;
    if (t->token_embedding.dtype == HDM_DT_FLOAT32) {
        memcpy(dst, (const uint8_t *)t->token_embedding.data + base * 4, w * 4);
    } else {
        for (size_t j = 0; j < w; j++)
            dst[j] = npy_get_f32(&t->token_embedding, base + j);
    }
}

int clip_embed_gather(const clip_text_tables *t, const int32_t *ids, int n, int seq_len,
                      float *out, hdm_err *err)
{
    if (n < 1 || n > seq_len)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%d tokens do not fit a sequence of %d", n,
                           seq_len);
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= t->vocab)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "token id %d is outside the token "
                               "embedding table (%lld rows)", ids[i], (long long)t->vocab);
    for (int i = 0; i < seq_len; i++)
        copy_row(t, ids[i < n ? i : n - 1], out + (size_t)i * (size_t)t->width);
    return 0;
}

double clip_l2_normalize(float *v, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += (double)v[i] * v[i];
    double norm = sqrt(sum);
    if (norm > 0)
        for (size_t i = 0; i < n; i++)
            v[i] = (float)(v[i] / norm);
    return norm;
}

int clip_embed_project(const clip_text_tables *t, const float *enc, int rows, int eot_pos,
                       float *out, hdm_err *err)
{
    if (eot_pos < 0 || eot_pos >= rows)
        return hdm_err_set(err, HDM_E_INTERNAL, "end-token position %d is outside the %d "
                           "encoder rows", eot_pos, rows);
    const float *x = enc + (size_t)eot_pos * (size_t)t->width;
    size_t dim = (size_t)t->dim;
    double *acc = calloc(dim, sizeof(double));
    if (!acc)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory projecting");
    /* Row-major walk of the projection: contiguous reads, one pass. */
    for (size_t i = 0; i < (size_t)t->width; i++) {
        double xi = x[i];
        const float *prow = t->proj + i * dim;
        for (size_t j = 0; j < dim; j++)
            acc[j] += xi * prow[j];
    }
    for (size_t j = 0; j < dim; j++)
        out[j] = (float)acc[j];
    free(acc);
    clip_l2_normalize(out, dim);
    return 0;
}
