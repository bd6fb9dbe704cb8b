/*
 * config.c - hailo-clip's YAML keys (SERVICES.md, plus the resource paths)
 * mapped onto clip_config.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clip/clip.h"
#include "common/log.h"
#include "svc/svc_config.h"

#define OFF(field) offsetof(clip_config, field)

const conf_key clip_config_keys[] = {
    {"server.host", CONF_STRING, OFF(host), 0, 0},
    {"server.port", CONF_INT, OFF(port), 0, 65535},
    {"server.max_body_bytes", CONF_INT, OFF(max_body_bytes), 1024, INT_MAX},
    {"server.bearer_token", CONF_STRING, OFF(bearer_token), 0, 0},
    {"manager.socket", CONF_STRING, OFF(manager_socket), 0, 0},
    {"clip.model", CONF_STRING, OFF(model_name), 0, 0},
    {"clip.embedding_dimension", CONF_INT, OFF(embedding_dimension), 1, 65536},
    {"clip.image_size", CONF_INT, OFF(image_size), 16, 4096},
    {"clip.resize_mode", CONF_STRING, OFF(resize_mode), 0, 0},
    {"clip.fast_jpeg_decode", CONF_BOOL, OFF(fast_jpeg_decode), 0, 0},
    {"images.max_pixels", CONF_INT, OFF(image_max_pixels), 1, INT_MAX},
    {"images.max_decode_ms", CONF_INT, OFF(image_max_decode_ms), 1, 600000},
    {"clip.device_timeout_ms", CONF_INT, OFF(device_timeout_ms), 1, 3600000},
    {"clip.apply_softmax", CONF_BOOL, OFF(apply_softmax), 0, 0},
    {"clip.logit_scale", CONF_DOUBLE, OFF(logit_scale), 0, 10000},
    {"clip.image_hef_path", CONF_STRING, OFF(image_hef_path), 0, 0},
    {"clip.text_hef_path", CONF_STRING, OFF(text_hef_path), 0, 0},
    {"clip.text_input_layer", CONF_STRING, OFF(text_input_layer), 0, 0},
    {"clip.text_output_layer", CONF_STRING, OFF(text_output_layer), 0, 0},
    {"clip.tokenizer_path", CONF_STRING, OFF(tokenizer_path), 0, 0},
    {"clip.token_embedding_path", CONF_STRING, OFF(token_embedding_path), 0, 0},
    {"clip.text_projection_path", CONF_STRING, OFF(text_projection_path), 0, 0},
    {"text_embedding.cache_enabled", CONF_BOOL, OFF(cache_enabled), 0, 0},
    {"text_embedding.cache_max_entries", CONF_INT, OFF(cache_max_entries), 1, 10000000},
    {"performance.worker_threads", CONF_INT, OFF(worker_threads), 1, 256},
    {"performance.max_queue_size", CONF_INT, OFF(max_queue_size), 1, 1000000},
    {"performance.request_timeout", CONF_INT, OFF(request_timeout_s), 1, 86400},
    {"performance.warmup_enabled", CONF_BOOL, OFF(warmup_enabled), 0, 0},
    {NULL, 0, 0, 0, 0},
};

#define HAILO_RESOURCES "/usr/local/hailo/resources"

int clip_config_defaults(clip_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->port = 5000;
    cfg->max_body_bytes = 16 * 1024 * 1024;
    cfg->embedding_dimension = 512;
    cfg->image_size = 224;
    cfg->fast_jpeg_decode = true;
    /* CLIP sees 224 x 224: 24 Mpixel takes any camera's photo up to
     * 6000 x 4000 and bounds one decode to 72 MB of pixels. */
    cfg->image_max_pixels = 24 * 1000 * 1000;
    cfg->image_max_decode_ms = 5000;
    cfg->device_timeout_ms = 1000;
    cfg->apply_softmax = true;
    cfg->logit_scale = 100.0;
    cfg->cache_enabled = true;
    cfg->cache_max_entries = 1000;
    cfg->worker_threads = 4;
    cfg->max_queue_size = 64;
    cfg->request_timeout_s = 30;
    cfg->warmup_enabled = true;
    if (svc_conf_set_str(&cfg->host, "0.0.0.0") ||
        svc_conf_set_str(&cfg->resize_mode, "squash") ||
        svc_conf_set_str(&cfg->model_name, "clip-vit-b-32") ||
        svc_conf_set_str(&cfg->image_hef_path,
                         HAILO_RESOURCES "/models/hailo10h/clip_vit_b_32_image_encoder.hef") ||
        svc_conf_set_str(&cfg->text_hef_path,
                         HAILO_RESOURCES "/models/hailo10h/clip_vit_b_32_text_encoder.hef") ||
        svc_conf_set_str(&cfg->text_input_layer, "clip_vit_b_32_text_encoder/input_layer1") ||
        svc_conf_set_str(&cfg->text_output_layer, "clip_vit_b_32_text_encoder/normalization25") ||
        svc_conf_set_str(&cfg->tokenizer_path, HAILO_RESOURCES "/clip/tokenizer.json") ||
        svc_conf_set_str(&cfg->token_embedding_path,
                         HAILO_RESOURCES "/clip/token_embedding_lut.npy") ||
        svc_conf_set_str(&cfg->text_projection_path,
                         HAILO_RESOURCES "/clip/text_projection.npy")) {
        clip_config_free(cfg);
        return -HDM_E_NOMEM;
    }
    return 0;
}

int clip_config_check(const clip_config *cfg, hdm_err *err)
{
    static const struct {
        const char *key;
        size_t offset;
    } required[] = {
        {"server.host", OFF(host)},
        {"clip.model", OFF(model_name)},
        {"clip.image_hef_path", OFF(image_hef_path)},
        {"clip.text_hef_path", OFF(text_hef_path)},
        {"clip.text_input_layer", OFF(text_input_layer)},
        {"clip.text_output_layer", OFF(text_output_layer)},
        {"clip.tokenizer_path", OFF(tokenizer_path)},
        {"clip.token_embedding_path", OFF(token_embedding_path)},
        {"clip.text_projection_path", OFF(text_projection_path)},
    };
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        const char *v = *(char *const *)((const char *)cfg + required[i].offset);
        if (!v || !*v)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must not be empty", required[i].key);
    }
    if (!cfg->resize_mode || (strcmp(cfg->resize_mode, "squash") != 0 &&
                              strcmp(cfg->resize_mode, "center_crop") != 0))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "clip.resize_mode must be squash or center_crop, not \"%.40s\"",
                           cfg->resize_mode ? cfg->resize_mode : "");
    return 0;
}

/*
 * The original Python service finds CLIP's text files where hailo-apps puts
 * them (resources/json and resources/npy) and its config has no keys for
 * them: a path left at our default that does not exist falls back to the
 * original's file when that one does, so an upgraded install keeps working.
 */
static int original_text_files(clip_config *cfg, hdm_err *err)
{
    static const struct {
        size_t offset;
        const char *ours, *original;
    } files[] = {
        {OFF(tokenizer_path), HAILO_RESOURCES "/clip/tokenizer.json",
         HAILO_RESOURCES "/json/clip_tokenizer.json"},
        {OFF(token_embedding_path), HAILO_RESOURCES "/clip/token_embedding_lut.npy",
         HAILO_RESOURCES "/npy/token_embedding_lut.npy"},
        {OFF(text_projection_path), HAILO_RESOURCES "/clip/text_projection.npy",
         HAILO_RESOURCES "/npy/text_projection.npy"},
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char **v = (char **)((char *)cfg + files[i].offset);
        if (!*v || strcmp(*v, files[i].ours) != 0 || access(files[i].ours, F_OK) == 0 ||
            access(files[i].original, F_OK) != 0)
            continue;
        log_info("%s is missing: using the original service's %s", files[i].ours,
                 files[i].original);
        if (svc_conf_set_str(v, files[i].original) < 0)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    return 0;
}

int clip_config_load(clip_config *cfg, const char *path, bool missing_ok, hdm_err *err)
{
    int r = conf_load_file(path, clip_config_keys, cfg, svc_conf_warn_unknown, NULL, err);
    if (r == -HDM_E_NOT_FOUND && missing_ok) {
        log_info("no config file %s: using the defaults", path);
        hdm_err_clear(err);
        r = 0;
    }
    if (r < 0 || (r = original_text_files(cfg, err)) < 0)
        return r;
    return svc_conf_env_str(&cfg->bearer_token, "HAILO_CLIP_TOKEN", err);
}

void clip_config_free(clip_config *cfg)
{
    conf_free(clip_config_keys, cfg);
}
