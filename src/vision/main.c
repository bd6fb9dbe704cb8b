/*
 * main.c - hailo-vision: OpenAI-compatible vision chat over the device manager.
 *
 * Start-up follows timesyncd: logging, config, the manager client, the model
 * thread, the HTTP server, READY=1; then wait for SIGTERM/SIGINT, STOPPING=1,
 * stop serving (in-flight requests finish), stop the model thread.  The
 * model loads in the background, so the port answers at once (/health/ready
 * says 503 until the model is there).
 */
#include <curl/curl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "http/http.h"
#include "svc/svc_main.h"
#include "vision/vision.h"

#define DEFAULT_CONFIG "/etc/hailo/hailo-vision.yaml"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hailo-vision [--config FILE] [--host HOST] [--port PORT]\n"
            "                    [--log-level error|warn|info|debug] [--check-config]\n"
            "                    [--version] [--help]\n"
            "\n"
            "OpenAI-compatible chat completions with images, run on the Hailo NPU\n"
            "through hailo-device-manager.\n"
            "\n"
            "  --config FILE   YAML config (default $HAILO_VISION_CONFIG or " DEFAULT_CONFIG ")\n"
            "  --host HOST     bind address (overrides server.host)\n"
            "  --port PORT     TCP port (overrides server.port)\n"
            "  --check-config  check the config and exit (errors as file:line: message)\n"
            "\n"
            "Environment: HAILO_DEVICE_SOCKET (manager socket), HAILO_VISION_TOKEN\n"
            "(bearer token), HAILO_VISION_CONFIG.\n");
}

/* SIGHUP: ask the model keeper to check the model is still registered on
 * the manager (and load it again if it is not). */
static void reload_model(void *user)
{
    svc_keeper_recheck(user, NULL);
}

int main(int argc, char **argv)
{
    svc_args args;
    int r = svc_parse_args(argc, argv, "hailo-vision", "HAILO_VISION_CONFIG", DEFAULT_CONFIG, usage,
                           &args);
    if (r >= 0)
        return r;
    const char *config_path = args.config_path;

    /* Frames (338 KB) and request bodies are big and short-lived: keep them
     * mmapped so a burst of requests gives its memory back, and keep few
     * malloc arenas, so RSS follows the load instead of its high-water mark. */
    svc_tune_malloc(128 * 1024);
    http_block_signals();
    vision_config cfg;
    hdm_err err = {0};
    if (vision_config_defaults(&cfg) < 0)
        fatal("out of memory");
    r = vision_config_load(&cfg, config_path, !args.explicit_config, &err);
    if (r < 0) {
        log_error("%s", err.msg);
        vision_config_free(&cfg);
        return 1;
    }
    if (svc_apply_flags(vision_config_keys, &cfg, &args, &err) < 0) {
        vision_config_free(&cfg);
        return 2;
    }
    if (args.check_only) {
        printf("%s: OK\n", config_path);
        vision_config_free(&cfg);
        return 0;
    }

    /* libcurl's TLS start-up costs ~3 MB of RSS: only pay it when remote
     * images are on. */
    if (cfg.allow_remote)
        curl_global_init(CURL_GLOBAL_DEFAULT);
    vision_app app = {.cfg = &cfg, .started_at = mono_s(), .started_wall = (long)wall_s()};
    http_server *srv = NULL;
    int rc = 1;
    if ((r = vision_images_init(&app.images, &cfg, &err)) < 0) {
        log_error("%s", r == -HDM_E_NOMEM ? "out of memory" : err.msg);
        goto out;
    }
    if ((r = svc_client_new("hailo-vision", cfg.socket_path, cfg.timeout_s, &app.client)) < 0)
        goto out;
    if ((r = vision_model_start(&cfg, app.client, &app.model)) < 0) {
        log_error("cannot start the model thread: %s", hdm_strerror(r));
        goto out;
    }

    http_config hc;
    http_route routes[VISION_MAX_ROUTES];
    char models_path[256], emsg[256] = "";
    /* A generation can take minutes; idle keep-alive connections still time out. */
    svc_http_config(&hc, "hailo-vision", cfg.host, cfg.port, cfg.threads,
                    (size_t)cfg.max_body_bytes, cfg.bearer_token, cfg.timeout_s);
    vision_routes_build(&cfg, routes, models_path);
    if (http_server_start(&hc, routes, &app, &srv, emsg, sizeof(emsg)) < 0) {
        log_error("cannot serve on %s:%d: %s", cfg.host, cfg.port, emsg);
        goto out;
    }
    http_server_set_error_body(srv, completion_layer_error);
    log_info("hailo-vision %s serving %s on %s:%d (model %s, manager %s)", HDM_VERSION,
             cfg.model_name, cfg.host, http_server_port(srv), cfg.hef_path,
             svc_manager_socket(cfg.socket_path));
    svc_set_reload_hook(reload_model, app.model);
    svc_serve_until_signal();
    rc = 0;
out:
    http_server_stop(srv);
    if (rc == 0)
        svc_keeper_release(app.model);
    svc_keeper_free(app.model);
    hdm_client_free(app.client);
    vision_images_free(&app.images);
    if (cfg.allow_remote)
        curl_global_cleanup();
    vision_config_free(&cfg);
    return rc;
}
