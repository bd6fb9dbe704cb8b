/*
 * registry.h - resident models and their lifetime.
 *
 * DESIGN: shared by the device's worker threads (one per lane, see
 * docs/SCHEDULING.md) and read by the loop and HTTP threads for status.  A
 * model is keyed by (kind, canonical path).  Loading evicts least-recently-
 * used unpinned models: proactively when footprints say it will not fit, and
 * on the backend's resource-exhausted error (bounded by max_evictions
 * retries).  Only one GenAI model may be resident: loading another unloads
 * the first.  After `reset_after_errors` consecutive device errors the
 * registry unloads everything, resets the backend, and records
 * runtime_broken_reason until a later success.
 *
 * Threads and what they may hold: a worker calls registry_acquire holding no
 * model, gets one (in use until registry_release), runs registry_infer on
 * it, and releases it; so a job holds at most one model and never waits for
 * anything while it holds one.  Inferences on different models run at the
 * same time on different workers; everything that changes what is resident
 * (a load with its evictions and swap, an unload, keep-alive expiry, the
 * runtime reset) is done by one worker at a time.  A load that must evict a
 * model another worker is using marks it draining (nobody acquires it any
 * more) and waits until it is released; the reset waits until no model is in
 * use.  Waiting calls give up when the job is cancelled or its deadline
 * passes (-HDM_E_CANCELLED / -HDM_E_DEADLINE_EXCEEDED, nothing changed).
 */
#ifndef HDM_MANAGER_REGISTRY_H
#define HDM_MANAGER_REGISTRY_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "common/buf.h"
#include "job.h"

typedef struct registry_config {
    int max_evictions;           /* HAILO_DEVICE_MAX_EVICTIONS, default 3 */
    int reset_after_errors;      /* default 3 */
    double default_keep_alive;   /* seconds a model stays after last use when the request gave
                                    none; default REGISTRY_KEEP_ALIVE_NONE */
    uint64_t memory_bytes;       /* device memory for accounting, 0 = from backend */
} registry_config;

/* keep_alive of a model that stays resident however long it is idle, until
 * memory pressure evicts it (the original manager's behaviour, and the
 * default).  -1 pins a model (never evicted); 0 unloads it after use. */
#define REGISTRY_KEEP_ALIVE_NONE HUGE_VAL
/* True when keep_alive k unloads an idle model after some seconds (k > 0, finite). */
static inline bool registry_keep_alive_expires(double k)
{
    return k > 0 && isfinite(k);
}

void registry_config_defaults(registry_config *cfg);

typedef struct registry registry;
typedef struct reg_model reg_model;

int registry_new(const backend_ops *ops, backend *dev, const registry_config *cfg,
                 registry **out);

/* Called (worker thread) right before a model's files are handed to the
 * backend to load: 0, or a negative code with err to refuse the load. */
typedef int (*registry_check_fn)(void *ctx, const model_spec *spec, hdm_err *err);
/* Sets the check run before every load (NULL: none). */
void registry_set_load_check(registry *r, registry_check_fn check, void *ctx);
void registry_free(registry *r);

/*
 * Makes the job's model resident (loading, evicting or swapping as needed)
 * and marks it in use by the caller, who must hold no other model.  Waits
 * while another worker changes what is resident, for models it must evict
 * that another worker is using, and for a pending runtime reset.  Sets *out
 * and *loaded_now.  Pinned models that prevent a fit give
 * -HDM_E_RESOURCE_EXHAUSTED naming them.
 */
int registry_acquire(registry *r, const job *j, reg_model **out, bool *loaded_now, hdm_err *err);
/* What the backend tells about an acquired model (OCR: detection_input_shape),
 * as a new object for load_model's "model_info"; NULL when it has nothing. */
cJSON *registry_model_info(registry *r, reg_model *m);
/* Runs one inference on an acquired model and updates last use, counters,
 * and the consecutive-device-error state (enough errors in a row ask for a
 * runtime reset, done as soon as no model is in use). */
int registry_infer(registry *r, reg_model *m, const job *j, const infer_hooks *hooks,
                   infer_output *out, hdm_err *err);
/* After a job: the model is no longer in use by it; applies keep_alive 0
 * (unload now, or at the next registry_expire when another worker is
 * changing what is resident) and runs a pending runtime reset when no model
 * is in use any more. */
void registry_release(registry *r, reg_model *m, const job *j);
/* unload_model of j's model: *was_loaded tells which message to answer.
 * Waits (as registry_acquire) while another worker changes what is resident. */
int registry_unload(registry *r, const job *j, bool *was_loaded, hdm_err *err);
/*
 * Between jobs (worker thread): runs a pending runtime reset (waiting for
 * the other workers to release their models), then unloads models idle
 * longer than their keep_alive.  Returns ms until the next expiry (-1 when
 * none), for the worker's wait.
 */
int registry_expire(registry *r);
/* Unloads everything (no worker may be running). */
void registry_unload_all(registry *r);
/* Thread-safe. */
bool registry_is_resident(registry *r, model_kind kind, const char *path);
/*
 * Thread-safe: the canonical path a resident model of `kind` was reached by
 * when a client wrote `requested` (its model_path or a path of its
 * model_params), as a malloc'd copy; NULL when no resident model knows that
 * spelling (or out of memory).  Lets requests for a loaded model skip the
 * file system: the model in memory came from the file checked then.
 */
char *registry_remembered_path(registry *r, model_kind kind, const char *requested);
/* Forgets every remembered spelling (the allowed directories changed). */
void registry_forget_paths(registry *r);
/* Thread-safe: adds loaded_models, total_lru_evictions, runtime_broken_reason,
 * last_capacity_event_*, memory and per-model figures to a status object. */
void registry_status_json(registry *r, cJSON *status, bool device_status_form);
void registry_metrics(registry *r, buf *out);
/* Thread-safe: adds "device_time", how the device spent its time (the sim's
 * NPU: busy, switch and wait time per lane), when the backend can tell. */
void registry_device_time_json(registry *r, cJSON *status);

#endif
