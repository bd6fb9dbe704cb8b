/*
 * routes.c - hailo-ocr's endpoints and the JSON of their replies, as the
 * original answers them (ORIGINAL-SERVICES.md §2.3): GET /health,
 * /health/ready, /models (also /v1/models), /cache/stats, and
 * POST /v1/ocr/extract (JSON or multipart/form-data).
 *
 * Replies are printed as Python's json.dumps (the HTTP layer's
 * HTTP_JSON_PYTHON style) with float fields as floats (pyjson), so a
 * client sees the original's bytes.  Every error is JSON
 * {"success": false, "error": "..."}: 400 for the client's mistakes, 413
 * over a limit, 503 while the model is not ready, the manager is away or
 * the service is busy, 500 for a failed inference.  Checks run in that
 * order: the body, readiness, the languages, the image.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/pyjson.h"
#include "common/timeutil.h"
#include "ocr/ocr.h"

cJSON *ocr_error_body(int status, const char *message)
{
    (void)status;
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddFalseToObject(o, "success") ||
              !cJSON_AddStringToObject(o, "error", message))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static void reply_error(http_reply *reply, int status, const char *msg)
{
    cJSON *o = ocr_error_body(status, msg);
    if (!o) {
        http_reply_error(reply, 500, "out of memory");
        return;
    }
    http_reply_json(reply, status, o);
}

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
        log_warn("%s", msg);
    reply_error(reply, status, msg);
    if (status == 503)
        http_reply_header(reply, "Retry-After", "1");
}

static void reply_oom(http_reply *reply, cJSON *partial)
{
    cJSON_Delete(partial);
    reply_error(reply, 500, "out of memory building the reply");
}

/* VmRSS in MB, as the original reports it (kB // 1024). */
static long rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb / 1024;
}

/* ---- GET ---------------------------------------------------------------------- */

static void h_health(http_request *hr, http_reply *reply, void *user)
{
    ocr_app *app = user;
    const ocr_config *cfg = app->cfg;
    char reason[256], backend[32];
    ocr_model_info info;
    (void)hr;
    bool ready = svc_keeper_ready(app->model, reason, sizeof(reason));
    svc_keeper_backend(app->model, backend, sizeof(backend));
    if (ocr_app_info(app, &info) < 0)
        return reply_oom(reply, NULL);
    cJSON *o = cJSON_CreateObject(), *langs = NULL;
    bool ok = o && cJSON_AddStringToObject(o, "status", "ok") &&
              cJSON_AddBoolToObject(o, "models_loaded", ready) &&
              (langs = cJSON_AddArrayToObject(o, "languages_supported"));
    for (size_t i = 0; ok && i < cfg->n_langs; i++)
        if (info.have && info.found[i])
            ok = cJSON_AddItemToArray(langs, cJSON_CreateString(cfg->langs[i].code));
    ok = ok && cJSON_AddNumberToObject(o, "memory_usage_mb", (double)rss_mb()) &&
         cJSON_AddNumberToObject(o, "uptime_seconds", (double)(long)(mono_s() - app->started_at)) &&
         cJSON_AddNumberToObject(o, "model_loads", info.loads) &&
         cJSON_AddStringToObject(o, "hailo_device", cfg->device ? cfg->device : "") &&
         /* ours */
         cJSON_AddStringToObject(o, "service", OCR_SERVICE_NAME) &&
         cJSON_AddStringToObject(o, "version", HDM_VERSION) &&
         cJSON_AddStringToObject(o, "backend", backend) &&
         cJSON_AddBoolToObject(o, "manager_reachable", svc_keeper_reachable(app->model));
    if (ok && !ready)
        ok = cJSON_AddStringToObject(o, "reason", reason) != NULL;
    ocr_model_info_free(&info);
    if (!ok)
        return reply_oom(reply, o);
    /* 200 while the process serves, as the original (whose port opened
     * only after the load); /health/ready is the readiness probe. */
    http_reply_json(reply, 200, o);
}

static void h_ready(http_request *hr, http_reply *reply, void *user)
{
    ocr_app *app = user;
    char reason[256];
    (void)hr;
    bool ready = svc_keeper_ready(app->model, reason, sizeof(reason));
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddBoolToObject(o, "ready", ready);
    if (ok && !ready)
        ok = cJSON_AddStringToObject(o, "reason", "models_loading") &&
             cJSON_AddStringToObject(o, "detail", reason);
    if (!ok)
        return reply_oom(reply, o);
    http_reply_json(reply, ready ? 200 : 503, o);
}

static void h_models(http_request *hr, http_reply *reply, void *user)
{
    ocr_app *app = user;
    const ocr_config *cfg = app->cfg;
    ocr_model_info info;
    (void)hr;
    bool ready = svc_keeper_ready(app->model, NULL, 0);
    if (ocr_app_info(app, &info) < 0)
        return reply_oom(reply, NULL);
    cJSON *o = cJSON_CreateObject(), *data = NULL, *m = NULL;
    bool ok = o && (data = cJSON_AddArrayToObject(o, "data")) &&
              (m = cJSON_CreateObject()) && cJSON_AddItemToArray(data, m) &&
              cJSON_AddStringToObject(m, "id", "detection") &&
              cJSON_AddStringToObject(m, "name", cfg->detection_hef) &&
              cJSON_AddStringToObject(m, "type", "detection") &&
              cJSON_AddStringToObject(m, "status", ready ? "loaded" : "pending");
    for (size_t i = 0; ok && i < cfg->n_langs; i++) {
        char id[64];
        snprintf(id, sizeof(id), "recognition_%s", cfg->langs[i].code);
        const char *status = !info.have      ? "pending"
                             : !info.found[i] ? "not_found"
                             : ready          ? "loaded"
                                              : "pending";
        ok = (m = cJSON_CreateObject()) && cJSON_AddItemToArray(data, m) &&
             cJSON_AddStringToObject(m, "id", id) &&
             cJSON_AddStringToObject(m, "name", cfg->langs[i].hef) &&
             cJSON_AddStringToObject(m, "type", "recognition") &&
             cJSON_AddStringToObject(m, "language", cfg->langs[i].code) &&
             cJSON_AddStringToObject(m, "status", status);
    }
    ok = ok && cJSON_AddStringToObject(o, "object", "list");
    ocr_model_info_free(&info);
    if (!ok)
        return reply_oom(reply, o);
    http_reply_json(reply, 200, o);
}

/* The original's tests ask for it; there is no result cache (nor was there). */
static void h_cache_stats(http_request *hr, http_reply *reply, void *user)
{
    (void)hr;
    (void)user;
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddFalseToObject(o, "enabled") ||
        !cJSON_AddNumberToObject(o, "items_cached", 0))
        return reply_oom(reply, o);
    http_reply_json(reply, 200, o);
}

/* ---- POST /v1/ocr/extract ---------------------------------------------------------- */

static void cancel_hook(void *user)
{
    uint64_t one = 1;
    /* Cannot fail short of a counter overflow; then nothing is cancelled. */
    if (write(*(int *)user, &one, sizeof(one)) < 0)
        return;
}

/* Detection is done: the request's memory is past its peak, so the next
 * request's body may be read (the HTTP layer's back-pressure). */
static void detected_hook(void *user)
{
    http_request_release_body(user);
}

static cJSON *point(int x, int y)
{
    cJSON *p = cJSON_CreateArray();
    if (p && (!cJSON_AddItemToArray(p, cJSON_CreateNumber(x)) ||
              !cJSON_AddItemToArray(p, cJSON_CreateNumber(y)))) {
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}

static bool add_points(cJSON *parent, const char *name, const int xy[8])
{
    cJSON *a = cJSON_AddArrayToObject(parent, name);
    for (int i = 0; a && i < 4; i++)
        if (!cJSON_AddItemToArray(a, point(xy[2 * i], xy[2 * i + 1])))
            return false;
    return a != NULL;
}

static cJSON *region_json(const ocr_config *cfg, const ocr_region *r)
{
    const ocr_box *b = &r->box;
    const int bbox[8] = {b->x, b->y, b->x + b->w, b->y, b->x + b->w, b->y + b->h, b->x, b->y + b->h};
    int quad[8];
    for (int i = 0; i < 8; i++)
        quad[i] = b->quad[i];
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddStringToObject(o, "text", r->text) &&
              pyjson_add_float(o, "confidence", r->confidence) && add_points(o, "bbox", bbox) &&
              cJSON_AddStringToObject(o, "type", "text") &&
              /* ours, after the original's fields */
              add_points(o, "polygon", quad) &&
              cJSON_AddStringToObject(o, "language",
                                      r->lang >= 0 ? cfg->langs[r->lang].code : "");
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* " ".join of the texts that are not blank (text.strip() non-empty). */
static char *joined_text(const ocr_result *res)
{
    size_t cap = 1;
    for (size_t i = 0; i < res->n; i++)
        cap += strlen(res->regions[i].text) + 1;
    char *s = malloc(cap), *p = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < res->n; i++) {
        const char *t = res->regions[i].text;
        if (t[strspn(t, " \t\n\r\v\f")] == '\0')
            continue;
        if (p != s)
            *p++ = ' ';
        size_t n = strlen(t);
        memcpy(p, t, n);
        p += n;
    }
    *p = '\0';
    return s;
}

static bool add_performance(cJSON *o, const ocr_result *res)
{
    cJSON *perf = cJSON_AddObjectToObject(o, "performance");
    /* ints, truncated, as int(seconds * 1000) */
    return perf && cJSON_AddNumberToObject(perf, "detection_time_ms", (double)(long)res->detection_ms) &&
           cJSON_AddNumberToObject(perf, "recognition_time_ms",
                                   (double)(long)res->recognition_ms) &&
           cJSON_AddNumberToObject(perf, "total_time_ms", (double)(long)res->total_ms);
}

static cJSON *extract_json(const ocr_config *cfg, const ocr_result *res, const int *idx,
                           size_t n_langs)
{
    char *text = joined_text(res);
    cJSON *o = cJSON_CreateObject(), *regions = NULL;
    bool ok = text && o && cJSON_AddTrueToObject(o, "success") &&
              cJSON_AddStringToObject(o, "text", text) &&
              (regions = cJSON_AddArrayToObject(o, "regions"));
    free(text);
    double sum = 0.0;
    for (size_t i = 0; ok && i < res->n; i++) {
        ok = cJSON_AddItemToArray(regions, region_json(cfg, &res->regions[i]));
        sum += res->regions[i].confidence; /* Python: sum() of the floats, in order */
    }
    if (ok && res->n > 0) {
        /* The languages whose reading won a region, in the request's order. */
        cJSON *langs = cJSON_AddArrayToObject(o, "languages_detected");
        ok = langs != NULL;
        for (size_t l = 0; ok && l < n_langs; l++) {
            bool used = false;
            for (size_t i = 0; i < res->n && !used; i++)
                used = res->regions[i].lang == idx[l];
            if (used)
                ok = cJSON_AddItemToArray(langs, cJSON_CreateString(cfg->langs[idx[l]].code));
        }
        cJSON *st = ok ? cJSON_AddObjectToObject(o, "statistics") : NULL;
        ok = st && cJSON_AddNumberToObject(st, "total_regions", (double)res->n) &&
             pyjson_add_float(st, "average_confidence", sum / (double)res->n);
    }
    ok = ok && add_performance(o, res);
    if (ok && res->n > 0) {
        cJSON *hi = cJSON_AddObjectToObject(o, "hailo_info");
        ok = hi && cJSON_AddStringToObject(hi, "device", cfg->device ? cfg->device : "") &&
             cJSON_AddStringToObject(hi, "detection_model", cfg->detection_hef) &&
             cJSON_AddStringToObject(hi, "recognition_model", cfg->langs[idx[0]].hef);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static void h_extract(http_request *hr, http_reply *reply, void *user)
{
    ocr_app *app = user;
    const ocr_config *cfg = app->cfg;
    ocr_request rq;
    ocr_model_info info = {0};
    ocr_result res = {0};
    hdm_err err = {0};
    image img = {0};
    uint8_t *loaded = NULL;
    char reason[256];
    int idx[OCR_MAX_LANGS];
    size_t n_langs = 0;

    const http_form *form = http_request_form(hr);
    int r = form ? ocr_request_from_form(form, &rq, &err)
                 : ocr_request_from_json(http_request_json(hr), &rq, &err);
    if (r < 0)
        return reply_failure(reply, r, &err);
    if (!svc_keeper_ready(app->model, reason, sizeof(reason))) {
        snprintf(err.msg, sizeof(err.msg), "model not ready: %s", reason);
        return reply_failure(reply, -HDM_E_UNAVAILABLE, &err);
    }
    if (ocr_app_info(app, &info) < 0)
        return reply_oom(reply, NULL);
    if ((r = ocr_request_languages(cfg, &info, &rq, idx, &n_langs, &err)) < 0)
        goto fail;
    const uint8_t *data = rq.bytes;
    size_t len = rq.bytes_len;
    if (!data && !form && ocr_source_kind_of(rq.ref, rq.ref_len) != OCR_SOURCE_FILE) {
        /* base64 in JSON: decoded over the parsed body's own copy of the
         * string (ours: the handler owns the request and reads nothing of
         * its JSON after this), so no second buffer of the image's size
         * is in memory beside it (docs/BENCHMARKS.md, resident memory). */
        uint8_t *in_place = NULL;
        r = ocr_source_decode_in_place((char *)rq.ref, rq.ref_len, &in_place, &len, &err);
        if (r < 0) {
            hdm_err_prefix(&err, "Failed to load image");
            goto fail;
        }
        data = in_place;
    } else if (!data) {
        r = ocr_source_load(rq.ref, rq.ref_len, &app->allowed_dirs, (size_t)cfg->max_body_bytes,
                            &loaded, &len, &err);
        if (r < 0) {
            if (r != -HDM_E_NOMEM)
                hdm_err_prefix(&err, "Failed to load image");
            goto fail;
        }
        data = loaded;
        /* The reference is read: the body that held it can go while this
         * request waits for an image slot. */
        http_request_free_body(hr);
    }
    /* Decoding waits for one of images.max_concurrent slots; the encoded
     * bytes are not needed after it. */
    r = ocr_host_decode(cfg, data, len, &img, &err);
    free(loaded);
    loaded = NULL;
    if (r < 0)
        goto fail;
    /* The image is decoded: the body (and rq, which points into it) is not
     * needed any more (an uploaded file's part was read in place until
     * now).  Its back-pressure ticket goes after detection. */
    http_request_free_body(hr);
    /* A client that hangs up cancels its device work (as hailo-vision). */
    int cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (cancel_fd >= 0)
        http_request_on_close(hr, cancel_hook, &cancel_fd);
    r = ocr_pipeline_run(app, &info, &img, idx, n_langs, cancel_fd, detected_hook, hr, &res, &err);
    if (cancel_fd >= 0) {
        http_request_on_close(hr, NULL, NULL);
        close(cancel_fd);
    }
    image_free(&img); /* gives the slot to the next request */
    if (r == -HDM_E_CANCELLED && http_request_closed(hr)) {
        /* Nobody reads this reply. */
        log_info("client went away; OCR request cancelled");
        reply_error(reply, 499, err.msg);
        goto done;
    }
    if (r < 0)
        goto fail;
    cJSON *o = extract_json(cfg, &res, idx, n_langs);
    if (!o)
        reply_oom(reply, NULL);
    else
        http_reply_json(reply, 200, o);
    goto done;
fail:
    reply_failure(reply, r, &err);
done:
    free(loaded);
    image_free(&img);
    ocr_result_free(&res);
    ocr_model_info_free(&info);
}

const http_route ocr_routes[] = {
    {"GET", "/health", h_health, HTTP_BODY_NONE, true},
    {"GET", "/health/ready", h_ready, HTTP_BODY_NONE, true},
    {"GET", "/models", h_models, HTTP_BODY_NONE, false},
    {"GET", "/v1/models", h_models, HTTP_BODY_NONE, false},
    {"GET", "/cache/stats", h_cache_stats, HTTP_BODY_NONE, false},
    {"POST", "/v1/ocr/extract", h_extract, HTTP_BODY_JSON | HTTP_BODY_MULTIPART, false},
    {NULL, NULL, NULL, HTTP_BODY_NONE, false},
};
