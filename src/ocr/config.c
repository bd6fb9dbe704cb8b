/*
 * config.c - hailo-ocr's YAML keys onto ocr_config: every key of the
 * original's config.yaml (ORIGINAL-SERVICES.md §2.2; the ones it never
 * used load and do nothing, as there) and ours (server.threads,
 * server.max_body_bytes, server.bearer_token, manager.*, images.*,
 * performance.opencv_threads).
 *
 * hailo_models.recognition_hefs is a mapping whose keys are languages, so
 * it cannot be a row of the key table: the first pass over the file
 * collects its keys (the unknown-key callback sees them), the second reads
 * their values through a table made for exactly those keys.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "ocr/ocr.h"
#include "svc/svc_config.h"

#define OFF(field) offsetof(ocr_config, field)
#define REC_PREFIX "hailo_models.recognition_hefs"
#define HDM_STR_(x) #x
#define HDM_STR(x) HDM_STR_(x)

const conf_key ocr_config_keys[] = {
    {"server.host", CONF_STRING, OFF(host), 0, 0},
    {"server.port", CONF_INT, OFF(port), 0, 65535},
    {"server.threads", CONF_INT, OFF(threads), 1, 64},
    {"server.max_body_bytes", CONF_INT, OFF(max_body_bytes), 1024, INT_MAX},
    {"server.bearer_token", CONF_STRING, OFF(bearer_token), 0, 0},
    {"manager.socket", CONF_STRING, OFF(manager_socket), 0, 0},
    {"manager.keep_alive", CONF_DOUBLE, OFF(keep_alive), -1, 1e9},
    {"manager.timeout_s", CONF_INT, OFF(timeout_s), 1, 3600},
    {"ocr.languages", CONF_STRLIST, OFF(languages), 0, 0},
    {"ocr.enable_recognition", CONF_BOOL, OFF(enable_recognition), 0, 0},
    {"ocr.det_threshold", CONF_DOUBLE, OFF(det_threshold), 0, 1},
    {"ocr.rec_threshold", CONF_DOUBLE, OFF(rec_threshold), 0, 1},
    {"ocr.use_corrector", CONF_BOOL, OFF(use_corrector), 0, 0},
    {"ocr.dictionary_path", CONF_STRING, OFF(dictionary_path), 0, 0},
    {"hailo_models.detection_hef", CONF_STRING, OFF(detection_hef), 0, 0},
    {"hailo_models.batch_size_det", CONF_INT, OFF(batch_size_det), 1, OCR_MAX_BATCH},
    {"hailo_models.batch_size_rec", CONF_INT, OFF(batch_size_rec), 1, OCR_MAX_BATCH},
    {"hailo_models.priority", CONF_INT, OFF(priority), INT_MIN, INT_MAX},
    {"hailo_models.device", CONF_STRING, OFF(device), 0, 0},
    {"hailo_models.models_root", CONF_STRING, OFF(models_root), 0, 0},
    {"processing.max_image_size", CONF_INT, OFF(max_image_size), 0, INT_MAX},
    {"processing.jpeg_quality", CONF_INT, OFF(jpeg_quality), 1, 100},
    {"processing.enable_caching", CONF_BOOL, OFF(enable_caching), 0, 0},
    {"processing.cache_ttl_seconds", CONF_INT, OFF(cache_ttl_seconds), 0, INT_MAX},
    {"processing.max_cache_size_mb", CONF_INT, OFF(max_cache_size_mb), 0, INT_MAX},
    {"resource_limits.memory_max", CONF_STRING, OFF(memory_max), 0, 0},
    {"resource_limits.cpu_quota", CONF_STRING, OFF(cpu_quota), 0, 0},
    {"images.max_pixels", CONF_INT, OFF(image_max_pixels), 1, INT_MAX},
    {"images.max_decode_ms", CONF_INT, OFF(image_max_decode_ms), 1, 600000},
    {"images.max_concurrent", CONF_INT, OFF(image_max_concurrent), 1, 64},
    {"images.max_wait_ms", CONF_INT, OFF(image_max_wait_ms), 0, 600000},
    {"images.allowed_dirs", CONF_STRLIST, OFF(allowed_dirs), 0, 0},
    {"performance.opencv_threads", CONF_INT, OFF(opencv_threads), 0, 64},
    {NULL, 0, 0, 0, 0},
};

bool ocr_lang_code_ok(const char *code)
{
    size_t n = code ? strlen(code) : 0;
    if (n == 0 || n > OCR_LANG_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = code[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static void langs_free(ocr_lang *langs, size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        free(langs[i].code);
        free(langs[i].hef);
        langs[i].code = langs[i].hef = NULL;
    }
    *n = 0;
}

static int lang_add(ocr_lang *langs, size_t *n, const char *code, const char *hef)
{
    char *c = strdup(code), *h = strdup(hef);
    if (!c || !h) {
        free(c);
        free(h);
        return -HDM_E_NOMEM;
    }
    langs[*n].code = c;
    langs[*n].hef = h;
    (*n)++;
    return 0;
}

int ocr_config_defaults(ocr_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->port = 11436;
    cfg->threads = 4;
    cfg->max_body_bytes = 10 * 1024 * 1024; /* aiohttp's client_max_size in the original */
    cfg->keep_alive = -1;
    cfg->timeout_s = 30;
    cfg->enable_recognition = true;
    cfg->det_threshold = 0.3;
    cfg->rec_threshold = 0.5;
    cfg->batch_size_det = 1;
    cfg->batch_size_rec = 8;
    cfg->max_image_size = 4096;
    cfg->jpeg_quality = 90;
    cfg->cache_ttl_seconds = 3600;
    cfg->max_cache_size_mb = 500;
    /* A 24 Mpixel photo (6000 x 4000) at most: about 9 bytes a pixel while
     * it is read (RGB, the float map, its bitmap, OpenCV's copy). */
    cfg->image_max_pixels = 24 * 1000 * 1000;
    cfg->image_max_decode_ms = 5000;
    /* One image at a time: the CPU part of a request uses every core
     * (OpenCV) and about 10 MB per 1920x1080 page. */
    cfg->image_max_concurrent = 1;
    cfg->image_max_wait_ms = 30000;
    if (svc_conf_set_str(&cfg->host, "127.0.0.1") ||
        svc_conf_set_str(&cfg->detection_hef, "ocr_det.hef") ||
        svc_conf_set_str(&cfg->device, "/dev/hailo0") ||
        svc_conf_set_str(&cfg->models_root, OCR_STATE_MODELS) ||
        svc_conf_set_str(&cfg->memory_max, "2.5G") || svc_conf_set_str(&cfg->cpu_quota, "75%") ||
        lang_add(cfg->langs, &cfg->n_langs, "en", "ocr.hef") < 0 ||
        lang_add(cfg->langs, &cfg->n_langs, "zh", "ocr_chinese.hef") < 0)
        goto nomem;
    cfg->languages.items = calloc(1, sizeof(char *));
    if (!cfg->languages.items || !(cfg->languages.items[0] = strdup("en")))
        goto nomem;
    cfg->languages.n = 1;
    return 0;
nomem:
    ocr_config_free(cfg);
    return -HDM_E_NOMEM;
}

/* ---- hailo_models.recognition_hefs ----------------------------------------- */

/* What the first pass saw of the mapping. */
typedef struct rec_scan {
    char codes[OCR_MAX_LANGS][OCR_LANG_MAX + 1];
    size_t n;
    bool seen;      /* the mapping has at least one key */
    int bad_line;   /* first problem (0: none) */
    char bad[160];
} rec_scan;

static void scan_bad(rec_scan *s, int line, const char *fmt, const char *arg)
{
    if (s->bad_line)
        return;
    s->bad_line = line > 0 ? line : 1;
    snprintf(s->bad, sizeof(s->bad), fmt, arg);
}

/* conf_unknown_cb of the first pass: keys of the mapping are languages;
 * anything else unknown is a warning. */
static void scan_unknown(void *user, const char *file, int line, const char *key)
{
    rec_scan *s = user;
    size_t plen = strlen(REC_PREFIX);
    if (strncmp(key, REC_PREFIX, plen) != 0 || (key[plen] != '\0' && key[plen] != '.')) {
        svc_conf_warn_unknown(NULL, file, line, key);
        return;
    }
    if (key[plen] == '\0') {
        scan_bad(s, line, "%s must be a mapping of language to HEF file (en: ocr.hef)",
                 REC_PREFIX);
        return;
    }
    const char *code = key + plen + 1;
    if (strchr(code, '.') != NULL || !ocr_lang_code_ok(code)) {
        scan_bad(s, line, REC_PREFIX ": '%.60s' is not a language code (letters, digits, _ and -)",
                 code);
        return;
    }
    s->seen = true;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->codes[i], code) == 0)
            return; /* given twice: the second pass keeps the last value */
    if (s->n == OCR_MAX_LANGS) {
        scan_bad(s, line, "%s lists more than " HDM_STR(OCR_MAX_LANGS) " languages", REC_PREFIX);
        return;
    }
    snprintf(s->codes[s->n++], OCR_LANG_MAX + 1, "%s", code);
}

/* The second pass: reads the values of the languages the first pass found. */
static int read_rec_hefs(ocr_config *cfg, const char *path, const rec_scan *s, hdm_err *err)
{
    char names[OCR_MAX_LANGS][sizeof(REC_PREFIX) + OCR_LANG_MAX + 2];
    char *hefs[OCR_MAX_LANGS] = {0};
    conf_key keys[OCR_MAX_LANGS + 1];
    for (size_t i = 0; i < s->n; i++) {
        snprintf(names[i], sizeof(names[i]), "%s.%s", REC_PREFIX, s->codes[i]);
        keys[i] = (conf_key){names[i], CONF_STRING, i * sizeof(char *), 0, 0};
    }
    keys[s->n] = (conf_key){NULL, 0, 0, 0, 0};
    int r = conf_load_file(path, keys, hefs, NULL, NULL, err);
    if (r == 0) {
        langs_free(cfg->langs, &cfg->n_langs);
        /* A language whose value is null or empty is not configured. */
        for (size_t i = 0; i < s->n && r == 0; i++)
            if (hefs[i] && hefs[i][0] && lang_add(cfg->langs, &cfg->n_langs, s->codes[i], hefs[i]))
                r = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < s->n; i++)
        free(hefs[i]);
    return r;
}

int ocr_config_load(ocr_config *cfg, const char *path, bool missing_ok, hdm_err *err)
{
    rec_scan scan;
    memset(&scan, 0, sizeof(scan));
    int r = conf_load_file(path, ocr_config_keys, cfg, scan_unknown, &scan, err);
    if (r == -HDM_E_NOT_FOUND && missing_ok) {
        log_info("no config file %s: using the defaults", path);
        hdm_err_clear(err);
        r = 0;
    } else if (r == 0 && scan.bad_line) {
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s:%d: %s", path, scan.bad_line, scan.bad);
    } else if (r == 0 && scan.seen) {
        r = read_rec_hefs(cfg, path, &scan, err);
    }
    if (r < 0)
        return r;
    return svc_conf_env_str(&cfg->bearer_token, "HAILO_OCR_TOKEN", err);
}

int ocr_config_lang_index(const ocr_config *cfg, const char *code)
{
    for (size_t i = 0; i < cfg->n_langs; i++)
        if (strcmp(cfg->langs[i].code, code) == 0)
            return (int)i;
    return -1;
}

int ocr_config_check(const ocr_config *cfg, hdm_err *err)
{
    if (!cfg->host || !cfg->host[0])
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "server.host must not be empty");
    if (!cfg->detection_hef || !cfg->detection_hef[0])
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "hailo_models.detection_hef must not be empty");
    if (cfg->n_langs == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s must name at least one language (en: ocr.hef)", REC_PREFIX);
    if (!cfg->models_root || cfg->models_root[0] != '/')
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "hailo_models.models_root must be an absolute directory");
    for (size_t i = 0; i < cfg->languages.n; i++) {
        const char *l = cfg->languages.items[i];
        if (!ocr_lang_code_ok(l))
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "ocr.languages: '%.60s' is not a language code",
                               l);
    }
    for (size_t i = 0; i < cfg->allowed_dirs.n; i++)
        if (cfg->allowed_dirs.items[i][0] != '/')
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "images.allowed_dirs: '%.200s' is not an absolute directory",
                               cfg->allowed_dirs.items[i]);
    return 0;
}

void ocr_config_free(ocr_config *cfg)
{
    langs_free(cfg->langs, &cfg->n_langs);
    conf_free(ocr_config_keys, cfg);
}
