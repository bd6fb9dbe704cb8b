/*
 * model_keeper.h - keeps one service's model registered with the device
 * manager from a background thread (shared by every service).
 *
 * The thread loads the model (the one model named in the ops, or through
 * the service's own `load` callback),
 * retrying with exponential backoff (200 ms up to 5 s) while that fails,
 * then pings the manager every 2 s.  A failed ping, or a failure a request
 * reported, marks the model not ready and the thread loads it again once the
 * manager answers, so a manager restart heals without restarting the
 * service.  HTTP threads only read the state (ready, reason, reachable,
 * backend) and never wait for the manager.
 */
#ifndef HDM_SVC_MODEL_KEEPER_H
#define HDM_SVC_MODEL_KEEPER_H

#include <stdbool.h>
#include <stddef.h>

#include "hailodm.h"

typedef struct svc_keeper svc_keeper;

typedef struct svc_keeper_ops {
    const char *model_name;    /* named in the log lines */
    const char *ready_log;     /* logged as "model <name> <ready_log>" on becoming ready */
    bool log_each_reason;      /* warn on every new reason, not only on the transition */
    const char *status_action; /* request that tells the manager's backend ("status") */
    /* After a reported failure: ping first and reload in place (true), or
     * reload through the full load path (warm-up included) at once (false). */
    bool ping_before_recheck;
    /*
     * One load attempt on `client`: returns 0 or a negative HDM code; may
     * leave the manager's reply in *resp (freed by the keeper) so the reason
     * can quote its error.  *timed (starts true) set false when the attempt
     * was not a real load, so its duration is not reported as load time.
     */
    int (*load)(void *user, hdm_client *client, hdm_response **resp, bool *timed);
    void *user; /* passed to load */
    /*
     * Without `load`: the one model kept loaded, load_model(model_type,
     * model_path, keep_alive seconds; -1 pins it).  With keep_alive 0 the
     * model is resident only while a request runs, so the attempt is only a
     * ping and readiness means "the manager answers".
     */
    const char *model_type, *model_path;
    double keep_alive;
    void (*warmup)(void *user); /* may be NULL: runs after each full load */
    void *warmup_user;          /* passed to warmup */
} svc_keeper_ops;

/*
 * Starts the thread.  `ops` is copied; its strings and `client` must outlive
 * the keeper.  *out is set before the thread runs (a warm-up may reach it).
 * Returns 0 or -HDM_E_NOMEM.
 */
int svc_keeper_start(const svc_keeper_ops *ops, hdm_client *client, svc_keeper **out);
/* Stops and joins the thread; safe to call more than once. */
void svc_keeper_halt(svc_keeper *k);
/* Halts and frees.  Accepts NULL. */
void svc_keeper_free(svc_keeper *k);
/* Whether the model is loaded; `reason` (may be NULL) gets why not ("" when ready). */
bool svc_keeper_ready(svc_keeper *k, char *reason, size_t len);
/* The ops' user pointer and the client the keeper was started with. */
void *svc_keeper_user(svc_keeper *k);
hdm_client *svc_keeper_client(svc_keeper *k);
/* Whether the last contact with the manager reached it. */
bool svc_keeper_reachable(svc_keeper *k);
/* The manager's backend name ("sim", "hailort", or "unknown" before contact). */
void svc_keeper_backend(svc_keeper *k, char *out, size_t len);
/* Milliseconds the last timed successful load took (0 before one). */
double svc_keeper_load_ms(svc_keeper *k);
/*
 * Asks the thread to check the registration soon.  With `down_reason`
 * non-NULL the model is also marked not ready with that reason (quietly:
 * the thread logs what it finds).
 */
void svc_keeper_recheck(svc_keeper *k, const char *down_reason);
/*
 * What a request's failure `code` (negative or positive HDM_E_*) says about
 * the registration: the manager gone (unavailable: marked not ready at
 * once), the model gone (not_found), a device error or a broken protocol
 * make the thread check it; anything else (bad input, busy) is ignored.
 * Accepts NULL.
 */
void svc_keeper_report(svc_keeper *k, int code);
/*
 * For a model the keeper pinned (ops.model_type with keep_alive < 0):
 * halts the thread (so it does not load the model again) and unloads the
 * model if it is loaded, as the original services did on exit: a pinned
 * model would otherwise hold NPU memory for a service that is gone.
 * Anything else, or NULL: nothing.
 */
void svc_keeper_release(svc_keeper *k);

#endif
