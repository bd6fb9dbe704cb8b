/*
 * clip.h - the parts of hailo-clip (zero-shot classification and CLIP
 * embeddings over HTTP) and how they fit together.
 *
 *   main.c      flags, config, start-up and shutdown
 *   config.c    the YAML keys of SERVICES.md onto clip_config
 *   model.c     registers the CLIP model with the device manager in the
 *               background and tracks whether it is ready
 *   pipeline.c  image -> tensor -> manager -> embedding; text -> tokens ->
 *               token embeddings -> manager -> projected embedding (cached)
 *   classify.c  the maths of /v1/classify (pure functions)
 *   routes.c    the HTTP endpoints
 *
 * Requests run on the HTTP layer's pool threads, concurrently: the client
 * library, the tokenizer and the mapped tables are shared read-only (the
 * cache has its own lock), and the device manager serialises device work.
 */
#ifndef HDM_CLIP_CLIP_H
#define HDM_CLIP_CLIP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "cliptext/cache.h"
#include "cliptext/embed.h"
#include "cliptext/tokenizer.h"
#include "common/err.h"
#include "common/yamlconf.h"
#include "hailodm.h"
#include "http/http.h"
#include "svc/model_keeper.h"

#define CLIP_DEFAULT_CONFIG "/etc/hailo/hailo-clip.yaml"
#define CLIP_SERVICE_NAME "hailo-clip"
/* Most prompts one /v1/classify request may carry. */
#define CLIP_MAX_PROMPTS 1000

/* ---- config.c ---------------------------------------------------------------- */

typedef struct clip_config {
    char *host;
    int port;
    int max_body_bytes;
    char *bearer_token;          /* server.bearer_token, or $HAILO_CLIP_TOKEN */
    char *manager_socket;        /* manager.socket; $HAILO_DEVICE_SOCKET wins */
    char *model_name;            /* clip.model: the name reported */
    int embedding_dimension;
    int image_size;
    char *resize_mode;           /* clip.resize_mode: "squash" (default) or "center_crop" */
    bool fast_jpeg_decode;       /* clip.fast_jpeg_decode: scaled JPEG decoding */
    int image_max_pixels;        /* images.max_pixels: source pixels of one image */
    int image_max_decode_ms;     /* images.max_decode_ms: CPU time of one decode */
    int device_timeout_ms;       /* input_data.timeout_ms of each inference */
    bool apply_softmax;
    double logit_scale;
    char *image_hef_path, *text_hef_path;
    char *text_input_layer, *text_output_layer;
    char *tokenizer_path, *token_embedding_path, *text_projection_path;
    bool cache_enabled;
    int cache_max_entries;
    int worker_threads;          /* HTTP pool size */
    int max_queue_size;          /* requests waiting for the device at once */
    int request_timeout_s;       /* whole round trip to the manager */
    bool warmup_enabled;
} clip_config;

extern const conf_key clip_config_keys[];

/* Fills the defaults of SERVICES.md (0.0.0.0:5000, clip-vit-b-32, 512, 224,
 * the Hailo package paths).  Returns 0 or -HDM_E_NOMEM. */
int clip_config_defaults(clip_config *cfg);
/*
 * Loads `path` over the defaults (a missing file is an error unless
 * missing_ok), then applies $HAILO_CLIP_TOKEN and checks the result.  A text
 * file path left at its default that does not exist becomes the original
 * Python service's file (resources/json, resources/npy) when that exists.
 * Errors read "file:line: message".
 */
int clip_config_load(clip_config *cfg, const char *path, bool missing_ok, hdm_err *err);
/* Cross-field checks (paths present, sizes sane).  0 or -HDM_E_BAD_REQUEST. */
int clip_config_check(const clip_config *cfg, hdm_err *err);
void clip_config_free(clip_config *cfg);

/* ---- model.c ----------------------------------------------------------------- */

/* The shared registration thread (svc/model_keeper.c) with clip's load. */
typedef struct svc_keeper clip_model;

/* Builds the model_params object of the clip load (the four required
 * fields).  Returns NULL when out of memory. */
cJSON *clip_model_params(const clip_config *cfg);
/*
 * Starts the registration thread: load_model (clip, keep_alive -1) with
 * backoff while the manager is not up, then a ping every 2 s; after a
 * failure it loads again.  `warmup` (may be NULL) runs after each load.
 */
int clip_model_start(const clip_config *cfg, hdm_client *client,
                     void (*warmup)(void *user), void *user, clip_model **out);
/* Stop (svc_keeper_free), readiness, reachability and the backend name are
 * asked of the keeper itself (svc/model_keeper.h). */
/* A request's failure goes to svc_keeper_report (reload soon). */

/* ---- pipeline.c -------------------------------------------------------------- */

typedef struct clip_app {
    const clip_config *cfg;
    hdm_client *client;
    clip_model *model;
    clip_tokenizer *tokenizer;
    clip_text_tables tables;
    clip_cache *cache;           /* NULL when disabled */
    cJSON *model_params;         /* sent with every inference (auto-load) */
    atomic_int in_flight;        /* requests waiting for the device */
    double started_at;
} clip_app;

/*
 * Opens the tokenizer, the two tables and the cache named by the config and
 * checks they agree (vocabulary fits the table, dimensions).  0 or negative.
 */
int clip_pipeline_init(clip_app *app, hdm_err *err);
void clip_pipeline_free(clip_app *app);

/*
 * The uint8 [S, S, 3] RGB tensor (S = image_size) hailo-clip sends for an
 * encoded image (`is_base64`: base64, optionally a data: URI; else the
 * file's bytes): decode within images.max_pixels and images.max_decode_ms,
 * then squash the whole frame to S x S with Pillow's bicubic (the
 * original's Image.open().convert("RGB").resize((S, S), BICUBIC)), or with
 * resize_mode center_crop, shorter side to S and the centre S x S.  With
 * fast_jpeg_decode, JPEGs are decoded at 1/2..1/8 scale while the shorter
 * side stays >= 2 S.  Writes S*S*3 bytes to pixels.  Errors:
 * -HDM_E_BAD_REQUEST (bad image), -HDM_E_TOO_LARGE (over a limit),
 * -HDM_E_BUSY (the decode gate is full), -HDM_E_NOMEM.
 */
int clip_image_tensor(const clip_config *cfg, const char *data, size_t len, bool is_base64,
                      uint8_t *pixels, hdm_err *err);
/*
 * Image embedding: clip_image_tensor -> manager -> L2-normalised
 * out[embedding_dimension].  Errors: clip_image_tensor's for the image
 * itself (err says what), otherwise the manager's code (err carries its
 * sentence).
 */
int clip_pipeline_image(clip_app *app, const char *b64, size_t len, float *out, hdm_err *err);
/* Text embedding into out[embedding_dimension]; *cached (may be NULL) says
 * whether it came from the cache. */
int clip_pipeline_text(clip_app *app, const char *text, float *out, bool *cached, hdm_err *err);
/* One image and one text inference (model thread, after each load): the
 * first real request then finds everything warm.  `user` is the clip_app. */
void clip_pipeline_warmup(void *user);

/* ---- classify.c -------------------------------------------------------------- */

typedef struct clip_score {
    int index;      /* prompt index */
    double score;   /* cosine, or softmax probability */
    int rank;       /* 1 = best */
} clip_score;

/* Cosine similarity as the original computes it: a.b / (|a||b| + 1e-8). */
double clip_cosine(const float *a, const float *b, int dim);
/* In place: scores <- softmax(logit_scale * scores), computed stably. */
void clip_softmax(double *scores, int n, double logit_scale);
/* The original's rule on the cosines of n prompts: with apply_softmax and
 * n >= 2, clip_softmax(); one prompt keeps its raw cosine. */
void clip_scores_finish(double *scores, int n, bool apply_softmax, double logit_scale);
/*
 * Ranks scores[0..n) best first (ties keep prompt order), keeps the first
 * top_k (capped at n) whose score >= threshold, writes them to out[] with
 * ranks 1.. and returns how many were kept.
 */
int clip_rank(const double *scores, int n, int top_k, double threshold, clip_score *out);
/*
 * Reads and checks the /v1/classify options from the request body: prompts
 * (a non-empty list of strings, at most CLIP_MAX_PROMPTS), top_k (default 3,
 * capped at the prompts; 0 asks for none) and threshold (any number,
 * default 0), accepting what the original accepted where that was sane
 * (classify.c has the table).  Returns 0, or -HDM_E_BAD_REQUEST with err
 * naming the field.
 */
int clip_classify_options(const cJSON *body, const cJSON **prompts, int *n_prompts, int *top_k,
                          double *threshold, hdm_err *err);

/* ---- tokenize.c --------------------------------------------------------------- */

/* True when argv asks for --tokenize (then main() hands over to the next). */
bool clip_tokenize_requested(int argc, char **argv);
/* `hailo-clip --tokenize`: stdin JSON strings -> stdout id arrays; the exit code. */
int clip_tokenize_main(int argc, char **argv);

/* ---- routes.c ---------------------------------------------------------------- */

/* The route table (terminated by {NULL}); its handlers expect a clip_app. */
extern const http_route clip_routes[];

#endif
