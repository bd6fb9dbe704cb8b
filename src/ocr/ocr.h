/*
 * ocr.h - the parts of hailo-ocr (text detection and recognition over HTTP,
 * the drop-in for the original Python hailo-ocr on port 11436) and how
 * they fit together.
 *
 *   main.c       flags, config, start-up and shutdown (as hailo-clip)
 *   config.c     the original's YAML keys (and ours) onto ocr_config
 *   model.c      registers the one "ocr" model (detection HEF + a
 *                recognition HEF per language) with the device manager from
 *                the keeper thread; remembers what the load found
 *   request.c    the body of POST /v1/ocr/extract (JSON or multipart) into
 *                an ocr_request; the languages a request may use
 *   source.c     an image reference (data: URI, base64, file://) to bytes
 *   workspace.c  per-request buffers kept between requests
 *   host.c       the CPU steps of a request (decode, letterbox, boxes,
 *                crops, CTC): where they run and in which memory
 *   pipeline.c   bytes -> decode -> letterbox -> manager (detection) -> DB
 *                boxes -> crops -> manager (recognition, per batch) -> CTC
 *   routes.c     the HTTP endpoints and the replies' JSON
 *
 * Requests run on the HTTP layer's pool threads.  The expensive part of a
 * request (from decoding its image to cutting its last crop) holds one of
 * images.max_concurrent slots of the decode gate (image/image.h), which
 * bounds the memory and CPU in use at once; the maths is src/ocrpost on
 * OpenCV (src/image/imgproc.h).  Model state shared with the keeper thread
 * is read under app->mu.
 */
#ifndef HDM_OCR_OCR_H
#define HDM_OCR_OCR_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/paths.h"
#include "common/yamlconf.h"
#include "hailodm.h"
#include "http/http.h"
#include "image/image.h"
#include "ocrpost/ctc.h"
#include "ocrpost/db.h"
#include "ocrpost/det.h"
#include "svc/model_keeper.h"

#define OCR_DEFAULT_CONFIG "/etc/hailo/hailo-ocr.yaml"
#define OCR_SERVICE_NAME "hailo-ocr"
#define OCR_MODEL_TYPE "ocr"
/* The original's search path for relative HEF names, after models_root. */
#define OCR_VENDOR_MODELS "/opt/hailo-ocr/vendor/hailo-apps/local_resources/models/hailo10h"
#define OCR_STATE_MODELS "/var/lib/hailo-ocr/resources/models/hailo10h"
/* Languages the config may list (the manager's own limit is 64). */
#define OCR_MAX_LANGS 32
/* Longest language code ("en", "ch_sim", "latin"). */
#define OCR_LANG_MAX 31
/* Largest recognition batch (the manager accepts 1..256). */
#define OCR_MAX_BATCH 256
/* Longest text of one region: greedy CTC gives at most one character a
 * time step (40 for PaddleOCR's 48 x 320 models); longer outputs are
 * refused as a model this service does not know. */
#define OCR_TEXT_MAX 255
/* The 503 of a request that found no image slot in images.max_wait_ms
 * (the decode gate), or whose body waited that long to be read (the HTTP
 * layer's back-pressure): printf format of max_concurrent, max_wait_ms. */
#define OCR_BUSY_FMT                                                                      \
    "busy: other requests are reading their images (images.max_concurrent %d, "           \
    "images.max_wait_ms %d); try again"
/* Request bodies above this many bytes (an image) count against the
 * back-pressure limit of images.max_concurrent bodies in memory (main.c). */
#define OCR_BIG_BODY_BYTES (64 * 1024)

/* ---- config.c ---------------------------------------------------------------- */

/* One entry of hailo_models.recognition_hefs. */
typedef struct ocr_lang {
    char *code; /* "en" */
    char *hef;  /* as configured: "ocr.hef" (relative names are searched) */
} ocr_lang;

typedef struct ocr_config {
    /* server (the original's, plus ours) */
    char *host;
    int port;
    int threads;              /* ours: HTTP handler threads */
    int max_body_bytes;       /* ours: the original's client_max_size, 10 MiB */
    char *bearer_token;       /* ours: or $HAILO_OCR_TOKEN */
    /* manager (ours) */
    char *manager_socket;     /* $HAILO_DEVICE_SOCKET wins */
    double keep_alive;        /* seconds; -1 resident */
    int timeout_s;            /* one manager call */
    /* ocr */
    conf_strlist languages;   /* used: a request's languages when it names none */
    bool enable_recognition;  /* loaded, unused (as in the original) */
    double det_threshold;     /* loaded, unused: DB's 0.3 is fixed, as in the original */
    double rec_threshold;     /* loaded, unused */
    bool use_corrector;       /* loaded, unused: the original patches its corrector out */
    char *dictionary_path;    /* loaded, unused */
    /* hailo_models */
    char *detection_hef;
    ocr_lang langs[OCR_MAX_LANGS]; /* recognition_hefs, in the file's order */
    size_t n_langs;
    int batch_size_det;       /* loaded, unused */
    int batch_size_rec;       /* used: recognition batch of every language */
    int priority;             /* loaded, unused */
    char *device;             /* reported only */
    char *models_root;        /* where relative HEF names are looked up first */
    /* processing and resource_limits: loaded, unused (as in the original) */
    int max_image_size, jpeg_quality;
    bool enable_caching;
    int cache_ttl_seconds, max_cache_size_mb;
    char *memory_max, *cpu_quota;
    /* images (ours) */
    int image_max_pixels;     /* source pixels of one image */
    int image_max_decode_ms;  /* CPU time of one decode */
    int image_max_concurrent; /* requests holding a decoded image at once */
    int image_max_wait_ms;    /* longest wait for that slot, then 503 */
    conf_strlist allowed_dirs; /* file:// images only below these (none: off) */
    /* performance (ours) */
    int opencv_threads;       /* threads OpenCV may use in one call; 0: all cores */
} ocr_config;

extern const conf_key ocr_config_keys[];

/* The original's defaults (0.0.0.0:11436 there, 127.0.0.1 here; en and zh
 * models) and ours.  0 or -HDM_E_NOMEM. */
int ocr_config_defaults(ocr_config *cfg);
/*
 * Loads `path` over the defaults (a missing file is an error unless
 * missing_ok), reads the hailo_models.recognition_hefs mapping (its
 * languages replace the default ones), applies $HAILO_OCR_TOKEN.  Unknown
 * keys warn "file:line: unknown key".  Errors read "file:line: message".
 */
int ocr_config_load(ocr_config *cfg, const char *path, bool missing_ok, hdm_err *err);
/* Cross-field checks (a detection HEF, at least one language, valid
 * language codes).  0 or -HDM_E_BAD_REQUEST naming the key. */
int ocr_config_check(const ocr_config *cfg, hdm_err *err);
void ocr_config_free(ocr_config *cfg);
/* The index of language `code` in cfg->langs, or -1. */
int ocr_config_lang_index(const ocr_config *cfg, const char *code);
/* True when `code` is a plausible language code: 1..OCR_LANG_MAX bytes of
 * [A-Za-z0-9_-] (what the manager accepts). */
bool ocr_lang_code_ok(const char *code);

/* ---- model.c ----------------------------------------------------------------- */

/* What the last successful load of the model found and sent. */
typedef struct ocr_model_info {
    bool have;                      /* a load succeeded at least once */
    int det_w, det_h;               /* detection input (model_info), else 640 x 640 */
    bool found[OCR_MAX_LANGS];      /* cfg->langs[i]'s HEF existed and was loaded */
    char *det_path;                 /* the detection HEF as sent (malloc'd) */
    cJSON *params;                  /* the model_params sent (owned) */
    int loads;                      /* successful loads so far */
} ocr_model_info;

/*
 * Resolves a configured HEF name as the original does: an absolute name is
 * kept; a relative one is looked up in models_root, OCR_VENDOR_MODELS,
 * OCR_STATE_MODELS, and the first that exists wins; if none does, the
 * path in models_root is returned (so messages name where it was
 * expected).  *exists says whether the result is a file.  Returns a
 * malloc'd path, or NULL when out of memory.
 */
char *ocr_model_resolve(const ocr_config *cfg, const char *name, bool *exists);

/* ---- source.c ---------------------------------------------------------------- */

/* Where an image reference came from. */
typedef enum ocr_source_kind {
    OCR_SOURCE_BASE64,   /* plain base64 (the original refused it) */
    OCR_SOURCE_DATA_URI, /* data:...,<base64> */
    OCR_SOURCE_FILE,     /* file:///absolute/path */
} ocr_source_kind;

/* What kind of reference `s` is: "data:" and "file://" prefixes, else base64. */
ocr_source_kind ocr_source_kind_of(const char *s, size_t len);
/*
 * The encoded image bytes a reference names, in a malloc'd *out of *out_len
 * bytes (the caller frees it):
 *  - data: URIs: everything after the first comma, and plain base64,
 *    decoded as Python's base64.b64decode does (common/base64.h);
 *  - file:///path: read through path_open_allowed() beneath `dirs`, at most
 *    max_bytes; an empty list refuses every file:// reference.  Missing,
 *    outside and not-a-file get one sentence (no existence oracle).
 * Errors: -HDM_E_BAD_REQUEST (the sentence names the problem),
 * -HDM_E_TOO_LARGE (a file over max_bytes), -HDM_E_NOMEM.
 */
int ocr_source_load(const char *s, size_t len, const path_allowlist *dirs, size_t max_bytes,
                    uint8_t **out, size_t *out_len, hdm_err *err);

/*
 * A data: URI or plain base64 reference decoded over its own text: on
 * success *out points into s (the decoded bytes, *out_len of them, are
 * fewer than the characters), s's text is gone and the caller frees
 * nothing more.  The same checks and sentences as ocr_source_load; a
 * file:// reference is -HDM_E_BAD_REQUEST (read it with ocr_source_load).
 * On failure s's contents are unspecified.
 */
int ocr_source_decode_in_place(char *s, size_t len, uint8_t **out, size_t *out_len, hdm_err *err);

/* ---- request.c --------------------------------------------------------------- */

/* A checked POST /v1/ocr/extract. */
typedef struct ocr_request {
    /* Exactly one of the two is set: an image reference (JSON "image", or a
     * multipart text part holding one) or an uploaded file's bytes. */
    const char *ref;           /* borrowed from the request */
    size_t ref_len;
    const uint8_t *bytes;      /* borrowed: a multipart file part */
    size_t bytes_len;
    /* The languages named (NULL-free, unique, in order); 0 = not named. */
    char langs[OCR_MAX_LANGS][OCR_LANG_MAX + 1];
    size_t n_langs;
} ocr_request;

/*
 * Reads {"image": str, "languages": [str] | str | null} from a JSON body.
 * The original's rules where sane: a missing or empty image is "Missing
 * 'image' parameter"; languages may be absent, null or [] (the defaults);
 * one string is taken as one language (the original took its first
 * character).  Everything else is -HDM_E_BAD_REQUEST naming the field.
 */
int ocr_request_from_json(const cJSON *body, ocr_request *out, hdm_err *err);
/*
 * The same from a multipart form: field "image" (a file part, or a text
 * part holding a reference) and optional "languages" ("en", "en,zh",
 * "en zh" or a JSON list).
 */
int ocr_request_from_form(const http_form *form, ocr_request *out, hdm_err *err);
/*
 * The languages a request runs, as indexes into cfg->langs (*n of them,
 * first = primary): the request's own, else ocr.languages, keeping only
 * loaded ones for the defaults (and the first loaded language when none of
 * those is).  A named language that is not loaded is -HDM_E_BAD_REQUEST
 * "Unsupported language: 'xx'. Available: ['en']"; no loaded language at
 * all is -HDM_E_UNAVAILABLE.
 */
int ocr_request_languages(const ocr_config *cfg, const ocr_model_info *info,
                          const ocr_request *req, int idx[OCR_MAX_LANGS], size_t *n,
                          hdm_err *err);

/* ---- workspace.c ------------------------------------------------------------- */

/*
 * The big buffers of one request, kept between requests: fresh allocations
 * of that size cost a page fault and a zeroed page per 4 KiB each request
 * (about 1 ms per MB here); kept buffers do not.  Two buffers, each reused
 * by steps whose lifetimes do not overlap, so a 1920x1080 page needs
 * 3 MB (the probability map at the image's size is never made whole: DB
 * makes it a band at a time, ocrpost/db.h, from the manager's answer):
 *   bytes: the letterboxed detection input (until the detection call has
 *          returned), then the text bitmap of DB, then the recognition
 *          inputs of the crops;
 *   map:   one band of the map at the image's size (and, for a model map
 *          of several channels, its channel 0 before it), until DB is done.
 * Workspaces come from a pool, at most as many as requests may hold decoded
 * images at once; one whose buffers grew beyond the pool's keep limit (a
 * huge image) gives them back when its request ends.
 */
typedef struct ocr_workspace {
    uint8_t *bytes;
    size_t bytes_cap;           /* bytes */
    float *map;
    size_t map_cap;             /* bytes */
    /* The map ocr_host_map set up for ocr_host_boxes (det.src NULL: none). */
    ocr_det_map det;
    struct ocr_workspace *next; /* pool link */
} ocr_workspace;

typedef struct ocr_workspace_pool {
    pthread_mutex_t mu;
    ocr_workspace *free_list;
    size_t keep_bytes;          /* largest total a kept workspace may hold */
} ocr_workspace_pool;

void ocr_workspace_pool_init(ocr_workspace_pool *p, size_t keep_bytes);
void ocr_workspace_pool_free(ocr_workspace_pool *p);
/* A workspace (kept or new); NULL when out of memory. */
ocr_workspace *ocr_workspace_get(ocr_workspace_pool *p);
/* Gives it back (its oversized buffers freed).  Accepts NULL. */
void ocr_workspace_put(ocr_workspace_pool *p, ocr_workspace *ws);
/* Grows *buf (capacity *cap bytes) to n * elem bytes without keeping its
 * contents.  0 or -HDM_E_NOMEM (err names `what`). */
int ocr_workspace_reserve(void **buf, size_t *cap, size_t n, size_t elem, const char *what,
                          hdm_err *err);
/* Bytes a workspace holds now. */
size_t ocr_workspace_bytes(const ocr_workspace *ws);

/* ---- host.c -------------------------------------------------------------------- */

/* Crops cut by one parallel call: whole batches, at least this many. */
#define OCR_FILL_CROPS 32

/*
 * Decodes as cv2.imdecode does (EXIF orientation applied) within
 * images.max_pixels, max_decode_ms and max_body_bytes, holding a slot of
 * the decode gate until image_free.  Errors read "Failed to load image:
 * ...": -HDM_E_BAD_REQUEST for the image's own problems, -HDM_E_TOO_LARGE
 * over a limit, -HDM_E_BUSY when no slot freed in time, -HDM_E_NOMEM.
 */
int ocr_host_decode(const ocr_config *cfg, const uint8_t *data, size_t len, image *img,
                    hdm_err *err);
/* The detection input (det_w x det_h letterbox, cubic, pad 128) into
 * ws->bytes.  A too-thin image is -HDM_E_BAD_REQUEST. */
int ocr_host_letterbox(ocr_workspace *ws, const image *img, int det_w, int det_h, hdm_err *err);
/*
 * Sets up the detection map heat (det_w x det_h, `channels` interleaved,
 * the first used) for the boxes of a width x height image: its letterboxed
 * part is read in place by ocr_host_boxes, so heat must stay valid until
 * that returns (with several channels, channel 0 is copied into ws->map).
 */
int ocr_host_map(ocr_workspace *ws, const float *heat, int det_w, int det_h, int channels,
                 int width, int height, hdm_err *err);
/*
 * The boxes of the map ocr_host_map set up, at the width x height image's
 * size: DB with the original's parameters, the map made a band at a time
 * (ocr_db_boxes_rows; the bitmap in ws->bytes, the band in ws->map), then
 * reading order.  A size other than ocr_host_map's is -HDM_E_INTERNAL.
 * *boxes is the caller's to free (also after a failure).
 */
int ocr_host_boxes(ocr_workspace *ws, int width, int height, ocr_boxes *boxes, hdm_err *err);
/* How many recognition inputs one ocr_host_crops call makes for a batch
 * size: whole batches, at least OCR_FILL_CROPS crops. */
size_t ocr_host_fill_count(size_t batch_size);
/*
 * The 48 x 320 recognition inputs of boxes[0..n) (n at most
 * ocr_host_fill_count of the largest batch) into out, one after another,
 * cut on OpenCV's worker threads.  A failure names the region
 * first_index + i; it is -HDM_E_INTERNAL (boxes come from DB, so a crop
 * that cannot be cut is our fault).
 */
int ocr_host_crops(const image *img, const ocr_box *boxes, size_t n, uint8_t *out,
                   size_t first_index, hdm_err *err);
/*
 * Greedy CTC of one recognition output (steps x classes float32) into
 * text[OCR_TEXT_MAX + 1] and *conf (a NaN confidence becomes 0.0).  More
 * steps than OCR_TEXT_MAX or classes than the character list is
 * -HDM_E_INTERNAL: a model this service cannot read.
 */
int ocr_host_text(const float *probs, size_t steps, size_t classes, char *text, double *conf,
                  hdm_err *err);

/* ---- pipeline.c -------------------------------------------------------------- */

typedef struct ocr_app {
    const ocr_config *cfg;
    hdm_client *client;
    svc_keeper *model;
    pthread_mutex_t mu;         /* guards info */
    ocr_model_info info;
    path_allowlist allowed_dirs;
    ocr_workspace_pool pool;
    double started_at;
} ocr_app;

/* One region of the answer. */
typedef struct ocr_region {
    ocr_box box;                          /* reading order; quad and bounding rect */
    char text[OCR_TEXT_MAX + 1];          /* greedy CTC: at most one character a step */
    double confidence;                    /* float32 mean as the original; NaN -> 0.0 */
    int lang;                             /* index into cfg->langs of the text kept */
} ocr_region;

typedef struct ocr_result {
    ocr_region *regions;  /* malloc'd, n of them */
    size_t n;
    double detection_ms, recognition_ms, total_ms; /* total from the start of detection */
} ocr_result;

void ocr_result_free(ocr_result *r);

/* Sets up the pool and the allowed directories.  0 or -HDM_E_NOMEM. */
int ocr_app_init(ocr_app *app, const ocr_config *cfg, hdm_err *err);
void ocr_app_free(ocr_app *app);
/* Copies app->info under the lock (det_path and params duplicated); free
 * with ocr_model_info_free.  0 or -HDM_E_NOMEM. */
int ocr_app_info(ocr_app *app, ocr_model_info *out);
void ocr_model_info_free(ocr_model_info *info);

/*
 * The whole OCR of a decoded image (ocr_host_decode's; the caller frees the
 * encoded bytes first, and the image after) with the languages
 * idx[0..n_langs) (every region read with each; the most confident reading
 * kept, the earlier language on ties).  `info` is a snapshot of the
 * model's state.  cancel_fd (-1: none) cancels the manager calls when it
 * becomes readable.  detected(user) (NULL: none) runs once detection and
 * DB are done, when the request's memory is past its peak (the HTTP
 * handler lets the next request's body in then).  Errors:
 * -HDM_E_BAD_REQUEST for an image too thin to letterbox, -HDM_E_CANCELLED
 * after cancel_fd fired, manager failures with its sentence (bad_request
 * and not_found from the manager become HDM_E_INTERNAL: our request was
 * wrong, not the client's).
 */
int ocr_pipeline_run(ocr_app *app, const ocr_model_info *info, const image *img, const int *idx,
                     size_t n_langs, int cancel_fd, void (*detected)(void *user), void *user,
                     ocr_result *out, hdm_err *err);

/* ---- model.c (the keeper) ----------------------------------------------------- */

/* Starts the registration thread (svc/model_keeper.h) for app. */
int ocr_model_start(ocr_app *app);
/* A request's failure goes to svc_keeper_report(app->model, code). */

/* ---- routes.c ---------------------------------------------------------------- */

/* The route table (terminated by {NULL}); its handlers expect an ocr_app. */
extern const http_route ocr_routes[];
/* Shapes the HTTP layer's own errors as {"success": false, "error": ...}. */
cJSON *ocr_error_body(int status, const char *message);

#endif
