/*
 * backend-sim-config.c - the simulator's configuration (--sim-config) and
 * the per-model sidecars (<model file>.sim.json).
 *
 * --sim-config is JSON (when the file starts with '{') or YAML, with these
 * keys (YAML nests them; JSON objects nest the same way):
 *
 *   memory_mb: 8192            device memory the models share (MiB)
 *   latency_scale: 1.0         multiplies every latency; 0 = never sleep (tests)
 *   switch_ms: -1              device time to switch the NPU from one network to
 *                              another (sim-npu.c: the lanes share one NPU);
 *                              -1 (default): a tenth of the operation that
 *                              follows the switch (3 ms before a 30 ms CLIP
 *                              image, 6 ms before a 60 ms VLM token)
 *   temperature_base_c: 42.0   idle chip temperature reported by identify
 *   models:                    per model type (clip, vlm_chat or vlm, whisper,
 *     clip:                    ocr, depth, pose, llm) defaults, overridden per model
 *       footprint_mb: 300      by the model's sidecar:
 *       load_ms: 1500            footprint_mb  device memory of the model
 *       infer_ms: 30             load_ms       time to load
 *       token_ms: 0              infer_ms      one inference (clip: image; text
 *                                              takes half; vlm: prefill, again
 *                                              per image; whisper: per 30 s of
 *                                              audio; ocr: detection; llm: per
 *                                              prefill step of 128 prompt tokens)
 *                                token_ms      vlm/whisper/llm: per generated token;
 *                                              ocr: per recognised crop
 *   faults:                    fault injection, counted from 1 over the
 *     fail_load_nth: N           device's life: the Nth load fails with
 *                                HAILO_RESOURCE_EXHAUSTED (once)
 *     load_resource_exhausted_every: N   every Nth load fails that way
 *     infer_timeout_nth: N       the Nth inference fails with HAILO_TIMEOUT
 *                                (deadline_exceeded) after its timeout
 *     infer_timeout_every: N     every Nth inference does
 *     device_lost_nth: N         the Nth inference loses the device: every
 *                                call then fails with device_error until reset()
 *     device_lost_load_nth: N    the Nth load loses the device
 *     reset_fail_count: N        the first N reset() calls fail too
 *
 * 0 disables a fault.  Unknown keys are errors, so a misspelt fault never
 * silently does nothing.
 *
 * A sidecar `<model file>.sim.json` is always JSON:
 *   {"footprint_mb": 300, "load_ms": 1500, "infer_ms": 30, "token_ms": 40,
 *    "input_height": 256, "input_width": 320}
 * every key optional; input_height/input_width set the input size of depth,
 * pose and ocr detection models.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend-sim.h"
#include "common/paths.h"
#include "common/yamlconf.h"

/* Largest config or sidecar file read (they are a few lines). */
#define SIM_CONFIG_MAX_BYTES (256 * 1024)

/* Built-in per-type figures: measured orders of magnitude on a Hailo-10H. */
static const sim_type_params type_defaults[MODEL_KIND__COUNT] = {
    [MODEL_CLIP] = {.footprint_mb = 300, .load_ms = 1500, .infer_ms = 30, .token_ms = 0},
    [MODEL_VLM] = {.footprint_mb = 2800, .load_ms = 8000, .infer_ms = 400, .token_ms = 60},
    [MODEL_WHISPER] = {.footprint_mb = 900, .load_ms = 4000, .infer_ms = 500, .token_ms = 25},
    [MODEL_OCR] = {.footprint_mb = 150, .load_ms = 1200, .infer_ms = 40, .token_ms = 5},
    [MODEL_DEPTH] = {.footprint_mb = 120, .load_ms = 900, .infer_ms = 25, .token_ms = 0},
    [MODEL_POSE] = {.footprint_mb = 80, .load_ms = 800, .infer_ms = 20, .token_ms = 0},
    /* Qwen2.5-1.5B-Instruct (Hailo GenAI zoo: 1.82 GB, first load 14 s, TTFT 0.31 s,
     * 8.3 tokens/s): infer_ms is one prefill step of SIM_LLM_PREFILL_CHUNK tokens. */
    [MODEL_LLM] = {.footprint_mb = 1850, .load_ms = 14000, .infer_ms = 300, .token_ms = 120},
};

void sim_config_defaults(sim_config *c)
{
    memset(c, 0, sizeof(*c));
    c->memory_mb = 8192;
    c->latency_scale = 1.0;
    c->switch_ms = -1;
    c->temperature_base_c = 42.0;
    memcpy(c->types, type_defaults, sizeof(c->types));
}

/* ---- the key table --------------------------------------------------------- */

#define SIM_MAX_KEYS 64
#define SIM_KEY_NAME_MAX 64

typedef struct key_table {
    conf_key keys[SIM_MAX_KEYS + 1];
    char names[SIM_MAX_KEYS][SIM_KEY_NAME_MAX];
    size_t n;
} key_table;

static void table_add(key_table *t, const char *name, conf_type type, size_t offset, double min,
                      double max)
{
    snprintf(t->names[t->n], SIM_KEY_NAME_MAX, "%s", name);
    t->keys[t->n] = (conf_key){t->names[t->n], type, offset, min, max};
    t->n++;
    t->keys[t->n] = (conf_key){0};
}

static const struct {
    const char *name;
    size_t offset;
} type_fields[] = {
    {"footprint_mb", offsetof(sim_type_params, footprint_mb)},
    {"load_ms", offsetof(sim_type_params, load_ms)},
    {"infer_ms", offsetof(sim_type_params, infer_ms)},
    {"token_ms", offsetof(sim_type_params, token_ms)},
};

static const struct {
    const char *name;
    size_t offset;
} fault_fields[] = {
    {"fail_load_nth", offsetof(sim_faults, fail_load_nth)},
    {"load_resource_exhausted_every", offsetof(sim_faults, load_resource_exhausted_every)},
    {"infer_timeout_nth", offsetof(sim_faults, infer_timeout_nth)},
    {"infer_timeout_every", offsetof(sim_faults, infer_timeout_every)},
    {"device_lost_nth", offsetof(sim_faults, device_lost_nth)},
    {"device_lost_load_nth", offsetof(sim_faults, device_lost_load_nth)},
    {"reset_fail_count", offsetof(sim_faults, reset_fail_count)},
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void table_build(key_table *t)
{
    char name[SIM_KEY_NAME_MAX];

    t->n = 0;
    table_add(t, "memory_mb", CONF_INT, offsetof(sim_config, memory_mb), 1, 1024 * 1024);
    table_add(t, "latency_scale", CONF_DOUBLE, offsetof(sim_config, latency_scale), 0, 1000);
    table_add(t, "switch_ms", CONF_DOUBLE, offsetof(sim_config, switch_ms), -1, 60000);
    table_add(t, "temperature_base_c", CONF_DOUBLE, offsetof(sim_config, temperature_base_c), -40,
              120);
    for (int k = 0; k < MODEL_KIND__COUNT; k++) {
        for (size_t f = 0; f < ARRAY_LEN(type_fields); f++) {
            size_t off = offsetof(sim_config, types) + (size_t)k * sizeof(sim_type_params) +
                         type_fields[f].offset;
            snprintf(name, sizeof(name), "models.%s.%s", model_kind_name((model_kind)k),
                     type_fields[f].name);
            table_add(t, name, CONF_INT, off, 0, 1024 * 1024);
            if (k == MODEL_VLM) { /* the old name of vlm_chat */
                snprintf(name, sizeof(name), "models.vlm.%s", type_fields[f].name);
                table_add(t, name, CONF_INT, off, 0, 1024 * 1024);
            }
        }
    }
    for (size_t f = 0; f < ARRAY_LEN(fault_fields); f++) {
        snprintf(name, sizeof(name), "faults.%s", fault_fields[f].name);
        table_add(t, name, CONF_INT, offsetof(sim_config, faults) + fault_fields[f].offset, 0,
                  1000000000);
    }
}

static bool table_has(const key_table *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->keys[i].name, name) == 0)
            return true;
    return false;
}

#define KNOWN_KEYS_HINT                                                                            \
    "known keys: memory_mb, latency_scale, switch_ms, temperature_base_c, "                        \
    "models.<clip|vlm_chat|whisper|ocr|depth|pose|llm>.<footprint_mb|load_ms|infer_ms|token_ms>, "     \
    "faults.<fail_load_nth|load_resource_exhausted_every|infer_timeout_nth|"                       \
    "infer_timeout_every|device_lost_nth|device_lost_load_nth|reset_fail_count>"

/* ---- JSON: flattened into dotted keys, each set through conf_set ------------ */

static int json_apply(const key_table *t, const cJSON *node, const char *prefix, sim_config *c,
                      const char *name, hdm_err *err)
{
    char key[256], value[64];

    if (cJSON_IsObject(node)) {
        for (const cJSON *child = node->child; child; child = child->next) {
            int n = snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", child->string);
            if (n < 0 || (size_t)n >= sizeof(key))
                return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: key too long: %.64s...", name, key);
            int rc = json_apply(t, child, key, c, name, err);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    if (!table_has(t, prefix))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: unknown key '%s' (%s)", name, prefix,
                           KNOWN_KEYS_HINT);
    if (cJSON_IsNumber(node)) {
        if (!isfinite(node->valuedouble))
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: %s is not a finite number", name,
                               prefix);
        if (node->valuedouble == floor(node->valuedouble) && fabs(node->valuedouble) < 1e15)
            snprintf(value, sizeof(value), "%.0f", node->valuedouble);
        else
            snprintf(value, sizeof(value), "%.17g", node->valuedouble);
    } else if (cJSON_IsString(node)) {
        snprintf(value, sizeof(value), "%s", node->valuestring);
    } else if (cJSON_IsBool(node)) {
        snprintf(value, sizeof(value), "%s", cJSON_IsTrue(node) ? "true" : "false");
    } else {
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: %s must be a number", name, prefix);
    }
    int rc = conf_set(t->keys, c, prefix, value, err);
    if (rc < 0)
        return hdm_err_prefix(err, "%s", name);
    return 0;
}

static int config_from_json(const key_table *t, const char *text, size_t len, const char *name,
                            sim_config *c, hdm_err *err)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    int rc;

    if (!root) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: invalid JSON near byte %zu", name, off);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: the top level must be an object", name);
    }
    rc = json_apply(t, root, "", c, name, err);
    cJSON_Delete(root);
    return rc;
}

/* ---- YAML through yamlconf ---------------------------------------------------- */

typedef struct unknown_key {
    char key[128];
    char file[256];
    int line;
    bool seen;
} unknown_key;

static void on_unknown(void *user, const char *file, int line, const char *key)
{
    unknown_key *u = user;
    if (u->seen)
        return; /* report the first one */
    u->seen = true;
    u->line = line;
    snprintf(u->key, sizeof(u->key), "%s", key);
    snprintf(u->file, sizeof(u->file), "%s", file ? file : "");
}

static int config_from_yaml(const key_table *t, const char *text, size_t len, const char *name,
                            sim_config *c, hdm_err *err)
{
    unknown_key u = {0};
    int rc = conf_load_string(text, len, name, t->keys, c, on_unknown, &u, err);
    if (rc < 0)
        return rc;
    if (u.seen)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s:%d: unknown key '%s' (%s)",
                           u.file[0] ? u.file : name, u.line, u.key, KNOWN_KEYS_HINT);
    return 0;
}

/* ---- files ---------------------------------------------------------------------- */

/* Reads a small file whole (NUL-terminated).  -HDM_E_NOT_FOUND when absent. */
/* Reads the regular file open on fd (st: its fstat) into *text. */
static int read_open_file(int fd, const struct stat *st, const char *path, const char *what,
                          char **text, size_t *len, hdm_err *err)
{
    char *data = NULL;
    size_t got = 0;

    if (st->st_size > SIM_CONFIG_MAX_BYTES)
        return hdm_err_set(err, HDM_E_TOO_LARGE, "%s %s is larger than %d bytes", what, path,
                           SIM_CONFIG_MAX_BYTES);
    data = malloc((size_t)st->st_size + 1);
    if (!data)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory reading %s", path);
    while (got < (size_t)st->st_size) {
        ssize_t n = read(fd, data + got, (size_t)st->st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            free(data);
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "cannot read %s %s: %s", what, path,
                               strerror(e));
        }
        got += (size_t)n;
    }
    data[got] = 0;
    *text = data;
    *len = got;
    return 0;
}

/* The operator's --sim-config file. */
static int read_small_file(const char *path, const char *what, char **text, size_t *len,
                           hdm_err *err)
{
    struct stat st;
    /* O_NONBLOCK: a FIFO must be refused, not waited on. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        return hdm_err_set(err, e == ENOENT ? HDM_E_NOT_FOUND : HDM_E_BAD_REQUEST,
                           "cannot open %s %s: %s", what, path, strerror(e));
    }
    int rc = fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)
                 ? hdm_err_set(err, HDM_E_BAD_REQUEST, "%s %s is not a regular file", what, path)
                 : read_open_file(fd, &st, path, what, text, len, err);
    close(fd);
    return rc;
}

/*
 * A model's sidecar, opened beneath `allow` (or the model's own directory)
 * by the kernel (common/paths: no symlink followed, a FIFO refused without
 * waiting), so a sidecar can never read a file from anywhere else.
 * -HDM_E_NOT_FOUND when there is none.
 */
static int read_sidecar(const char *path, const path_allowlist *allow, char **text, size_t *len,
                        hdm_err *err)
{
    char *dir = strdup(path);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    path_allowlist beside = {0};
    path_file f = {.fd = -1};
    enum path_refusal why = PATH_REFUSED_NONE;
    int rc;

    if (!dir)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    if (slash)
        slash[slash == dir ? 1 : 0] = 0;
    if (!allow && path_allowlist_parse(&beside, dir) < 0) {
        free(dir);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    rc = path_open_allowed(allow ? allow : &beside, path, "model sidecar", PATH_OPEN_UNIFORM, &f,
                           &why, err);
    if (rc == 0) {
        rc = read_open_file(f.fd, &f.st, path, "model sidecar", text, len, err);
        path_file_close(&f);
    } else if (why == PATH_REFUSED_NOT_FOUND) {
        rc = -HDM_E_NOT_FOUND;
    }
    path_allowlist_free(&beside);
    free(dir);
    return rc;
}

int sim_config_load_string(const char *text, size_t len, const char *name, sim_config *c,
                           hdm_err *err)
{
    key_table *t = malloc(sizeof(*t));
    size_t i = 0;
    int rc;

    if (!t)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory reading %s", name);
    table_build(t);
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    if (i < len && text[i] == '{')
        rc = config_from_json(t, text, len, name, c, err);
    else
        rc = config_from_yaml(t, text, len, name, c, err);
    free(t);
    return rc;
}

int sim_config_load(const char *path, sim_config *c, hdm_err *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = read_small_file(path, "sim config", &text, &len, err);
    if (rc < 0)
        return rc;
    rc = sim_config_load_string(text, len, path, c, err);
    free(text);
    return rc;
}

/* ---- sidecars --------------------------------------------------------------------- */

static const struct {
    const char *name;
    size_t offset;
    int max;
} sidecar_fields[] = {
    {"footprint_mb", offsetof(sim_sidecar, footprint_mb), 1024 * 1024},
    {"load_ms", offsetof(sim_sidecar, load_ms), 3600 * 1000},
    {"infer_ms", offsetof(sim_sidecar, infer_ms), 3600 * 1000},
    {"token_ms", offsetof(sim_sidecar, token_ms), 3600 * 1000},
    {"input_height", offsetof(sim_sidecar, input_height), 4096},
    {"input_width", offsetof(sim_sidecar, input_width), 4096},
};

int sim_sidecar_load(const char *model_path, const path_allowlist *allow, sim_sidecar *out,
                     hdm_err *err)
{
    sim_sidecar sc = {.found = false};
    char *path = NULL, *text = NULL;
    cJSON *root = NULL;
    size_t len = 0;
    int rc = 0;

    for (size_t f = 0; f < ARRAY_LEN(sidecar_fields); f++)
        *(int *)((char *)&sc + sidecar_fields[f].offset) = -1;
    if (asprintf(&path, "%s.sim.json", model_path) < 0) {
        path = NULL;
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        goto out;
    }
    rc = read_sidecar(path, allow, &text, &len, err);
    if (rc == -HDM_E_NOT_FOUND) {
        rc = 0; /* no sidecar: the type defaults apply */
        hdm_err_clear(err);
        goto done;
    }
    if (rc < 0)
        goto out;
    root = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(root)) {
        rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "model sidecar %s is not a JSON object", path);
        goto out;
    }
    for (const cJSON *item = root->child; item; item = item->next) {
        size_t f;
        for (f = 0; f < ARRAY_LEN(sidecar_fields); f++)
            if (strcmp(item->string, sidecar_fields[f].name) == 0)
                break;
        if (f == ARRAY_LEN(sidecar_fields)) {
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                             "model sidecar %s: unknown key '%s' (known: footprint_mb, load_ms, "
                             "infer_ms, token_ms, input_height, input_width)",
                             path, item->string);
            goto out;
        }
        double v = item->valuedouble;
        if (!cJSON_IsNumber(item) || !isfinite(v) || v < 0 || v > sidecar_fields[f].max ||
            v != floor(v)) {
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                             "model sidecar %s: %s must be an integer from 0 to %d", path,
                             item->string, sidecar_fields[f].max);
            goto out;
        }
        if ((strcmp(item->string, "input_height") == 0 ||
             strcmp(item->string, "input_width") == 0) &&
            v < 1) {
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "model sidecar %s: %s must be at least 1",
                             path, item->string);
            goto out;
        }
        *(int *)((char *)&sc + sidecar_fields[f].offset) = (int)v;
    }
    sc.found = true;
done:
    *out = sc;
out:
    cJSON_Delete(root);
    free(text);
    free(path);
    return rc;
}
