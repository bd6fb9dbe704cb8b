/*
 * main.c - hailo-depth: monocular depth maps over HTTP (the original's
 * API, ORIGINAL-SERVICES.md §3), with the device work done by
 * hailo-device-manager.
 *
 * Start-up (as hailo-clip): signals blocked, config (file, then flags), the
 * image-URL fetcher (libcurl starts on the first remote fetch), the memory
 * budget (which, with the image library's decode gate, bounds memory), the manager client, the
 * model registration thread, the HTTP server, READY=1; then wait for SIGTERM/SIGINT, STOPPING=1,
 * drain in-flight requests, exit 0.  The service serves (and /health/ready answers 503) while the
 * manager is still coming up.  The original refused to start without its HEF; we start and report
 * the manager's answer ("Model file not found: ...") in /health until the file is there, and
 * --check-config says whether it is.
 *
 * `--preprocess IMAGE` writes to stdout the uint8 [H, W, 3] tensor
 * hailo-depth would send to the device for that image file (with the
 * config only: no manager), for comparing with the original's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "depth/depth.h"
#include "svc/svc_main.h"

/* Large buffers (decoded images, maps, replies) come from mmap and go back
 * to the system when freed, so RSS follows what requests hold. */
#define MMAP_THRESHOLD (256 * 1024)

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: hailo-depth [--config FILE] [--host HOST] [--port N] [--log-level LEVEL]\n"
        "                   [--check-config] [--version] [--help]\n"
        "       hailo-depth --preprocess IMAGE [--config FILE]\n"
        "\n"
        "  -c, --config FILE     YAML config (default $HAILO_DEPTH_CONFIG, else %s;\n"
        "                        a missing default file means the built-in defaults)\n"
        "  -H, --host HOST       bind address (overrides server.host)\n"
        "  -p, --port N          port (overrides server.port; 0 picks a free one)\n"
        "  -l, --log-level L     error, warn, info (default) or debug\n"
        "  -C, --check-config    check the config and that the model file exists, then exit\n"
        "  --preprocess IMAGE    write the uint8 HxWx3 RGB tensor sent to the device for\n"
        "                        IMAGE to stdout, then exit\n"
        "  -V, --version         print the version\n"
        "\n"
        "Environment: HAILO_DEVICE_SOCKET (manager socket), HAILO_DEPTH_TOKEN (bearer token).\n",
        DEPTH_DEFAULT_CONFIG);
}

/* --preprocess: the input tensor to stdout.  Exit code 0 or 1. */
static int preprocess(const depth_config *cfg, const char *path)
{
    hdm_err err = {0};
    size_t max = depth_config_max_bytes(cfg);
    size_t n = (size_t)cfg->input_height * (size_t)cfg->input_width * 3;
    uint8_t *pixels = malloc(n), *data = malloc(max + 1);
    FILE *f = fopen(path, "rb");
    size_t len = 0;
    int w, h, r;
    if (!pixels || !data)
        r = hdm_err_set(&err, HDM_E_NOMEM, "out of memory");
    else if (!f)
        r = hdm_err_set(&err, HDM_E_NOT_FOUND, "cannot open: %s", strerror(errno));
    else if ((len = fread(data, 1, max + 1, f)) > max || ferror(f))
        r = hdm_err_set(&err, HDM_E_TOO_LARGE, "unreadable, or larger than input.max_image_mb");
    else
        r = depth_preprocess(cfg, data, len, pixels, &w, &h, &err);
    if (r >= 0 && (fwrite(pixels, 1, n, stdout) != n || fflush(stdout) != 0))
        r = hdm_err_set(&err, HDM_E_INTERNAL, "cannot write the tensor to stdout");
    if (r < 0)
        log_error("%s: %s", path, err.msg);
    if (f)
        fclose(f);
    free(data);
    free(pixels);
    return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    svc_args args;
    const char *preprocess_path = NULL;
    int nargs = 0;
    for (int i = 0; i < argc; i++) { /* --preprocess is ours; taken out of argv in place */
        if (i > 0 && strcmp(argv[i], "--preprocess") == 0 && i + 1 < argc)
            preprocess_path = argv[++i];
        else if (i > 0 && strncmp(argv[i], "--preprocess=", 13) == 0)
            preprocess_path = argv[i] + 13;
        else
            argv[nargs++] = argv[i];
    }
    argv[nargs] = NULL;
    int c = svc_parse_args(nargs, argv, DEPTH_SERVICE_NAME, "HAILO_DEPTH_CONFIG",
                           DEPTH_DEFAULT_CONFIG, usage, &args);
    if (c >= 0)
        return c;
    const char *config_path = args.config_path;

    http_block_signals();
    svc_tune_malloc(MMAP_THRESHOLD);
    depth_config cfg;
    hdm_err err = {0};
    if (depth_config_defaults(&cfg) < 0)
        fatal("out of memory");
    if (depth_config_load(&cfg, config_path, !args.explicit_config, &err) < 0) {
        log_error("%s", err.msg);
        depth_config_free(&cfg);
        return 1;
    }
    if (svc_apply_flags(depth_config_keys, &cfg, &args, &err) < 0) {
        depth_config_free(&cfg);
        return 2;
    }
    if (depth_config_check(&cfg, &err) < 0) {
        log_error("%s: %s", config_path, err.msg);
        depth_config_free(&cfg);
        return 1;
    }
    if (preprocess_path) {
        c = preprocess(&cfg, preprocess_path);
        depth_config_free(&cfg);
        return c;
    }

    depth_app app = {.cfg = &cfg, .started_at = mono_s()};
    http_server *srv = NULL;
    int rc = 1, r;
    if (!(app.hef_path = depth_config_hef_path(&cfg)))
        fatal("out of memory");
    if (args.check_only) {
        /* The manager opens the HEF; here we only say whether it exists. */
        struct stat st;
        if (stat(app.hef_path, &st) != 0 || !S_ISREG(st.st_mode)) {
            log_error("%s: Model HEF not found at %s", config_path, app.hef_path);
            goto out;
        }
        printf("%s: OK\n", config_path);
        rc = 0;
        goto out;
    }

    const svc_fetch_opts fo = {
        .allowed_dirs = &cfg.allowed_dirs,
        .allow_remote = cfg.allow_image_url,
        .allowed_networks = &cfg.remote_allowed_networks,
        .max_bytes = depth_config_max_bytes(&cfg),
        .timeout_ms = cfg.fetch_timeout_ms,
        .dirs_key = "input.allowed_dirs",
        .remote_key = "input.allow_image_url",
        .networks_key = "input.remote_allowed_networks",
        .user_agent = "hailo-depth/" HDM_VERSION,
    };
    if (svc_fetch_init(&app.fetch, &fo, &err) < 0) {
        log_error("%s: %s", config_path, err.msg);
        goto out;
    }
    if (cfg.allow_local_paths && cfg.allowed_dirs.n == 0)
        log_warn("input.allow_local_paths is on but input.allowed_dirs is empty: file:// "
                 "image URLs are refused");
    if (depth_budget_new((size_t)cfg.memory_budget_mb << 20, &app.budget) < 0)
        fatal("out of memory");

    /* $HAILO_DEVICE_SOCKET wins over manager.socket (the library reads it). */
    const char *env_socket = getenv("HAILO_DEVICE_SOCKET");
    hdm_client_options copts = {
        .socket_path = env_socket && *env_socket ? NULL : cfg.manager_socket,
        .client_name = DEPTH_SERVICE_NAME,
        .connect_timeout_ms = 2000,
        .request_timeout_ms = cfg.request_timeout_s * 1000,
    };
    if ((r = hdm_client_new(&copts, &app.client)) < 0) {
        log_error("cannot create the manager client: %s", hdm_strerror(r));
        goto out;
    }

    http_config hc;
    char emsg[256] = "";
    http_config_defaults(&hc);
    hc.host = cfg.host;
    hc.port = cfg.port;
    hc.threads = cfg.threads;
    hc.max_body_bytes = depth_config_max_bytes(&cfg);
    hc.bearer_token = cfg.bearer_token;
    hc.service_name = DEPTH_SERVICE_NAME;
    hc.json_style = HTTP_JSON_PYTHON;
    hc.connection_timeout_s = cfg.request_timeout_s + 30;
    /* The model thread first: the handlers ask it whether we are ready. */
    if ((r = depth_model_start(&app)) < 0) {
        log_error("cannot start the model thread: %s", hdm_strerror(r));
        goto out;
    }
    if (http_server_start(&hc, depth_routes, &app, &srv, emsg, sizeof(emsg)) < 0) {
        log_error("cannot serve on %s:%d: %s", cfg.host, cfg.port, emsg);
        goto out;
    }
    http_server_set_error_reply(srv, depth_layer_error);
    log_info("hailo-depth %s serving %s (%s) on %s:%d, model %s (manager %s)", HDM_VERSION,
             cfg.model_name, cfg.model_type, cfg.host, http_server_port(srv), app.hef_path,
             env_socket && *env_socket ? env_socket
             : cfg.manager_socket      ? cfg.manager_socket
                                       : "/run/hailo/device.sock");
    svc_serve_until_signal();
    rc = 0;
out:
    /* The server first: handlers use the model, the budget and the fetcher. */
    http_server_stop(srv);
    svc_keeper_free(app.model);
    hdm_client_free(app.client);
    depth_budget_free(app.budget);
    svc_fetch_free(&app.fetch);
    free(app.hef_path);
    depth_config_free(&cfg);
    return rc;
}
