/*
 * config-values.c - checking and storing one setting's value (see
 * config-values.h); the table that says which setting uses which is in
 * config.c.
 */
#include "config-values.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int config_replace_str(char **slot, const char *value)
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

int config_parse_long(const char *s, int base, long min, long max, long *out)
{
    if (!s || !*s)
        return -1;
    const char *digits = s;
    bool negative = false;
    if (base == 0) {
        /* Python's int(s, 0): 0x, 0o, 0b prefixes; plain digits are decimal. */
        base = 10;
        if (*digits == '-' || *digits == '+')
            negative = *digits++ == '-';
        if (digits[0] == '0' && digits[1] && strchr("xXoObB", digits[1])) {
            base = tolower((unsigned char)digits[1]) == 'x'   ? 16
                   : tolower((unsigned char)digits[1]) == 'o' ? 8
                                                              : 2;
            digits += 2;
        }
        if (!*digits || *digits == '-' || *digits == '+' || isspace((unsigned char)*digits))
            return -1;
    }
    errno = 0;
    char *end;
    long v = strtol(digits, &end, base);
    if (negative)
        v = -v;
    if (errno || *end || end == digits || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int config_find_key_line(const char *path, const char *dotted, int item)
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
        /* snprintf, not strncat: aarch64 gcc 12 with Debian's hardening
         * flags warns about the strncat form (CI builds with -Werror). */
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

/* The parts of a client_priority entry. */
typedef struct client_priority_rule {
    bool by_uid;
    uid_t uid;
    char name[64];
    job_priority priority;
} client_priority_rule;

int config_check_priority_rule(const char *text, hdm_err *err)
{
    client_priority_rule r;
    client_priority_rule *rule = &r;
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
        if (config_parse_long(num, 10, 0, INT_MAX, &uid) < 0)
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

void config_preload_clear(preload_entry *p)
{
    free(p->model_type);
    free(p->model_path);
    cJSON_Delete(p->model_params);
    memset(p, 0, sizeof(*p));
}

int config_parse_preload(const char *text, preload_entry *p, hdm_err *err)
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
            config_preload_clear(p);
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
            config_preload_clear(p);
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        }
    }
    if (model_kind_parse(p->model_type, &kind) < 0) {
        int rc = hdm_err_set(err, HDM_E_BAD_REQUEST, "preload: Unsupported model_type: %s",
                             p->model_type);
        config_preload_clear(p);
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
    if (config_parse_long(colon + 1, 10, 0, 65535, &p) < 0 || hl == 0 || hl >= host_len ||
        strlen(colon + 1) >= port_len)
        return -1;
    memcpy(host, h, hl);
    host[hl] = 0;
    strcpy(port, colon + 1);
    return 0;
}

int config_set_http_bind(manager_config *cfg, const char *value, const char *where, hdm_err *err)
{
    /* The original manager's words for "no endpoint", and a bare port. */
    static const char *const off[] = {"", "off", "0", "false", "none", "disable", "disabled"};
    for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++)
        if (strcasecmp(value, off[i]) == 0)
            return config_replace_str(&cfg->http_bind, NULL);
    char host[256], port[16], bare[32];
    long n;
    if (!strchr(value, ':') && config_parse_long(value, 10, 1, 65535, &n) == 0) {
        snprintf(bare, sizeof(bare), "127.0.0.1:%ld", n);
        value = bare;
    }
    if (config_split_bind(value, host, sizeof(host), port, sizeof(port)) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: '%s' is not HOST:PORT or 'off'", where,
                           value);
    return config_replace_str(&cfg->http_bind, value);
}

int config_set_backend(manager_config *cfg, const char *value, const char *where, hdm_err *err)
{
    if (strcmp(value, "auto") && strcmp(value, "hailort") && strcmp(value, "sim"))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: unknown backend '%s' (auto, hailort, sim)",
                           where, value);
    return config_replace_str(&cfg->backend, value);
}

int config_set_socket_mode(manager_config *cfg, const char *value, const char *where, hdm_err *err)
{
    long mode;
    /* "0660" as systemd and chmod write it, "0o660" as Python does. */
    const char *digits =
        (value[0] == '0' && (value[1] == 'o' || value[1] == 'O')) ? value + 2 : value;
    if (config_parse_long(digits, 8, 0, 0777, &mode) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: '%s' is not an octal mode like 0660", where,
                           value);
    cfg->socket_mode = (mode_t)mode;
    return 0;
}

int config_set_log_level(manager_config *cfg, const char *value, const char *where, hdm_err *err)
{
    if (log_level_parse(value, &cfg->log_level) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: unknown log level '%s' (error, warn, info, debug)", where, value);
    return 0;
}

int config_set_sched_mode(manager_config *cfg, const char *value, const char *where, hdm_err *err)
{
    if (sched_mode_parse(value, &cfg->sched.mode) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: unknown scheduler mode '%s' (fair, fifo)",
                           where, value);
    return 0;
}

int config_set_parallel_genai(manager_config *cfg, const char *value, const char *where,
                              hdm_err *err)
{
    /* YAML 1.1 reads a bare on/off as a boolean: yamlconf hands over the
     * words as written, and true/false, yes/no mean the same here. */
    if (strcmp(value, "auto") == 0)
        cfg->parallel_genai = CONFIG_PARALLEL_AUTO;
    else if (strcmp(value, "on") == 0 || strcmp(value, "true") == 0 || strcmp(value, "yes") == 0)
        cfg->parallel_genai = CONFIG_PARALLEL_ON;
    else if (strcmp(value, "off") == 0 || strcmp(value, "false") == 0 || strcmp(value, "no") == 0)
        cfg->parallel_genai = CONFIG_PARALLEL_OFF;
    else
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: '%s' is not auto, on or off", where,
                           value);
    return 0;
}

int config_set_socket(manager_config *cfg, const char *value, const char *where, hdm_err *err)
{
    if (!value[0] || value[0] != '/')
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: socket path must be absolute: '%s'", where,
                           value);
    if (strlen(value) >= 108)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: socket path longer than 107 bytes", where);
    return config_replace_str(&cfg->socket_path, value);
}

int config_set_keep_alive(manager_config *cfg, const char *value, const char *where, hdm_err *err)
{
    if (!*value || strcasecmp(value, "none") == 0 || strcasecmp(value, "null") == 0) {
        cfg->reg.default_keep_alive = REGISTRY_KEEP_ALIVE_NONE;
        return 0;
    }
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (*end || errno || !isfinite(v) || (v < 0 && v != -1) || v > 1e9)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s: '%s' must be none (resident until memory is needed), -1 (pinned) "
                           "or a number of seconds from 0 to 1e9",
                           where, value);
    cfg->reg.default_keep_alive = v;
    return 0;
}
