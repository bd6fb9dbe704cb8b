/*
 * proto-internal.h - what the files of the protocol share (proto.c:
 * requests; proto-answer.c: answers to jobs; proto-send.c: queueing).
 * Nothing else includes this.
 */
#ifndef HDM_MANAGER_PROTO_INTERNAL_H
#define HDM_MANAGER_PROTO_INTERNAL_H

#include "proto.h"

/* Queues resp (consumed; NULL means out of memory: c is closed once
 * flushed) on c, v1 or binary with `att`.  hint: expected JSON size. */
void proto_send_json(manager *m, conn *c, cJSON *resp, bool binary, const frame_attachment *att,
                     uint32_t n_att, size_t hint);
/* Adds a copy of request_id (as the client wrote it) to resp; true when
 * there is none or it was added. */
bool proto_add_request_id(cJSON *resp, const cJSON *request_id);
/* {"error": msg, "code": ..., "request_id": ...}; NULL when out of memory. */
cJSON *proto_error_json(const cJSON *request_id, int code, const char *msg);
/* Counts and queues an error answer. */
void proto_send_error(manager *m, conn *c, const cJSON *request_id, bool binary, int code,
                      const char *msg);

#endif
