/*
 * dashboard-history.c - per-interval samples and client rates from
 * successive status objects.
 */
#include "manager/dashboard-history.h"

#include <math.h>
#include <string.h>

#include "common/pyjson.h"

void dashboard_history_init(dashboard_history *h)
{
    memset(h, 0, sizeof(*h));
}

void dashboard_history_free(dashboard_history *h)
{
    cJSON_Delete(h->prev_clients);
    memset(h, 0, sizeof(*h));
}

void dashboard_history_restart(dashboard_history *h)
{
    h->have_prev = false;
    cJSON_Delete(h->prev_clients);
    h->prev_clients = NULL;
}

static double num(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* Sums `field`.count and `field`.sum_ms over status.model_types. */
static void kind_totals(const cJSON *status, const char *field, double *n, double *sum)
{
    const cJSON *kinds = cJSON_GetObjectItemCaseSensitive(status, "model_types");
    const cJSON *k;
    *n = *sum = 0;
    cJSON_ArrayForEach(k, kinds)
    {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(k, field);
        *n += num(f, "count");
        *sum += num(f, "sum_ms");
    }
}

/* Per-interval mean: NAN when nothing finished (or the totals went back). */
static double interval_mean(double n, double sum, double prev_n, double prev_sum)
{
    double dn = n - prev_n, ds = sum - prev_sum;
    if (!(dn > 0) || ds < 0)
        return NAN;
    return ds / dn;
}

void dashboard_history_annotate(const dashboard_history *h, cJSON *status, double mono)
{
    const cJSON *clients = cJSON_GetObjectItemCaseSensitive(status, "clients");
    cJSON *c;
    double dt = mono - h->prev_mono;
    cJSON_ArrayForEach(c, clients)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
        const cJSON *before =
            h->have_prev && h->prev_clients && cJSON_IsString(name)
                ? cJSON_GetObjectItemCaseSensitive(h->prev_clients, name->valuestring)
                : NULL;
        if (!cJSON_IsNumber(before) || !(dt > 0.05)) {
            cJSON_AddNullToObject(c, "rate_per_s");
            continue;
        }
        /* A recycled client entry starts again from 0: no negative rates. */
        double d = num(c, "requests") - before->valuedouble;
        double rate = d > 0 ? d / dt : 0;
        pyjson_add_float(c, "rate_per_s", round(rate * 100.0) / 100.0);
    }
}

int dashboard_history_record(dashboard_history *h, const cJSON *status, double now, double mono,
                             dashboard_sample *out)
{
    dashboard_sample s = {.t = now, .jobs_per_s = NAN, .wait_ms = NAN, .service_ms = NAN};
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(status, "memory");
    double wait_n, wait_sum, svc_n, svc_sum;
    int rc = 0;

    s.queue = num(status, "queue_depth");
    s.mem_used = num(mem, "used_bytes");
    s.mem_total = num(mem, "total_bytes");
    kind_totals(status, "wait_ms", &wait_n, &wait_sum);
    kind_totals(status, "service_ms", &svc_n, &svc_sum);
    if (h->have_prev && mono - h->prev_mono > 0.05) {
        double d = svc_n - h->prev_service_n;
        s.jobs_per_s = d > 0 ? d / (mono - h->prev_mono) : 0;
        s.wait_ms = interval_mean(wait_n, wait_sum, h->prev_wait_n, h->prev_wait_sum);
        s.service_ms = interval_mean(svc_n, svc_sum, h->prev_service_n, h->prev_service_sum);
    }

    h->ring[h->pos] = s;
    h->pos = (h->pos + 1) % DASHBOARD_HISTORY_MAX;
    if (h->len < DASHBOARD_HISTORY_MAX)
        h->len++;

    cJSON *clients = cJSON_CreateObject();
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(status, "clients"))
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
        if (clients && cJSON_IsString(name) &&
            !cJSON_AddNumberToObject(clients, name->valuestring, num(c, "requests"))) {
            cJSON_Delete(clients);
            clients = NULL;
        }
    }
    if (!clients)
        rc = -1;
    cJSON_Delete(h->prev_clients);
    h->prev_clients = clients;
    h->have_prev = true;
    h->prev_mono = mono;
    h->prev_wait_n = wait_n;
    h->prev_wait_sum = wait_sum;
    h->prev_service_n = svc_n;
    h->prev_service_sum = svc_sum;
    if (out)
        *out = s;
    return rc;
}

/* A figure for people: NaN as null, else rounded to 0.01. */
static bool add_figure(cJSON *o, const char *key, double v)
{
    if (isnan(v))
        return cJSON_AddNullToObject(o, key) != NULL;
    return pyjson_add_float(o, key, round(v * 100.0) / 100.0) != NULL;
}

cJSON *dashboard_sample_json(const dashboard_sample *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !pyjson_add_float(o, "t", round(s->t * 1000.0) / 1000.0) ||
        !cJSON_AddNumberToObject(o, "queue", s->queue) ||
        !cJSON_AddNumberToObject(o, "mem_used", s->mem_used) ||
        !cJSON_AddNumberToObject(o, "mem_total", s->mem_total) ||
        !add_figure(o, "jobs_per_s", s->jobs_per_s) || !add_figure(o, "wait_ms", s->wait_ms) ||
        !add_figure(o, "service_ms", s->service_ms)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *dashboard_history_json(const dashboard_history *h, double since)
{
    cJSON *arr = cJSON_CreateArray();
    size_t first = (h->pos + DASHBOARD_HISTORY_MAX - h->len) % DASHBOARD_HISTORY_MAX;
    for (size_t i = 0; arr && i < h->len; i++) {
        const dashboard_sample *s = &h->ring[(first + i) % DASHBOARD_HISTORY_MAX];
        if (!(s->t > since))
            continue;
        cJSON *o = dashboard_sample_json(s);
        if (!o) {
            cJSON_Delete(arr);
            return NULL;
        }
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}
