/*
 * fuzz_frame.c - the manager's request path from raw socket bytes to a job:
 * frame_parse (v1 and binary frames, back to back), then for each complete
 * frame what proto.c does before touching the device: UTF-8 check, JSON
 * parse (reqjson_parse, checked against cJSON's own parse: the same tree
 * and end), request_id/action, model_type, model_path confinement,
 * model_params checks and input_data parsing into an infer_input (with the
 * frame's attachments).  proto_handle_frame itself needs a running loop, so
 * the harness drives the same public entry points in the same order.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/frame.h"
#include "common/paths.h"
#include "common/utf8.h"
#include "fuzz_util.h"
#include "manager/infer_input.h"
#include "manager/job.h"
#include "manager/reqjson.h"

static path_allowlist allow;

static void handle_request(const frame *f)
{
    if (!utf8_valid(f->json, f->json_len))
        return;
    const char *end = NULL, *end_c = NULL;
    cJSON *req = reqjson_parse(f->json, f->json_len, &end);
    cJSON *ref = cJSON_ParseWithLengthOpts(f->json, f->json_len, &end_c, false);
    if (!req != !ref)
        abort(); /* reqjson and cJSON disagree on whether this is JSON */
    if (req) {
        char *a = cJSON_PrintUnformatted(req), *b = cJSON_PrintUnformatted(ref);
        if (end != end_c || (a && b && strcmp(a, b) != 0))
            abort(); /* not the tree or the end cJSON gives */
        free(a);
        free(b);
    }
    cJSON_Delete(ref);
    if (!req)
        return;
    if (!cJSON_IsObject(req))
        goto out;
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(req, "action");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(req, "model_path");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(req, "model_type");
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(req, "input_data");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(req, "model_params");
    if (!cJSON_IsString(action) || !cJSON_IsString(path))
        goto out;
    bool infer = strcmp(action->valuestring, "infer") == 0;
    bool load = strcmp(action->valuestring, "load_model") == 0;
    model_kind kind = MODEL_VLM;
    if (type && (!cJSON_IsString(type) || model_kind_parse(type->valuestring, &kind) < 0))
        goto out;
    job *j = calloc(1, sizeof(*j));
    if (!j)
        goto out;
    j->kind = kind;
    j->input.kind = kind;
    j->action = infer ? JOB_INFER : load ? JOB_LOAD : JOB_UNLOAD;
    hdm_err err;
    hdm_err_clear(&err);
    int rc = path_resolve_allowed(&allow, path->valuestring, "model_path", &j->model_path, &err);
    if (rc == 0 && !cJSON_IsNull(params))
        rc = infer_model_params_check(j, params, &(modelpath_resolver){.allow = &allow}, load, &err);
    if (infer && !cJSON_IsNull(input))
        rc = infer_input_parse(j, input, f->attachments, f->n_attachments, &err);
    if (rc < 0 && err.msg[0] == '\0')
        abort(); /* every failure must say what was wrong */
    job_free(j);
out:
    cJSON_Delete(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!allow.n && path_allowlist_parse(&allow, fuzz_models_dir()) < 0)
        return 0;
    size_t off = 0;
    /* A small limit so "too large" paths are reached by short inputs too. */
    const size_t max_bytes = 1u << 20;
    while (off < size) {
        frame f;
        size_t need = 0;
        hdm_err err;
        hdm_err_clear(&err);
        memset(&f, 0, sizeof(f));
        int rc = frame_parse(data + off, size - off, max_bytes, &f, &need, &err);
        if (rc <= 0) {
            if (rc < 0 && err.msg[0] == '\0')
                abort();
            break;
        }
        if (f.total_len == 0 || f.total_len > size - off)
            abort(); /* frame_parse must consume what it parsed, and no more */
        handle_request(&f);
        off += f.total_len;
        frame_clear(&f);
    }
    return 0;
}
