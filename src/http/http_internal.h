/*
 * http_internal.h - state shared by the files of the HTTP layer (not a
 * contract for services: they use http.h).
 *
 *   http_server.c     start/stop, the access callback (request life cycle)
 *   http_check.c      what the headers decide: routing, auth, framing, types
 *   http_reply.c      reply helpers and printing (JSON styles, text, bytes)
 *   http_guard.c      connection states: request deadline, incomplete cap
 *   http_watch.c      the watcher thread: hang-ups and deadlines
 *   http_admit.c      back-pressure: big bodies wait unread for a ticket
 *   http_pool.c       handler threads with a bounded queue
 *   http_stream.c     Server-Sent Events
 *   http_multipart.c  multipart/form-data parser; http_form.c its helpers
 *   http_process.c    signals and systemd notifications
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
/* Seconds a client is told to wait (Retry-After) when the queue is full. */
#define HTTP_RETRY_AFTER_S 1

/* Where a request stands with the big-body tickets (http_admit.c). */
typedef enum http_admit_state {
    HTTP_ADMIT_NONE = 0, /* a small body (or none): no ticket needed */
    HTTP_ADMIT_IN,       /* holds a ticket, its body is being read or used */
    HTTP_ADMIT_HELD,     /* suspended before its body, queued for a ticket */
    HTTP_ADMIT_GRANTED,  /* was held, got a ticket, resumed (not yet re-entered) */
    HTTP_ADMIT_GONE,     /* was held; the client hung up: close */
    HTTP_ADMIT_EXPIRED,  /* was held past big_body_wait_ms: 503 */
    HTTP_ADMIT_STOPPED,  /* was held when the server stopped: 503 */
    HTTP_ADMIT_DONE,     /* its ticket is back */
} http_admit_state;

typedef enum http_admit_result {
    HTTP_ADMIT_GO,      /* read the body now */
    HTTP_ADMIT_WAIT,    /* the connection is suspended; req->admit tells on re-entry */
    HTTP_ADMIT_REFUSED, /* too many held (or stopping): answer 503 */
} http_admit_result;

typedef struct http_pool http_pool;
typedef struct http_watch http_watch;
typedef struct http_conn http_conn;

/* Multipart limits handed to the parser (http_multipart.c). */
typedef struct http_multipart_limits {
    int max_parts;
    size_t max_part_header_bytes;
} http_multipart_limits;

struct http_form {
    http_part *parts;
    size_t n;
    char *strings; /* names, filenames and types, NUL-separated (owned) */
};

/* Longest boundary RFC 2046 allows. */
#define HTTP_MULTIPART_BOUNDARY_MAX 70

/*
 * Reads the boundary parameter of a multipart/form-data Content-Type into
 * out (cap >= HTTP_MULTIPART_BOUNDARY_MAX + 1).  Returns its length, or -1
 * with a sentence in err (missing, empty, too long, bad characters).
 */
int http_multipart_boundary(const char *content_type, char *out, size_t cap, char *err,
                            size_t errlen);

/*
 * Parses a multipart/form-data body.  `content_type` is the request's
 * Content-Type header (the boundary parameter is read from it).  Parts
 * point into `body`, which must outlive the form.  Returns 0, or -1 with a
 * sentence in err (the request's fault: 400).  Never allocates more than a
 * small multiple of the part count besides the strings.
 */
int http_multipart_parse(const uint8_t *body, size_t len, const char *content_type,
                         const http_multipart_limits *lim, http_form *out, char *err,
                         size_t errlen);
void http_form_free(http_form *f);

struct http_server {
    struct MHD_Daemon *daemon;
    http_pool *pool;              /* runs the handlers */
    http_watch *watch;            /* hang-ups and request deadlines */
    const http_route *routes;
    void *user;
    http_config cfg;              /* strings below are our copies */
    char *host;
    char *bearer_token;           /* NULL when auth is off */
    char *service_name;
    char *busy_message;           /* NULL: the layer's own sentence */
    char challenge[160];          /* WWW-Authenticate value */
    int port;                     /* the bound port */
    http_error_body_fn error_body;   /* read/written with __atomic builtins */
    http_error_reply_fn error_reply; /* likewise */
    /* Per path prefix (http_server_set_error_body_for): entries are written
     * before n_error_prefixes publishes them (release/acquire). */
    struct {
        const char *prefix;
        http_error_body_fn fn;
    } error_prefixes[HTTP_MAX_ERROR_PREFIXES];
    int n_error_prefixes;

    pthread_mutex_t lock;         /* guards the fields below */
    pthread_cond_t idle;          /* signalled when a count below drops */
    int active_requests;          /* requests between first callback and completion */
    int active_streams;           /* stream objects not yet freed */
    struct http_stream *streams;  /* list of live streams (for cancellation at stop) */
    bool stopping;

    /* Connection guard (http_guard.c), under guard_lock. */
    pthread_mutex_t guard_lock;
    http_conn *incomplete_head, *incomplete_tail; /* oldest first */
    int incomplete;
    double last_evict_log_s;
    uint64_t evicted_since_log;
    http_stats stats;             /* counters (guard_lock; the big_body ones admit_lock) */

    /* Big-body tickets (http_admit.c), under admit_lock. */
    pthread_mutex_t admit_lock;
    int admit_in_use;             /* tickets taken */
    struct http_request *held_head, *held_tail; /* held requests, oldest first */
    int held;
    bool admit_stopping;          /* http_admit_stop ran: nothing is held any more */
};

struct http_request {
    http_server *srv;
    struct MHD_Connection *conn;  /* NULL once the request completed */
    http_conn *hc;                /* the connection's guard state */
    int fd;                       /* the client socket */
    const http_route *route;
    char *method;
    char *path;
    char *raw_target;             /* the request target before %-decoding (copy) */
    const char *raw_ptr;          /* where MHD keeps it (compared, never read) */
    size_t raw_target_len;        /* strlen at the URI callback (stops at a NUL) */
    double start_s;               /* mono_s() at the first callback */
    buf body;
    size_t body_limit;
    bool body_too_large;
    bool responded;               /* a response was queued */
    bool close_after;             /* the reply carries Connection: close */
    unsigned body_type;           /* HTTP_BODY_* chosen from Content-Type */
    cJSON *json;
    http_form form;
    bool has_form;
    int status;                   /* status queued, for the access log */
    size_t bytes_out;             /* body bytes of a non-streamed reply */
    /* set by http_request_stream() inside the handler */
    bool stream_wanted;
    const char *stream_type;      /* Content-Type of the stream; NULL: text/event-stream */
    http_stream_fn producer;
    void *producer_user;
    void (*producer_free)(void *user);
    struct http_stream *stream;   /* the stream this request became, or NULL */
    /* hand-over to the handler pool (http_pool.c) */
    bool dispatched;              /* suspended and queued to the pool */
    bool handled;                 /* the worker finished (atomic) */
    bool abandoned;               /* dropped unrun: the client hung up first */
    http_reply reply;             /* the reply the worker prepared */
    struct http_request *next_job;
    /* big-body tickets (http_admit.c), under srv->admit_lock */
    http_admit_state admit;
    bool busy_discard;            /* its body is dropped, then 503 busy */
    double held_until_s;          /* mono_s() deadline while held */
    struct http_request *next_held;
    /* hang-up watch (http_watch.c), under the watch's lock */
    uint64_t watch_id;            /* 0: not watched */
    bool peer_gone;               /* atomic */
    void (*on_close)(void *user);
    void *on_close_user;
};

/* ---- handler pool (http_pool.c) -------------------------------------- */

/* Starts `threads` workers calling run(req); the queue holds at most
 * max_queued requests.  stop drains the queue and joins (NULL accepted). */
http_pool *http_pool_start(int threads, int max_queued, void (*run)(http_request *req));
/* Queues req; returns 0, or -1 when the queue is full (nothing queued). */
int http_pool_submit(http_pool *p, http_request *req);
int http_pool_queued(http_pool *p);
void http_pool_stop(http_pool *p);

/* Frees a request that has no stream (NULL accepted). */
void http_request_free(http_request *r);

/* ---- big-body tickets (http_admit.c) ------------------------------------- */

/*
 * At the headers of a request that passed the checks: GO (read the body;
 * a big one took a ticket), WAIT (held: the connection was suspended and
 * re-enters the access callback once req->admit says GRANTED, GONE,
 * EXPIRED or STOPPED), or REFUSED (max_queued already held, or stopping).
 */
http_admit_result http_admit_enter(http_request *req);
/* Gives req's ticket back (when it has one) and resumes the held requests
 * that get one.  Idempotent; any thread. */
void http_admit_release(http_request *req);
/* Watcher thread: takes held requests whose client hung up or whose wait
 * ran out off the queue and resumes them.  Returns the seconds until the
 * next deadline (at most 1). */
double http_admit_sweep(http_server *srv);
/* At stop: holds nothing more and resumes every held request (STOPPED). */
void http_admit_stop(http_server *srv);
/* Tickets taken and requests held now. */
void http_admit_usage(http_server *srv, int *bodies, int *held);

/* ---- checks on the headers (http_check.c) ------------------------------- */

/*
 * Decides what to do with a request whose headers are in: routes it, checks
 * the token, the framing (Content-Length, Transfer-Encoding), the target
 * (NUL bytes) and the body type.  Returns 0 to go on reading the body, or
 * the status of an error to send at once with the sentence in msg and, for
 * some, a header (name and value in *hname and *hvalue; static or in hbuf).  Sets req->route,
 * req->body_limit, req->body_type and req->close_after.
 */
int http_check_request(http_request *req, const char *url, const char *version, char *msg, size_t msglen,
                       const char **hname, const char **hvalue, char *hbuf, size_t hbuflen);

/* ---- replies (http_reply.c) -------------------------------------------- */

/* Queues reply r (consumed: its body/raw are freed) on the request's
 * connection, with Connection: close when req->close_after. */
enum MHD_Result http_reply_send(http_request *req, http_reply *r);
/* Fills r with the layer's own error (through the service's hooks). */
void http_reply_layer_error(http_server *srv, const http_route *route, http_reply *r, int status,
                            const char *msg);
/* Frees what a reply owns and zeroes it. */
void http_reply_clear(http_reply *r);
/* Prints a JSON body in the server's style (malloc'd, NULL when out of memory). */
char *http_json_print(http_server *srv, cJSON *body);

/* ---- connection guard (http_guard.c) ------------------------------------ */

/* MHD's connection notification: tracks accept and close. */
void http_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode code);
/* The request on hc arrived whole: it leaves the incomplete state. */
void http_guard_request_complete(http_server *srv, http_conn *hc);
/* A reply on hc was sent: the connection waits for its next request. */
void http_guard_request_done(http_server *srv, http_conn *hc);
/* Closes incomplete connections past their deadline; returns the seconds
 * until the next deadline (at most 1). */
double http_guard_sweep(http_server *srv);
/* Closes every incomplete connection (at stop). */
void http_guard_close_incomplete(http_server *srv);
/* The guard state of a connection (NULL when unknown). */
http_conn *http_guard_of(struct MHD_Connection *conn);

/* ---- watcher (http_watch.c) ---------------------------------------------- */

/* Starts the watcher thread: hang-ups of watched requests, and the guard's
 * deadline sweep.  NULL when out of resources. */
http_watch *http_watch_start(http_server *srv);
void http_watch_stop(http_watch *w);
/* Watches req->fd for a hang-up until http_watch_remove.  Returns 0 or -1. */
int http_watch_add(http_watch *w, http_request *req);
/* Stops watching; on return no on_close hook of req runs.  With `gone`
 * (the connection ended without its reply) the hook runs first. */
void http_watch_remove(http_watch *w, http_request *req, bool gone);
/* Sets the hook (see http_request_on_close). */
void http_watch_set_hook(http_watch *w, http_request *req, void (*fn)(void *), void *user);

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

#endif
