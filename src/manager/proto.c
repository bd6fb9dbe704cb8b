/*
 * proto.c - request dispatch (docs/PROTOCOL.md); the answers to finished jobs
 * are proto-answer.c, queueing them proto-send.c.
 *
 * DESIGN: each frame is parsed once by cJSON; cheap actions (ping, status,
 * device_status, cancel) are answered here in the loop thread; device work
 * becomes a job with every field validated, every path canonicalised (opened
 * beneath the allowed directories, or remembered from the model's load) and
 * every input tensor decoded, so the worker only runs it.
 * Answers keep the v1 shapes and sentences; `code` and the scheduling,
 * streaming and binary fields are extensions a v1 client never triggers.
 */
#include "proto-internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/pyjson.h"
#include "common/utf8.h"
#include "common/log.h"
#include "common/tensor.h"
#include "common/timeutil.h"
#include "infer_input.h"
#include "modelpath.h"
#include "rawjson.h"
#include "reqjson.h"

/* Longest request_id echoed, in bytes of its JSON text (a uuid is 38). */
#define REQUEST_ID_MAX 4096
#define CLIENT_NAME_MAX 63

static const char *const action_names[ACT__COUNT] = {
    [ACT_PING] = "ping",
    [ACT_STATUS] = "status",
    [ACT_DEVICE_STATUS] = "device_status",
    [ACT_LOAD_MODEL] = "load_model",
    [ACT_INFER] = "infer",
    [ACT_UNLOAD_MODEL] = "unload_model",
    [ACT_CANCEL] = "cancel",
    [ACT_INVALID] = "invalid",
};

const char *proto_action_name(proto_action a)
{
    return (a >= 0 && a < ACT__COUNT) ? action_names[a] : "invalid";
}

static proto_action action_parse(const char *name)
{
    for (int a = 0; a < ACT_INVALID; a++)
        if (strcmp(name, action_names[a]) == 0)
            return (proto_action)a;
    return ACT_INVALID;
}

void proto_fail_connection(manager *m, conn *c, int code, const char *msg)
{
    log_warn("connection %llu (uid %d, pid %d): %s; closing it", (unsigned long long)c->id,
             (int)c->uid, (int)c->pid, msg);
    atomic_fetch_add(&m->counters.requests[ACT_INVALID], 1);
    atomic_fetch_add(&m->counters.connections_dropped, 1);
    proto_send_error(m, c, NULL, false, code, msg);
    conn_finish(c);
}

/* ---- status -------------------------------------------------------------- */

cJSON *proto_status_json(manager *m, bool device_form, bool full)
{
    cJSON *st = cJSON_CreateObject();
    if (!st)
        return NULL;
    bool ok = cJSON_AddStringToObject(st, "status", "ok") != NULL;
    if (device_form) {
        device_info info = m->info;
        hdm_err err;
        hdm_err_clear(&err);
        cJSON *dev = cJSON_AddObjectToObject(st, "device");
        bool fresh = m->ops->identify(m->dev, &info, &err) == 0;
        ok = ok && dev && cJSON_AddStringToObject(dev, "device_id", info.device_id) &&
             cJSON_AddStringToObject(dev, "architecture", info.architecture) &&
             cJSON_AddStringToObject(dev, "fw_version", info.fw_version);
        if (ok && (!fresh || isnan(info.temperature_celsius)))
            ok = cJSON_AddNullToObject(dev, "temperature_celsius") != NULL;
        else if (ok)
            ok = pyjson_add_float(dev, "temperature_celsius",
                                  round(info.temperature_celsius * 10) / 10) != NULL;
        if (ok && !fresh)
            ok = cJSON_AddStringToObject(dev, "identify_error", err.msg) != NULL;
        if (ok && info.memory_total_bytes) {
            ok = cJSON_AddNumberToObject(dev, "memory_total_bytes",
                                         (double)info.memory_total_bytes) &&
                 cJSON_AddNumberToObject(dev, "memory_used_bytes", (double)info.memory_used_bytes);
        }
        ok = ok && cJSON_AddBoolToObject(dev, "simulated", info.simulated);
        ok = ok && cJSON_AddStringToObject(st, "device_id", info.device_id);
    } else {
        ok = ok && cJSON_AddStringToObject(st, "device_id", m->info.device_id);
    }
    if (!ok) {
        cJSON_Delete(st);
        return NULL;
    }
    registry_status_json(m->reg, st, device_form);
    ok = pyjson_add_float(st, "uptime_seconds", (double)(mono_ms() - m->started_ms) / 1000.0) &&
         cJSON_AddStringToObject(st, "socket_path", m->cfg->socket_path) &&
         cJSON_AddStringToObject(st, "backend", m->ops->name) &&
         cJSON_AddBoolToObject(st, "simulated", m->info.simulated);
    if (ok && full) {
        sched_status_json(m->sched, st);
        registry_device_time_json(m->reg, st);
    }
    else if (ok)
        ok = pyjson_add_uint(st, "queue_depth", (uint64_t)sched_depth(m->sched)) != NULL;
    if (!ok) {
        cJSON_Delete(st);
        return NULL;
    }
    return st;
}

/* ---- requests ------------------------------------------------------------ */

static const cJSON *field(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNull(v) ? NULL : v;
}

static bool printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* Fills the scheduling fields (priority, deadline, client name, keep_alive). */
static int job_scheduling(manager *m, conn *c, job *j, const cJSON *req, hdm_err *err)
{
    const cJSON *v = field(req, "client_name");
    if (v) {
        if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > CLIENT_NAME_MAX ||
            !printable_ascii(v->valuestring))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "client_name must be a printable string of 1..%d characters",
                               CLIENT_NAME_MAX);
        snprintf(j->client_name, sizeof(j->client_name), "%s", v->valuestring);
    } else {
        snprintf(j->client_name, sizeof(j->client_name), "uid:%d/pid:%d", (int)c->uid, (int)c->pid);
    }
    v = field(req, "priority");
    if (v) {
        if (!cJSON_IsString(v) || job_priority_parse(v->valuestring, &j->priority) < 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "priority must be one of realtime, interactive, normal, batch");
    } else {
        j->priority = sched_default_priority(m->sched, j->client_name, c->uid, PRIO_NORMAL);
    }
    v = field(req, "timeout_ms");
    if (v) {
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1 ||
            v->valuedouble > 86400000)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "timeout_ms must be an integer between 1 and 86400000");
        j->deadline_ms = j->received_ms + (int64_t)v->valuedouble;
    }
    v = field(req, "keep_alive");
    if (v) {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
            (v->valuedouble < 0 && v->valuedouble != -1) || v->valuedouble > 1e9)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "keep_alive must be -1 (pinned), 0 (unload after use) or seconds");
        j->has_keep_alive = true;
        j->keep_alive = v->valuedouble;
    }
    return 0;
}

/*
 * The model file a request names, canonical and inside the allowed
 * directories.  A file that is missing and one outside the allowed
 * directories get the same answer, the original manager's "Model file not
 * found: <path>" (not_found), so a client cannot probe which files exist;
 * the log says which it was.  A malformed path (empty, relative, too long)
 * is a bad_request saying so.
 */
static int model_path_resolve(manager *m, const conn *c, job *j, const char *path, hdm_err *err)
{
    /* A resident model reached by this spelling before: no file-system lookup. */
    if ((j->model_path = registry_remembered_path(m->reg, j->kind, path)) != NULL)
        return 0;
    hdm_err why;
    int rc = modelpath_resolve(modelpath_dirs_list(j->dirs), path, "model_path",
                               "Model file not found", &j->model_path, err, &why);
    if (rc == -HDM_E_NOT_FOUND && why.code != HDM_E_NOT_FOUND)
        log_warn("connection %llu (uid %d, pid %d): %s", (unsigned long long)c->id, (int)c->uid,
                 (int)c->pid, why.msg);
    if (rc == 0 && job_add_alias(j, path, j->model_path) < 0)
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    return rc;
}

/* The resolver for model_params paths: resident models' remembered spellings first. */
static char *remembered(void *ctx, model_kind kind, const char *requested)
{
    return registry_remembered_path(ctx, kind, requested);
}

/* Builds the job for load_model / infer / unload_model.  Returns 0 and *out,
 * or a negative code with err (the caller answers). */
static int build_job(manager *m, conn *c, frame *f, const cJSON *req, proto_action act,
                     const cJSON *request_id, job **out, hdm_err *err)
{
    const cJSON *path = field(req, "model_path");
    const cJSON *input = field(req, "input_data");
    const cJSON *type = field(req, "model_type");
    bool path_ok = cJSON_IsString(path) && path->valuestring[0];
    if (act == ACT_INFER && (!path_ok || !input))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model_path and input_data required");
    if (!path_ok)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model_path required");
    if (type && !cJSON_IsString(type))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model_type must be a string");
    const char *type_name = type ? type->valuestring : "vlm";
    model_kind kind;
    if (model_kind_parse(type_name, &kind) < 0) {
        char shown[128];
        snprintf(shown, sizeof(shown), "%s", type_name);
        return hdm_err_set(err, HDM_E_UNSUPPORTED, "Unsupported model_type: %s", shown);
    }

    job *j = manager_job_new(m);
    if (!j)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    int rc;
    j->conn_id = c->id;
    j->binary = f->binary;
    j->action = act == ACT_LOAD_MODEL ? JOB_LOAD : act == ACT_INFER ? JOB_INFER : JOB_UNLOAD;
    j->kind = kind;
    j->input.kind = kind;
    j->peer_uid = c->uid;
    j->peer_pid = c->pid;
    if ((request_id && !(j->request_id = cJSON_Duplicate(request_id, true))) ||
        !(j->model_type = strdup(type_name))) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        goto fail;
    }
    rc = model_path_resolve(m, c, j, path->valuestring, err);
    if (rc < 0) {
        /* Unloading touches no file: a model whose file is gone (or that
         * could never have been loaded) is simply not loaded. */
        if (!(act == ACT_UNLOAD_MODEL && rc == -HDM_E_NOT_FOUND))
            goto fail;
        hdm_err_clear(err);
        if (!(j->model_path = strdup(path->valuestring))) {
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
            goto fail;
        }
    }
    if ((rc = job_scheduling(m, c, j, req, err)) < 0)
        goto fail;
    modelpath_resolver resolver = {
        .allow = modelpath_dirs_list(j->dirs), .remembered = remembered, .ctx = m->reg};
    if (act != ACT_UNLOAD_MODEL &&
        (rc = infer_model_params_check(j, field(req, "model_params"), &resolver,
                                       act == ACT_LOAD_MODEL, err)) < 0) {
        hdm_err_prefix(err, "Failed to load model");
        goto fail;
    }

    if (act == ACT_INFER) {
        const cJSON *stream = field(req, "stream");
        if (stream && !cJSON_IsBool(stream)) {
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "stream must be true or false");
            goto fail;
        }
        j->stream = cJSON_IsTrue(stream);
        if (j->stream && !model_kind_generates_text(kind)) {
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                             "stream is only supported for model_type llm, vlm_chat and vlm");
            goto fail;
        }
        if (f->binary && f->n_attachments > 0) {
            if (!(j->request_frame = conn_detach_frame(c, f))) {
                rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
                goto fail;
            }
        }
        if ((rc = infer_input_parse(j, input, f->attachments, f->n_attachments, err)) < 0) {
            hdm_err_prefix(err, "Inference failed");
            goto fail;
        }
        /* A CLIP model that is not resident cannot be loaded without its HEFs. */
        if (kind == MODEL_CLIP && !j->clip_image_hef &&
            !registry_is_resident(m->reg, kind, j->model_path)) {
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                             "Failed to load model: model_params.image_hef_path required (the "
                             "clip model is not loaded)");
            goto fail;
        }
    }
    *out = j;
    return 0;
fail:
    job_free(j);
    return rc;
}

static void handle_device(manager *m, conn *c, frame *f, const cJSON *req, proto_action act,
                          const cJSON *request_id)
{
    hdm_err err;
    hdm_err_clear(&err);
    job *j = NULL;
    int rc = build_job(m, c, f, req, act, request_id, &j, &err);
    if (rc < 0) {
        char name[64];
        snprintf(name, sizeof(name), "uid:%d/pid:%d", (int)c->uid, (int)c->pid);
        const cJSON *cn = field(req, "client_name");
        sched_record_rejected(m->sched,
                              cJSON_IsString(cn) && strlen(cn->valuestring) <= CLIENT_NAME_MAX
                                  ? cn->valuestring
                                  : name,
                              rc);
        proto_send_error(m, c, request_id, f->binary, rc, err.msg);
        return;
    }
    if (m->stopping) {
        proto_send_error(m, c, request_id, f->binary, HDM_E_UNAVAILABLE,
                         "Device manager is shutting down");
        job_free(j);
        return;
    }
    rc = manager_submit(m, c, j);
    if (rc == 0)
        return;
    cJSON *resp;
    if (rc == -HDM_E_BUSY) {
        char msg[HDM_ERR_MSG_MAX];
        snprintf(msg, sizeof(msg), "%s",
                 j->err.msg[0] ? j->err.msg : "Device queue is full; retry later");
        atomic_fetch_add(&m->counters.busy_rejections, 1);
        atomic_fetch_add(&m->counters.errors[HDM_E_BUSY], 1);
        resp = proto_error_json(request_id, HDM_E_BUSY, msg);
        if (resp && !cJSON_AddNumberToObject(resp, "retry_after_ms", j->retry_after_ms)) {
            cJSON_Delete(resp);
            resp = NULL;
        }
        proto_send_json(m, c, resp, f->binary, NULL, 0, 0);
    } else {
        proto_send_error(m, c, request_id, f->binary, rc,
                         j->err.msg[0] ? j->err.msg : "could not queue the request");
    }
    job_free(j);
}

/*
 * A top-level id field (request_id, target_request_id) as the client wrote
 * it: a copy of a string item, or a raw item holding the exact JSON text of
 * any other value (a double would turn 12345678901234567890 or 1.0 into
 * something else).  NULL when absent or null; -HDM_E_* with err otherwise.
 */
static int id_field(const frame *f, const cJSON *req, const char *name, cJSON **out, hdm_err *err)
{
    *out = NULL;
    const cJSON *v = field(req, name);
    if (!v)
        return 0;
    if (cJSON_IsString(v)) {
        if (strlen(v->valuestring) > REQUEST_ID_MAX)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s is longer than %d bytes", name,
                               REQUEST_ID_MAX);
        *out = cJSON_CreateString(v->valuestring);
    } else {
        const char *text;
        size_t len;
        rawjson_scan(f->json, f->json_len, name, &text, &len, NULL, NULL);
        if (!text)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s cannot be read", name);
        if (len > REQUEST_ID_MAX)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s is longer than %d bytes", name,
                               REQUEST_ID_MAX);
        char *copy = strndup(text, len);
        *out = copy ? cJSON_CreateRaw(copy) : NULL;
        free(copy);
    }
    return *out ? 0 : hdm_err_set(err, HDM_E_NOMEM, "out of memory");
}

static void handle_cancel(manager *m, conn *c, frame *f, const cJSON *req, const cJSON *request_id)
{
    hdm_err err;
    hdm_err_clear(&err);
    cJSON *target = NULL;
    if (id_field(f, req, "target_request_id", &target, &err) < 0) {
        proto_send_error(m, c, request_id, f->binary, err.code, err.msg);
        return;
    }
    if (!target || (cJSON_IsString(target) && !target->valuestring[0])) {
        cJSON_Delete(target);
        proto_send_error(m, c, request_id, f->binary, HDM_E_BAD_REQUEST,
                         "target_request_id required");
        return;
    }
    if (sched_cancel_request(m->sched, c->id, target) < 0) {
        char msg[HDM_ERR_MSG_MAX];
        snprintf(msg, sizeof(msg),
                 "No queued or running request with request_id %.256s on this connection",
                 target->valuestring);
        proto_send_error(m, c, request_id, f->binary, HDM_E_NOT_FOUND, msg);
        cJSON_Delete(target);
        return;
    }
    cJSON *resp = cJSON_CreateObject();
    if (resp && (!cJSON_AddStringToObject(resp, "status", "ok") ||
                 !cJSON_AddStringToObject(resp, "message", "Cancelled") ||
                 !cJSON_AddItemToObject(resp, "target_request_id", target) ||
                 !proto_add_request_id(resp, request_id))) {
        cJSON_Delete(resp);
        resp = NULL;
    } else if (!resp) {
        cJSON_Delete(target);
    }
    proto_send_json(m, c, resp, f->binary, NULL, 0, 0);
}

void proto_handle_frame(manager *m, conn *c, frame *f)
{
    atomic_fetch_add(&m->counters.bytes_in, f->total_len);
    if (!utf8_valid(f->json, f->json_len)) {
        proto_fail_connection(m, c, HDM_E_BAD_REQUEST, "Invalid request: not valid UTF-8");
        return;
    }
    /* JSON text never holds a raw NUL (cJSON would cut a string there). */
    const char *raw_nul = memchr(f->json, 0, f->json_len);
    if (raw_nul) {
        char msg[160];
        snprintf(msg, sizeof(msg), "Invalid JSON at byte %zu: a NUL byte",
                 (size_t)(raw_nul - f->json));
        proto_fail_connection(m, c, HDM_E_BAD_REQUEST, msg);
        return;
    }
    const char *end = NULL;
    cJSON *req = reqjson_parse(f->json, f->json_len, &end);
    /* One JSON value per frame: anything but white space after it is an
     * error (cJSON alone would ignore it, so two readers could disagree). */
    while (req && end && end < f->json + f->json_len &&
           (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (req && end && end < f->json + f->json_len) {
        cJSON_Delete(req);
        char msg[160];
        snprintf(msg, sizeof(msg), "Invalid JSON at byte %zu: data after the object",
                 (size_t)(end - f->json));
        proto_fail_connection(m, c, HDM_E_BAD_REQUEST, msg);
        return;
    }
    if (!req) {
        const char *at = cJSON_GetErrorPtr();
        char msg[160];
        if (at && at >= f->json && at <= f->json + f->json_len)
            snprintf(msg, sizeof(msg), "Invalid JSON at byte %zu", (size_t)(at - f->json));
        else
            snprintf(msg, sizeof(msg), "Invalid JSON");
        proto_fail_connection(m, c, HDM_E_BAD_REQUEST, msg);
        return;
    }
    if (!cJSON_IsObject(req)) {
        cJSON_Delete(req);
        proto_fail_connection(m, c, HDM_E_BAD_REQUEST, "Invalid request: not a JSON object");
        return;
    }
    const cJSON *action = field(req, "action");
    cJSON *request_id = NULL;
    proto_action act = ACT_INVALID;
    /* cJSON strings end at a NUL: "a\u0000b" would be read as "a".  Such a
     * request is refused rather than answered for a different id or run on
     * a truncated path or prompt. */
    const char *nul_key = NULL;
    size_t nul_len = 0;
    if (rawjson_has_nul_escape(f->json, f->json_len))
        rawjson_scan(f->json, f->json_len, NULL, NULL, NULL, &nul_key, &nul_len);
    hdm_err err;
    hdm_err_clear(&err);
    if ((nul_key && nul_len == 10 && memcmp(nul_key, "request_id", 10) == 0) ||
        id_field(f, req, "request_id", &request_id, &err) < 0) {
        atomic_fetch_add(&m->counters.requests[ACT_INVALID], 1);
        proto_send_error(m, c, NULL, f->binary, HDM_E_BAD_REQUEST,
                         nul_key ? "request_id must not contain a NUL character (\\u0000)"
                                 : err.msg);
        goto out;
    }
    if (nul_key) {
        char msg[160];
        snprintf(msg, sizeof(msg), "Invalid request: %.*s contains a NUL character (\\u0000)",
                 nul_len > 64 ? 64 : (int)nul_len, nul_key);
        atomic_fetch_add(&m->counters.requests[ACT_INVALID], 1);
        proto_send_error(m, c, request_id, f->binary, HDM_E_BAD_REQUEST, msg);
        goto out;
    }
    if (cJSON_IsString(action))
        act = action_parse(action->valuestring);
    atomic_fetch_add(&m->counters.requests[act], 1);

    switch (act) {
    case ACT_PING:
    case ACT_STATUS:
    case ACT_DEVICE_STATUS: {
        cJSON *resp = proto_status_json(m, act == ACT_DEVICE_STATUS, act != ACT_PING);
        if (resp && act == ACT_PING) {
            /* ping is the liveness probe: the v1 status fields, not the
             * memory and registry figures (printing numbers dominates it). */
            cJSON_DeleteItemFromObjectCaseSensitive(resp, "memory");
            cJSON_DeleteItemFromObjectCaseSensitive(resp, "registry");
        }
        if (resp && !proto_add_request_id(resp, request_id)) {
            cJSON_Delete(resp);
            resp = NULL;
        }
        proto_send_json(m, c, resp, f->binary, NULL, 0, 0);
        break;
    }
    case ACT_LOAD_MODEL:
    case ACT_INFER:
    case ACT_UNLOAD_MODEL:
        handle_device(m, c, f, req, act, request_id);
        break;
    case ACT_CANCEL:
        handle_cancel(m, c, f, req, request_id);
        break;
    default: {
        char msg[160];
        if (!action)
            snprintf(msg, sizeof(msg), "Unknown action: None");
        else if (!cJSON_IsString(action))
            snprintf(msg, sizeof(msg), "Unknown action: (not a string)");
        else
            snprintf(msg, sizeof(msg), "Unknown action: %.100s", action->valuestring);
        proto_send_error(m, c, request_id, f->binary, HDM_E_BAD_REQUEST, msg);
        break;
    }
    }
out:
    cJSON_Delete(request_id);
    cJSON_Delete(req);
}
