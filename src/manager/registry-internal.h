/*
 * registry-internal.h - the registry's private state, shared by registry.c
 * (lifetime: load, evict, infer, expire) and registry-status.c (status and
 * metrics).  Nothing else includes this.
 */
#ifndef HDM_MANAGER_REGISTRY_INTERNAL_H
#define HDM_MANAGER_REGISTRY_INTERNAL_H

#include <pthread.h>

#include "manager/registry.h"
#include "manager/stats.h"

/* Distinct client names remembered per model for owner counts. */
#define REG_MAX_OWNERS 16
/* Spellings of a resident model's files remembered (model_path and the
 * paths in model_params, as clients wrote them). */
#define REG_MAX_ALIASES 16
/* Learned footprints remembered after unload (for proactive eviction). */
#define REG_MAX_FOOTPRINTS 256

/* A float as status prints it (pyfloat_repr), kept while the value stays:
 * status and ping show every model's times, and Python's repr is costly. */
typedef struct reg_float_text {
    double v;
    char text[32];
} reg_float_text;

struct reg_model {
    model_kind kind;
    char *path;
    char *model_type; /* as the loading request spelled it */
    backend_model *bm;
    double loaded_at, last_used; /* wall clock, unix seconds */
    reg_float_text loaded_at_text, last_used_text; /* status's printing of them (r->mu) */
    int64_t last_used_mono;      /* mono_ms(), for idle expiry */
    uint64_t last_use_seq;       /* r->use_seq at last use: LRU order without clock ties */
    uint64_t footprint;          /* bytes (learned, or estimated) */
    bool footprint_learned;
    double keep_alive; /* seconds; -1 pinned, 0 unload after use */
    uint64_t requests, errors;
    int in_use;                   /* acquired and not yet released (all workers) */
    bool draining;                /* to be unloaded once released: not acquired any more */
    char *owners[REG_MAX_OWNERS]; /* distinct client names that used it */
    int n_owners;
    struct reg_alias {              /* a path as requested -> canonical, both malloc'd */
        char *requested, *canonical;
    } aliases[REG_MAX_ALIASES];
    int n_aliases;
    struct reg_model *next;
};

typedef struct reg_footprint {
    model_kind kind;
    char *path;
    uint64_t bytes;
} reg_footprint;

struct registry {
    const backend_ops *ops;
    backend *dev;
    registry_config cfg;
    registry_check_fn load_check; /* may be NULL */
    void *load_check_ctx;
    pthread_mutex_t mu; /* guards everything below, for every thread */
    pthread_cond_t cv;  /* broadcast when a model is released, a change ends, a reset ends */
    bool changing;      /* a worker is loading, unloading or resetting: one at a time */
    bool reset_pending; /* repeated device errors: reset once no model is in use */
    char *reset_msg;    /* the last error, for the reset's log and reason */

    reg_model *models; /* most recently used first is NOT kept: scan */
    size_t n_models;
    uint64_t memory_total; /* accounting limit, 0 = unknown */

    reg_footprint footprints[REG_MAX_FOOTPRINTS];
    size_t n_footprints;

    uint64_t use_seq;
    int consecutive_errors;
    char *runtime_broken_reason;
    char *last_capacity_reason, *last_capacity_model;
    double last_capacity_at;

    /* Counters. */
    uint64_t loads, load_failures, unloads;
    uint64_t total_lru_evictions; /* both proactive and after resource-exhausted */
    uint64_t evict_proactive, evict_exhausted, evict_keep_alive, evict_genai_swap;
    uint64_t runtime_resets, runtime_reset_failures;
    stats_hist load_by_kind[MODEL_KIND__COUNT];
};

/* Sum of resident footprints (r->mu held). */
uint64_t registry_used_bytes(const registry *r);

#endif
