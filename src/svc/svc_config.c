/*
 * svc_config.c - see svc_config.h.
 */
#include "svc/svc_config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"

int svc_conf_set_str(char **dst, const char *v)
{
    char *s = strdup(v);
    if (!s)
        return -HDM_E_NOMEM;
    free(*dst);
    *dst = s;
    return 0;
}

void svc_conf_warn_unknown(void *user, const char *file, int line, const char *key)
{
    (void)user;
    log_warn("%s:%d: unknown key %s (ignored)", file, line, key);
}

int svc_conf_env_str(char **dst, const char *env, hdm_err *err)
{
    const char *v = getenv(env);
    if (v && *v && svc_conf_set_str(dst, v) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    return 0;
}
