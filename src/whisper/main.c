/*
 * main.c - hailo-whisper: OpenAI-compatible speech to text over HTTP, with
 * the model run by hailo-device-manager (Whisper-Base, HailoRT Speech2Text).
 *
 * Start-up (after timesyncd.c): signals blocked, config (file, then flags,
 * then checks), the manager client, the model registration thread, the
 * HTTP server, READY=1; then wait for SIGTERM/SIGINT, STOPPING=1, drain
 * in-flight requests, unload a pinned model, exit 0.  The service serves
 * (and /health/ready answers 503) while the manager is still coming up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "svc/svc_main.h"
#include "whisper/whisper.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hailo-whisper [--config FILE] [--host HOST] [--port N] [--log-level LEVEL]\n"
            "                     [--check-config] [--version] [--help]\n"
            "\n"
            "  -c, --config FILE     YAML config (default $HAILO_WHISPER_CONFIG, else %s)\n"
            "  -H, --host HOST       bind address (overrides server.host)\n"
            "  -p, --port N          port (overrides server.port; 0 picks a free one)\n"
            "  -l, --log-level L     error, warn, info (default) or debug\n"
            "  -C, --check-config    check the config (and that the model file exists), then exit\n"
            "  -V, --version         print the version\n"
            "\n"
            "Environment: HAILO_DEVICE_SOCKET (manager socket), HAILO_WHISPER_TOKEN (bearer "
            "token).\n",
            WHISPER_DEFAULT_CONFIG);
}

int main(int argc, char **argv)
{
    svc_args args;
    int c = svc_parse_args(argc, argv, WHISPER_SERVICE_NAME, "HAILO_WHISPER_CONFIG",
                           WHISPER_DEFAULT_CONFIG, usage, &args);
    if (c >= 0)
        return c;
    const char *config_path = args.config_path;

    http_block_signals();
    /* Uploads (up to 26 MiB bodies) come and go: serve big blocks with mmap
     * so each one's memory goes back to the system when it is freed. */
    svc_tune_malloc(256 * 1024);
    whisper_config cfg;
    hdm_err err = {0};
    if (whisper_config_defaults(&cfg) < 0)
        fatal("out of memory");
    if (whisper_config_load(&cfg, config_path, !args.explicit_config, &err) < 0) {
        log_error("%s", err.msg);
        whisper_config_free(&cfg);
        return 1;
    }
    if (svc_apply_flags(whisper_config_keys, &cfg, &args, &err) < 0) {
        whisper_config_free(&cfg);
        return 2;
    }
    if (whisper_config_check(&cfg, &err) < 0) {
        log_error("%s: %s", config_path, err.msg);
        whisper_config_free(&cfg);
        return 1;
    }
    if (args.check_only) {
        /* The manager opens the HEF (this service's user may not even see
         * it): a missing one is worth a warning, not a failed check. */
        struct stat st;
        if (stat(cfg.hef_path, &st) != 0 || !S_ISREG(st.st_mode))
            log_warn("%s: model.hef_path %s is not a file here: the device manager will answer "
                     "\"Model file not found\" until it is there",
                     config_path, cfg.hef_path);
        printf("%s: OK\n", config_path);
        whisper_config_free(&cfg);
        return 0;
    }

    whisper_app app = {0};
    http_server *srv = NULL;
    int rc = 1;
    if (whisper_app_init(&app, &cfg) < 0) {
        log_error("cannot set up the transcription gate");
        whisper_config_free(&cfg);
        return 1;
    }
    int r = svc_client_new(WHISPER_SERVICE_NAME, cfg.manager_socket, cfg.request_timeout_s,
                           &app.client);
    if (r < 0)
        goto out;
    if ((r = whisper_model_start(&cfg, app.client, &app.model)) < 0) {
        log_error("cannot start the model thread: %s", hdm_strerror(r));
        goto out;
    }

    http_config hc;
    char emsg[256] = "";
    /* The original's aiohttp limit: the file plus 1 MiB of other fields. */
    svc_http_config(&hc, WHISPER_SERVICE_NAME, cfg.host, cfg.port, cfg.threads,
                    (size_t)cfg.max_file_bytes + WHISPER_BODY_OVERHEAD, cfg.bearer_token,
                    cfg.request_timeout_s);
    hc.json_style = HTTP_JSON_PYTHON;
    /* A big upload on a slow link: a minute to arrive whole. */
    hc.request_timeout_s = 120;
    hc.connection_timeout_s = cfg.request_timeout_s + 60;
    /* The openai npm package sends a file stream (its documented usage)
     * as a chunked multipart body. */
    hc.accept_chunked = true;
    /* Every request being received or waiting for a handler holds its body
     * (up to 26 MiB): bound them so the worst case stays under the unit's
     * MemoryMax (threads + queued + incomplete bodies: (12 + 8 + 8) x 26 MiB). */
    hc.max_queued = 8;
    hc.max_incomplete = 8;
    hc.max_connections = 64;
    hc.max_connections_per_ip = 16;
    if (http_server_start(&hc, whisper_routes, &app, &srv, emsg, sizeof(emsg)) < 0) {
        log_error("cannot serve on %s:%d: %s", cfg.host, cfg.port, emsg);
        goto out;
    }
    http_server_set_error_reply(srv, whisper_layer_error);
    const char *lang = whisper_config_language(&cfg);
    log_info("hailo-whisper %s serving %s on %s:%d (manager %s; language %s; at most %.0f s, "
             "%d bytes; silence trimming %s)",
             HDM_VERSION, cfg.model_name, cfg.host, http_server_port(srv),
             svc_manager_socket(cfg.manager_socket), lang ? lang : "detected", cfg.max_seconds,
             cfg.max_file_bytes, cfg.vad_filter ? "on" : "off");
    svc_serve_until_signal();
    rc = 0;
out:
    /* The server first: handlers and streams use the model and the client. */
    http_server_stop(srv);
    svc_keeper_release(app.model);
    svc_keeper_free(app.model);
    hdm_client_free(app.client);
    whisper_app_free(&app);
    whisper_config_free(&cfg);
    return rc;
}
