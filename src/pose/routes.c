/*
 * routes.c - hailo-pose's endpoints, as the original answered them
 * (ORIGINAL-SERVICES.md §4.3): GET /health, /health/ready, /v1/models,
 * POST /v1/pose/detect (JSON or multipart).
 *
 * Errors have the original's shape {"error": {"message", "type"}}: 4xx
 * "invalid_request_error" naming what was wrong (where the original
 * answered 500 to a client's mistake, here it is a 400), 503
 * "service_unavailable" while the model is not registered or the manager
 * is unreachable or busy, 500 "internal_error" only when inference itself
 * fails.  Unknown paths and methods answer as aiohttp did: text/plain
 * "404: Not Found" and "405: Method Not Allowed".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/pyjson.h"
#include "common/timeutil.h"
#include "pose/pose.h"

static const char *error_type(int status)
{
    if (status == 503)
        return "service_unavailable";
    return status >= 500 ? "internal_error" : "invalid_request_error";
}

static cJSON *error_body(int status, const char *message)
{
    cJSON *body = cJSON_CreateObject(), *e;
    if (!body || !(e = cJSON_AddObjectToObject(body, "error")) ||
        !cJSON_AddStringToObject(e, "message", message) ||
        !cJSON_AddStringToObject(e, "type", error_type(status))) {
        cJSON_Delete(body);
        return NULL;
    }
    return body;
}

static void reply_error(http_reply *reply, int status, const char *message)
{
    cJSON *body = error_body(status, message);
    if (body)
        http_reply_json(reply, status, body);
    else
        http_reply_error(reply, 500, "out of memory");
}

void pose_layer_error(int status, const char *message, http_reply *reply)
{
    static const char invalid_json[] = "invalid JSON body: ";
    char text[512];
    if (status == 404 || status == 405) {
        /* aiohttp's own pages, which the original's clients saw. */
        http_reply_text(reply, status, "text/plain; charset=utf-8",
                        status == 404 ? "404: Not Found" : "405: Method Not Allowed");
        return;
    }
    if (strncmp(message, invalid_json, sizeof(invalid_json) - 1) == 0)
        snprintf(text, sizeof(text), "Invalid JSON: %s", message + sizeof(invalid_json) - 1);
    else if (status == 413)
        snprintf(text, sizeof(text), "%s (server.max_body_bytes)", message);
    else
        snprintf(text, sizeof(text), "%s", message);
    reply_error(reply, status, text);
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
    case HDM_E_DEADLINE_EXCEEDED:
        return 504;
    default:
        return 500;
    }
}

static void reply_failure(http_reply *reply, int r, const hdm_err *err)
{
    int status = failure_status(r);
    const char *msg = err->msg[0] ? err->msg : hdm_strerror(r);
    if (status >= 500)
        log_warn("%s", msg);
    reply_error(reply, status, msg);
}

static double uptime_s(const pose_app *app)
{
    /* timedelta.total_seconds(): microseconds. */
    return round((mono_s() - app->started_mono) * 1e6) / 1e6;
}

static void h_health(http_request *req, http_reply *reply, void *user)
{
    (void)req;
    pose_app *app = user;
    char reason[256], backend[32];
    bool ready = svc_keeper_ready(app->model, reason, sizeof(reason));
    svc_keeper_backend(app->model, backend, sizeof(backend));
    cJSON *body = cJSON_CreateObject();
    bool ok = body && cJSON_AddStringToObject(body, "status", "ok") &&
              cJSON_AddStringToObject(body, "model", app->cfg->model_name) &&
              cJSON_AddBoolToObject(body, "model_loaded", ready) &&
              pyjson_add_float(body, "uptime_seconds", uptime_s(app)) &&
              cJSON_AddStringToObject(body, "backend", backend) &&
              cJSON_AddBoolToObject(body, "manager_reachable", svc_keeper_reachable(app->model));
    if (ok && !ready)
        ok = cJSON_AddStringToObject(body, "reason", reason) != NULL;
    if (!ok) {
        cJSON_Delete(body);
        reply_error(reply, 500, "out of memory");
        return;
    }
    /* The original's /health is 200 whenever it answers; readiness is
     * /health/ready's. */
    http_reply_json(reply, 200, body);
}

static void h_ready(http_request *req, http_reply *reply, void *user)
{
    (void)req;
    pose_app *app = user;
    char reason[256];
    bool ready = svc_keeper_ready(app->model, reason, sizeof(reason));
    cJSON *body = cJSON_CreateObject();
    bool ok = body && cJSON_AddBoolToObject(body, "ready", ready);
    if (ok && !ready)
        ok = cJSON_AddStringToObject(body, "reason", "model_loading") &&
             cJSON_AddStringToObject(body, "detail", reason);
    if (!ok) {
        cJSON_Delete(body);
        reply_error(reply, 500, "out of memory");
        return;
    }
    http_reply_json(reply, ready ? 200 : 503, body);
}

static void h_models(http_request *req, http_reply *reply, void *user)
{
    (void)req;
    pose_app *app = user;
    cJSON *body = cJSON_CreateObject(), *data, *m;
    bool ok = body && (data = cJSON_AddArrayToObject(body, "data")) && (m = cJSON_CreateObject()) &&
              cJSON_AddItemToArray(data, m) &&
              cJSON_AddStringToObject(m, "id", app->cfg->model_name) &&
              cJSON_AddStringToObject(m, "object", "model") &&
              cJSON_AddNumberToObject(m, "created", (double)app->started_unix) &&
              cJSON_AddStringToObject(m, "owned_by", "hailo") &&
              cJSON_AddStringToObject(m, "task", "pose-estimation") &&
              cJSON_AddStringToObject(body, "object", "list");
    if (!ok) {
        cJSON_Delete(body);
        reply_error(reply, 500, "out of memory");
        return;
    }
    http_reply_json(reply, 200, body);
}

/* Hang-ups: an eventfd the HTTP layer's watcher writes when the client goes
 * away, so the manager drops the work (hdm_request_set_cancel_fd). */
static void cancel_hook(void *user)
{
    uint64_t one = 1;
    /* Cannot fail short of a counter overflow; the call then ends anyway
     * when the reply cannot be written. */
    if (write(*(int *)user, &one, sizeof(one)) < 0)
        return;
}

static void h_detect(http_request *req, http_reply *reply, void *user)
{
    pose_app *app = user;
    const pose_config *cfg = app->cfg;
    pose_request rq;
    pose_detection det;
    hdm_err err = {0};
    char reason[256];
    const http_form *form = http_request_form(req);
    int r = form ? pose_request_from_form(cfg, form, &rq, &err)
                 : pose_request_from_json(cfg, http_request_json(req), &rq, &err);
    if (r < 0) {
        reply_failure(reply, r, &err);
        return;
    }
    if (!svc_keeper_ready(app->model, reason, sizeof(reason))) {
        char msg[320];
        snprintf(msg, sizeof(msg), "model not ready: %s", reason);
        reply_error(reply, 503, msg);
        pose_request_free(&rq);
        return;
    }
    int cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (cancel_fd >= 0)
        http_request_on_close(req, cancel_hook, &cancel_fd);
    r = pose_pipeline_detect(app, &rq, cancel_fd, &det, &err);
    if (cancel_fd >= 0) {
        http_request_on_close(req, NULL, NULL);
        close(cancel_fd);
    }
    pose_request_free(&rq);
    if (r == -HDM_E_CANCELLED && err.code == HDM_E_CANCELLED &&
        strcmp(err.msg, "the client went away") == 0) {
        /* Nobody reads this reply: the client hung up and the manager
         * dropped the work. */
        log_info("client went away; inference cancelled");
        reply_error(reply, 499, err.msg);
        return;
    }
    if (r < 0) {
        reply_failure(reply, r, &err);
        return;
    }
    cJSON *body = pose_answer_json(&det, rq.keypoint_threshold, cfg->skeleton_connections);
    pose_detection_free(&det);
    if (!body) {
        reply_error(reply, 500, "out of memory writing the answer");
        return;
    }
    http_reply_json(reply, 200, body);
}

const http_route pose_routes[] = {
    {"GET", "/health", h_health, HTTP_BODY_NONE, true},
    {"GET", "/health/ready", h_ready, HTTP_BODY_NONE, true},
    {"GET", "/v1/models", h_models, HTTP_BODY_NONE, false},
    {"POST", "/v1/pose/detect", h_detect, HTTP_BODY_JSON | HTTP_BODY_MULTIPART, false},
    {NULL, NULL, NULL, HTTP_BODY_NONE, false},
};
