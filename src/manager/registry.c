/*
 * registry.c - resident models: load (with GenAI swap, proactive and
 * on-error LRU eviction), inference bookkeeping, keep-alive expiry, unload,
 * and the runtime reset after repeated device errors.  Status and metrics
 * are in registry-status.c.
 *
 * DESIGN: every mutating call comes from the device worker thread, so the
 * worker reads the table without locking; each change to the table or to a
 * figure a reader sees is made under r->mu, and backend calls (which take
 * seconds) are made without it, so status never waits for the device.
 * Memory accounting uses each model's footprint: learned from the backend
 * after a load (and remembered after unload, for the next load), estimated
 * by the backend before the first one.  When the sum says a load will not
 * fit, least-recently-used unpinned models are evicted first; when the
 * device still answers resource-exhausted, one more is evicted per retry,
 * up to max_evictions.  A model in use by the job in hand is never evicted.
 */
#include "manager/registry-internal.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"

#define MIB(x) ((double)(x) / (1024.0 * 1024.0))

void registry_config_defaults(registry_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_evictions = 3;
    cfg->reset_after_errors = 3;
    cfg->default_keep_alive = REGISTRY_KEEP_ALIVE_NONE;
    cfg->memory_bytes = 0;
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
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* ---- table helpers ---- */

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

uint64_t registry_used_bytes(const registry *r)
{
    uint64_t used = 0;
    for (const reg_model *m = r->models; m; m = m->next)
        used += m->footprint;
    return used;
}

/* Replaces a malloc'd string field (r->mu held). */
static void set_str(char **field, const char *value)
{
    free(*field);
    *field = value ? strdup(value) : NULL;
}

static void capacity_event(registry *r, const char *reason, const char *model)
{
    pthread_mutex_lock(&r->mu);
    set_str(&r->last_capacity_reason, reason);
    set_str(&r->last_capacity_model, model);
    r->last_capacity_at = wall_s();
    pthread_mutex_unlock(&r->mu);
}

/* Unlinks, unloads on the device and frees one model (worker thread). */
static void unload_model(registry *r, reg_model *m, const char *why)
{
    pthread_mutex_lock(&r->mu);
    reg_model **pp = &r->models;
    while (*pp && *pp != m)
        pp = &(*pp)->next;
    if (*pp)
        *pp = m->next;
    r->n_models--;
    pthread_mutex_unlock(&r->mu);
    r->ops->unload(r->dev, m->bm);
    log_info("registry: unloaded %s %s (%s)", m->model_type, m->path, why);
    model_free(m);
}

/* Least recently used model that may be evicted, or NULL. */
static reg_model *lru_victim(const registry *r)
{
    reg_model *best = NULL;
    for (reg_model *m = r->models; m; m = m->next)
        if (!pinned(m) && m->in_use == 0 && (!best || m->last_use_seq < best->last_use_seq))
            best = m;
    return best;
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
static void add_aliases(registry *r, reg_model *m, const job *j)
{
    /* Under the lock throughout: registry_forget_paths (loop thread) clears them. */
    pthread_mutex_lock(&r->mu);
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
    pthread_mutex_unlock(&r->mu);
}

static void add_owner(registry *r, reg_model *m, const char *client)
{
    if (!client || !*client)
        return;
    for (int i = 0; i < m->n_owners; i++)
        if (strcmp(m->owners[i], client) == 0)
            return;
    if (m->n_owners >= REG_MAX_OWNERS)
        return;
    char *c = strdup(client);
    if (!c)
        return;
    pthread_mutex_lock(&r->mu);
    m->owners[m->n_owners++] = c;
    pthread_mutex_unlock(&r->mu);
}

/* ---- device errors and the runtime reset ---- */

static void unload_every_model(registry *r, const char *why)
{
    while (r->models)
        unload_model(r, r->models, why);
}

static void reset_runtime(registry *r, const char *last_msg)
{
    char reason[HDM_ERR_MSG_MAX + 160];
    hdm_err rerr = {0};
    int n = r->consecutive_errors;

    log_warn("registry: %d consecutive device errors (last: %s); resetting the runtime", n,
             last_msg);
    unload_every_model(r, "runtime reset");
    int rc = r->ops->reset ? r->ops->reset(r->dev, &rerr) : 0;
    if (rc) {
        snprintf(reason, sizeof reason,
                 "%d consecutive device errors (last: %s); runtime reset failed: %s", n, last_msg,
                 rerr.msg[0] ? rerr.msg : hdm_strerror(-rc));
        log_error("registry: %s", reason);
    } else {
        snprintf(reason, sizeof reason,
                 "%d consecutive device errors (last: %s); runtime context was reset", n, last_msg);
    }
    pthread_mutex_lock(&r->mu);
    set_str(&r->runtime_broken_reason, reason);
    r->runtime_resets++;
    if (rc)
        r->runtime_reset_failures++;
    r->consecutive_errors = 0;
    pthread_mutex_unlock(&r->mu);
}

/* Feeds one device call's result into the consecutive-error state. */
static void note_result(registry *r, int rc, const hdm_err *err)
{
    if (rc == 0) {
        if (r->consecutive_errors || r->runtime_broken_reason) {
            pthread_mutex_lock(&r->mu);
            r->consecutive_errors = 0;
            if (r->runtime_broken_reason)
                log_info("registry: device works again after: %s", r->runtime_broken_reason);
            set_str(&r->runtime_broken_reason, NULL);
            pthread_mutex_unlock(&r->mu);
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
    if (r->consecutive_errors >= r->cfg.reset_after_errors)
        reset_runtime(r, err && err->msg[0] ? err->msg : "device error");
}

/* ---- acquire ---- */

/* Makes room for a GenAI model: at most one may be resident. */
static int genai_swap(registry *r, const model_spec *spec, hdm_err *err)
{
    reg_model *m = r->models;
    while (m) {
        reg_model *next = m->next;
        if (model_kind_is_genai(m->kind) &&
            !(m->kind == spec->kind && strcmp(m->path, spec->model_path) == 0)) {
            if (pinned(m) || m->in_use)
                return hdm_err_set(err, HDM_E_RESOURCE_EXHAUSTED,
                                   "HAILO_RESOURCE_EXHAUSTED: cannot load %s: GenAI model %s is "
                                   "%s and the device holds one GenAI model at a time",
                                   spec->model_path, m->path,
                                   pinned(m) ? "pinned (keep_alive -1)" : "in use");
            log_info("registry: swapping GenAI model %s out for %s", m->path, spec->model_path);
            pthread_mutex_lock(&r->mu);
            r->evict_genai_swap++;
            pthread_mutex_unlock(&r->mu);
            capacity_event(r, "genai_swap", m->path);
            unload_model(r, m, "GenAI swap");
        }
        m = next;
    }
    return 0;
}

/* Evicts LRU models until `need` more bytes fit in the accounted memory. */
static int make_room(registry *r, const model_spec *spec, uint64_t need, hdm_err *err)
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
        reg_model *v = lru_victim(r);
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
                               "HAILO_RESOURCE_EXHAUSTED: %s (%.0f MiB) does not fit beside the "
                               "model in use (%.0f of %.0f MiB in use)",
                               spec->model_path, MIB(need), MIB(used), MIB(r->memory_total));
        }
        log_info("registry: evicting %s (%.0f MiB, least recently used) to fit %s (%.0f MiB)",
                 v->path, MIB(v->footprint), spec->model_path, MIB(need));
        pthread_mutex_lock(&r->mu);
        r->total_lru_evictions++;
        r->evict_proactive++;
        pthread_mutex_unlock(&r->mu);
        capacity_event(r, "proactive_eviction", v->path);
        unload_model(r, v, "evicted to make room");
    }
    return 0;
}

/* Loads with bounded evict-and-retry on the device's resource-exhausted. */
static int load_with_retries(registry *r, const model_spec *spec, backend_model **bm, uint64_t *fp,
                             hdm_err *err)
{
    int evictions = 0;
    for (;;) {
        *fp = 0;
        hdm_err_clear(err);
        int rc = r->ops->load(r->dev, spec, bm, fp, err);
        if (rc != -HDM_E_RESOURCE_EXHAUSTED)
            return rc;
        reg_model *v = evictions < r->cfg.max_evictions ? lru_victim(r) : NULL;
        if (!v) {
            char names[384];
            capacity_event(r, "resource_exhausted", spec->model_path);
            if (pinned_names(r, names, sizeof names) && !lru_victim(r))
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
        pthread_mutex_lock(&r->mu);
        r->total_lru_evictions++;
        r->evict_exhausted++;
        pthread_mutex_unlock(&r->mu);
        capacity_event(r, "lru_eviction", v->path);
        unload_model(r, v, "evicted after resource exhausted");
        evictions++;
    }
}

int registry_acquire(registry *r, const job *j, reg_model **out, bool *loaded_now, hdm_err *err)
{
    model_spec spec;
    reg_model *m;
    backend_model *bm = NULL;
    uint64_t fp = 0, estimate;
    int rc;

    *loaded_now = false;
    *out = NULL;
    if (!j->model_path)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model_path required");
    m = find(r, j->kind, j->model_path);
    if (m) {
        pthread_mutex_lock(&r->mu);
        if (j->has_keep_alive)
            m->keep_alive = j->keep_alive;
        m->in_use++;
        m->last_use_seq = ++r->use_seq;
        pthread_mutex_unlock(&r->mu);
        add_owner(r, m, j->client_name);
        add_aliases(r, m, j);
        *out = m;
        return 0;
    }

    job_model_spec(j, &spec);
    /* The files may have changed since the request was checked (or its paths
     * were remembered from an earlier load): checked again before anything,
     * the footprint estimate included, looks at them or evicts for them. */
    if (r->load_check && (rc = r->load_check(r->load_check_ctx, &spec, err)) < 0)
        goto fail;
    if (model_kind_is_genai(spec.kind)) {
        rc = genai_swap(r, &spec, err);
        if (rc)
            goto fail;
    }
    estimate = footprint_known(r, spec.kind, spec.model_path);
    if (estimate == 0 && r->ops->estimate_footprint)
        estimate = r->ops->estimate_footprint(r->dev, &spec);
    rc = make_room(r, &spec, estimate, err);
    if (rc)
        goto fail;

    int64_t t0 = mono_ms();
    rc = load_with_retries(r, &spec, &bm, &fp, err);
    if (rc) {
        note_result(r, rc, err);
        goto fail;
    }
    note_result(r, 0, NULL);

    m = calloc(1, sizeof *m);
    if (m) {
        m->path = strdup(spec.model_path);
        m->model_type = strdup(j->model_type ? j->model_type : model_kind_name(spec.kind));
    }
    if (!m || !m->path || !m->model_type) {
        r->ops->unload(r->dev, bm);
        model_free(m);
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory registering %s", spec.model_path);
        goto fail;
    }
    m->kind = spec.kind;
    m->bm = bm;
    m->loaded_at = m->last_used = wall_s();
    m->last_used_mono = mono_ms();
    m->last_use_seq = ++r->use_seq;
    m->footprint = fp ? fp : estimate;
    m->footprint_learned = fp != 0;
    m->keep_alive = j->has_keep_alive ? j->keep_alive : r->cfg.default_keep_alive;
    m->in_use = 1;

    pthread_mutex_lock(&r->mu);
    if (fp)
        footprint_remember(r, spec.kind, spec.model_path, fp);
    m->next = r->models;
    r->models = m;
    r->n_models++;
    r->loads++;
    stats_hist_add(&r->load_by_kind[spec.kind], (double)(mono_ms() - t0));
    pthread_mutex_unlock(&r->mu);
    add_owner(r, m, j->client_name);
    add_aliases(r, m, j);
    char keep[32];
    if (isinf(m->keep_alive))
        snprintf(keep, sizeof keep, "until evicted");
    else
        snprintf(keep, sizeof keep, "keep_alive %g", m->keep_alive);
    log_info("registry: loaded %s %s (%.0f MiB%s, %s)", m->model_type, m->path, MIB(m->footprint),
             m->footprint_learned ? "" : " estimated", keep);
    *out = m;
    *loaded_now = true;
    return 0;

fail:
    pthread_mutex_lock(&r->mu);
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
    int rc = r->ops->infer(r->dev, m->bm, &j->input, hooks, out, err);

    pthread_mutex_lock(&r->mu);
    m->requests++;
    if (rc && rc != -HDM_E_CANCELLED)
        m->errors++;
    m->last_used = wall_s();
    m->last_used_mono = mono_ms();
    m->last_use_seq = ++r->use_seq;
    pthread_mutex_unlock(&r->mu);
    /* May reset the runtime, which unloads m: registry_release checks. */
    note_result(r, rc, err);
    return rc;
}

void registry_release(registry *r, reg_model *m, const job *j)
{
    (void)j;
    if (!m || !is_member(r, m))
        return; /* unloaded meanwhile by a runtime reset */
    pthread_mutex_lock(&r->mu);
    if (m->in_use > 0)
        m->in_use--;
    m->last_used = wall_s();
    m->last_used_mono = mono_ms();
    m->last_use_seq = ++r->use_seq;
    pthread_mutex_unlock(&r->mu);
    if (m->keep_alive == 0 && m->in_use == 0) {
        pthread_mutex_lock(&r->mu);
        r->evict_keep_alive++;
        pthread_mutex_unlock(&r->mu);
        unload_model(r, m, "keep_alive 0");
    }
}

int registry_unload(registry *r, model_kind kind, const char *path, bool *was_loaded, hdm_err *err)
{
    reg_model *m;

    *was_loaded = false;
    if (!path)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model_path required");
    m = find(r, kind, path);
    if (!m)
        return 0;
    if (m->in_use)
        return hdm_err_set(err, HDM_E_BUSY, "%s is in use", path);
    pthread_mutex_lock(&r->mu);
    r->unloads++;
    pthread_mutex_unlock(&r->mu);
    unload_model(r, m, "unload_model request");
    *was_loaded = true;
    return 0;
}

int registry_expire(registry *r)
{
    int64_t now = mono_ms(), next = -1;
    reg_model *m = r->models;

    while (m) {
        reg_model *n = m->next;
        if (m->in_use == 0 && m->keep_alive >= 0 && !isinf(m->keep_alive)) {
            double limit_ms = m->keep_alive * 1000.0;
            double idle_ms = (double)(now - m->last_used_mono);
            if (idle_ms >= limit_ms) {
                pthread_mutex_lock(&r->mu);
                r->evict_keep_alive++;
                pthread_mutex_unlock(&r->mu);
                unload_model(r, m, "keep_alive expired");
            } else {
                int64_t left = (int64_t)ceil(limit_ms - idle_ms);
                if (next < 0 || left < next)
                    next = left;
            }
        }
        m = n;
    }
    return next > INT_MAX ? INT_MAX : (int)next;
}

void registry_unload_all(registry *r)
{
    if (r)
        unload_every_model(r, "unloading everything");
}

bool registry_is_resident(registry *r, model_kind kind, const char *path)
{
    if (!path)
        return false;
    pthread_mutex_lock(&r->mu);
    bool v = find(r, kind, path) != NULL;
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
