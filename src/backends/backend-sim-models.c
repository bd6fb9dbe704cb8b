/*
 * backend-sim-models.c - the simulator's tensor outputs: clip (image and
 * text encoders) and ocr (detection map, recognition logits); depth and pose
 * are sim-depth.c and sim-pose.c.
 *
 * DESIGN: outputs must have the real models' dtypes and shapes and be a
 * deterministic function of the input, cheap enough that a benchmark of the
 * manager measures the manager and not the simulator.  So every "network"
 * here is a fixed pseudo-random linear map (weights drawn from the model
 * file's name) over cheap features of the input: pooled pixels for images,
 * each row plus the causal mean of the rows before it for clip text (so the
 * end-of-text row, which the service reads, depends on the whole prompt the
 * way a causal transformer's would).  A sparse projection and single-pass
 * rows keep the host's share of a zero-latency request small.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend-sim.h"
#include "sim-ocr.h"
#include "common/tensor.h"

#define POOL_FEATURES (SIM_CLIP_POOL * SIM_CLIP_POOL * 3)
#define SIM_CLIP_STRIDE 7 /* divides the 28-pixel cell: 4 x 4 samples per cell */

const char *sim_tensor_desc(const hdm_tensor *t, char *buf, size_t size)
{
    const char *dt = hdm_dtype_name(t->dtype);
    size_t n = (size_t)snprintf(buf, size, "%s [", dt ? dt : "?");
    for (int i = 0; i < t->ndim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? "," : "", (long long)t->shape[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
    return buf;
}

/* Allocates a tensor's data; the caller hands it to infer_output_add_tensor. */
static int tensor_alloc(hdm_tensor *t, hdm_dtype dtype, int ndim, const int64_t *shape,
                        hdm_err *err)
{
    size_t count = 1;
    memset(t, 0, sizeof(*t));
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        t->shape[i] = shape[i];
        count *= (size_t)shape[i];
    }
    t->nbytes = count * hdm_dtype_size(dtype);
    t->data = malloc(t->nbytes ? t->nbytes : 1);
    if (!t->data)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for a %zu-byte output", t->nbytes);
    return 0;
}

/* Adds t to out; the returned JSON references it.  NULL when out of memory. */
static cJSON *add_output(infer_output *out, hdm_tensor *t, hdm_err *err)
{
    cJSON *obj = infer_output_add_tensor(out, t);
    t->data = NULL;
    if (!obj)
        hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
    return obj;
}

/* ---- image inputs --------------------------------------------------------- */

/* A uint8 RGB image in HWC or CHW order, with or without a leading 1. */
typedef struct image_view {
    const uint8_t *px;
    int h, w;
    bool chw;
} image_view;

static inline int image_at(const image_view *v, int y, int x, int c)
{
    if (v->chw)
        return v->px[((size_t)c * (size_t)v->h + (size_t)y) * (size_t)v->w + (size_t)x];
    return v->px[((size_t)y * (size_t)v->w + (size_t)x) * 3 + (size_t)c];
}

static inline int image_lum(const image_view *v, int y, int x)
{
    return (77 * image_at(v, y, x, 0) + 150 * image_at(v, y, x, 1) + 29 * image_at(v, y, x, 2)) >>
           8;
}

/*
 * Accepts t as the model's h x w RGB input in HWC or CHW layout (with or
 * without a leading batch of 1), as PROTOCOL.md allows for dense models.
 */
static int image_accept(const hdm_tensor *t, const char *what, int h, int w, bool allow_chw,
                        image_view *v, hdm_err *err)
{
    char got[128];
    const int64_t *s = t->shape;
    int off = (t->ndim == 4 && s[0] == 1) ? 1 : 0;

    if (t->dtype == HDM_DT_UINT8 && t->ndim - off == 3) {
        if (s[off] == h && s[off + 1] == w && s[off + 2] == 3) {
            *v = (image_view){t->data, h, w, false};
            return 0;
        }
        if (allow_chw && s[off] == 3 && s[off + 1] == h && s[off + 2] == w) {
            *v = (image_view){t->data, h, w, true};
            return 0;
        }
    }
    sim_tensor_desc(t, got, sizeof(got));
    if (allow_chw)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: expected uint8 [%d,%d,3] (HWC), [3,%d,%d] (CHW) or either with "
                           "a leading 1, got %s",
                           what, h, w, h, w, got);
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       "%s: expected uint8 [1,%d,%d,3] or [%d,%d,3], got %s", what, h, w, h, w,
                       got);
}

/* ---- clip ------------------------------------------------------------------ */

int sim_clip_init(backend_model *m, hdm_err *err)
{
    uint64_t rng = m->seed ^ 0xc11bull;
    m->clip_img_w = malloc(sizeof(float) * SIM_CLIP_DIM * SIM_CLIP_TAPS);
    m->clip_img_taps = malloc(SIM_CLIP_DIM * SIM_CLIP_TAPS);
    m->clip_txt_self = malloc(sizeof(float) * SIM_CLIP_DIM);
    m->clip_txt_ctx = malloc(sizeof(float) * SIM_CLIP_DIM);
    if (!m->clip_img_w || !m->clip_img_taps || !m->clip_txt_self || !m->clip_txt_ctx)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory loading %s", m->path);

    const float scale = 1.7f / sqrtf((float)SIM_CLIP_TAPS);
    for (size_t i = 0; i < (size_t)SIM_CLIP_DIM * SIM_CLIP_TAPS; i++) {
        m->clip_img_taps[i] = (uint8_t)(sim_rng_next(&rng) % POOL_FEATURES);
        m->clip_img_w[i] = sim_rng_float(&rng) * scale;
    }
    for (int j = 0; j < SIM_CLIP_DIM; j++) {
        m->clip_txt_self[j] = 0.6f + 0.4f * sim_rng_float(&rng);
        m->clip_txt_ctx[j] = 0.8f + 0.4f * sim_rng_float(&rng);
    }
    return 0;
}

void sim_model_free_weights(backend_model *m)
{
    free(m->clip_img_w);
    free(m->clip_img_taps);
    free(m->clip_txt_self);
    free(m->clip_txt_ctx);
    m->clip_img_w = m->clip_txt_self = m->clip_txt_ctx = NULL;
    m->clip_img_taps = NULL;
}

/*
 * The image "encoder" and the text one cost the host next to nothing, so a
 * benchmark at latency_scale 0 measures the manager, not these loops (the
 * chip does this work; the sim only has to give a deterministic answer that
 * follows the input): the image is pooled from 16 samples per cell, each
 * embedding value mixes SIM_CLIP_TAPS pooled features (a sparse random
 * projection: 2048 multiply-adds, not 98304), and each text row is one
 * vectorisable pass.
 */
static void clip_project(const backend_model *m, const float *restrict features,
                         float *restrict emb)
{
    const float *w = m->clip_img_w;
    const uint8_t *taps = m->clip_img_taps;
    for (int j = 0; j < SIM_CLIP_DIM; j++, w += SIM_CLIP_TAPS, taps += SIM_CLIP_TAPS) {
        float acc = 0.0f;
        for (int t = 0; t < SIM_CLIP_TAPS; t++)
            acc += w[t] * features[taps[t]];
        emb[j] = acc;
    }
}

static int clip_image(backend_model *m, const hdm_tensor *in, infer_output *out, hdm_err *err)
{
    const int cell = SIM_CLIP_IMAGE_SIZE / SIM_CLIP_POOL;
    float features[POOL_FEATURES];
    image_view v;
    hdm_tensor t;
    int rc = image_accept(in, "input_data.tensor", SIM_CLIP_IMAGE_SIZE, SIM_CLIP_IMAGE_SIZE, false,
                          &v, err);
    if (rc < 0)
        return rc;

    /* Pool every SIM_CLIP_STRIDE-th pixel of each cell (HWC): the embedding
     * still follows the picture. */
    const int per_cell = (cell / SIM_CLIP_STRIDE) * (cell / SIM_CLIP_STRIDE);
    const size_t row_bytes = (size_t)v.w * 3;
    for (int gy = 0; gy < SIM_CLIP_POOL; gy++)
        for (int gx = 0; gx < SIM_CLIP_POOL; gx++) {
            unsigned sum[3] = {0, 0, 0};
            for (int y = gy * cell; y < (gy + 1) * cell; y += SIM_CLIP_STRIDE) {
                const uint8_t *px = v.px + (size_t)y * row_bytes + (size_t)gx * cell * 3;
                for (int x = 0; x < cell; x += SIM_CLIP_STRIDE, px += 3 * SIM_CLIP_STRIDE) {
                    sum[0] += px[0];
                    sum[1] += px[1];
                    sum[2] += px[2];
                }
            }
            for (int c = 0; c < 3; c++)
                features[(gy * SIM_CLIP_POOL + gx) * 3 + c] =
                    (float)sum[c] / (float)(per_cell * 255) - 0.5f;
        }

    /* One frame of an NC output: [512], as HailoRT reports it. */
    rc = tensor_alloc(&t, HDM_DT_FLOAT32, 1, (const int64_t[]){SIM_CLIP_DIM}, err);
    if (rc < 0)
        return rc;
    clip_project(m, features, t.data);
    out->result = add_output(out, &t, err);
    return out->result ? 0 : -HDM_E_NOMEM;
}

/* Non-finite inputs count as 0 (the chip would saturate; NaN must not spread). */
static inline float finite_or_zero(float v)
{
    return isfinite(v) ? v : 0.0f;
}

/* One output row: the token itself and the causal mean of the rows so far
 * (ctx_sum gains this row); one pass the compiler vectorises. */
static void clip_text_row(const float *restrict w_self, const float *restrict w_ctx,
                          const float *restrict xr, float *restrict ctx_sum, float inv,
                          float *restrict yr)
{
    for (int j = 0; j < SIM_CLIP_DIM; j++) {
        float x = finite_or_zero(xr[j]);
        ctx_sum[j] += x;
        yr[j] = w_self[j] * x + w_ctx[j] * ctx_sum[j] * inv;
    }
}

/* True when t's shape is want[0..n) once leading 1s are dropped from both
 * (a frame with or without a batch dimension: [1,77,512], [77,512] and
 * [1,1,77,512] are one frame of the text encoder). */
static bool same_frame_shape(const hdm_tensor *t, const int64_t *want, int n)
{
    int i = 0, j = 0;
    while (i < t->ndim && t->shape[i] == 1)
        i++;
    while (j < n && want[j] == 1)
        j++;
    if (t->ndim - i != n - j)
        return false;
    for (; i < t->ndim; i++, j++)
        if (t->shape[i] != want[j])
            return false;
    return true;
}

static int clip_text(backend_model *m, const hdm_tensor *in, infer_output *out, hdm_err *err)
{
    /* One frame of the text encoder's NHWC output (height 1), as HailoRT reports it. */
    static const int64_t shape[3] = {1, SIM_CLIP_TEXT_LEN, SIM_CLIP_DIM};
    float ctx_sum[SIM_CLIP_DIM] = {0};
    hdm_tensor t;
    int rc;
    if (in->dtype != HDM_DT_FLOAT32 || !same_frame_shape(in, shape, 3)) {
        char got[128];
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "input_data.tensor: expected float32 [1,%d,%d] (or [%d,%d]), got %s",
                           SIM_CLIP_TEXT_LEN, SIM_CLIP_DIM, SIM_CLIP_TEXT_LEN, SIM_CLIP_DIM,
                           sim_tensor_desc(in, got, sizeof(got)));
    }
    rc = tensor_alloc(&t, HDM_DT_FLOAT32, 3, shape, err);
    if (rc < 0)
        return rc;

    const float *x = in->data;
    float *y = t.data;
    for (int r = 0; r < SIM_CLIP_TEXT_LEN; r++)
        clip_text_row(m->clip_txt_self, m->clip_txt_ctx, x + (size_t)r * SIM_CLIP_DIM, ctx_sum,
                      1.0f / (float)(r + 1), y + (size_t)r * SIM_CLIP_DIM);
    out->result = add_output(out, &t, err);
    return out->result ? 0 : -HDM_E_NOMEM;
}

int sim_infer_clip(const backend *b, backend_model *m, const infer_input *in,
                   const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    bool image = in->u.clip.mode == CLIP_MODE_IMAGE;
    /* The text encoder is the smaller network: about half the image time. */
    int rc = sim_npu_run(b, m, image ? 0 : 1, image ? m->infer_ms : m->infer_ms / 2.0, hooks, err);
    if (rc < 0)
        return rc;
    return image ? clip_image(m, &in->u.clip.tensor, out, err)
                 : clip_text(m, &in->u.clip.tensor, out, err);
}

/* ---- ocr ---------------------------------------------------------------------- */

static int ocr_detection(backend_model *m, const infer_input *in, infer_output *out, hdm_err *err)
{
    image_view v;
    hdm_tensor t;
    int rc = image_accept(&in->u.ocr.image, "input_data.image", m->in_h, m->in_w, false, &v, err);
    if (rc < 0)
        return rc;
    rc = tensor_alloc(&t, HDM_DT_FLOAT32, 4, (const int64_t[]){1, m->in_h, m->in_w, 1}, err);
    if (rc < 0)
        return rc;
    if (sim_ocr_detect(v.px, v.h, v.w, t.data) < 0) { /* sim-ocr.c */
        free(t.data);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for the OCR detection map");
    }
    out->result = add_output(out, &t, err);
    return out->result ? 0 : -HDM_E_NOMEM;
}

static bool ocr_has_lang(const backend_model *m, const char *lang)
{
    for (size_t i = 0; i < m->n_ocr_langs; i++)
        if (strcmp(m->ocr_langs[i], lang) == 0)
            return true;
    return false;
}

/* Per time step a distribution over the classes [1, steps, classes]
 * (sim-ocr.c). */
static int ocr_recognize_crop(backend_model *m, const image_view *v, const char *lang,
                              hdm_tensor *t, hdm_err *err)
{
    int rc = tensor_alloc(t, HDM_DT_FLOAT32, 3,
                          (const int64_t[]){1, SIM_OCR_REC_STEPS, SIM_OCR_REC_CLASSES}, err);
    if (rc < 0)
        return rc;
    sim_ocr_recognize(v->px, v->h, v->w, m->seed, lang, t->data);
    return 0;
}

static int ocr_recognition(const backend *b, backend_model *m, const infer_input *in,
                           const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    const char *lang = in->u.ocr.language[0] ? in->u.ocr.language : "en";
    char what[64];
    cJSON *list = NULL;
    int rc;

    if (m->n_ocr_langs > 0 && !ocr_has_lang(m, lang)) {
        char known[256] = "";
        size_t n = 0;
        for (size_t i = 0; i < m->n_ocr_langs && n < sizeof(known); i++)
            n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s", i ? ", " : "",
                                  m->ocr_langs[i]);
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "language '%s' has no recognition model (loaded: %s)", lang, known);
    }
    /* Check every crop before spending any device time. */
    for (size_t i = 0; i < in->u.ocr.n_crops; i++) {
        image_view v;
        snprintf(what, sizeof(what), "input_data.crops[%zu]", i);
        rc = image_accept(&in->u.ocr.crops[i], what, SIM_OCR_REC_HEIGHT, SIM_OCR_REC_WIDTH, false,
                          &v, err);
        if (rc < 0)
            return rc;
    }
    list = cJSON_CreateArray();
    if (!list)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
    out->result = list;
    for (size_t i = 0; i < in->u.ocr.n_crops; i++) {
        image_view v;
        hdm_tensor t;
        rc = sim_npu_run(b, m, 1, m->token_ms, hooks, err);
        if (rc < 0)
            return rc;
        image_accept(&in->u.ocr.crops[i], what, SIM_OCR_REC_HEIGHT, SIM_OCR_REC_WIDTH, false, &v,
                     NULL);
        rc = ocr_recognize_crop(m, &v, lang, &t, err);
        if (rc < 0)
            return rc;
        cJSON *obj = add_output(out, &t, err);
        if (!obj)
            return -HDM_E_NOMEM;
        cJSON_AddItemToArray(list, obj);
    }
    return 0;
}

int sim_infer_ocr(const backend *b, backend_model *m, const infer_input *in,
                  const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    if (in->u.ocr.mode == OCR_MODE_RECOGNITION)
        return ocr_recognition(b, m, in, hooks, out, err);
    int rc = sim_npu_run(b, m, 0, m->infer_ms, hooks, err);
    if (rc < 0)
        return rc;
    return ocr_detection(m, in, out, err);
}

/* depth and pose: sim-depth.c and sim-pose.c */
