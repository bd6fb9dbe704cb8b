/*
 * vision.h - the parts of hailo-vision and how they fit together.
 *
 * DESIGN.  hailo-vision is an OpenAI Chat Completions front end for the
 * vision-language model the device manager runs.  A request travels
 *
 *   routes.c (HTTP) -> chat.c (parse + validate, build the manager prompt)
 *        -> images.c (every image to a 336x336 RGB frame)
 *        -> generate.c (one streaming infer on the manager, stop sequences)
 *        -> completion.c (chat.completion JSON) or sse.c (chunk events)
 *
 * model.c keeps the model loaded in a background thread and answers the
 * readiness question; config.c maps the YAML file onto vision_config.
 * Everything a request needs is validated before the manager is asked, so
 * a bad request never costs device time.
 */
#ifndef HDM_VISION_VISION_H
#define HDM_VISION_VISION_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/paths.h"
#include "common/textstream.h"
#include "common/yamlconf.h"
#include "hailodm.h"
#include "svc/model_keeper.h"

/* Side of the square RGB frames the model takes. */
#define VISION_FRAME_SIDE 336
#define VISION_FRAME_BYTES ((size_t)VISION_FRAME_SIDE * VISION_FRAME_SIDE * 3)
/* OpenAI allows at most four stop sequences. */
#define VISION_MAX_STOP 4
/* Longest stop sequence (bytes) and most messages the manager accepts. */
#define VISION_MAX_STOP_LEN 256
#define VISION_MAX_MESSAGES 256
/* Most images the manager accepts in one request (images.max_per_request caps at this). */
#define VISION_MAX_IMAGES 16
/* The manager's model_type for chat-style VLM inference. */
#define VISION_MODEL_TYPE "vlm_chat"

/* ---- config.c ---------------------------------------------------------- */

typedef struct vision_config {
    char *host;                /* server.host, default 0.0.0.0 */
    int port;                  /* server.port, default 11435 */
    int threads;               /* server.threads, default 4 */
    int max_body_bytes;        /* server.max_body_bytes, default 32 MiB */
    char *bearer_token;        /* server.bearer_token (or $HAILO_VISION_TOKEN) */
    char *socket_path;         /* manager.socket ($HAILO_DEVICE_SOCKET wins) */
    char *model_name;          /* model.name, default qwen2-vl-2b-instruct */
    char *hef_path;            /* model.hef_path */
    double keep_alive;         /* model.keep_alive: -1 pinned, 0 unload after use, N s */
    double temperature;        /* generation.temperature, default 0.7 */
    int max_tokens;            /* generation.max_tokens: cap of a request's max_tokens */
    double top_p;              /* generation.top_p, default 0.9 */
    int seed;                  /* generation.seed, -1: none */
    char *system_prompt;       /* generation.system_prompt */
    int timeout_s;             /* generation.timeout_s: one generation's time limit */
    conf_strlist allowed_dirs; /* images.allowed_dirs (file:// URLs) */
    bool allow_remote;         /* images.allow_remote (http(s):// URLs) */
    int image_max_bytes;       /* images.max_bytes: encoded size of one image */
    int image_max_pixels;      /* images.max_pixels: decoded size of one image */
    int fetch_timeout_ms;      /* images.fetch_timeout_ms: one remote fetch */
    conf_strlist remote_allowed_networks; /* images.remote_allowed_networks: CIDR blocks
                                           * fetches may reach besides public addresses */
    int max_images;            /* images.max_per_request */
} vision_config;

/* The key table (for conf_set from flags, conf_free). */
extern const conf_key vision_config_keys[];

/* Fills the defaults (allocating the default strings).  Returns 0 or -HDM_E_NOMEM. */
int vision_config_defaults(vision_config *cfg);
/* Loads `path` over the defaults (a missing file is fine when missing_ok),
 * then $HAILO_VISION_TOKEN; checks the result. */
int vision_config_load(vision_config *cfg, const char *path, bool missing_ok, hdm_err *err);
/* Checks cross-field rules (hef_path set, ...).  Returns 0 or -HDM_E_BAD_REQUEST. */
int vision_config_check(const vision_config *cfg, hdm_err *err);
void vision_config_free(vision_config *cfg);

/* ---- model.c ----------------------------------------------------------- */

/* The shared registration thread (svc/model_keeper.c) with the VLM's load. */
typedef struct svc_keeper vision_model;

/*
 * Starts the background thread that loads the model on the manager (retrying
 * with backoff while the manager is not up) and watches it afterwards, so a
 * manager restart is noticed and the model loaded again.
 */
int vision_model_start(const vision_config *cfg, hdm_client *client, vision_model **out);
/*
 * On a clean shutdown: a pinned model (keep_alive -1) is unloaded, since a
 * pin nobody holds would keep the device's one GenAI slot forever.  Models
 * with a finite keep_alive expire by themselves.  Accepts NULL.
 */
void vision_model_release(vision_model *m);
/* Stop (svc_keeper_free), readiness, the last load's milliseconds and the
 * backend name are asked of the keeper itself (svc/model_keeper.h). */
/* Tells the watcher a call failed with `code` (negative HDM code); it re-checks. */
void vision_model_report(vision_model *m, int code);

/* ---- netpolicy.c -------------------------------------------------------- */

struct sockaddr;

/* An address block: addr (network order, len 4 or 16 bytes) / bits. */
typedef struct net_block {
    uint8_t addr[16];
    int len;
    int bits;
} net_block;

/* Parses "192.168.1.0/24", "fd00::/8" or a bare address.  Returns 0 or
 * -HDM_E_BAD_REQUEST naming the text. */
int netpolicy_parse(const char *cidr, net_block *out, hdm_err *err);
/* True when a fetch may connect to sa: a public unicast address, or one in
 * `allow`.  Loopback, private, link-local, CGNAT, multicast, IPv6 ULA,
 * IPv4-mapped and the other special-purpose blocks are refused. */
bool netpolicy_allowed(const net_block *allow, size_t n_allow, const struct sockaddr *sa);

/* ---- images.c ---------------------------------------------------------- */

typedef struct vision_images {
    path_allowlist dirs; /* file:// confinement */
    bool allow_remote;
    net_block *allow_nets; /* images.remote_allowed_networks */
    size_t n_allow_nets;
    size_t max_bytes;
    uint64_t max_pixels;
    int fetch_timeout_ms;
} vision_images;

/* Returns 0, -HDM_E_NOMEM, or -HDM_E_BAD_REQUEST (a bad network block, err set). */
int vision_images_init(vision_images *vi, const vision_config *cfg, hdm_err *err);
void vision_images_free(vision_images *vi);
/*
 * Turns an image reference into a VISION_FRAME_BYTES RGB frame in `frame`.
 * `ref` is a data: URI, file:// URL, http(s):// URL or, when `bare_base64`,
 * plain base64.  `what` names the field in messages.  Errors:
 * -HDM_E_BAD_REQUEST (undecodable, bad URL, not allowed), -HDM_E_TOO_LARGE.
 */
int vision_image_load(const vision_images *vi, const char *ref, bool bare_base64, const char *what,
                      uint8_t *frame, hdm_err *err);

/* ---- chat.c ------------------------------------------------------------ */

/* One image reference inside a message, in request order. */
typedef struct chat_image {
    const char *ref;  /* borrowed from the request JSON */
    bool bare_base64; /* {type:"image"} parts may carry plain base64 */
    char what[64];    /* "messages[1].content[0]" */
} chat_image;

typedef struct chat_params {
    double temperature;
    double top_p;
    int max_tokens;
    int seed; /* -1: none */
    char *stop[VISION_MAX_STOP];
    int n_stop;
    bool stream;
    bool include_usage;
} chat_params;

typedef struct chat_request {
    cJSON *prompt;      /* manager prompt: [{role, content:[...]}] */
    chat_image *images; /* in order; frames follow this order */
    size_t n_images;
    chat_params params;
} chat_request;

/*
 * Parses and validates a /v1/chat/completions body.  On failure *param is
 * set to the offending parameter name (for OpenAI's "param") when known.
 * Returns 0, -HDM_E_BAD_REQUEST, or -HDM_E_NOT_FOUND (unknown model).
 */
int chat_parse(const cJSON *body, const vision_config *cfg, chat_request *out, const char **param,
               hdm_err *err);
void chat_request_free(chat_request *r);
/* Parses the generation parameters only (shared with analyze.c). */
int chat_parse_params(const cJSON *body, const vision_config *cfg, chat_params *p,
                      const char **param, hdm_err *err);
void chat_params_free(chat_params *p);
/* Appends {role, content:[{type:"text",text}]} to a manager prompt. */
int chat_prompt_add_text(cJSON *prompt, const char *role, const char *text);

/* ---- stop.c ------------------------------------------------------------ */

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

/* ---- generate.c -------------------------------------------------------- */

typedef struct gen_result {
    char *text; /* the answer (malloc'd), stop sequence removed */
    size_t text_len;
    const char *finish_reason; /* "stop" or "length" */
    int prompt_tokens;
    int completion_tokens;
    double inference_ms;
} gen_result;

/*
 * Runs one generation on the manager: `prompt` (manager messages) and
 * `frames` (n_frames x VISION_FRAME_BYTES).  Each piece of visible text goes
 * to `emit` (may be NULL) as it arrives; `emit` returning non-zero abandons
 * the generation (the manager cancels it) and gen_run returns
 * -HDM_E_CANCELLED.  `cancel_fd` (-1: none) does the same from outside
 * while the call waits, queued or generating (vision_cancel_begin).
 * Returns 0 or a negative HDM code with *err filled.
 */
int gen_run(hdm_client *client, vision_model *model, const vision_config *cfg, const cJSON *prompt,
            const uint8_t *frames, size_t n_frames, const chat_params *p, stop_emit_fn emit,
            void *user, int cancel_fd, gen_result *out, hdm_err *err);
void gen_result_free(gen_result *r);

/* ---- completion.c ------------------------------------------------------ */

/* "chatcmpl-" + 24 random hex digits, into out (>= 40 bytes). */
void completion_new_id(char *out, size_t out_len);
/* A chat.completion object. */
cJSON *completion_build(const char *id, long created, const char *model, const gen_result *r,
                        double load_ms);
/* OpenAI's error body {"error": {message, type, param, code}}. */
cJSON *completion_error(int status, const char *message, const char *param, const char *code);
/* The HTTP status for an HDM error code (either sign). */
int completion_status_for(int code);
/* Shapes the HTTP layer's own errors (http_server_set_error_body). */
cJSON *completion_layer_error(int status, const char *message);

/* ---- sse.c ------------------------------------------------------------- */

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

/* ---- the service ------------------------------------------------------- */

typedef struct vision_app {
    const vision_config *cfg;
    hdm_client *client;
    vision_model *model;
    vision_images images;
    double started_at; /* monotonic seconds */
    long started_wall; /* unix seconds: the model's "created" */
} vision_app;

/* Fills `routes` (room for VISION_MAX_ROUTES) with the service's routes;
 * `models_path` (room for 256 bytes) receives "/v1/models/<name>". */
#define VISION_MAX_ROUTES 10
struct http_route;
void vision_routes_build(const vision_config *cfg, struct http_route *routes, char *models_path);

/* Streams a parsed chat request (sse.c); takes ownership of req and frames
 * (freed even on failure).  Returns 0 or -HDM_E_NOMEM. */
struct http_request;
int sse_start(struct http_request *hr, vision_app *app, chat_request *req, uint8_t *frames);

/* /v1/vision/analyze (analyze.c). */
struct http_reply;
void analyze_handle(struct http_request *hr, struct http_reply *reply, void *user);

/* True when the model is ready; otherwise replies 503 (OpenAI shape). */
bool vision_check_ready(vision_app *app, struct http_reply *reply);
/* Loads each image of `images` into consecutive frames (*out malloc'd, NULL
 * when n is 0).  Returns 0 or the first image's error. */
int vision_load_frames(vision_app *app, const chat_image *images, size_t n, uint8_t **out,
                       hdm_err *err);

/*
 * Hang-ups: vision_cancel_begin gives the request an eventfd that the HTTP
 * layer's hang-up hook writes when the client goes away (while queued on the
 * manager or generating); pass vc->fd to gen_run.  vision_cancel_end clears
 * the hook and closes the fd.  vc->fd is -1 when no eventfd could be made
 * (the call then only stops when a write to the client fails).
 */
typedef struct vision_cancel {
    int fd;
    struct http_request *hr;
} vision_cancel;
void vision_cancel_begin(vision_cancel *vc, struct http_request *hr);
void vision_cancel_end(vision_cancel *vc);

/* Replies with OpenAI's error shape. */
void vision_reply_error(struct http_reply *reply, int status, const char *message,
                        const char *param, const char *code);

#endif
