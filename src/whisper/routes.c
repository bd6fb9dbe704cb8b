/*
 * routes.c - hailo-whisper's endpoints: GET /health, /health/ready,
 * /v1/models; POST /v1/audio/transcriptions and /v1/audio/translations.
 *
 * Replies are what the original's aiohttp service sent: JSON printed as
 * json.dumps with Content-Type "application/json; charset=utf-8", errors
 * as {"error": {"message", "type"}} ("invalid_request_error" for the
 * client's mistakes, "internal_error" for ours), aiohttp's own text
 * answers for unknown paths and methods.  Order of checks in a
 * transcription: the Content-Type (415, by the layer), the multipart body
 * (400, by the layer), the fields (form.c: 400/413), readiness (503), the
 * audio (400/413), the manager (500/503/504).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/pyjson.h"
#include "common/timeutil.h"
#include "whisper/whisper.h"

#define JSON_TYPE "application/json; charset=utf-8"
#define TEXT_TYPE "text/plain; charset=utf-8"

/* The original's answer to a body that is not multipart (its exact words). */
#define NOT_MULTIPART                                                                              \
    "Content-Type must be multipart/form-data. This endpoint follows the OpenAI Whisper API "     \
    "specification and requires audio files to be uploaded as multipart form data with a "       \
    "'file' field. Raw audio payloads are not supported."

/* ---- replies ------------------------------------------------------------- */

/* Sends obj (consumed) as json.dumps prints it. */
static void reply_json(http_reply *reply, int status, cJSON *obj)
{
    char *text = obj ? pyjson_print(obj, PYJSON_DUMPS) : NULL;
    cJSON_Delete(obj);
    if (!text) {
        http_reply_text(reply, 500, TEXT_TYPE, "500 Internal Server Error\n\nout of memory");
        return;
    }
    http_reply_text(reply, status, JSON_TYPE, text);
    free(text);
}

char *whisper_error_json(int status, const char *message)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *e = o ? cJSON_AddObjectToObject(o, "error") : NULL;
    char *text = NULL;
    if (e && cJSON_AddStringToObject(e, "message", message) &&
        cJSON_AddStringToObject(e, "type",
                                status >= 500 ? "internal_error" : "invalid_request_error"))
        text = pyjson_print(o, PYJSON_DUMPS);
    cJSON_Delete(o);
    return text;
}

static void reply_error(http_reply *reply, int status, const char *message)
{
    char *text = whisper_error_json(status, message);
    if (!text) {
        http_reply_text(reply, 500, TEXT_TYPE, "500 Internal Server Error\n\nout of memory");
        return;
    }
    http_reply_text(reply, status, JSON_TYPE, text);
    free(text);
}

void whisper_layer_error(int status, const char *message, http_reply *reply)
{
    char msg[640];
    switch (status) {
    case 404:
        http_reply_text(reply, 404, TEXT_TYPE, "404: Not Found");
        return;
    case 405:
        http_reply_text(reply, 405, TEXT_TYPE, "405: Method Not Allowed");
        return;
    case 415:
        reply_error(reply, 415, NOT_MULTIPART);
        return;
    case 413:
        /* The upload limit seen from the body: the part's own check (form.c)
         * gives the original's sentence for a file within the body limit. */
        snprintf(msg, sizeof(msg), "Audio file too large: %s", message);
        reply_error(reply, 413, msg);
        return;
    case 400:
        if (strncmp(message, "invalid multipart body: ", 24) == 0)
            message += 24;
        else if (!strstr(message, "boundary") && !strstr(message, "multipart"))
            break;
        snprintf(msg, sizeof(msg), "Invalid multipart request: %s", message);
        reply_error(reply, 400, msg);
        return;
    default:
        break;
    }
    reply_error(reply, status, message);
}

int whisper_failure_status(int code)
{
    switch (code < 0 ? -code : code) {
    case HDM_E_BAD_REQUEST:
        return 400;
    case HDM_E_TOO_LARGE:
        return 413;
    case HDM_E_BUSY:
    case HDM_E_UNAVAILABLE:
    case HDM_E_RESOURCE_EXHAUSTED:
    case HDM_E_CANCELLED: /* the manager dropped it (shutting down): retry later */
        return 503;
    case HDM_E_DEADLINE_EXCEEDED:
        return 504;
    default:
        return 500;
    }
}

/* ---- hang-ups ------------------------------------------------------------ */

static void cancel_hook(void *user)
{
    int fd = *(int *)user;
    uint64_t one = 1;
    /* Cannot fail short of a counter overflow; the work then stops anyway
     * when the reply cannot be written. */
    if (write(fd, &one, sizeof(one)) < 0)
        return;
}

void whisper_cancel_begin(whisper_cancel *c, http_request *hr)
{
    c->hr = hr;
    c->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->fd >= 0)
        http_request_on_close(hr, cancel_hook, &c->fd);
}

void whisper_cancel_end(whisper_cancel *c)
{
    if (c->fd < 0)
        return;
    http_request_on_close(c->hr, NULL, NULL);
    close(c->fd);
    c->fd = -1;
}

/* ---- GET ----------------------------------------------------------------- */

static void health(http_request *hr, http_reply *reply, void *user)
{
    whisper_app *app = user;
    char backend[32];
    (void)hr;
    svc_keeper_backend(app->model, backend, sizeof(backend));
    cJSON *o = cJSON_CreateObject();
    /* The original's fields in its order, then ours. */
    if (!o || !cJSON_AddStringToObject(o, "status", "ok") ||
        !cJSON_AddStringToObject(o, "model", app->cfg->model_name) ||
        !cJSON_AddBoolToObject(o, "model_loaded", svc_keeper_ready(app->model, NULL, 0)) ||
        !pyjson_add_float(o, "uptime_seconds", mono_s() - app->started_at) ||
        !cJSON_AddNumberToObject(o, "transcriptions_processed",
                                 (double)atomic_load(&app->transcriptions)) ||
        !cJSON_AddStringToObject(o, "service", WHISPER_SERVICE_NAME) ||
        !cJSON_AddStringToObject(o, "version", HDM_VERSION) ||
        !cJSON_AddStringToObject(o, "backend", backend) ||
        !cJSON_AddBoolToObject(o, "manager_reachable", svc_keeper_reachable(app->model))) {
        cJSON_Delete(o);
        o = NULL;
    }
    reply_json(reply, 200, o);
}

static void health_ready(http_request *hr, http_reply *reply, void *user)
{
    whisper_app *app = user;
    char reason[256];
    (void)hr;
    bool ok = svc_keeper_ready(app->model, reason, sizeof(reason));
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddBoolToObject(o, "ready", ok) ||
              (!ok && (!cJSON_AddStringToObject(o, "reason", "model_loading") ||
                       !cJSON_AddStringToObject(o, "detail", reason))))) {
        cJSON_Delete(o);
        o = NULL;
    }
    reply_json(reply, ok ? 200 : 503, o);
}

static void models(http_request *hr, http_reply *reply, void *user)
{
    whisper_app *app = user;
    (void)hr;
    cJSON *o = cJSON_CreateObject();
    cJSON *data = o ? cJSON_AddArrayToObject(o, "data") : NULL;
    cJSON *m = data ? cJSON_CreateObject() : NULL;
    if (!m || !cJSON_AddItemToArray(data, m) ||
        !cJSON_AddStringToObject(m, "id", app->cfg->model_name) ||
        !cJSON_AddStringToObject(m, "object", "model") ||
        !cJSON_AddNumberToObject(m, "created", (double)app->started_wall) ||
        !cJSON_AddStringToObject(m, "owned_by", "hailo") ||
        !cJSON_AddStringToObject(o, "object", "list")) {
        if (m && !cJSON_GetArrayItem(data, 0))
            cJSON_Delete(m);
        cJSON_Delete(o);
        o = NULL;
    }
    reply_json(reply, 200, o);
}

/* ---- POST ---------------------------------------------------------------- */

static void reply_failure(http_request *hr, http_reply *reply, int rc, const hdm_err *err)
{
    const char *msg = err->msg[0] ? err->msg : hdm_strerror(rc);
    if (rc == -HDM_E_CANCELLED && http_request_closed(hr)) {
        /* Nobody reads this: the client hung up and its windows were dropped. */
        log_info("client went away; transcription cancelled");
        reply_error(reply, 499, msg);
        return;
    }
    int status = whisper_failure_status(rc);
    if (status >= 500)
        log_warn("transcription failed (%s): %s", hdm_error_code_name(rc), msg);
    reply_error(reply, status, msg);
    if (rc == -HDM_E_BUSY)
        http_reply_header(reply, "Retry-After", "5");
}

static void transcribe(http_request *hr, http_reply *reply, whisper_app *app, bool translate)
{
    const whisper_config *cfg = app->cfg;
    whisper_request req;
    hdm_err err = {0};
    char reason[256], msg[320];

    int status = whisper_request_parse(http_request_form(hr), cfg, translate, &req, &err);
    if (status != 0) {
        reply_error(reply, status, err.msg);
        goto out;
    }
    if (!svc_keeper_ready(app->model, reason, sizeof(reason))) {
        snprintf(msg, sizeof(msg), "the model is not ready: %s", reason);
        reply_error(reply, 503, msg);
        goto out;
    }
    /* The request's language, else (transcribing) the configured one, else
     * none: the model detects it.  A translation's default is detection:
     * the configured language is the one transcriptions expect. */
    const char *language = req.language ? req.language
                           : translate  ? NULL
                                        : whisper_config_language(cfg);
    if (req.stream) {
        int r = whisper_probe(app, req.file->data, req.file->len, req.name_hint, &err);
        if (r < 0) {
            reply_failure(hr, reply, r, &err);
            goto out;
        }
        if (whisper_stream_start(hr, app, &req, language) < 0)
            reply_error(reply, 500, "out of memory starting the stream");
        return; /* req now belongs to the stream */
    }

    whisper_job job = {
        .data = req.file->data,
        .len = req.file->len,
        .name_hint = req.name_hint,
        .language = language,
        .translate = translate,
    };
    whisper_cancel cancel;
    whisper_cancel_begin(&cancel, hr);
    job.cancel_fd = cancel.fd;
    int r = whisper_transcribe(app, &job, &err);
    whisper_cancel_end(&cancel);
    if (r < 0) {
        reply_failure(hr, reply, r, &err);
    } else {
        transcript_meta meta = {
            .task = translate ? "translate" : "transcribe",
            .language = whisper_reported_language(&job),
            .duration = job.duration,
            .temperature = cfg->temperature,
        };
        buf body = {0};
        if (transcript_render(&job.tr, req.format, &meta, &body, &err) < 0)
            reply_error(reply, 500, err.msg);
        else
            http_reply_bytes(reply, 200, transcript_content_type(req.format), body.data, body.len);
        buf_free(&body);
    }
    whisper_job_free(&job);
out:
    whisper_request_free(&req);
}

static void transcriptions(http_request *hr, http_reply *reply, void *user)
{
    transcribe(hr, reply, user, false);
}

static void translations(http_request *hr, http_reply *reply, void *user)
{
    transcribe(hr, reply, user, true);
}

const http_route whisper_routes[] = {
    {"GET", "/health", health, HTTP_BODY_NONE, true},
    {"GET", "/health/ready", health_ready, HTTP_BODY_NONE, true},
    {"GET", "/v1/models", models, HTTP_BODY_NONE, false},
    {"POST", "/v1/audio/transcriptions", transcriptions, HTTP_BODY_MULTIPART, false},
    {"POST", "/v1/audio/translations", translations, HTTP_BODY_MULTIPART, false},
    {NULL, NULL, NULL, HTTP_BODY_NONE, false},
};
