/*
 * hailodm.h - the C client of hailo-device-manager (libhailodm).
 *
 * One manager process owns the Hailo NPU; every service talks to it over a
 * Unix socket with length-prefixed JSON frames (see docs/PROTOCOL.md).  This
 * library hides the framing, uses binary tensor attachments by default (no
 * base64), is safe to share between threads, waits for the manager while it
 * starts, and after a manager restart reconnects, loads again the models this
 * client had loaded, and retries the interrupted request once when that is
 * safe.
 *
 * Errors: every function that can fail returns 0 or a negative HDM_E_* code.
 * hdm_strerror() names a code.  When the manager answered with an error, the
 * response object is still handed to the caller and carries the manager's
 * sentence (hdm_response_error()).
 */
#ifndef HAILODM_H
#define HAILODM_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with -fvisibility=hidden; only these are exported. */
#define HDM_EXTERN __attribute__((visibility("default")))

/*
 * The one error table.  X(ENUM, protocol code, default message).
 * The first ten are the protocol's "code" values (docs/PROTOCOL.md); the
 * rest only ever arise inside a process (transport, parsing, memory).
 */
#define HDM_ERROR_MAP(X)                                                                 \
    X(BAD_REQUEST, "bad_request", "bad request")                                          \
    X(NOT_FOUND, "not_found", "not found")                                                \
    X(UNSUPPORTED, "unsupported", "unsupported")                                          \
    X(TOO_LARGE, "too_large", "too large")                                                \
    X(RESOURCE_EXHAUSTED, "resource_exhausted", "device memory exhausted")                \
    X(BUSY, "busy", "busy, retry later")                                                  \
    X(DEADLINE_EXCEEDED, "deadline_exceeded", "deadline exceeded")                        \
    X(CANCELLED, "cancelled", "cancelled")                                                \
    X(DEVICE_ERROR, "device_error", "device error")                                       \
    X(INTERNAL, "internal", "internal error")                                             \
    X(UNAVAILABLE, "unavailable", "device manager unavailable")                           \
    X(PROTOCOL, "protocol", "malformed frame from peer")                                  \
    X(NOMEM, "internal", "out of memory")

enum hdm_error_code {
    HDM_OK = 0,
#define HDM_X_ENUM(name, code, msg) HDM_E_##name,
    HDM_ERROR_MAP(HDM_X_ENUM)
#undef HDM_X_ENUM
        HDM_E__COUNT
};
/* Functions return -HDM_E_*; these helpers take either sign. */

/* Human-readable default message of an error code ("bad request"). */
HDM_EXTERN const char *hdm_strerror(int code);
/* Protocol code string of an error code ("bad_request"), "ok" for 0. */
HDM_EXTERN const char *hdm_error_code_name(int code);
/* Inverse of hdm_error_code_name: returns HDM_E_* (positive), HDM_E_INTERNAL if unknown. */
HDM_EXTERN int hdm_error_code_from_name(const char *name);

/* Tensor element types, named as NumPy names them on the wire. */
typedef enum hdm_dtype {
    HDM_DT_UINT8,
    HDM_DT_INT8,
    HDM_DT_UINT16,
    HDM_DT_INT16,
    HDM_DT_INT32,
    HDM_DT_FLOAT16,
    HDM_DT_FLOAT32,
    HDM_DT__COUNT
} hdm_dtype;

#define HDM_MAX_DIMS 8

/* A dense C-order tensor.  `data` is borrowed unless a function says otherwise. */
typedef struct hdm_tensor {
    hdm_dtype dtype;
    int ndim;
    int64_t shape[HDM_MAX_DIMS];
    void *data;
    size_t nbytes;
} hdm_tensor;

/* "uint8" ... "float32"; NULL for an invalid value. */
HDM_EXTERN const char *hdm_dtype_name(hdm_dtype dtype);
/* Parses a dtype name; returns 0 and sets *out, or -HDM_E_BAD_REQUEST. */
HDM_EXTERN int hdm_dtype_parse(const char *name, hdm_dtype *out);
/* Bytes per element (1, 2 or 4); 0 for an invalid dtype. */
HDM_EXTERN size_t hdm_dtype_size(hdm_dtype dtype);

/* ---- client ---------------------------------------------------------- */

typedef struct hdm_client hdm_client;

typedef struct hdm_client_options {
    /* Socket path; NULL means $HAILO_DEVICE_SOCKET, else /run/hailo/device.sock. */
    const char *socket_path;
    /* Sent as client_name with every request (status and metrics show it). NULL: none. */
    const char *client_name;
    /* How long a call waits for the manager to appear (socket missing or refusing). 0: 5000. */
    int connect_timeout_ms;
    /* Default per-request timeout (whole round trip). 0: 30000. -1: no limit. */
    int request_timeout_ms;
    /* 1: plain v1 JSON with base64 tensors instead of binary attachments. */
    int json_only;
    /* Largest frame accepted from the manager. 0: 64 MiB. */
    size_t max_message_bytes;
} hdm_client_options;

/*
 * Creates a client.  Does not connect yet: connections are opened on demand
 * (one per concurrent call, kept for reuse), so a client can be created before
 * the manager runs.  `opts` may be NULL.  Returns 0 and sets *out.
 */
HDM_EXTERN int hdm_client_new(const hdm_client_options *opts, hdm_client **out);
/* Closes every connection and frees the client.  Accepts NULL. */
HDM_EXTERN void hdm_client_free(hdm_client *client);

/* ---- requests and responses --------------------------------------------- */

typedef struct hdm_request hdm_request;
typedef struct hdm_response hdm_response;

/* A new request {"action": action}.  Returns NULL when out of memory. */
HDM_EXTERN hdm_request *hdm_request_new(const char *action);
HDM_EXTERN void hdm_request_free(hdm_request *req);
/*
 * Makes the call that sends `req` cancellable: while it waits for the
 * manager it also watches `fd` (borrowed; an eventfd or the read end of a
 * pipe, -1 to stop), and once `fd` is readable it closes its connection (the
 * manager then cancels the work, queued or running) and returns
 * -HDM_E_CANCELLED.  Used to drop the device work of an HTTP client that
 * hung up.  Returns 0, or -HDM_E_BAD_REQUEST for a NULL request.
 */
HDM_EXTERN int hdm_request_set_cancel_fd(hdm_request *req, int fd);
/* The request's JSON object, to add fields to.  Owned by the request. */
HDM_EXTERN cJSON *hdm_request_json(hdm_request *req);
/*
 * Adds tensor `t` as field `name` of JSON object `parent` (which must belong
 * to this request's tree); with `name` NULL, appends it to array `parent`.
 * The bytes are borrowed, not copied: they must stay valid until the call
 * that sends the request returns.  Returns 0 or a negative code.
 */
HDM_EXTERN int hdm_request_add_tensor(hdm_request *req, cJSON *parent, const char *name,
                                      const hdm_tensor *t);

/* The whole response object.  Owned by the response. */
HDM_EXTERN const cJSON *hdm_response_json(const hdm_response *resp);
/* The manager's error sentence, or NULL for a success. */
HDM_EXTERN const char *hdm_response_error(const hdm_response *resp);
/*
 * Resolves a tensor object found in the response (with "attachment" or
 * "data_b64") into *out.  out->data points into the response (valid until
 * hdm_response_free) and is suitably aligned for its dtype.
 */
HDM_EXTERN int hdm_response_tensor(hdm_response *resp, const cJSON *tensor_json,
                                   hdm_tensor *out);
HDM_EXTERN void hdm_response_free(hdm_response *resp);

/*
 * Sends `req` and waits for its answer (timeout_ms: 0 = the client default,
 * -1 = none).  Returns 0 when the manager answered "ok".  On any failure it
 * returns a negative code and, when it can, still sets *out to a response
 * whose hdm_response_error() explains it (synthesised for transport errors).
 * The caller frees *out.  A load_model that succeeds is remembered and
 * replayed after a reconnect.
 */
HDM_EXTERN int hdm_call(hdm_client *client, hdm_request *req, int timeout_ms,
                        hdm_response **out);

/*
 * Streaming call (infer with "stream": true is set by this function).
 * `on_delta` gets each text delta as it arrives; returning non-zero from it
 * abandons the request (the connection is closed, so the manager cancels the
 * generation) and hdm_call_stream returns -HDM_E_CANCELLED.  The final frame
 * (with "done": true, result, usage) is returned in *out as for hdm_call.
 */
typedef int (*hdm_delta_cb)(void *user, const char *delta, size_t len);
HDM_EXTERN int hdm_call_stream(hdm_client *client, hdm_request *req, int timeout_ms,
                               hdm_delta_cb on_delta, void *user, hdm_response **out);

/* ---- conveniences over hdm_call --------------------------------------- */

/* ping; returns 0 when the manager answered. */
HDM_EXTERN int hdm_ping(hdm_client *client, int timeout_ms);
/*
 * load_model with optional model_params (borrowed, copied into the request)
 * and keep_alive (seconds; pass HDM_KEEP_ALIVE_DEFAULT to omit it).
 */
#define HDM_KEEP_ALIVE_DEFAULT (-2.0)
HDM_EXTERN int hdm_load_model(hdm_client *client, const char *model_type,
                              const char *model_path, const cJSON *model_params,
                              double keep_alive, hdm_response **out);
HDM_EXTERN int hdm_unload_model(hdm_client *client, const char *model_type,
                                const char *model_path, hdm_response **out);

#ifdef __cplusplus
}
#endif
#endif
