/*
 * response.c - responses: parsed from frames, or made up for failures that
 * never reached the manager, and the mapping of their errors to HDM_E_*.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/tensor.h"
#include "lib/internal.h"

int response_from_frame(conn *c, frame *f, hdm_response **out, hdm_err *err)
{
    int r = 0;
    size_t total = f->total_len;
    const uint8_t *base = c->rx.data;
    hdm_response *resp = calloc(1, sizeof(*resp));
    if (resp == NULL) {
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory reading a response");
        goto out;
    }
    if (f->n_attachments > 0) {
        /* Keep the frame bytes: the attachments are read in place. */
        if (total == c->rx.len) {
            resp->raw = c->rx.data;
            memset(&c->rx, 0, sizeof(c->rx));
        } else {
            resp->raw = malloc(total);
            if (resp->raw == NULL) {
                r = hdm_err_set(err, HDM_E_NOMEM, "out of memory reading a response");
                goto out;
            }
            memcpy(resp->raw, base, total);
        }
        resp->atts = f->attachments;
        resp->n_atts = f->n_attachments;
        f->attachments = NULL;
        for (uint32_t i = 0; i < resp->n_atts; i++)
            resp->atts[i].data = resp->raw + (resp->atts[i].data - base);
    }
    size_t json_at = (size_t)((const uint8_t *)f->json - base);
    const char *json = resp->raw != NULL ? (const char *)resp->raw + json_at : f->json;
    resp->json = cJSON_ParseWithLength(json, f->json_len);
    if (!cJSON_IsObject(resp->json)) {
        r = hdm_err_set(err, HDM_E_PROTOCOL,
                        "the device manager sent a frame that is not a "
                        "JSON object");
        goto out;
    }
out:
    /* Consume the frame unless its buffer was taken over above. */
    if (c->rx.data != NULL)
        buf_consume(&c->rx, total);
    frame_clear(f);
    if (r < 0) {
        hdm_response_free(resp);
        return r;
    }
    *out = resp;
    return 0;
}

hdm_response *response_synth(int code, const char *request_id, const char *msg)
{
    hdm_response *resp = calloc(1, sizeof(*resp));
    if (resp == NULL)
        return NULL;
    resp->json = cJSON_CreateObject();
    if (resp->json == NULL || cJSON_AddStringToObject(resp->json, "error", msg) == NULL ||
        cJSON_AddStringToObject(resp->json, "code", hdm_error_code_name(code)) == NULL ||
        (request_id != NULL &&
         cJSON_AddStringToObject(resp->json, "request_id", request_id) == NULL)) {
        hdm_response_free(resp);
        return NULL;
    }
    return resp;
}

/*
 * v1 managers send no "code"; their sentences are fixed (docs/PROTOCOL.md),
 * so the few that mean something other than a bad request are recognised.
 */
static int code_from_sentence(const char *msg)
{
    if (strstr(msg, "HAILO_RESOURCE_EXHAUSTED") != NULL)
        return HDM_E_RESOURCE_EXHAUSTED;
    if (strncmp(msg, "Unsupported model_type", 22) == 0 || strncmp(msg, "Unknown action", 14) == 0)
        return HDM_E_UNSUPPORTED;
    if (strncmp(msg, "Message too large", 17) == 0)
        return HDM_E_TOO_LARGE;
    return HDM_E_BAD_REQUEST;
}

int response_status(const hdm_response *resp)
{
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(resp->json, "error");
    if (error == NULL || cJSON_IsNull(error)) {
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(resp->json, "status");
        if (cJSON_IsString(status) && strcmp(status->valuestring, "ok") == 0)
            return 0;
        return -HDM_E_PROTOCOL; /* neither "ok" nor an error: not a valid answer */
    }
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(resp->json, "code");
    if (cJSON_IsString(code))
        return -hdm_error_code_from_name(code->valuestring);
    return -code_from_sentence(cJSON_IsString(error) ? error->valuestring : "");
}

HDM_EXTERN const cJSON *hdm_response_json(const hdm_response *resp)
{
    return resp == NULL ? NULL : resp->json;
}

HDM_EXTERN const char *hdm_response_error(const hdm_response *resp)
{
    if (resp == NULL)
        return NULL;
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(resp->json, "error");
    if (cJSON_IsString(error))
        return error->valuestring;
    if (error != NULL && !cJSON_IsNull(error))
        return "the device manager answered with a non-string error";
    if (response_status(resp) < 0)
        return "the device manager's answer has neither \"status\": \"ok\" nor an error";
    return NULL;
}

static int keep_owned(hdm_response *resp, void *p)
{
    void **grown = realloc(resp->owned, (resp->n_owned + 1) * sizeof(*grown));
    if (grown == NULL)
        return -HDM_E_NOMEM;
    resp->owned = grown;
    resp->owned[resp->n_owned++] = p;
    return 0;
}

HDM_EXTERN int hdm_response_tensor(hdm_response *resp, const cJSON *tensor_json, hdm_tensor *out)
{
    if (resp == NULL || tensor_json == NULL || out == NULL)
        return -HDM_E_BAD_REQUEST;
    hdm_tensor t;
    void *owned = NULL;
    int r = tensor_from_json(tensor_json, "tensor", resp->atts, resp->n_atts, &t, &owned, NULL);
    if (r < 0)
        return r;
    /* tensor_from_json copies misaligned attachments into *owned. */
    if (owned != NULL && keep_owned(resp, owned) < 0) {
        free(owned);
        return -HDM_E_NOMEM;
    }
    *out = t;
    return 0;
}

HDM_EXTERN void hdm_response_free(hdm_response *resp)
{
    if (resp == NULL)
        return;
    cJSON_Delete(resp->json);
    for (size_t i = 0; i < resp->n_owned; i++)
        free(resp->owned[i]);
    free(resp->owned);
    free(resp->atts);
    free(resp->raw);
    free(resp);
}
