/*
 * main.c - hailo-ocr: text detection and recognition over HTTP (the
 * original Python hailo-ocr's API on port 11436), with the device work
 * done by hailo-device-manager.
 *
 * Start-up (as hailo-clip): signals blocked, config (file, then flags),
 * the image gate and OpenCV's threads set, the manager client, the model
 * registration thread, the HTTP server, READY=1; then wait for
 * SIGTERM/SIGINT, STOPPING=1, drain in-flight requests, exit 0.  The
 * service serves while the manager is still coming up (/health/ready
 * answers 503 until the model is registered); the original only opened its
 * port after loading.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "image/image.h"
#include "image/imgproc.h"
#include "ocr/ocr.h"
#include "svc/svc_main.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hailo-ocr [--config FILE] [--host HOST] [--port N] [--log-level LEVEL]\n"
            "                 [--check-config] [--version] [--help]\n"
            "\n"
            "  -c, --config FILE     YAML config (default $HAILO_OCR_CONFIG, else %s)\n"
            "  -H, --host HOST       bind address (overrides server.host)\n"
            "  -p, --port N          port (overrides server.port; 0 picks a free one)\n"
            "  -l, --log-level L     error, warn, info (default) or debug\n"
            "  -C, --check-config    check the config and say which model files exist, then exit\n"
            "  -V, --version         print the version\n"
            "\n"
            "Environment: HAILO_DEVICE_SOCKET (manager socket), HAILO_OCR_TOKEN (bearer token).\n",
            OCR_DEFAULT_CONFIG);
}

/* --check-config: the config is valid; which HEFs exist (the manager opens
 * them, so a missing one is reported, not fatal, unless all are). */
static int check_models(const ocr_config *cfg, const char *path)
{
    bool exists;
    int found = 0;
    char *det = ocr_model_resolve(cfg, cfg->detection_hef, &exists);
    if (!det)
        fatal("out of memory");
    printf("detection: %s%s\n", det, exists ? "" : " (not found)");
    free(det);
    for (size_t i = 0; i < cfg->n_langs; i++) {
        bool e;
        char *p = ocr_model_resolve(cfg, cfg->langs[i].hef, &e);
        if (!p)
            fatal("out of memory");
        printf("recognition %s: %s%s\n", cfg->langs[i].code, p, e ? "" : " (not found)");
        found += e;
        free(p);
    }
    if (!exists || found == 0) {
        log_error("%s: %s", path,
                  !exists ? "the detection model file is missing"
                          : "no recognition model file exists");
        return 1;
    }
    printf("%s: OK\n", path);
    return 0;
}

int main(int argc, char **argv)
{
    svc_args args;
    int c = svc_parse_args(argc, argv, OCR_SERVICE_NAME, "HAILO_OCR_CONFIG", OCR_DEFAULT_CONFIG,
                           usage, &args);
    if (c >= 0)
        return c;
    const char *config_path = args.config_path;

    http_block_signals();
    svc_tune_malloc(0);
#ifdef M_ARENA_MAX
    /* One malloc arena: requests run one at a time past the image slot
     * (images.max_concurrent), on whichever HTTP thread; with one arena the
     * next request reuses the memory the last one freed instead of each
     * thread's arena keeping its own copy (measured: 27 MB of RSS after ten
     * 1920x1080 pages instead of 49, at the same CPU per request). */
    mallopt(M_ARENA_MAX, 1);
#endif
    ocr_config cfg;
    hdm_err err = {0};
    if (ocr_config_defaults(&cfg) < 0)
        fatal("out of memory");
    if (ocr_config_load(&cfg, config_path, !args.explicit_config, &err) < 0) {
        log_error("%s", err.msg);
        ocr_config_free(&cfg);
        return 1;
    }
    if (svc_apply_flags(ocr_config_keys, &cfg, &args, &err) < 0) {
        ocr_config_free(&cfg);
        return 2;
    }
    if (ocr_config_check(&cfg, &err) < 0) {
        log_error("%s: %s", config_path, err.msg);
        ocr_config_free(&cfg);
        return 1;
    }
    for (size_t i = 0; i < cfg.languages.n; i++)
        if (ocr_config_lang_index(&cfg, cfg.languages.items[i]) < 0)
            log_warn("ocr.languages: '%s' has no model in hailo_models.recognition_hefs; "
                     "requests without languages use the others",
                     cfg.languages.items[i]);
    if (args.check_only) {
        c = check_models(&cfg, config_path);
        ocr_config_free(&cfg);
        return c;
    }

    /* At most images.max_concurrent decoded images (and so workspaces) at
     * once; the others wait for a slot up to images.max_wait_ms. */
    image_gate_config gate;
    image_gate_config_defaults(&gate);
    gate.slots = cfg.image_max_concurrent;
    gate.heavy_slots = 1;
    gate.wait_ms = cfg.image_max_wait_ms;
    if (image_gate_configure(&gate, &err) < 0) {
        log_error("%s: %s", config_path, err.msg);
        ocr_config_free(&cfg);
        return 1;
    }
    imgproc_set_threads(cfg.opencv_threads);
    /* One page's pixels kept from image to image (up to 2560 x 1600): the
     * freed block of the last image is otherwise split before the next one
     * asks for it, and the heap grows by an image now and then (measured:
     * 8 clients on 1920x1080 pages went from ~30 to ~34 MB at times). */
    image_pixels_keep((size_t)2560 * 1600 * 3);

    ocr_app app;
    memset(&app, 0, sizeof(app));
    http_server *srv = NULL;
    int rc = 1;
    if (ocr_app_init(&app, &cfg, &err) < 0) {
        log_error("%s", err.msg);
        goto out;
    }
    app.started_at = mono_s();

    int r = svc_client_new(OCR_SERVICE_NAME, cfg.manager_socket, cfg.timeout_s, &app.client);
    if (r < 0)
        goto out;

    http_config hc;
    char emsg[256] = "";
    svc_http_config(&hc, OCR_SERVICE_NAME, cfg.host, cfg.port, cfg.threads,
                    (size_t)cfg.max_body_bytes, cfg.bearer_token, cfg.timeout_s);
    hc.json_style = HTTP_JSON_PYTHON; /* aiohttp's json.dumps */
    /* Back-pressure: as many request bodies in memory as there are image
     * slots.  A request frees its body once its image is decoded and gives
     * its ticket back once detection is done (routes.c), so the next body
     * is read while the slot's request recognizes; the other clients'
     * bodies wait unread in their sockets, and one that waits past
     * images.max_wait_ms gets the gate's 503. */
    char busy[256];
    snprintf(busy, sizeof(busy), OCR_BUSY_FMT, cfg.image_max_concurrent, cfg.image_max_wait_ms);
    hc.big_body_bytes = OCR_BIG_BODY_BYTES;
    hc.max_big_bodies = cfg.image_max_concurrent;
    hc.big_body_wait_ms = cfg.image_max_wait_ms;
    hc.busy_message = busy;
    /* The model thread first: the handlers ask it whether we are ready. */
    if ((r = ocr_model_start(&app)) < 0) {
        log_error("cannot start the model thread: %s", hdm_strerror(r));
        goto out;
    }
    if (http_server_start(&hc, ocr_routes, &app, &srv, emsg, sizeof(emsg)) < 0) {
        log_error("cannot serve on %s:%d: %s", cfg.host, cfg.port, emsg);
        goto out;
    }
    http_server_set_error_body(srv, ocr_error_body);
    log_info("hailo-ocr %s serving on %s:%d (manager %s, %zu recognition language%s)", HDM_VERSION,
             cfg.host, http_server_port(srv), svc_manager_socket(cfg.manager_socket), cfg.n_langs,
             cfg.n_langs == 1 ? "" : "s");
    svc_serve_until_signal();
    rc = 0;
out:
    /* The server first: handlers use the model and the pipeline. */
    http_server_stop(srv);
    svc_keeper_free(app.model);
    hdm_client_free(app.client);
    ocr_app_free(&app);
    ocr_config_free(&cfg);
    return rc;
}
