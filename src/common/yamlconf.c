/*
 * yamlconf.c - YAML config files mapped onto C structs by a key table.
 *
 * DESIGN: the file is read as a libyaml event stream, not loaded as a node
 * tree, so every value is applied as it is seen together with its line number
 * and nothing is held beyond the current dotted key.  Nested mappings extend
 * the key ("server:" then "port:" is "server.port").  Aliases are refused
 * outright: a config never needs them, and expanding them is how "billion
 * laughs" documents blow up memory; anchors alone are harmless and ignored.
 * Values are parsed by one function shared with conf_set(), so a command-line
 * flag and a config line accept exactly the same spellings and ranges.
 * A CONF_INT / CONF_DOUBLE key whose min and max are both 0 takes the whole
 * range of its C type.
 *
 * A null value (null, ~, or nothing after the colon) means "not set": the
 * key keeps its default, whatever its type, as if the line were absent.  The
 * original Python services ship files such as "seed: null", and a reader
 * that treats them as errors would refuse to start on them.  A null section
 * ("server:" alone, for keys "server.*") is not an unknown key either.
 */
#include "common/yamlconf.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#define CONF_KEY_MAX 256
#define CONF_DEPTH_MAX 32

typedef struct conf_ctx {
    yaml_parser_t parser;
    const char *name;
    const conf_key *keys;
    void *target;
    conf_unknown_cb unknown;
    void *user;
    hdm_err *err;
    char key[CONF_KEY_MAX];
} conf_ctx;

static const conf_key *find_key(const conf_key *keys, const char *name)
{
    for (const conf_key *k = keys; k != NULL && k->name != NULL; k++)
        if (strcmp(k->name, name) == 0)
            return k;
    return NULL;
}

void conf_strlist_free(conf_strlist *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void conf_free(const conf_key *keys, void *target)
{
    for (const conf_key *k = keys; k != NULL && k->name != NULL; k++) {
        char *field = (char *)target + k->offset;
        if (k->type == CONF_STRING) {
            char **s = (char **)(void *)field;
            free(*s);
            *s = NULL;
        } else if (k->type == CONF_STRLIST) {
            conf_strlist_free((conf_strlist *)(void *)field);
        }
    }
}

static int strlist_push(conf_strlist *l, const char *s, size_t len)
{
    char **items = realloc(l->items, (l->n + 1) * sizeof(*items));
    if (items == NULL)
        return -HDM_E_NOMEM;
    l->items = items;
    char *copy = strndup(s, len);
    if (copy == NULL)
        return -HDM_E_NOMEM;
    l->items[l->n++] = copy;
    return 0;
}

/* Replaces the list at `field` by `fresh` (taking it over). */
static void strlist_replace(void *field, conf_strlist *fresh)
{
    conf_strlist *dst = field;
    conf_strlist_free(dst);
    *dst = *fresh;
    fresh->items = NULL;
    fresh->n = 0;
}

static void int_range(const conf_key *k, double *lo, double *hi)
{
    *lo = k->min;
    *hi = k->max;
    if (*lo == 0 && *hi == 0) {
        *lo = INT_MIN;
        *hi = INT_MAX;
    }
}

/*
 * Parses `value` (len bytes) for key k into target.
 * Messages start with the key name; the caller adds "file:line: ".
 */
static int apply_value(const conf_key *k, void *target, const char *value, size_t len, hdm_err *err)
{
    void *field = (char *)target + k->offset;
    if (strlen(value) != len)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s: value contains a NUL byte", k->name);

    switch (k->type) {
    case CONF_STRING: {
        char *copy = strdup(value);
        if (copy == NULL)
            return hdm_err_set(err, HDM_E_NOMEM, "%s: out of memory", k->name);
        char **dst = field;
        free(*dst);
        *dst = copy;
        return 0;
    }
    case CONF_INT: {
        double lo, hi;
        int_range(k, &lo, &hi);
        char *end = NULL;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (end == value || *end != '\0' || errno == ERANGE || (double)v < lo || (double)v > hi)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "%s must be an integer from %.0f to %.0f (got \"%.64s\")", k->name,
                               lo, hi, value);
        *(int *)field = (int)v;
        return 0;
    }
    case CONF_DOUBLE: {
        double lo = k->min, hi = k->max;
        if (lo == 0 && hi == 0) {
            lo = -HUGE_VAL;
            hi = HUGE_VAL;
        }
        char *end = NULL;
        errno = 0;
        double v = strtod(value, &end);
        if (end == value || *end != '\0' || errno == ERANGE || !isfinite(v) || v < lo || v > hi)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "%s must be a number from %g to %g (got \"%.64s\")", k->name, lo, hi,
                               value);
        *(double *)field = v;
        return 0;
    }
    case CONF_BOOL: {
        static const char *const yes[] = {"true", "yes", "on", "1"};
        static const char *const no[] = {"false", "no", "off", "0"};
        for (size_t i = 0; i < 4; i++) {
            if (strcasecmp(value, yes[i]) == 0) {
                *(bool *)field = true;
                return 0;
            }
            if (strcasecmp(value, no[i]) == 0) {
                *(bool *)field = false;
                return 0;
            }
        }
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be true or false (got \"%.64s\")",
                           k->name, value);
    }
    case CONF_STRLIST: {
        conf_strlist fresh = {0};
        if (strlist_push(&fresh, value, len) < 0)
            return hdm_err_set(err, HDM_E_NOMEM, "%s: out of memory", k->name);
        strlist_replace(field, &fresh);
        return 0;
    }
    }
    return hdm_err_set(err, HDM_E_INTERNAL, "%s: unknown key type %d", k->name, (int)k->type);
}

int conf_set(const conf_key *keys, void *target, const char *name, const char *value, hdm_err *err)
{
    const conf_key *k = find_key(keys, name);
    if (k == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "unknown config key: %s", name);
    if (value == NULL)
        value = "";
    if (k->type != CONF_STRLIST)
        return apply_value(k, target, value, strlen(value), err);

    /* As a flag, a list is comma-separated; empty items are dropped. */
    conf_strlist fresh = {0};
    const char *p = value;
    while (*p != '\0') {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len > 0 && strlist_push(&fresh, p, len) < 0) {
            conf_strlist_free(&fresh);
            return hdm_err_set(err, HDM_E_NOMEM, "%s: out of memory", k->name);
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    strlist_replace((char *)target + k->offset, &fresh);
    return 0;
}

/* ---- reading the event stream ----------------------------------------- */

/* Sets "file:line: message" (line0 counts from 0, as libyaml's marks do). */
__attribute__((format(printf, 3, 4))) static int line_error(conf_ctx *c, size_t line0,
                                                            const char *fmt, ...)
{
    char msg[HDM_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return hdm_err_set(c->err, HDM_E_BAD_REQUEST, "%s:%zu: %s", c->name, line0 + 1, msg);
}

/* Next event; parse errors and aliases become errors. */
static int next_event(conf_ctx *c, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&c->parser, ev)) {
        const char *problem = c->parser.problem != NULL ? c->parser.problem : "invalid YAML";
        if (c->parser.context != NULL)
            return hdm_err_set(c->err, HDM_E_BAD_REQUEST, "%s:%zu: %s %s", c->name,
                               c->parser.problem_mark.line + 1, problem, c->parser.context);
        return hdm_err_set(c->err, HDM_E_BAD_REQUEST, "%s:%zu: %s", c->name,
                           c->parser.problem_mark.line + 1, problem);
    }
    if (ev->type == YAML_ALIAS_EVENT) {
        size_t line = ev->start_mark.line;
        char anchor[64];
        snprintf(anchor, sizeof(anchor), "%s", (const char *)ev->data.alias.anchor);
        yaml_event_delete(ev);
        return line_error(c, line, "aliases (*%s) are not supported in config files", anchor);
    }
    return 0;
}

static bool scalar_is_null(const yaml_event_t *ev)
{
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)ev->data.scalar.value;
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* Consumes the rest of a collection whose start event was just read. */
static int skip_collection(conf_ctx *c)
{
    int depth = 1;
    while (depth > 0) {
        yaml_event_t ev;
        int r = next_event(c, &ev);
        if (r < 0)
            return r;
        if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT)
            depth++;
        else if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT)
            depth--;
        yaml_event_delete(&ev);
    }
    return 0;
}

static int read_strlist(conf_ctx *c, const conf_key *k)
{
    conf_strlist fresh = {0};
    int r = 0;
    for (;;) {
        yaml_event_t ev;
        if ((r = next_event(c, &ev)) < 0)
            goto out;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        size_t line = ev.start_mark.line;
        if (ev.type != YAML_SCALAR_EVENT) {
            yaml_event_delete(&ev);
            r = line_error(c, line, "%s: list items must be single values", k->name);
            goto out;
        }
        const char *v = (const char *)ev.data.scalar.value;
        size_t len = ev.data.scalar.length;
        /* A null item ("- ~") names nothing and is skipped. */
        if (!scalar_is_null(&ev) && strlen(v) != len)
            r = line_error(c, line, "%s: value contains a NUL byte", k->name);
        else if (!scalar_is_null(&ev) && strlist_push(&fresh, v, len) < 0)
            r = hdm_err_set(c->err, HDM_E_NOMEM, "%s: out of memory", k->name);
        yaml_event_delete(&ev);
        if (r < 0)
            goto out;
    }
    strlist_replace((char *)c->target + k->offset, &fresh);
out:
    conf_strlist_free(&fresh);
    return r;
}

static int read_mapping(conf_ctx *c, size_t prefix_len, int depth);

/* True when `name` is the parent of some key ("server" of "server.port"). */
static bool is_section(const conf_key *keys, const char *name)
{
    size_t len = strlen(name);
    for (const conf_key *k = keys; k != NULL && k->name != NULL; k++)
        if (strncmp(k->name, name, len) == 0 && k->name[len] == '.')
            return true;
    return false;
}

/* Handles the value event `ev` of the key now in c->key. */
static int read_value(conf_ctx *c, yaml_event_t *ev, int depth)
{
    const conf_key *k = find_key(c->keys, c->key);
    size_t line = ev->start_mark.line;

    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        bool is_null = scalar_is_null(ev);
        if (k == NULL) {
            if (c->unknown != NULL && !(is_null && is_section(c->keys, c->key)))
                c->unknown(c->user, c->name, (int)line + 1, c->key);
            return 0;
        }
        if (is_null)
            return 0; /* not set: the default stays */
        int r = apply_value(k, c->target, (const char *)ev->data.scalar.value,
                            ev->data.scalar.length, c->err);
        if (r < 0)
            hdm_err_prefix(c->err, "%s:%zu", c->name, line + 1);
        return r;
    }
    case YAML_MAPPING_START_EVENT:
        if (k != NULL)
            return line_error(c, line, "%s: expected a single value, got a mapping", c->key);
        if (depth >= CONF_DEPTH_MAX)
            return line_error(c, line, "%s: mappings nest too deeply", c->key);
        return read_mapping(c, strlen(c->key), depth + 1);
    case YAML_SEQUENCE_START_EVENT:
        if (k != NULL && k->type == CONF_STRLIST)
            return read_strlist(c, k);
        if (k != NULL)
            return line_error(c, line, "%s: expected a single value, got a list", c->key);
        if (c->unknown != NULL)
            c->unknown(c->user, c->name, (int)line + 1, c->key);
        return skip_collection(c);
    default:
        return line_error(c, line, "%s: unexpected YAML event", c->key);
    }
}

/* Reads key/value pairs until the mapping ends; c->key[0..prefix_len) is the parent key. */
static int read_mapping(conf_ctx *c, size_t prefix_len, int depth)
{
    for (;;) {
        yaml_event_t ev;
        int r = next_event(c, &ev);
        if (r < 0)
            return r;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        size_t line = ev.start_mark.line;
        if (ev.type != YAML_SCALAR_EVENT || ev.data.scalar.length == 0) {
            yaml_event_delete(&ev);
            c->key[prefix_len] = '\0';
            return line_error(c, line, "keys must be non-empty plain names");
        }
        const char *name = (const char *)ev.data.scalar.value;
        size_t need = prefix_len + (prefix_len > 0) + ev.data.scalar.length;
        if (need >= sizeof(c->key) || strlen(name) != ev.data.scalar.length) {
            yaml_event_delete(&ev);
            return line_error(c, line, "key too long or contains a NUL byte");
        }
        if (prefix_len > 0)
            c->key[prefix_len] = '.';
        memcpy(c->key + prefix_len + (prefix_len > 0), name, ev.data.scalar.length + 1);
        yaml_event_delete(&ev);

        if ((r = next_event(c, &ev)) < 0)
            return r;
        r = read_value(c, &ev, depth);
        yaml_event_delete(&ev);
        c->key[prefix_len] = '\0';
        if (r < 0)
            return r;
    }
}

static int read_stream(conf_ctx *c)
{
    yaml_event_t ev;
    int r;
    bool seen_document = false;
    for (;;) {
        if ((r = next_event(c, &ev)) < 0)
            return r;
        yaml_event_type_t type = ev.type;
        size_t line = ev.start_mark.line;
        if (type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        if (type == YAML_STREAM_START_EVENT || type == YAML_DOCUMENT_END_EVENT) {
            yaml_event_delete(&ev);
            continue;
        }
        if (type == YAML_DOCUMENT_START_EVENT) {
            yaml_event_delete(&ev);
            if (seen_document)
                return line_error(c, line, "only one YAML document is allowed");
            seen_document = true;
            continue;
        }
        if (type == YAML_MAPPING_START_EVENT) {
            yaml_event_delete(&ev);
            c->key[0] = '\0';
            if ((r = read_mapping(c, 0, 0)) < 0)
                return r;
            continue;
        }
        /* An empty document ("---" alone) is a null scalar: nothing to set. */
        bool empty = type == YAML_SCALAR_EVENT && scalar_is_null(&ev);
        yaml_event_delete(&ev);
        if (!empty)
            return line_error(c, line, "the top level must be a mapping of keys");
    }
}

static int conf_run(conf_ctx *c)
{
    int r = read_stream(c);
    yaml_parser_delete(&c->parser);
    return r;
}

int conf_load_string(const char *text, size_t len, const char *name, const conf_key *keys,
                     void *target, conf_unknown_cb unknown, void *user, hdm_err *err)
{
    conf_ctx c = {.name = name != NULL ? name : "<string>",
                  .keys = keys,
                  .target = target,
                  .unknown = unknown,
                  .user = user,
                  .err = err};
    if (!yaml_parser_initialize(&c.parser))
        return hdm_err_set(err, HDM_E_NOMEM, "%s: out of memory", c.name);
    yaml_parser_set_input_string(&c.parser, (const unsigned char *)text, len);
    return conf_run(&c);
}

int conf_load_file(const char *path, const conf_key *keys, void *target, conf_unknown_cb unknown,
                   void *user, hdm_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        return hdm_err_set(err, e == ENOENT ? HDM_E_NOT_FOUND : HDM_E_BAD_REQUEST,
                           "%s: cannot open: %s", path, strerror(e));
    }
    conf_ctx c = {
        .name = path, .keys = keys, .target = target, .unknown = unknown, .user = user, .err = err};
    int r;
    if (!yaml_parser_initialize(&c.parser)) {
        r = hdm_err_set(err, HDM_E_NOMEM, "%s: out of memory", path);
    } else {
        yaml_parser_set_input_file(&c.parser, f);
        r = conf_run(&c);
    }
    fclose(f);
    return r;
}
