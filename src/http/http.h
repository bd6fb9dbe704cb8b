/*
 * http.h - the small HTTP layer our services share, over libmicrohttpd.
 *
 * A service declares a route table; the layer reads the request body up to a
 * limit (413 before reading further), checks its Content-Type against the
 * body types the route accepts (415 otherwise), parses it (JSON with cJSON,
 * multipart/form-data with http_multipart.c), calls the handler on one of
 * cfg->threads handler threads (a handler may block, e.g. on the device
 * manager) and writes the reply (JSON, text, bytes, or a Server-Sent Events
 * stream).  It answers 404/405/401 itself, refuses ambiguous framing
 * (RFC 9112: two Content-Lengths, Content-Length with Transfer-Encoding),
 * gives every request a deadline to arrive whole, bounds the connections
 * still sending their request and the requests waiting for a handler, tells
 * handlers when their client hangs up, and writes an access log line per
 * request.  docs/SECURITY.md lists every limit with its default and test.
 */
#ifndef HDM_HTTP_HTTP_H
#define HDM_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

typedef struct http_server http_server;
typedef struct http_request http_request;

/* ---- replies ------------------------------------------------------------- */

/* Extra reply headers a handler may set (Content-Disposition, Retry-After). */
#define HTTP_REPLY_MAX_HEADERS 4

typedef struct http_reply {
    int status;   /* HTTP status */
    cJSON *body;  /* JSON body (owned by the layer after return), or NULL */
    /* A non-JSON body (http_reply_text / http_reply_bytes): owned bytes and
     * their Content-Type; when set, `body` is not used. */
    char *raw;
    size_t raw_len;
    /* How `raw` goes back once the layer is done with it (http_reply_take):
     * raw_release(raw_release_arg), which frees it; NULL: free(raw). */
    void (*raw_release)(void *arg);
    void *raw_release_arg;
    char content_type[128];
    struct {
        char name[64];
        char value[256];
    } headers[HTTP_REPLY_MAX_HEADERS];
    int n_headers;
} http_reply;

/* Convenience: {"error": message} with status. */
void http_reply_error(http_reply *reply, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Convenience: set status and JSON body (consumed). */
void http_reply_json(http_reply *reply, int status, cJSON *body);
/*
 * A text or binary body: `len` bytes of `data` are copied; `content_type`
 * is sent as is ("text/plain; charset=utf-8", "text/vtt; charset=utf-8",
 * "image/png", "audio/wav").  Returns 0, or -1 when out of memory (the reply
 * is then a 500).
 */
int http_reply_bytes(http_reply *reply, int status, const char *content_type, const void *data,
                     size_t len);
/*
 * A body handed over without a copy (large bodies a service writes itself):
 * `data` (len bytes) becomes the reply, sent as `content_type`.  The layer
 * calls release(arg) exactly once when it no longer needs the bytes - after
 * the last one was sent, when the connection closed first, or when the reply
 * is replaced or fails - and release must free them; so a service learns
 * when the memory is really back (release NULL: the layer free()s data).
 * Returns 0, or -1 for a bad content type (data is released at once and the
 * reply becomes a 500).
 */
int http_reply_take(http_reply *reply, int status, const char *content_type, void *data,
                    size_t len, void (*release)(void *arg), void *arg);
/* The same for a NUL-terminated string. */
int http_reply_text(http_reply *reply, int status, const char *content_type, const char *text);
/* Adds a response header (e.g. "Content-Disposition", "attachment; filename=\"a.wav\"").
 * Returns 0, or -1 when the name/value is too long, holds CR/LF, or the
 * HTTP_REPLY_MAX_HEADERS slots are taken. */
int http_reply_header(http_reply *reply, const char *name, const char *value);

/*
 * How JSON replies are printed (http_config.json_style), so a service can
 * answer byte for byte as the framework of the original did
 * (ORIGINAL-SERVICES.md §0.2).  Strings are always valid UTF-8 in the
 * output: invalid bytes that came from a request become U+FFFD.
 */
typedef enum http_json_style {
    HTTP_JSON_COMPACT = 0, /* cJSON's compact form (hailo-clip, hailo-vision) */
    HTTP_JSON_PYTHON,      /* json.dumps: ", " and ": ", ASCII only, floats as Python writes them (aiohttp) */
    HTTP_JSON_FLASK,       /* jsonify: compact, keys sorted, ASCII only, trailing newline */
    HTTP_JSON_FASTAPI,     /* compact, insertion order, UTF-8 */
} http_json_style;

/* Replaces every invalid UTF-8 sequence in the strings and keys of `j` by
 * U+FFFD (for bodies a service prints itself, e.g. stream events).  Returns
 * 0 or -1 when out of memory. */
int http_json_fix_utf8(cJSON *j);

/* ---- streams ------------------------------------------------------------- */

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
/* The request the stream answers (for http_request_on_close and the
 * accessors), valid while the producer runs. */
http_request *http_stream_request(http_stream *s);

/* ---- routes -------------------------------------------------------------- */

/* Handler: fills *reply, or calls http_request_stream() and returns. */
typedef void (*http_handler_fn)(http_request *req, http_reply *reply, void *user);

/* What body a route reads (http_route.body): none, or the accepted types.
 * `true` in a table means HTTP_BODY_JSON.  Another Content-Type, or none,
 * is answered 415 naming the accepted types (a service that must answer
 * otherwise maps 415 in its error hook, http_server_set_error_reply). */
#define HTTP_BODY_NONE 0u
#define HTTP_BODY_JSON 0x1u      /* application/json (any parameters): parsed with cJSON */
#define HTTP_BODY_MULTIPART 0x2u /* multipart/form-data with a boundary: parsed into a form */
/* JSON whatever the Content-Type says (none included): Ollama's API, whose
 * own documented `curl -d` examples send form encoding. */
#define HTTP_BODY_JSON_ANY 0x4u

typedef struct http_route {
    const char *method;  /* "GET", "POST"; a GET route also answers HEAD */
    const char *path;    /* exact path */
    http_handler_fn handler;
    unsigned body;       /* HTTP_BODY_* flags: the body is read and parsed before the handler */
    bool public_route;   /* no bearer token required (health) */
} http_route;

/* ---- server -------------------------------------------------------------- */

typedef struct http_config {
    const char *host;            /* bind address, "0.0.0.0", "127.0.0.1", "::" */
    int port;                    /* 0 picks a free port (see http_server_port) */
    int threads;                 /* handler threads, default 4 */
    size_t max_body_bytes;       /* default 16 MiB */
    const char *bearer_token;    /* NULL/empty: no auth */
    int connection_timeout_s;    /* idle connection timeout (writing replies), default 60 */
    int max_connections;         /* open connections in all, default 512 */
    int max_connections_per_ip;  /* open connections from one address, default 64 */
    const char *service_name;    /* for logs */
    bool access_log;             /* default true */
    /* A request (headers and body) must arrive whole within this many
     * seconds of the connection's start or of the previous reply on it,
     * default 30: a client sending a byte now and then cannot hold a slot. */
    int request_timeout_s;
    /* Connections still sending a request (or idle between requests) at
     * once, default max_connections / 2: beyond it the oldest is closed, so
     * the other half of the slots stays for requests that did arrive. */
    int max_incomplete;
    /* Requests waiting for a handler thread, default 64: beyond it 503 with
     * Retry-After. */
    int max_queued;
    http_json_style json_style;  /* default HTTP_JSON_COMPACT */
    /* Multipart limits: parts per body (default 64), bytes of one part's
     * headers (default 8 KiB); a part's size is bounded by the body's. */
    int max_parts;
    size_t max_part_header_bytes;
    /* Read request bodies sent with Transfer-Encoding: chunked (default
     * false: 411).  The body still counts against max_body_bytes (413 once
     * it goes over, as for a body with a Content-Length).  For services
     * whose clients stream uploads: the openai npm package sends a file
     * given as a stream (fs.createReadStream, its documented usage) as a
     * chunked multipart body.  libmicrohttpd itself answers a chunk line
     * longer than its 32 KiB buffer (a huge chunk extension) with its own
     * error page and closes the connection. */
    bool accept_chunked;
    /*
     * Back-pressure for services whose requests carry big bodies and then
     * wait for a scarce resource (an image slot): at most max_big_bodies
     * request bodies of more than big_body_bytes (Content-Length; a chunked
     * body counts as big) are read and kept at once (default 0: no limit).
     * Another such request waits before its body is read - its connection
     * is not read, so the body stays with the client (its send blocks) -
     * first come, first served, until a body is released (the handler
     * called http_request_release_body or returned; a stream's body lives
     * until the stream ends).  A request
     * held longer than big_body_wait_ms (default 10000) gets 503 with
     * Retry-After and busy_message (NULL: a sentence of the layer's), as
     * does one arriving while max_queued requests are held.  Held
     * connections are exempt from request_timeout_s and max_incomplete;
     * once let through they have request_timeout_s to send the body.
     */
    size_t big_body_bytes;
    int max_big_bodies;
    int big_body_wait_ms;
    const char *busy_message;
} http_config;

/* Fills *cfg with the defaults above (host "0.0.0.0", port 0). */
void http_config_defaults(http_config *cfg);

/* Starts serving `routes` (terminated by {NULL}).  Returns 0 or negative errno-ish code; *err_msg gets a sentence. */
int http_server_start(const http_config *cfg, const http_route *routes, void *user,
                      http_server **out, char *err_msg, size_t err_len);
int http_server_port(const http_server *s);
/* Stops accepting, waits for in-flight requests, frees. Accepts NULL. */
void http_server_stop(http_server *s);

/* Counters of the layer's defences, for tests and metrics. */
typedef struct http_stats {
    uint64_t incomplete_evicted;   /* closed as the oldest incomplete request (max_incomplete) */
    uint64_t incomplete_expired;   /* closed at request_timeout_s */
    uint64_t queue_rejected;       /* 503 because max_queued requests waited */
    uint64_t abandoned_in_queue;   /* dropped before their handler: the client hung up */
    uint64_t hangups_seen;         /* clients that hung up while their handler/stream ran */
    int incomplete_now;            /* connections in the incomplete state now */
    int queued_now;                /* requests waiting for a handler now */
    /* Back-pressure (max_big_bodies). */
    int big_bodies_now;            /* big bodies being read or kept now */
    int big_bodies_peak;           /* the most at once so far */
    int held_now;                  /* requests held before their body now */
    uint64_t held_expired;         /* 503 after big_body_wait_ms */
    uint64_t held_gone;            /* the client hung up while held */
    uint64_t held_refused;         /* 503 at once: max_queued were held */
} http_stats;
void http_server_stats(http_server *s, http_stats *out);

/* ---- requests (valid during the handler / stream producer) -------------- */

const char *http_request_method(const http_request *r);
const char *http_request_path(const http_request *r);
/* The parsed JSON body (NULL for GET and for multipart bodies). */
const cJSON *http_request_json(const http_request *r);
const char *http_request_header(const http_request *r, const char *name);
/* The raw body bytes (multipart routes keep them; JSON routes free them
 * once parsed and return NULL). */
const uint8_t *http_request_body(const http_request *r, size_t *len);

/*
 * Bodies a handler is done with.  http_request_free_body() frees the
 * request's body, its JSON and its form now (what http_request_body,
 * _json and _form returned must not be used afterwards), for a handler
 * that still works a long time after it has read them; a big body's
 * back-pressure ticket (http_config.max_big_bodies) stays with the
 * request.  http_request_release_body() does the same and gives the ticket
 * back now, so the next held request's body is read while this one goes
 * on: call it once the handler holds nothing of the body's size.  Both
 * happen anyway when the handler returns (a stream's body lives until the
 * stream ends).  Called from the handler's own thread.
 */
void http_request_free_body(http_request *r);
void http_request_release_body(http_request *r);

/*
 * Hang-ups.  http_request_closed() is true once the client's socket showed
 * EOF or a reset (a half-close counts as gone).  http_request_on_close()
 * registers fn(user), run once on the layer's watcher thread as soon as the
 * client hangs up while the handler or the stream producer runs; it runs
 * before this returns when the client is already gone.  fn must not block
 * (write an eventfd, set a flag).  Passing fn NULL clears it; after that
 * returns, fn is not running and will not run.  A request whose client
 * hangs up while it waits for a handler thread is dropped unrun.
 */
bool http_request_closed(http_request *r);
void http_request_on_close(http_request *r, void (*fn)(void *user), void *user);

/* Switches the reply to a stream (Content-Type text/event-stream, chunked);
 * `producer` runs on its own thread after the handler returns, and
 * free_user(user) is called once the stream is over.  At most 64 streams are
 * open at once: beyond that the client gets 503 and free_user runs without
 * the producer. */
void http_request_stream(http_request *r, http_stream_fn producer, void *user,
                         void (*free_user)(void *user));
/* The same stream with another Content-Type (a static string), e.g.
 * "application/x-ndjson" for Ollama's newline-delimited JSON. */
void http_request_stream_as(http_request *r, const char *content_type, http_stream_fn producer,
                            void *user, void (*free_user)(void *user));

/* ---- multipart/form-data bodies ---------------------------------------------
 *
 * For a route with HTTP_BODY_MULTIPART the layer parses the whole body
 * before the handler and answers 400 itself for: a Content-Type without a
 * boundary, a body that does not follow it, a part without a
 * Content-Disposition form-data name, a name given twice (only names ending
 * in "[]" may repeat), more than max_parts parts, a part header block over
 * max_part_header_bytes.  Part data points into the request body (no copy).
 */
typedef struct http_part {
    const char *name;         /* form field name */
    const char *filename;     /* NULL when the part has no filename */
    const char *content_type; /* the part's Content-Type, NULL when absent */
    const uint8_t *data;      /* the part's bytes (not NUL-terminated) */
    size_t len;
} http_part;

typedef struct http_form http_form;

/* The parsed form of a multipart request, or NULL (not multipart). */
const http_form *http_request_form(const http_request *r);
size_t http_form_count(const http_form *f);
/* The i-th part in body order (NULL past the end). */
const http_part *http_form_at(const http_form *f, size_t i);
/* The first part named `name`, or NULL. */
const http_part *http_form_get(const http_form *f, const char *name);

/*
 * Field helpers.  Each returns 1 when the field is present and valid (and
 * sets *out), 0 when it is absent (*out untouched), or -1 when it is there
 * but invalid, with a sentence naming the field in err ("field
 * 'confidence_threshold' must be a number between 0 and 1, got 'abc'").
 * Text fields must be valid UTF-8 without NUL bytes.
 *
 * http_form_string: a malloc'd NUL-terminated copy in *out (caller frees).
 * http_form_double: a finite decimal number in [lo, hi].
 * http_form_long: a decimal integer in [lo, hi].
 * http_form_bool: true/false, 1/0, yes/no, on/off (any case).
 * http_form_file: a part with at least one byte (an empty one is -1,
 *   "field 'image' is empty"); *out points at the part.
 */
int http_form_string(const http_form *f, const char *name, char **out, char *err, size_t errlen);
int http_form_double(const http_form *f, const char *name, double lo, double hi, double *out,
                     char *err, size_t errlen);
int http_form_long(const http_form *f, const char *name, long lo, long hi, long *out, char *err,
                   size_t errlen);
int http_form_bool(const http_form *f, const char *name, bool *out, char *err, size_t errlen);
int http_form_file(const http_form *f, const char *name, const http_part **out, char *err,
                   size_t errlen);

/* ---- error shapes ---------------------------------------------------------- */

/*
 * Hook so a service can shape errors the layer produces itself (400, 401,
 * 404, 405, 411, 413, 415, 501, 503): default {"error": msg}; hailo-vision
 * uses OpenAI's {"error": {"message","type","code"}}.
 */
typedef cJSON *(*http_error_body_fn)(int status, const char *message);
void http_server_set_error_body(http_server *s, http_error_body_fn fn);
/*
 * The same for the routes whose path starts with `path_prefix` (a static
 * string), once such a route matched (400 bad JSON, 401, 411, 413, 415,
 * 503): for a service speaking two APIs (hailo-llm: Ollama's {"error"},
 * OpenAI's on "/v1/").  Wins over the server-wide hooks.  Call right after
 * http_server_start.  Returns 0, or -1 when HTTP_MAX_ERROR_PREFIXES are set.
 */
#define HTTP_MAX_ERROR_PREFIXES 4
int http_server_set_error_body_for(http_server *s, const char *path_prefix, http_error_body_fn fn);
/*
 * The general form: fill `reply` (JSON, text or bytes) for the layer's own
 * error.  When set it wins over the cJSON hook; leaving reply->status 0
 * falls back to the default.  aiohttp-style services answer
 * "404: Not Found" as text/plain here.
 */
typedef void (*http_error_reply_fn)(int status, const char *message, http_reply *reply);
void http_server_set_error_reply(http_server *s, http_error_reply_fn fn);

/*
 * Process helpers for services.
 *
 * http_block_signals() blocks SIGTERM, SIGINT and SIGHUP in the calling
 * thread (threads created afterwards inherit the mask) and ignores SIGPIPE;
 * call it first thing in main(), before any thread starts.
 * http_server_start() calls it too, so the pool threads never take those
 * signals.  http_wait_for_signal() waits (sigwait) until one of them
 * arrives; returns the signal number, or -1 on error.
 */
void http_block_signals(void);
int http_wait_for_signal(void);
/* sd_notify READY=1 with STATUS=status (may be NULL).  Returns sd_notify's
 * result: > 0 sent, 0 not running under systemd, < 0 error. */
int http_notify_ready(const char *status);
/* sd_notify STOPPING=1 with STATUS=status (may be NULL). */
int http_notify_stopping(const char *status);

#endif
