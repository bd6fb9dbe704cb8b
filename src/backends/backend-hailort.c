/*
 * backend-hailort.c - the real Hailo-10H through HailoRT 5.x: the
 * backend_hailort_ops table, the process's one VDevice, identity, memory
 * accounting, model lifecycle and runtime reset.  Inference lives in
 * hailort-dense.c (InferModel) and hailort-genai-glue.c (VLM, Speech2Text);
 * the C++ API sits behind hailort-rt.h.
 *
 * DESIGN: the device worker is the only caller of load/infer/unload/reset,
 * so the model list needs no lock.  identify() may run on the loop thread:
 * a read-write lock keeps it off a VDevice that reset() is replacing (it
 * answers busy instead of waiting), and its answer is cached for a second so
 * status polling does not flood the device's control channel.
 *
 * Memory: HailoRT has no per-model footprint query.  On Hailo-10H
 * Device::query_performance_stats() reports the device RAM in use, so a
 * model's footprint is the difference around its load; the registry uses it
 * to decide what to evict before the next load.
 *
 * Errors: HailoRT statuses are named by the library itself
 * (hrt_status_name: hailo_get_status_message) and mapped by name (hailort-status.h).  A
 * status that means the device is gone marks the backend lost: everything
 * fails with device_error until the registry calls reset(), which re-creates
 * the VDevice.
 */
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "hailort-backend.h"
#include "hailort-status.h"

#define DEFAULT_GROUP_ID "SHARED"
#define IDENTIFY_CACHE_MS 1000

struct backend {
    hrt_device *dev; /* NULL after a failed reset */
    char *group_id;
    pthread_rwlock_t dev_lock; /* reset/close write; identify reads */
    atomic_bool lost;
    backend_model *models;
    pthread_mutex_t cache_lock;
    device_info cache;
    int64_t cache_at_ms; /* 0: nothing cached */
};

/* ---- errors and hooks -------------------------------------------------------- */

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

bool hrt_backend_lost(const backend *b)
{
    return !b->dev || atomic_load(&b->lost);
}

static int lost_error(hdm_err *err)
{
    return hdm_err_set(err, HDM_E_DEVICE_ERROR,
                       "the Hailo device was lost (a previous HailoRT call failed with a driver "
                       "or connection error); the runtime must be reset");
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
    pthread_rwlock_init(&b->dev_lock, NULL);
    pthread_mutex_init(&b->cache_lock, NULL);
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
    log_info("Hailo device open (VDevice group \"%s\")", b->group_id);
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
    hrt_net_close(m->net);
    hrt_net_close(m->text_net);
    for (size_t i = 0; i < m->n_rec; i++) {
        hrt_net_close(m->rec[i].net);
        free(m->rec[i].lang);
    }
    free(m->rec);
    hrt_vlm_close(m->vlm);
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
    pthread_mutex_destroy(&b->cache_lock);
    free(b->group_id);
    free(b);
}

/* ---- identify ---------------------------------------------------------------------- */

static int identify_now(backend *b, device_info *info, hdm_err *err)
{
    hrt_identity id;
    int st = hrt_device_identify(b->dev, &id);

    if (st != 0)
        return hrt_fail(b, err, st, "cannot identify the Hailo device");
    memset(info, 0, sizeof(*info));
    snprintf(info->device_id, sizeof(info->device_id), "%s", id.device_id);
    snprintf(info->architecture, sizeof(info->architecture), "%s", id.architecture);
    snprintf(info->fw_version, sizeof(info->fw_version), "%s", id.fw_version);
    info->temperature_celsius = id.has_temperature ? id.temperature_celsius : NAN;
    if (id.has_ram) {
        info->memory_total_bytes = id.ram_total_bytes;
        info->memory_used_bytes = id.ram_used_bytes;
    }
    info->simulated = false;
    return 0;
}

static int hailort_identify(backend *b, device_info *info, hdm_err *err)
{
    int rc = 0;

    /* A reset holds the write lock for seconds: answer rather than wait. */
    if (pthread_rwlock_tryrdlock(&b->dev_lock) != 0)
        return hdm_err_set(err, HDM_E_BUSY, "the Hailo device is being reset");
    if (!b->dev || atomic_load(&b->lost)) {
        rc = lost_error(err);
        goto out;
    }
    pthread_mutex_lock(&b->cache_lock);
    int64_t now = mono_ms();
    if (b->cache_at_ms == 0 || now - b->cache_at_ms >= IDENTIFY_CACHE_MS) {
        rc = identify_now(b, &b->cache, err);
        b->cache_at_ms = rc == 0 ? now : 0;
    }
    if (rc == 0)
        *info = b->cache;
    pthread_mutex_unlock(&b->cache_lock);
out:
    pthread_rwlock_unlock(&b->dev_lock);
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

static int hailort_load(backend *b, const model_spec *spec, backend_model **out,
                        uint64_t *footprint_bytes, hdm_err *err)
{
    uint64_t used_before = 0, used_after = 0, total = 0;
    bool measured;
    backend_model *m;
    int rc;

    if (!b->dev || atomic_load(&b->lost))
        return lost_error(err);
    if ((int)spec->kind < 0 || spec->kind >= MODEL_KIND__COUNT)
        return hdm_err_set(err, HDM_E_UNSUPPORTED, "Unsupported model_type: %d", spec->kind);
    rc = check_model_files(spec, NULL, err);
    if (rc < 0)
        return rc;
    if (spec->kind == MODEL_LLM)
        return hdm_err_set(err, HDM_E_UNSUPPORTED,
                           "the HailoRT LLM binding is not built: this manager cannot run "
                           "model_type llm (%s) on the Hailo device; only the sim backend "
                           "serves llm models",
                           spec->model_path);
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

    measured = hrt_device_ram(b->dev, &used_before, &total) == 0;
    if (spec->kind == MODEL_VLM || spec->kind == MODEL_WHISPER)
        rc = hrt_genai_load(b, b->dev, spec, m, err);
    else
        rc = hrt_dense_load(b, b->dev, spec, m, err);
    if (rc < 0) {
        model_free(m); /* the messages name the file that failed */
        return rc;
    }
    if (measured && hrt_device_ram(b->dev, &used_after, &total) == 0 && used_after > used_before)
        m->footprint = used_after - used_before;
    log_info("loaded %s %s: %llu MiB of device RAM%s", model_kind_name(m->kind), m->path,
             (unsigned long long)(m->footprint >> 20), measured ? "" : " (not measurable)");

    pthread_mutex_lock(&b->cache_lock);
    b->cache_at_ms = 0; /* memory changed */
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
    if (m->kind == MODEL_VLM || m->kind == MODEL_WHISPER)
        rc = hrt_genai_infer(b, m, in, hooks, out, err);
    else
        rc = hrt_dense_infer(b, m, in, hooks, out, err);
    if (rc < 0)
        infer_output_clear(out);
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
    pthread_mutex_lock(&b->cache_lock);
    b->cache_at_ms = 0;
    pthread_mutex_unlock(&b->cache_lock);
}

static int hailort_reset(backend *b, hdm_err *err)
{
    int rc;

    /* The registry unloaded every model first; close any it could not. */
    while (b->models) {
        backend_model *m = b->models;
        b->models = m->next;
        model_free(m);
    }
    pthread_rwlock_wrlock(&b->dev_lock);
    hrt_device_close(b->dev);
    b->dev = NULL;
    rc = open_vdevice(b, err);
    pthread_rwlock_unlock(&b->dev_lock);
    pthread_mutex_lock(&b->cache_lock);
    b->cache_at_ms = 0;
    pthread_mutex_unlock(&b->cache_lock);
    if (rc < 0) {
        hdm_err_prefix(err, "runtime reset");
        return rc;
    }
    log_info("Hailo runtime reset: VDevice re-created");
    return 0;
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
};
