/*
 * registry.h - resident models and their lifetime.
 *
 * DESIGN: owned by the device worker thread (all mutating calls come from
 * it); a mutex guards the table so the loop thread can read snapshots for
 * status.  A model is keyed by (kind, canonical path).  Loading evicts
 * least-recently-used unpinned models: proactively when footprints say it
 * will not fit, and on the backend's resource-exhausted error (bounded by
 * max_evictions retries).  Only one GenAI model may be resident: loading
 * another unloads the first.  After `reset_after_errors` consecutive device
 * errors the registry unloads everything, resets the backend, and records
 * runtime_broken_reason until a later success.
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
 * Makes the job's model resident (loading, evicting or swapping as needed).
 * Sets *out and *loaded_now.  Pinned models that prevent a fit give
 * -HDM_E_RESOURCE_EXHAUSTED naming them.
 */
int registry_acquire(registry *r, const job *j, reg_model **out, bool *loaded_now, hdm_err *err);
/* What the backend tells about an acquired model (OCR: detection_input_shape),
 * as a new object for load_model's "model_info"; NULL when it has nothing. */
cJSON *registry_model_info(registry *r, reg_model *m);
/* Runs one inference on an acquired model and updates last use, counters,
 * and the consecutive-device-error state (may reset the runtime). */
int registry_infer(registry *r, reg_model *m, const job *j, const infer_hooks *hooks,
                   infer_output *out, hdm_err *err);
/* After a job: applies keep_alive 0 (unload now). */
void registry_release(registry *r, reg_model *m, const job *j);
/* unload_model: *was_loaded tells which message to answer. */
int registry_unload(registry *r, model_kind kind, const char *path, bool *was_loaded,
                    hdm_err *err);
/* Unloads models idle longer than their keep_alive. Returns ms until the next
 * expiry (-1 when none), for the worker's wait. */
int registry_expire(registry *r);
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

#endif
