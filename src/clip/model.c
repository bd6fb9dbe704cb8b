/*
 * model.c - keeps hailo-clip's model registered with the device manager.
 *
 * DESIGN.  One background thread owns the registration so HTTP threads
 * never wait for it.  At start it sends load_model (clip, the image HEF as
 * model_path, the four model_params, keep_alive -1) and retries with
 * exponential backoff (200 ms up to 5 s) while the manager is not up; /health
 * says not ready meanwhile.  Once loaded it pings the manager every 2 s.  A
 * failed ping, or a request that saw the manager unavailable or the model
 * missing, marks the model not ready and the thread loads it again when the
 * manager answers, so a manager restart heals without restarting us.
 * Inference requests also carry model_params, so even a request that
 * arrives between a manager restart and our reload makes the manager load
 * the model itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clip/clip.h"
#include "common/log.h"

#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000
#define WATCH_INTERVAL_MS 2000
#define PING_TIMEOUT_MS 2000
#define CLIP_MODEL_TYPE "clip"

struct clip_model {
    const clip_config *cfg;
    hdm_client *client;
    void (*warmup)(void *user);
    void *warmup_user;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    bool ready;
    bool reachable;
    bool recheck;     /* a request saw a failure: verify soon */
    char reason[256];
    char backend[32];
};

cJSON *clip_model_params(const clip_config *cfg)
{
    cJSON *p = cJSON_CreateObject();
    if (!p || !cJSON_AddStringToObject(p, "image_hef_path", cfg->image_hef_path) ||
        !cJSON_AddStringToObject(p, "text_hef_path", cfg->text_hef_path) ||
        !cJSON_AddStringToObject(p, "text_input_layer", cfg->text_input_layer) ||
        !cJSON_AddStringToObject(p, "text_output_layer", cfg->text_output_layer)) {
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}

/* Waits up to ms, or until stop or a recheck request; true when stopping. */
static bool wait_ms(clip_model *m, int ms)
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

static void set_state(clip_model *m, bool ready, bool reachable, const char *reason)
{
    pthread_mutex_lock(&m->mu);
    if (m->ready != ready) {
        if (ready)
            log_info("model %s registered with the device manager", m->cfg->model_name);
        else
            log_warn("model %s not ready: %s", m->cfg->model_name, reason);
    }
    m->ready = ready;
    m->reachable = reachable;
    snprintf(m->reason, sizeof(m->reason), "%s", reason ? reason : "");
    pthread_mutex_unlock(&m->mu);
}

/* Learns the manager's backend ("sim", "hailort") for /health. */
static void query_backend(clip_model *m)
{
    hdm_request *req = hdm_request_new("status");
    hdm_response *resp = NULL;
    if (!req)
        return;
    if (hdm_call(m->client, req, PING_TIMEOUT_MS, &resp) == 0) {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(hdm_response_json(resp), "backend");
        if (cJSON_IsString(b)) {
            pthread_mutex_lock(&m->mu);
            snprintf(m->backend, sizeof(m->backend), "%s", b->valuestring);
            pthread_mutex_unlock(&m->mu);
        }
    }
    hdm_response_free(resp);
    hdm_request_free(req);
}

/* One load attempt; 0, or a negative code with `reason` filled. */
static int try_load(clip_model *m, char *reason, size_t len)
{
    hdm_response *resp = NULL;
    cJSON *params = clip_model_params(m->cfg);
    if (!params) {
        snprintf(reason, len, "out of memory");
        return -HDM_E_NOMEM;
    }
    int r = hdm_load_model(m->client, CLIP_MODEL_TYPE, m->cfg->image_hef_path, params, -1.0,
                           &resp);
    if (r < 0) {
        const char *why = resp ? hdm_response_error(resp) : NULL;
        snprintf(reason, len, "%s: %s",
                 -r == HDM_E_UNAVAILABLE ? "device manager unavailable" : "model load failed",
                 why ? why : hdm_strerror(r));
    }
    hdm_response_free(resp);
    cJSON_Delete(params);
    return r;
}

static void *model_thread(void *arg)
{
    clip_model *m = arg;
    int backoff = BACKOFF_MIN_MS;
    char reason[256];
    for (;;) {
        pthread_mutex_lock(&m->mu);
        bool stop = m->stop, ready = m->ready, again = m->recheck;
        m->recheck = false;
        pthread_mutex_unlock(&m->mu);
        if (stop)
            break;
        if (!ready || again) {
            int r = try_load(m, reason, sizeof(reason));
            if (r == 0) {
                query_backend(m);
                set_state(m, true, true, NULL);
                backoff = BACKOFF_MIN_MS;
                if (m->warmup)
                    m->warmup(m->warmup_user);
                continue;
            }
            set_state(m, false, -r != HDM_E_UNAVAILABLE, reason);
            if (wait_ms(m, backoff))
                break;
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        if (wait_ms(m, WATCH_INTERVAL_MS))
            break;
        pthread_mutex_lock(&m->mu);
        again = m->recheck;
        pthread_mutex_unlock(&m->mu);
        if (again)
            continue; /* the top of the loop reloads */
        int r = hdm_ping(m->client, PING_TIMEOUT_MS);
        if (r < 0) {
            snprintf(reason, sizeof(reason), "device manager unavailable: %s", hdm_strerror(r));
            set_state(m, false, false, reason);
        }
    }
    return NULL;
}

int clip_model_start(const clip_config *cfg, hdm_client *client, void (*warmup)(void *user),
                     void *user, clip_model **out)
{
    clip_model *m = calloc(1, sizeof(*m));
    if (!m)
        return -HDM_E_NOMEM;
    m->cfg = cfg;
    m->client = client;
    m->warmup = warmup;
    m->warmup_user = user;
    snprintf(m->reason, sizeof(m->reason), "model is loading");
    snprintf(m->backend, sizeof(m->backend), "unknown");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&m->mu, NULL);
    /* Published before the thread runs: its warm-up reaches *out. */
    *out = m;
    if (pthread_create(&m->thread, NULL, model_thread, m) != 0) {
        *out = NULL;
        pthread_cond_destroy(&m->cv);
        pthread_mutex_destroy(&m->mu);
        free(m);
        return -HDM_E_NOMEM;
    }
    return 0;
}

void clip_model_stop(clip_model *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = true;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
    pthread_cond_destroy(&m->cv);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

bool clip_model_ready(clip_model *m, char *reason, size_t len)
{
    pthread_mutex_lock(&m->mu);
    bool ready = m->ready;
    if (reason && len)
        snprintf(reason, len, "%s", m->reason);
    pthread_mutex_unlock(&m->mu);
    return ready;
}

bool clip_model_manager_reachable(clip_model *m)
{
    pthread_mutex_lock(&m->mu);
    bool r = m->reachable;
    pthread_mutex_unlock(&m->mu);
    return r;
}

void clip_model_backend(clip_model *m, char *out, size_t len)
{
    pthread_mutex_lock(&m->mu);
    snprintf(out, len, "%s", m->backend);
    pthread_mutex_unlock(&m->mu);
}

void clip_model_report_failure(clip_model *m, int code)
{
    /* Only failures that say the manager or the model went away matter
     * here; a bad input or a busy queue says nothing about registration. */
    int c = code < 0 ? -code : code;
    if (c != HDM_E_UNAVAILABLE && c != HDM_E_NOT_FOUND && c != HDM_E_DEVICE_ERROR &&
        c != HDM_E_PROTOCOL)
        return;
    pthread_mutex_lock(&m->mu);
    m->recheck = true;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}
