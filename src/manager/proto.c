/*
 * proto.c - request dispatch and answers (docs/PROTOCOL.md).
 *
 * DESIGN: each frame is parsed once by cJSON; cheap actions (ping, status,
 * device_status, cancel) are answered here in the loop thread; device work
 * becomes a job with every field validated, every path canonicalised through
 * the allowlist and every input tensor decoded, so the worker only runs it.
 * Answers keep the v1 shapes and sentences; `code` and the scheduling,
 * streaming and binary fields are extensions a v1 client never triggers.
 */
#include "proto.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "common/log.h"
#include "common/tensor.h"
#include "common/timeutil.h"
#include "infer_input.h"

#define REQUEST_ID_MAX 256
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

/* ---- sending ------------------------------------------------------------- */

/* Queues resp (consumed) on c. */
static void send_json(loop *l, conn *c, cJSON *resp, bool binary, const frame_attachment *att,
                      uint32_t n_att, size_t hint)
{
    if (!resp) {
        log_error("out of memory building an answer for connection %llu; closing it",
                  (unsigned long long)c->id);
        c->closing = true;
        loop_mark_dirty(l, c);
        return;
    }
    size_t before = conn_out_pending(c);
    if (conn_queue_json(c, resp, binary, att, n_att, hint) < 0) {
        log_error("out of memory queueing an answer for connection %llu; closing it",
                  (unsigned long long)c->id);
        c->closing = true;
    }
    atomic_fetch_add(&l->counters.bytes_out, conn_out_pending(c) - before);
    cJSON_Delete(resp);
    loop_mark_dirty(l, c);
}

static cJSON *error_json(const char *request_id, int code, const char *msg)
{
    cJSON *resp = cJSON_CreateObject();
    if (!resp)
        return NULL;
    code = code < 0 ? -code : code;
    if (code <= 0 || code >= HDM_E__COUNT)
        code = HDM_E_INTERNAL;
    if (!cJSON_AddStringToObject(resp, "error", msg && msg[0] ? msg : hdm_strerror(code)) ||
        !cJSON_AddStringToObject(resp, "code", hdm_error_code_name(code)) ||
        (request_id && !cJSON_AddStringToObject(resp, "request_id", request_id))) {
        cJSON_Delete(resp);
        return NULL;
    }
    return resp;
}

static void send_error(loop *l, conn *c, const char *request_id, bool binary, int code,
                       const char *msg)
{
    int pos = code < 0 ? -code : code;
    if (pos > 0 && pos < HDM_E__COUNT)
        atomic_fetch_add(&l->counters.errors[pos], 1);
    send_json(l, c, error_json(request_id, code, msg), binary, NULL, 0, 0);
}

void proto_fail_connection(loop *l, conn *c, int code, const char *msg)
{
    log_warn("connection %llu (uid %d, pid %d): %s; closing it", (unsigned long long)c->id,
             (int)c->uid, (int)c->pid, msg);
    atomic_fetch_add(&l->counters.requests[ACT_INVALID], 1);
    atomic_fetch_add(&l->counters.connections_dropped, 1);
    send_error(l, c, NULL, false, code, msg);
    c->closing = true;
}

/* ---- status -------------------------------------------------------------- */

cJSON *proto_status_json(loop *l, bool device_form, bool full)
{
    cJSON *st = cJSON_CreateObject();
    if (!st)
        return NULL;
    bool ok = cJSON_AddStringToObject(st, "status", "ok") != NULL;
    if (device_form) {
        device_info info = l->info;
        hdm_err err;
        hdm_err_clear(&err);
        cJSON *dev = cJSON_AddObjectToObject(st, "device");
        bool fresh = l->ops->identify(l->dev, &info, &err) == 0;
        ok = ok && dev && cJSON_AddStringToObject(dev, "device_id", info.device_id) &&
             cJSON_AddStringToObject(dev, "architecture", info.architecture) &&
             cJSON_AddStringToObject(dev, "fw_version", info.fw_version);
        if (ok && (!fresh || isnan(info.temperature_celsius)))
            ok = cJSON_AddNullToObject(dev, "temperature_celsius") != NULL;
        else if (ok)
            ok = cJSON_AddNumberToObject(dev, "temperature_celsius",
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
        ok = ok && cJSON_AddStringToObject(st, "device_id", l->info.device_id);
    }
    if (!ok) {
        cJSON_Delete(st);
        return NULL;
    }
    registry_status_json(l->reg, st, device_form);
    ok = cJSON_AddNumberToObject(st, "uptime_seconds",
                                 (double)(mono_ms() - l->started_ms) / 1000.0) &&
         cJSON_AddStringToObject(st, "socket_path", l->cfg->socket_path) &&
         cJSON_AddStringToObject(st, "backend", l->ops->name) &&
         cJSON_AddBoolToObject(st, "simulated", l->info.simulated);
    if (ok && full)
        sched_status_json(l->sched, st);
    else if (ok)
        ok = cJSON_AddNumberToObject(st, "queue_depth", (double)sched_depth(l->sched)) != NULL;
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
static int job_scheduling(loop *l, conn *c, job *j, const cJSON *req, hdm_err *err)
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
        j->priority = sched_default_priority(l->sched, j->client_name, c->uid, PRIO_NORMAL);
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

/* Builds the job for load_model / infer / unload_model.  Returns 0 and *out,
 * or a negative code with err (the caller answers). */
static int build_job(loop *l, conn *c, frame *f, const cJSON *req, proto_action act,
                     const char *request_id, job **out, hdm_err *err)
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

    job *j = calloc(1, sizeof(*j));
    if (!j)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    int rc;
    j->id = ++l->next_job_id;
    j->conn_id = c->id;
    j->binary = f->binary;
    j->action = act == ACT_LOAD_MODEL ? JOB_LOAD : act == ACT_INFER ? JOB_INFER : JOB_UNLOAD;
    j->kind = kind;
    j->input.kind = kind;
    j->peer_uid = c->uid;
    j->peer_pid = c->pid;
    j->received_ms = mono_ms();
    j->priority = PRIO_NORMAL;
    atomic_init(&j->cancelled, false);
    if ((request_id && !(j->request_id = strdup(request_id))) ||
        !(j->model_type = strdup(type_name))) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        goto fail;
    }
    rc = path_resolve_allowed(&l->allow, path->valuestring, "model_path", &j->model_path, err);
    if (rc < 0) {
        /* Unloading touches no file: a model whose file is gone can still be named. */
        if (!(act == ACT_UNLOAD_MODEL && rc == -HDM_E_NOT_FOUND && path->valuestring[0] == '/'))
            goto fail;
        hdm_err_clear(err);
        if (!(j->model_path = strdup(path->valuestring))) {
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
            goto fail;
        }
    }
    if ((rc = job_scheduling(l, c, j, req, err)) < 0)
        goto fail;
    if (act != ACT_UNLOAD_MODEL &&
        (rc = infer_model_params_check(j, field(req, "model_params"), &l->allow,
                                       act == ACT_LOAD_MODEL, err)) < 0)
        goto fail;

    if (act == ACT_INFER) {
        const cJSON *stream = field(req, "stream");
        if (stream && !cJSON_IsBool(stream)) {
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "stream must be true or false");
            goto fail;
        }
        j->stream = cJSON_IsTrue(stream);
        if (j->stream && kind != MODEL_VLM) {
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                             "stream is only supported for model_type vlm_chat and vlm");
            goto fail;
        }
        if (f->binary && f->n_attachments > 0) {
            if (!(j->request_frame = conn_detach_frame(c, f))) {
                rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
                goto fail;
            }
        }
        if ((rc = infer_input_parse(j, input, f->attachments, f->n_attachments, err)) < 0)
            goto fail;
        /* A CLIP model that is not resident cannot be loaded without its HEFs. */
        if (kind == MODEL_CLIP && !j->clip_image_hef &&
            !registry_is_resident(l->reg, kind, j->model_path)) {
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                             "model_params.image_hef_path required (the clip model is not "
                             "loaded)");
            goto fail;
        }
    }
    *out = j;
    return 0;
fail:
    job_free(j);
    return rc;
}

static void handle_device(loop *l, conn *c, frame *f, const cJSON *req, proto_action act,
                          const char *request_id)
{
    hdm_err err;
    hdm_err_clear(&err);
    job *j = NULL;
    int rc = build_job(l, c, f, req, act, request_id, &j, &err);
    if (rc < 0) {
        char name[64];
        snprintf(name, sizeof(name), "uid:%d/pid:%d", (int)c->uid, (int)c->pid);
        const cJSON *cn = field(req, "client_name");
        sched_record_rejected(l->sched,
                              cJSON_IsString(cn) && strlen(cn->valuestring) <= CLIENT_NAME_MAX
                                  ? cn->valuestring
                                  : name,
                              rc);
        send_error(l, c, request_id, f->binary, rc, err.msg);
        return;
    }
    if (l->stopping) {
        send_error(l, c, request_id, f->binary, HDM_E_UNAVAILABLE,
                   "Device manager is shutting down");
        job_free(j);
        return;
    }
    rc = loop_submit(l, c, j);
    if (rc == 0)
        return;
    cJSON *resp;
    if (rc == -HDM_E_BUSY) {
        char msg[HDM_ERR_MSG_MAX];
        snprintf(msg, sizeof(msg), "%s",
                 j->err.msg[0] ? j->err.msg : "Device queue is full; retry later");
        atomic_fetch_add(&l->counters.busy_rejections, 1);
        atomic_fetch_add(&l->counters.errors[HDM_E_BUSY], 1);
        resp = error_json(request_id, HDM_E_BUSY, msg);
        if (resp && !cJSON_AddNumberToObject(resp, "retry_after_ms", j->retry_after_ms)) {
            cJSON_Delete(resp);
            resp = NULL;
        }
        send_json(l, c, resp, f->binary, NULL, 0, 0);
    } else {
        send_error(l, c, request_id, f->binary, rc,
                   j->err.msg[0] ? j->err.msg : "could not queue the request");
    }
    job_free(j);
}

static void handle_cancel(loop *l, conn *c, frame *f, const cJSON *req, const char *request_id)
{
    const cJSON *target = field(req, "target_request_id");
    if (!cJSON_IsString(target) || !target->valuestring[0]) {
        send_error(l, c, request_id, f->binary, HDM_E_BAD_REQUEST, "target_request_id required");
        return;
    }
    if (sched_cancel_request(l->sched, c->id, target->valuestring) < 0) {
        char msg[HDM_ERR_MSG_MAX];
        snprintf(msg, sizeof(msg),
                 "No queued or running request with request_id %.256s on this connection",
                 target->valuestring);
        send_error(l, c, request_id, f->binary, HDM_E_NOT_FOUND, msg);
        return;
    }
    cJSON *resp = cJSON_CreateObject();
    if (resp && (!cJSON_AddStringToObject(resp, "status", "ok") ||
                 !cJSON_AddStringToObject(resp, "message", "Cancelled") ||
                 !cJSON_AddStringToObject(resp, "target_request_id", target->valuestring) ||
                 (request_id && !cJSON_AddStringToObject(resp, "request_id", request_id)))) {
        cJSON_Delete(resp);
        resp = NULL;
    }
    send_json(l, c, resp, f->binary, NULL, 0, 0);
}

void proto_handle_frame(loop *l, conn *c, frame *f)
{
    atomic_fetch_add(&l->counters.bytes_in, f->total_len);
    if (!utf8_valid(f->json, f->json_len)) {
        proto_fail_connection(l, c, HDM_E_BAD_REQUEST, "Invalid request: not valid UTF-8");
        return;
    }
    const char *end = NULL;
    cJSON *req = cJSON_ParseWithLengthOpts(f->json, f->json_len, &end, false);
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
        proto_fail_connection(l, c, HDM_E_BAD_REQUEST, msg);
        return;
    }
    if (!req) {
        const char *at = cJSON_GetErrorPtr();
        char msg[160];
        if (at && at >= f->json && at <= f->json + f->json_len)
            snprintf(msg, sizeof(msg), "Invalid JSON at byte %zu", (size_t)(at - f->json));
        else
            snprintf(msg, sizeof(msg), "Invalid JSON");
        proto_fail_connection(l, c, HDM_E_BAD_REQUEST, msg);
        return;
    }
    if (!cJSON_IsObject(req)) {
        cJSON_Delete(req);
        proto_fail_connection(l, c, HDM_E_BAD_REQUEST, "Invalid request: not a JSON object");
        return;
    }
    const cJSON *rid = field(req, "request_id");
    const char *request_id = NULL;
    const cJSON *action = field(req, "action");
    proto_action act = ACT_INVALID;
    if (rid && (!cJSON_IsString(rid) || strlen(rid->valuestring) > REQUEST_ID_MAX)) {
        atomic_fetch_add(&l->counters.requests[ACT_INVALID], 1);
        send_error(l, c, NULL, f->binary, HDM_E_BAD_REQUEST,
                   "request_id must be a string of at most 256 bytes");
        goto out;
    }
    request_id = rid ? rid->valuestring : NULL;
    if (cJSON_IsString(action))
        act = action_parse(action->valuestring);
    atomic_fetch_add(&l->counters.requests[act], 1);

    switch (act) {
    case ACT_PING:
    case ACT_STATUS:
    case ACT_DEVICE_STATUS: {
        cJSON *resp = proto_status_json(l, act == ACT_DEVICE_STATUS, act != ACT_PING);
        if (resp && act == ACT_PING) {
            /* ping is the liveness probe: the v1 status fields, not the
             * memory and registry figures (printing numbers dominates it). */
            cJSON_DeleteItemFromObjectCaseSensitive(resp, "memory");
            cJSON_DeleteItemFromObjectCaseSensitive(resp, "registry");
        }
        if (resp && request_id && !cJSON_AddStringToObject(resp, "request_id", request_id)) {
            cJSON_Delete(resp);
            resp = NULL;
        }
        send_json(l, c, resp, f->binary, NULL, 0, 0);
        break;
    }
    case ACT_LOAD_MODEL:
    case ACT_INFER:
    case ACT_UNLOAD_MODEL:
        handle_device(l, c, f, req, act, request_id);
        break;
    case ACT_CANCEL:
        handle_cancel(l, c, f, req, request_id);
        break;
    default: {
        char msg[160];
        if (!action)
            snprintf(msg, sizeof(msg), "Unknown action: None");
        else if (!cJSON_IsString(action))
            snprintf(msg, sizeof(msg), "Unknown action: (not a string)");
        else
            snprintf(msg, sizeof(msg), "Unknown action: %.100s", action->valuestring);
        send_error(l, c, request_id, f->binary, HDM_E_BAD_REQUEST, msg);
        break;
    }
    }
out:
    cJSON_Delete(req);
}

/* ---- answers to jobs ----------------------------------------------------- */

/* Replaces {"dtype","shape","attachment": i} objects in a result by data_b64
 * tensors (v1).  Returns the base64 bytes added, or -1 on a bad reference. */
static long result_to_v1(cJSON *node, const infer_output *out)
{
    return tensor_refs_to_b64(node, out->tensors, out->n_tensors);
}

static cJSON *job_error_json(const job *j)
{
    int code = j->rc < 0 ? -j->rc : j->rc;
    if (code <= 0 || code >= HDM_E__COUNT)
        code = HDM_E_INTERNAL;
    const char *msg = j->err.msg[0] ? j->err.msg : hdm_strerror(code);
    cJSON *resp = error_json(j->request_id, code, msg);
    if (resp && code == HDM_E_BUSY && j->retry_after_ms > 0)
        cJSON_AddNumberToObject(resp, "retry_after_ms", j->retry_after_ms);
    if (resp && j->stream)
        cJSON_AddBoolToObject(resp, "done", true);
    return resp;
}

void proto_answer_job(loop *l, conn *c, job *j)
{
    if (j->rc < 0) {
        int code = -j->rc;
        if (code > 0 && code < HDM_E__COUNT)
            atomic_fetch_add(&l->counters.errors[code], 1);
        send_json(l, c, job_error_json(j), j->binary, NULL, 0, 0);
        return;
    }
    cJSON *resp = cJSON_CreateObject();
    bool ok = resp && cJSON_AddStringToObject(resp, "status", "ok");
    size_t hint = 0;
    frame_attachment *atts = NULL;
    uint32_t n_att = 0;
    switch (j->action) {
    case JOB_LOAD:
        ok = ok && cJSON_AddStringToObject(resp, "model_path", j->model_path) &&
             cJSON_AddStringToObject(resp, "model_type", j->model_type) &&
             cJSON_AddStringToObject(resp, "message", j->message ? j->message : "Model loaded");
        if (ok && cJSON_IsObject(j->out.result)) {
            cJSON_AddItemToObject(resp, "model_info", j->out.result);
            j->out.result = NULL;
        }
        break;
    case JOB_UNLOAD:
        ok = ok &&
             cJSON_AddStringToObject(resp, "message", j->message ? j->message : "Model unloaded");
        break;
    case JOB_INFER: {
        cJSON *result = j->out.result ? j->out.result : cJSON_CreateNull();
        j->out.result = NULL;
        if (ok && result && !j->binary) {
            long added = result_to_v1(result, &j->out);
            if (added < 0) {
                cJSON_Delete(result);
                cJSON_Delete(resp);
                log_error("job %llu: backend result references a missing tensor",
                          (unsigned long long)j->id);
                send_error(l, c, j->request_id, j->binary, HDM_E_INTERNAL,
                           "Inference failed: the result references a missing output tensor");
                return;
            }
            hint = (size_t)added + 512;
        } else if (ok && result && j->out.n_tensors > 0) {
            atts = calloc(j->out.n_tensors, sizeof(*atts));
            if (!atts)
                ok = false;
            for (uint32_t i = 0; atts && i < j->out.n_tensors; i++) {
                atts[i].data = j->out.tensors[i].data;
                atts[i].len = j->out.tensors[i].nbytes;
            }
            n_att = j->out.n_tensors;
        }
        if (ok && result)
            cJSON_AddItemToObject(resp, "result", result);
        else
            cJSON_Delete(result);
        ok = ok && result &&
             cJSON_AddNumberToObject(resp, "inference_time_ms",
                                     (double)(j->inference_time_ms > 0 ? j->inference_time_ms : 0));
        if (ok && j->kind == MODEL_VLM) {
            cJSON *usage = cJSON_AddObjectToObject(resp, "usage");
            ok = usage && cJSON_AddNumberToObject(usage, "prompt_tokens", j->out.prompt_tokens) &&
                 cJSON_AddNumberToObject(usage, "completion_tokens", j->out.completion_tokens);
            if (ok && j->out.finish_reason)
                ok = cJSON_AddStringToObject(resp, "finish_reason", j->out.finish_reason) != NULL;
        }
        if (ok && j->stream)
            ok = cJSON_AddBoolToObject(resp, "done", true) != NULL;
        if (ok && j->load_time_ms > 0)
            ok = cJSON_AddNumberToObject(resp, "load_time_ms", round(j->load_time_ms)) != NULL;
        break;
    }
    }
    if (ok && j->request_id)
        ok = cJSON_AddStringToObject(resp, "request_id", j->request_id) != NULL;
    if (!ok) {
        cJSON_Delete(resp);
        free(atts);
        send_error(l, c, j->request_id, j->binary, HDM_E_NOMEM, "out of memory");
        return;
    }
    send_json(l, c, resp, j->binary, atts, n_att, hint);
    free(atts);
}

void proto_answer_delta(loop *l, conn *c, const job *j, const char *text, size_t len)
{
    char *copy = NULL;
    long n = conn_delta_text(c, j, text, len, &copy);
    if (n <= 0) {
        free(copy);
        return; /* nothing whole yet (or out of memory: the final frame has the full text) */
    }
    cJSON *resp = cJSON_CreateObject();
    bool ok = resp != NULL;
    if (ok) {
        ok = (!j->request_id || cJSON_AddStringToObject(resp, "request_id", j->request_id)) &&
             cJSON_AddStringToObject(resp, "status", "ok") &&
             cJSON_AddStringToObject(resp, "delta", copy) &&
             cJSON_AddBoolToObject(resp, "done", false);
    }
    free(copy);
    if (!ok) {
        cJSON_Delete(resp);
        return; /* a lost delta is repaired by the final frame's full result */
    }
    send_json(l, c, resp, j->binary, NULL, 0, len + 128);
}
