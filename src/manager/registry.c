/*
 * registry.c - resident models: load (with GenAI swap, proactive and
 * on-error LRU eviction), inference bookkeeping, keep-alive expiry, unload,
 * and the runtime reset after repeated device errors.  Status and metrics
 * are in registry-status.c.
 *
 * DESIGN: the device's workers (one per lane) share the table.  r->mu guards
 * the table and every figure, for every thread, and is never held across a
 * backend call (loads and generations take seconds; status must not wait for
 * them).  What is resident changes under a second, coarser rule: one worker
 * at a time holds `changing` (taken and dropped under r->mu) while it loads,
 * unloads, expires or resets, so two loads never race for the same memory,
 * the accounting below stays exact, and a model is never unloaded twice.
 * Inferences need neither: a worker marks its model in use (in_use) under
 * r->mu and runs the backend on it unlocked while the other worker runs its
 * own model, or loads another.
 *
 * Waiting, always on r->cv with r->mu, in slices so a job's cancel flag and
 * deadline are seen: an acquire waits while another worker holds `changing`
 * (it may be loading this very model) or while its model is draining; a
 * change that must evict a model in use marks it draining and waits for its
 * release; the runtime reset waits until no model is in use.  No deadlock:
 * a worker waits only while holding no model (registry_acquire is called
 * holding none, and a release needs only r->mu), so every model in use is
 * held by a worker that is running, not waiting, and will release it.
 *
 * Memory accounting uses each model's footprint: learned from the backend
 * after a load (and remembered after unload, for the next load), estimated
 * by the backend before the first one.  When the sum says a load will not
 * fit, least-recently-used unpinned models are evicted first (idle ones
 * before ones another worker is using); when the device still answers
 * resource-exhausted, one more is evicted per retry, up to max_evictions.
 */
#include "manager/registry-internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/timeutil.h"

#define MIB(x) ((double)(x) / (1024.0 * 1024.0))
/* Longest single wait on r->cv: how soon a cancel or deadline is noticed. */
#define REG_WAIT_SLICE_MS 50
/* How soon registry_expire asks to be called again when a due expiry had
 * to wait for another worker's change. */
#define REG_EXPIRE_RETRY_MS 50

void registry_config_defaults(registry_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_evictions = 3;
    cfg->reset_after_errors = 3;
    cfg->default_keep_alive = REGISTRY_KEEP_ALIVE_NONE;
    cfg->memory_bytes = 0;
}

static int cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc)
        return rc;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (!rc)
        rc = pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

int registry_new(const backend_ops *ops, backend *dev, const registry_config *cfg, registry **out)
{
    registry *r;

    if (!ops || !ops->load || !ops->unload || !ops->infer || !out)
        return -HDM_E_INTERNAL;
    r = calloc(1, sizeof *r);
    if (!r)
        return -HDM_E_NOMEM;
    r->ops = ops;
    r->dev = dev;
    if (cfg)
        r->cfg = *cfg;
    else
        registry_config_defaults(&r->cfg);
    if (r->cfg.max_evictions < 0)
        r->cfg.max_evictions = 0;
    if (r->cfg.reset_after_errors < 1)
        r->cfg.reset_after_errors = 1;
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        free(r);
        return -HDM_E_INTERNAL;
    }
    if (cond_init_mono(&r->cv) != 0) {
        pthread_mutex_destroy(&r->mu);
        free(r);
        return -HDM_E_INTERNAL;
    }
    r->memory_total = r->cfg.memory_bytes;
    if (r->memory_total == 0 && ops->identify) {
        device_info info;
        memset(&info, 0, sizeof info);
        if (ops->identify(dev, &info, NULL) == 0)
            r->memory_total = info.memory_total_bytes;
    }
    *out = r;
    return 0;
}

void registry_set_load_check(registry *r, registry_check_fn check, void *ctx)
{
    r->load_check = check;
    r->load_check_ctx = ctx;
}

static void model_free(reg_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n_aliases; i++) {
        free(m->aliases[i].requested);
        free(m->aliases[i].canonical);
    }
    free(m->path);
    free(m->model_type);
    for (int i = 0; i < m->n_owners; i++)
        free(m->owners[i]);
    free(m);
}

void registry_free(registry *r)
{
    if (!r)
        return;
    registry_unload_all(r);
    for (size_t i = 0; i < r->n_footprints; i++)
        free(r->footprints[i].path);
    free(r->runtime_broken_reason);
    free(r->last_capacity_reason);
    free(r->last_capacity_model);
    free(r->reset_msg);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* ---- table helpers (r->mu held) ---- */

static reg_model *find(const registry *r, model_kind kind, const char *path)
{
    for (reg_model *m = r->models; m; m = m->next)
        if (m->kind == kind && strcmp(m->path, path) == 0)
            return m;
    return NULL;
}

static bool is_member(const registry *r, const reg_model *m)
{
    for (const reg_model *k = r->models; k; k = k->next)
        if (k == m)
            return true;
    return false;
}

static bool pinned(const reg_model *m)
{
    return m->keep_alive < 0;
}

static bool any_in_use(const registry *r)
{
    for (const reg_model *m = r->models; m; m = m->next)
        if (m->in_use > 0)
            return true;
    return false;
}

uint64_t registry_used_bytes(const registry *r)
{
    uint64_t used = 0;
    for (const reg_model *m = r->models; m; m = m->next)
        used += m->footprint;
    return used;
}

/* Replaces a malloc'd string field. */
static void set_str(char **field, const char *value)
{
    free(*field);
    *field = value ? strdup(value) : NULL;
}

static void capacity_event(registry *r, const char *reason, const char *model)
{
    set_str(&r->last_capacity_reason, reason);
    set_str(&r->last_capacity_model, model);
    r->last_capacity_at = wall_s();
}

/* Marks the model used now (LRU order and idle clock). */
static void touch(registry *r, reg_model *m)
{
    m->last_used = wall_s();
    m->last_used_mono = mono_ms();
    m->last_use_seq = ++r->use_seq;
}

/* ---- waiting (r->mu held) ---- */

/*
 * Waits on r->cv for at most one slice, then returns 0 (the caller checks
 * its condition again); or, before waiting, the job's cancellation or
 * passed deadline as an error naming what it waited for.  j may be NULL
 * (wait without limit).
 */
static int wait_slice(registry *r, const job *j, const char *what, hdm_err *err)
{
    int64_t now = mono_ms();
    if (j && atomic_load(&j->cancelled))
        return hdm_err_set(err, HDM_E_CANCELLED, "Request cancelled while waiting for %s", what);
    if (j && j->deadline_ms > 0 && now >= j->deadline_ms)
        return hdm_err_set(err, HDM_E_DEADLINE_EXCEEDED,
                           "deadline exceeded after %lld ms waiting for %s",
                           (long long)(now - j->received_ms), what);
    int64_t until = now + REG_WAIT_SLICE_MS;
    if (j && j->deadline_ms > 0 && j->deadline_ms < until)
        until = j->deadline_ms;
    struct timespec ts = {.tv_sec = (time_t)(until / 1000),
                          .tv_nsec = (long)((until % 1000) * 1000000L)};
    int rc = pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    (void)rc; /* ETIMEDOUT or a wake: the caller looks again either way */
    return 0;
}

/* Takes `changing` (waiting for another worker's change to end). */
static int begin_change(registry *r, const job *j, hdm_err *err)
{
    while (r->changing) {
        int rc = wait_slice(r, j, "another model to finish loading or unloading", err);
        if (rc)
            return rc;
    }
    r->changing = true;
    return 0;
}

static void end_change(registry *r)
{
    r->changing = false;
    pthread_cond_broadcast(&r->cv);
}

/*
 * Unlinks m, unloads it on the device (r->mu dropped meanwhile) and frees
 * it.  The caller holds `changing` and m is not in use.
 */
static void unload_model(registry *r, reg_model *m, const char *why)
{
    reg_model **pp = &r->models;
    while (*pp && *pp != m)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = m->next;
        r->n_models--;
    }
    pthread_mutex_unlock(&r->mu);
    r->ops->unload(r->dev, m->bm);
    log_info("registry: unloaded %s %s (%s)", m->model_type, m->path, why);
    model_free(m);
    pthread_mutex_lock(&r->mu);
}

/*
 * Evicts victim v for the caller's change (which holds `changing`): when
 * another worker is using it, marks it draining (no new acquire) and waits
 * for its release.  Gives up, leaving v resident and usable, when j is
 * cancelled or its deadline passes.
 */
static int evict(registry *r, reg_model *v, const job *j, const char *why, hdm_err *err)
{
    if (v->in_use > 0)
        log_info("registry: waiting for %s to be released (in use by another lane) to unload "
                 "it: %s",
                 v->path, why);
    v->draining = true;
    while (v->in_use > 0) {
        int rc = wait_slice(r, j, "a model in use by another lane to be released", err);
        if (rc) {
            v->draining = false;
            pthread_cond_broadcast(&r->cv);
            return rc;
        }
    }
    unload_model(r, v, why);
    return 0;
}

/* Least recently used model that may be evicted, or NULL: an idle one if
 * there is any; with `busy_too`, else one another worker is using. */
static reg_model *lru_victim(const registry *r, bool busy_too)
{
    reg_model *best = NULL, *best_busy = NULL;
    for (reg_model *m = r->models; m; m = m->next) {
        if (pinned(m))
            continue;
        if (m->in_use == 0) {
            if (!best || m->last_use_seq < best->last_use_seq)
                best = m;
        } else if (!best_busy || m->last_use_seq < best_busy->last_use_seq) {
            best_busy = m;
        }
    }
    return best ? best : busy_too ? best_busy : NULL;
}

/* "a.hef, b.hef" of pinned models into out; returns how many. */
static int pinned_names(const registry *r, char *out, size_t n)
{
    int count = 0;
    size_t o = 0;
    out[0] = 0;
    for (const reg_model *m = r->models; m; m = m->next) {
        if (!pinned(m))
            continue;
        int w = snprintf(out + o, n - o, "%s%s", count ? ", " : "", m->path);
        count++;
        if (w < 0 || (size_t)w >= n - o) {
            o = n - 1;
            break;
        }
        o += (size_t)w;
    }
    return count;
}

static uint64_t footprint_known(const registry *r, model_kind kind, const char *path)
{
    for (size_t i = 0; i < r->n_footprints; i++)
        if (r->footprints[i].kind == kind && strcmp(r->footprints[i].path, path) == 0)
            return r->footprints[i].bytes;
    return 0;
}

static void footprint_remember(registry *r, model_kind kind, const char *path, uint64_t bytes)
{
    size_t i;
    for (i = 0; i < r->n_footprints; i++)
        if (r->footprints[i].kind == kind && strcmp(r->footprints[i].path, path) == 0) {
            r->footprints[i].bytes = bytes;
            return;
        }
    char *p = strdup(path);
    if (!p)
        return;
    if (r->n_footprints == REG_MAX_FOOTPRINTS) {
        /* Forget the oldest entry: it only costs an estimate next time. */
        free(r->footprints[0].path);
        memmove(&r->footprints[0], &r->footprints[1],
                (REG_MAX_FOOTPRINTS - 1) * sizeof r->footprints[0]);
        r->n_footprints--;
    }
    r->footprints[r->n_footprints++] = (reg_footprint){.kind = kind, .path = p, .bytes = bytes};
}

/* Remembers the job's path spellings for m (bounded; a spelling not kept is
 * only looked up on the file system again). */
static void add_aliases(reg_model *m, const job *j)
{
    for (size_t i = 0; i < j->n_aliases && m->n_aliases < REG_MAX_ALIASES; i++) {
        bool known = false;
        for (int k = 0; k < m->n_aliases && !known; k++)
            known = strcmp(m->aliases[k].requested, j->aliases[i].requested) == 0;
        if (known)
            continue;
        char *req = strdup(j->aliases[i].requested), *canon = strdup(j->aliases[i].canonical);
        if (!req || !canon) {
            free(req);
            free(canon);
            break;
        }
        m->aliases[m->n_aliases++] = (struct reg_alias){req, canon};
    }
}

static void add_owner(reg_model *m, const char *client)
{
    if (!client || !*client)
        return;
    for (int i = 0; i < m->n_owners; i++)
        if (strcmp(m->owners[i], client) == 0)
            return;
    if (m->n_owners >= REG_MAX_OWNERS)
        return;
    char *c = strdup(client);
    if (c)
        m->owners[m->n_owners++] = c;
}

/* ---- device errors and the runtime reset (r->mu held) ---- */

static void unload_every_model(registry *r, const char *why)
{
    while (r->models)
        unload_model(r, r->models, why);
}

/* Resets the runtime; the caller holds `changing` and no model is in use. */
static void reset_runtime(registry *r)
{
    char reason[2 * HDM_ERR_MSG_MAX + 160], last[HDM_ERR_MSG_MAX];
    hdm_err rerr = {0};
    int n = r->consecutive_errors;

    snprintf(last, sizeof last, "%s", r->reset_msg ? r->reset_msg : "device error");
    r->reset_pending = false;
    log_warn("registry: %d consecutive device errors (last: %s); resetting the runtime", n, last);
    unload_every_model(r, "runtime reset");
    pthread_mutex_unlock(&r->mu);
    int rc = r->ops->reset ? r->ops->reset(r->dev, &rerr) : 0;
    pthread_mutex_lock(&r->mu);
    if (rc) {
        snprintf(reason, sizeof reason,
                 "%d consecutive device errors (last: %s); runtime reset failed: %s", n, last,
                 rerr.msg[0] ? rerr.msg : hdm_strerror(-rc));
        log_error("registry: %s", reason);
    } else {
        snprintf(reason, sizeof reason,
                 "%d consecutive device errors (last: %s); runtime context was reset", n, last);
    }
    set_str(&r->runtime_broken_reason, reason);
    r->runtime_resets++;
    if (rc)
        r->runtime_reset_failures++;
    r->consecutive_errors = 0;
}

/*
 * Runs the pending reset if there is one.  The caller holds no model.  With
 * `wait`, waits for `changing` and for every model to be released (j's
 * cancel and deadline end the wait, leaving the reset pending); without,
 * resets only when that needs no waiting.
 */
static int reset_if_pending(registry *r, bool wait, const job *j, hdm_err *err)
{
    if (!r->reset_pending)
        return 0;
    if (!wait && (r->changing || any_in_use(r)))
        return 0;
    int rc = begin_change(r, j, err);
    if (rc)
        return rc;
    while (r->reset_pending && any_in_use(r)) {
        rc = wait_slice(r, j, "the other lane to finish before the runtime reset", err);
        if (rc)
            break;
    }
    if (rc == 0 && r->reset_pending)
        reset_runtime(r);
    end_change(r);
    return rc;
}

/* Feeds one device call's result into the consecutive-error state. */
static void note_result(registry *r, int rc, const hdm_err *err)
{
    if (rc == 0) {
        r->consecutive_errors = 0;
        if (r->runtime_broken_reason) {
            log_info("registry: device works again after: %s", r->runtime_broken_reason);
            set_str(&r->runtime_broken_reason, NULL);
        }
        return;
    }
    /* Bad input, cancellation, memory pressure or a caller's deadline are not a
     * sick device; a device that stops answering (HAILO_TIMEOUT) is. */
    bool device_timeout =
        rc == -HDM_E_DEADLINE_EXCEEDED && err && strstr(err->msg, "HAILO_TIMEOUT") != NULL;
    if (rc != -HDM_E_DEVICE_ERROR && !device_timeout)
        return;
    r->consecutive_errors++;
    if (r->consecutive_errors >= r->cfg.reset_after_errors && !r->reset_pending) {
        r->reset_pending = true;
        set_str(&r->reset_msg, err && err->msg[0] ? err->msg : "device error");
    }
}

/* ---- acquire (r->mu held, `changing` held by the caller) ---- */

/* Makes room for a GenAI model: at most one may be resident. */
static int genai_swap(registry *r, const model_spec *spec, const job *j, hdm_err *err)
{
    for (;;) {
        reg_model *m = NULL;
        for (reg_model *k = r->models; k && !m; k = k->next)
            if (model_kind_is_genai(k->kind) &&
                !(k->kind == spec->kind && strcmp(k->path, spec->model_path) == 0))
                m = k;
        if (!m)
            return 0;
        if (pinned(m))
            return hdm_err_set(err, HDM_E_RESOURCE_EXHAUSTED,
                               "HAILO_RESOURCE_EXHAUSTED: cannot load %s: GenAI model %s is "
                               "pinned (keep_alive -1) and the device holds one GenAI model at a "
                               "time",
                               spec->model_path, m->path);
        log_info("registry: swapping GenAI model %s out for %s", m->path, spec->model_path);
        capacity_event(r, "genai_swap", m->path);
        int rc = evict(r, m, j, "GenAI swap", err);
        if (rc)
            return rc;
        r->evict_genai_swap++;
    }
}

/* Evicts LRU models until `need` more bytes fit in the accounted memory. */
static int make_room(registry *r, const model_spec *spec, uint64_t need, const job *j, hdm_err *err)
{
    char names[384];

    if (r->memory_total == 0 || need == 0)
        return 0;
    if (need > r->memory_total)
        return hdm_err_set(err, HDM_E_RESOURCE_EXHAUSTED,
                           "HAILO_RESOURCE_EXHAUSTED: %s needs %.0f MiB but the device has "
                           "%.0f MiB",
                           spec->model_path, MIB(need), MIB(r->memory_total));
    while (registry_used_bytes(r) + need > r->memory_total) {
        reg_model *v = lru_victim(r, true);
        if (!v) {
            int n = pinned_names(r, names, sizeof names);
            uint64_t used = registry_used_bytes(r);
            capacity_event(r, "resource_exhausted", spec->model_path);
            if (n)
                return hdm_err_set(err, HDM_E_RESOURCE_EXHAUSTED,
                                   "HAILO_RESOURCE_EXHAUSTED: %s (%.0f MiB) does not fit beside "
                                   "pinned model%s %s (%.0f of %.0f MiB in use)",
                                   spec->model_path, MIB(need), n > 1 ? "s" : "", names, MIB(used),
                                   MIB(r->memory_total));
            return hdm_err_set(err, HDM_E_RESOURCE_EXHAUSTED,
                               "HAILO_RESOURCE_EXHAUSTED: %s (%.0f MiB) does not fit in the "
                               "device's memory (%.0f of %.0f MiB in use)",
                               spec->model_path, MIB(need), MIB(used), MIB(r->memory_total));
        }
        log_info("registry: evicting %s (%.0f MiB, least recently used) to fit %s (%.0f MiB)",
                 v->path, MIB(v->footprint), spec->model_path, MIB(need));
        capacity_event(r, "proactive_eviction", v->path);
        int rc = evict(r, v, j, "evicted to make room", err);
        if (rc)
            return rc;
        r->total_lru_evictions++;
        r->evict_proactive++;
    }
    return 0;
}

/* Loads (r->mu dropped around the device call) with bounded evict-and-retry
 * on the device's resource-exhausted. */
static int load_with_retries(registry *r, const model_spec *spec, const job *j, backend_model **bm,
                             uint64_t *fp, hdm_err *err)
{
    int evictions = 0;
    for (;;) {
        *fp = 0;
        hdm_err_clear(err);
        pthread_mutex_unlock(&r->mu);
        int rc = r->ops->load(r->dev, spec, bm, fp, err);
        pthread_mutex_lock(&r->mu);
        if (rc != -HDM_E_RESOURCE_EXHAUSTED)
            return rc;
        reg_model *v = evictions < r->cfg.max_evictions ? lru_victim(r, true) : NULL;
        if (!v) {
            char names[384];
            capacity_event(r, "resource_exhausted", spec->model_path);
            if (pinned_names(r, names, sizeof names) && !lru_victim(r, true))
                hdm_err_set(err, HDM_E_RESOURCE_EXHAUSTED,
                            "HAILO_RESOURCE_EXHAUSTED: %s does not fit beside pinned models %s",
                            spec->model_path, names);
            else if (err && !strstr(err->msg, "HAILO_RESOURCE_EXHAUSTED"))
                hdm_err_prefix(err, "HAILO_RESOURCE_EXHAUSTED");
            if (err && evictions)
                snprintf(err->msg + strlen(err->msg), sizeof err->msg - strlen(err->msg),
                         " (after %d eviction%s)", evictions, evictions > 1 ? "s" : "");
            return rc;
        }
        log_info("registry: device out of memory loading %s; evicting %s (least recently used)",
                 spec->model_path, v->path);
        capacity_event(r, "lru_eviction", v->path);
        hdm_err werr = {0};
        int wrc = evict(r, v, j, "evicted after resource exhausted", &werr);
        if (wrc) {
            if (err)
                *err = werr;
            return wrc;
        }
        r->total_lru_evictions++;
        r->evict_exhausted++;
        evictions++;
    }
}

/* Loads j's model and registers it in use (the caller holds `changing`). */
static int load_new(registry *r, const job *j, reg_model **out, hdm_err *err)
{
    model_spec spec;
    backend_model *bm = NULL;
    uint64_t fp = 0, estimate;
    int rc;

    job_model_spec(j, &spec);
    /* The files may have changed since the request was checked (or its paths
     * were remembered from an earlier load): checked again before anything,
     * the footprint estimate included, looks at them or evicts for them. */
    if (r->load_check) {
        pthread_mutex_unlock(&r->mu);
        rc = r->load_check(r->load_check_ctx, &spec, err);
        pthread_mutex_lock(&r->mu);
        if (rc < 0)
            return rc;
    }
    if (model_kind_is_genai(spec.kind) && (rc = genai_swap(r, &spec, j, err)) != 0)
        return rc;
    estimate = footprint_known(r, spec.kind, spec.model_path);
    if (estimate == 0 && r->ops->estimate_footprint) {
        pthread_mutex_unlock(&r->mu);
        estimate = r->ops->estimate_footprint(r->dev, &spec);
        pthread_mutex_lock(&r->mu);
    }
    if ((rc = make_room(r, &spec, estimate, j, err)) != 0)
        return rc;

    int64_t t0 = mono_ms();
    rc = load_with_retries(r, &spec, j, &bm, &fp, err);
    note_result(r, rc, err);
    if (rc)
        return rc;

    reg_model *m = calloc(1, sizeof *m);
    if (m) {
        m->path = strdup(spec.model_path);
        m->model_type = strdup(j->model_type ? j->model_type : model_kind_name(spec.kind));
    }
    if (!m || !m->path || !m->model_type) {
        pthread_mutex_unlock(&r->mu);
        r->ops->unload(r->dev, bm);
        pthread_mutex_lock(&r->mu);
        model_free(m);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory registering %s", spec.model_path);
    }
    m->kind = spec.kind;
    m->bm = bm;
    m->loaded_at = wall_s();
    touch(r, m);
    m->footprint = fp ? fp : estimate;
    m->footprint_learned = fp != 0;
    m->keep_alive = j->has_keep_alive ? j->keep_alive : r->cfg.default_keep_alive;
    m->in_use = 1;
    if (fp)
        footprint_remember(r, spec.kind, spec.model_path, fp);
    m->next = r->models;
    r->models = m;
    r->n_models++;
    r->loads++;
    stats_hist_add(&r->load_by_kind[spec.kind], (double)(mono_ms() - t0));
    add_owner(m, j->client_name);
    add_aliases(m, j);
    char keep[32];
    if (isinf(m->keep_alive))
        snprintf(keep, sizeof keep, "until evicted");
    else
        snprintf(keep, sizeof keep, "keep_alive %g", m->keep_alive);
    log_info("registry: loaded %s %s (%.0f MiB%s, %s)", m->model_type, m->path, MIB(m->footprint),
             m->footprint_learned ? "" : " estimated", keep);
    *out = m;
    return 0;
}

int registry_acquire(registry *r, const job *j, reg_model **out, bool *loaded_now, hdm_err *err)
{
    int rc = 0;

    *loaded_now = false;
    *out = NULL;
    if (!j->model_path)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model_path required");
    pthread_mutex_lock(&r->mu);
    for (;;) {
        if (r->reset_pending) {
            /* We hold no model: we may run the reset ourselves. */
            rc = reset_if_pending(r, true, j, err);
            if (rc)
                goto fail;
            continue;
        }
        reg_model *m = find(r, j->kind, j->model_path);
        if (m && !m->draining) {
            if (j->has_keep_alive)
                m->keep_alive = j->keep_alive;
            m->in_use++;
            m->last_use_seq = ++r->use_seq;
            add_owner(m, j->client_name);
            add_aliases(m, j);
            pthread_mutex_unlock(&r->mu);
            *out = m;
            return 0;
        }
        if (!m && !r->changing)
            break;
        /* Another worker is changing what is resident (maybe loading this
         * very model), or is about to unload this one: look again after. */
        rc = wait_slice(r, j,
                        m ? "the model to be unloaded by the other lane"
                          : "another model to finish loading or unloading",
                        err);
        if (rc)
            goto fail;
    }
    r->changing = true;
    rc = load_new(r, j, out, err);
    end_change(r);
    if (rc == 0) {
        *loaded_now = true;
        pthread_mutex_unlock(&r->mu);
        return 0;
    }
    /* This failure may have been the last straw: reset now if nothing is in use. */
    reset_if_pending(r, false, NULL, NULL);
fail:
    r->load_failures++;
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* ---- use ---- */

cJSON *registry_model_info(registry *r, reg_model *m)
{
    if (r->ops->model_info == NULL)
        return NULL;
    cJSON *info = cJSON_CreateObject();
    if (info == NULL)
        return NULL;
    if (r->ops->model_info(r->dev, m->bm, info) < 0 || info->child == NULL) {
        cJSON_Delete(info);
        return NULL;
    }
    return info;
}

int registry_infer(registry *r, reg_model *m, const job *j, const infer_hooks *hooks,
                   infer_output *out, hdm_err *err)
{
    /* m is in use by this caller: nobody unloads it meanwhile. */
    int rc = r->ops->infer(r->dev, m->bm, &j->input, hooks, out, err);

    pthread_mutex_lock(&r->mu);
    m->requests++;
    if (rc && rc != -HDM_E_CANCELLED)
        m->errors++;
    touch(r, m);
    note_result(r, rc, err);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

void registry_release(registry *r, reg_model *m, const job *j)
{
    (void)j;
    pthread_mutex_lock(&r->mu);
    if (m && is_member(r, m)) {
        if (m->in_use > 0)
            m->in_use--;
        touch(r, m);
        if (m->in_use == 0)
            pthread_cond_broadcast(&r->cv); /* a change may wait for it */
        /* keep_alive 0: unload now unless another worker is changing what is
         * resident (then registry_expire does it, the next time round). */
        if (m->keep_alive == 0 && m->in_use == 0 && !m->draining && !r->changing) {
            r->changing = true;
            r->evict_keep_alive++;
            unload_model(r, m, "keep_alive 0");
            end_change(r);
        }
    }
    /* Nothing held now: a reset that needs no waiting runs here (a single
     * worker always); otherwise the next acquire or registry_expire runs it. */
    reset_if_pending(r, false, NULL, NULL);
    pthread_mutex_unlock(&r->mu);
}

int registry_unload(registry *r, const job *j, bool *was_loaded, hdm_err *err)
{
    reg_model *m;
    int rc;

    *was_loaded = false;
    if (!j->model_path)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model_path required");
    pthread_mutex_lock(&r->mu);
    rc = begin_change(r, j, err);
    if (rc)
        goto out;
    m = find(r, j->kind, j->model_path);
    if (m && m->in_use) {
        rc = hdm_err_set(err, HDM_E_BUSY, "%s is in use", j->model_path);
    } else if (m) {
        r->unloads++;
        unload_model(r, m, "unload_model request");
        *was_loaded = true;
    }
    end_change(r);
out:
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* An idle model whose keep_alive has run out, or NULL; *next gets the ms
 * until the soonest expiry of those still to come (-1 none). */
static reg_model *expired_model(registry *r, int64_t now, int64_t *next)
{
    *next = -1;
    for (reg_model *m = r->models; m; m = m->next) {
        if (m->in_use > 0 || m->draining || m->keep_alive < 0 || isinf(m->keep_alive))
            continue;
        double limit_ms = m->keep_alive * 1000.0;
        double idle_ms = (double)(now - m->last_used_mono);
        if (idle_ms >= limit_ms)
            return m;
        int64_t left = (int64_t)ceil(limit_ms - idle_ms);
        if (*next < 0 || left < *next)
            *next = left;
    }
    return NULL;
}

int registry_expire(registry *r)
{
    int64_t next = -1;

    pthread_mutex_lock(&r->mu);
    reset_if_pending(r, true, NULL, NULL);
    for (;;) {
        reg_model *m = expired_model(r, mono_ms(), &next);
        if (!m)
            break;
        if (r->changing) {
            /* Another worker is loading: expire once it is done. */
            next = REG_EXPIRE_RETRY_MS;
            break;
        }
        r->changing = true;
        r->evict_keep_alive++;
        unload_model(r, m, m->keep_alive == 0 ? "keep_alive 0" : "keep_alive expired");
        end_change(r);
    }
    pthread_mutex_unlock(&r->mu);
    return next > INT_MAX ? INT_MAX : (int)next;
}

void registry_unload_all(registry *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    unload_every_model(r, "unloading everything");
    pthread_mutex_unlock(&r->mu);
}

bool registry_is_resident(registry *r, model_kind kind, const char *path)
{
    if (!path)
        return false;
    pthread_mutex_lock(&r->mu);
    const reg_model *m = find(r, kind, path);
    bool v = m && !m->draining;
    pthread_mutex_unlock(&r->mu);
    return v;
}

char *registry_remembered_path(registry *r, model_kind kind, const char *requested)
{
    char *found = NULL;
    if (!requested)
        return NULL;
    pthread_mutex_lock(&r->mu);
    for (const reg_model *m = r->models; m && !found; m = m->next) {
        if (m->kind != kind)
            continue;
        for (int i = 0; i < m->n_aliases; i++)
            if (strcmp(m->aliases[i].requested, requested) == 0) {
                found = strdup(m->aliases[i].canonical);
                break;
            }
    }
    pthread_mutex_unlock(&r->mu);
    return found;
}

void registry_forget_paths(registry *r)
{
    pthread_mutex_lock(&r->mu);
    for (reg_model *m = r->models; m; m = m->next) {
        for (int i = 0; i < m->n_aliases; i++) {
            free(m->aliases[i].requested);
            free(m->aliases[i].canonical);
        }
        m->n_aliases = 0;
    }
    pthread_mutex_unlock(&r->mu);
}
