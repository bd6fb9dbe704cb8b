/*
 * pose.h - the parts of hailo-pose (YOLOv8s-pose human pose estimation over
 * HTTP, a drop-in for the original Python hailo-pose) and how they fit.
 *
 *   main.c      flags, config, start-up and shutdown (as hailo-clip)
 *   config.c    the original's YAML keys (ORIGINAL-SERVICES.md §4.2) and
 *               ours onto pose_config
 *   model.c     keeps yolov8s_pose registered with the device manager
 *   request.c   the detect request, JSON or multipart, read into a
 *               pose_request (no replies: the body fuzzer drives it)
 *   pipeline.c  decode -> letterbox -> manager -> src/posepost -> poses
 *               [-> drawn image]; no HTTP
 *   answer.c    the original's JSON answer of a detection
 *   routes.c    the route table: /health, /health/ready, /v1/models,
 *               /v1/pose/detect; errors in the original's shape
 *
 * Requests run on the HTTP layer's pool threads, side by side: the client
 * library is thread-safe, the config is read-only, and the device manager
 * serialises the device work.  The maths lives in src/posepost (YOLOv8-pose
 * decoding, NMS, mapping back, drawing) and src/image (decoding, OpenCV's
 * letterbox, encoders): this service is glue.
 */
#ifndef HDM_POSE_POSE_H
#define HDM_POSE_POSE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/yamlconf.h"
#include "hailodm.h"
#include "http/http.h"
#include "image/image.h"
#include "posepost/posepost.h"
#include "svc/model_keeper.h"

#define POSE_DEFAULT_CONFIG "/etc/hailo/hailo-pose.yaml"
#define POSE_SERVICE_NAME "hailo-pose"
#define POSE_MODEL_TYPE "pose"
/* The model input: yolov8s_pose's 640x640x3, hard-coded as in the original
 * (its inference.input_size key is read by nobody). */
#define POSE_INPUT_W POSEPOST_MODEL_SIZE
#define POSE_INPUT_H POSEPOST_MODEL_SIZE
#define POSE_INPUT_BYTES ((size_t)POSE_INPUT_W * POSE_INPUT_H * 3)
/* The grey of the letterbox padding (hailo-apps' default_preprocess). */
#define POSE_PAD_GREY 114
/* Where the original's installer puts the HEF of model.name (hailo-apps'
 * resolve_hef_path with RESOURCES_ROOT_PATH_DEFAULT patched by install.sh). */
#define POSE_HEF_DIR "/var/lib/hailo-pose/resources/models/hailo10h"

/* ---- config.c ---------------------------------------------------------------- */

typedef enum pose_render_format {
    POSE_RENDER_JPEG,
    POSE_RENDER_PNG,
} pose_render_format;

typedef struct pose_config {
    /* the original's keys (ORIGINAL-SERVICES.md §4.2) */
    char *host;                /* server.host */
    int port;                  /* server.port, 11440 */
    char *model_name;          /* model.name: the HEF's name and the /v1/models id */
    double keep_alive;         /* model.keep_alive: -1 pinned, 0, or seconds */
    double conf_threshold;     /* inference.confidence_threshold: request default */
    double iou_threshold;      /* inference.iou_threshold */
    int max_detections;        /* inference.max_detections */
    conf_strlist input_size;   /* inference.input_size: read and checked, not used */
    double keypoint_threshold; /* pose.keypoint_threshold: filters the skeleton */
    bool skeleton_connections; /* pose.skeleton_connections: emit "skeleton" */
    char *memory_max;          /* resource_limits.memory_max: the unit's, unused here */
    char *cpu_quota;           /* resource_limits.cpu_quota: the unit's, unused here */
    /* ours */
    char *hef_path;          /* model.hef_path: empty = POSE_HEF_DIR/<model.name>.hef */
    int max_body_bytes;      /* server.max_body_bytes */
    char *bearer_token;      /* server.bearer_token, or $HAILO_POSE_TOKEN */
    int worker_threads;      /* server.worker_threads: HTTP handler threads */
    int max_concurrent;      /* server.max_concurrent_detections: decoded, on the
                                device or post-processed at once */
    char *manager_socket;    /* manager.socket; $HAILO_DEVICE_SOCKET wins */
    int device_timeout_s;    /* manager.timeout: one inference's round trip;
                                $HAILO_DEVICE_TIMEOUT wins, as in the original */
    int image_max_pixels;    /* images.max_pixels */
    int image_max_decode_ms; /* images.max_decode_ms */
    int image_large_pixels;  /* images.large_pixels: a decode of more source pixels is large */
    int image_large_decodes; /* images.max_large_decodes: large decodes at once */
    char *render_format;     /* render.format: "jpeg" or "png", the default */
    int render_jpeg_quality; /* render.jpeg_quality */
} pose_config;

extern const conf_key pose_config_keys[];

/* The original's defaults (0.0.0.0:11440, yolov8s_pose, 0.5 / 0.45 / 10,
 * 0.3, skeleton on) and ours.  Returns 0 or -HDM_E_NOMEM. */
int pose_config_defaults(pose_config *cfg);
/*
 * Loads `path` over the defaults (a missing file is an error unless
 * missing_ok), then applies $HAILO_POSE_TOKEN and $HAILO_DEVICE_TIMEOUT.
 * Errors read "file:line: message".
 */
int pose_config_load(pose_config *cfg, const char *path, bool missing_ok, hdm_err *err);
/*
 * Cross-field checks, and model.hef_path filled from model.name when
 * empty: the request defaults must be what a request may ask for
 * (posepost_params_check), input_size two positive integers, render.format
 * jpeg or png.  0 or -HDM_E_BAD_REQUEST naming the key.
 */
int pose_config_check(pose_config *cfg, hdm_err *err);
/*
 * The process's decode gate for this config (image_gate_configure): at most
 * images.max_large_decodes decodes above images.large_pixels at once, the
 * others waiting for their turn (every handler thread may wait: none is
 * refused for the queue's length).
 */
void pose_config_gate(const pose_config *cfg, image_gate_config *gate);
/* The default render format of the config (checked). */
pose_render_format pose_config_render_format(const pose_config *cfg);
void pose_config_free(pose_config *cfg);

/* ---- request.c ---------------------------------------------------------------- */

/* One /v1/pose/detect request, read and checked. */
typedef struct pose_request {
    const uint8_t *image; /* the encoded image (borrowed from the body, or image_owned) */
    size_t image_len;
    uint8_t *image_owned;   /* the base64-decoded bytes of a JSON request (malloc'd) */
    posepost_params params; /* confidence, IoU, max_detections */
    double keypoint_threshold;
    bool render; /* also return the image with the poses drawn */
    pose_render_format render_format;
} pose_request;

/*
 * The fields of a JSON body (an object), over the config's defaults:
 * "image" (base64, a "data:" prefix cut at its first comma as the original
 * does, decoded with Python's lenient b64decode); "confidence_threshold",
 * "iou_threshold", "keypoint_threshold" (numbers, or numeric strings as
 * the original's float() takes them; null = default), "max_detections" (a
 * whole number or its string); ours: "render" (bool), "render_format"
 * ("jpeg" or "png").  Returns 0, or -HDM_E_BAD_REQUEST with the message a
 * client sees (the original's wording where it had one: "Missing 'image'
 * field", "Invalid base64: ...").  Free with pose_request_free.
 */
int pose_request_from_json(const pose_config *cfg, const cJSON *body, pose_request *out,
                           hdm_err *err);

/*
 * The fields of a multipart form (the HTTP layer's parsed body), over the
 * config's defaults: part "image" (the file's bytes), the same parameters
 * as text fields, "render" (true/false, 1/0, yes/no, on/off) and
 * "render_format".  Other parts are ignored, as the original ignores them.
 * Returns 0 or -HDM_E_BAD_REQUEST.  The request borrows the form's data.
 */
int pose_request_from_form(const pose_config *cfg, const http_form *form, pose_request *out,
                           hdm_err *err);

void pose_request_free(pose_request *rq);

/* ---- pipeline.c ---------------------------------------------------------------- */

/*
 * Detection slots: at most n detections between decoding and the end of
 * post-processing.  A request waits for one (pose_pipeline_detect does),
 * holding only its body meanwhile.
 */
typedef struct pose_slots {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    int free_slots;
} pose_slots;

/* 0 or -HDM_E_INTERNAL. */
int pose_slots_init(pose_slots *s, int n);
void pose_slots_destroy(pose_slots *s);

/* The shared state of the running service. */
typedef struct pose_app {
    const pose_config *cfg;
    pose_slots slots; /* server.max_concurrent_detections */
    hdm_client *client;
    svc_keeper *model;
    char hef_path[4096];    /* the model path sent to the manager */
    double started_mono;    /* for uptime_seconds */
    long long started_unix; /* /v1/models "created" */
} pose_app;

/* One detection. */
typedef struct pose_detection {
    posepost_pose *poses; /* malloc'd, best first */
    size_t count;
    int image_w, image_h; /* the decoded image */
    int inference_ms;     /* the manager round trip, as the original's int */
    buf rendered;         /* the drawn image when asked for (else empty) */
    pose_render_format rendered_format;
} pose_detection;

/*
 * Decodes an encoded image as PIL's Image.open().convert("RGB") does (no
 * EXIF rotation; within images.max_pixels / max_decode_ms) and letterboxes
 * it into input[POSE_INPUT_BYTES] (OpenCV INTER_CUBIC, grey 114), with its
 * geometry in *lb.  With keep non-NULL the decoded image is handed over
 * there (image_free it); otherwise it is freed at once.  Errors:
 * -HDM_E_BAD_REQUEST ("Failed to decode image: ..."; also a 1-pixel-thin
 * image that would vanish in the letterbox), -HDM_E_TOO_LARGE (a limit),
 * -HDM_E_BUSY (the decode gate is full), -HDM_E_NOMEM.
 */
int pose_prepare(const pose_config *cfg, const uint8_t *data, size_t len, uint8_t *input,
                 posepost_letterbox *lb, image *keep, hdm_err *err);

/*
 * The model's outputs (tensors[0..n), from the manager) to poses in image
 * pixels: the 9 heads found by shape, decoded and NMS'd with `p`, mapped
 * back through lb.  *poses is malloc'd (NULL when none; free()).  Errors:
 * -HDM_E_DEVICE_ERROR when the outputs are not yolov8s_pose's,
 * -HDM_E_NOMEM.
 */
int pose_decode_outputs(const hdm_tensor *tensors, size_t n, const posepost_letterbox *lb,
                        const posepost_params *p, posepost_pose **poses, size_t *count,
                        hdm_err *err);

/*
 * The whole request, in one of app->slots (waiting for it at most
 * manager.timeout; -HDM_E_BUSY after that): pose_prepare, one "pose"
 * inference on the manager
 * (cancelled when cancel_fd, -1 for none, becomes readable), then
 * pose_decode_outputs and, with rq->render, the drawing and its encoding.
 * The encoded image's bytes are released (pose_request_free) once decoded,
 * so a request waiting for the device holds only the model input.
 * Fills *out (free with pose_detection_free).  Errors: pose_prepare's for
 * the image; the manager's code with its sentence otherwise (its
 * bad_request/not_found answers become -HDM_E_INTERNAL: our request or our
 * setup was wrong, not the client's); -HDM_E_CANCELLED when cancel_fd fired.
 */
int pose_pipeline_detect(pose_app *app, pose_request *rq, int cancel_fd, pose_detection *out,
                         hdm_err *err);
void pose_detection_free(pose_detection *d);

/* ---- answer.c ------------------------------------------------------------------- */

/*
 * The original's 200 answer: {"poses": [{"person_id", "bbox": {x, y, width,
 * height}, "bbox_confidence", "keypoints": [17 x {name, x, y, confidence}],
 * "skeleton": [{from, to, from_index, to_index}] (with `skeleton`; the pairs
 * whose two confidences are >= keypoint_threshold)}], "count",
 * "inference_time_ms", "image_size": {width, height}}, floats as Python
 * prints them; plus "rendered" {format, content_type, width, height, data}
 * when d->rendered holds an image.  NULL when out of memory.
 */
cJSON *pose_answer_json(const pose_detection *d, double keypoint_threshold, bool skeleton);

/* ---- model.c ------------------------------------------------------------------- */

/* Starts the keeper: load_model (pose, the HEF, model.keep_alive) with
 * backoff while the manager is not up, then a ping every 2 s.  0 or
 * negative. */
int pose_model_start(pose_app *app);
/* A request's failure goes to svc_keeper_report(app->model, code); at
 * shutdown svc_keeper_release unloads a pinned model (keep_alive -1), as
 * the original unloaded it when it stopped. */

/* ---- routes.c ------------------------------------------------------------------ */

/* The route table (terminated by {NULL}); its handlers expect a pose_app. */
extern const http_route pose_routes[];
/* The HTTP layer's own errors in the original's shapes (aiohttp's text/plain
 * 404 and 405, {"error": {"message", "type"}} for the rest). */
void pose_layer_error(int status, const char *message, http_reply *reply);

#endif
