/*
 * backend-hailort.c - the real Hailo-10H through HailoRT 5.x: the
 * backend_hailort_ops table, the process's one VDevice, identity, memory
 * accounting, model lifecycle and runtime reset.  Inference lives in
 * hailort-dense.c (InferModel) and hailort-genai-glue.c (VLM, LLM,
 * Speech2Text); the C++ API sits behind hailort-rt.h.
 *
 * DESIGN: threads (docs/SCHEDULING.md).  The manager's two lane workers
 * call this backend at once as backend.h allows: the dense lane runs the
 * InferModels (clip, ocr, depth, pose), the GenAI lane the VLM, the LLM and
 * Speech2Text, reading their tokens on its own thread; each configured
 * model is used by one thread at a time (the registry never hands a model
 * to two jobs, nor unloads one in use); load, unload and reset never overlap
 * (the registry serialises them) and reset runs only when no model is in
 * use.  That is what HailoRT asks, so the model list needs no lock: only
 * load/unload/reset touch it.  Both lanes use the one VDevice of the
 * process (one group), so HailoRT's scheduler interleaves the InferModels
 * with the GenAI sessions on the chip; parallel_genai (auto) is on for a
 * Hailo-10H, where GenAI models run in sessions of their own.
 * identify() may run on any thread (the event loop answers status with it,
 * /metrics too) and never touches the device: it answers from a cache that
 * a thread of its own refreshes (see "Status" below), so a status poll can
 * never wait behind inference.  A read-write lock keeps that thread off a
 * VDevice reset() is replacing.
 *
 * Status: on a Hailo-10H Device::query_performance_stats() runs on the
 * chip, behind inference on the same server thread, and takes >= 0.4 s
 * (it samples the CPU for 100 ms and spawns `free` and other tools).  So
 * the device status is cached for STATUS_TTL_MS; an answer older than that
 * wakes the refresher, which asks the device while the caller goes on with
 * what is cached.  Loads and unloads change the memory: a load measures it
 * around itself anyway (the footprint) and updates the cache, an unload
 * wakes the refresher.  A refresh whose query was queued on the chip across
 * a load or unload (the other lane's) answers a sample from before it, so
 * its memory figures are dropped (mem_epoch moved) rather than stored over
 * the newer ones.  reset() waits for a query in progress before it frees
 * the VDevice (dev_lock).  "Used" is what the chip's `free` calls used (total
 * minus free), page cache included: footprints measured by difference
 * include what the chip cached while reading the HEF.
 *
 * Errors: HailoRT statuses are named by the library itself
 * (hrt_status_name: hailo_get_status_message) and mapped by name
 * (hailort-status.h).  A status that means the device is gone marks the
 * backend lost: everything fails with device_error until the registry calls
 * reset(), which re-creates the VDevice.  Resets are bounded: one that did
 * not help (no success since) is not repeated before a back-off that grows
 * from RESET_BACKOFF_MIN_MS to RESET_BACKOFF_MAX_MS, so a cause a reset
 * cannot fix never makes the registry loop on re-creating the VDevice.
 */
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "hailort-backend.h"
#include "hailort-status.h"

#define DEFAULT_GROUP_ID "SHARED"
#define STATUS_TTL_MS 20000
#define RESET_BACKOFF_MIN_MS 5000
#define RESET_BACKOFF_MAX_MS 300000

struct backend {
    hrt_device *dev; /* NULL after a failed reset */
    char *group_id;
    pthread_rwlock_t dev_lock; /* reset/close write; the status refresher reads */
    atomic_bool lost;
    backend_model *models;
    atomic_uint_fast64_t recreations;
    /* Device status cache and its refresher thread. */
    pthread_mutex_t cache_lock;
    pthread_cond_t cache_wake;
    device_info cache;
    bool cache_valid;
    int64_t cache_at_ms;
    uint64_t mem_epoch;   /* bumped by every load and unload */
    uint64_t cache_epoch; /* mem_epoch when the cached memory was measured */
    bool refresh_wanted, stopping;
    int status_ttl_ms;
    pthread_t refresher;
    bool refresher_started;
    /* Runtime resets: a streak of resets not followed by any success. */
    int64_t last_reset_ms;
    int reset_streak;
    int reset_backoff_min_ms;
    atomic_bool succeeded; /* a load or inference worked since the last reset */
};

/* ---- errors ------------------------------------------------------------------ */

int hrt_fail(backend *b, hdm_err *err, int status, const char *fmt, ...)
{
    char context[HDM_ERR_MSG_MAX / 2];
    const char *name = hrt_status_name(status);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(context, sizeof(context), fmt, ap);
    va_end(ap);
    if (b && hrt_status_is_device_lost(name))
        atomic_store(&b->lost, true);
    return hrt_status_error(err, status, name, "%s", context);
}

int hrt_fail_as(hdm_err *err, int code, int status, const char *why, const char *fmt, ...)
{
    char context[HDM_ERR_MSG_MAX / 2], unknown[32];
    const char *name = hrt_status_name(status);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(context, sizeof(context), fmt, ap);
    va_end(ap);
    if (!name || !*name) {
        snprintf(unknown, sizeof(unknown), "HAILO_STATUS_%d", status);
        name = unknown;
    }
    return hdm_err_set(err, code, "%s: %s (HailoRT status %s = %d)", context, why, name, status);
}

bool hrt_backend_lost(const backend *b)
{
    return !b->dev || atomic_load(&b->lost);
}

hrt_device *hrt_backend_device(backend *b)
{
    return b->dev;
}

bool hrt_backend_device_answers(backend *b)
{
    hrt_identity id;
    return b->dev && hrt_device_identify(b->dev, &id) == 0;
}

void hrt_backend_count_recreation(backend *b)
{
    atomic_fetch_add(&b->recreations, 1);
}

static int lost_error(hdm_err *err)
{
    return hdm_err_set(err, HDM_E_DEVICE_ERROR,
                       "the Hailo device was lost (a previous HailoRT call failed with a driver "
                       "or connection error); the runtime must be reset");
}

/* ---- device status cache -------------------------------------------------------- */

/* Asks the device (identity, temperature, RAM); the caller holds no lock. */
static void refresh_status(backend *b)
{
    hrt_identity id;
    uint64_t used = 0, total = 0;
    int st = -1, ram_st = -1;
    uint64_t epoch;

    pthread_mutex_lock(&b->cache_lock);
    epoch = b->mem_epoch;
    pthread_mutex_unlock(&b->cache_lock);

    pthread_rwlock_rdlock(&b->dev_lock);
    if (b->dev && !atomic_load(&b->lost)) {
        st = hrt_device_identify(b->dev, &id);
        if (st != 0)
            hrt_fail(b, NULL, st, "identify"); /* marks a lost device */
        else
            ram_st = hrt_device_ram(b->dev, &used, &total);
    }
    pthread_rwlock_unlock(&b->dev_lock);

    pthread_mutex_lock(&b->cache_lock);
    if (st == 0) {
        device_info *c = &b->cache;
        snprintf(c->device_id, sizeof(c->device_id), "%s", id.device_id);
        snprintf(c->architecture, sizeof(c->architecture), "%s", id.architecture);
        snprintf(c->fw_version, sizeof(c->fw_version), "%s", id.fw_version);
        c->temperature_celsius = id.has_temperature ? id.temperature_celsius : NAN;
        c->simulated = false;
        /* A load or unload that finished meanwhile (the other lane) has a
         * newer figure, or a refresh of its own queued: this sample may be
         * from before it, so it must not overwrite that. */
        if (ram_st == 0 && epoch == b->mem_epoch) {
            c->memory_total_bytes = total;
            c->memory_used_bytes = used;
            b->cache_epoch = epoch;
        }
        b->cache_valid = true;
    }
    /* A failed refresh is not retried before the next period either. */
    b->cache_at_ms = mono_ms();
    pthread_mutex_unlock(&b->cache_lock);
}

static void *refresher_main(void *arg)
{
    backend *b = arg;

    pthread_mutex_lock(&b->cache_lock);
    while (!b->stopping) {
        if (!b->refresh_wanted) {
            pthread_cond_wait(&b->cache_wake, &b->cache_lock);
            continue;
        }
        b->refresh_wanted = false;
        pthread_mutex_unlock(&b->cache_lock);
        refresh_status(b);
        pthread_mutex_lock(&b->cache_lock);
    }
    pthread_mutex_unlock(&b->cache_lock);
    return NULL;
}

/* Wakes the refresher (cache_lock held). */
static void want_refresh(backend *b)
{
    b->refresh_wanted = true;
    pthread_cond_signal(&b->cache_wake);
}

static void memory_changed(backend *b)
{
    pthread_mutex_lock(&b->cache_lock);
    b->mem_epoch++;
    want_refresh(b);
    pthread_mutex_unlock(&b->cache_lock);
}

void hrt_backend_set_status_ttl_ms(backend *b, int ms)
{
    pthread_mutex_lock(&b->cache_lock);
    b->status_ttl_ms = ms;
    pthread_mutex_unlock(&b->cache_lock);
}

/* ---- open / close -------------------------------------------------------------- */

/* Says clearly when there is no device, before HailoRT's own messages. */
static int scan_devices(hdm_err *err)
{
    char first[64] = "", version[32] = "?";
    size_t n = 0;
    int st = hrt_scan_devices(&n, first, sizeof(first));

    if (st != 0)
        return hrt_fail(NULL, err, st,
                        "cannot scan for Hailo devices (is the hailo1x_pci driver loaded? see "
                        "`lsmod | grep hailo` and dmesg)");
    if (n == 0)
        return hdm_err_set(err, HDM_E_DEVICE_ERROR,
                           "no Hailo device found: HailoRT sees no device (check that the AI "
                           "HAT+ 2 is seated, that /dev/hailo0 exists and that the hailo1x_pci "
                           "driver is loaded; `hailortcli scan` lists devices). Use --backend "
                           "sim to run on the simulated Hailo-10H");
    (void)hrt_library_version(version, sizeof(version));
    log_info("HailoRT %s, %zu device(s), first %s", version, n, first);
    return 0;
}

static int open_vdevice(backend *b, hdm_err *err)
{
    hrt_device *dev = NULL;
    int st = hrt_device_open(b->group_id, &dev);
    if (st != 0)
        return hrt_fail(NULL, err, st, "cannot open the Hailo device (VDevice group \"%s\")",
                        b->group_id);
    b->dev = dev;
    atomic_store(&b->lost, false);
    return 0;
}

static void hailort_close(backend *b);

static int hailort_open(const backend_config *cfg, backend **out, hdm_err *err)
{
    const char *group = cfg && cfg->group_id && *cfg->group_id ? cfg->group_id : DEFAULT_GROUP_ID;
    backend *b;
    int rc = scan_devices(err);

    if (rc < 0)
        return rc;
    b = calloc(1, sizeof(*b));
    if (!b)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory opening the Hailo device");
    atomic_init(&b->lost, false);
    atomic_init(&b->recreations, 0);
    atomic_init(&b->succeeded, false);
    pthread_rwlock_init(&b->dev_lock, NULL);
    pthread_mutex_init(&b->cache_lock, NULL);
    pthread_cond_init(&b->cache_wake, NULL);
    b->status_ttl_ms = STATUS_TTL_MS;
    b->reset_backoff_min_ms = RESET_BACKOFF_MIN_MS;
    b->group_id = strdup(group);
    if (!b->group_id) {
        hailort_close(b);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory opening the Hailo device");
    }
    rc = open_vdevice(b, err);
    if (rc < 0) {
        hailort_close(b);
        return rc;
    }
    /* The first status now, on the starting thread; later ones in the background. */
    refresh_status(b);
    if (pthread_create(&b->refresher, NULL, refresher_main, b) != 0) {
        hailort_close(b);
        return hdm_err_set(err, HDM_E_NOMEM, "cannot start the device status thread");
    }
    b->refresher_started = true;
    log_info("Hailo device open (VDevice group \"%s\"); device status cached for %d s "
             "(query_performance_stats runs on the chip behind inference)",
             b->group_id, STATUS_TTL_MS / 1000);
    *out = b;
    return 0;
}

int hrt_model_file(const model_spec *spec, backend_model *m, const char *path, const char *what,
                   char *name, size_t len, hdm_err *err)
{
    if (!path || !*path)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s required", what);
    if (!spec->allow) {
        if (strlen(path) >= len)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s is too long", what);
        memcpy(name, path, strlen(path) + 1);
        return 0;
    }
    path_file *grown = realloc(m->files, (m->n_files + 1) * sizeof(*grown));
    if (!grown)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    m->files = grown;
    path_file *f = &m->files[m->n_files];
    int rc = path_open_allowed(spec->allow, path, what, PATH_OPEN_UNIFORM, f, NULL, err);
    if (rc < 0)
        return rc;
    m->n_files++;
    if (path_file_proc_name(f, name, len) < 0)
        return hdm_err_set(err, HDM_E_INTERNAL, "no room for the name of %s", path);
    return 0;
}

static void model_free(backend_model *m)
{
    if (!m)
        return;
    hrt_netref_close(&m->net);
    hrt_netref_close(&m->text_net);
    for (size_t i = 0; i < m->n_rec; i++) {
        hrt_netref_close(&m->rec[i].net);
        free(m->rec[i].lang);
    }
    free(m->rec);
    hrt_genai_close(m->gen);
    hrt_specials_free(&m->specials);
    hrt_s2t_job_finish(m); /* HailoRT cannot release a model mid-call */
    hrt_s2t_close(m->s2t);
    for (size_t i = 0; i < m->n_files; i++)
        path_file_close(&m->files[i]);
    free(m->files);
    free(m->path);
    free(m);
}

static void hailort_close(backend *b)
{
    if (!b)
        return;
    if (b->refresher_started) {
        pthread_mutex_lock(&b->cache_lock);
        b->stopping = true;
        pthread_cond_signal(&b->cache_wake);
        pthread_mutex_unlock(&b->cache_lock);
        pthread_join(b->refresher, NULL);
    }
    while (b->models) {
        backend_model *m = b->models;
        b->models = m->next;
        model_free(m);
    }
    pthread_rwlock_wrlock(&b->dev_lock);
    hrt_device_close(b->dev);
    b->dev = NULL;
    pthread_rwlock_unlock(&b->dev_lock);
    pthread_rwlock_destroy(&b->dev_lock);
    pthread_cond_destroy(&b->cache_wake);
    pthread_mutex_destroy(&b->cache_lock);
    free(b->group_id);
    free(b);
}

/* ---- identify ---------------------------------------------------------------------- */

static int hailort_identify(backend *b, device_info *info, hdm_err *err)
{
    int rc = 0;

    if (atomic_load(&b->lost))
        return lost_error(err);
    pthread_mutex_lock(&b->cache_lock);
    if (!b->cache_valid || mono_ms() - b->cache_at_ms >= b->status_ttl_ms)
        want_refresh(b);
    if (b->cache_valid) {
        *info = b->cache;
        info->model_recreations = atomic_load(&b->recreations);
    } else {
        rc = hdm_err_set(err, HDM_E_BUSY,
                         "the Hailo device has not answered a status request yet; retry");
    }
    pthread_mutex_unlock(&b->cache_lock);
    return rc;
}

/* ---- load ---------------------------------------------------------------------------- */

/* Checks that a file the model needs is a readable regular file; adds its size. */
static int check_file(const path_allowlist *allow, const char *path, const char *what,
                      uint64_t *bytes, hdm_err *err)
{
    struct stat st;

    if (!path || !*path)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s required", what);
    if (allow) {
        path_file f;
        int rc = path_open_allowed(allow, path, what, PATH_OPEN_UNIFORM, &f, NULL, err);
        if (rc < 0)
            return rc;
        if (bytes)
            *bytes += (uint64_t)f.st.st_size;
        path_file_close(&f);
        return 0;
    }
    if (stat(path, &st) < 0)
        return hdm_err_set(err, HDM_E_NOT_FOUND, "%s not found: %s", what, path);
    if (!S_ISREG(st.st_mode))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s %s is not a regular file", what, path);
    if (access(path, R_OK) != 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s %s is not readable by the manager", what,
                           path);
    if (bytes)
        *bytes += (uint64_t)st.st_size;
    return 0;
}

/* The files a model is made of; *bytes gets their total size. */
static int check_model_files(const model_spec *spec, uint64_t *bytes, hdm_err *err)
{
    int rc;

    switch (spec->kind) {
    case MODEL_CLIP:
        /* model_path keys the pair; the two HEFs are what is loaded. */
        rc = check_file(spec->allow, spec->clip_image_hef, "model_params.image_hef_path", bytes,
                        err);
        if (rc == 0)
            rc = check_file(spec->allow, spec->clip_text_hef, "model_params.text_hef_path", bytes,
                            err);
        return rc;
    case MODEL_OCR: {
        const cJSON *lang;
        rc = check_file(spec->allow, spec->ocr_detection_hef, "model_params.detection_hef_path",
                        bytes, err);
        cJSON_ArrayForEach(lang, spec->ocr_recognition_hefs)
        {
            char what[96];
            if (rc < 0)
                break;
            snprintf(what, sizeof(what), "model_params.recognition_hefs.%s", lang->string);
            rc = check_file(spec->allow, cJSON_GetStringValue(lang), what, bytes, err);
        }
        return rc;
    }
    default:
        return check_file(spec->allow, spec->model_path, "model file", bytes, err);
    }
}

static uint64_t hailort_estimate_footprint(backend *b, const model_spec *spec)
{
    uint64_t bytes = 0;
    (void)b;
    /* A HEF's weights go to the device whole: its size is the best guess. */
    if (check_model_files(spec, &bytes, NULL) < 0)
        return 0;
    return bytes;
}

static const backend_model *find_genai(const backend *b)
{
    for (const backend_model *m = b->models; m; m = m->next)
        if (model_kind_is_genai(m->kind))
            return m;
    return NULL;
}

/*
 * Device RAM in use before a load: the cached figure when it was measured
 * after the last load or unload (memory changes with nothing else but page
 * cache), else asked now (0.4 s on the chip).
 */
static bool ram_before_load(backend *b, uint64_t *used)
{
    uint64_t total;
    bool cached;

    pthread_mutex_lock(&b->cache_lock);
    cached = b->cache_valid && b->cache_epoch == b->mem_epoch && b->cache.memory_total_bytes > 0;
    if (cached)
        *used = b->cache.memory_used_bytes;
    pthread_mutex_unlock(&b->cache_lock);
    return cached || hrt_device_ram(b->dev, used, &total) == 0;
}

static int hailort_load(backend *b, const model_spec *spec, backend_model **out,
                        uint64_t *footprint_bytes, hdm_err *err)
{
    uint64_t used_before = 0, used_after = 0, total = 0;
    bool measured, after_ok;
    backend_model *m;
    int rc;

    if (!b->dev || atomic_load(&b->lost))
        return lost_error(err);
    if ((int)spec->kind < 0 || spec->kind >= MODEL_KIND__COUNT)
        return hdm_err_set(err, HDM_E_UNSUPPORTED, "Unsupported model_type: %d", spec->kind);
    rc = check_model_files(spec, NULL, err);
    if (rc < 0)
        return rc;
    if (model_kind_is_genai(spec->kind)) {
        const backend_model *g = find_genai(b);
        if (g)
            return backend_genai_taken(g->path, err);
    }

    m = calloc(1, sizeof(*m));
    if (!m)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory loading %s", spec->model_path);
    m->kind = spec->kind;
    m->path = strdup(spec->model_path);
    if (!m->path) {
        model_free(m);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory loading %s", spec->model_path);
    }

    measured = ram_before_load(b, &used_before);
    if (model_kind_is_genai(spec->kind) || spec->kind == MODEL_WHISPER)
        rc = hrt_genai_load(b, b->dev, spec, m, err);
    else
        rc = hrt_dense_load(b, b->dev, spec, m, err);
    if (rc < 0) {
        model_free(m); /* the messages name the file that failed */
        return rc;
    }
    atomic_store(&b->succeeded, true);
    after_ok = measured && hrt_device_ram(b->dev, &used_after, &total) == 0;
    if (after_ok && used_after > used_before)
        m->footprint = used_after - used_before;
    log_info("loaded %s %s: %llu MiB of device RAM%s", model_kind_name(m->kind), m->path,
             (unsigned long long)(m->footprint >> 20),
             after_ok ? " (by the chip's `free`, page cache included)" : " (not measurable)");

    pthread_mutex_lock(&b->cache_lock);
    b->mem_epoch++;
    if (after_ok) {
        b->cache.memory_used_bytes = used_after;
        b->cache.memory_total_bytes = total;
        b->cache_epoch = b->mem_epoch;
    } else {
        want_refresh(b);
    }
    pthread_mutex_unlock(&b->cache_lock);
    m->next = b->models;
    b->models = m;
    if (footprint_bytes)
        *footprint_bytes = m->footprint;
    *out = m;
    return 0;
}

/* ---- infer / unload / reset ------------------------------------------------------------- */

static int hailort_infer(backend *b, backend_model *m, const infer_input *in,
                         const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    int rc;

    if (!b->dev || atomic_load(&b->lost))
        return lost_error(err);
    if (in->kind != m->kind)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "input is for a %s model but %s is a %s model",
                           model_kind_name(in->kind), m->path, model_kind_name(m->kind));
    rc = hooks_check(hooks, err);
    if (rc < 0)
        return rc;
    memset(out, 0, sizeof(*out));
    if (model_kind_is_genai(m->kind) || m->kind == MODEL_WHISPER)
        rc = hrt_genai_infer(b, m, in, hooks, out, err);
    else
        rc = hrt_dense_infer(b, m, in, hooks, out, err);
    if (rc < 0)
        infer_output_clear(out);
    else
        atomic_store(&b->succeeded, true);
    return rc;
}

static void hailort_unload(backend *b, backend_model *m)
{
    if (!m)
        return;
    for (backend_model **p = &b->models; *p; p = &(*p)->next) {
        if (*p == m) {
            *p = m->next;
            break;
        }
    }
    model_free(m);
    memory_changed(b);
}

void hrt_backend_set_reset_backoff_ms(backend *b, int ms)
{
    b->reset_backoff_min_ms = ms;
}

/* How long after a reset that did not help the next one may come. */
static int64_t reset_backoff_ms(const backend *b, int streak)
{
    int64_t ms = b->reset_backoff_min_ms;
    for (int i = 1; i < streak && ms > 0 && ms < RESET_BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < RESET_BACKOFF_MAX_MS ? ms : RESET_BACKOFF_MAX_MS;
}

static int hailort_reset(backend *b, hdm_err *err)
{
    int64_t now = mono_ms();
    int rc;

    /* The registry unloaded every model first; close any it could not. */
    while (b->models) {
        backend_model *m = b->models;
        b->models = m->next;
        model_free(m);
    }
    if (atomic_exchange(&b->succeeded, false))
        b->reset_streak = 0;
    if (b->reset_streak > 0 && now - b->last_reset_ms < reset_backoff_ms(b, b->reset_streak)) {
        int64_t wait_ms = reset_backoff_ms(b, b->reset_streak) - (now - b->last_reset_ms);
        return hdm_err_set(err, HDM_E_DEVICE_ERROR,
                           "runtime reset: not repeated yet (the last one, %lld s ago, was not "
                           "followed by any success; %d in a row); next attempt in %lld s",
                           (long long)((now - b->last_reset_ms) / 1000), b->reset_streak,
                           (long long)((wait_ms + 999) / 1000));
    }
    b->reset_streak++;
    b->last_reset_ms = now;
    pthread_rwlock_wrlock(&b->dev_lock);
    hrt_device_close(b->dev);
    b->dev = NULL;
    rc = open_vdevice(b, err);
    pthread_rwlock_unlock(&b->dev_lock);
    memory_changed(b);
    if (rc < 0) {
        atomic_store(&b->lost, true);
        hdm_err_prefix(err, "runtime reset");
        return rc;
    }
    log_info("Hailo runtime reset: VDevice re-created (%d reset(s) in a row)", b->reset_streak);
    return 0;
}

/* Hailo-10H (and its Hailo-15 siblings) run GenAI models in sessions of
 * their own beside InferModels, and Hailo documents vision and GenAI
 * running in parallel; the Hailo-8 family has no GenAI at all. */
static bool hailort_parallel_genai(backend *b)
{
    device_info info;
    if (hailort_identify(b, &info, NULL) < 0)
        return false;
    return strncasecmp(info.architecture, "HAILO10", 7) == 0 ||
           strncasecmp(info.architecture, "HAILO15", 7) == 0;
}

static int hailort_model_info(backend *b, backend_model *m, cJSON *info)
{
    (void)b;
    return m->kind == MODEL_OCR ? hrt_dense_model_info(m, info) : 0;
}

const backend_ops backend_hailort_ops = {
    .name = "hailort",
    .open = hailort_open,
    .close = hailort_close,
    .identify = hailort_identify,
    .load = hailort_load,
    .estimate_footprint = hailort_estimate_footprint,
    .infer = hailort_infer,
    .unload = hailort_unload,
    .reset = hailort_reset,
    .model_info = hailort_model_info,
    .parallel_genai = hailort_parallel_genai,
};
