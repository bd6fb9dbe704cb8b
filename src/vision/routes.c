/*
 * routes.c - hailo-vision's HTTP endpoints (SERVICES.md).
 *
 * Handlers run on the HTTP layer's pool threads; several chat requests run
 * at once and the manager serialises the device work, so there is no lock
 * here.  Order of checks in a chat request: the body (400/404), then
 * readiness (503), then the images (400/413), then the manager.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/pyjson.h"
#include "common/timeutil.h"
#include "http/http.h"
#include "vision/vision.h"

static void health(http_request *hr, http_reply *reply, void *user)
{
    vision_app *app = user;
    char backend[32];
    (void)hr;
    svc_keeper_backend(app->model, backend, sizeof(backend));
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddStringToObject(o, "status", "ok");
        cJSON_AddStringToObject(o, "service", "hailo-vision");
        cJSON_AddStringToObject(o, "version", HDM_VERSION);
        cJSON_AddStringToObject(o, "model", app->cfg->model_name);
        cJSON_AddBoolToObject(o, "model_loaded", svc_keeper_ready(app->model, NULL, 0));
        pyjson_add_float(o, "uptime_seconds", mono_s() - app->started_at);
        cJSON_AddStringToObject(o, "backend", backend);
    }
    http_reply_json(reply, 200, o);
}

static void ready(http_request *hr, http_reply *reply, void *user)
{
    vision_app *app = user;
    char reason[256];
    (void)hr;
    bool ok = svc_keeper_ready(app->model, reason, sizeof(reason));
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddBoolToObject(o, "ready", ok);
        if (!ok)
            cJSON_AddStringToObject(o, "reason", reason);
    }
    http_reply_json(reply, ok ? 200 : 503, o);
}

static cJSON *model_obj(const vision_app *app)
{
    cJSON *m = cJSON_CreateObject();
    if (!m)
        return NULL;
    cJSON_AddStringToObject(m, "id", app->cfg->model_name);
    cJSON_AddStringToObject(m, "object", "model");
    /* The service's start: a stable "created" for the life of the process. */
    cJSON_AddNumberToObject(m, "created", (double)app->started_wall);
    cJSON_AddStringToObject(m, "owned_by", "hailo");
    return m;
}

static void models(http_request *hr, http_reply *reply, void *user)
{
    (void)hr;
    cJSON *o = cJSON_CreateObject();
    cJSON *data = o && cJSON_AddStringToObject(o, "object", "list")
                      ? cJSON_AddArrayToObject(o, "data")
                      : NULL;
    cJSON *m = data ? model_obj(user) : NULL;
    if (!m) {
        cJSON_Delete(o);
        openai_reply_error(reply, 500, "out of memory", NULL, NULL);
        return;
    }
    cJSON_AddItemToArray(data, m);
    http_reply_json(reply, 200, o);
}

static void model_one(http_request *hr, http_reply *reply, void *user)
{
    (void)hr;
    cJSON *m = model_obj(user);
    if (!m)
        openai_reply_error(reply, 500, "out of memory", NULL, NULL);
    else
        http_reply_json(reply, 200, m);
}

bool vision_check_ready(vision_app *app, http_reply *reply)
{
    char reason[256], msg[320];
    if (svc_keeper_ready(app->model, reason, sizeof(reason)))
        return true;
    snprintf(msg, sizeof(msg), "the model is not ready: %s", reason);
    openai_reply_error(reply, 503, msg, NULL, "model_not_ready");
    return false;
}

int vision_load_frames(vision_app *app, const chat_image *images, size_t n, uint8_t **out,
                       hdm_err *err)
{
    *out = NULL;
    if (n == 0)
        return 0;
    uint8_t *frames = malloc(n * VISION_FRAME_BYTES);
    if (!frames)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for %zu images", n);
    for (size_t i = 0; i < n; i++) {
        int r = vision_image_load(&app->images, images[i].ref, images[i].bare_base64,
                                  images[i].what, frames + i * VISION_FRAME_BYTES, err);
        if (r < 0) {
            free(frames);
            return r;
        }
    }
    *out = frames;
    return 0;
}

/* A streamed chat request: the request and frames, owned by the stream. */
typedef struct vision_stream {
    vision_app *app;
    chat_request req;
    uint8_t *frames;
} vision_stream;

static int stream_run(void *user, stop_emit_fn emit, void *emit_user, int cancel_fd,
                      chat_result *out, hdm_err *err)
{
    vision_stream *vs = user;
    return gen_run(vs->app->client, vs->app->model, vs->app->cfg, vs->req.prompt, vs->frames,
                   vs->req.n_images, &vs->req.params, emit, emit_user, cancel_fd, out, err);
}

static void stream_free(void *user)
{
    vision_stream *vs = user;
    chat_request_free(&vs->req);
    free(vs->frames);
    free(vs);
}

int vision_stream_start(http_request *hr, vision_app *app, chat_request *req, uint8_t *frames)
{
    vision_stream *vs = calloc(1, sizeof(*vs));
    if (!vs) {
        chat_request_free(req);
        free(frames);
        return -HDM_E_NOMEM;
    }
    vs->app = app;
    vs->req = *req;
    memset(req, 0, sizeof(*req));
    vs->frames = frames;
    return openai_stream_start(hr, app->cfg->model_name, vs->req.params.include_usage, stream_run,
                               vs, stream_free);
}

static void chat_completions(http_request *hr, http_reply *reply, void *user)
{
    vision_app *app = user;
    chat_request req;
    hdm_err err = {0};
    const char *param = NULL;
    uint8_t *frames = NULL;
    chat_result res = {0};

    int r = chat_parse(http_request_json(hr), app->cfg, &req, &param, &err);
    if (r < 0) {
        openai_reply_error(reply, completion_status_for(r), err.msg, param,
                           r == -HDM_E_BAD_REQUEST ? "invalid_request" : NULL);
        return;
    }
    if (!vision_check_ready(app, reply))
        goto out;
    if ((r = vision_load_frames(app, req.images, req.n_images, &frames, &err)) < 0) {
        openai_reply_error(reply, completion_status_for(r), err.msg, "messages",
                           r == -HDM_E_TOO_LARGE ? "image_too_large" : "invalid_image");
        goto out;
    }
    if (req.params.stream) {
        if (vision_stream_start(hr, app, &req, frames) < 0)
            openai_reply_error(reply, 500, "out of memory starting the stream", NULL, NULL);
        return; /* req and frames now belong to the stream */
    }
    char id[48];
    long created = (long)time(NULL);
    completion_new_id(id, sizeof(id));
    chat_cancel vc;
    chat_cancel_begin(&vc, hr);
    r = gen_run(app->client, app->model, app->cfg, req.prompt, frames, req.n_images, &req.params,
                NULL, NULL, vc.fd, &res, &err);
    chat_cancel_end(&vc);
    if (r < 0) {
        openai_reply_gen_error(reply, r, &err, http_request_closed(hr));
        goto out;
    }
    cJSON *o =
        completion_build(id, created, app->cfg->model_name, &res, svc_keeper_load_ms(app->model));
    if (!o)
        openai_reply_error(reply, 500, "out of memory building the answer", NULL, NULL);
    else
        http_reply_json(reply, 200, o);
out:
    chat_result_free(&res);
    free(frames);
    chat_request_free(&req);
}

void vision_routes_build(const vision_config *cfg, http_route *routes, char *models_path)
{
    snprintf(models_path, 256, "/v1/models/%s", cfg->model_name);
    const http_route table[] = {
        {"GET", "/health", health, false, true},
        {"GET", "/health/ready", ready, false, true},
        {"GET", "/v1/models", models, false, false},
        {"GET", models_path, model_one, false, false},
        {"POST", "/v1/chat/completions", chat_completions, HTTP_BODY_JSON, false},
        {"POST", "/v1/vision/analyze", analyze_handle, HTTP_BODY_JSON, false},
        {NULL, NULL, NULL, false, false},
    };
    _Static_assert(sizeof(table) / sizeof(table[0]) <= VISION_MAX_ROUTES, "route table size");
    memcpy(routes, table, sizeof(table));
}
