/*
 * depth.h - the parts of hailo-depth (monocular depth maps over HTTP, the
 * C replacement of the original Python service, ORIGINAL-SERVICES.md §3)
 * and how they fit together.
 *
 *   main.c      flags, config, start-up and shutdown
 *   config.c    the original's YAML keys (and ours) onto depth_config
 *   model.c     keeps scdepthv3 registered with the device manager
 *   request.c   a POST /v1/depth/estimate body (JSON or multipart) to a
 *               depth_request: the image bytes and the parameters, with the
 *               original's rules and sentences; image_url fetching
 *   pipeline.c  image bytes -> Pillow bilinear to the model's input ->
 *               manager -> the depth map at the image's size (depthpost
 *               and image do the maths)
 *   probe.c     an image's size from its header (what its decode will take)
 *   budget.c    the memory budget the large buffers wait for
 *   reply.c     the 200 body, written straight into one buffer: base64 of
 *               each encoding made in place, no copy per format
 *   routes.c    the endpoints and the error shapes
 *
 * A request runs on one of the HTTP layer's threads.  Its body is bounded
 * by input.max_image_mb; the decoded image (sized from its header), the map
 * at the image's size and the reply built from it are the large part, and
 * they take their bytes from the budget first, so a burst of large requests
 * queues instead of growing the process.  The reply's bytes go back to the budget once the HTTP
 * layer has sent them (http_reply_take).
 */
#ifndef HDM_DEPTH_DEPTH_H
#define HDM_DEPTH_DEPTH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/yamlconf.h"
#include "depthpost/depthpost.h"
#include "hailodm.h"
#include "http/http.h"
#include "svc/fetch.h"
#include "svc/model_keeper.h"

#define DEPTH_DEFAULT_CONFIG "/etc/hailo/hailo-depth.yaml"
#define DEPTH_SERVICE_NAME "hailo-depth"
/* The manager's model_type for depth models. */
#define DEPTH_MODEL_TYPE "depth"
/* The API version /v1/info reports (the original's). */
#define DEPTH_API_VERSION "1.0.0"
/* The Content-Type of every JSON reply, as aiohttp's json_response. */
#define DEPTH_JSON_TYPE "application/json; charset=utf-8"

/* ---- config.c ---------------------------------------------------------------- */

typedef struct depth_config {
    /* The original's keys (config.yaml). */
    char *host;             /* server.host (ours: 127.0.0.1) */
    int port;               /* server.port, 11439 */
    char *model_name;       /* model.name: the HEF's name and the reported model */
    char *model_type;       /* model.type: reported only ("stereo" sets capabilities.stereo) */
    double keep_alive;      /* model.keep_alive: -1 pinned, 0 unload after use, N s */
    char *output_format;    /* output.format: the default output_format */
    char *colormap;         /* output.colormap: the default colormap */
    bool normalize;         /* output.normalize: the default normalize */
    bool include_stats;     /* output.include_stats */
    bool depth_png_16;      /* output.depth_png_16: loaded, unused (as in the original) */
    bool allow_local_paths; /* input.allow_local_paths: image_url may be file:// */
    bool allow_image_url;   /* input.allow_image_url */
    double max_image_mb;    /* input.max_image_mb: body and image byte limit */
    char *model_dir;        /* resources.model_dir: {model_dir}/{model.name}.hef */
    char *postprocess_dir;  /* resources.postprocess_dir: loaded, unused */
    char *memory_max;       /* resource_limits.memory_max: the unit's, not read here */
    char *cpu_quota;        /* resource_limits.cpu_quota: the unit's, not read here */
    /* Ours. */
    char *bearer_token;        /* server.bearer_token, or $HAILO_DEPTH_TOKEN */
    int threads;               /* server.threads: HTTP handler threads */
    char *manager_socket;      /* manager.socket; $HAILO_DEVICE_SOCKET wins */
    char *hef_path;            /* model.hef_path: "" = {model_dir}/{model.name}.hef */
    int input_height;          /* model.input_height: 256 (scdepthv3) */
    int input_width;           /* model.input_width: 320 */
    char *transform;           /* output.transform: "none" (logits, the original) or "metres" */
    int png_level;             /* output.png_level: zlib level of both PNGs, 1 */
    int npz_level;             /* output.npz_level: -1 fast (Huffman only), 0 stored, 1..9 */
    int image_max_pixels;      /* images.max_pixels */
    int image_max_decode_ms;   /* images.max_decode_ms */
    conf_strlist allowed_dirs; /* input.allowed_dirs: where file:// may read */
    conf_strlist remote_allowed_networks; /* input.remote_allowed_networks */
    int fetch_timeout_ms;                 /* input.fetch_timeout_ms */
    int memory_budget_mb;  /* performance.memory_budget_mb: maps and replies at once */
    int request_timeout_s; /* performance.request_timeout: manager call, budget wait */
} depth_config;

extern const conf_key depth_config_keys[];

/* The output formats (output_format; "png16" is ours, the name for
 * depth_png_16). */
typedef enum depth_format {
    DEPTH_OUT_NUMPY,
    DEPTH_OUT_IMAGE,
    DEPTH_OUT_BOTH,
    DEPTH_OUT_PNG16,
    DEPTH_OUT_NONE, /* any other value: the base fields and stats only, as the original */
} depth_format;

/* The format named `s` (NULL or unknown: DEPTH_OUT_NONE). */
depth_format depth_format_parse(const char *s);
/* True when the format draws depth_image (and so needs a colormap). */
bool depth_format_has_image(depth_format f);

/* Fills the defaults (the original's, plus ours).  0 or -HDM_E_NOMEM. */
int depth_config_defaults(depth_config *cfg);
/*
 * Loads `path` over the defaults (a missing file is fine when missing_ok:
 * the original used its built-in defaults then), applies
 * $HAILO_DEPTH_TOKEN.  Errors read "file:line: message".
 */
int depth_config_load(depth_config *cfg, const char *path, bool missing_ok, hdm_err *err);
/* Cross-field checks (the original's render validation: output.format one
 * of numpy, image, both, depth_png_16; ours).  0 or -HDM_E_BAD_REQUEST. */
int depth_config_check(const depth_config *cfg, hdm_err *err);
/* The model file: model.hef_path, else {model_dir}/{model.name}.hef
 * (malloc'd, NULL when out of memory). */
char *depth_config_hef_path(const depth_config *cfg);
/* The body and image byte limit: input.max_image_mb MiB. */
size_t depth_config_max_bytes(const depth_config *cfg);
void depth_config_free(depth_config *cfg);

/* ---- budget.c ------------------------------------------------------------------ */

typedef struct depth_budget depth_budget;

/* A budget of `limit` bytes.  0 or -HDM_E_NOMEM. */
int depth_budget_new(size_t limit, depth_budget **out);
void depth_budget_free(depth_budget *b);
/*
 * Takes n bytes, waiting in arrival order while they do not fit beside
 * what others hold; a request larger than the whole budget runs when
 * nothing else is held (alone).  Gives up after wait_ms, or as soon as
 * cancel_fd (>= 0) becomes readable.  Returns 0, -HDM_E_BUSY (waited
 * wait_ms) or -HDM_E_CANCELLED.
 */
int depth_budget_acquire(depth_budget *b, size_t n, int wait_ms, int cancel_fd);
/* Gives n of the held bytes back and wakes the waiters. */
void depth_budget_release(depth_budget *b, size_t n);
/* Bytes held now and requests waiting (for /health and tests). */
void depth_budget_usage(depth_budget *b, size_t *held, int *waiting);

/* ---- the service ------------------------------------------------------------- */

/* The shared registration thread (svc/model_keeper.c) with depth's load. */
typedef struct svc_keeper depth_model;

typedef struct depth_app {
    const depth_config *cfg;
    char *hef_path; /* the model file the manager loads */
    hdm_client *client;
    depth_model *model;
    svc_fetch fetch; /* image_url: file:// and http(s):// */
    depth_budget *budget;
    atomic_long inference_count;
    double started_at; /* monotonic seconds */
} depth_app;

/* ---- model.c ----------------------------------------------------------------- */

/* Starts the registration thread: load_model (depth, app->hef_path,
 * keep_alive model.keep_alive) with backoff, then a ping every 2 s. */
int depth_model_start(depth_app *app);
/* A request's failure goes to svc_keeper_report(app->model, code). */

/* ---- request.c ---------------------------------------------------------------- */

typedef struct depth_request {
    /* The image's bytes: inside the request body (multipart), or `owned`
     * (fetched from image_url, or the base64 below once decoded). */
    const uint8_t *image;
    size_t image_len;
    buf owned;
    /* JSON "image": its base64 (inside the request's JSON, data: prefix cut
     * off), decoded by depth_request_load only when its memory is granted;
     * NULL otherwise or once decoded. */
    const char *b64;
    size_t b64_len;
    /* The parameters, with the config's defaults applied. */
    bool normalize;    /* whether the map is min-max normalised */
    cJSON *normalized; /* what "normalized" echoes (owned): a bool, or the JSON value given */
    depth_format format;
    const depthpost_colormap *colormap; /* the one depth_image uses (NULL without one) */
    bool metres;                        /* the §3.6 transform (output.transform / "transform") */
} depth_request;

/*
 * Reads a JSON body (an object) as the original's JSON branch: "image"
 * (base64 or a data: URI, decoded as Python's lenient b64decode) or else
 * "image_url" (when input.allow_image_url), "normalize", "colormap",
 * "output_format", and ours, "transform".  An image_url is fetched here
 * (svc/fetch.h; file:// only with input.allow_local_paths; data: URIs
 * too).  Returns 0, or -HDM_E_BAD_REQUEST / -HDM_E_TOO_LARGE / -HDM_E_NOMEM
 * with the sentence the client gets (the original's where it had one:
 * "Missing 'image' or 'image_url' field", "Failed to fetch image URL: ...",
 * "Image exceeds 50MB limit").
 */
int depth_request_from_json(const depth_config *cfg, const svc_fetch *fetch, const cJSON *body,
                            depth_request *rq, hdm_err *err);
/*
 * Reads a multipart form as the original's multipart branch: part "image"
 * (the bytes; "image_right" ignored) and text parts "normalize",
 * "colormap", "output_format" (and "transform").  The image is not copied:
 * rq->image points into the form, which must outlive rq.
 */
int depth_request_from_form(const depth_config *cfg, const http_form *form, depth_request *rq,
                            hdm_err *err);
/* The image's size from its header (depth_probe_size; for base64 only a
 * prefix is decoded to read it).  0, or -1 when it cannot be read. */
int depth_request_probe(const depth_request *rq, int *width, int *height);
/* Decodes the JSON image's base64 now (a no-op for other requests):
 * rq->image is then set.  Returns 0, or -HDM_E_BAD_REQUEST with Python's
 * sentence ("Invalid base64 in 'image': Incorrect padding", "Image
 * exceeds 50MB limit"), -HDM_E_NOMEM. */
int depth_request_load(depth_request *rq, const depth_config *cfg, hdm_err *err);
/* Gives the image's bytes back once they are decoded into pixels (owned
 * bytes only; a multipart body stays the HTTP layer's). */
void depth_request_drop_image(depth_request *rq);
void depth_request_free(depth_request *rq);

/* ---- probe.c ------------------------------------------------------------------ */

/* The width and height a JPEG, PNG or WebP header declares (the decoder
 * reads the same), without decoding.  0, or -1 when the header is not one
 * of those or is cut short. */
int depth_probe_size(const uint8_t *data, size_t len, int *width, int *height);

/* ---- pipeline.c --------------------------------------------------------------- */

/* A map at the image's size, and where its bytes come from. */
typedef struct depth_map {
    float *data;       /* height x width, C order (malloc'd) */
    int height, width; /* the input image's (input_shape / depth_shape) */
    size_t reserved;   /* budget bytes this request holds (released by the caller) */
} depth_map;

/*
 * The uint8 [input_height, input_width, 3] RGB tensor of an encoded image,
 * as the original's _preprocess_image: decoded with Pillow's conversions
 * (no EXIF rotation), stretched with Pillow's antialiased bilinear.  Writes
 * the input size to *in_w, *in_h.  Errors: -HDM_E_BAD_REQUEST (not an
 * image, a pixel limit), -HDM_E_BUSY (decode gate full), -HDM_E_NOMEM.
 */
int depth_preprocess(const depth_config *cfg, const uint8_t *data, size_t len, uint8_t *pixels,
                     int *in_w, int *in_h, hdm_err *err);
/*
 * The whole map: depth_request_load and depth_preprocess (holding the image's
 * bytes and the decoded image's from the budget while they live), one inference on the manager
 * (cancelled when cancel_fd fires, holding nothing), the 2-D map out of the result
 * (depthpost_extract), the optional transform, the budget again (map + the
 * largest reply of rq's outputs), Pillow's float bilinear to the image's
 * size, normalisation.  On success *out owns the map and holds `reserved`
 * budget bytes.  Errors: depth_preprocess's; the manager's (err carries its
 * sentence; bad_request/not_found/unsupported become -HDM_E_INTERNAL: our
 * request was wrong, not the client's); -HDM_E_BUSY / -HDM_E_CANCELLED from
 * the budget; -HDM_E_DEVICE_ERROR for an output that is no depth map.
 */
int depth_pipeline_run(depth_app *app, depth_request *rq, int cancel_fd, depth_map *out,
                       hdm_err *err);
/* Frees the map (not the budget).  Accepts a zeroed map. */
void depth_map_free(depth_map *m);

/* ---- reply.c ------------------------------------------------------------------- */

/* Upper bound of the reply body for a height x width map and these outputs
 * (what the pipeline reserves besides the map). */
size_t depth_reply_bound(const depth_config *cfg, const depth_request *rq, int height, int width);
/*
 * Writes the original's 200 body for map `m` into `out` (appended):
 * model, model_type, input_shape, depth_shape, inference_time_ms,
 * normalized, stats (with include_stats), then depth_map / depth_image /
 * depth_png_16 as rq->format asks, each encoded into `out` and turned into
 * base64 where it lies.  Printed as json.dumps prints.  Consumes the map:
 * m->data is freed (NULL) as soon as the encodings have what they need,
 * whatever the result, so the map and the whole reply never coexist.
 * Returns 0, -HDM_E_DEVICE_ERROR (a map holding NaN: no statistics),
 * -HDM_E_NOMEM.
 */
int depth_reply_write(const depth_config *cfg, const depth_request *rq, depth_map *m,
                      double inference_ms, buf *out, hdm_err *err);
/* Base64 of out->data[start .. out->len), in place (out grows by a third). */
int depth_reply_base64_tail(buf *out, size_t start);

/* ---- routes.c ------------------------------------------------------------------ */

/* The route table (terminated by {NULL}); its handlers expect a depth_app. */
extern const http_route depth_routes[];
/* The original's error shapes for the HTTP layer's own errors: aiohttp's
 * text/plain 404 and 405, {"error": {"message", "type"}} for the rest
 * (415 becomes the original's 400 "Unsupported content type"). */
void depth_layer_error(int status, const char *message, http_reply *reply);

#endif
