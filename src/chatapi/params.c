/*
 * params.c - OpenAI's generation parameters of a chat completions body.
 *
 * DESIGN.  Each parameter is checked as OpenAI checks it and an error names
 * it in *param; JSON null counts as absent (clients send None).  A
 * request's max_tokens (or max_completion_tokens, which wins) is capped at
 * the service's configured maximum rather than refused, so a client asking
 * for "as much as you can" gets that.  Unknown parameters are left to the
 * service.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chatapi/chatapi.h"

static bool is_null(const cJSON *v)
{
    return !v || cJSON_IsNull(v);
}

static int get_number(const cJSON *body, const char *name, double lo, double hi, double *out,
                      bool *given, const char **param, hdm_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    if (is_null(v))
        return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi) {
        *param = name;
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be a number between %g and %g", name,
                           lo, hi);
    }
    *out = v->valuedouble;
    *given = true;
    return 0;
}

static int get_int(const cJSON *v, const char *name, long lo, long hi, long *out,
                   const char **param, hdm_err *err)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)lo ||
        v->valuedouble > (double)hi) {
        *param = name;
        hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be an integer between %ld and %ld", name, lo,
                    hi);
        /* A constant the compiler can see is negative: callers read *out
         * only after a 0 (-O3 otherwise warns they might read it unset). */
        return -HDM_E_BAD_REQUEST;
    }
    *out = (long)v->valuedouble;
    return 0;
}

static int get_bool(const cJSON *obj, const char *name, bool *out, const char **param, hdm_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (is_null(v))
        return 0;
    if (!cJSON_IsBool(v)) {
        *param = name;
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be a boolean", name);
    }
    *out = cJSON_IsTrue(v);
    return 0;
}

static int parse_stop(const cJSON *v, chat_params *p, const char **param, hdm_err *err)
{
    if (is_null(v))
        return 0;
    *param = "stop";
    if (cJSON_IsString(v)) {
        if (strlen(v->valuestring) > CHAT_MAX_STOP_LEN)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "stop is longer than %d bytes",
                               CHAT_MAX_STOP_LEN);
        if (!(p->stop[0] = strdup(v->valuestring)))
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        p->n_stop = 1;
        return 0;
    }
    if (!cJSON_IsArray(v))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "stop must be a string or a list of at most %d strings", CHAT_MAX_STOP);
    int n = cJSON_GetArraySize(v);
    if (n > CHAT_MAX_STOP)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "stop has %d entries; at most %d are allowed", n,
                           CHAT_MAX_STOP);
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it))
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "stop[%d] must be a string", p->n_stop);
        if (strlen(it->valuestring) > CHAT_MAX_STOP_LEN)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "stop[%d] is longer than %d bytes",
                               p->n_stop, CHAT_MAX_STOP_LEN);
        if (!(p->stop[p->n_stop] = strdup(it->valuestring)))
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        p->n_stop++;
    }
    *param = NULL;
    return 0;
}

void chat_params_free(chat_params *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_stop; i++)
        free(p->stop[i]);
    p->n_stop = 0;
}

static int parse(const cJSON *body, const chat_defaults *d, chat_params *p, const char **param,
                 hdm_err *err)
{
    int r;

    if ((r = get_number(body, "temperature", 0, 2, &p->temperature, &p->has_temperature, param,
                        err)) < 0 ||
        (r = get_number(body, "top_p", 0, 1, &p->top_p, &p->has_top_p, param, err)) < 0)
        return r;
    static const char *const max_names[] = {"max_completion_tokens", "max_tokens"};
    for (size_t i = 0; i < 2; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, max_names[i]);
        long n;
        if (is_null(v))
            continue;
        if ((r = get_int(v, max_names[i], 1, INT_MAX, &n, param, err)) < 0)
            return r;
        /* The config caps what one request may ask for. */
        p->max_tokens = n < d->max_tokens ? (int)n : d->max_tokens;
        p->has_max_tokens = true;
        break;
    }
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(body, "seed");
    if (!is_null(seed)) {
        long s;
        if ((r = get_int(seed, "seed", 0, INT_MAX, &s, param, err)) < 0)
            return r;
        p->seed = (int)s;
    }
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(body, "n");
    if (!is_null(n)) {
        long nv;
        if ((r = get_int(n, "n", 1, 1, &nv, param, err)) < 0)
            return r;
    }
    if ((r = parse_stop(cJSON_GetObjectItemCaseSensitive(body, "stop"), p, param, err)) < 0)
        return r;
    if ((r = get_bool(body, "stream", &p->stream, param, err)) < 0)
        return r;
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(body, "stream_options");
    if (!is_null(so)) {
        if (!cJSON_IsObject(so)) {
            *param = "stream_options";
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "stream_options must be an object");
        }
        if ((r = get_bool(so, "include_usage", &p->include_usage, param, err)) < 0) {
            *param = "stream_options.include_usage";
            return r;
        }
    }
    return 0;
}

int openai_parse_params(const cJSON *body, const chat_defaults *d, chat_params *p,
                        const char **param, hdm_err *err)
{
    memset(p, 0, sizeof(*p));
    p->temperature = d->temperature;
    p->top_p = d->top_p;
    p->max_tokens = d->max_tokens;
    p->seed = d->seed;
    *param = NULL;
    int r = parse(body, d, p, param, err);
    if (r < 0)
        chat_params_free(p);
    return r;
}
