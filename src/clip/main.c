/*
 * main.c - hailo-clip: zero-shot image classification and CLIP embeddings
 * over HTTP, with the device work done by hailo-device-manager.
 *
 * Start-up (after timesyncd.c): signals blocked, config (file, then flags),
 * tokenizer and tables mapped, the manager client, the HTTP server, the
 * model registration thread, READY=1; then wait for SIGTERM/SIGINT,
 * STOPPING=1, drain in-flight requests, exit 0.  The service serves (and
 * /health answers "not ready") while the manager is still coming up.
 *
 * `--preprocess IMAGE` is a debugging entry point: with the config (and
 * nothing else: no manager, no tokenizer), it writes to stdout the
 * uint8 [S, S, 3] RGB tensor hailo-clip would send to the device for that
 * image file, and exits.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clip/clip.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "svc/svc_main.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hailo-clip [--config FILE] [--host HOST] [--port N] [--log-level LEVEL]\n"
            "                  [--check-config] [--version] [--help]\n"
            "       hailo-clip --preprocess IMAGE [--config FILE]\n"
            "       hailo-clip --tokenize [--tokenizer FILE | --config FILE]\n"
            "\n"
            "  -c, --config FILE     YAML config (default $HAILO_CLIP_CONFIG, else %s)\n"
            "  -H, --host HOST       bind address (overrides server.host)\n"
            "  -p, --port N          port (overrides server.port; 0 picks a free one)\n"
            "  -l, --log-level L     error, warn, info (default) or debug\n"
            "  -C, --check-config    check the config and the model files, then exit\n"
            "  --preprocess IMAGE    write the uint8 SxSx3 RGB tensor sent to the device for\n"
            "                        IMAGE to stdout (S = clip.image_size), then exit\n"
            "  -V, --version         print the version\n"
            "\n"
            "Environment: HAILO_DEVICE_SOCKET (manager socket), HAILO_CLIP_TOKEN (bearer token).\n",
            CLIP_DEFAULT_CONFIG);
}

/* --preprocess: the image tensor to stdout.  Exit code 0 or 1. */
static int preprocess(const clip_config *cfg, const char *path)
{
    hdm_err err = {0};
    uint8_t *data = NULL;
    size_t len = 0;
    size_t n = (size_t)cfg->image_size * (size_t)cfg->image_size * 3;
    uint8_t *pixels = malloc(n);
    int r = pixels ? svc_read_file(path, (size_t)cfg->max_body_bytes, &data, &len, &err)
                   : hdm_err_set(&err, HDM_E_NOMEM, "out of memory");
    if (r >= 0)
        r = clip_image_tensor(cfg, (const char *)data, len, false, pixels, &err);
    if (r >= 0 && (fwrite(pixels, 1, n, stdout) != n || fflush(stdout) != 0))
        r = hdm_err_set(&err, HDM_E_INTERNAL, "cannot write the tensor to stdout");
    if (r < 0)
        log_error("%s: %s", path, err.msg);
    free(data);
    free(pixels);
    return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (clip_tokenize_requested(argc, argv))
        return clip_tokenize_main(argc, argv);
    svc_args args;
    /* --preprocess IMAGE is ours; the other flags are the shared ones. */
    const char *preprocess_path = NULL;
    int nargs = 0;
    for (int i = 0; i < argc; i++) { /* taken out of argv in place */
        if (i > 0 && strcmp(argv[i], "--preprocess") == 0 && i + 1 < argc)
            preprocess_path = argv[++i];
        else if (i > 0 && strncmp(argv[i], "--preprocess=", 13) == 0)
            preprocess_path = argv[i] + 13;
        else
            argv[nargs++] = argv[i];
    }
    argv[nargs] = NULL;
    int c = svc_parse_args(nargs, argv, CLIP_SERVICE_NAME, "HAILO_CLIP_CONFIG", CLIP_DEFAULT_CONFIG,
                           usage, &args);
    if (c >= 0)
        return c;
    const char *config_path = args.config_path;

    http_block_signals();
    svc_tune_malloc(0);
    clip_config cfg;
    hdm_err err = {0};
    if (clip_config_defaults(&cfg) < 0)
        fatal("out of memory");
    if (clip_config_load(&cfg, config_path, !args.explicit_config, &err) < 0) {
        log_error("%s", err.msg);
        clip_config_free(&cfg);
        return 1;
    }
    if (svc_apply_flags(clip_config_keys, &cfg, &args, &err) < 0) {
        clip_config_free(&cfg);
        return 2;
    }
    if (clip_config_check(&cfg, &err) < 0) {
        log_error("%s: %s", config_path, err.msg);
        clip_config_free(&cfg);
        return 1;
    }
    if (preprocess_path) {
        c = preprocess(&cfg, preprocess_path);
        clip_config_free(&cfg);
        return c;
    }

    clip_app app = {.cfg = &cfg, .started_at = mono_s()};
    http_server *srv = NULL;
    int rc = 1;
    if (clip_pipeline_init(&app, &err) < 0) {
        log_error("%s", err.msg);
        goto out;
    }
#ifdef __GLIBC__
    /* Parsing tokenizer.json (3.6 MB for the real one) left freed heap
     * behind; hand it back before serving. */
    malloc_trim(0);
#endif
    log_info("tokenizer %s: %d ids; token table %lld x %d; projection %d x %d", cfg.tokenizer_path,
             clip_tokenizer_vocab_size(app.tokenizer), (long long)app.tables.vocab,
             app.tables.width, app.tables.width, app.tables.dim);
    if (args.check_only) {
        /* The manager opens the HEFs; here we only say whether they exist. */
        const char *hefs[2] = {cfg.image_hef_path, cfg.text_hef_path};
        struct stat st;
        for (int i = 0; i < 2; i++)
            if (stat(hefs[i], &st) != 0 || !S_ISREG(st.st_mode)) {
                log_error("%s: %s is not a file: %s", config_path,
                          i ? "clip.text_hef_path" : "clip.image_hef_path", hefs[i]);
                goto out;
            }
        printf("%s: OK\n", config_path);
        rc = 0;
        goto out;
    }

    int r =
        svc_client_new(CLIP_SERVICE_NAME, cfg.manager_socket, cfg.request_timeout_s, &app.client);
    if (r < 0)
        goto out;

    http_config hc;
    char emsg[256] = "";
    svc_http_config(&hc, CLIP_SERVICE_NAME, cfg.host, cfg.port, cfg.worker_threads,
                    (size_t)cfg.max_body_bytes, cfg.bearer_token, cfg.request_timeout_s);
    /* The model thread first: the handlers ask it whether we are ready. */
    if ((r = clip_model_start(&cfg, app.client, cfg.warmup_enabled ? clip_pipeline_warmup : NULL,
                              &app, &app.model)) < 0) {
        log_error("cannot start the model thread: %s", hdm_strerror(r));
        goto out;
    }
    if (http_server_start(&hc, clip_routes, &app, &srv, emsg, sizeof(emsg)) < 0) {
        log_error("cannot serve on %s:%d: %s", cfg.host, cfg.port, emsg);
        goto out;
    }
    log_info("hailo-clip %s serving %s on %s:%d (manager %s)", HDM_VERSION, cfg.model_name,
             cfg.host, http_server_port(srv), svc_manager_socket(cfg.manager_socket));
    svc_serve_until_signal();
    rc = 0;
out:
    /* The server first: handlers use the model and the pipeline. */
    http_server_stop(srv);
    svc_keeper_free(app.model);
    hdm_client_free(app.client);
    clip_pipeline_free(&app);
    clip_config_free(&cfg);
    return rc;
}
