/*
 * http_internal.h - state shared by the files of the HTTP layer (not a
 * contract for services: they use http.h).
 */
#ifndef HDM_HTTP_HTTP_INTERNAL_H
#define HDM_HTTP_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "common/buf.h"
#include "http/http.h"

/* Bytes a stream may hold queued before http_stream_send blocks. */
#define HTTP_STREAM_QUEUE_MAX (64 * 1024)
/* Streams open at once (each has a producer thread); more get 503. */
#define HTTP_MAX_STREAMS 64
/* How long http_server_stop lets requests and streams finish before it
 * cancels the streams. */
#define HTTP_STOP_GRACE_MS 10000

typedef struct http_pool http_pool;

struct http_server {
    struct MHD_Daemon *daemon;
    http_pool *pool;              /* runs the handlers */
    const http_route *routes;
    void *user;
    http_config cfg;              /* strings below are our copies */
    char *host;
    char *bearer_token;           /* NULL when auth is off */
    char *service_name;
    int port;                     /* the bound port */
    http_error_body_fn error_body; /* read/written with __atomic builtins */

    pthread_mutex_t lock;         /* guards the fields below */
    pthread_cond_t idle;          /* signalled when a count below drops */
    int active_requests;          /* requests between first callback and completion */
    int active_streams;           /* stream objects not yet freed */
    struct http_stream *streams;  /* list of live streams (for cancellation at stop) */
    bool stopping;
};

struct http_request {
    http_server *srv;
    struct MHD_Connection *conn;  /* NULL once the request completed */
    const http_route *route;
    char *method;
    char *path;
    double start_s;               /* mono_s() at the first callback */
    buf body;
    bool body_too_large;
    bool responded;               /* a response was queued */
    cJSON *json;
    int status;                   /* status queued, for the access log */
    size_t bytes_out;             /* body bytes of a non-streamed reply */
    /* set by http_request_stream() inside the handler */
    bool stream_wanted;
    http_stream_fn producer;
    void *producer_user;
    void (*producer_free)(void *user);
    struct http_stream *stream;   /* the stream this request became, or NULL */
    /* hand-over to the handler pool (http_pool.c) */
    bool dispatched;              /* suspended and queued to the pool */
    bool handled;                 /* the worker finished (atomic) */
    int reply_status;             /* the reply the worker prepared */
    cJSON *reply_body;
    struct http_request *next_job;
};

/* Handler threads (http_pool.c): start `threads` workers calling run(req);
 * submit never fails; stop drains the queue and joins (NULL accepted). */
http_pool *http_pool_start(int threads, void (*run)(http_request *req));
void http_pool_submit(http_pool *p, http_request *req);
void http_pool_stop(http_pool *p);

/* Frees a request that has no stream (NULL accepted). */
void http_request_free(http_request *r);

/*
 * Streams (http_stream.c).  http_stream_start creates the stream for `req`
 * (which it takes over), queues the chunked event-stream response on the
 * connection and starts the producer thread.  Returns 0, -EBUSY when
 * HTTP_MAX_STREAMS are open, or -ENOMEM (the request is then still the
 * caller's and nothing was queued).
 */
int http_stream_start(http_request *req);
/* The request completed (client gone, or all sent): called from MHD's
 * completion callback; drops the request's reference. */
void http_stream_request_done(struct http_stream *s, bool ok);
/* Bytes the stream handed to MHD so far. */
size_t http_stream_bytes(const struct http_stream *s);
/* Marks every live stream closed (producers see -1) and resumes them. */
void http_stream_cancel_all(http_server *srv);

/* Error body for the layer's own errors, via the service's hook. */
cJSON *http_error_body(http_server *srv, int status, const char *message);

#endif
