/*
 * config.c - hailo-pose's YAML keys: every key of the original's config.yaml
 * (ORIGINAL-SERVICES.md §4.2, including the ones it never read) and ours,
 * mapped onto pose_config.  A null value leaves a key at its default.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "pose/pose.h"
#include "svc/svc_config.h"

#define OFF(field) offsetof(pose_config, field)

const conf_key pose_config_keys[] = {
    /* the original's */
    {"server.host", CONF_STRING, OFF(host), 0, 0},
    {"server.port", CONF_INT, OFF(port), 0, 65535},
    {"model.name", CONF_STRING, OFF(model_name), 0, 0},
    {"model.keep_alive", CONF_DOUBLE, OFF(keep_alive), -1, 1e9},
    {"inference.confidence_threshold", CONF_DOUBLE, OFF(conf_threshold), 0, 1},
    {"inference.iou_threshold", CONF_DOUBLE, OFF(iou_threshold), 0, 1},
    {"inference.max_detections", CONF_INT, OFF(max_detections), 1, POSEPOST_MAX_DETECTIONS},
    {"inference.input_size", CONF_STRLIST, OFF(input_size), 0, 0},
    {"pose.keypoint_threshold", CONF_DOUBLE, OFF(keypoint_threshold), 0, 1},
    {"pose.skeleton_connections", CONF_BOOL, OFF(skeleton_connections), 0, 0},
    {"resource_limits.memory_max", CONF_STRING, OFF(memory_max), 0, 0},
    {"resource_limits.cpu_quota", CONF_STRING, OFF(cpu_quota), 0, 0},
    /* ours */
    {"model.hef_path", CONF_STRING, OFF(hef_path), 0, 0},
    {"server.max_body_bytes", CONF_INT, OFF(max_body_bytes), 1024, INT_MAX},
    {"server.bearer_token", CONF_STRING, OFF(bearer_token), 0, 0},
    {"server.worker_threads", CONF_INT, OFF(worker_threads), 1, 64},
    {"server.max_concurrent_detections", CONF_INT, OFF(max_concurrent), 1, 64},
    {"manager.socket", CONF_STRING, OFF(manager_socket), 0, 0},
    {"manager.timeout", CONF_INT, OFF(device_timeout_s), 1, 86400},
    {"images.max_pixels", CONF_INT, OFF(image_max_pixels), 1, INT_MAX},
    {"images.max_decode_ms", CONF_INT, OFF(image_max_decode_ms), 1, 600000},
    {"images.large_pixels", CONF_INT, OFF(image_large_pixels), 1, INT_MAX},
    {"images.max_large_decodes", CONF_INT, OFF(image_large_decodes), 1, 64},
    {"render.format", CONF_STRING, OFF(render_format), 0, 0},
    {"render.jpeg_quality", CONF_INT, OFF(render_jpeg_quality), 1, 100},
    {NULL, 0, 0, 0, 0},
};

int pose_config_defaults(pose_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->port = 11440;
    cfg->keep_alive = -1;
    cfg->conf_threshold = 0.5;
    cfg->iou_threshold = 0.45;
    cfg->max_detections = 10;
    cfg->keypoint_threshold = 0.3;
    cfg->skeleton_connections = true;
    /* A 12-megapixel photo is 4-6 MB as a JPEG, a third more in base64; a
     * 4K screenshot as PNG about as much.  16 MiB takes those whole (the
     * original took 1 MiB of JSON and unlimited multipart). */
    cfg->max_body_bytes = 16 * 1024 * 1024;
    cfg->worker_threads = 4;
    /* One detection at a time between decoding and the answer: each holds
     * a decoded photo (6 MB for 1080p), the model input (1.2 MB) and the
     * model's answer (3.9 MB), so this is what keeps the service within
     * 30 MB under many clients (docs/BENCHMARKS.md).  2 lets one request
     * decode while another is on the device: more throughput on a real
     * NPU for about 5 MB more. */
    cfg->max_concurrent = 1;
    cfg->device_timeout_s = 120; /* the original's HAILO_DEVICE_TIMEOUT default */
    /* The model sees 640x640: 24 Mpixel takes any camera's photo up to
     * 6000x4000 and bounds one decode to 72 MB of pixels. */
    cfg->image_max_pixels = 24 * 1000 * 1000;
    cfg->image_max_decode_ms = 5000;
    /* A decoded image is held whole until its letterbox is made (OpenCV's
     * exact resize needs it): 6 MB for 1080p.  One such decode at a time
     * keeps the service's memory flat under many clients; smaller images
     * decode side by side. */
    cfg->image_large_pixels = 1000 * 1000;
    cfg->image_large_decodes = 1;
    cfg->render_jpeg_quality = 85;
    if (svc_conf_set_str(&cfg->host, "127.0.0.1") ||
        svc_conf_set_str(&cfg->model_name, "yolov8s_pose") ||
        svc_conf_set_str(&cfg->hef_path, "") || svc_conf_set_str(&cfg->memory_max, "2G") ||
        svc_conf_set_str(&cfg->cpu_quota, "80%") || svc_conf_set_str(&cfg->render_format, "jpeg")) {
        pose_config_free(cfg);
        return -HDM_E_NOMEM;
    }
    return 0;
}

/* A positive decimal integer of at most 5 digits, as the input size holds. */
static bool parse_side(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0 || v < 1 || v > 65535)
        return false;
    *out = (int)v;
    return true;
}

int pose_config_check(pose_config *cfg, hdm_err *err)
{
    if (!cfg->host || !cfg->host[0])
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "server.host must not be empty");
    if (!cfg->model_name || !cfg->model_name[0])
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model.name must not be empty");
    if (cfg->keep_alive < 0 && cfg->keep_alive != -1)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "model.keep_alive must be -1 (pinned), 0 or a number of seconds");
    /* The defaults must be what a request may ask for. */
    posepost_params p = {cfg->conf_threshold, cfg->iou_threshold, cfg->max_detections};
    hdm_err perr = {0};
    if (posepost_params_check(&p, &perr) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "inference: %s", perr.msg);
    if (cfg->input_size.n != 0) {
        int w = 0, h = 0;
        if (cfg->input_size.n != 2 || !parse_side(cfg->input_size.items[0], &w) ||
            !parse_side(cfg->input_size.items[1], &h))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "inference.input_size must be [width, height], two positive "
                               "integers");
        if (w != POSE_INPUT_W || h != POSE_INPUT_H)
            log_warn("inference.input_size [%d, %d] is not used: the model input is %dx%d "
                     "(yolov8s_pose's), as in the original service",
                     w, h, POSE_INPUT_W, POSE_INPUT_H);
    }
    if (!cfg->render_format ||
        (strcmp(cfg->render_format, "jpeg") != 0 && strcmp(cfg->render_format, "png") != 0))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "render.format must be jpeg or png, not \"%.40s\"",
                           cfg->render_format ? cfg->render_format : "");
    if (!cfg->hef_path || !cfg->hef_path[0]) {
        /* hailo-apps' resolve_hef_path(model.name) on the original's install. */
        char path[4096];
        int n = snprintf(path, sizeof(path), "%s/%s.hef", POSE_HEF_DIR, cfg->model_name);
        if (n < 0 || (size_t)n >= sizeof(path))
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "model.name is too long");
        if (svc_conf_set_str(&cfg->hef_path, path) < 0)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    if (strlen(cfg->hef_path) >= 4096)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model.hef_path is too long");
    return 0;
}

void pose_config_gate(const pose_config *cfg, image_gate_config *gate)
{
    image_gate_config_defaults(gate);
    gate->heavy_pixels = (uint64_t)cfg->image_large_pixels;
    gate->heavy_slots = cfg->image_large_decodes;
    if (gate->slots < gate->heavy_slots)
        gate->slots = gate->heavy_slots;
    gate->max_heavy_waiting = cfg->worker_threads;
}

pose_render_format pose_config_render_format(const pose_config *cfg)
{
    return cfg->render_format && strcmp(cfg->render_format, "png") == 0 ? POSE_RENDER_PNG
                                                                        : POSE_RENDER_JPEG;
}

int pose_config_load(pose_config *cfg, const char *path, bool missing_ok, hdm_err *err)
{
    int r = conf_load_file(path, pose_config_keys, cfg, svc_conf_warn_unknown, NULL, err);
    if (r == -HDM_E_NOT_FOUND && missing_ok) {
        log_info("no config file %s: using the defaults", path);
        hdm_err_clear(err);
        r = 0;
    }
    if (r < 0)
        return r;
    if ((r = svc_conf_env_str(&cfg->bearer_token, "HAILO_POSE_TOKEN", err)) < 0)
        return r;
    /* The original read HAILO_DEVICE_TIMEOUT (seconds, a float; a bad value
     * meant its default).  Here it wins over manager.timeout likewise. */
    const char *t = getenv("HAILO_DEVICE_TIMEOUT");
    if (t && *t) {
        char *end;
        errno = 0;
        double v = strtod(t, &end);
        if (*end == '\0' && errno == 0 && v >= 1 && v <= 86400)
            cfg->device_timeout_s = (int)v;
        else
            log_warn("HAILO_DEVICE_TIMEOUT=\"%.40s\" is not a number of seconds from 1 to 86400: "
                     "ignored",
                     t);
    }
    return 0;
}

void pose_config_free(pose_config *cfg)
{
    conf_free(pose_config_keys, cfg);
}
