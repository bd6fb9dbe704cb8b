/*
 * pipeline.c - from request fields to L2-normalised CLIP embeddings.
 *
 * Image: base64 -> image_decode_base64_with (within images.max_pixels and
 * images.max_decode_ms; JPEGs at reduced scale while the shorter side stays
 * >= 2 S) -> the whole frame squashed to S x S with Pillow's bicubic, as
 * the original service did (or, with clip.resize_mode center_crop, the
 * shorter side to S and the centre S x S) -> uint8 [1, S, S, 3] -> manager
 * (clip, mode image) -> float32 [1, dim] -> L2-normalise.
 *
 * Why 2 S for scaled decoding: measured on real photos (docs/IMAGES.md),
 * decoding down to a shorter side >= 2 S keeps the tensor within a mean of
 * 0.5 level of Pillow's full decode (the original), while >= S alone cost
 * up to 1.4 levels.  clip.fast_jpeg_decode false gives Pillow's tensor bit
 * for bit, at the cost of full-size decoding.
 * Text: tokenize (77 ids, zero-padded, as hailo-apps) -> cache lookup by the
 * ids -> gather the 77 token rows into [1, 77, width] -> manager (clip,
 * mode text) -> row at the end-token position x projection -> L2-normalise
 * -> cache.
 *
 * Every inference carries model_params and keep_alive -1, so a manager that
 * lost the model (restart) loads it again by itself.  Errors: the image's
 * own problems are -HDM_E_BAD_REQUEST; the manager's are passed on with
 * its sentence, except that its bad_request/not_found answers become
 * -HDM_E_INTERNAL, since they mean our request or setup was wrong, not the
 * client's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clip/clip.h"
#include "image/image.h"

int clip_pipeline_init(clip_app *app, hdm_err *err)
{
    const clip_config *cfg = app->cfg;
    int r = clip_tokenizer_load(cfg->tokenizer_path, &app->tokenizer, err);
    if (r < 0)
        return r;
    r = clip_tables_open(cfg->token_embedding_path, cfg->text_projection_path,
                         cfg->embedding_dimension, &app->tables, err);
    if (r < 0)
        return r;
    if (clip_tokenizer_vocab_size(app->tokenizer) > app->tables.vocab)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s has ids up to %d but %s has only %lld rows", cfg->tokenizer_path,
                           clip_tokenizer_vocab_size(app->tokenizer) - 1,
                           cfg->token_embedding_path, (long long)app->tables.vocab);
    if (cfg->cache_enabled) {
        app->cache = clip_cache_new((size_t)cfg->cache_max_entries, app->tables.dim);
        if (!app->cache)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory for the text cache");
    }
    app->model_params = clip_model_params(cfg);
    if (!app->model_params)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    return 0;
}

void clip_pipeline_free(clip_app *app)
{
    clip_tokenizer_free(app->tokenizer);
    app->tokenizer = NULL;
    clip_tables_close(&app->tables);
    clip_cache_free(app->cache);
    app->cache = NULL;
    cJSON_Delete(app->model_params);
    app->model_params = NULL;
}

/* Maps a manager failure onto what the service reports (see the top). */
static int manager_failure(clip_app *app, int r, hdm_response *resp, const char *mode,
                           hdm_err *err)
{
    const char *why = resp ? hdm_response_error(resp) : NULL;
    int code = r < 0 ? -r : HDM_E_INTERNAL;
    svc_keeper_report(app->model, code);
    if (code == HDM_E_BAD_REQUEST || code == HDM_E_NOT_FOUND || code == HDM_E_UNSUPPORTED ||
        code == HDM_E_TOO_LARGE)
        code = HDM_E_INTERNAL;
    return hdm_err_set(err, code, "%s inference failed: %s", mode, why ? why : hdm_strerror(r));
}

/*
 * Sends one clip inference of tensor `in` and returns the float32 result
 * tensor's data in a malloc'd copy (*out, *n_out floats).
 */
static int run_clip(clip_app *app, const char *mode, const hdm_tensor *in, float **out,
                    size_t *n_out, hdm_err *err)
{
    const clip_config *cfg = app->cfg;
    hdm_request *req = NULL;
    hdm_response *resp = NULL;
    int r;

    /* max_queue_size bounds the requests waiting on the device at once. */
    if (atomic_fetch_add(&app->in_flight, 1) >= cfg->max_queue_size) {
        r = hdm_err_set(err, HDM_E_BUSY, "%d requests are already waiting for the device",
                        cfg->max_queue_size);
        goto out;
    }
    req = hdm_request_new("infer");
    cJSON *j = req ? hdm_request_json(req) : NULL;
    cJSON *params = cJSON_Duplicate(app->model_params, 1);
    cJSON *input = NULL;
    if (!j || !params || !cJSON_AddStringToObject(j, "model_type", "clip") ||
        !cJSON_AddStringToObject(j, "model_path", cfg->image_hef_path) ||
        !cJSON_AddItemToObject(j, "model_params", params) ||
        !cJSON_AddNumberToObject(j, "keep_alive", -1) ||
        !cJSON_AddStringToObject(j, "priority", "interactive") ||
        !(input = cJSON_AddObjectToObject(j, "input_data")) ||
        !cJSON_AddStringToObject(input, "mode", mode) ||
        !cJSON_AddNumberToObject(input, "timeout_ms", cfg->device_timeout_ms) ||
        hdm_request_add_tensor(req, input, "tensor", in) < 0) {
        if (!j || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "model_params")))
            cJSON_Delete(params);
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the request");
        goto out;
    }
    r = hdm_call(app->client, req, cfg->request_timeout_s * 1000, &resp);
    if (r < 0) {
        r = manager_failure(app, r, resp, mode, err);
        goto out;
    }
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(hdm_response_json(resp), "result");
    hdm_tensor t;
    if (hdm_response_tensor(resp, result, &t) < 0 || t.dtype != HDM_DT_FLOAT32) {
        r = hdm_err_set(err, HDM_E_INTERNAL, "%s inference answered no float32 tensor", mode);
        goto out;
    }
    size_t n = t.nbytes / sizeof(float);
    float *copy = malloc(n ? t.nbytes : 1);
    if (!copy) {
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        goto out;
    }
    memcpy(copy, t.data, t.nbytes);
    *out = copy;
    *n_out = n;
    r = 0;
out:
    atomic_fetch_sub(&app->in_flight, 1);
    hdm_response_free(resp);
    hdm_request_free(req);
    return r;
}

/* The image path from an already prepared [S, S, 3] uint8 buffer. */
static int embed_pixels(clip_app *app, uint8_t *pixels, float *out, hdm_err *err)
{
    int side = app->cfg->image_size;
    hdm_tensor t = {
        .dtype = HDM_DT_UINT8,
        .ndim = 4,
        .shape = {1, side, side, 3},
        .data = pixels,
        .nbytes = (size_t)side * (size_t)side * 3,
    };
    float *res = NULL;
    size_t n = 0;
    int r = run_clip(app, "image", &t, &res, &n, err);
    if (r < 0)
        return r;
    int dim = app->cfg->embedding_dimension;
    if (n != (size_t)dim) {
        free(res);
        return hdm_err_set(err, HDM_E_INTERNAL, "image encoder answered %zu values, expected %d "
                           "(clip.embedding_dimension)", n, dim);
    }
    memcpy(out, res, (size_t)dim * sizeof(float));
    free(res);
    clip_l2_normalize(out, (size_t)dim);
    return 0;
}

int clip_image_tensor(const clip_config *cfg, const char *data, size_t len, bool is_base64,
                      uint8_t *pixels, hdm_err *err)
{
    int side = cfg->image_size;
    image_decode_opts o;
    image img = {0};
    int r;

    image_decode_opts_defaults(&o);
    o.limits.max_pixels = (uint64_t)cfg->image_max_pixels;
    o.limits.max_cpu_ms = cfg->image_max_decode_ms;
    o.min_side = cfg->fast_jpeg_decode ? 2 * side : 0;
    r = is_base64 ? image_decode_base64_with(data, len, &o, &img, err)
                  : image_decode_with((const uint8_t *)data, len, &o, &img, err);
    if (r >= 0)
        r = strcmp(cfg->resize_mode, "center_crop") == 0
                ? image_resize_crop(&img, side, pixels, err)
                : image_resize(&img, side, side, IMAGE_FILTER_BICUBIC, pixels, err);
    image_free(&img);
    if (r < 0) {
        /* A bad image is the client's fault, whatever the decoder's code;
         * limits (413), a full decode gate (503) and memory keep theirs.
         * The sentences mostly start with "image" already. */
        if (err && strncmp(err->msg, "image", 5) != 0)
            hdm_err_prefix(err, "image");
        if (r == -HDM_E_TOO_LARGE && err && strstr(err->msg, "pixels, above the limit")) {
            char why[HDM_ERR_MSG_MAX];
            snprintf(why, sizeof(why), "%s", err->msg);
            hdm_err_set(err, HDM_E_TOO_LARGE, "%s (images.max_pixels)", why);
        }
        if (r != -HDM_E_TOO_LARGE && r != -HDM_E_BUSY && r != -HDM_E_NOMEM) {
            if (err)
                err->code = HDM_E_BAD_REQUEST;
            r = -HDM_E_BAD_REQUEST;
        }
    }
    return r;
}

int clip_pipeline_image(clip_app *app, const char *b64, size_t len, float *out, hdm_err *err)
{
    int side = app->cfg->image_size;
    uint8_t *pixels = malloc((size_t)side * (size_t)side * 3);
    if (!pixels)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    int r = clip_image_tensor(app->cfg, b64, len, true, pixels, err);
    if (r >= 0)
        r = embed_pixels(app, pixels, out, err);
    free(pixels);
    return r;
}

int clip_pipeline_text(clip_app *app, const char *text, float *out, bool *cached, hdm_err *err)
{
    const clip_text_tables *tab = &app->tables;
    int32_t ids[CLIP_CONTEXT_LEN];
    int eot_pos;
    float *enc_in = NULL, *enc_out = NULL;
    size_t n_out = 0;
    int r;

    if (cached)
        *cached = false;
    /* 77 ids padded with 0, as hailo-apps' tokenize_text() gives them */
    if ((r = clip_tokenize(app->tokenizer, text, strlen(text), ids, CLIP_CONTEXT_LEN, &eot_pos,
                           err)) < 0)
        return r;
    if (app->cache && clip_cache_get(app->cache, ids, sizeof(ids), out)) {
        if (cached)
            *cached = true;
        return 0;
    }
    size_t in_count = (size_t)CLIP_CONTEXT_LEN * (size_t)tab->width;
    enc_in = malloc(in_count * sizeof(float));
    if (!enc_in)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    if ((r = clip_embed_gather(tab, ids, CLIP_CONTEXT_LEN, CLIP_CONTEXT_LEN, enc_in, err)) < 0) {
        /* ids outside the table were checked at start-up; this is ours */
        if (err)
            err->code = HDM_E_INTERNAL;
        r = -HDM_E_INTERNAL;
        goto out;
    }
    hdm_tensor t = {
        .dtype = HDM_DT_FLOAT32,
        .ndim = 3,
        .shape = {1, CLIP_CONTEXT_LEN, tab->width},
        .data = enc_in,
        .nbytes = in_count * sizeof(float),
    };
    if ((r = run_clip(app, "text", &t, &enc_out, &n_out, err)) < 0)
        goto out;
    int rows;
    if (n_out == in_count) {
        rows = CLIP_CONTEXT_LEN;
    } else if (n_out == (size_t)tab->width) {
        rows = 1; /* an encoder that already pooled the end-token row */
        eot_pos = 0;
    } else {
        r = hdm_err_set(err, HDM_E_INTERNAL, "text encoder answered %zu values, expected "
                        "77 x %d", n_out, tab->width);
        goto out;
    }
    if ((r = clip_embed_project(tab, enc_out, rows, eot_pos, out, err)) < 0)
        goto out;
    if (app->cache)
        clip_cache_put(app->cache, ids, sizeof(ids), out);
out:
    free(enc_in);
    free(enc_out);
    return r;
}

void clip_pipeline_warmup(void *user)
{
    clip_app *app = user;
    int side = app->cfg->image_size;
    float *emb = malloc((size_t)app->tables.dim * sizeof(float));
    uint8_t *grey = malloc((size_t)side * (size_t)side * 3);
    hdm_err err = {0};
    if (emb && grey) {
        memset(grey, 128, (size_t)side * (size_t)side * 3);
        /* Failures here are not fatal: the next request reports them. */
        embed_pixels(app, grey, emb, &err);
        clip_pipeline_text(app, "a photo", emb, NULL, &err);
    }
    free(emb);
    free(grey);
}
