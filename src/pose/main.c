/*
 * main.c - hailo-pose: human pose estimation (YOLOv8s-pose) over HTTP, with
 * the device work done by hailo-device-manager; a drop-in for the original
 * Python hailo-pose (docs/POSE.md).
 *
 * Start-up (after timesyncd.c, as hailo-clip): signals blocked, config
 * (file, then flags), the manager client, the model keeper, the HTTP
 * server, READY=1; then wait for SIGTERM/SIGINT, STOPPING=1, drain the
 * requests in flight, unload a pinned model as the original did, exit 0.
 * The service serves (and /health/ready answers 503) while the manager is
 * still coming up.
 *
 * Two debugging entry points: `--preprocess IMAGE` writes to stdout the
 * uint8 [640, 640, 3] tensor hailo-pose would send to the device for that
 * image file (config only: no manager), and `--detect IMAGE` prints the
 * JSON answer for it through the manager of the config (no HTTP).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/pyjson.h"
#include "common/timeutil.h"
#include "image/imgproc.h"
#include "pose/pose.h"
#include "svc/svc_main.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hailo-pose [--config FILE] [--host HOST] [--port N] [--log-level LEVEL]\n"
            "                  [--check-config] [--version] [--help]\n"
            "       hailo-pose --preprocess IMAGE [--config FILE]\n"
            "       hailo-pose --detect IMAGE [--config FILE]\n"
            "\n"
            "  -c, --config FILE     YAML config (default $HAILO_POSE_CONFIG, else %s)\n"
            "  -H, --host HOST       bind address (overrides server.host)\n"
            "  -p, --port N          port (overrides server.port; 0 picks a free one)\n"
            "  -l, --log-level L     error, warn, info (default) or debug\n"
            "  -C, --check-config    check the config, then exit\n"
            "  --preprocess IMAGE    write the uint8 640x640x3 tensor sent to the device for\n"
            "                        IMAGE to stdout, then exit\n"
            "  --detect IMAGE        print the JSON answer for IMAGE (the config's defaults,\n"
            "                        the manager of the config), then exit\n"
            "  -V, --version         print the version\n"
            "\n"
            "Environment: HAILO_DEVICE_SOCKET (manager socket), HAILO_DEVICE_TIMEOUT (seconds\n"
            "one inference may take), HAILO_POSE_TOKEN (bearer token).\n",
            POSE_DEFAULT_CONFIG);
}

/* --preprocess: the model input to stdout.  Exit code 0 or 1. */
static int preprocess_file(const pose_config *cfg, const char *path)
{
    hdm_err err = {0};
    uint8_t *data = NULL, *input = malloc(POSE_INPUT_BYTES);
    size_t len = 0;
    posepost_letterbox lb;
    int r = input ? svc_read_file(path, (size_t)cfg->max_body_bytes, &data, &len, &err)
                  : hdm_err_set(&err, HDM_E_NOMEM, "out of memory");
    if (r >= 0)
        r = pose_prepare(cfg, data, len, input, &lb, NULL, &err);
    if (r >= 0 &&
        (fwrite(input, 1, POSE_INPUT_BYTES, stdout) != POSE_INPUT_BYTES || fflush(stdout) != 0))
        r = hdm_err_set(&err, HDM_E_INTERNAL, "cannot write the tensor to stdout");
    if (r < 0)
        log_error("%s: %s", path, err.msg);
    free(data);
    free(input);
    return r < 0 ? 1 : 0;
}

/* --detect: one request without HTTP.  Exit code 0 or 1. */
static int detect_file(pose_app *app, const char *path)
{
    hdm_err err = {0};
    pose_request rq = {0};
    pose_detection det = {0};
    uint8_t *data = NULL;
    size_t len = 0;
    int r = svc_read_file(path, (size_t)app->cfg->max_body_bytes, &data, &len, &err);
    if (r == 0) {
        rq.image = data;
        rq.image_len = len;
        rq.params = (posepost_params){app->cfg->conf_threshold, app->cfg->iou_threshold,
                                      app->cfg->max_detections};
        rq.keypoint_threshold = app->cfg->keypoint_threshold;
        r = pose_pipeline_detect(app, &rq, -1, &det, &err);
    }
    if (r == 0) {
        cJSON *body = pose_answer_json(&det, rq.keypoint_threshold, app->cfg->skeleton_connections);
        char *text = body ? pyjson_print(body, PYJSON_DUMPS) : NULL;
        if (text)
            printf("%s\n", text);
        else
            r = hdm_err_set(&err, HDM_E_NOMEM, "out of memory");
        free(text);
        cJSON_Delete(body);
    }
    if (r < 0)
        log_error("%s: %s", path, err.msg);
    pose_detection_free(&det);
    free(data);
    return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    svc_args args;
    /* --preprocess and --detect IMAGE are ours; the other flags are the
     * shared ones. */
    const char *detect_path = NULL, *preprocess_path = NULL;
    int nargs = 0;
    for (int i = 0; i < argc; i++) { /* taken out of argv in place */
        if (i > 0 && strcmp(argv[i], "--detect") == 0 && i + 1 < argc)
            detect_path = argv[++i];
        else if (i > 0 && strncmp(argv[i], "--detect=", 9) == 0)
            detect_path = argv[i] + 9;
        else if (i > 0 && strcmp(argv[i], "--preprocess") == 0 && i + 1 < argc)
            preprocess_path = argv[++i];
        else if (i > 0 && strncmp(argv[i], "--preprocess=", 13) == 0)
            preprocess_path = argv[i] + 13;
        else
            argv[nargs++] = argv[i];
    }
    argv[nargs] = NULL;
    int c = svc_parse_args(nargs, argv, POSE_SERVICE_NAME, "HAILO_POSE_CONFIG", POSE_DEFAULT_CONFIG,
                           usage, &args);
    if (c >= 0)
        return c;
    const char *config_path = args.config_path;

    http_block_signals();
    /* Request buffers (the 1.2 MB model input, the manager's 3.9 MB answer,
     * decoded photos) go back to the system when freed. */
    svc_tune_malloc(256 * 1024);
    pose_config cfg;
    hdm_err err = {0};
    if (pose_config_defaults(&cfg) < 0)
        fatal("out of memory");
    if (pose_config_load(&cfg, config_path, !args.explicit_config, &err) < 0) {
        log_error("%s", err.msg);
        pose_config_free(&cfg);
        return 1;
    }
    if (svc_apply_flags(pose_config_keys, &cfg, &args, &err) < 0) {
        pose_config_free(&cfg);
        return 2;
    }
    if (pose_config_check(&cfg, &err) < 0) {
        log_error("%s: %s", config_path, err.msg);
        pose_config_free(&cfg);
        return 1;
    }
    /* OpenCV on the request's own thread: its worker pool (TBB) costs
     * memory, and requests already run side by side. */
    imgproc_set_threads(1);
    image_gate_config gate;
    pose_config_gate(&cfg, &gate);
    if (image_gate_configure(&gate, &err) < 0) {
        log_error("%s: images: %s", config_path, err.msg);
        pose_config_free(&cfg);
        return 1;
    }
    if (preprocess_path) {
        c = preprocess_file(&cfg, preprocess_path);
        pose_config_free(&cfg);
        return c;
    }
    if (args.check_only) {
        /* The manager opens the HEF; it may live where only it can read. */
        printf("%s: OK (model %s, %s)\n", config_path, cfg.model_name, cfg.hef_path);
        pose_config_free(&cfg);
        return 0;
    }

    pose_app app = {.cfg = &cfg, .started_mono = mono_s(), .started_unix = (long long)time(NULL)};
    snprintf(app.hef_path, sizeof(app.hef_path), "%s", cfg.hef_path);
    if (pose_slots_init(&app.slots, cfg.max_concurrent) < 0) {
        log_error("cannot set up the detection slots");
        pose_config_free(&cfg);
        return 1;
    }
    http_server *srv = NULL;
    int rc = 1;
    int r =
        svc_client_new(POSE_SERVICE_NAME, cfg.manager_socket, cfg.device_timeout_s, &app.client);
    if (r < 0)
        goto out;
    if (detect_path) {
        rc = detect_file(&app, detect_path);
        goto out;
    }

    http_config hc;
    char emsg[256] = "";
    svc_http_config(&hc, POSE_SERVICE_NAME, cfg.host, cfg.port, cfg.worker_threads,
                    (size_t)cfg.max_body_bytes, cfg.bearer_token, cfg.device_timeout_s);
    hc.json_style = HTTP_JSON_PYTHON; /* aiohttp's json.dumps */
    /* The keeper first: the handlers ask it whether we are ready. */
    if ((r = pose_model_start(&app)) < 0) {
        log_error("cannot start the model thread: %s", hdm_strerror(r));
        goto out;
    }
    if (http_server_start(&hc, pose_routes, &app, &srv, emsg, sizeof(emsg)) < 0) {
        log_error("cannot serve on %s:%d: %s", cfg.host, cfg.port, emsg);
        goto out;
    }
    http_server_set_error_reply(srv, pose_layer_error);
    log_info("hailo-pose %s serving %s (%s) on %s:%d (manager %s)", HDM_VERSION, cfg.model_name,
             app.hef_path, cfg.host, http_server_port(srv), svc_manager_socket(cfg.manager_socket));
    svc_serve_until_signal();
    rc = 0;
out:
    /* The server first: handlers use the model and the client. */
    http_server_stop(srv);
    if (app.model)
        svc_keeper_release(app.model);
    svc_keeper_free(app.model);
    hdm_client_free(app.client);
    pose_slots_destroy(&app.slots);
    pose_config_free(&cfg);
    return rc;
}
