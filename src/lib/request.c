/*
 * request.c - building requests and encoding them as frames.
 *
 * DESIGN: a tensor is added to the JSON tree as {"dtype","shape","attachment":
 * i} and its bytes stay borrowed.  Whether the request goes out as a binary
 * frame or as v1 JSON is only known when a client sends it, so encoding
 * decides: binary frames point an iovec at the caller's bytes (sendmsg, no
 * copy); v1 swaps each "attachment" for a "data_b64" raw JSON string for the
 * time of printing and swaps it back, so the same request can be sent again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/tensor.h"
#include "lib/internal.h"

HDM_EXTERN hdm_request *hdm_request_new(const char *action)
{
    if (action == NULL)
        return NULL;
    hdm_request *req = calloc(1, sizeof(*req));
    if (req == NULL)
        return NULL;
    req->json = cJSON_CreateObject();
    if (req->json == NULL || cJSON_AddStringToObject(req->json, "action", action) == NULL) {
        hdm_request_free(req);
        return NULL;
    }
    return req;
}

HDM_EXTERN void hdm_request_free(hdm_request *req)
{
    if (req == NULL)
        return;
    cJSON_Delete(req->json);
    free(req->tensors);
    free(req);
}

HDM_EXTERN int hdm_request_set_cancel_fd(hdm_request *req, int fd)
{
    if (req == NULL)
        return -HDM_E_BAD_REQUEST;
    req->cancel_fd = fd;
    req->has_cancel = fd >= 0;
    return 0;
}

HDM_EXTERN cJSON *hdm_request_json(hdm_request *req)
{
    return req == NULL ? NULL : req->json;
}

const char *request_action(const hdm_request *req)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(req->json, "action");
    return cJSON_IsString(a) ? a->valuestring : "";
}

HDM_EXTERN int hdm_request_add_tensor(hdm_request *req, cJSON *parent, const char *name,
                                      const hdm_tensor *t)
{
    if (req == NULL || parent == NULL || t == NULL)
        return -HDM_E_BAD_REQUEST;
    if (name != NULL ? !cJSON_IsObject(parent) : !cJSON_IsArray(parent))
        return -HDM_E_BAD_REQUEST;
    /* Checked the way the manager will, so mistakes surface here. */
    int r = tensor_check(t, "tensor", NULL);
    if (r < 0)
        return r;
    if (req->n_tensors >= FRAME_MAX_ATTACHMENTS)
        return -HDM_E_TOO_LARGE;
    if (req->n_tensors == req->cap_tensors) {
        uint32_t cap = req->cap_tensors ? req->cap_tensors * 2 : 4;
        request_tensor *grown = realloc(req->tensors, cap * sizeof(*grown));
        if (grown == NULL)
            return -HDM_E_NOMEM;
        req->tensors = grown;
        req->cap_tensors = cap;
    }

    cJSON *obj = tensor_ref_json(t, req->n_tensors);
    if (obj == NULL)
        goto nomem;
    if (name != NULL) {
        /* Replace, not add: a second tensor under one name must not leave two keys. */
        if (cJSON_HasObjectItem(parent, name))
            cJSON_ReplaceItemInObjectCaseSensitive(parent, name, obj);
        else if (!cJSON_AddItemToObject(parent, name, obj))
            goto nomem;
    } else if (!cJSON_AddItemToArray(parent, obj)) {
        goto nomem;
    }
    req->tensors[req->n_tensors++] = (request_tensor){obj, t->data, t->nbytes};
    return 0;
nomem:
    cJSON_Delete(obj);
    return -HDM_E_NOMEM;
}

/* Sets obj[name] = string, replacing any previous value. */
static int set_string(cJSON *obj, const char *name, const char *value)
{
    cJSON *s = cJSON_CreateString(value);
    if (s == NULL)
        return -HDM_E_NOMEM;
    if (cJSON_HasObjectItem(obj, name))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, name, s);
    else
        cJSON_AddItemToObject(obj, name, s);
    return 0;
}

/* Replaces each tensor's "attachment" by a raw "data_b64" string (or back). */
static int swap_to_b64(hdm_request *req)
{
    for (uint32_t i = 0; i < req->n_tensors; i++) {
        request_tensor *rt = &req->tensors[i];
        cJSON *item = tensor_b64_json(rt->data, rt->nbytes, true);
        if (item == NULL)
            return -HDM_E_NOMEM;
        cJSON_DeleteItemFromObjectCaseSensitive(rt->obj, "attachment");
        cJSON_AddItemToObject(rt->obj, "data_b64", item);
    }
    return 0;
}

static void swap_back(hdm_request *req)
{
    for (uint32_t i = 0; i < req->n_tensors; i++) {
        cJSON *obj = req->tensors[i].obj;
        if (!cJSON_HasObjectItem(obj, "data_b64"))
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(obj, "data_b64");
        cJSON_AddNumberToObject(obj, "attachment", i);
    }
}

void request_wire_free(request_wire *w)
{
    if (w == NULL)
        return;
    buf_free(&w->head);
    free(w->lens);
    free(w->iov);
    memset(w, 0, sizeof(*w));
}

static int encode_binary(hdm_request *req, const char *json, size_t json_len, request_wire *w)
{
    uint32_t n = req->n_tensors;
    /*
     * Trailing spaces are valid JSON: pad it so the first attachment starts
     * 16-byte aligned from the frame's start, which lets a reader that keeps
     * the frame in an aligned buffer use the tensor in place.
     */
    size_t pad = n > 0 ? (16 - (4 + json_len + 4 + 8) % 16) % 16 : 0;
    if (json_len + pad >= FRAME_BINARY_FLAG)
        return -HDM_E_TOO_LARGE;
    int r = buf_reserve(&w->head, 4 + json_len + pad + 4 + 8);
    if (r < 0)
        return r;
    buf_append_u32be(&w->head, FRAME_BINARY_FLAG | (uint32_t)(json_len + pad));
    buf_append(&w->head, json, json_len);
    buf_append(&w->head, "               ", pad);
    buf_append_u32be(&w->head, n);
    if (n > 0)
        buf_append_u64be(&w->head, req->tensors[0].nbytes);

    w->iov = calloc(2 * (size_t)n + 1, sizeof(*w->iov));
    w->lens = n > 1 ? calloc(n - 1, sizeof(*w->lens)) : NULL;
    if (w->iov == NULL || (n > 1 && w->lens == NULL))
        return -HDM_E_NOMEM;
    w->iov[0] = (struct iovec){w->head.data, w->head.len};
    w->niov = 1;
    w->total = w->head.len;
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0) {
            uint64_t len = req->tensors[i].nbytes;
            for (int b = 0; b < 8; b++)
                w->lens[i - 1][b] = (uint8_t)(len >> (56 - 8 * b));
            w->iov[w->niov++] = (struct iovec){w->lens[i - 1], 8};
            w->total += 8;
        }
        if (req->tensors[i].nbytes > 0)
            w->iov[w->niov++] =
                (struct iovec){(void *)req->tensors[i].data, req->tensors[i].nbytes};
        w->total += req->tensors[i].nbytes;
    }
    return 0;
}

int request_encode(hdm_request *req, bool json_only, const char *request_id,
                   const char *client_name, request_wire *w, hdm_err *err)
{
    memset(w, 0, sizeof(*w));
    char *json = NULL;
    int r;
    if (request_id != NULL && (r = set_string(req->json, "request_id", request_id)) < 0)
        goto fail;
    if (client_name != NULL && !cJSON_HasObjectItem(req->json, "client_name") &&
        (r = set_string(req->json, "client_name", client_name)) < 0)
        goto fail;

    if (json_only) {
        r = swap_to_b64(req);
        if (r == 0)
            json = cJSON_PrintUnformatted(req->json);
        swap_back(req);
        if (r < 0)
            goto fail;
    } else {
        json = cJSON_PrintUnformatted(req->json);
    }
    if (json == NULL) {
        r = -HDM_E_NOMEM;
        goto fail;
    }
    size_t json_len = strlen(json);
    if (json_only) {
        r = frame_encode_v1(&w->head, json, json_len);
        if (r == 0) {
            w->iov = malloc(sizeof(*w->iov));
            if (w->iov == NULL) {
                r = -HDM_E_NOMEM;
            } else {
                w->iov[0] = (struct iovec){w->head.data, w->head.len};
                w->niov = 1;
                w->total = w->head.len;
            }
        }
    } else {
        r = encode_binary(req, json, json_len, w);
    }
    free(json);
    if (r < 0)
        goto fail;
    return 0;
fail:
    request_wire_free(w);
    if (r == -HDM_E_TOO_LARGE)
        return hdm_err_set(err, HDM_E_TOO_LARGE, "request JSON is too large to frame");
    return hdm_err_set(err, -r, "out of memory encoding the request");
}
