/*
 * config-values.h - the value parsers of the manager's settings (config.c's
 * table points at them): each takes the text as written, checks it and
 * stores it in manager_config, or says what is wrong prefixed by `where`
 * (the YAML key, the environment variable or the flag).  Private to
 * config.c and config-values.c.
 */
#ifndef HDM_MANAGER_CONFIG_VALUES_H
#define HDM_MANAGER_CONFIG_VALUES_H

#include "config.h"

/* Strict parse of a whole string: decimal, or 0x/0o/0b as Python's int(s, 0)
 * reads them (the original manager's environment), or in `base` when base
 * is not 0.  Returns 0 and *out, or -1. */
int config_parse_long(const char *s, int base, long min, long max, long *out);

/* Replaces *slot with a copy of value (NULL clears it).  0 or -HDM_E_NOMEM. */
int config_replace_str(char **slot, const char *value);

int config_set_socket(manager_config *cfg, const char *value, const char *where, hdm_err *err);
int config_set_socket_mode(manager_config *cfg, const char *value, const char *where, hdm_err *err);
int config_set_http_bind(manager_config *cfg, const char *value, const char *where, hdm_err *err);
int config_set_backend(manager_config *cfg, const char *value, const char *where, hdm_err *err);
int config_set_log_level(manager_config *cfg, const char *value, const char *where, hdm_err *err);
int config_set_sched_mode(manager_config *cfg, const char *value, const char *where, hdm_err *err);
/* parallel_genai: auto | on | off (also true/false, yes/no). */
int config_set_parallel_genai(manager_config *cfg, const char *value, const char *where,
                              hdm_err *err);
/* registry.default_keep_alive: "none" (or empty/null), -1, or seconds. */
int config_set_keep_alive(manager_config *cfg, const char *value, const char *where, hdm_err *err);

/* scheduler.client_priority entry: "name=class" or "uid:N=class" (checked
 * here to report file:line; the scheduler applies them).  0 or a negative
 * code with err. */
int config_check_priority_rule(const char *text, hdm_err *err);

/* One preload entry, "model_type:path" or a JSON object.  0 or a negative
 * code with err; *p is cleared on failure. */
int config_parse_preload(const char *text, preload_entry *p, hdm_err *err);
void config_preload_clear(preload_entry *p);

/*
 * Line of `dotted` (or of its item-th list entry when item >= 0) in a
 * block-style YAML file, 0 when not found.  Only used to place messages.
 */
int config_find_key_line(const char *path, const char *dotted, int item);

#endif
