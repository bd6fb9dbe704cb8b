/*
 * main.c - hailo-llm: chat with the LLMs of a model directory through the
 * Ollama and OpenAI APIs, the device work done by hailo-device-manager.
 *
 * Start-up as hailo-clip: signals blocked, config (file, then flags), the
 * manager client, the keeper thread (it only watches that the manager
 * answers: models load on demand, as Ollama's do), the HTTP server,
 * READY=1; then wait for SIGTERM/SIGINT, STOPPING=1, drain in-flight
 * requests, exit 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "http/http.h"
#include "llm/llm.h"
#include "svc/svc_main.h"

#define DEFAULT_CONFIG "/etc/hailo/hailo-llm.yaml"
#define PING_TIMEOUT_MS 2000

static void usage(FILE *f)
{
    fprintf(f, "usage: hailo-llm [--config FILE] [--host HOST] [--port PORT]\n"
               "                 [--log-level error|warn|info|debug] [--check-config]\n"
               "                 [--version] [--help]\n"
               "\n"
               "Chat with the LLMs (HEF files) of a model directory through the Ollama API\n"
               "(/api/chat, /api/generate, ...) and the OpenAI API (/v1/chat/completions),\n"
               "run on the Hailo NPU through hailo-device-manager.\n"
               "\n"
               "  --config FILE   YAML config (default $HAILO_LLM_CONFIG or " DEFAULT_CONFIG ")\n"
               "  --host HOST     bind address (overrides server.host)\n"
               "  --port PORT     TCP port (overrides server.port)\n"
               "  --check-config  check the config and exit (errors as file:line: message)\n"
               "\n"
               "Environment: HAILO_DEVICE_SOCKET (manager socket), HAILO_LLM_TOKEN (bearer\n"
               "token), HAILO_LLM_CONFIG.\n");
}

/* svc_keeper_ops.load: nothing stays loaded between requests on our
 * behalf, so readiness is "the manager answers". */
static int ping(void *user, hdm_client *client, hdm_response **resp, bool *timed)
{
    (void)user;
    (void)resp;
    *timed = false;
    return hdm_ping(client, PING_TIMEOUT_MS);
}

int main(int argc, char **argv)
{
    svc_args args;
    int r =
        svc_parse_args(argc, argv, "hailo-llm", "HAILO_LLM_CONFIG", DEFAULT_CONFIG, usage, &args);
    if (r >= 0)
        return r;
    /* Request bodies (whole conversations) are big and short-lived. */
    svc_tune_malloc(128 * 1024);
    http_block_signals();
    llm_config cfg;
    hdm_err err = {0};
    if (llm_config_defaults(&cfg) < 0)
        fatal("out of memory");
    if (llm_config_load(&cfg, args.config_path, !args.explicit_config, &err) < 0) {
        log_error("%s", err.msg);
        llm_config_free(&cfg);
        return 1;
    }
    if (svc_apply_flags(llm_config_keys, &cfg, &args, &err) < 0) {
        llm_config_free(&cfg);
        return 2;
    }
    if (args.check_only) {
        printf("%s: OK\n", args.config_path);
        llm_config_free(&cfg);
        return 0;
    }

    llm_app app = {.cfg = &cfg, .started_at = mono_s(), .started_wall = (long)wall_s()};
    http_server *srv = NULL;
    int rc = 1;
    const char *sock = getenv("HAILO_DEVICE_SOCKET");
    if (!sock || !*sock)
        sock = cfg.socket_path && *cfg.socket_path ? cfg.socket_path : "/run/hailo/device.sock";
    hdm_client_options copts = {
        .socket_path = sock,
        .client_name = "hailo-llm",
        .connect_timeout_ms = 2000,
        .request_timeout_ms = cfg.timeout_s * 1000,
    };
    if ((r = hdm_client_new(&copts, &app.client)) < 0) {
        log_error("cannot create the manager client: %s", hdm_strerror(r));
        goto out;
    }
    const svc_keeper_ops ops = {
        .model_name = "(models on demand)",
        .ready_log = "ready: the device manager answers",
        .log_each_reason = true,
        .status_action = "device_status",
        .ping_before_recheck = true,
        .load = ping,
    };
    if ((r = svc_keeper_start(&ops, app.client, &app.keeper)) < 0) {
        log_error("cannot start the manager watch: %s", hdm_strerror(r));
        goto out;
    }

    http_config hc;
    http_route routes[LLM_MAX_ROUTES];
    char emsg[256] = "";
    http_config_defaults(&hc);
    hc.host = cfg.host;
    hc.port = cfg.port;
    hc.threads = cfg.threads;
    hc.max_body_bytes = (size_t)cfg.max_body_bytes;
    hc.bearer_token = cfg.bearer_token;
    hc.service_name = "hailo-llm";
    /* A generation can take minutes; idle keep-alive connections still time out. */
    hc.connection_timeout_s = cfg.timeout_s + 30;
    llm_routes_build(routes);
    if (http_server_start(&hc, routes, &app, &srv, emsg, sizeof(emsg)) < 0) {
        log_error("cannot serve on %s:%d: %s", cfg.host, cfg.port, emsg);
        goto out;
    }
    /* Ollama's error shape {"error": "..."} is the layer's default; /v1 speaks OpenAI's. */
    http_server_set_error_body_for(srv, "/v1/", completion_layer_error);
    log_info("hailo-llm %s serving the models of %s on %s:%d (manager %s)", HDM_VERSION,
             cfg.models_dir, cfg.host, http_server_port(srv), sock);
    svc_serve_until_signal();
    rc = 0;
out:
    http_server_stop(srv);
    svc_keeper_free(app.keeper);
    hdm_client_free(app.client);
    llm_config_free(&cfg);
    return rc;
}
