/*
 * worker.c - the device's worker threads: each takes jobs of its lanes from
 * the scheduler, runs them through the registry (the only path to the
 * backend), measures them, and hands them back for answering.
 *
 * DESIGN: between jobs a thread sleeps in sched_next_lanes for at most the
 * time until the next keep-alive expiry, so idle models are unloaded on time
 * without a timer thread touching the backend; every thread does this, so
 * the one that last released a model also times its expiry.  A job runs
 * start to end on one thread: its stream pieces come from that thread in
 * order, then its completion, so nothing of one answer is reordered.
 */
#include "manager/worker.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"

/* One thread: the lanes it takes. */
typedef struct worker_lane {
    struct worker *w;
    pthread_t thread;
    unsigned lanes; /* mask of 1u << sched_lane */
    bool started;
} worker_lane;

struct worker {
    sched *s;
    registry *r;
    worker_hooks hooks;
    worker_lane lane[SCHED_LANE__COUNT];
    int n_lanes;
};

/* Streaming glue: the backend's on_delta knows only its ctx. */
typedef struct delta_ctx {
    worker *w;
    job *j;
} delta_ctx;

static void on_delta(void *ctx, const char *text, size_t len)
{
    delta_ctx *d = ctx;
    if (d->w->hooks.delta)
        d->w->hooks.delta(d->w->hooks.ctx, d->j, text, len);
}

static void run_load(worker *w, job *j)
{
    reg_model *m = NULL;
    bool loaded_now = false;
    int64_t t0 = mono_ms();

    j->rc = registry_acquire(w->r, j, &m, &loaded_now, &j->err);
    if (j->rc) {
        j->failed_in = JOB_PHASE_LOAD;
        return;
    }
    if (loaded_now)
        j->load_time_ms = (double)(mono_ms() - t0);
    j->message = loaded_now ? "Model loaded" : "Model already loaded";
    j->out.result = registry_model_info(w->r, m);
    registry_release(w->r, m, j);
}

static void run_infer(worker *w, job *j)
{
    reg_model *m = NULL;
    bool loaded_now = false;
    int64_t t0 = mono_ms();
    delta_ctx dctx = {.w = w, .j = j};
    infer_hooks hooks = {
        .on_delta = j->stream ? on_delta : NULL,
        .ctx = &dctx,
        .cancelled = &j->cancelled,
        .deadline_ms = j->deadline_ms,
    };

    j->rc = registry_acquire(w->r, j, &m, &loaded_now, &j->err);
    if (j->rc) {
        j->failed_in = JOB_PHASE_LOAD;
        return;
    }
    if (loaded_now)
        j->load_time_ms = (double)(mono_ms() - t0);
    /* A deadline or a cancel that arrived during a long load: stop here. */
    if (atomic_load(&j->cancelled)) {
        j->rc = hdm_err_set(&j->err, HDM_E_CANCELLED, "Request cancelled");
    } else if (j->deadline_ms > 0 && mono_ms() >= j->deadline_ms) {
        j->rc = hdm_err_set(&j->err, HDM_E_DEADLINE_EXCEEDED,
                            "deadline exceeded after %lld ms (model load took %.0f ms)",
                            (long long)(mono_ms() - j->received_ms), j->load_time_ms);
    } else {
        int64_t t1 = mono_ms();
        j->rc = registry_infer(w->r, m, j, &hooks, &j->out, &j->err);
        j->inference_time_ms = mono_ms() - t1;
        if (j->rc) {
            j->failed_in = JOB_PHASE_INFER;
            infer_output_clear(&j->out);
        }
    }
    registry_release(w->r, m, j);
}

static void run_unload(worker *w, job *j)
{
    bool was_loaded = false;

    j->rc = registry_unload(w->r, j, &was_loaded, &j->err);
    if (j->rc == 0)
        j->message = was_loaded ? "Model unloaded" : "Model was not loaded";
}

static void run_job(worker *w, job *j)
{
    int64_t now = mono_ms();
    bool ran = false;

    j->started_ms = now;
    /* sched_next drops expired and cancelled work, but time passes. */
    if (atomic_load(&j->cancelled)) {
        j->rc = hdm_err_set(&j->err, HDM_E_CANCELLED, "Request cancelled");
    } else if (j->deadline_ms > 0 && now >= j->deadline_ms) {
        j->rc = hdm_err_set(&j->err, HDM_E_DEADLINE_EXCEEDED,
                            "deadline exceeded after %lld ms in queue",
                            (long long)(now - j->received_ms));
    } else {
        ran = true;
        sched_running_begin(w->s, j);
        switch (j->action) {
        case JOB_LOAD:
            run_load(w, j);
            break;
        case JOB_INFER:
            run_infer(w, j);
            break;
        case JOB_UNLOAD:
            run_unload(w, j);
            break;
        default:
            j->rc = hdm_err_set(&j->err, HDM_E_INTERNAL, "unknown job action %d", (int)j->action);
            break;
        }
        /* After this the loop may free j: no cancel may reach it any more. */
        sched_running_end(w->s, j);
    }
    j->finished_ms = mono_ms();
    if (j->rc)
        log_debug("worker: job %llu (%s %s) failed: %s", (unsigned long long)j->id,
                  j->model_type ? j->model_type : "?", j->model_path ? j->model_path : "?",
                  j->err.msg);
    if (ran)
        sched_record_service(w->s, j, j->finished_ms - j->started_ms);
    else
        sched_record_rejected(w->s, j->client_name, j->rc); /* counts it, no service time */
    w->hooks.complete(w->hooks.ctx, j);
}

static void *worker_main(void *arg)
{
    worker_lane *l = arg;
    worker *w = l->w;

    for (;;) {
        int wait_ms = registry_expire(w->r);
        job *j = sched_next_lanes(w->s, l->lanes, wait_ms);
        if (j) {
            run_job(w, j);
            continue;
        }
        if (sched_is_shutdown(w->s))
            break;
    }
    return NULL;
}

int worker_start(sched *s, registry *r, const worker_hooks *hooks, bool parallel, worker **out)
{
    worker *w;

    if (!s || !r || !hooks || !hooks->complete || !out)
        return -HDM_E_INTERNAL;
    w = calloc(1, sizeof *w);
    if (!w)
        return -HDM_E_NOMEM;
    w->s = s;
    w->r = r;
    w->hooks = *hooks;
    if (parallel) {
        w->n_lanes = SCHED_LANE__COUNT;
        for (int i = 0; i < SCHED_LANE__COUNT; i++)
            w->lane[i].lanes = 1u << i;
    } else {
        w->n_lanes = 1;
        w->lane[0].lanes = SCHED_LANES_ALL;
    }
    for (int i = 0; i < w->n_lanes; i++) {
        w->lane[i].w = w;
        if (pthread_create(&w->lane[i].thread, NULL, worker_main, &w->lane[i]) != 0) {
            log_error("worker: cannot start a device worker thread");
            worker_stop(w);
            return -HDM_E_INTERNAL;
        }
        w->lane[i].started = true;
    }
    *out = w;
    return 0;
}

int worker_lanes(const worker *w)
{
    return w ? w->n_lanes : 0;
}

void worker_stop(worker *w)
{
    if (!w)
        return;
    /* Idempotent: makes sched_next_lanes return NULL so the threads exit. */
    sched_shutdown(w->s);
    for (int i = 0; i < w->n_lanes; i++)
        if (w->lane[i].started)
            pthread_join(w->lane[i].thread, NULL);
    registry_unload_all(w->r);
    free(w);
}
