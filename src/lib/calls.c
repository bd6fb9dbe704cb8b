/*
 * calls.c - the convenience calls of hailodm.h, each one request over hdm_call.
 */
#include <stdlib.h>

#include "lib/internal.h"

HDM_EXTERN int hdm_ping(hdm_client *client, int timeout_ms)
{
    hdm_request *req = hdm_request_new("ping");
    if (req == NULL)
        return -HDM_E_NOMEM;
    int r = hdm_call(client, req, timeout_ms, NULL);
    hdm_request_free(req);
    return r;
}

/* A model request {"action", "model_type", "model_path"}; NULL when out of memory. */
static hdm_request *model_request(const char *action, const char *model_type,
                                  const char *model_path)
{
    hdm_request *req = hdm_request_new(action);
    if (req == NULL)
        return NULL;
    if (cJSON_AddStringToObject(req->json, "model_type", model_type) == NULL ||
        cJSON_AddStringToObject(req->json, "model_path", model_path) == NULL) {
        hdm_request_free(req);
        return NULL;
    }
    return req;
}

HDM_EXTERN int hdm_load_model(hdm_client *client, const char *model_type, const char *model_path,
                              const cJSON *model_params, double keep_alive, hdm_response **out)
{
    if (out != NULL)
        *out = NULL;
    if (client == NULL || model_type == NULL || model_path == NULL)
        return -HDM_E_BAD_REQUEST;
    hdm_request *req = model_request("load_model", model_type, model_path);
    if (req == NULL)
        return -HDM_E_NOMEM;
    int r = 0;
    if (model_params != NULL) {
        cJSON *copy = cJSON_Duplicate(model_params, 1);
        if (copy == NULL || !cJSON_AddItemToObject(req->json, "model_params", copy)) {
            cJSON_Delete(copy);
            r = -HDM_E_NOMEM;
        }
    }
    if (r == 0 && keep_alive != HDM_KEEP_ALIVE_DEFAULT &&
        cJSON_AddNumberToObject(req->json, "keep_alive", keep_alive) == NULL)
        r = -HDM_E_NOMEM;
    if (r == 0)
        r = hdm_call(client, req, 0, out);
    hdm_request_free(req);
    return r;
}

HDM_EXTERN int hdm_unload_model(hdm_client *client, const char *model_type, const char *model_path,
                                hdm_response **out)
{
    if (out != NULL)
        *out = NULL;
    if (client == NULL || model_type == NULL || model_path == NULL)
        return -HDM_E_BAD_REQUEST;
    hdm_request *req = model_request("unload_model", model_type, model_path);
    if (req == NULL)
        return -HDM_E_NOMEM;
    int r = hdm_call(client, req, 0, out);
    hdm_request_free(req);
    return r;
}
