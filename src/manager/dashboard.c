/*
 * dashboard.c - the sampler thread and the printed snapshots the page polls.
 */
#include "manager/dashboard.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/pyjson.h"
#include "common/timeutil.h"
#include "manager/dashboard-health.h"
#include "manager/dashboard-history.h"

struct dashboard {
    const dashboard_config *cfg;
    dashboard_status_fn status_fn;
    void *status_ctx;

    pthread_mutex_t mu;
    pthread_cond_t wake;  /* the sampler waits here (CLOCK_MONOTONIC) */
    pthread_cond_t fresh; /* polls wait here for a first snapshot */
    pthread_t thread;
    bool thread_started, thread_failed, stopping;
    int64_t watched_until; /* mono ms; the lease */
    /* The printed documents (under mu); NULL while nobody watches. */
    char *state, *history;
    size_t state_len, history_len;
    uint64_t generation; /* bumped with each new print */
    dashboard_stats stats;

    /* The sampler thread's own (no lock). */
    dashboard_history hist;
    dashboard_health *health; /* made at the first snapshot (1.5 KB a service) */
    int64_t next_probe;
};

int dashboard_lease_ms(const dashboard_config *cfg)
{
    return 3 * cfg->interval_ms + 2000;
}

int dashboard_new(const dashboard_config *cfg, dashboard_status_fn status_fn, void *status_ctx,
                  dashboard **out, hdm_err *err)
{
    dashboard *d = calloc(1, sizeof(*d));
    if (!d)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->wake, &ca);
    pthread_cond_init(&d->fresh, &ca);
    pthread_condattr_destroy(&ca);
    d->cfg = cfg;
    d->status_fn = status_fn;
    d->status_ctx = status_ctx;
    dashboard_history_init(&d->hist);
    *out = d;
    return 0;
}

void dashboard_free(dashboard *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->stopping = true;
    pthread_cond_broadcast(&d->wake);
    pthread_cond_broadcast(&d->fresh);
    bool join = d->thread_started;
    pthread_mutex_unlock(&d->mu);
    if (join)
        pthread_join(d->thread, NULL);
    free(d->state);
    free(d->history);
    dashboard_history_free(&d->hist);
    dashboard_health_free(d->health);
    pthread_cond_destroy(&d->wake);
    pthread_cond_destroy(&d->fresh);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

static struct timespec mono_deadline(int64_t at_ms)
{
    struct timespec ts = {.tv_sec = at_ms / 1000, .tv_nsec = (long)(at_ms % 1000) * 1000000L};
    return ts;
}

/* Adds item (taken, NULL when out of memory) to o under key. */
static bool add_taken(cJSON *o, const char *key, cJSON *item)
{
    if (item && cJSON_AddItemToObject(o, key, item))
        return true;
    cJSON_Delete(item);
    return false;
}

/* The state document around `status` (taken): status, services, sample. */
static char *print_state(dashboard *d, cJSON *status, const dashboard_sample *s, double now)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    if (!o) {
        cJSON_Delete(status);
        return NULL;
    }
    if (add_taken(o, "status", status) && pyjson_add_float(o, "t", now) &&
        cJSON_AddNumberToObject(o, "interval_ms", d->cfg->interval_ms) &&
        cJSON_AddNumberToObject(o, "health_interval_ms", d->cfg->health_interval_ms) &&
        add_taken(o, "services", dashboard_health_json(d->health)) &&
        add_taken(o, "sample", dashboard_sample_json(s)))
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

static char *print_history(dashboard *d, double now)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *samples = dashboard_history_json(&d->hist, 0);
    char *text = NULL;
    if (o && samples && pyjson_add_float(o, "t", now) &&
        cJSON_AddNumberToObject(o, "interval_ms", d->cfg->interval_ms) &&
        cJSON_AddItemToObject(o, "samples", samples)) {
        samples = NULL;
        text = cJSON_PrintUnformatted(o);
    }
    cJSON_Delete(samples);
    cJSON_Delete(o);
    return text;
}

/* Replaces the printed documents (either may be NULL: out of memory, the
 * old one stays) and wakes the waiting polls. */
static void publish(dashboard *d, char *state, char *history, bool snapshot)
{
    pthread_mutex_lock(&d->mu);
    if (snapshot)
        d->stats.snapshots++;
    if (state) {
        free(d->state);
        d->state = state;
        d->state_len = strlen(state);
    }
    if (history) {
        free(d->history);
        d->history = history;
        d->history_len = strlen(history);
    }
    d->generation++;
    pthread_cond_broadcast(&d->fresh);
    pthread_mutex_unlock(&d->mu);
}

/* One snapshot: status and sample; the service results as last probed.
 * The status object is kept for a second print after a probe round. */
static void sample_once(dashboard *d, bool first)
{
    double now = wall_s(), mono = mono_s();
    cJSON *status = d->status_fn(d->status_ctx);
    if (!status)
        return;
    if (first)
        dashboard_history_restart(&d->hist);
    dashboard_sample s;
    dashboard_history_annotate(&d->hist, status, mono);
    dashboard_history_record(&d->hist, status, now, mono, &s);

    if (!d->health && d->cfg->n_services > 0) {
        hdm_err err;
        hdm_err_clear(&err);
        /* Out of memory: the page shows no services this time. */
        dashboard_health_new(d->cfg->services, d->cfg->n_services, d->cfg->health_timeout_ms,
                             &d->health, &err);
    }
    bool probe = d->health && mono_ms() >= d->next_probe;
    cJSON *keep = probe ? cJSON_Duplicate(status, true) : NULL;
    char *history = print_history(d, now);
    publish(d, print_state(d, status, &s, now), history, true);
    if (!probe)
        return;
    /* The page shows the first snapshot at once; the health of each service
     * follows when the round ends (at most health_timeout_ms later). */
    hdm_err err;
    hdm_err_clear(&err);
    dashboard_health_probe(d->health, &err);
    d->next_probe = mono_ms() + d->cfg->health_interval_ms;
    pthread_mutex_lock(&d->mu);
    d->stats.probe_rounds++;
    pthread_mutex_unlock(&d->mu);
    if (keep)
        publish(d, print_state(d, keep, &s, now), NULL, false);
}

static void *sampler_main(void *arg)
{
    dashboard *d = arg;
    bool active = false;
    int64_t next = 0;
    pthread_mutex_lock(&d->mu);
    while (!d->stopping) {
        int64_t now = mono_ms();
        if (now >= d->watched_until) {
            /* Nobody watches: drop the prints and sleep until a poll. */
            if (active) {
                free(d->state);
                free(d->history);
                d->state = d->history = NULL;
                d->state_len = d->history_len = 0;
                d->stats.watched = 0;
                active = false;
            }
            pthread_cond_wait(&d->wake, &d->mu);
            continue;
        }
        if (now < next) {
            struct timespec ts = mono_deadline(next);
            pthread_cond_timedwait(&d->wake, &d->mu, &ts);
            continue;
        }
        bool first = !active;
        active = true;
        d->stats.watched = 1;
        if (first)
            d->next_probe = 0; /* a page that opens sees its services soon */
        pthread_mutex_unlock(&d->mu);
        sample_once(d, first);
        pthread_mutex_lock(&d->mu);
        next = now + d->cfg->interval_ms;
        if (mono_ms() > next)
            next = mono_ms(); /* a long probe round: no burst to catch up */
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

int dashboard_poll(dashboard *d, dashboard_doc doc, int wait_ms, char **out, size_t *len,
                   hdm_err *err)
{
    *out = NULL;
    *len = 0;
    int64_t now = mono_ms();
    int64_t deadline = now + (wait_ms > 0 ? wait_ms : 0);
    pthread_mutex_lock(&d->mu);
    bool was_watched = now < d->watched_until;
    d->watched_until = now + dashboard_lease_ms(d->cfg);
    if (!d->thread_started && !d->thread_failed && !d->stopping) {
        if (pthread_create(&d->thread, NULL, sampler_main, d) == 0)
            d->thread_started = true;
        else
            d->thread_failed = true;
    } else if (!was_watched) {
        pthread_cond_signal(&d->wake);
    }
    if (d->thread_failed) {
        pthread_mutex_unlock(&d->mu);
        return hdm_err_set(err, HDM_E_UNAVAILABLE, "cannot start the dashboard's sampler thread");
    }
    char **text = doc == DASHBOARD_STATE ? &d->state : &d->history;
    size_t *text_len = doc == DASHBOARD_STATE ? &d->state_len : &d->history_len;
    struct timespec ts = mono_deadline(deadline);
    while (!*text && !d->stopping) {
        if (pthread_cond_timedwait(&d->fresh, &d->mu, &ts) == ETIMEDOUT)
            break;
    }
    int rc = 0;
    if (!*text) {
        rc = hdm_err_set(err, HDM_E_UNAVAILABLE,
                         "the dashboard has no snapshot yet (the manager is busy): try again");
    } else {
        *out = malloc(*text_len + 1);
        if (!*out) {
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        } else {
            memcpy(*out, *text, *text_len + 1);
            *len = *text_len;
            d->stats.polls++;
        }
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

void dashboard_get_stats(dashboard *d, dashboard_stats *out)
{
    pthread_mutex_lock(&d->mu);
    *out = d->stats;
    pthread_mutex_unlock(&d->mu);
}
