/*
 * model_keeper.c - the registration thread every service runs.
 *
 * DESIGN.  One background thread owns the registration so HTTP threads
 * never wait for it.  It runs the service's load callback and retries with
 * exponential backoff (200 ms up to 5 s) while that fails; /health says not
 * ready meanwhile.  Once loaded it pings the manager every 2 s.  A failed
 * ping, or a failure a request reported (svc_keeper_recheck), marks the
 * model not ready or makes the thread verify it, and the thread loads it
 * again when the manager answers, so a manager restart heals by itself.
 * What differs between the services (the load request, the warm-up, the log
 * wording, how a reported failure is verified) comes in svc_keeper_ops.
 */
#include "svc/model_keeper.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "common/timeutil.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000
#define WATCH_INTERVAL_MS 2000
#define PING_TIMEOUT_MS 2000

struct svc_keeper {
    svc_keeper_ops ops;
    hdm_client *client;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    bool joined;
    bool ready;
    bool reachable;
    bool recheck; /* a request saw a failure: verify soon */
    char reason[256];
    char backend[32];
    double load_ms;
};

/* Waits up to ms, or until stop or a recheck request; true when stopping. */
static bool wait_ms(svc_keeper *k, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&k->mu);
    while (!k->stop && !k->recheck)
        if (pthread_cond_timedwait(&k->cv, &k->mu, &ts) == ETIMEDOUT)
            break;
    bool stop = k->stop;
    pthread_mutex_unlock(&k->mu);
    return stop;
}

static void set_state(svc_keeper *k, bool ready, bool reachable, const char *reason)
{
    pthread_mutex_lock(&k->mu);
    /* Log transitions (and, when asked, each new reason), not every retry. */
    if (ready && !k->ready)
        log_info("model %s %s", k->ops.model_name, k->ops.ready_log);
    else if (!ready && (k->ready || (k->ops.log_each_reason && strcmp(k->reason, reason) != 0)))
        log_warn("model %s not ready: %s", k->ops.model_name, reason);
    k->ready = ready;
    k->reachable = reachable;
    snprintf(k->reason, sizeof(k->reason), "%s", reason ? reason : "");
    pthread_mutex_unlock(&k->mu);
}

static bool bool_get(svc_keeper *k, const bool *field)
{
    pthread_mutex_lock(&k->mu);
    bool v = *field;
    pthread_mutex_unlock(&k->mu);
    return v;
}

/* Learns which backend the manager runs ("sim", "hailort"), for /health. */
static void query_backend(svc_keeper *k)
{
    hdm_request *req = hdm_request_new(k->ops.status_action);
    hdm_response *resp = NULL;
    if (!req)
        return;
    const char *name = NULL;
    if (hdm_call(k->client, req, PING_TIMEOUT_MS, &resp) == 0) {
        const cJSON *j = hdm_response_json(resp);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "backend");
        const cJSON *dev = cJSON_GetObjectItemCaseSensitive(j, "device");
        const cJSON *arch = cJSON_GetObjectItemCaseSensitive(dev, "architecture");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(dev, "device_id");
        /* Older managers name no backend: guess it from the device. */
        if (cJSON_IsString(b))
            name = b->valuestring;
        else if ((cJSON_IsString(arch) && strcasestr(arch->valuestring, "sim")) ||
                 (cJSON_IsString(id) && strcasestr(id->valuestring, "sim")))
            name = "sim";
        else
            name = "hailort";
    }
    if (name) {
        pthread_mutex_lock(&k->mu);
        snprintf(k->backend, sizeof(k->backend), "%s", name);
        pthread_mutex_unlock(&k->mu);
    }
    hdm_response_free(resp);
    hdm_request_free(req);
}

/* The load of the one model the ops name (ops.load NULL). */
static int load_named_model(const svc_keeper *k, hdm_response **resp, bool *timed)
{
    if (k->ops.keep_alive == 0) {
        *timed = false;
        return hdm_ping(k->client, PING_TIMEOUT_MS);
    }
    return hdm_load_model(k->client, k->ops.model_type, k->ops.model_path, NULL, k->ops.keep_alive,
                          resp);
}

/* One load attempt; 0, or a negative code with `reason` filled. */
static int try_load(svc_keeper *k, char *reason, size_t len)
{
    hdm_response *resp = NULL;
    bool timed = true;
    double t0 = mono_s();
    int r = k->ops.load ? k->ops.load(k->ops.user, k->client, &resp, &timed)
                        : load_named_model(k, &resp, &timed);
    if (r < 0) {
        const char *why = resp ? hdm_response_error(resp) : NULL;
        snprintf(reason, len, "%s: %s",
                 -r == HDM_E_UNAVAILABLE ? "device manager unavailable" : "model load failed",
                 why ? why : hdm_strerror(r));
    } else if (timed) {
        pthread_mutex_lock(&k->mu);
        k->load_ms = (mono_s() - t0) * 1000.0;
        pthread_mutex_unlock(&k->mu);
    }
    hdm_response_free(resp);
    return r;
}

static void *keeper_thread(void *arg)
{
    svc_keeper *k = arg;
    int backoff = BACKOFF_MIN_MS;
    char reason[256];
    for (;;) {
        pthread_mutex_lock(&k->mu);
        bool stop = k->stop, ready = k->ready, again = k->recheck;
        k->recheck = false;
        pthread_mutex_unlock(&k->mu);
        if (stop)
            break;
        if (!ready || (again && !k->ops.ping_before_recheck)) {
            int r = try_load(k, reason, sizeof(reason));
            if (r == 0) {
                query_backend(k);
                set_state(k, true, true, NULL);
                backoff = BACKOFF_MIN_MS;
                if (k->ops.warmup)
                    k->ops.warmup(k->ops.warmup_user);
                continue;
            }
            set_state(k, false, -r != HDM_E_UNAVAILABLE, reason);
            if (wait_ms(k, backoff))
                break;
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        if (wait_ms(k, WATCH_INTERVAL_MS))
            break;
        if (!k->ops.ping_before_recheck && bool_get(k, &k->recheck))
            continue; /* the top of the loop reloads */
        int r = hdm_ping(k->client, PING_TIMEOUT_MS);
        if (r < 0) {
            snprintf(reason, sizeof(reason), "device manager unavailable: %s", hdm_strerror(r));
            set_state(k, false, false, reason);
        } else if (k->ops.ping_before_recheck && bool_get(k, &k->recheck)) {
            /* The manager answers: make sure the model is still there. */
            if ((r = try_load(k, reason, sizeof(reason))) < 0)
                set_state(k, false, -r != HDM_E_UNAVAILABLE, reason);
        }
    }
    return NULL;
}

int svc_keeper_start(const svc_keeper_ops *ops, hdm_client *client, svc_keeper **out)
{
    svc_keeper *k = calloc(1, sizeof(*k));
    if (!k)
        return -HDM_E_NOMEM;
    k->ops = *ops;
    k->client = client;
    snprintf(k->reason, sizeof(k->reason), "model is loading");
    snprintf(k->backend, sizeof(k->backend), "unknown");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&k->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&k->mu, NULL);
    /* Published before the thread runs: a warm-up reaches *out. */
    *out = k;
    if (pthread_create(&k->thread, NULL, keeper_thread, k) != 0) {
        *out = NULL;
        pthread_cond_destroy(&k->cv);
        pthread_mutex_destroy(&k->mu);
        free(k);
        return -HDM_E_NOMEM;
    }
    return 0;
}

void svc_keeper_halt(svc_keeper *k)
{
    if (!k || k->joined)
        return;
    pthread_mutex_lock(&k->mu);
    k->stop = true;
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
    pthread_join(k->thread, NULL);
    k->joined = true;
}

void svc_keeper_free(svc_keeper *k)
{
    if (!k)
        return;
    svc_keeper_halt(k);
    pthread_cond_destroy(&k->cv);
    pthread_mutex_destroy(&k->mu);
    free(k);
}

bool svc_keeper_ready(svc_keeper *k, char *reason, size_t len)
{
    pthread_mutex_lock(&k->mu);
    bool ready = k->ready;
    if (reason && len)
        snprintf(reason, len, "%s", k->reason);
    pthread_mutex_unlock(&k->mu);
    return ready;
}

void *svc_keeper_user(svc_keeper *k)
{
    return k->ops.user;
}

hdm_client *svc_keeper_client(svc_keeper *k)
{
    return k->client;
}

bool svc_keeper_reachable(svc_keeper *k)
{
    return bool_get(k, &k->reachable);
}

void svc_keeper_backend(svc_keeper *k, char *out, size_t len)
{
    pthread_mutex_lock(&k->mu);
    snprintf(out, len, "%s", k->backend);
    pthread_mutex_unlock(&k->mu);
}

double svc_keeper_load_ms(svc_keeper *k)
{
    pthread_mutex_lock(&k->mu);
    double v = k->load_ms;
    pthread_mutex_unlock(&k->mu);
    return v;
}

void svc_keeper_recheck(svc_keeper *k, const char *down_reason)
{
    pthread_mutex_lock(&k->mu);
    if (down_reason) {
        k->ready = false;
        snprintf(k->reason, sizeof(k->reason), "%s", down_reason);
    }
    k->recheck = true;
    pthread_cond_broadcast(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

void svc_keeper_report(svc_keeper *k, int code)
{
    int c = code < 0 ? -code : code;
    if (!k || (c != HDM_E_UNAVAILABLE && c != HDM_E_NOT_FOUND && c != HDM_E_DEVICE_ERROR &&
               c != HDM_E_PROTOCOL))
        return;
    svc_keeper_recheck(k, c == HDM_E_UNAVAILABLE ? "device manager unavailable" : NULL);
}

void svc_keeper_release(svc_keeper *k)
{
    if (!k || k->ops.load || !k->ops.model_type || k->ops.keep_alive >= 0)
        return;
    svc_keeper_halt(k);
    if (!svc_keeper_ready(k, NULL, 0))
        return; /* never loaded, or the manager is gone: nothing to release */
    hdm_response *resp = NULL;
    int r = hdm_unload_model(k->client, k->ops.model_type, k->ops.model_path, &resp);
    if (r < 0)
        log_warn("could not unload %s: %s", k->ops.model_path,
                 resp && hdm_response_error(resp) ? hdm_response_error(resp) : hdm_strerror(r));
    else
        log_info("unloaded %s (it was pinned for this service)", k->ops.model_path);
    hdm_response_free(resp);
    pthread_mutex_lock(&k->mu);
    k->ready = false; /* and a second release has nothing to unload */
    snprintf(k->reason, sizeof(k->reason), "model released");
    pthread_mutex_unlock(&k->mu);
}
