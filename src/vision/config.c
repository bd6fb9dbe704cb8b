/*
 * config.c - hailo-vision's YAML keys (SERVICES.md) mapped onto vision_config.
 *
 * model.hef_path as the original service read it: an absolute path is used
 * as written; a model name ("Qwen2-VL-2B-Instruct") or nothing at all (the
 * original ships "hef_path: null") names a file <name>.hef in the places
 * hailo-apps keeps models, ours first, then the original service's own
 * resources tree, and the first that exists wins.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "svc/svc_config.h"
#include "vision/vision.h"

#define OFF(field) offsetof(vision_config, field)

const conf_key vision_config_keys[] = {
    {"server.host", CONF_STRING, OFF(host), 0, 0},
    {"server.port", CONF_INT, OFF(port), 0, 65535},
    {"server.threads", CONF_INT, OFF(threads), 1, 64},
    {"server.max_body_bytes", CONF_INT, OFF(max_body_bytes), 1024, INT_MAX},
    {"server.bearer_token", CONF_STRING, OFF(bearer_token), 0, 0},
    {"manager.socket", CONF_STRING, OFF(socket_path), 0, 0},
    {"model.name", CONF_STRING, OFF(model_name), 0, 0},
    {"model.hef_path", CONF_STRING, OFF(hef_path), 0, 0},
    {"model.keep_alive", CONF_DOUBLE, OFF(keep_alive), -1, 1e9},
    {"generation.temperature", CONF_DOUBLE, OFF(temperature), 0, 2},
    {"generation.max_tokens", CONF_INT, OFF(max_tokens), 1, 1000000},
    {"generation.top_p", CONF_DOUBLE, OFF(top_p), 0, 1},
    {"generation.seed", CONF_INT, OFF(seed), -1, INT_MAX},
    {"generation.system_prompt", CONF_STRING, OFF(system_prompt), 0, 0},
    {"generation.timeout_s", CONF_INT, OFF(timeout_s), 1, 86400},
    {"images.allowed_dirs", CONF_STRLIST, OFF(allowed_dirs), 0, 0},
    {"images.allow_remote", CONF_BOOL, OFF(allow_remote), 0, 0},
    {"images.max_bytes", CONF_INT, OFF(image_max_bytes), 1, INT_MAX},
    {"images.max_pixels", CONF_INT, OFF(image_max_pixels), 1, INT_MAX},
    {"images.fetch_timeout_ms", CONF_INT, OFF(fetch_timeout_ms), 1, 600000},
    {"images.remote_allowed_networks", CONF_STRLIST, OFF(remote_allowed_networks), 0, 0},
    {"images.max_per_request", CONF_INT, OFF(max_images), 1, VISION_MAX_IMAGES},
    {NULL, 0, 0, 0, 0},
};

int vision_config_defaults(vision_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->port = 11435;
    cfg->threads = 4;
    cfg->max_body_bytes = 32 * 1024 * 1024;
    cfg->keep_alive = -1;
    cfg->temperature = 0.7;
    cfg->max_tokens = 200;
    cfg->top_p = 0.9;
    cfg->seed = -1;
    cfg->timeout_s = 300;
    cfg->allow_remote = false;
    cfg->image_max_bytes = 20 * 1024 * 1024;
    cfg->image_max_pixels = 50 * 1000 * 1000;
    cfg->fetch_timeout_ms = 10000;
    cfg->max_images = 8;
    if (svc_conf_set_str(&cfg->host, "0.0.0.0") ||
        svc_conf_set_str(&cfg->model_name, "qwen2-vl-2b-instruct") ||
        svc_conf_set_str(&cfg->system_prompt, "You are a helpful assistant.")) {
        vision_config_free(cfg);
        return -HDM_E_NOMEM;
    }
    return 0;
}

int vision_config_load(vision_config *cfg, const char *path, bool missing_ok, hdm_err *err)
{
    int r = conf_load_file(path, vision_config_keys, cfg, svc_conf_warn_unknown, NULL, err);
    if (r == -HDM_E_NOT_FOUND && missing_ok)
        log_warn("%s not found; using the built-in defaults", path);
    else if (r < 0)
        return r;
    if ((r = svc_conf_env_str(&cfg->bearer_token, "HAILO_VISION_TOKEN", err)) < 0)
        return r;
    if ((r = vision_config_resolve_hef(cfg, NULL, err)) < 0)
        return r;
    return vision_config_check(cfg, err);
}

const char *const vision_model_roots[] = {
    "/usr/local/hailo/resources/models/hailo10h",
    "/var/lib/hailo-vision/resources/models/hailo10h",
    NULL,
};

int vision_config_resolve_hef(vision_config *cfg, const char *const *roots, hdm_err *err)
{
    bool named = cfg->hef_path && *cfg->hef_path;
    const char *name = named ? cfg->hef_path : VISION_DEFAULT_HEF_NAME;
    if (name[0] == '/')
        return 0;
    if (strchr(name, '/'))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "model.hef_path must be an absolute path or a model name, not \"%.200s\"",
                           name);
    if (!roots)
        roots = vision_model_roots;
    size_t n = strlen(name);
    const char *ext = n > 4 && strcmp(name + n - 4, ".hef") == 0 ? "" : ".hef";
    char *first = NULL, *found = NULL;
    for (size_t i = 0; roots[i] && !found; i++) {
        char *path = NULL;
        struct stat st;
        if (asprintf(&path, "%s/%s%s", roots[i], name, ext) < 0) {
            free(first);
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        }
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            found = path;
        else if (!first)
            first = path;
        else
            free(path);
    }
    if (!found && !first)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model.hef_path: no model directories to search");
    if (found) {
        log_info("model.hef_path %s%s%s: using %s", named ? "\"" : "not set (model ", name,
                 named ? "\"" : ")", found);
        free(first);
    } else {
        /* Nothing there yet: the manager's answer will name the file it wanted. */
        log_warn("model.hef_path: no %s%s in %s%s: trying %s", name, ext, roots[0],
                 roots[1] ? " or the other model directories" : "", first);
        found = first;
    }
    free(cfg->hef_path);
    cfg->hef_path = found;
    return 0;
}

int vision_config_check(const vision_config *cfg, hdm_err *err)
{
    if (!cfg->host || !*cfg->host)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "server.host must not be empty");
    if (!cfg->model_name || !*cfg->model_name)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model.name must not be empty");
    if (!cfg->hef_path || cfg->hef_path[0] != '/')
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "model.hef_path must be an absolute path (or a model name)");
    if (cfg->keep_alive < 0 && cfg->keep_alive != -1)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "model.keep_alive must be -1 (pinned), 0 or a number of seconds");
    if (!cfg->system_prompt)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "generation.system_prompt must be set");
    for (size_t i = 0; i < cfg->remote_allowed_networks.n; i++) {
        net_block b;
        int r = netpolicy_parse("images.remote_allowed_networks",
                                cfg->remote_allowed_networks.items[i], &b, err);
        if (r < 0)
            return r;
    }
    for (size_t i = 0; i < cfg->allowed_dirs.n; i++)
        if (cfg->allowed_dirs.items[i][0] != '/')
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "images.allowed_dirs[%zu] must be an absolute path: %s", i,
                               cfg->allowed_dirs.items[i]);
    return 0;
}

void vision_config_free(vision_config *cfg)
{
    if (!cfg)
        return;
    conf_free(vision_config_keys, cfg);
}
