/*
 * config.c - flags, environment, YAML file and defaults for the manager.
 *
 * DESIGN: flags are read first (they name the config file), then the values
 * are layered: built-in defaults, then the file, then the environment, then
 * the flags, each layer overwriting the one before.  The YAML file is read by
 * common/yamlconf into a flat `file_conf` of scalars; values that need more
 * than a range check (modes, priorities, preload entries) are validated here
 * and reported as "file:line: message", the line found by a small scan of the
 * file (yamlconf gives lines only for its own errors).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/frame.h"
#include "common/yamlconf.h"

/* What the YAML file may set; strings NULL and ints at their defaults until set. */
typedef struct file_conf {
    char *socket, *socket_mode, *socket_group, *http_bind, *backend, *sim_config, *log_level;
    char *group_id, *sched_mode;
    int max_message_bytes;
    conf_strlist model_dirs, client_priority, preload;
    int max_queue, max_queue_per_client, aging_ms, affinity_max_jobs, affinity_max_ms;
    int deadline[PRIO__COUNT];
    int max_evictions, reset_after_errors;
    double default_keep_alive;
} file_conf;

#define FC(f) offsetof(file_conf, f)
static const conf_key file_keys[] = {
    {"socket", CONF_STRING, FC(socket), 0, 0},
    {"socket_mode", CONF_STRING, FC(socket_mode), 0, 0},
    {"socket_group", CONF_STRING, FC(socket_group), 0, 0},
    {"http_bind", CONF_STRING, FC(http_bind), 0, 0},
    {"max_message_bytes", CONF_INT, FC(max_message_bytes), 1024, INT_MAX},
    {"model_dirs", CONF_STRLIST, FC(model_dirs), 0, 0},
    {"backend", CONF_STRING, FC(backend), 0, 0},
    {"sim_config", CONF_STRING, FC(sim_config), 0, 0},
    {"log_level", CONF_STRING, FC(log_level), 0, 0},
    {"group_id", CONF_STRING, FC(group_id), 0, 0},
    {"scheduler.mode", CONF_STRING, FC(sched_mode), 0, 0},
    {"scheduler.max_queue", CONF_INT, FC(max_queue), 1, 1000000},
    {"scheduler.max_queue_per_client", CONF_INT, FC(max_queue_per_client), 1, 1000000},
    {"scheduler.aging_ms", CONF_INT, FC(aging_ms), 0, 86400000},
    {"scheduler.affinity_max_jobs", CONF_INT, FC(affinity_max_jobs), 0, 100000},
    {"scheduler.affinity_max_ms", CONF_INT, FC(affinity_max_ms), 0, 86400000},
    {"scheduler.deadline_ms.realtime", CONF_INT, FC(deadline[PRIO_REALTIME]), 0, 86400000},
    {"scheduler.deadline_ms.interactive", CONF_INT, FC(deadline[PRIO_INTERACTIVE]), 0, 86400000},
    {"scheduler.deadline_ms.normal", CONF_INT, FC(deadline[PRIO_NORMAL]), 0, 86400000},
    {"scheduler.deadline_ms.batch", CONF_INT, FC(deadline[PRIO_BATCH]), 0, 86400000},
    {"scheduler.client_priority", CONF_STRLIST, FC(client_priority), 0, 0},
    {"registry.max_evictions", CONF_INT, FC(max_evictions), 0, 1000},
    {"registry.reset_after_errors", CONF_INT, FC(reset_after_errors), 1, 1000000},
    {"registry.default_keep_alive", CONF_DOUBLE, FC(default_keep_alive), -1, 1e9},
    {"preload", CONF_STRLIST, FC(preload), 0, 0},
    {NULL, 0, 0, 0, 0},
};

/* Flags as given (NULL/-1 when absent). */
typedef struct flags {
    const char *socket, *backend, *http_bind, *sim_config, *config, *scheduler, *log_level;
    bool check_config;
} flags;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: hailo-device-manager [OPTIONS]\n"
            "Owns the Hailo NPU and serves load_model/infer/unload_model over a Unix socket.\n\n"
            "  --socket PATH          socket path (env HAILO_DEVICE_SOCKET, default %s)\n"
            "  --backend NAME         auto | hailort | sim (default auto)\n"
            "  --http-bind HOST:PORT  status endpoint, or 'off' (env HAILO_DEVICE_HTTP_BIND,\n"
            "                         default %s)\n"
            "  --sim-config FILE      simulator settings (sim backend)\n"
            "  --config FILE          YAML config file\n"
            "  --scheduler MODE       fair | fifo (default fair)\n"
            "  --log-level LEVEL      error | warn | info | debug (default info)\n"
            "  --check-config         validate the configuration, report file:line errors, exit\n"
            "  --version              print the version and exit\n"
            "  --help                 print this help and exit\n\n"
            "Environment: HAILO_DEVICE_SOCKET, HAILO_DEVICE_SOCKET_MODE (default 0660),\n"
            "HAILO_DEVICE_SOCKET_GROUP, HAILO_DEVICE_MAX_MESSAGE_BYTES (default 64 MiB),\n"
            "HAILO_DEVICE_HTTP_BIND, HAILO_DEVICE_MAX_EVICTIONS, HAILO_DEVICE_GROUP_ID (default\n"
            "SHARED), HAILO_DEVICE_MODEL_DIRS (default %s).\n",
            CONFIG_DEFAULT_SOCKET, CONFIG_DEFAULT_HTTP_BIND, CONFIG_DEFAULT_MODEL_DIRS);
}

static int replace_str(char **slot, const char *value)
{
    char *copy = NULL;
    if (value) {
        copy = strdup(value);
        if (!copy)
            return -HDM_E_NOMEM;
    }
    free(*slot);
    *slot = copy;
    return 0;
}

/* Strict integer parse of a whole string in `base`. */
static int parse_long(const char *s, int base, long min, long max, long *out)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, base);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/*
 * Line of `dotted` (or of its item-th list entry when item >= 0) in a
 * block-style YAML file, 0 when not found.  Only used to place messages.
 */
static int find_key_line(const char *path, const char *dotted, int item)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return 0;
    char line[1024], stack[8][128];
    int indents[8], depth = 0, lineno = 0, found = 0, items_seen = -1, key_indent = -1;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        int ind = 0;
        while (line[ind] == ' ')
            ind++;
        char *p = line + ind;
        if (!*p || *p == '\n' || *p == '#')
            continue;
        if (items_seen >= 0) {
            if (ind <= key_indent && *p != '-')
                break;
            if (*p == '-' && ind >= key_indent && ++items_seen == item + 1) {
                found = lineno;
                break;
            }
            continue;
        }
        char *colon = strchr(p, ':');
        if (!colon || *p == '-')
            continue;
        while (depth > 0 && indents[depth - 1] >= ind)
            depth--;
        if (depth >= 8)
            continue;
        size_t klen = (size_t)(colon - p);
        if (klen >= sizeof(stack[0]))
            klen = sizeof(stack[0]) - 1;
        memcpy(stack[depth], p, klen);
        stack[depth][klen] = 0;
        indents[depth++] = ind;
        char joined[512] = "";
        size_t at = 0;
        for (int i = 0; i < depth && at < sizeof(joined); i++)
            at += (size_t)snprintf(joined + at, sizeof(joined) - at, "%s%s", i ? "." : "",
                                   stack[i]);
        if (strcmp(joined, dotted) == 0) {
            if (item < 0) {
                found = lineno;
                break;
            }
            /* Items follow on the next lines ("- x"), or inline as [a, b]. */
            found = lineno;
            items_seen = 0;
            key_indent = ind;
        }
    }
    fclose(f);
    return found;
}

/* Error for a value the file set: "file:line: message" (or the flag/env name). */
static int file_error(hdm_err *err, const char *path, const char *key, int item, const char *fmt,
                      ...) __attribute__((format(printf, 5, 6)));
static int file_error(hdm_err *err, const char *path, const char *key, int item, const char *fmt,
                      ...)
{
    char msg[HDM_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int line = find_key_line(path, key, item);
    if (line > 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s:%d: %s", path, line, msg);
    return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: %s: %s", path, key, msg);
}

/* scheduler.client_priority entry: "name=class" or "uid:N=class" (checked
 * here to report file:line; the scheduler applies them). */
typedef struct client_priority_rule {
    bool by_uid;
    uid_t uid;
    char name[64];
    job_priority priority;
} client_priority_rule;

static int parse_rule(const char *text, client_priority_rule *rule, hdm_err *err)
{
    const char *eq = strrchr(text, '=');
    if (!eq || eq == text)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "client_priority entry '%s' must be \"name=class\" or \"uid:N=class\"",
                           text);
    memset(rule, 0, sizeof(*rule));
    if (job_priority_parse(eq + 1, &rule->priority) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "client_priority entry '%s': unknown class '%s' (realtime, "
                           "interactive, normal, batch)",
                           text, eq + 1);
    size_t nlen = (size_t)(eq - text);
    if (nlen > 4 && strncmp(text, "uid:", 4) == 0) {
        char num[32];
        long uid;
        if (nlen - 4 >= sizeof(num))
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "client_priority entry '%s': bad uid", text);
        memcpy(num, text + 4, nlen - 4);
        num[nlen - 4] = 0;
        if (parse_long(num, 10, 0, INT_MAX, &uid) < 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "client_priority entry '%s': bad uid", text);
        rule->by_uid = true;
        rule->uid = (uid_t)uid;
        return 0;
    }
    if (nlen >= sizeof(rule->name))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "client_priority entry '%s': name longer than %zu bytes", text,
                           sizeof(rule->name) - 1);
    memcpy(rule->name, text, nlen);
    rule->name[nlen] = 0;
    return 0;
}

static void preload_clear(preload_entry *p)
{
    free(p->model_type);
    free(p->model_path);
    cJSON_Delete(p->model_params);
    memset(p, 0, sizeof(*p));
}

static int parse_preload(const char *text, preload_entry *p, hdm_err *err)
{
    memset(p, 0, sizeof(*p));
    model_kind kind;
    if (text[0] == '{') {
        cJSON *obj = cJSON_Parse(text);
        if (!obj || !cJSON_IsObject(obj)) {
            cJSON_Delete(obj);
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "preload entry is not a JSON object: %s",
                               text);
        }
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "model_type");
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(obj, "model_path");
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(obj, "model_params");
        const cJSON *keep = cJSON_GetObjectItemCaseSensitive(obj, "keep_alive");
        int rc = 0;
        if (!cJSON_IsString(path) || !path->valuestring[0])
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "preload entry needs model_path: %s", text);
        else if (type && !cJSON_IsString(type))
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "preload model_type must be a string");
        else if (params && !cJSON_IsObject(params))
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "preload model_params must be an object");
        else if (keep &&
                 (!cJSON_IsNumber(keep) || (keep->valuedouble < 0 && keep->valuedouble != -1)))
            rc = hdm_err_set(err, HDM_E_BAD_REQUEST,
                             "preload keep_alive must be -1 or a number of seconds >= 0");
        if (rc == 0) {
            p->model_type = strdup(type ? type->valuestring : "vlm");
            p->model_path = strdup(path->valuestring);
            p->model_params = params ? cJSON_Duplicate(params, 1) : NULL;
            p->has_keep_alive = keep != NULL;
            p->keep_alive = keep ? keep->valuedouble : 0;
            if (!p->model_type || !p->model_path || (params && !p->model_params))
                rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        }
        cJSON_Delete(obj);
        if (rc < 0) {
            preload_clear(p);
            return rc;
        }
    } else {
        const char *colon = strchr(text, ':');
        if (!colon || colon == text || !colon[1])
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "preload entry '%s' must be \"model_type:path\" or a JSON object",
                               text);
        p->model_type = strndup(text, (size_t)(colon - text));
        p->model_path = strdup(colon + 1);
        if (!p->model_type || !p->model_path) {
            preload_clear(p);
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        }
    }
    if (model_kind_parse(p->model_type, &kind) < 0) {
        int rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "preload: Unsupported model_type: %s",
                             p->model_type);
        preload_clear(p);
        return rc;
    }
    return 0;
}

int config_split_bind(const char *bind, char *host, size_t host_len, char *port, size_t port_len)
{
    const char *colon = strrchr(bind, ':');
    if (!colon || colon == bind || !colon[1])
        return -1;
    const char *h = bind;
    size_t hl = (size_t)(colon - bind);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    long p;
    if (parse_long(colon + 1, 10, 0, 65535, &p) < 0 || hl == 0 || hl >= host_len ||
        strlen(colon + 1) >= port_len)
        return -1;
    memcpy(host, h, hl);
    host[hl] = 0;
    strcpy(port, colon + 1);
    return 0;
}

static int set_http_bind(manager_config *cfg, const char *value, const char *where, hdm_err *err)
{
    if (strcmp(value, "off") == 0 || strcmp(value, "") == 0)
        return replace_str(&cfg->http_bind, NULL);
    char host[256], port[16];
    if (config_split_bind(value, host, sizeof(host), port, sizeof(port)) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: '%s' is not HOST:PORT or 'off'", where,
                           value);
    return replace_str(&cfg->http_bind, value);
}

static int set_backend(manager_config *cfg, const char *value, const char *where, hdm_err *err)
{
    if (strcmp(value, "auto") && strcmp(value, "hailort") && strcmp(value, "sim"))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: unknown backend '%s' (auto, hailort, sim)",
                           where, value);
    return replace_str(&cfg->backend, value);
}

static int set_socket_mode(manager_config *cfg, const char *value, const char *where, hdm_err *err)
{
    long mode;
    if (parse_long(value, 8, 0, 0777, &mode) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: '%s' is not an octal mode like 0660", where,
                           value);
    cfg->socket_mode = (mode_t)mode;
    return 0;
}

static int set_log_level(manager_config *cfg, const char *value, const char *where, hdm_err *err)
{
    if (log_level_parse(value, &cfg->log_level) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: unknown log level '%s' (error, warn, info, debug)", where, value);
    return 0;
}

static int set_sched_mode(manager_config *cfg, const char *value, const char *where, hdm_err *err)
{
    if (sched_mode_parse(value, &cfg->sched.mode) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: unknown scheduler mode '%s' (fair, fifo)",
                           where, value);
    return 0;
}

static int set_socket(manager_config *cfg, const char *value, const char *where, hdm_err *err)
{
    if (!value[0] || value[0] != '/')
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: socket path must be absolute: '%s'", where,
                           value);
    if (strlen(value) >= 108)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: socket path longer than 107 bytes", where);
    return replace_str(&cfg->socket_path, value);
}

static void unknown_key(void *user, const char *file, int line, const char *key)
{
    manager_config *cfg = user;
    if (cfg->check_config)
        fprintf(stderr, "%s:%d: warning: unknown key '%s'\n", file, line, key);
    else
        log_warn("%s:%d: unknown key '%s' ignored", file, line, key);
}

/* Applies the file layer. */
static int apply_file(manager_config *cfg, hdm_err *err)
{
    file_conf fc;
    memset(&fc, 0, sizeof(fc));
    fc.max_message_bytes = (int)cfg->max_message_bytes;
    fc.max_queue = (int)cfg->sched.max_queue;
    fc.max_queue_per_client = (int)cfg->sched.max_queue_per_client;
    fc.aging_ms = cfg->sched.aging_ms;
    fc.affinity_max_jobs = cfg->sched.affinity_max_jobs;
    fc.affinity_max_ms = cfg->sched.affinity_max_ms;
    for (int i = 0; i < PRIO__COUNT; i++)
        fc.deadline[i] = cfg->sched.default_deadline_ms[i];
    fc.max_evictions = cfg->reg.max_evictions;
    fc.reset_after_errors = cfg->reg.reset_after_errors;
    fc.default_keep_alive = cfg->reg.default_keep_alive;

    const char *path = cfg->config_path;
    int rc = conf_load_file(path, file_keys, &fc, unknown_key, cfg, err);
    if (rc < 0)
        goto out;
    hdm_err sub;
#define CHECK(key, call)                                                                           \
    do {                                                                                           \
        hdm_err_clear(&sub);                                                                       \
        if ((rc = (call)) < 0) {                                                                   \
            rc = file_error(err, path, key, -1, "%s", sub.msg);                                    \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)
    if (fc.socket)
        CHECK("socket", set_socket(cfg, fc.socket, "socket", &sub));
    if (fc.socket_mode)
        CHECK("socket_mode", set_socket_mode(cfg, fc.socket_mode, "socket_mode", &sub));
    if (fc.socket_group && (rc = replace_str(&cfg->socket_group, fc.socket_group)) < 0)
        goto out;
    if (fc.http_bind)
        CHECK("http_bind", set_http_bind(cfg, fc.http_bind, "http_bind", &sub));
    if (fc.backend)
        CHECK("backend", set_backend(cfg, fc.backend, "backend", &sub));
    if (fc.sim_config && (rc = replace_str(&cfg->sim_config, fc.sim_config)) < 0)
        goto out;
    if (fc.log_level)
        CHECK("log_level", set_log_level(cfg, fc.log_level, "log_level", &sub));
    if (fc.group_id && (rc = replace_str(&cfg->group_id, fc.group_id)) < 0)
        goto out;
    if (fc.sched_mode)
        CHECK("scheduler.mode", set_sched_mode(cfg, fc.sched_mode, "scheduler.mode", &sub));
#undef CHECK
    cfg->max_message_bytes = (size_t)fc.max_message_bytes;
    cfg->sched.max_queue = (size_t)fc.max_queue;
    cfg->sched.max_queue_per_client = (size_t)fc.max_queue_per_client;
    cfg->sched.aging_ms = fc.aging_ms;
    cfg->sched.affinity_max_jobs = fc.affinity_max_jobs;
    cfg->sched.affinity_max_ms = fc.affinity_max_ms;
    for (int i = 0; i < PRIO__COUNT; i++)
        cfg->sched.default_deadline_ms[i] = fc.deadline[i];
    cfg->reg.max_evictions = fc.max_evictions;
    cfg->reg.reset_after_errors = fc.reset_after_errors;
    cfg->reg.default_keep_alive = fc.default_keep_alive;
    if (fc.default_keep_alive < 0 && fc.default_keep_alive != -1) {
        rc = file_error(err, path, "registry.default_keep_alive", -1,
                        "default_keep_alive must be -1 or a number of seconds >= 0");
        goto out;
    }

    if (fc.model_dirs.n > 0) {
        buf dirs = {0};
        for (size_t i = 0; i < fc.model_dirs.n; i++) {
            if (fc.model_dirs.items[i][0] != '/') {
                buf_free(&dirs);
                rc = file_error(err, path, "model_dirs", (int)i,
                                "model directory must be absolute: '%s'", fc.model_dirs.items[i]);
                goto out;
            }
            if (buf_printf(&dirs, "%s%s", i ? ":" : "", fc.model_dirs.items[i]) < 0) {
                buf_free(&dirs);
                rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
                goto out;
            }
        }
        free(cfg->model_dirs);
        cfg->model_dirs = (char *)dirs.data;
    }
    if (fc.client_priority.n > CONFIG_MAX_RULES) {
        rc = file_error(err, path, "scheduler.client_priority", -1, "more than %d entries",
                        CONFIG_MAX_RULES);
        goto out;
    }
    if (fc.client_priority.n > 0) {
        cfg->client_priority = calloc(fc.client_priority.n, sizeof(char *));
        if (!cfg->client_priority) {
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < fc.client_priority.n; i++) {
            client_priority_rule rule;
            hdm_err_clear(&sub);
            if (parse_rule(fc.client_priority.items[i], &rule, &sub) < 0) {
                rc = file_error(err, path, "scheduler.client_priority", (int)i, "%s", sub.msg);
                goto out;
            }
            if (!(cfg->client_priority[i] = strdup(fc.client_priority.items[i]))) {
                rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
                goto out;
            }
            cfg->n_client_priority++;
        }
        cfg->sched.client_priority = (const char **)cfg->client_priority;
        cfg->sched.n_client_priority = cfg->n_client_priority;
    }
    if (fc.preload.n > CONFIG_MAX_PRELOAD) {
        rc = file_error(err, path, "preload", -1, "more than %d entries", CONFIG_MAX_PRELOAD);
        goto out;
    }
    if (fc.preload.n > 0) {
        cfg->preload = calloc(fc.preload.n, sizeof(*cfg->preload));
        if (!cfg->preload) {
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < fc.preload.n; i++) {
            hdm_err_clear(&sub);
            if (parse_preload(fc.preload.items[i], &cfg->preload[i], &sub) < 0) {
                rc = file_error(err, path, "preload", (int)i, "%s", sub.msg);
                goto out;
            }
            cfg->n_preload++;
        }
    }
    rc = 0;
out:
    conf_free(file_keys, &fc);
    return rc;
}

static int apply_env(manager_config *cfg, hdm_err *err)
{
    const char *v;
    int rc;
    long n;
    if ((v = getenv("HAILO_DEVICE_SOCKET")) && *v &&
        (rc = set_socket(cfg, v, "HAILO_DEVICE_SOCKET", err)) < 0)
        return rc;
    if ((v = getenv("HAILO_DEVICE_SOCKET_MODE")) && *v &&
        (rc = set_socket_mode(cfg, v, "HAILO_DEVICE_SOCKET_MODE", err)) < 0)
        return rc;
    if ((v = getenv("HAILO_DEVICE_SOCKET_GROUP")) && *v &&
        (rc = replace_str(&cfg->socket_group, v)) < 0)
        return rc;
    if ((v = getenv("HAILO_DEVICE_HTTP_BIND")) &&
        (rc = set_http_bind(cfg, v, "HAILO_DEVICE_HTTP_BIND", err)) < 0)
        return rc;
    if ((v = getenv("HAILO_DEVICE_MAX_MESSAGE_BYTES")) && *v) {
        if (parse_long(v, 10, 1024, INT_MAX, &n) < 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "HAILO_DEVICE_MAX_MESSAGE_BYTES: '%s' is not a number of bytes "
                               "between 1024 and %d",
                               v, INT_MAX);
        cfg->max_message_bytes = (size_t)n;
    }
    if ((v = getenv("HAILO_DEVICE_MAX_EVICTIONS")) && *v) {
        if (parse_long(v, 10, 0, 1000, &n) < 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "HAILO_DEVICE_MAX_EVICTIONS: '%s' is not a number 0..1000", v);
        cfg->reg.max_evictions = (int)n;
    }
    if ((v = getenv("HAILO_DEVICE_GROUP_ID")) && *v && (rc = replace_str(&cfg->group_id, v)) < 0)
        return rc;
    if ((v = getenv("HAILO_DEVICE_MODEL_DIRS")) && *v &&
        (rc = replace_str(&cfg->model_dirs, v)) < 0)
        return rc;
    return 0;
}

static int apply_flags(manager_config *cfg, const flags *fl, hdm_err *err)
{
    int rc;
    if (fl->socket && (rc = set_socket(cfg, fl->socket, "--socket", err)) < 0)
        return rc;
    if (fl->backend && (rc = set_backend(cfg, fl->backend, "--backend", err)) < 0)
        return rc;
    if (fl->http_bind && (rc = set_http_bind(cfg, fl->http_bind, "--http-bind", err)) < 0)
        return rc;
    if (fl->sim_config && (rc = replace_str(&cfg->sim_config, fl->sim_config)) < 0)
        return rc;
    if (fl->scheduler && (rc = set_sched_mode(cfg, fl->scheduler, "--scheduler", err)) < 0)
        return rc;
    if (fl->log_level && (rc = set_log_level(cfg, fl->log_level, "--log-level", err)) < 0)
        return rc;
    return 0;
}

int config_load(manager_config *cfg, int argc, char **argv, hdm_err *err)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'},
        {"backend", required_argument, NULL, 'b'},
        {"http-bind", required_argument, NULL, 'H'},
        {"sim-config", required_argument, NULL, 'S'},
        {"config", required_argument, NULL, 'c'},
        {"scheduler", required_argument, NULL, 'q'},
        {"log-level", required_argument, NULL, 'l'},
        {"check-config", no_argument, NULL, 'C'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    flags fl;
    memset(&fl, 0, sizeof(fl));
    memset(cfg, 0, sizeof(*cfg));
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            fl.socket = optarg;
            break;
        case 'b':
            fl.backend = optarg;
            break;
        case 'H':
            fl.http_bind = optarg;
            break;
        case 'S':
            fl.sim_config = optarg;
            break;
        case 'c':
            fl.config = optarg;
            break;
        case 'q':
            fl.scheduler = optarg;
            break;
        case 'l':
            fl.log_level = optarg;
            break;
        case 'C':
            fl.check_config = true;
            break;
        case 'V':
            printf("hailo-device-manager %s\n", HDM_VERSION);
            return 1;
        case 'h':
            usage(stdout);
            return 1;
        default:
            if (optopt)
                return hdm_err_set(err, HDM_E_BAD_REQUEST, "option '%s' needs a value (see --help)",
                                   argv[optind - 1]);
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "unknown option '%s' (see --help)",
                               argv[optind - 1]);
        }
    }
    if (optind < argc)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "unexpected argument '%s' (see --help)",
                           argv[optind]);

    /* Layer 0: defaults. */
    cfg->check_config = fl.check_config;
    cfg->socket_mode = CONFIG_DEFAULT_SOCKET_MODE;
    cfg->max_message_bytes = FRAME_DEFAULT_MAX_BYTES;
    cfg->log_level = LOG_LEVEL_INFO;
    sched_config_defaults(&cfg->sched);
    registry_config_defaults(&cfg->reg);
    if (replace_str(&cfg->socket_path, CONFIG_DEFAULT_SOCKET) < 0 ||
        replace_str(&cfg->http_bind, CONFIG_DEFAULT_HTTP_BIND) < 0 ||
        replace_str(&cfg->model_dirs, CONFIG_DEFAULT_MODEL_DIRS) < 0 ||
        replace_str(&cfg->backend, "auto") < 0 ||
        replace_str(&cfg->group_id, CONFIG_DEFAULT_GROUP_ID) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");

    int rc;
    if (fl.config) {
        if ((rc = replace_str(&cfg->config_path, fl.config)) < 0)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        if ((rc = apply_file(cfg, err)) < 0)
            return rc;
    }
    if ((rc = apply_env(cfg, err)) < 0 || (rc = apply_flags(cfg, &fl, err)) < 0)
        return rc;
    if (cfg->check_config) {
        printf("%s: configuration OK\n", cfg->config_path ? cfg->config_path : "(no file)");
        return 1;
    }
    return 0;
}

void config_free(manager_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->config_path);
    free(cfg->socket_path);
    free(cfg->socket_group);
    free(cfg->http_bind);
    free(cfg->model_dirs);
    free(cfg->backend);
    free(cfg->sim_config);
    free(cfg->group_id);
    for (size_t i = 0; i < cfg->n_client_priority; i++)
        free(cfg->client_priority[i]);
    free(cfg->client_priority);
    for (size_t i = 0; i < cfg->n_preload; i++)
        preload_clear(&cfg->preload[i]);
    free(cfg->preload);
    memset(cfg, 0, sizeof(*cfg));
}
