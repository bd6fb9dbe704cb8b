/*
 * proto.h - the request side and answer side of docs/PROTOCOL.md: dispatch
 * of one parsed frame, and the answers to finished jobs.
 */
#ifndef HDM_MANAGER_PROTO_H
#define HDM_MANAGER_PROTO_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "common/frame.h"
#include "conn.h"
#include "job.h"
#include "manager.h"

/*
 * Handles one complete frame received on c (loop thread): validates it,
 * answers cheap actions and errors into c's write queue, or submits a device
 * job.  A frame that cannot be a request (bad UTF-8, bad JSON, not an
 * object) is answered and c is marked closing.  May detach the frame's bytes
 * from c's read buffer (binary attachments).
 */
void proto_handle_frame(manager *m, conn *c, frame *f);

/* Answers a frame error (too large, malformed) and marks c closing. */
void proto_fail_connection(manager *m, conn *c, int code, const char *msg);

/* Queues the answer to a finished job on c. */
void proto_answer_job(manager *m, conn *c, job *j);
/* Queues a streaming delta frame for j on c. */
void proto_answer_delta(manager *m, conn *c, const job *j, const char *text, size_t len);

/*
 * Builds the status payload ("status": "ok" and the fields of `status`, or of
 * `device_status` when device_form).  Thread-safe (the HTTP thread uses it).
 * Returns NULL when out of memory.
 */
cJSON *proto_status_json(manager *m, bool device_form, bool full);

/* Action name for counters/metrics. */
const char *proto_action_name(proto_action a);

#endif
