/*
 * proto-answer.c - the answers to finished jobs and streaming deltas: v1
 * (base64 tensors, per-frame shapes) or binary (attachments), in the
 * original manager's wording.
 */
#include "proto-internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/pyjson.h"
#include "common/tensor.h"

/*
 * Shapes: a backend gives every output tensor the per-frame shape HailoRT
 * reports (backends/backend.h), which is what the original manager answered
 * and what v1 answers carry.  Binary answers keep the form libhailodm has
 * always received: a leading 1, put in front of a shape that does not start
 * with 1 already ([512] -> [1,512], [256,320,1] -> [1,256,320,1],
 * [1,77,512] stays).  Applies that to every tensor object in node.
 */
static bool result_binary_shapes(cJSON *node)
{
    cJSON *shape = cJSON_GetObjectItemCaseSensitive(node, "shape");
    if (cJSON_IsObject(node) && cJSON_GetObjectItemCaseSensitive(node, "attachment") &&
        cJSON_IsArray(shape)) {
        const cJSON *first = shape->child;
        if (first && cJSON_IsNumber(first) && first->valuedouble == 1)
            return true;
        cJSON *one = cJSON_CreateNumber(1);
        if (one && cJSON_InsertItemInArray(shape, 0, one))
            return true;
        cJSON_Delete(one);
        return false;
    }
    cJSON *child;
    cJSON_ArrayForEach(child, node)
    {
        if (!result_binary_shapes(child))
            return false;
    }
    return true;
}

/* Replaces {"dtype","shape","attachment": i} objects in a result by data_b64
 * tensors (v1).  Returns the base64 bytes added, or -1 on a bad reference. */
static long result_to_v1(cJSON *node, const infer_output *out)
{
    return tensor_refs_to_b64(node, out->tensors, out->n_tensors);
}

/*
 * Floats the original manager answered as Python floats, whatever their
 * value: whisper's segment times (0.0, not 0, or a Python client reads an
 * int).  Backends build plain numbers, which in-process readers need; the
 * answer turns them into items printed as Python prints floats.
 */
static bool result_python_floats(cJSON *result, model_kind kind)
{
    static const char *const times[] = {"start", "end"};
    if (kind != MODEL_WHISPER)
        return true;
    cJSON *seg;
    cJSON_ArrayForEach(seg, cJSON_GetObjectItemCaseSensitive(result, "segments"))
    {
        for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(seg, times[i]);
            if (!cJSON_IsNumber(v))
                continue;
            cJSON *f = pyjson_float(v->valuedouble);
            if (!f || !cJSON_ReplaceItemInObjectCaseSensitive(seg, times[i], f)) {
                cJSON_Delete(f);
                return false;
            }
        }
    }
    return true;
}

static cJSON *job_error_json(const job *j)
{
    int code = j->rc < 0 ? -j->rc : j->rc;
    if (code <= 0 || code >= HDM_E__COUNT)
        code = HDM_E_INTERNAL;
    hdm_err e = j->err;
    if (!e.msg[0])
        hdm_err_set(&e, code, "%s", hdm_strerror(code));
    /* The original manager's wording, which clients match on; a cancelled
     * request was not a failure of the model. */
    if (code != HDM_E_CANCELLED && j->failed_in == JOB_PHASE_LOAD)
        hdm_err_prefix(&e, "Failed to load model");
    else if (code != HDM_E_CANCELLED && j->failed_in == JOB_PHASE_INFER)
        hdm_err_prefix(&e, "Inference failed");
    cJSON *resp = proto_error_json(j->request_id, code, e.msg);
    if (resp && code == HDM_E_BUSY && j->retry_after_ms > 0)
        cJSON_AddNumberToObject(resp, "retry_after_ms", j->retry_after_ms);
    if (resp && j->stream)
        cJSON_AddBoolToObject(resp, "done", true);
    return resp;
}

void proto_answer_job(manager *m, conn *c, job *j)
{
    if (j->rc < 0) {
        int code = -j->rc;
        if (code > 0 && code < HDM_E__COUNT)
            atomic_fetch_add(&m->counters.errors[code], 1);
        proto_send_json(m, c, job_error_json(j), j->binary, NULL, 0, 0);
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
                proto_send_error(m, c, j->request_id, j->binary, HDM_E_INTERNAL,
                                 "Inference failed: the result references a missing output tensor");
                return;
            }
            hint = (size_t)added + 512;
        } else if (ok && result && j->out.n_tensors > 0) {
            ok = result_binary_shapes(result);
            atts = calloc(j->out.n_tensors, sizeof(*atts));
            if (!atts)
                ok = false;
            for (uint32_t i = 0; atts && i < j->out.n_tensors; i++) {
                atts[i].data = j->out.tensors[i].data;
                atts[i].len = j->out.tensors[i].nbytes;
            }
            n_att = j->out.n_tensors;
        }
        ok = ok && result && result_python_floats(result, j->kind);
        if (ok && result)
            cJSON_AddItemToObject(resp, "result", result);
        else
            cJSON_Delete(result);
        ok = ok && result &&
             cJSON_AddNumberToObject(resp, "inference_time_ms",
                                     (double)(j->inference_time_ms > 0 ? j->inference_time_ms : 0));
        if (ok && model_kind_generates_text(j->kind)) {
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
    if (ok)
        ok = proto_add_request_id(resp, j->request_id);
    if (!ok) {
        cJSON_Delete(resp);
        free(atts);
        proto_send_error(m, c, j->request_id, j->binary, HDM_E_NOMEM, "out of memory");
        return;
    }
    proto_send_json(m, c, resp, j->binary, atts, n_att, hint);
    free(atts);
}

void proto_answer_delta(manager *m, conn *c, const job *j, const char *text, size_t len)
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
        ok = proto_add_request_id(resp, j->request_id) &&
             cJSON_AddStringToObject(resp, "status", "ok") &&
             cJSON_AddStringToObject(resp, "delta", copy) &&
             cJSON_AddBoolToObject(resp, "done", false);
    }
    free(copy);
    if (!ok) {
        cJSON_Delete(resp);
        return; /* a lost delta is repaired by the final frame's full result */
    }
    proto_send_json(m, c, resp, j->binary, NULL, 0, len + 128);
}
