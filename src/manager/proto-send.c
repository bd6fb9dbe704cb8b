/*
 * proto-send.c - putting answers on a connection: the JSON of an error, the
 * request_id echo, and queueing a frame (counted in the manager's figures).
 */
#include "proto-internal.h"

#include "common/log.h"

/* Queues resp (consumed) on c. */
void proto_send_json(manager *m, conn *c, cJSON *resp, bool binary, const frame_attachment *att,
                     uint32_t n_att, size_t hint)
{
    if (!resp) {
        log_error("out of memory building an answer for connection %llu; closing it",
                  (unsigned long long)c->id);
        conn_finish(c);
        return;
    }
    size_t before = conn_out_pending(c);
    if (conn_queue_json(c, resp, binary, att, n_att, hint) < 0) {
        log_error("out of memory queueing an answer for connection %llu; closing it",
                  (unsigned long long)c->id);
        conn_finish(c);
    }
    atomic_fetch_add(&m->counters.bytes_out, conn_out_pending(c) - before);
    cJSON_Delete(resp);
}

/* Adds a copy of the request's request_id (as given) to resp; true when
 * there is none or it was added. */
bool proto_add_request_id(cJSON *resp, const cJSON *request_id)
{
    if (!request_id)
        return true;
    cJSON *copy = cJSON_Duplicate(request_id, true);
    if (!copy)
        return false;
    if (!cJSON_AddItemToObject(resp, "request_id", copy)) {
        cJSON_Delete(copy);
        return false;
    }
    return true;
}

cJSON *proto_error_json(const cJSON *request_id, int code, const char *msg)
{
    cJSON *resp = cJSON_CreateObject();
    if (!resp)
        return NULL;
    code = code < 0 ? -code : code;
    if (code <= 0 || code >= HDM_E__COUNT)
        code = HDM_E_INTERNAL;
    if (!cJSON_AddStringToObject(resp, "error", msg && msg[0] ? msg : hdm_strerror(code)) ||
        !cJSON_AddStringToObject(resp, "code", hdm_error_code_name(code)) ||
        !proto_add_request_id(resp, request_id)) {
        cJSON_Delete(resp);
        return NULL;
    }
    return resp;
}

void proto_send_error(manager *m, conn *c, const cJSON *request_id, bool binary, int code,
                      const char *msg)
{
    int pos = code < 0 ? -code : code;
    if (pos > 0 && pos < HDM_E__COUNT)
        atomic_fetch_add(&m->counters.errors[pos], 1);
    proto_send_json(m, c, proto_error_json(request_id, code, msg), binary, NULL, 0, 0);
}
