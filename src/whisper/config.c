/*
 * config.c - hailo-whisper's YAML keys: every key of the original's
 * config.yaml (ORIGINAL-SERVICES.md §5.2; those it never read still load
 * and stay unused), plus ours (docs/WHISPER.md has the table).
 *
 * transcription.language: the original turned null, "" and "null" into
 * "auto" and passed that to the model; a YAML null leaves a key at its
 * default here, so the default itself is "none" (NULL) and every spelling
 * of "no language" means the same: the model detects the language.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "svc/svc_config.h"
#include "whisper/whisper.h"

#define OFF(field) offsetof(whisper_config, field)

const conf_key whisper_config_keys[] = {
    {"server.host", CONF_STRING, OFF(host), 0, 0},
    {"server.port", CONF_INT, OFF(port), 0, 65535},
    {"server.threads", CONF_INT, OFF(threads), 2, 64},
    {"server.bearer_token", CONF_STRING, OFF(bearer_token), 0, 0},
    {"manager.socket", CONF_STRING, OFF(manager_socket), 0, 0},
    {"manager.request_timeout_s", CONF_INT, OFF(request_timeout_s), 1, 86400},
    {"model.name", CONF_STRING, OFF(model_name), 0, 0},
    {"model.variant", CONF_STRING, OFF(model_variant), 0, 0},
    {"model.keep_alive", CONF_DOUBLE, OFF(keep_alive), -1, 1e9},
    {"model.hef_path", CONF_STRING, OFF(hef_path), 0, 0},
    {"transcription.language", CONF_STRING, OFF(language), 0, 0},
    {"transcription.temperature", CONF_DOUBLE, OFF(temperature), -1e9, 1e9},
    {"transcription.beam_size", CONF_INT, OFF(beam_size), INT_MIN, INT_MAX},
    {"transcription.vad_filter", CONF_BOOL, OFF(vad_filter), 0, 0},
    {"transcription.max_audio_duration_seconds", CONF_DOUBLE, OFF(max_seconds), 1, 86400},
    {"transcription.max_file_bytes", CONF_INT, OFF(max_file_bytes), 1024, INT_MAX - (1 << 21)},
    {"transcription.max_concurrent", CONF_INT, OFF(max_concurrent), 1, 64},
    {"transcription.max_waiting", CONF_INT, OFF(max_waiting), 0, 1024},
    {"audio.max_decode_ms", CONF_INT, OFF(max_decode_ms), 1, 3600000},
    {"storage.cache_dir", CONF_STRING, OFF(cache_dir), 0, 0},
    {"storage.resources_dir", CONF_STRING, OFF(resources_dir), 0, 0},
    {"resource_limits.memory_max", CONF_STRING, OFF(memory_max), 0, 0},
    {"resource_limits.cpu_quota", CONF_STRING, OFF(cpu_quota), 0, 0},
    {NULL, 0, 0, 0, 0},
};

int whisper_config_defaults(whisper_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->port = 11437;
    cfg->threads = 12;
    cfg->request_timeout_s = 300;
    cfg->keep_alive = -1;
    cfg->temperature = 0.0;
    cfg->beam_size = 5;
    cfg->vad_filter = true;
    cfg->max_seconds = 300;
    cfg->max_file_bytes = WHISPER_DEFAULT_MAX_FILE_BYTES;
    /* The NPU runs one window at a time: two transcriptions at once keep it
     * busy while the next window decodes, more would only cost memory. */
    cfg->max_concurrent = 2;
    cfg->max_waiting = 8;
    cfg->max_decode_ms = 120000;
    if (svc_conf_set_str(&cfg->host, "127.0.0.1") ||
        svc_conf_set_str(&cfg->model_name, "Whisper-Base") ||
        svc_conf_set_str(&cfg->model_variant, "base") ||
        svc_conf_set_str(&cfg->hef_path,
                         "/var/lib/hailo-whisper/resources/models/hailo10h/Whisper-Base.hef") ||
        svc_conf_set_str(&cfg->cache_dir, "/var/lib/hailo-whisper/cache") ||
        svc_conf_set_str(&cfg->resources_dir, "/var/lib/hailo-whisper/resources")) {
        whisper_config_free(cfg);
        return -HDM_E_NOMEM;
    }
    return 0;
}

int whisper_config_load(whisper_config *cfg, const char *path, bool missing_ok, hdm_err *err)
{
    int r = conf_load_file(path, whisper_config_keys, cfg, svc_conf_warn_unknown, NULL, err);
    if (r == -HDM_E_NOT_FOUND && missing_ok) {
        log_info("no config file %s: using the defaults", path);
        hdm_err_clear(err);
        r = 0;
    }
    if (r < 0)
        return r;
    return svc_conf_env_str(&cfg->bearer_token, "HAILO_WHISPER_TOKEN", err);
}

bool whisper_language_code_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') || s[n] == '-' ||
              s[n] == '_'))
            return false;
    return n > 0 && n <= 15;
}

const char *whisper_config_language(const whisper_config *cfg)
{
    const char *l = cfg->language;
    if (!l || !*l || strcmp(l, "null") == 0 || strcasecmp(l, "auto") == 0)
        return NULL;
    return l;
}

int whisper_config_check(const whisper_config *cfg, hdm_err *err)
{
    if (!cfg->host || !*cfg->host)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "server.host must not be empty");
    if (!cfg->model_name || !*cfg->model_name)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model.name must not be empty");
    if (!cfg->hef_path || cfg->hef_path[0] != '/')
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model.hef_path must be an absolute path");
    if (cfg->keep_alive < 0 && cfg->keep_alive != -1)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "model.keep_alive must be -1 (resident), 0 or a number of seconds");
    const char *lang = whisper_config_language(cfg);
    if (lang && !whisper_language_code_ok(lang))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "transcription.language must be a language code such as en, or null "
                           "to detect it, not \"%.40s\"",
                           lang);
    return 0;
}

void whisper_config_free(whisper_config *cfg)
{
    if (cfg)
        conf_free(whisper_config_keys, cfg);
}
