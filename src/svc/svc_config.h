/*
 * svc_config.h - config helpers the HTTP services share (their key tables
 * and checks stay their own).
 */
#ifndef HDM_SVC_SVC_CONFIG_H
#define HDM_SVC_SVC_CONFIG_H

#include "common/err.h"

/* Replaces *dst with a copy of v.  0 or -HDM_E_NOMEM (then *dst is kept). */
int svc_conf_set_str(char **dst, const char *v);
/* conf_unknown_cb: warns "file:line: unknown key K (ignored)" and goes on. */
void svc_conf_warn_unknown(void *user, const char *file, int line, const char *key);
/* When $env is set and not empty, *dst becomes a copy of it (a secret such
 * as the bearer token).  0, or -HDM_E_NOMEM with err set. */
int svc_conf_env_str(char **dst, const char *env, hdm_err *err);

#endif
