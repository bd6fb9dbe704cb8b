/*
 * model.c - keeps the VLM loaded on the device manager.
 *
 * DESIGN.  One background thread owns the model's lifecycle so HTTP threads
 * never wait for it: it loads the model at start (retrying with exponential
 * backoff, 200 ms up to 5 s, while the manager is not up), then pings the
 * manager every 2 s.  A failed ping, or a request that failed with
 * "unavailable", marks the model not ready (/health/ready answers 503 with
 * the reason) and the thread loads it again once the manager is back; a
 * manager restart therefore heals by itself.  libhailodm also replays the
 * load on reconnect, so a request that arrives first is not lost either.
 * With model.keep_alive 0 the model is only resident during a request, so
 * readiness means "the manager answers".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "vision/vision.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000
#define WATCH_INTERVAL_MS 2000
#define PING_TIMEOUT_MS 2000

struct vision_model {
    const vision_config *cfg;
    hdm_client *client;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    bool joined;
    bool ready;
    bool recheck;
    char reason[256];
    char backend[32];
    double load_ms;
};

/* Waits up to ms or until stop/recheck; returns true when stopping. */
static bool wait_ms(vision_model *m, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&m->mu);
    while (!m->stop && !m->recheck)
        if (pthread_cond_timedwait(&m->cv, &m->mu, &ts) == ETIMEDOUT)
            break;
    bool stop = m->stop;
    pthread_mutex_unlock(&m->mu);
    return stop;
}

static void set_state(vision_model *m, bool ready, const char *reason)
{
    pthread_mutex_lock(&m->mu);
    /* Log transitions and each new reason, not every retry. */
    if (ready && !m->ready)
        log_info("model %s ready", m->cfg->model_name);
    else if (!ready && (m->ready || strcmp(m->reason, reason) != 0))
        log_warn("model %s not ready: %s", m->cfg->model_name, reason);
    m->ready = ready;
    snprintf(m->reason, sizeof(m->reason), "%s", reason ? reason : "");
    pthread_mutex_unlock(&m->mu);
}

/* Learns which backend the manager runs, for /health. */
static void query_backend(vision_model *m)
{
    hdm_request *req = hdm_request_new("device_status");
    hdm_response *resp = NULL;
    if (!req)
        return;
    const char *name = NULL;
    if (hdm_call(m->client, req, PING_TIMEOUT_MS, &resp) == 0) {
        const cJSON *j = hdm_response_json(resp);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "backend");
        const cJSON *dev = cJSON_GetObjectItemCaseSensitive(j, "device");
        const cJSON *arch = cJSON_GetObjectItemCaseSensitive(dev, "architecture");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(dev, "device_id");
        if (cJSON_IsString(b))
            name = b->valuestring;
        else if ((cJSON_IsString(arch) && strcasestr(arch->valuestring, "sim")) ||
                 (cJSON_IsString(id) && strcasestr(id->valuestring, "sim")))
            name = "sim";
        else
            name = "hailort";
    }
    if (name) {
        pthread_mutex_lock(&m->mu);
        snprintf(m->backend, sizeof(m->backend), "%s", name);
        pthread_mutex_unlock(&m->mu);
    }
    hdm_response_free(resp);
    hdm_request_free(req);
}

/* One load attempt; returns 0 or a negative code with `reason` filled. */
static int try_load(vision_model *m, char *reason, size_t len)
{
    hdm_response *resp = NULL;
    int r;
    double t0 = mono_s();
    if (m->cfg->keep_alive == 0) {
        r = hdm_ping(m->client, PING_TIMEOUT_MS);
    } else {
        r = hdm_load_model(m->client, VISION_MODEL_TYPE, m->cfg->hef_path, NULL, m->cfg->keep_alive,
                           &resp);
    }
    if (r < 0) {
        const char *why = resp ? hdm_response_error(resp) : NULL;
        snprintf(reason, len, "%s: %s",
                 -r == HDM_E_UNAVAILABLE ? "device manager unavailable" : "model load failed",
                 why ? why : hdm_strerror(r));
    } else {
        pthread_mutex_lock(&m->mu);
        if (m->cfg->keep_alive != 0)
            m->load_ms = (mono_s() - t0) * 1000.0;
        pthread_mutex_unlock(&m->mu);
    }
    hdm_response_free(resp);
    return r;
}

static void *model_thread(void *arg)
{
    vision_model *m = arg;
    int backoff = BACKOFF_MIN_MS;
    char reason[256];
    for (;;) {
        pthread_mutex_lock(&m->mu);
        bool stop = m->stop, ready = m->ready;
        m->recheck = false;
        pthread_mutex_unlock(&m->mu);
        if (stop)
            break;
        if (!ready) {
            if (try_load(m, reason, sizeof(reason)) == 0) {
                query_backend(m);
                set_state(m, true, NULL);
                backoff = BACKOFF_MIN_MS;
                continue;
            }
            set_state(m, false, reason);
            if (wait_ms(m, backoff))
                break;
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        if (wait_ms(m, WATCH_INTERVAL_MS))
            break;
        int r = hdm_ping(m->client, PING_TIMEOUT_MS);
        if (r < 0) {
            snprintf(reason, sizeof(reason), "device manager unavailable: %s", hdm_strerror(r));
            set_state(m, false, reason);
        } else {
            pthread_mutex_lock(&m->mu);
            bool again = m->recheck;
            pthread_mutex_unlock(&m->mu);
            /* After a reported failure make sure the model is still there. */
            if (again && try_load(m, reason, sizeof(reason)) < 0)
                set_state(m, false, reason);
        }
    }
    return NULL;
}

int vision_model_start(const vision_config *cfg, hdm_client *client, vision_model **out)
{
    vision_model *m = calloc(1, sizeof(*m));
    if (!m)
        return -HDM_E_NOMEM;
    m->cfg = cfg;
    m->client = client;
    snprintf(m->reason, sizeof(m->reason), "model is loading");
    snprintf(m->backend, sizeof(m->backend), "unknown");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&m->mu, NULL);
    if (pthread_create(&m->thread, NULL, model_thread, m) != 0) {
        pthread_cond_destroy(&m->cv);
        pthread_mutex_destroy(&m->mu);
        free(m);
        return -HDM_E_NOMEM;
    }
    *out = m;
    return 0;
}

/* Stops the watcher thread (once). */
static void halt(vision_model *m)
{
    if (m->joined)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = true;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
    m->joined = true;
}

void vision_model_stop(vision_model *m)
{
    if (!m)
        return;
    halt(m);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void vision_model_release(vision_model *m)
{
    if (!m || m->cfg->keep_alive >= 0)
        return;
    halt(m); /* so the watcher does not load it again */
    if (!m->ready)
        return; /* never loaded, or the manager is gone: nothing to release */
    hdm_response *resp = NULL;
    int r = hdm_unload_model(m->client, VISION_MODEL_TYPE, m->cfg->hef_path, &resp);
    if (r < 0)
        log_warn("could not unload %s: %s", m->cfg->hef_path,
                 resp && hdm_response_error(resp) ? hdm_response_error(resp) : hdm_strerror(r));
    else
        log_info("unloaded %s (it was pinned for this service)", m->cfg->hef_path);
    hdm_response_free(resp);
}

bool vision_model_ready(vision_model *m, char *reason, size_t reason_len)
{
    pthread_mutex_lock(&m->mu);
    bool ready = m->ready;
    if (!ready && reason && reason_len)
        snprintf(reason, reason_len, "%s", m->reason);
    pthread_mutex_unlock(&m->mu);
    return ready;
}

double vision_model_load_ms(vision_model *m)
{
    pthread_mutex_lock(&m->mu);
    double v = m->load_ms;
    pthread_mutex_unlock(&m->mu);
    return v;
}

void vision_model_backend(vision_model *m, char *out, size_t out_len)
{
    pthread_mutex_lock(&m->mu);
    snprintf(out, out_len, "%s", m->backend);
    pthread_mutex_unlock(&m->mu);
}

void vision_model_report(vision_model *m, int code)
{
    if (!m)
        return;
    if (code < 0)
        code = -code;
    if (code != HDM_E_UNAVAILABLE && code != HDM_E_NOT_FOUND && code != HDM_E_DEVICE_ERROR)
        return;
    pthread_mutex_lock(&m->mu);
    if (code == HDM_E_UNAVAILABLE) {
        m->ready = false;
        snprintf(m->reason, sizeof(m->reason), "device manager unavailable");
    }
    m->recheck = true;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}
