/*
 * vision.h - the parts of hailo-vision and how they fit together.
 *
 * DESIGN.  hailo-vision is an OpenAI Chat Completions front end for the
 * vision-language model the device manager runs.  A request travels
 *
 *   routes.c (HTTP) -> chat.c (parse + validate, build the manager prompt)
 *        -> images.c (every image to a 336x336 RGB frame)
 *        -> generate.c (the vlm_chat request, run by chatapi's chat_gen_run)
 *        -> chatapi: completion_build (chat.completion JSON) or
 *           openai_stream_start (chunk events)
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
#include "common/yamlconf.h"
#include "chatapi/chatapi.h"
#include "hailodm.h"
#include "svc/fetch.h"
#include "svc/model_keeper.h"

/* Side of the square RGB frames the model takes. */
#define VISION_FRAME_SIDE 336
#define VISION_FRAME_BYTES ((size_t)VISION_FRAME_SIDE * VISION_FRAME_SIDE * 3)
/* Most messages the manager accepts. */
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
    char *hef_path;            /* model.hef_path (vision_config_resolve_hef) */
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
 * then $HAILO_VISION_TOKEN; resolves model.hef_path; checks the result. */
int vision_config_load(vision_config *cfg, const char *path, bool missing_ok, hdm_err *err);

/* The model file taken when model.hef_path is not set (or names this model). */
#define VISION_DEFAULT_HEF_NAME "Qwen2-VL-2B-Instruct"
/* Where a model name is looked for, in order: hailo-apps' resources, then the
 * original Python service's own tree (NULL-terminated). */
extern const char *const vision_model_roots[];
/*
 * Turns model.hef_path into a file: an absolute path stays; a model name, or
 * nothing (unset, YAML null), becomes the first existing <roots[i]>/<name>.hef
 * (".hef" added when missing), or the first root's candidate when none
 * exists yet.  `roots` NULL means vision_model_roots.  Returns 0,
 * -HDM_E_BAD_REQUEST (a relative path) or -HDM_E_NOMEM.
 */
int vision_config_resolve_hef(vision_config *cfg, const char *const *roots, hdm_err *err);
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
 * Stop (svc_keeper_free), readiness, the last load's milliseconds and the
 * backend name are asked of the keeper itself (svc/model_keeper.h).  On a
 * clean shutdown svc_keeper_release unloads a pinned model (keep_alive -1),
 * since a pin nobody holds would keep the device's one GenAI slot forever;
 * a request's failure goes to svc_keeper_report.
 */

/* ---- images.c ---------------------------------------------------------- */

typedef struct vision_images {
    svc_fetch fetch; /* file:// and http(s):// sources (svc/fetch.h) */
    size_t max_bytes;
    uint64_t max_pixels;
} vision_images;

/* Returns 0, -HDM_E_NOMEM, or -HDM_E_BAD_REQUEST (a bad network block, err set). */
int vision_images_init(vision_images *vi, const vision_config *cfg, hdm_err *err);
void vision_images_free(vision_images *vi);
/*
 * Turns an image reference into a VISION_FRAME_BYTES RGB frame in `frame`.
 * `ref` is a data: URI, file:// URL, absolute path, http(s):// URL or, when
 * `bare_base64`, plain base64 (then a string starting with '/' is a path only
 * when it cannot be base64 or lies beneath images.allowed_dirs).  `what`
 * names the field in messages.  Errors:
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

typedef struct chat_request {
    cJSON *prompt;      /* manager prompt: [{role, content:[...]}] */
    chat_image *images; /* in order; frames follow this order */
    size_t n_images;
    chat_params params;
} chat_request;

/*
 * Parses and validates a /v1/chat/completions body.  Any "model" name is
 * accepted (the loaded model serves it).  On failure *param is set to the
 * offending parameter name (for OpenAI's "param") when known.
 * Returns 0, -HDM_E_BAD_REQUEST or -HDM_E_NOMEM.
 */
int chat_parse(const cJSON *body, const vision_config *cfg, chat_request *out, const char **param,
               hdm_err *err);
void chat_request_free(chat_request *r);
/* Parses the generation parameters only (shared with analyze.c): the model
 * must be the configured one (else -HDM_E_NOT_FOUND), the rest is
 * openai_parse_params with the config's defaults. */
int chat_parse_params(const cJSON *body, const vision_config *cfg, chat_params *p,
                      const char **param, hdm_err *err);
/* Appends {role, content:[{type:"text",text}]} to a manager prompt. */
int chat_prompt_add_text(cJSON *prompt, const char *role, const char *text);

/* ---- generate.c -------------------------------------------------------- */

/*
 * Runs one generation on the manager: `prompt` (manager messages) and
 * `frames` (n_frames x VISION_FRAME_BYTES).  Each piece of visible text goes
 * to `emit` (may be NULL) as it arrives; `emit` returning non-zero abandons
 * the generation (the manager cancels it) and gen_run returns
 * -HDM_E_CANCELLED.  `cancel_fd` (-1: none) does the same from outside
 * while the call waits, queued or generating (chat_cancel_begin).
 * Returns 0 or a negative HDM code with *err filled.
 */
int gen_run(hdm_client *client, vision_model *model, const vision_config *cfg, const cJSON *prompt,
            const uint8_t *frames, size_t n_frames, const chat_params *p, stop_emit_fn emit,
            void *user, int cancel_fd, chat_result *out, hdm_err *err);

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

/* Streams a parsed chat request (routes.c, over openai_stream_start); takes
 * ownership of req and frames (freed even on failure).  Returns 0 or
 * -HDM_E_NOMEM. */
struct http_request;
int vision_stream_start(struct http_request *hr, vision_app *app, chat_request *req,
                        uint8_t *frames);

/* /v1/vision/analyze (analyze.c). */
struct http_reply;
void analyze_handle(struct http_request *hr, struct http_reply *reply, void *user);

/* True when the model is ready; otherwise replies 503 (OpenAI shape). */
bool vision_check_ready(vision_app *app, struct http_reply *reply);
/* Loads each image of `images` into consecutive frames (*out malloc'd, NULL
 * when n is 0).  Returns 0 or the first image's error. */
int vision_load_frames(vision_app *app, const chat_image *images, size_t n, uint8_t **out,
                       hdm_err *err);

#endif
