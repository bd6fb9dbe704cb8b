/*
 * config.c - the manager's settings: one table, four layers.
 *
 * DESIGN: every setting is one row of `settings` (after redis's
 * static_configs): its YAML key, environment variable and flag, how its
 * value is read (an integer with bounds, a string, or a parser of
 * config-values.c) and where it lands in manager_config.  The layers are
 * applied in order, each overwriting the one before: built-in defaults, the
 * YAML file (--config), the environment, the flags.  The file is read by
 * common/yamlconf into a scratch slot per row; values that need more than a
 * range check are validated by the row's parser and reported as
 * "file:line: message", the line found by a small scan of the file
 * (yamlconf gives lines only for its own errors).  --help is written from
 * the same table.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/frame.h"
#include "common/yamlconf.h"
#include "config-values.h"

/* How a row's value is read and stored. */
typedef enum setting_type {
    SET_STRING, /* char *: any text (the file's null or empty: "") */
    SET_INT,    /* int in [min, max] */
    SET_SIZE,   /* size_t in [min, max] */
    SET_PARSER, /* text checked and stored by `parse` */
    SET_LIST,   /* file only: a YAML list handled by `list` */
} setting_type;

typedef struct setting setting;
/* Stores a list the file gave (items as written).  Reports its own errors as
 * "file:line: message" through config_file_error. */
typedef int (*setting_list_fn)(manager_config *cfg, const conf_strlist *items, const char *path,
                               hdm_err *err);

struct setting {
    const char *key;  /* YAML dotted key; NULL: not in the file */
    const char *env;  /* environment variable; NULL: none */
    const char *flag; /* long option (without "--"); NULL: none */
    setting_type type;
    size_t offset;    /* offsetof(manager_config, ...) for STRING/INT/SIZE */
    double min, max;  /* INT/SIZE bounds */
    const char *unit; /* "bytes": how env/flag errors name a number; NULL: plain */
    int (*parse)(manager_config *cfg, const char *value, const char *where, hdm_err *err);
    setting_list_fn list;
    bool env_empty_counts; /* an empty variable is a value (http_bind: off) */
    const char *arg;       /* --help: the flag's argument, e.g. "PATH" */
    const char *help;      /* --help: one line */
};

static int list_model_dirs(manager_config *cfg, const conf_strlist *items, const char *path,
                           hdm_err *err);
static int list_client_priority(manager_config *cfg, const conf_strlist *items, const char *path,
                                hdm_err *err);
static int list_preload(manager_config *cfg, const conf_strlist *items, const char *path,
                        hdm_err *err);
static int set_model_dirs(manager_config *cfg, const char *value, const char *where, hdm_err *err);
static int set_socket_group(manager_config *cfg, const char *value, const char *where,
                            hdm_err *err);
static int set_dashboard_services(manager_config *cfg, const char *value, const char *where,
                                  hdm_err *err);
static int list_dashboard_services(manager_config *cfg, const conf_strlist *items,
                                   const char *path, hdm_err *err);

#define F(field) offsetof(manager_config, field)
#define MS_DAY 86400000
/* One row per setting reads better than one line per field. */
/* clang-format off */
static const setting settings[] = {
    {.key = "socket", .env = "HAILO_DEVICE_SOCKET", .flag = "socket", .type = SET_PARSER,
     .parse = config_set_socket, .arg = "PATH",
     .help = "socket path (default " CONFIG_DEFAULT_SOCKET ")"},
    {.key = "socket_mode", .env = "HAILO_DEVICE_SOCKET_MODE", .type = SET_PARSER,
     .parse = config_set_socket_mode, .help = "socket file mode (default 0660)"},
    {.key = "socket_group", .env = "HAILO_DEVICE_SOCKET_GROUP", .type = SET_PARSER,
     .parse = set_socket_group, .help = "socket file group"},
    {.key = "http_bind", .env = "HAILO_DEVICE_HTTP_BIND", .flag = "http-bind", .type = SET_PARSER,
     .parse = config_set_http_bind, .env_empty_counts = true, .arg = "HOST:PORT",
     .help = "status endpoint, or 'off' (default " CONFIG_DEFAULT_HTTP_BIND ")"},
    {.key = "max_message_bytes", .env = "HAILO_DEVICE_MAX_MESSAGE_BYTES", .type = SET_SIZE,
     .offset = F(max_message_bytes), .min = 1024, .max = INT_MAX, .unit = "bytes",
     .help = "largest frame (default 64 MiB)"},
    {.key = "limits.frame_timeout_ms", .type = SET_INT, .offset = F(frame_timeout_ms), .min = 100,
     .max = 3600000},
    {.key = "limits.max_buffered_bytes", .type = SET_SIZE, .offset = F(max_buffered_bytes),
     .max = INT_MAX},
    {.key = "limits.stop_timeout_ms", .type = SET_INT, .offset = F(stop_timeout_ms), .min = 100,
     .max = 600000},
    {.key = "model_dirs", .env = "HAILO_DEVICE_MODEL_DIRS", .type = SET_LIST,
     .parse = set_model_dirs, .list = list_model_dirs,
     .help = "allowed model directories, colon-separated"},
    {.key = "backend", .flag = "backend", .type = SET_PARSER, .parse = config_set_backend,
     .arg = "NAME", .help = "auto | hailort | sim (default auto)"},
    {.key = "sim_config", .flag = "sim-config", .type = SET_STRING, .offset = F(sim_config),
     .arg = "FILE", .help = "simulator settings (sim backend)"},
    {.key = "log_level", .flag = "log-level", .type = SET_PARSER, .parse = config_set_log_level,
     .arg = "LEVEL", .help = "error | warn | info | debug (default info)"},
    {.key = "group_id", .env = "HAILO_DEVICE_GROUP_ID", .type = SET_STRING, .offset = F(group_id),
     .help = "HailoRT VDevice group (default " CONFIG_DEFAULT_GROUP_ID ")"},
    {.key = "parallel_genai", .env = "HAILO_DEVICE_PARALLEL_GENAI", .flag = "parallel-genai",
     .type = SET_PARSER, .parse = config_set_parallel_genai, .arg = "WHEN",
     .help = "dense jobs run beside a GenAI answer: auto | on | off (default auto)"},
    {.key = "scheduler.mode", .flag = "scheduler", .type = SET_PARSER,
     .parse = config_set_sched_mode, .arg = "MODE", .help = "fair | fifo (default fair)"},
    {.key = "scheduler.max_queue", .type = SET_SIZE, .offset = F(sched.max_queue), .min = 1,
     .max = 1000000},
    {.key = "scheduler.max_queue_per_client", .type = SET_SIZE,
     .offset = F(sched.max_queue_per_client), .min = 1, .max = 1000000},
    {.key = "scheduler.aging_ms", .type = SET_INT, .offset = F(sched.aging_ms), .max = MS_DAY},
    {.key = "scheduler.affinity_max_jobs", .type = SET_INT, .offset = F(sched.affinity_max_jobs),
     .max = 100000},
    {.key = "scheduler.affinity_max_ms", .type = SET_INT, .offset = F(sched.affinity_max_ms),
     .max = MS_DAY},
    {.key = "scheduler.deadline_ms.realtime", .type = SET_INT,
     .offset = F(sched.default_deadline_ms[PRIO_REALTIME]), .max = MS_DAY},
    {.key = "scheduler.deadline_ms.interactive", .type = SET_INT,
     .offset = F(sched.default_deadline_ms[PRIO_INTERACTIVE]), .max = MS_DAY},
    {.key = "scheduler.deadline_ms.normal", .type = SET_INT,
     .offset = F(sched.default_deadline_ms[PRIO_NORMAL]), .max = MS_DAY},
    {.key = "scheduler.deadline_ms.batch", .type = SET_INT,
     .offset = F(sched.default_deadline_ms[PRIO_BATCH]), .max = MS_DAY},
    {.key = "scheduler.client_priority", .type = SET_LIST, .list = list_client_priority},
    {.key = "registry.max_evictions", .env = "HAILO_DEVICE_MAX_EVICTIONS", .type = SET_INT,
     .offset = F(reg.max_evictions), .max = 1000, .help = "models evicted for one load (default 3)"},
    {.key = "registry.reset_after_errors", .type = SET_INT, .offset = F(reg.reset_after_errors),
     .min = 1, .max = 1000000},
    {.key = "registry.default_keep_alive", .type = SET_PARSER, .parse = config_set_keep_alive},
    {.key = "preload", .type = SET_LIST, .list = list_preload},
    {.key = "http_bearer_token", .env = "HAILO_DEVICE_HTTP_TOKEN", .type = SET_STRING,
     .offset = F(http_token), .help = "bearer token the status endpoint asks for (default none)"},
    {.key = "dashboard.dir", .env = "HAILO_DEVICE_DASHBOARD_DIR", .flag = "dashboard-dir",
     .type = SET_STRING, .offset = F(dashboard.dir), .arg = "DIR",
     .help = "the dashboard's files (default PROGRAM/../share/hailo-ai-services/dashboard)"},
    {.key = "dashboard.services", .env = "HAILO_DEVICE_DASHBOARD_SERVICES", .type = SET_LIST,
     .parse = set_dashboard_services, .list = list_dashboard_services,
     .help = "services the dashboard probes: NAME=http://ADDRESS[:PORT]/PATH,... or none "
             "(default: ours)"},
    {.key = "dashboard.interval_ms", .type = SET_INT, .offset = F(dashboard.interval_ms),
     .min = 100, .max = 60000},
    {.key = "dashboard.health_interval_ms", .type = SET_INT,
     .offset = F(dashboard.health_interval_ms), .min = 500, .max = 3600000},
    {.key = "dashboard.health_timeout_ms", .type = SET_INT,
     .offset = F(dashboard.health_timeout_ms), .min = 50, .max = 30000},
};
/* clang-format on */
#undef F
#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

/* Flags that are not settings. */
enum { OPT_CONFIG = 1000, OPT_CHECK, OPT_VERSION, OPT_HELP, OPT_SOCKET_PATH };

/* ---- messages ------------------------------------------------------------- */

/* Error for a value the file set: "file:line: message" (or "file: key: message"). */
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
    int line = config_find_key_line(path, key, item);
    if (line > 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s:%d: %s", path, line, msg);
    return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: %s: %s", path, key, msg);
}

static void usage(FILE *out)
{
    fprintf(out, "Usage: hailo-device-manager [OPTIONS]\n"
                 "Owns the Hailo NPU and serves load_model/infer/unload_model over a Unix "
                 "socket.\n\n");
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const setting *s = &settings[i];
        if (!s->flag)
            continue;
        char left[64];
        snprintf(left, sizeof(left), "--%s %s", s->flag, s->arg ? s->arg : "VALUE");
        fprintf(out, "  %-22s %s\n", left, s->help ? s->help : "");
    }
    fprintf(out, "  %-22s %s\n", "--socket-path PATH",
            "the same as --socket (the original's flag)");
    fprintf(out, "  %-22s %s\n", "--config FILE", "YAML config file");
    fprintf(out, "  %-22s %s\n", "--check-config",
            "validate the configuration, report file:line errors, exit");
    fprintf(out, "  %-22s %s\n", "--version", "print the version and exit");
    fprintf(out, "  %-22s %s\n", "--help", "print this help and exit");
    fprintf(out, "\nEnvironment (overrides the file; flags override both):\n");
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const setting *s = &settings[i];
        if (s->env)
            fprintf(out, "  %-31s %s\n", s->env, s->help ? s->help : s->key);
    }
    fprintf(out, "  default model directories: %s\n", CONFIG_DEFAULT_MODEL_DIRS);
}

/* ---- values from text (file strings, environment, flags) ------------------- */

/* Applies a textual value to row s; `where` names its source in messages. */
static int set_text(manager_config *cfg, const setting *s, const char *value, const char *where,
                    hdm_err *err)
{
    void *field = (char *)cfg + s->offset;
    long n;
    switch (s->type) {
    case SET_STRING:
        if (config_replace_str(field, value) < 0)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        return 0;
    case SET_INT:
    case SET_SIZE:
        if (config_parse_long(value, 0, (long)s->min, (long)s->max, &n) < 0) {
            if (s->unit)
                return hdm_err_set(err, HDM_E_BAD_REQUEST,
                                   "%s: '%s' is not a number of %s between %.0f and %.0f", where,
                                   value, s->unit, s->min, s->max);
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: '%s' is not a number %.0f..%.0f", where,
                               value, s->min, s->max);
        }
        if (s->type == SET_INT)
            *(int *)field = (int)n;
        else
            *(size_t *)field = (size_t)n;
        return 0;
    case SET_PARSER:
    case SET_LIST:
        if (s->parse)
            return s->parse(cfg, value, where, err);
        break;
    }
    return hdm_err_set(err, HDM_E_INTERNAL, "%s cannot be set from text", where);
}

static int set_socket_group(manager_config *cfg, const char *value, const char *where, hdm_err *err)
{
    (void)where;
    if (config_replace_str(&cfg->socket_group, value) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    return 0;
}

/* HAILO_DEVICE_MODEL_DIRS: colon-separated, taken as written. */
static int set_model_dirs(manager_config *cfg, const char *value, const char *where, hdm_err *err)
{
    (void)where;
    if (config_replace_str(&cfg->model_dirs, value) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    return 0;
}

/* HAILO_DEVICE_DASHBOARD_SERVICES: NAME=URL entries separated by commas, or "none". */
static int set_dashboard_services(manager_config *cfg, const char *value, const char *where,
                                  hdm_err *err)
{
    int rc = dashboard_config_set_services(&cfg->dashboard, value, err);
    return rc < 0 ? hdm_err_prefix(err, "%s", where) : 0;
}

/* ---- lists from the file ---------------------------------------------------- */

/* dashboard.services: NAME=URL items, or the one item "none".  An empty list
 * keeps the defaults (as model_dirs does). */
static int list_dashboard_services(manager_config *cfg, const conf_strlist *items,
                                   const char *path, hdm_err *err)
{
    if (items->n == 0)
        return 0;
    if (items->n == 1 && strcasecmp(items->items[0], "none") == 0)
        return dashboard_config_set_services(&cfg->dashboard, "none", err);
    if (items->n > DASHBOARD_MAX_SERVICES)
        return file_error(err, path, "dashboard.services", -1, "more than %d entries",
                          DASHBOARD_MAX_SERVICES);
    dashboard_service *list = NULL;
    size_t n = 0;
    for (size_t i = 0; i < items->n; i++) {
        hdm_err sub;
        hdm_err_clear(&sub);
        if (dashboard_service_add(&list, &n, items->items[i], &sub) < 0) {
            dashboard_services_free(list, n);
            if (sub.code == HDM_E_NOMEM)
                return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
            return file_error(err, path, "dashboard.services", (int)i, "%s", sub.msg);
        }
    }
    dashboard_services_free(cfg->dashboard.services, cfg->dashboard.n_services);
    cfg->dashboard.services = list;
    cfg->dashboard.n_services = n;
    return 0;
}

static int list_model_dirs(manager_config *cfg, const conf_strlist *items, const char *path,
                           hdm_err *err)
{
    if (items->n == 0)
        return 0;
    buf dirs = {0};
    for (size_t i = 0; i < items->n; i++) {
        if (items->items[i][0] != '/') {
            buf_free(&dirs);
            return file_error(err, path, "model_dirs", (int)i,
                              "model directory must be absolute: '%s'", items->items[i]);
        }
        if (buf_printf(&dirs, "%s%s", i ? ":" : "", items->items[i]) < 0) {
            buf_free(&dirs);
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        }
    }
    free(cfg->model_dirs);
    cfg->model_dirs = (char *)dirs.data;
    return 0;
}

static int list_client_priority(manager_config *cfg, const conf_strlist *items, const char *path,
                                hdm_err *err)
{
    if (items->n > CONFIG_MAX_RULES)
        return file_error(err, path, "scheduler.client_priority", -1, "more than %d entries",
                          CONFIG_MAX_RULES);
    if (items->n == 0)
        return 0;
    cfg->client_priority = calloc(items->n, sizeof(char *));
    if (!cfg->client_priority)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    for (size_t i = 0; i < items->n; i++) {
        hdm_err sub;
        hdm_err_clear(&sub);
        if (config_check_priority_rule(items->items[i], &sub) < 0)
            return file_error(err, path, "scheduler.client_priority", (int)i, "%s", sub.msg);
        if (!(cfg->client_priority[i] = strdup(items->items[i])))
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        cfg->n_client_priority++;
    }
    cfg->sched.client_priority = (const char **)cfg->client_priority;
    cfg->sched.n_client_priority = cfg->n_client_priority;
    return 0;
}

static int list_preload(manager_config *cfg, const conf_strlist *items, const char *path,
                        hdm_err *err)
{
    if (items->n > CONFIG_MAX_PRELOAD)
        return file_error(err, path, "preload", -1, "more than %d entries", CONFIG_MAX_PRELOAD);
    if (items->n == 0)
        return 0;
    cfg->preload = calloc(items->n, sizeof(*cfg->preload));
    if (!cfg->preload)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    for (size_t i = 0; i < items->n; i++) {
        hdm_err sub;
        hdm_err_clear(&sub);
        if (config_parse_preload(items->items[i], &cfg->preload[i], &sub) < 0)
            return file_error(err, path, "preload", (int)i, "%s", sub.msg);
        cfg->n_preload++;
    }
    return 0;
}

/* ---- layers ----------------------------------------------------------------- */

static void unknown_key(void *user, const char *file, int line, const char *key)
{
    manager_config *cfg = user;
    if (cfg->check_config)
        fprintf(stderr, "%s:%d: warning: unknown key '%s'\n", file, line, key);
    else
        log_warn("%s:%d: unknown key '%s' ignored", file, line, key);
}

/* What the file gave for one row (yamlconf writes here). */
typedef struct file_slot {
    char *str;
    int i;
    conf_strlist list;
} file_slot;

/* The file layer: yamlconf reads the rows' keys into slots, then each slot
 * the file set is applied to cfg. */
static int apply_file(manager_config *cfg, hdm_err *err)
{
    conf_key keys[N_SETTINGS + 1];
    file_slot slots[N_SETTINGS];
    size_t n = 0;
    memset(slots, 0, sizeof(slots));
    memset(keys, 0, sizeof(keys));
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const setting *s = &settings[i];
        if (!s->key)
            continue;
        conf_key *k = &keys[n++];
        k->name = s->key;
        k->min = s->min;
        k->max = s->max;
        const void *field = (const char *)cfg + s->offset;
        switch (s->type) {
        case SET_INT:
            k->type = CONF_INT;
            k->offset = offsetof(file_slot, i) + i * sizeof(file_slot);
            slots[i].i = *(const int *)field; /* unchanged unless the file sets it */
            break;
        case SET_SIZE:
            k->type = CONF_INT;
            k->offset = offsetof(file_slot, i) + i * sizeof(file_slot);
            slots[i].i = (int)*(const size_t *)field;
            break;
        case SET_LIST:
            k->type = CONF_STRLIST;
            k->offset = offsetof(file_slot, list) + i * sizeof(file_slot);
            break;
        case SET_STRING:
        case SET_PARSER:
            k->type = CONF_STRING;
            k->offset = offsetof(file_slot, str) + i * sizeof(file_slot);
            break;
        }
    }

    const char *path = cfg->config_path;
    int rc = conf_load_file(path, keys, slots, unknown_key, cfg, err);
    for (size_t i = 0; rc == 0 && i < N_SETTINGS; i++) {
        const setting *s = &settings[i];
        void *field = (char *)cfg + s->offset;
        hdm_err sub;
        hdm_err_clear(&sub);
        if (!s->key)
            continue;
        switch (s->type) {
        case SET_INT:
            *(int *)field = slots[i].i;
            break;
        case SET_SIZE:
            *(size_t *)field = (size_t)slots[i].i;
            break;
        case SET_LIST:
            rc = s->list(cfg, &slots[i].list, path, err);
            break;
        case SET_STRING:
        case SET_PARSER:
            if (slots[i].str && (rc = set_text(cfg, s, slots[i].str, s->key, &sub)) < 0)
                rc = sub.code == HDM_E_NOMEM ? hdm_err_set(err, HDM_E_NOMEM, "out of memory")
                                             : file_error(err, path, s->key, -1, "%s", sub.msg);
            break;
        }
    }
    conf_free(keys, slots);
    return rc;
}

static int apply_env(manager_config *cfg, hdm_err *err)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const setting *s = &settings[i];
        const char *v = s->env ? getenv(s->env) : NULL;
        if (!v || (!*v && !s->env_empty_counts))
            continue;
        int rc = set_text(cfg, s, v, s->env, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* A flag's value as given, per row (NULL when absent). */
typedef struct flags {
    const char *value[N_SETTINGS];
    const char *config;
    bool check_config;
} flags;

static int apply_flags(manager_config *cfg, const flags *fl, hdm_err *err)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (!fl->value[i])
            continue;
        char where[64];
        snprintf(where, sizeof(where), "--%s", settings[i].flag);
        int rc = set_text(cfg, &settings[i], fl->value[i], where, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static size_t setting_index(const char *flag)
{
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (settings[i].flag && strcmp(settings[i].flag, flag) == 0)
            return i;
    return N_SETTINGS;
}

/* Reads argv into fl.  Returns 0, 1 (--help/--version printed: exit 0), or
 * a negative code with err. */
static int parse_flags(int argc, char **argv, flags *fl, hdm_err *err)
{
    struct option opts[N_SETTINGS + 6];
    size_t n = 0;
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (settings[i].flag)
            opts[n++] = (struct option){settings[i].flag, required_argument, NULL, (int)i};
    opts[n++] = (struct option){"socket-path", required_argument, NULL, OPT_SOCKET_PATH};
    opts[n++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
    opts[n++] = (struct option){"check-config", no_argument, NULL, OPT_CHECK};
    opts[n++] = (struct option){"version", no_argument, NULL, OPT_VERSION};
    opts[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    opts[n] = (struct option){NULL, 0, NULL, 0};

    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c >= 0 && (size_t)c < N_SETTINGS) {
            fl->value[c] = optarg;
            continue;
        }
        switch (c) {
        case OPT_SOCKET_PATH:
            fl->value[setting_index("socket")] = optarg;
            break;
        case OPT_CONFIG:
            fl->config = optarg;
            break;
        case OPT_CHECK:
            fl->check_config = true;
            break;
        case OPT_VERSION:
            printf("hailo-device-manager %s\n", HDM_VERSION);
            return 1;
        case 'h':
        case OPT_HELP:
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
    return 0;
}

int config_load(manager_config *cfg, int argc, char **argv, hdm_err *err)
{
    flags fl;
    memset(&fl, 0, sizeof(fl));
    memset(cfg, 0, sizeof(*cfg));
    int rc = parse_flags(argc, argv, &fl, err);
    if (rc != 0)
        return rc;

    /* Layer 0: defaults. */
    cfg->check_config = fl.check_config;
    cfg->argc = argc;
    cfg->argv = argv;
    cfg->socket_mode = CONFIG_DEFAULT_SOCKET_MODE;
    cfg->max_message_bytes = FRAME_DEFAULT_MAX_BYTES;
    cfg->frame_timeout_ms = CONFIG_DEFAULT_FRAME_TIMEOUT_MS;
    cfg->stop_timeout_ms = CONFIG_DEFAULT_STOP_TIMEOUT_MS;
    cfg->log_level = LOG_LEVEL_INFO;
    sched_config_defaults(&cfg->sched);
    registry_config_defaults(&cfg->reg);
    if (config_replace_str(&cfg->socket_path, CONFIG_DEFAULT_SOCKET) < 0 ||
        config_replace_str(&cfg->http_bind, CONFIG_DEFAULT_HTTP_BIND) < 0 ||
        config_replace_str(&cfg->model_dirs, CONFIG_DEFAULT_MODEL_DIRS) < 0 ||
        config_replace_str(&cfg->backend, "auto") < 0 ||
        config_replace_str(&cfg->group_id, CONFIG_DEFAULT_GROUP_ID) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    if ((rc = dashboard_config_defaults(&cfg->dashboard, err)) < 0)
        return rc;

    if (fl.config) {
        if (config_replace_str(&cfg->config_path, fl.config) < 0)
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
    free(cfg->http_token);
    dashboard_config_free(&cfg->dashboard);
    for (size_t i = 0; i < cfg->n_client_priority; i++)
        free(cfg->client_priority[i]);
    free(cfg->client_priority);
    for (size_t i = 0; i < cfg->n_preload; i++)
        config_preload_clear(&cfg->preload[i]);
    free(cfg->preload);
    memset(cfg, 0, sizeof(*cfg));
}
