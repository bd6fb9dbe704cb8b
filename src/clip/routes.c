/*
 * routes.c - hailo-clip's endpoints (SERVICES.md): GET /health,
 * POST /v1/classify, /v1/embed/image, /v1/embed/text.
 *
 * Requests are checked field by field before any work (400 naming the
 * field), answered 503 while the model is not registered, and 500 when the
 * inference itself fails.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clip/clip.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/pyjson.h"
#include "common/timeutil.h"

static double round2(double v)
{
    return round(v * 100.0) / 100.0;
}

/* The status a failure maps to. */
static int failure_status(int code)
{
    switch (code < 0 ? -code : code) {
    case HDM_E_BAD_REQUEST:
        return 400;
    case HDM_E_TOO_LARGE: /* an image over images.max_pixels or its decode budget */
        return 413;
    case HDM_E_UNAVAILABLE:
    case HDM_E_BUSY:
    case HDM_E_RESOURCE_EXHAUSTED:
    case HDM_E_CANCELLED: /* the manager dropped it (shutting down): retry later */
        return 503;
    default:
        return 500;
    }
}

static void reply_failure(http_reply *reply, int r, const hdm_err *err)
{
    int status = failure_status(r);
    if (status >= 500)
        log_warn("%s", err->msg[0] ? err->msg : hdm_strerror(r));
    http_reply_error(reply, status, "%s", err->msg[0] ? err->msg : hdm_strerror(r));
}

/* 503 unless the model is registered with the manager. */
static bool require_ready(clip_app *app, http_reply *reply)
{
    char reason[256];
    if (svc_keeper_ready(app->model, reason, sizeof(reason)))
        return true;
    http_reply_error(reply, 503, "model not ready: %s", reason);
    return false;
}

/* The body as an object, or a 400. */
static const cJSON *body_object(http_request *req, http_reply *reply)
{
    const cJSON *body = http_request_json(req);
    if (!cJSON_IsObject(body)) {
        http_reply_error(reply, 400, "request body must be a JSON object");
        return NULL;
    }
    return body;
}

/* The "image" field as a non-empty string, or a 400. */
static const cJSON *image_field(const cJSON *body, http_reply *reply)
{
    const cJSON *image = cJSON_GetObjectItemCaseSensitive(body, "image");
    if (!image || cJSON_IsNull(image)) {
        http_reply_error(reply, 400, "image is required (base64, optionally a data: URI)");
        return NULL;
    }
    if (!cJSON_IsString(image) || !image->valuestring[0]) {
        http_reply_error(reply, 400, "image must be a non-empty base64 string");
        return NULL;
    }
    return image;
}

/* Adds `name`: [v0, v1, ...] printed as the original's float32 tolist() and
 * json.dumps print them (Python's repr of each value as a double). */
static bool add_float_array(cJSON *obj, const char *name, const float *v, int n)
{
    buf b = {0};
    bool ok = buf_append(&b, "[", 1) == 0;
    for (int i = 0; ok && i < n; i++) {
        char num[PYFLOAT_REPR_MAX];
        pyfloat_repr(isfinite(v[i]) ? (double)v[i] : 0.0, num, sizeof(num));
        ok = buf_printf(&b, i ? ",%s" : "%s", num) == 0;
    }
    ok = ok && buf_append(&b, "]", 2) == 0; /* with the NUL */
    ok = ok && cJSON_AddRawToObject(obj, name, (const char *)b.data) != NULL;
    buf_free(&b);
    return ok;
}

static cJSON *embedding_body(clip_app *app, const float *emb, double started)
{
    cJSON *body = cJSON_CreateObject();
    if (!body || !add_float_array(body, "embedding", emb, app->tables.dim) ||
        !cJSON_AddNumberToObject(body, "dimension", app->tables.dim) ||
        !cJSON_AddStringToObject(body, "model", app->cfg->model_name) ||
        !pyjson_add_float(body, "inference_time_ms", round2((mono_s() - started) * 1000))) {
        cJSON_Delete(body);
        return NULL;
    }
    return body;
}

static void h_health(http_request *req, http_reply *reply, void *user)
{
    (void)req;
    clip_app *app = user;
    char reason[256], backend[32];
    bool ready = svc_keeper_ready(app->model, reason, sizeof(reason));
    svc_keeper_backend(app->model, backend, sizeof(backend));
    cJSON *body = cJSON_CreateObject();
    bool ok = body && cJSON_AddStringToObject(body, "status", ready ? "healthy" : "starting") &&
              cJSON_AddStringToObject(body, "service", CLIP_SERVICE_NAME) &&
              cJSON_AddBoolToObject(body, "model_loaded", ready) &&
              cJSON_AddBoolToObject(body, "ready", ready) &&
              cJSON_AddStringToObject(body, "model", app->cfg->model_name) &&
              cJSON_AddStringToObject(body, "backend", backend) &&
              cJSON_AddBoolToObject(body, "manager_reachable",
                                    svc_keeper_reachable(app->model)) &&
              cJSON_AddNumberToObject(body, "embedding_dimension", app->tables.dim) &&
              pyjson_add_float(body, "uptime_seconds", round2(mono_s() - app->started_at));
    if (ok && !ready)
        ok = cJSON_AddStringToObject(body, "reason", reason) != NULL;
    if (ok && app->cache) {
        clip_cache_stats st;
        clip_cache_stats_get(app->cache, &st);
        cJSON *c = cJSON_AddObjectToObject(body, "text_cache");
        ok = c && cJSON_AddNumberToObject(c, "entries", (double)st.entries) &&
             cJSON_AddNumberToObject(c, "max_entries", app->cfg->cache_max_entries) &&
             cJSON_AddNumberToObject(c, "hits", (double)st.hits) &&
             cJSON_AddNumberToObject(c, "misses", (double)st.misses);
    }
    if (!ok) {
        cJSON_Delete(body);
        http_reply_error(reply, 500, "out of memory");
        return;
    }
    /* Not ready is a 503 so plain probes (curl -f, load balancers) see it. */
    http_reply_json(reply, ready ? 200 : 503, body);
}

static void h_embed_image(http_request *req, http_reply *reply, void *user)
{
    clip_app *app = user;
    double started = mono_s();
    const cJSON *body = body_object(req, reply), *image;
    if (!body || !(image = image_field(body, reply)) || !require_ready(app, reply))
        return;
    float *emb = malloc((size_t)app->tables.dim * sizeof(float));
    hdm_err err = {0};
    int r = emb ? clip_pipeline_image(app, image->valuestring, strlen(image->valuestring), emb,
                                      &err)
                : hdm_err_set(&err, HDM_E_NOMEM, "out of memory");
    if (r < 0) {
        reply_failure(reply, r, &err);
    } else {
        cJSON *out = embedding_body(app, emb, started);
        if (out)
            http_reply_json(reply, 200, out);
        else
            http_reply_error(reply, 500, "out of memory");
    }
    free(emb);
}

static void h_embed_text(http_request *req, http_reply *reply, void *user)
{
    clip_app *app = user;
    double started = mono_s();
    const cJSON *body = body_object(req, reply);
    if (!body)
        return;
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(body, "text");
    if (!text || cJSON_IsNull(text)) {
        http_reply_error(reply, 400, "text is required (a string)");
        return;
    }
    if (!cJSON_IsString(text)) {
        http_reply_error(reply, 400, "text must be a string");
        return;
    }
    if (!require_ready(app, reply))
        return;
    float *emb = malloc((size_t)app->tables.dim * sizeof(float));
    hdm_err err = {0};
    bool cached = false;
    int r = emb ? clip_pipeline_text(app, text->valuestring, emb, &cached, &err)
                : hdm_err_set(&err, HDM_E_NOMEM, "out of memory");
    if (r < 0) {
        reply_failure(reply, r, &err);
    } else {
        cJSON *out = embedding_body(app, emb, started);
        if (out && cJSON_AddBoolToObject(out, "cached", cached)) {
            http_reply_json(reply, 200, out);
        } else {
            cJSON_Delete(out);
            http_reply_error(reply, 500, "out of memory");
        }
    }
    free(emb);
}

static void h_classify(http_request *req, http_reply *reply, void *user)
{
    clip_app *app = user;
    double started = mono_s();
    const cJSON *body = body_object(req, reply), *image, *prompts;
    int n_prompts, top_k;
    double threshold;
    hdm_err err = {0};
    if (!body || !(image = image_field(body, reply)))
        return;
    if (clip_classify_options(body, &prompts, &n_prompts, &top_k, &threshold, &err) < 0) {
        http_reply_error(reply, 400, "%s", err.msg);
        return;
    }
    if (!require_ready(app, reply))
        return;

    int dim = app->tables.dim;
    float *img = malloc((size_t)dim * sizeof(float));
    float *txt = malloc((size_t)dim * sizeof(float));
    double *scores = malloc((size_t)n_prompts * sizeof(double));
    clip_score *ranked = malloc((size_t)n_prompts * sizeof(clip_score));
    const char **texts = malloc((size_t)n_prompts * sizeof(char *));
    cJSON *out = NULL;
    int r;
    if (!img || !txt || !scores || !ranked || !texts) {
        r = hdm_err_set(&err, HDM_E_NOMEM, "out of memory");
        goto fail;
    }
    if ((r = clip_pipeline_image(app, image->valuestring, strlen(image->valuestring), img,
                                 &err)) < 0)
        goto fail;
    int i = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, prompts) {
        texts[i] = p->valuestring;
        if ((r = clip_pipeline_text(app, p->valuestring, txt, NULL, &err)) < 0) {
            hdm_err_prefix(&err, "prompts[%d]", i);
            goto fail;
        }
        scores[i] = clip_cosine(img, txt, dim);
        i++;
    }
    clip_scores_finish(scores, n_prompts, app->cfg->apply_softmax, app->cfg->logit_scale);
    int kept = clip_rank(scores, n_prompts, top_k, threshold, ranked);

    out = cJSON_CreateObject();
    cJSON *list = out ? cJSON_AddArrayToObject(out, "classifications") : NULL;
    bool ok = list != NULL;
    for (int k = 0; ok && k < kept; k++) {
        cJSON *c = cJSON_CreateObject();
        ok = c && cJSON_AddItemToArray(list, c) &&
             cJSON_AddStringToObject(c, "text", texts[ranked[k].index]) &&
             pyjson_add_float(c, "score", ranked[k].score) &&
             cJSON_AddNumberToObject(c, "rank", ranked[k].rank);
    }
    ok = ok && pyjson_add_float(out, "inference_time_ms", round2((mono_s() - started) * 1000)) &&
         cJSON_AddStringToObject(out, "model", app->cfg->model_name);
    if (!ok) {
        r = hdm_err_set(&err, HDM_E_NOMEM, "out of memory");
        goto fail;
    }
    http_reply_json(reply, 200, out);
    out = NULL;
    goto done;
fail:
    reply_failure(reply, r, &err);
done:
    cJSON_Delete(out);
    free(img);
    free(txt);
    free(scores);
    free(ranked);
    free(texts);
}

const http_route clip_routes[] = {
    {"GET", "/health", h_health, false, true},
    {"POST", "/v1/classify", h_classify, true, false},
    {"POST", "/v1/embed/image", h_embed_image, true, false},
    {"POST", "/v1/embed/text", h_embed_text, true, false},
    {NULL, NULL, NULL, false, false},
};
