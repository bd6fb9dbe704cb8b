/*
 * config.c - hailo-depth's YAML keys onto depth_config: every key of the
 * original's config.yaml (ORIGINAL-SERVICES.md §3.2, the ones it never
 * read included, so an existing file loads), plus ours.
 *
 * The original read /etc/hailo/hailo-depth.yaml through a JSON rendering
 * and used its built-in defaults when the file was missing; so do we
 * (without the rendering).  Its render step refused a file whose
 * output.format was not numpy, image, both or depth_png_16: so does
 * depth_config_check.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "depth/depth.h"
#include "svc/svc_config.h"

#define OFF(field) offsetof(depth_config, field)

const conf_key depth_config_keys[] = {
    /* The original's. */
    {"server.host", CONF_STRING, OFF(host), 0, 0},
    {"server.port", CONF_INT, OFF(port), 0, 65535},
    {"model.name", CONF_STRING, OFF(model_name), 0, 0},
    {"model.type", CONF_STRING, OFF(model_type), 0, 0},
    {"model.keep_alive", CONF_DOUBLE, OFF(keep_alive), -1, 1e9},
    {"output.format", CONF_STRING, OFF(output_format), 0, 0},
    {"output.colormap", CONF_STRING, OFF(colormap), 0, 0},
    {"output.normalize", CONF_BOOL, OFF(normalize), 0, 0},
    {"output.include_stats", CONF_BOOL, OFF(include_stats), 0, 0},
    {"output.depth_png_16", CONF_BOOL, OFF(depth_png_16), 0, 0},
    {"input.allow_local_paths", CONF_BOOL, OFF(allow_local_paths), 0, 0},
    {"input.allow_image_url", CONF_BOOL, OFF(allow_image_url), 0, 0},
    {"input.max_image_mb", CONF_DOUBLE, OFF(max_image_mb), 0.001, 2047},
    {"resources.model_dir", CONF_STRING, OFF(model_dir), 0, 0},
    {"resources.postprocess_dir", CONF_STRING, OFF(postprocess_dir), 0, 0},
    {"resource_limits.memory_max", CONF_STRING, OFF(memory_max), 0, 0},
    {"resource_limits.cpu_quota", CONF_STRING, OFF(cpu_quota), 0, 0},
    /* Ours. */
    {"server.bearer_token", CONF_STRING, OFF(bearer_token), 0, 0},
    {"server.threads", CONF_INT, OFF(threads), 1, 64},
    {"manager.socket", CONF_STRING, OFF(manager_socket), 0, 0},
    {"model.hef_path", CONF_STRING, OFF(hef_path), 0, 0},
    {"model.input_height", CONF_INT, OFF(input_height), 8, 4096},
    {"model.input_width", CONF_INT, OFF(input_width), 8, 4096},
    {"output.transform", CONF_STRING, OFF(transform), 0, 0},
    {"output.png_level", CONF_INT, OFF(png_level), 0, 9},
    {"output.npz_level", CONF_INT, OFF(npz_level), -1, 9},
    {"images.max_pixels", CONF_INT, OFF(image_max_pixels), 1, INT_MAX},
    {"images.max_decode_ms", CONF_INT, OFF(image_max_decode_ms), 1, 600000},
    {"input.allowed_dirs", CONF_STRLIST, OFF(allowed_dirs), 0, 0},
    {"input.remote_allowed_networks", CONF_STRLIST, OFF(remote_allowed_networks), 0, 0},
    {"input.fetch_timeout_ms", CONF_INT, OFF(fetch_timeout_ms), 1, 600000},
    {"performance.memory_budget_mb", CONF_INT, OFF(memory_budget_mb), 1, 65536},
    {"performance.request_timeout", CONF_INT, OFF(request_timeout_s), 1, 86400},
    {NULL, 0, 0, 0, 0},
};

int depth_config_defaults(depth_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->port = 11439;
    cfg->keep_alive = -1;
    cfg->normalize = true;
    cfg->include_stats = true;
    cfg->depth_png_16 = false;
    cfg->allow_local_paths = false;
    cfg->allow_image_url = true;
    cfg->max_image_mb = 50;
    cfg->threads = 4;
    cfg->input_height = 256;
    cfg->input_width = 320;
    /* docs/DEPTH.md, "Output compression": PNG level 1 costs a few percent
     * of size for a several times faster encoding; the .npz is stored, as
     * np.savez writes it: Huffman coding (DEPTHPOST_NPZ_FAST) saves a fifth
     * of its bytes but costs ~110 ms per 1920x1080 map on the machine of
     * the benchmarks, half of a request.  numpy.load and PIL read all alike. */
    cfg->png_level = 1;
    cfg->npz_level = DEPTHPOST_NPZ_STORED;
    /* A depth model sees 320 x 256: 24 Mpixel takes any camera's photo up
     * to 6000 x 4000. */
    cfg->image_max_pixels = 24 * 1000 * 1000;
    cfg->image_max_decode_ms = 5000;
    cfg->fetch_timeout_ms = 10000;
    /* One 1920 x 1080 request at a time with output_format both (map and
     * reply, ~20 MB) keeps the service under 40 MB; smaller ones share it. */
    cfg->memory_budget_mb = 24;
    cfg->request_timeout_s = 30;
    if (svc_conf_set_str(&cfg->host, "127.0.0.1") ||
        svc_conf_set_str(&cfg->model_name, "scdepthv3") ||
        svc_conf_set_str(&cfg->model_type, "monocular") ||
        svc_conf_set_str(&cfg->output_format, "both") ||
        svc_conf_set_str(&cfg->colormap, "viridis") ||
        svc_conf_set_str(&cfg->model_dir, "/var/lib/hailo-depth/resources/models") ||
        svc_conf_set_str(&cfg->postprocess_dir, "/var/lib/hailo-depth/resources/postprocess") ||
        svc_conf_set_str(&cfg->memory_max, "3G") || svc_conf_set_str(&cfg->cpu_quota, "80%") ||
        svc_conf_set_str(&cfg->hef_path, "") || svc_conf_set_str(&cfg->transform, "none")) {
        depth_config_free(cfg);
        return -HDM_E_NOMEM;
    }
    return 0;
}

depth_format depth_format_parse(const char *s)
{
    if (s == NULL)
        return DEPTH_OUT_NONE;
    if (strcmp(s, "numpy") == 0)
        return DEPTH_OUT_NUMPY;
    if (strcmp(s, "image") == 0)
        return DEPTH_OUT_IMAGE;
    if (strcmp(s, "both") == 0)
        return DEPTH_OUT_BOTH;
    if (strcmp(s, "depth_png_16") == 0 || strcmp(s, "png16") == 0)
        return DEPTH_OUT_PNG16;
    return DEPTH_OUT_NONE;
}

bool depth_format_has_image(depth_format f)
{
    return f == DEPTH_OUT_IMAGE || f == DEPTH_OUT_BOTH;
}

int depth_config_check(const depth_config *cfg, hdm_err *err)
{
    static const struct {
        const char *key;
        size_t offset;
    } required[] = {
        {"server.host", OFF(host)},
        {"model.name", OFF(model_name)},
        {"model.type", OFF(model_type)},
        {"resources.model_dir", OFF(model_dir)},
    };
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        const char *v = *(char *const *)((const char *)cfg + required[i].offset);
        if (!v || !*v)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must not be empty", required[i].key);
    }
    if (strchr(cfg->model_name, '/'))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "model.name must be a file name without '/' (got \"%.60s\")",
                           cfg->model_name);
    if (depth_format_parse(cfg->output_format) == DEPTH_OUT_NONE)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "output.format must be one of numpy, image, both, depth_png_16 "
                           "(got \"%.40s\")",
                           cfg->output_format);
    if (!depthpost_colormap_find(cfg->colormap))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "output.colormap must be one of viridis, plasma, magma, turbo, jet "
                           "(got \"%.40s\")",
                           cfg->colormap);
    if (strcmp(cfg->transform, "none") != 0 && strcmp(cfg->transform, "metres") != 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "output.transform must be none (the model's raw output, as the "
                           "original) or metres (got \"%.40s\")",
                           cfg->transform);
    if (cfg->keep_alive < 0 && cfg->keep_alive != -1)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "model.keep_alive must be -1 (pinned), 0 or a number of seconds");
    if (cfg->hef_path[0] && cfg->hef_path[0] != '/')
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "model.hef_path must be an absolute path (or empty: "
                           "resources.model_dir/model.name.hef)");
    if (!cfg->hef_path[0] && cfg->model_dir[0] != '/')
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "resources.model_dir must be an absolute path");
    for (size_t i = 0; i < cfg->allowed_dirs.n; i++)
        if (cfg->allowed_dirs.items[i][0] != '/')
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "input.allowed_dirs[%zu] must be an absolute path: %s", i,
                               cfg->allowed_dirs.items[i]);
    for (size_t i = 0; i < cfg->remote_allowed_networks.n; i++) {
        net_block b;
        int r = netpolicy_parse("input.remote_allowed_networks",
                                cfg->remote_allowed_networks.items[i], &b, err);
        if (r < 0)
            return r;
    }
    return 0;
}

int depth_config_load(depth_config *cfg, const char *path, bool missing_ok, hdm_err *err)
{
    int r = conf_load_file(path, depth_config_keys, cfg, svc_conf_warn_unknown, NULL, err);
    if (r == -HDM_E_NOT_FOUND && missing_ok) {
        log_warn("config not found at %s, using defaults", path);
        hdm_err_clear(err);
        r = 0;
    }
    if (r < 0)
        return r;
    return svc_conf_env_str(&cfg->bearer_token, "HAILO_DEPTH_TOKEN", err);
}

char *depth_config_hef_path(const depth_config *cfg)
{
    if (cfg->hef_path && cfg->hef_path[0])
        return strdup(cfg->hef_path);
    size_t dl = strlen(cfg->model_dir);
    while (dl > 1 && cfg->model_dir[dl - 1] == '/')
        dl--;
    size_t n = dl + 1 + strlen(cfg->model_name) + sizeof(".hef");
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%.*s/%s.hef", (int)dl, cfg->model_dir, cfg->model_name);
    return p;
}

size_t depth_config_max_bytes(const depth_config *cfg)
{
    return (size_t)(cfg->max_image_mb * 1024.0 * 1024.0);
}

void depth_config_free(depth_config *cfg)
{
    if (cfg)
        conf_free(depth_config_keys, cfg);
}
