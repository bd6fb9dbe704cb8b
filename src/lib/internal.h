/*
 * internal.h - the parts of libhailodm its own files share (never installed).
 *
 * A call goes request -> wire (request.c) -> connection (conn.c) -> frame ->
 * response (response.c); client.c runs the call over a pooled connection and
 * handles reconnecting, replaying loads (models.c) and the one retry.
 */
#ifndef HDM_LIB_INTERNAL_H
#define HDM_LIB_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/frame.h"
#include "hailodm.h"

/* ---- requests (request.c) ---------------------------------------------- */

/* One tensor added with hdm_request_add_tensor: its JSON object and borrowed bytes. */
typedef struct request_tensor {
    cJSON *obj;
    const void *data;
    size_t nbytes;
} request_tensor;

struct hdm_request {
    cJSON *json;
    int cancel_fd;     /* watched while waiting (hdm_request_set_cancel_fd) */
    bool has_cancel;   /* cancel_fd is set (a zeroed request has none) */
    request_tensor *tensors;
    uint32_t n_tensors;
    uint32_t cap_tensors;
};

/*
 * The bytes of one encoded request, ready for sendmsg: `head` holds the frame
 * header and JSON (and for binary frames the attachment count and first
 * length word); iov points into head, lens and the caller's tensor bytes.
 */
typedef struct request_wire {
    buf head;
    uint8_t (*lens)[8]; /* length words of attachments 1..n-1 */
    struct iovec *iov;
    int niov;
    size_t total;
} request_wire;

/*
 * Encodes `req` as one frame: binary with attachments, or v1 JSON with the
 * tensors base64-encoded when json_only.  Sets "request_id" and, when
 * client_name is not NULL and the request has none, "client_name" in the
 * request's JSON first.  Returns 0 or a negative code (err filled).
 */
int request_encode(hdm_request *req, bool json_only, const char *request_id,
                   const char *client_name, request_wire *w, hdm_err *err);
void request_wire_free(request_wire *w);
/* The request's action string, "" when missing. */
const char *request_action(const hdm_request *req);

/* ---- connections (conn.c) ---------------------------------------------- */

/* No deadline (wait for ever). */
#define DEADLINE_NONE INT64_MAX

typedef struct conn {
    int fd;
    int cancel_fd;     /* the current call's cancel descriptor, -1 when none */
    unsigned epoch;    /* the client's restart epoch when this was opened */
    buf rx;            /* bytes read but not yet consumed */
    struct conn *next; /* idle list of the client */
} conn;

/*
 * Connects to `path`, retrying with backoff while the socket is missing or
 * refusing (the manager is starting) until deadline_ms (mono_ms clock).
 * *waited is set when the first attempt failed (a sign the manager was
 * restarting).  Returns 0 and *out, or -HDM_E_UNAVAILABLE with "device
 * manager not reachable at PATH: <reason>" (-HDM_E_BAD_REQUEST for a path
 * too long).
 */
int conn_open(const char *path, int64_t deadline_ms, conn **out, bool *waited, hdm_err *err);
/* Closes the socket and frees the connection.  Accepts NULL. */
void conn_close(conn *c);
/*
 * Sends every byte of iov[0..niov).  Returns 0, -HDM_E_UNAVAILABLE when the
 * peer is gone (EPIPE, ECONNRESET), -HDM_E_DEADLINE_EXCEEDED, or
 * -HDM_E_CANCELLED when c->cancel_fd became readable while waiting.
 */
int conn_send(conn *c, const struct iovec *iov, int niov, int64_t deadline_ms, hdm_err *err);
/*
 * Reads until c->rx starts with a whole frame and parses it into *f (pointers
 * into c->rx; the caller consumes f->total_len bytes and clears f when done).
 * Returns 0, -HDM_E_UNAVAILABLE when the peer closed or reset the connection,
 * -HDM_E_DEADLINE_EXCEEDED, -HDM_E_CANCELLED (c->cancel_fd readable), or
 * -HDM_E_TOO_LARGE / -HDM_E_PROTOCOL for a frame that breaks the framing.
 */
int conn_recv_frame(conn *c, size_t max_bytes, int64_t deadline_ms, frame *f, hdm_err *err);

/* ---- responses (response.c) -------------------------------------------- */

struct hdm_response {
    cJSON *json;
    uint8_t *raw;           /* the frame bytes the attachments point into (owned) */
    frame_attachment *atts; /* owned array */
    uint32_t n_atts;
    void **owned; /* decoded or realigned tensor buffers */
    size_t n_owned;
};

/*
 * Builds a response from frame *f at the start of c->rx and consumes those
 * bytes from c->rx (taking the buffer over when the frame fills it, so big
 * tensors are not copied).  Clears *f.  Returns 0 or -HDM_E_PROTOCOL /
 * -HDM_E_NOMEM.
 */
int response_from_frame(conn *c, frame *f, hdm_response **out, hdm_err *err);
/*
 * A response {"error": msg, "code": name of `code`, "request_id": id} made
 * up by the library for failures that never reached the manager.  NULL when
 * out of memory.
 */
hdm_response *response_synth(int code, const char *request_id, const char *msg);
/* 0 when the response says "ok", else the negative code its error maps to. */
int response_status(const hdm_response *resp);

/* ---- remembered loads (models.c) --------------------------------------- */

typedef struct model_entry {
    char *key;      /* "model_type\nmodel_path" */
    cJSON *request; /* the load_model request as sent, without request_id */
    struct model_entry *next;
} model_entry;

/* Remembers (or replaces) the load_model request `req`.  Returns 0 or -HDM_E_NOMEM. */
int models_remember(model_entry **list, const cJSON *req);
/* Forgets the model an unload_model request `req` names. */
void models_forget(model_entry **list, const cJSON *req);
/* Deep copies of every remembered request, as a cJSON array (NULL when none or no memory). */
cJSON *models_snapshot(model_entry *list);
void models_free(model_entry **list);

#endif
