/*
 * pipeline.c - from an uploaded audio file to stitched segments: decode,
 * window, one manager call per window, stitch.  No HTTP here.
 *
 * DESIGN.  The upload is decoded where it lies in the request body
 * (audio_decode reads it in place), streamed in blocks through the
 * windower (at most one 30-s window of samples held, the original's
 * silence trimming per window when transcription.vad_filter is on), and
 * each window goes to the manager as one binary float32 [n] tensor (the
 * original sent a JSON list of floats, which broke past ~25 s).  The
 * model's segments count from their window's start; transcript_add_window
 * shifts them by the window's offset in the decoded audio, so timestamps
 * stay absolute across windows.  Memory per transcription is therefore
 * the upload (already in memory) plus libav's buffers and one window,
 * whatever the duration; the gate bounds how many run at once.
 *
 * Cancellation: the HTTP layer writes the job's cancel descriptor when the
 * client hangs up.  libhailodm watches it during a manager call (closing
 * the connection, so the manager drops the work), and the decode checks it
 * before each block it hands on, so an abandoned request stops within one
 * block of decoding or at once during a call.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio/audio.h"
#include "audio/audio_window.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "whisper/whisper.h"

/* A waiting transcription looks at its client this often (ms). */
#define GATE_POLL_MS 200

int whisper_app_init(whisper_app *app, const whisper_config *cfg)
{
    app->cfg = cfg;
    app->started_at = mono_s();
    app->started_wall = time(NULL);
    atomic_init(&app->transcriptions, 0);
    app->active = app->waiting = 0;
    if (pthread_mutex_init(&app->gate_mu, NULL) != 0)
        return -HDM_E_INTERNAL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int r = pthread_cond_init(&app->gate_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (r != 0) {
        pthread_mutex_destroy(&app->gate_mu);
        return -HDM_E_INTERNAL;
    }
    return 0;
}

void whisper_app_free(whisper_app *app)
{
    pthread_cond_destroy(&app->gate_cv);
    pthread_mutex_destroy(&app->gate_mu);
}

static bool fd_readable(int fd)
{
    if (fd < 0)
        return false;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP));
}

/* ---- the gate ---------------------------------------------------------- */

/* Takes a transcription slot, waiting for one while fewer than max_waiting
 * wait already.  0, -HDM_E_BUSY, or -HDM_E_CANCELLED (client gone). */
static int gate_enter(whisper_app *app, int cancel_fd, hdm_err *err)
{
    const whisper_config *cfg = app->cfg;
    int rc = 0;
    pthread_mutex_lock(&app->gate_mu);
    if (app->active >= cfg->max_concurrent) {
        if (app->waiting >= cfg->max_waiting) {
            rc = hdm_err_set(err, HDM_E_BUSY,
                             "%d transcriptions are running and %d waiting: try again later",
                             app->active, app->waiting);
            goto out;
        }
        app->waiting++;
        while (app->active >= cfg->max_concurrent) {
            if (fd_readable(cancel_fd)) {
                rc = hdm_err_set(err, HDM_E_CANCELLED, "the client went away");
                break;
            }
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_nsec += GATE_POLL_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&app->gate_cv, &app->gate_mu, &until);
        }
        app->waiting--;
        if (rc < 0)
            goto out;
    }
    app->active++;
out:
    pthread_mutex_unlock(&app->gate_mu);
    return rc;
}

static void gate_leave(whisper_app *app)
{
    pthread_mutex_lock(&app->gate_mu);
    app->active--;
    pthread_cond_signal(&app->gate_cv);
    pthread_mutex_unlock(&app->gate_mu);
}

/* ---- one window ---------------------------------------------------------- */

typedef struct run {
    whisper_app *app;
    whisper_job *job;
    audio_windower *w;
    bool last;           /* the window being sent is the recording's last */
    bool manager_failed; /* the error came from the manager (not the audio) */
} run;

/* The keep_alive a window's request carries (see WHISPER_KEEP_BETWEEN_WINDOWS_S). */
static double window_keep_alive(const run *r)
{
    double k = r->app->cfg->keep_alive;
    return k == 0 && !r->last ? WHISPER_KEEP_BETWEEN_WINDOWS_S : k;
}

/* A failed manager call as the service reports it. */
static int manager_failure(run *r, int rc, hdm_response *resp, hdm_err *err)
{
    whisper_job *job = r->job;
    r->manager_failed = true;
    if (rc == -HDM_E_CANCELLED && fd_readable(job->cancel_fd))
        return hdm_err_set(err, HDM_E_CANCELLED, "the client went away");
    const char *why = resp ? hdm_response_error(resp) : NULL;
    int code = rc < 0 ? -rc : HDM_E_INTERNAL;
    svc_keeper_report(r->app->model, code);
    /* Our request was wrong, not the client's: a 500, as any inference failure. */
    if (code == HDM_E_BAD_REQUEST || code == HDM_E_NOT_FOUND || code == HDM_E_UNSUPPORTED ||
        code == HDM_E_TOO_LARGE)
        code = HDM_E_INTERNAL;
    return hdm_err_set(err, code, "Device manager error: %s", why ? why : hdm_strerror(rc));
}

static int on_window(void *ctx, const float *samples, size_t n, uint64_t offset, hdm_err *err)
{
    run *r = ctx;
    whisper_app *app = r->app;
    const whisper_config *cfg = app->cfg;
    whisper_job *job = r->job;
    hdm_request *req = NULL;
    hdm_response *resp = NULL;
    cJSON *input;
    int rc;

    if (fd_readable(job->cancel_fd))
        return hdm_err_set(err, HDM_E_CANCELLED, "the client went away");
    hdm_tensor t = {
        .dtype = HDM_DT_FLOAT32,
        .ndim = 1,
        .shape = {(int64_t)n},
        .data = (void *)samples,
        .nbytes = n * sizeof(float),
    };
    req = hdm_request_new("infer");
    cJSON *j = req ? hdm_request_json(req) : NULL;
    if (!j || !cJSON_AddStringToObject(j, "model_type", WHISPER_MODEL_TYPE) ||
        !cJSON_AddStringToObject(j, "model_path", cfg->hef_path) ||
        !cJSON_AddNumberToObject(j, "keep_alive", window_keep_alive(r)) ||
        !(input = cJSON_AddObjectToObject(j, "input_data")) ||
        hdm_request_add_tensor(req, input, "audio", &t) < 0 ||
        (job->language && !cJSON_AddStringToObject(input, "language", job->language)) ||
        !cJSON_AddStringToObject(input, "task", job->translate ? "translate" : "transcribe")) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the manager request");
        goto out;
    }
    if (job->cancel_fd >= 0)
        hdm_request_set_cancel_fd(req, job->cancel_fd);
    rc = hdm_call(app->client, req, cfg->request_timeout_s * 1000, &resp);
    if (rc < 0) {
        rc = manager_failure(r, rc, resp, err);
        goto out;
    }
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(hdm_response_json(resp), "result");
    size_t first = job->tr.n;
    if ((rc = transcript_add_window(&job->tr, result, (double)offset / AUDIO_RATE,
                                    (double)n / AUDIO_RATE, err)) < 0) {
        r->manager_failed = true;
        hdm_err_prefix(err, "the model's answer");
        goto out;
    }
    job->windows++;
    if (job->on_segments)
        rc = job->on_segments(job->user, &job->tr, first, err);
out:
    hdm_response_free(resp);
    hdm_request_free(req);
    return rc;
}

/* The decoder's sink: stops at the next block once the client is gone. */
static int sink(void *ctx, const float *samples, size_t n, hdm_err *err)
{
    run *r = ctx;
    if (fd_readable(r->job->cancel_fd))
        return hdm_err_set(err, HDM_E_CANCELLED, "the client went away");
    return audio_windower_push(r->w, samples, n, err);
}

/* ---- the whole transcription ------------------------------------------------ */

static void limits(const whisper_config *cfg, audio_limits *lim)
{
    audio_limits_defaults(lim);
    lim->max_bytes = (uint64_t)cfg->max_file_bytes;
    lim->max_seconds = cfg->max_seconds;
    lim->max_cpu_ms = cfg->max_decode_ms;
}

/*
 * The audio's own problems as the service reports them: a duration over
 * the limit is the original's 400 (the size was checked before decoding, so
 * a too-large verdict on a file within it is about the duration); a spent
 * CPU budget is a limit like the size (413).
 */
static int audio_failure(int rc, size_t len, const audio_limits *lim, hdm_err *err)
{
    if (rc == -HDM_E_TOO_LARGE && len <= lim->max_bytes) {
        if (err)
            err->code = HDM_E_BAD_REQUEST;
        return -HDM_E_BAD_REQUEST;
    }
    if (rc == -HDM_E_DEADLINE_EXCEEDED) {
        char why[HDM_ERR_MSG_MAX] = "";
        if (err)
            snprintf(why, sizeof(why), "%s", err->msg);
        return hdm_err_set(err, HDM_E_TOO_LARGE, "%s (audio.max_decode_ms)", why);
    }
    return rc;
}

int whisper_probe(const whisper_app *app, const uint8_t *data, size_t len, const char *name_hint,
                  hdm_err *err)
{
    audio_limits lim;
    limits(app->cfg, &lim);
    int rc = audio_probe(data, len, name_hint, &lim, NULL, err);
    return rc < 0 ? audio_failure(rc, len, &lim, err) : 0;
}

int whisper_transcribe(whisper_app *app, whisper_job *job, hdm_err *err)
{
    const whisper_config *cfg = app->cfg;
    run r = {.app = app, .job = job};
    audio_limits lim;
    audio_window_opts wo;
    int rc;

    memset(&job->tr, 0, sizeof(job->tr));
    job->duration = 0;
    job->windows = 0;
    if ((rc = gate_enter(app, job->cancel_fd, err)) < 0)
        return rc;

    limits(cfg, &lim);
    audio_window_opts_defaults(&wo);
    wo.trim = cfg->vad_filter;
    if ((rc = audio_windower_new(&wo, on_window, &r, &r.w, err)) < 0)
        goto out;
    rc = audio_decode(job->data, job->len, job->name_hint, &lim, sink, &r, NULL, err);
    if (rc == 0) {
        r.last = true;
        rc = audio_windower_finish(r.w, err);
    }
    job->duration = (double)audio_windower_samples(r.w) / AUDIO_RATE;
    if (rc < 0 && !r.manager_failed)
        rc = audio_failure(rc, job->len, &lim, err);
out:
    audio_windower_free(r.w);
    gate_leave(app);
    if (rc == 0)
        atomic_fetch_add(&app->transcriptions, 1);
    return rc;
}

void whisper_job_free(whisper_job *job)
{
    if (job)
        transcript_free(&job->tr);
}

const char *whisper_reported_language(const whisper_job *job)
{
    if (job->translate)
        return "english";
    return job->language ? job->language : "auto";
}
