/*
 * http.h - the small HTTP layer our services share, over libmicrohttpd.
 *
 * A service declares a route table; the layer reads JSON bodies up to a
 * limit (413 before reading further), parses them with cJSON, calls the
 * handler on one of its cfg->threads handler threads (a handler may block,
 * e.g. on the device manager; up to cfg->threads run at once), and writes
 * the JSON reply.  It
 * answers 404/405 itself, checks the optional bearer token, writes an access
 * log line per request, and supports streamed replies (Server-Sent Events)
 * whose producer learns when the client went away.
 */
#ifndef HDM_HTTP_HTTP_H
#define HDM_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

typedef struct http_server http_server;
typedef struct http_request http_request;

typedef struct http_reply {
    int status;          /* HTTP status */
    cJSON *body;         /* JSON body (owned by the layer after return), or NULL */
} http_reply;

/*
 * A stream producer: called once on a thread of its own after the handler
 * chose to stream; writes events with http_stream_send() until done, then
 * returns.  http_stream_send copies the data into a bounded queue (blocking
 * while the queue is full) and returns 0, or -1 once the client has gone away
 * or the server is stopping, so the producer can cancel its work.
 */
typedef struct http_stream http_stream;
typedef void (*http_stream_fn)(http_stream *s, void *user);
int http_stream_send(http_stream *s, const char *data, size_t len);
/* Returns true once the peer has disconnected. */
bool http_stream_closed(const http_stream *s);

/* Handler: fills *reply, or calls http_request_stream() and returns. */
typedef void (*http_handler_fn)(http_request *req, http_reply *reply, void *user);

typedef struct http_route {
    const char *method;  /* "GET", "POST" */
    const char *path;    /* exact path */
    http_handler_fn handler;
    bool needs_body;     /* POST JSON body parsed before the handler */
    bool public_route;   /* no bearer token required (health) */
} http_route;

typedef struct http_config {
    const char *host;            /* bind address, "0.0.0.0", "127.0.0.1", "::" */
    int port;                    /* 0 picks a free port (see http_server_port) */
    int threads;                 /* pool size, default 4 */
    size_t max_body_bytes;       /* default 16 MiB */
    const char *bearer_token;    /* NULL/empty: no auth */
    int connection_timeout_s;    /* idle connection timeout, default 60 */
    int max_connections;         /* open connections in all, default 512 */
    int max_connections_per_ip;  /* open connections from one address, default 64 */
    const char *service_name;    /* for logs */
    bool access_log;             /* default true */
} http_config;

/* Fills *cfg with the defaults above: host "0.0.0.0", port 0, 4 threads,
 * 16 MiB bodies, no token, 60 s idle timeout, access log on.  (Additive.) */
void http_config_defaults(http_config *cfg);

/* Starts serving `routes` (terminated by {NULL}).  Returns 0 or negative errno-ish code; *err_msg gets a sentence. */
int http_server_start(const http_config *cfg, const http_route *routes, void *user,
                      http_server **out, char *err_msg, size_t err_len);
int http_server_port(const http_server *s);
/* Stops accepting, waits for in-flight requests, frees. Accepts NULL. */
void http_server_stop(http_server *s);

/* Request accessors (valid during the handler / stream producer). */
const char *http_request_method(const http_request *r);
const char *http_request_path(const http_request *r);
/* The parsed JSON body (NULL for GET). */
const cJSON *http_request_json(const http_request *r);
const char *http_request_header(const http_request *r, const char *name);
/* Switches the reply to a stream (Content-Type text/event-stream, chunked);
 * `producer` runs on its own thread after the handler returns, and
 * free_user(user) is called once the stream is over.  At most 64 streams are
 * open at once: beyond that the client gets 503 and free_user runs without
 * the producer. */
void http_request_stream(http_request *r, http_stream_fn producer, void *user,
                         void (*free_user)(void *user));

/* Convenience: {"error": message} with status. */
void http_reply_error(http_reply *reply, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Convenience: set status and body. */
void http_reply_json(http_reply *reply, int status, cJSON *body);

/*
 * Hook so a service can shape errors the layer produces itself (404, 405,
 * 413, 400 bad JSON, 401): default {"error": msg}; hailo-vision uses OpenAI's
 * {"error": {"message","type","code"}}.
 */
typedef cJSON *(*http_error_body_fn)(int status, const char *message);
void http_server_set_error_body(http_server *s, http_error_body_fn fn);

/*
 * Process helpers for services (additive).
 *
 * http_block_signals() blocks SIGTERM and SIGINT in the calling thread (threads
 * created afterwards inherit the mask) and ignores SIGPIPE; call it first
 * thing in main(), before any thread starts.  http_server_start() calls it
 * too, so the pool threads never take those signals.
 * http_wait_for_signal() blocks them and waits (sigwait) until one arrives;
 * returns the signal number, or -1 on error.
 */
void http_block_signals(void);
int http_wait_for_signal(void);
/* sd_notify READY=1 with STATUS=status (may be NULL).  Returns sd_notify's
 * result: > 0 sent, 0 not running under systemd, < 0 error. */
int http_notify_ready(const char *status);
/* sd_notify STOPPING=1 with STATUS=status (may be NULL). */
int http_notify_stopping(const char *status);

#endif
