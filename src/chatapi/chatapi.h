/*
 * chatapi.h - what the chat services (hailo-vision, hailo-llm) share: the
 * OpenAI Chat Completions API and one text generation on the device manager.
 *
 * DESIGN.  A service parses its own messages (images for the VLM, tools for
 * the LLM) and builds its own manager request; everything else is here:
 *
 *   params.c      OpenAI's generation parameters (temperature, top_p,
 *                 max_tokens, seed, n, stop, stream, stream_options)
 *   gen.c         one streaming infer on the manager (hdm_call_stream),
 *                 through the stop matcher, cancelled when the client hangs up
 *   stop.c        stop sequences over a stream of text deltas
 *   completion.c  chat.completion objects, OpenAI's error shapes and statuses
 *   sse.c         chat.completion.chunk objects and "data: ..." framing
 *   stream.c      a streamed answer: the SSE producer around gen.c
 *   reply.c       OpenAI-shaped error replies, the hang-up eventfd
 *
 * Nothing here knows a model type: the caller's request decides it.
 */
#ifndef HDM_CHATAPI_CHATAPI_H
#define HDM_CHATAPI_CHATAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/textstream.h"
#include "hailodm.h"

/* OpenAI allows at most four stop sequences. */
#define CHAT_MAX_STOP 4
/* Longest stop sequence (bytes) the manager accepts. */
#define CHAT_MAX_STOP_LEN 256

struct http_request;
struct http_reply;

/* ---- params.c ------------------------------------------------------------- */

/* Defaults the service's config gives. */
typedef struct chat_defaults {
    double temperature;
    double top_p;
    int max_tokens; /* a request's max_tokens is capped at this */
    int seed;       /* -1: none */
} chat_defaults;

typedef struct chat_params {
    double temperature;
    double top_p;
    int max_tokens;
    int seed; /* -1: none */
    char *stop[CHAT_MAX_STOP];
    int n_stop;
    bool stream;
    bool include_usage;
    /* Which were in the request (a service may leave the rest to the model). */
    bool has_temperature, has_top_p, has_max_tokens;
} chat_params;

/*
 * Parses OpenAI's generation parameters of a chat completions body (the
 * model is the caller's to check).  On failure *param names the offending
 * parameter (OpenAI's "param").  Returns 0 or -HDM_E_BAD_REQUEST /
 * -HDM_E_NOMEM with err set; *p is then freed.
 */
int openai_parse_params(const cJSON *body, const chat_defaults *d, chat_params *p,
                        const char **param, hdm_err *err);
void chat_params_free(chat_params *p);

/* ---- stop.c --------------------------------------------------------------- */

/* Emits text that is safe to show; returns non-zero to abandon. */
typedef int (*stop_emit_fn)(void *user, const char *text, size_t len);

/* common/textstream: `hit` is set once a stop sequence matched. */
typedef textstream stop_matcher;

void stop_init(stop_matcher *s, char *const *stops, int n);
/*
 * Feeds one delta.  Emits everything that cannot be the start of a stop
 * sequence; on a match emits the text before it and sets s->hit.  Returns
 * the emitter's non-zero value, -HDM_E_NOMEM, or 0.
 */
int stop_feed(stop_matcher *s, const char *text, size_t len, stop_emit_fn emit, void *user);
/* At the end of generation emits what was held back (unless hit). */
int stop_flush(stop_matcher *s, stop_emit_fn emit, void *user);
void stop_free(stop_matcher *s);

/* ---- gen.c ---------------------------------------------------------------- */

typedef struct chat_result {
    char *text; /* the answer (malloc'd), stop sequence removed */
    size_t text_len;
    const char *finish_reason; /* "stop", "length" (or "tool_calls", set by a service) */
    int prompt_tokens;         /* from the manager's final frame (the model's tokenizer) */
    int completion_tokens;
    double inference_ms;  /* the manager's inference_time_ms */
    double load_ms;       /* the manager's load_time_ms: 0 when the model was resident */
    double first_text_ms; /* from the call to the first visible text (0: none) */
    double total_ms;      /* from the call to the final frame */
    /* OpenAI tool_calls [{id, type, function: {name, arguments}}] a service
     * parsed out of the text (owned), or NULL. */
    cJSON *tool_calls;
} chat_result;

/*
 * Runs `req` (a streaming-capable infer the caller built) on the manager.
 * Text deltas go through the stop matcher over stops[0..n_stop) and every
 * visible piece to `emit` (may be NULL) as it arrives; `emit` returning
 * non-zero abandons the generation (the manager cancels it) and the call
 * returns -HDM_E_CANCELLED.  `cancel_fd` (-1: none) does the same from
 * outside while the call waits, queued or generating (chat_cancel_begin);
 * that cancel reads "the client went away".  Usage, finish_reason and
 * timing come from the manager's final frame.  Returns 0 (out filled) or a
 * negative HDM code with err (the manager's own sentence when it gave one).
 */
int chat_gen_run(hdm_client *client, hdm_request *req, int timeout_ms, char *const *stops,
                 int n_stop, int max_tokens, stop_emit_fn emit, void *user, int cancel_fd,
                 chat_result *out, hdm_err *err);
void chat_result_free(chat_result *r);

/* ---- completion.c --------------------------------------------------------- */

/* "chatcmpl-" + 24 random hex digits, into out (>= 40 bytes). */
void completion_new_id(char *out, size_t out_len);
/* A chat.completion object (message.tool_calls from r->tool_calls). */
cJSON *completion_build(const char *id, long created, const char *model, const chat_result *r,
                        double load_ms);
/* OpenAI's error body {"error": {message, type, param, code}}. */
cJSON *completion_error(int status, const char *message, const char *param, const char *code);
/* The HTTP status for an HDM error code (either sign). */
int completion_status_for(int code);
/* Shapes the HTTP layer's own errors (http_server_set_error_body). */
cJSON *completion_layer_error(int status, const char *message);

/* ---- sse.c ---------------------------------------------------------------- */

/* Formats "data: <json>\n\n" into a malloc'd string (*len set). NULL on OOM. */
char *sse_event(const cJSON *obj, size_t *len);
/* A chat.completion.chunk with one choice; `delta` is consumed. */
cJSON *sse_chunk(const char *id, long created, const char *model, cJSON *delta,
                 const char *finish_reason, bool usage_null);
/* The usage-only chunk (choices []). */
cJSON *sse_usage_chunk(const char *id, long created, const char *model, int prompt_tokens,
                       int completion_tokens);
/* A delta object {role?, content}. */
cJSON *sse_delta(const char *role, const char *content, size_t len);

/* ---- stream.c ------------------------------------------------------------- */

/* The generation a stream runs: chat_gen_run with emit/emit_user/cancel_fd
 * passed through (the service adds its model and request). */
typedef int (*chat_run_fn)(void *user, stop_emit_fn emit, void *emit_user, int cancel_fd,
                           chat_result *out, hdm_err *err);

/*
 * Answers `hr` with a Server-Sent Events stream of chat.completion.chunk
 * events for `model`: the role chunk, one chunk per piece of text as `run`
 * produces it, the tool_calls chunk when the result has any, the finish
 * chunk, the usage chunk with include_usage, "data: [DONE]".  An error after
 * the start is an event {"error": {...}}; a client that hangs up cancels
 * the generation.  `free_user(user)` runs once the stream is over (also on
 * failure).  Returns 0 or -HDM_E_NOMEM.
 */
int openai_stream_start(struct http_request *hr, const char *model, bool include_usage,
                        chat_run_fn run, void *user, void (*free_user)(void *user));

/* ---- reply.c -------------------------------------------------------------- */

/* Replies with OpenAI's error shape. */
void openai_reply_error(struct http_reply *reply, int status, const char *message,
                        const char *param, const char *code);
/* The reply for a failed generation: 499 when the client went away (nobody
 * reads it), 503 when the manager lost the model or is unavailable, else
 * completion_status_for. */
void openai_reply_gen_error(struct http_reply *reply, int r, const hdm_err *err, bool client_gone);

/*
 * Hang-ups: chat_cancel_begin gives the request an eventfd that the HTTP
 * layer's hang-up hook writes when the client goes away (while queued on
 * the manager or generating); pass cc->fd to chat_gen_run.
 * chat_cancel_end clears the hook and closes the fd.  cc->fd is -1 when no
 * eventfd could be made (the call then only stops when a write fails).
 */
typedef struct chat_cancel {
    int fd;
    struct http_request *hr;
} chat_cancel;
void chat_cancel_begin(chat_cancel *cc, struct http_request *hr);
void chat_cancel_end(chat_cancel *cc);

#endif
