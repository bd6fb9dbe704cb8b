/*
 * config.c - hailo-llm's YAML keys mapped onto llm_config, and Ollama's
 * keep_alive durations.
 *
 * The original hailo-ollama's config (/etc/hailo/hailo-ollama.yaml,
 * ORIGINAL-SERVICES.md §10) had server.host, server.port, library.host,
 * library.port and main_poll_time_ms; all load here, the last three unused
 * (models come from models.dir, nothing is pulled).
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "llm/llm.h"
#include "svc/svc_config.h"

#define OFF(field) offsetof(llm_config, field)

const conf_key llm_config_keys[] = {
    {"server.host", CONF_STRING, OFF(host), 0, 0},
    {"server.port", CONF_INT, OFF(port), 0, 65535},
    {"server.threads", CONF_INT, OFF(threads), 1, 64},
    {"server.max_body_bytes", CONF_INT, OFF(max_body_bytes), 1024, INT_MAX},
    {"server.bearer_token", CONF_STRING, OFF(bearer_token), 0, 0},
    {"manager.socket", CONF_STRING, OFF(socket_path), 0, 0},
    {"models.dir", CONF_STRING, OFF(models_dir), 0, 0},
    {"models.max_models", CONF_INT, OFF(max_models), 1, 4096},
    {"models.keep_alive", CONF_STRING, OFF(keep_alive_text), 0, 0},
    {"generation.max_tokens", CONF_INT, OFF(max_tokens), 1, 16384},
    {"generation.timeout_s", CONF_INT, OFF(timeout_s), 1, 86400},
    {"library.host", CONF_STRING, OFF(library_host), 0, 0},
    {"library.port", CONF_INT, OFF(library_port), 0, 65535},
    {"main_poll_time_ms", CONF_INT, OFF(main_poll_time_ms), 0, INT_MAX},
    {NULL, 0, 0, 0, 0},
};

int llm_config_defaults(llm_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->port = 11434;
    cfg->threads = 8;
    cfg->max_body_bytes = 4 * 1024 * 1024;
    cfg->max_models = 256;
    cfg->keep_alive = 300;
    cfg->max_tokens = 2048;
    cfg->timeout_s = 300;
    cfg->library_port = 443;
    cfg->main_poll_time_ms = 200;
    if (svc_conf_set_str(&cfg->host, "127.0.0.1") ||
        svc_conf_set_str(&cfg->models_dir, "/var/lib/hailo/llm") ||
        svc_conf_set_str(&cfg->keep_alive_text, "5m") ||
        svc_conf_set_str(&cfg->library_host, "dev-public.hailo.ai")) {
        llm_config_free(cfg);
        return -HDM_E_NOMEM;
    }
    return 0;
}

int llm_config_load(llm_config *cfg, const char *path, bool missing_ok, hdm_err *err)
{
    int r = conf_load_file(path, llm_config_keys, cfg, svc_conf_warn_unknown, NULL, err);
    if (r == -HDM_E_NOT_FOUND && missing_ok)
        log_warn("%s not found; using the built-in defaults", path);
    else if (r < 0)
        return r;
    if ((r = svc_conf_env_str(&cfg->bearer_token, "HAILO_LLM_TOKEN", err)) < 0)
        return r;
    return llm_config_check(cfg, err);
}

int llm_config_check(llm_config *cfg, hdm_err *err)
{
    if (!cfg->host || !*cfg->host)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "server.host must not be empty");
    if (!cfg->models_dir || cfg->models_dir[0] != '/')
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "models.dir must be an absolute path");
    if (strlen(cfg->models_dir) > PATH_MAX - LLM_MAX_NAME - 8)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "models.dir is too long");
    if (!cfg->keep_alive_text || llm_parse_duration(cfg->keep_alive_text, &cfg->keep_alive) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "models.keep_alive must be a duration like \"5m\" or \"1h\", a number "
                           "of seconds, or -1 (keep loaded), not '%s'",
                           cfg->keep_alive_text ? cfg->keep_alive_text : "");
    return 0;
}

void llm_config_free(llm_config *cfg)
{
    if (!cfg)
        return;
    conf_free(llm_config_keys, cfg);
}

/* ---- Ollama's durations -------------------------------------------------- */

/* Go's time.ParseDuration units, in seconds. */
static double unit_seconds(const char *u, size_t n)
{
    static const struct {
        const char *name;
        double s;
    } units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6}, {"\xce\xbcs", 1e-6},
                 {"ms", 1e-3}, {"s", 1},     {"m", 60},           {"h", 3600}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
            return units[i].s;
    return -1;
}

int llm_parse_duration(const char *text, double *seconds)
{
    const char *p = text;
    double sign = 1, total = 0;
    if (*p == '-' || *p == '+')
        sign = *p++ == '-' ? -1 : 1;
    if (!((*p >= '0' && *p <= '9') || *p == '.'))
        return -1;
    /* A bare number is seconds (Ollama's numeric keep_alive, YAML's 300). */
    char *end;
    double v = strtod(p, &end);
    if (end != p && *end == '\0' && isfinite(v)) {
        *seconds = sign * v < 0 ? -1 : sign * v;
        return 0;
    }
    while (*p) {
        const char *num = p;
        while ((*p >= '0' && *p <= '9') || *p == '.')
            p++;
        if (p == num)
            return -1;
        char *nend;
        double n = strtod(num, &nend);
        if (nend != p || !isfinite(n))
            return -1;
        const char *u = p;
        while (*p && !((*p >= '0' && *p <= '9') || *p == '.'))
            p++;
        double us = unit_seconds(u, (size_t)(p - u));
        if (us < 0)
            return -1;
        total += n * us;
    }
    if (!isfinite(total) || total > 1e12)
        return -1;
    *seconds = sign < 0 && total > 0 ? -1 : total;
    return 0;
}

int llm_parse_keep_alive(const cJSON *v, const char *what, double *out, hdm_err *err)
{
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
        *out = v->valuedouble < 0 ? -1 : v->valuedouble;
        return 0;
    }
    if (cJSON_IsString(v) && llm_parse_duration(v->valuestring, out) == 0)
        return 0;
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       "%s must be a duration like \"5m\" or \"1h30m\", a number of seconds, or "
                       "a negative value to keep the model loaded",
                       what);
}
