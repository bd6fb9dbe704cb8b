/*
 * routes.c - hailo-depth's endpoints (ORIGINAL-SERVICES.md §3.3):
 * GET /health, /health/ready, /v1/info, /v1/models and
 * POST /v1/depth/estimate, answered as the original's aiohttp service
 * answered them: json.dumps bodies with "application/json; charset=utf-8",
 * errors as {"error": {"message", "type"}}, the framework's own 404 and 405
 * as text.
 *
 * Statuses: 400 "invalid_request" for everything the client got wrong
 * (where the original raised and answered 500 for an undecodable image, bad
 * base64 or an unknown colormap, we answer 400), 413 for a body over
 * input.max_image_mb, 503 "service_unavailable" while the model is not
 * registered, the manager is unreachable or busy, or the memory budget
 * stays full, 500 "internal_error" when the inference itself fails.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/pyjson.h"
#include "common/timeutil.h"
#include "depth/depth.h"

/* ---- replies ------------------------------------------------------------------- */

/* A JSON body printed as json.dumps, with aiohttp's Content-Type. */
static void reply_json(http_reply *reply, int status, cJSON *body)
{
    char *text = body ? pyjson_print(body, PYJSON_DUMPS) : NULL;
    cJSON_Delete(body);
    if (!text) {
        http_reply_error(reply, 500, "out of memory writing the reply");
        return;
    }
    http_reply_take(reply, status, DEPTH_JSON_TYPE, text, strlen(text), NULL, NULL);
}

static const char *error_type(int status)
{
    if (status == 503)
        return "service_unavailable";
    if (status == 401)
        return "authentication_error";
    if (status == 499)
        return "cancelled";
    return status >= 500 ? "internal_error" : "invalid_request";
}

/* {"error": {"message": ..., "type": ...}} */
static void reply_error(http_reply *reply, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_error(http_reply *reply, int status, const char *fmt, ...)
{
    char msg[HDM_ERR_MSG_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON *body = cJSON_CreateObject(), *e;
    if (!body || !(e = cJSON_AddObjectToObject(body, "error")) ||
        !cJSON_AddStringToObject(e, "message", msg) ||
        !cJSON_AddStringToObject(e, "type", error_type(status))) {
        cJSON_Delete(body);
        body = NULL;
    }
    reply_json(reply, status, body);
}

void depth_layer_error(int status, const char *message, http_reply *reply)
{
    if (status == 404 || status == 405) {
        /* aiohttp's own answers, text/plain. */
        char text[64];
        snprintf(text, sizeof(text), "%d: %s", status,
                 status == 404 ? "Not Found" : "Method Not Allowed");
        http_reply_text(reply, status, "text/plain; charset=utf-8", text);
        return;
    }
    if (status == 415) {
        /* The original read the body by its Content-Type and answered any
         * other type (or none) this way. */
        reply_error(reply, 400, "Unsupported content type");
        return;
    }
    reply_error(reply, status, "%s", message);
}

/* The status for a failure code (either sign). */
static int failure_status(int code)
{
    switch (code < 0 ? -code : code) {
    case HDM_E_BAD_REQUEST:
        return 400;
    case HDM_E_TOO_LARGE:
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
    const char *msg = err->msg[0] ? err->msg : hdm_strerror(r);
    int status = failure_status(r);
    if (status >= 500)
        log_warn("depth estimation failed: %s", msg);
    reply_error(reply, status, "%s", msg);
    if (status == 503)
        http_reply_header(reply, "Retry-After", "1");
}

/* ---- hang-ups ------------------------------------------------------------------- */

/* The HTTP layer's hang-up hook writes the eventfd the manager call and the
 * budget wait watch (hdm_request_set_cancel_fd). */
static void cancel_hook(void *user)
{
    int fd = *(int *)user;
    uint64_t one = 1;
    if (write(fd, &one, sizeof(one)) < 0)
        return; /* only a counter overflow: the reply write then fails anyway */
}

/* ---- handlers ------------------------------------------------------------------- */

static void h_health(http_request *req, http_reply *reply, void *user)
{
    (void)req;
    depth_app *app = user;
    char reason[256], backend[32];
    bool ready = svc_keeper_ready(app->model, reason, sizeof(reason));
    svc_keeper_backend(app->model, backend, sizeof(backend));
    double up = round((mono_s() - app->started_at) * 1e6) / 1e6; /* timedelta's microseconds */
    cJSON *b = cJSON_CreateObject();
    bool ok =
        b && cJSON_AddStringToObject(b, "status", "ok") &&
        cJSON_AddStringToObject(b, "service", DEPTH_SERVICE_NAME) &&
        cJSON_AddStringToObject(b, "model", app->cfg->model_name) &&
        cJSON_AddStringToObject(b, "model_type", app->cfg->model_type) &&
        cJSON_AddBoolToObject(b, "model_loaded", ready) &&
        (ready ? cJSON_AddNullToObject(b, "last_error")
               : cJSON_AddStringToObject(b, "last_error", reason)) &&
        cJSON_AddNumberToObject(b, "inference_count", (double)atomic_load(&app->inference_count)) &&
        pyjson_add_float(b, "uptime_seconds", up) &&
        cJSON_AddStringToObject(b, "backend", backend) &&
        cJSON_AddBoolToObject(b, "manager_reachable", svc_keeper_reachable(app->model));
    if (!ok) {
        cJSON_Delete(b);
        b = NULL;
    }
    reply_json(reply, 200, b);
}

static void h_ready(http_request *req, http_reply *reply, void *user)
{
    (void)req;
    depth_app *app = user;
    char reason[256];
    bool ready = svc_keeper_ready(app->model, reason, sizeof(reason));
    cJSON *b = cJSON_CreateObject();
    bool ok = b && cJSON_AddBoolToObject(b, "ready", ready);
    if (ok && !ready)
        ok = cJSON_AddStringToObject(b, "reason", "model_loading") &&
             cJSON_AddStringToObject(b, "detail", reason);
    if (!ok) {
        cJSON_Delete(b);
        b = NULL;
    }
    reply_json(reply, ready ? 200 : 503, b);
}

static void h_info(http_request *req, http_reply *reply, void *user)
{
    (void)req;
    depth_app *app = user;
    static const char *const formats[] = {"numpy", "image", "both", "depth_png_16"};
    bool ready = svc_keeper_ready(app->model, NULL, 0);
    cJSON *b = cJSON_CreateObject(), *m, *c;
    bool ok =
        b && cJSON_AddStringToObject(b, "service", DEPTH_SERVICE_NAME) &&
        cJSON_AddStringToObject(b, "version", DEPTH_API_VERSION) &&
        (m = cJSON_AddObjectToObject(b, "model")) &&
        cJSON_AddStringToObject(m, "name", app->cfg->model_name) &&
        cJSON_AddStringToObject(m, "type", app->cfg->model_type) &&
        cJSON_AddBoolToObject(m, "loaded", ready) &&
        (c = cJSON_AddObjectToObject(b, "capabilities")) &&
        cJSON_AddBoolToObject(c, "monocular", true) &&
        cJSON_AddBoolToObject(c, "stereo", strcmp(app->cfg->model_type, "stereo") == 0) &&
        cJSON_AddItemToObject(c, "output_formats", cJSON_CreateStringArray(formats, 4)) &&
        cJSON_AddItemToObject(c, "colormaps", cJSON_CreateStringArray(depthpost_colormap_names, 5));
    if (!ok) {
        cJSON_Delete(b);
        b = NULL;
    }
    reply_json(reply, 200, b);
}

static void h_models(http_request *req, http_reply *reply, void *user)
{
    (void)req;
    (void)user;
    /* A constant in the original, whatever model.name says. */
    cJSON *b = cJSON_CreateObject(), *list, *m;
    bool ok = b && (list = cJSON_AddArrayToObject(b, "models")) && (m = cJSON_CreateObject()) &&
              cJSON_AddItemToArray(list, m) && cJSON_AddStringToObject(m, "name", "scdepthv3") &&
              cJSON_AddStringToObject(m, "type", "monocular") &&
              cJSON_AddStringToObject(m, "description", "Efficient monocular depth estimation");
    if (!ok) {
        cJSON_Delete(b);
        b = NULL;
    }
    reply_json(reply, 200, b);
}

/* What a sent reply gives back: its bytes, and its share of the budget. */
typedef struct reply_ticket {
    depth_budget *budget;
    size_t held;
    void *data;
} reply_ticket;

static void ticket_release(void *arg)
{
    reply_ticket *t = arg;
    free(t->data);
    depth_budget_release(t->budget, t->held);
    free(t);
}

static void h_estimate(http_request *req, http_reply *reply, void *user)
{
    depth_app *app = user;
    const depth_config *cfg = app->cfg;
    const http_form *form = http_request_form(req);
    depth_request rq;
    depth_map map = {0};
    buf body = {0};
    hdm_err err = {0};
    int cancel_fd = -1;
    int r = form ? depth_request_from_form(cfg, form, &rq, &err)
                 : depth_request_from_json(cfg, &app->fetch, http_request_json(req), &rq, &err);
    if (r < 0)
        goto fail;
    char reason[256];
    if (!svc_keeper_ready(app->model, reason, sizeof(reason))) {
        r = hdm_err_set(&err, HDM_E_UNAVAILABLE, "model not ready: %s", reason);
        goto fail;
    }
    /* The original's clock: from before decoding to after normalising. */
    double started = mono_s();
    cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (cancel_fd >= 0)
        http_request_on_close(req, cancel_hook, &cancel_fd);
    r = depth_pipeline_run(app, &rq, cancel_fd, &map, &err);
    double inference_ms = (mono_s() - started) * 1000.0;
    if (r < 0)
        goto fail;
    atomic_fetch_add(&app->inference_count, 1);
    r = depth_reply_write(cfg, &rq, &map, inference_ms, &body, &err); /* frees map.data */
    if (r < 0)
        goto fail;
    /* Keep the reply's own bytes until it is sent; the rest goes back now. */
    reply_ticket *t = malloc(sizeof(*t));
    if (!t) {
        r = hdm_err_set(&err, HDM_E_NOMEM, "out of memory");
        goto fail;
    }
    *t = (reply_ticket){.budget = app->budget, .held = body.len, .data = body.data};
    if (map.reserved > body.len)
        depth_budget_release(app->budget, map.reserved - body.len);
    else
        t->held = map.reserved;
    map.reserved = 0;
    http_reply_take(reply, 200, DEPTH_JSON_TYPE, body.data, body.len, ticket_release, t);
    body = (buf){0};
    goto done;
fail:
    if (r == -HDM_E_CANCELLED && cancel_fd >= 0 && http_request_closed(req)) {
        /* Nobody reads this: the client hung up and the work was dropped. */
        log_info("client went away; depth estimation abandoned");
        reply_error(reply, 499, "%s", err.msg);
    } else {
        reply_failure(reply, r, &err);
    }
done:
    if (cancel_fd >= 0) {
        http_request_on_close(req, NULL, NULL);
        close(cancel_fd);
    }
    depth_map_free(&map);
    if (map.reserved)
        depth_budget_release(app->budget, map.reserved);
    buf_free(&body);
    depth_request_free(&rq);
}

const http_route depth_routes[] = {
    {"GET", "/health", h_health, HTTP_BODY_NONE, true},
    {"GET", "/health/ready", h_ready, HTTP_BODY_NONE, true},
    {"GET", "/v1/info", h_info, HTTP_BODY_NONE, false},
    {"GET", "/v1/models", h_models, HTTP_BODY_NONE, false},
    {"POST", "/v1/depth/estimate", h_estimate, HTTP_BODY_JSON | HTTP_BODY_MULTIPART, false},
    {NULL, NULL, NULL, HTTP_BODY_NONE, false},
};
