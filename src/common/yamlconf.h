/*
 * yamlconf.h - YAML config files mapped onto C structs by a key table
 * (after redis's static_configs).
 *
 * A file is read with libyaml into dotted keys ("server.port") with their
 * scalar value, line number, or list of scalars.  Each program declares a
 * table { "server.port", CONF_INT, offsetof(struct cfg, port), min, max }.
 * Unknown keys are warnings (returned through a callback, with their line),
 * bad values are errors reported as "file:line: message".  A null value
 * (null, ~, or nothing) leaves a key unset: it keeps its default.
 */
#ifndef HDM_COMMON_YAMLCONF_H
#define HDM_COMMON_YAMLCONF_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

typedef enum conf_type {
    CONF_STRING,    /* char * (malloc'd; previous value freed) */
    CONF_INT,       /* int, range [min, max] */
    CONF_DOUBLE,    /* double, range [min, max] */
    CONF_BOOL,      /* bool: true/false/yes/no/on/off/1/0 */
    CONF_STRLIST,   /* conf_strlist: a YAML sequence of scalars, or one scalar */
} conf_type;

typedef struct conf_strlist {
    char **items; /* malloc'd strings */
    size_t n;
} conf_strlist;

typedef struct conf_key {
    const char *name; /* dotted path */
    conf_type type;
    size_t offset;    /* offsetof into the target struct */
    double min, max;  /* for CONF_INT / CONF_DOUBLE */
} conf_key;

/* Called for keys that are not in the table (may be NULL: ignored). */
typedef void (*conf_unknown_cb)(void *user, const char *file, int line, const char *key);

/*
 * Loads `path` into `target` via `keys` (terminated by {NULL}).
 * Returns 0, or -HDM_E_BAD_REQUEST / -HDM_E_NOT_FOUND with err->msg
 * "path:line: message".  Mappings nest; sequences of mappings are rejected
 * unless the key is CONF_STRLIST of scalars.
 */
int conf_load_file(const char *path, const conf_key *keys, void *target,
                   conf_unknown_cb unknown, void *user, hdm_err *err);
/* Same from a string (`name` used in messages). */
int conf_load_string(const char *text, size_t len, const char *name, const conf_key *keys,
                     void *target, conf_unknown_cb unknown, void *user, hdm_err *err);
/* Sets one key from a string value ("server.port", "8080"), as a flag would. */
int conf_set(const conf_key *keys, void *target, const char *name, const char *value,
             hdm_err *err);
/* Frees CONF_STRING and CONF_STRLIST members named by `keys`. */
void conf_free(const conf_key *keys, void *target);
void conf_strlist_free(conf_strlist *l);

#endif
