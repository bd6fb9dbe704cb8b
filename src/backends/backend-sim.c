/*
 * backend-sim.c - a simulated Hailo-10H: the backend_sim_ops table, device
 * memory accounting, the single GenAI KV cache, latencies and fault
 * injection.  Outputs are computed in backend-sim-models.c and
 * backend-sim-text.c; sleeping is sim-sleep.c.
 *
 * DESIGN: the manager's workers call it as backend.h allows: inferences of
 * different models at once (one per lane), while load/unload/reset, which
 * alone change the model list, never overlap each other.  So the model list
 * needs no lock; the fault counters are atomic (two lanes count
 * inferences), and so is everything identify() reads from any thread
 * (memory in use, the device-lost flag, the inference count that heats the
 * chip).  The lanes share one NPU (sim-npu.c): their device operations take
 * turns on it, which is what makes the sim's timing under concurrent load
 * faithful.  Like the chip, the simulator refuses what does not fit instead
 * of evicting: eviction is the registry's job, and this is what lets the
 * tests prove that it happens.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend-sim.h"
#include "common/paths.h"
#include "common/timeutil.h"

#define MIB (1024ull * 1024ull)
/* How long a fault-injected timeout waits when the request names none. */
#define SIM_DEFAULT_TIMEOUT_MS 1000

/* ---- open / close / identify --------------------------------------------------- */

static void model_free(backend_model *m)
{
    if (!m)
        return;
    sim_model_free_weights(m);
    for (size_t i = 0; i < m->n_ocr_langs; i++)
        free(m->ocr_langs[i]);
    free(m->ocr_langs);
    free(m->path);
    free(m);
}

static int sim_open(const backend_config *cfg, backend **out, hdm_err *err)
{
    backend *b = calloc(1, sizeof(*b));
    if (!b)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory opening the simulator");
    sim_config_defaults(&b->cfg);
    if (cfg && cfg->sim_config_path) {
        int rc = sim_config_load(cfg->sim_config_path, &b->cfg, err);
        if (rc < 0) {
            free(b);
            return rc;
        }
    }
    b->memory_total = (uint64_t)b->cfg.memory_mb * MIB;
    atomic_init(&b->memory_used, 0);
    atomic_init(&b->lost, false);
    atomic_init(&b->inferences, 0);
    atomic_init(&b->n_loads, 0);
    atomic_init(&b->n_infers, 0);
    atomic_init(&b->n_resets, 0);
    if (sim_npu_new(&b->npu) < 0) {
        free(b);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory opening the simulator");
    }
    *out = b;
    return 0;
}

static void sim_close(backend *b)
{
    if (!b)
        return;
    while (b->models) {
        backend_model *m = b->models;
        b->models = m->next;
        model_free(m);
    }
    sim_npu_free(b->npu);
    free(b);
}

int sim_device_lost_error(hdm_err *err)
{
    return hdm_err_set(err, HDM_E_DEVICE_ERROR,
                       "HAILO_DRIVER_FAIL: the simulated Hailo-10H was lost; the runtime must "
                       "be reset");
}

static int sim_identify(backend *b, device_info *info, hdm_err *err)
{
    if (atomic_load(&b->lost))
        return sim_device_lost_error(err);
    uint64_t used = atomic_load(&b->memory_used);
    uint64_t inferences = atomic_load(&b->inferences);

    memset(info, 0, sizeof(*info));
    snprintf(info->device_id, sizeof(info->device_id), "sim-hailo10h-0");
    snprintf(info->architecture, sizeof(info->architecture), "HAILO10H");
    snprintf(info->fw_version, sizeof(info->fw_version), "5.1.1 (simulated)");
    /* Warmer with more memory in use and with work done, deterministically:
     * up to +8 C for a full chip, approaching +12 C over a few thousand runs. */
    double load_frac = b->memory_total ? (double)used / (double)b->memory_total : 0.0;
    double temp = b->cfg.temperature_base_c + 8.0 * load_frac +
                  12.0 * (1.0 - exp(-(double)inferences / 2000.0));
    info->temperature_celsius = round(temp * 10.0) / 10.0;
    info->memory_total_bytes = b->memory_total;
    info->memory_used_bytes = used;
    info->simulated = true;
    return 0;
}

/* ---- load ------------------------------------------------------------------- */

/* Checks that a file the model needs can be read (beneath `allow` when
 * given, as backends.h asks); adds its size to *bytes. */
static int check_file(const path_allowlist *allow, const char *path, const char *what,
                      uint64_t *bytes, hdm_err *err)
{
    struct stat st;
    int fd;

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
    /* O_NONBLOCK: opening a FIFO would wait for a writer forever. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT)
            return hdm_err_set(err, HDM_E_NOT_FOUND, "%s not found: %s", what, path);
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "cannot read %s %s: %s", what, path,
                           strerror(e));
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s %s is not a regular file", what, path);
    }
    close(fd);
    if (bytes)
        *bytes += (uint64_t)st.st_size;
    return 0;
}

/* Checks every file of spec; *bytes gets their total size. */
static int check_model_files(const model_spec *spec, uint64_t *bytes, hdm_err *err)
{
    int rc = check_file(spec->allow, spec->model_path, "model file", bytes, err);
    if (rc < 0)
        return rc;
    if (spec->kind == MODEL_CLIP) {
        rc = check_file(spec->allow, spec->clip_image_hef, "model_params.image_hef_path", bytes,
                        err);
        if (rc == 0)
            rc = check_file(spec->allow, spec->clip_text_hef, "model_params.text_hef_path", bytes,
                            err);
        return rc;
    }
    if (spec->kind == MODEL_OCR) {
        if (spec->ocr_detection_hef) {
            rc = check_file(spec->allow, spec->ocr_detection_hef, "model_params.detection_hef_path",
                            bytes, err);
            if (rc < 0)
                return rc;
        }
        const cJSON *lang;
        cJSON_ArrayForEach(lang, spec->ocr_recognition_hefs)
        {
            char what[96];
            if (!cJSON_IsString(lang))
                return hdm_err_set(err, HDM_E_BAD_REQUEST,
                                   "model_params.recognition_hefs.%s must be a path", lang->string);
            snprintf(what, sizeof(what), "model_params.recognition_hefs.%s", lang->string);
            rc = check_file(spec->allow, lang->valuestring, what, bytes, err);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* Footprint: the sidecar's, else the type default, but never less than the
 * files themselves (a HEF is loaded whole). */
static uint64_t footprint_of(const backend *b, model_kind kind, const sim_sidecar *sc,
                             uint64_t file_bytes)
{
    if (sc->found && sc->footprint_mb >= 0)
        return (uint64_t)sc->footprint_mb * MIB;
    uint64_t fp = (uint64_t)b->cfg.types[kind].footprint_mb * MIB;
    return file_bytes > fp ? file_bytes : fp;
}

static uint64_t sim_estimate_footprint(backend *b, const model_spec *spec)
{
    sim_sidecar sc;
    uint64_t bytes = 0;
    if ((int)spec->kind < 0 || spec->kind >= MODEL_KIND__COUNT || !spec->model_path)
        return 0;
    if (sim_sidecar_load(spec->model_path, spec->allow, &sc, NULL) < 0)
        return 0; /* load will report the bad sidecar */
    (void)check_model_files(spec, &bytes, NULL);
    return footprint_of(b, spec->kind, &sc, bytes);
}

static backend_model *find_genai(const backend *b)
{
    for (backend_model *m = b->models; m; m = m->next)
        if (model_kind_is_genai(m->kind))
            return m;
    return NULL;
}

/* Fault injection for loads; 0 when no fault fires. */
static int load_faults(backend *b, hdm_err *err)
{
    const sim_faults *f = &b->cfg.faults;
    unsigned long n = atomic_fetch_add(&b->n_loads, 1) + 1;

    if (f->device_lost_load_nth > 0 && n == (unsigned long)f->device_lost_load_nth) {
        atomic_store(&b->lost, true);
        return sim_device_lost_error(err);
    }
    if ((f->fail_load_nth > 0 && n == (unsigned long)f->fail_load_nth) ||
        (f->load_resource_exhausted_every > 0 &&
         n % (unsigned long)f->load_resource_exhausted_every == 0))
        return hdm_err_set(err, HDM_E_RESOURCE_EXHAUSTED,
                           "HAILO_RESOURCE_EXHAUSTED: out of device memory (simulated fault on "
                           "load #%lu)",
                           n);
    return 0;
}

static int copy_ocr_langs(backend_model *m, const model_spec *spec, hdm_err *err)
{
    int n = cJSON_GetArraySize(spec->ocr_recognition_hefs);
    const cJSON *lang;

    if (n <= 0)
        return 0;
    m->ocr_langs = calloc((size_t)n, sizeof(char *));
    if (!m->ocr_langs)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    cJSON_ArrayForEach(lang, spec->ocr_recognition_hefs)
    {
        m->ocr_langs[m->n_ocr_langs] = strdup(lang->string);
        if (!m->ocr_langs[m->n_ocr_langs])
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        m->n_ocr_langs++;
    }
    return 0;
}

/* Model input sizes the sim defines, unless the sidecar says otherwise. */
static void default_input_size(backend_model *m, const sim_sidecar *sc)
{
    switch (m->kind) {
    case MODEL_DEPTH:
        m->in_h = 256, m->in_w = 320;
        break; /* scdepthv3 */
    case MODEL_POSE:
        m->in_h = 640, m->in_w = 640;
        break; /* yolov8s_pose */
    case MODEL_OCR:
        m->in_h = 544, m->in_w = 960;
        break; /* PaddleOCR detection */
    default:
        break;
    }
    if (sc->input_height > 0)
        m->in_h = sc->input_height;
    if (sc->input_width > 0)
        m->in_w = sc->input_width;
}

static uint64_t name_seed(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return sim_hash(SIM_FNV_OFFSET, base, strlen(base));
}

static int sim_load(backend *b, const model_spec *spec, backend_model **out,
                    uint64_t *footprint_bytes, hdm_err *err)
{
    backend_model *m = NULL;
    sim_sidecar sc;
    uint64_t file_bytes = 0, fp, used;
    const sim_type_params *tp;
    int rc;

    if (atomic_load(&b->lost))
        return sim_device_lost_error(err);
    if ((int)spec->kind < 0 || spec->kind >= MODEL_KIND__COUNT)
        return hdm_err_set(err, HDM_E_UNSUPPORTED, "Unsupported model_type: %d", spec->kind);
    rc = check_model_files(spec, &file_bytes, err);
    if (rc < 0)
        return rc;
    rc = sim_sidecar_load(spec->model_path, spec->allow, &sc, err);
    if (rc < 0)
        return rc;
    rc = load_faults(b, err);
    if (rc < 0)
        return rc;

    if (model_kind_is_genai(spec->kind)) {
        const backend_model *g = find_genai(b);
        if (g)
            return backend_genai_taken(g->path, err);
    }
    fp = footprint_of(b, spec->kind, &sc, file_bytes);
    used = atomic_load(&b->memory_used);
    if (fp > b->memory_total - used)
        return hdm_err_set(err, HDM_E_RESOURCE_EXHAUSTED,
                           "HAILO_RESOURCE_EXHAUSTED: %s needs %llu MiB of device memory, %llu "
                           "MiB of %llu MiB free (simulated Hailo-10H)",
                           spec->model_path, (unsigned long long)(fp / MIB),
                           (unsigned long long)((b->memory_total - used) / MIB),
                           (unsigned long long)(b->memory_total / MIB));

    tp = &b->cfg.types[spec->kind];
    m = calloc(1, sizeof(*m));
    if (!m)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory loading %s", spec->model_path);
    m->kind = spec->kind;
    m->footprint = fp;
    m->load_ms = sc.load_ms >= 0 ? sc.load_ms : tp->load_ms;
    m->infer_ms = sc.infer_ms >= 0 ? sc.infer_ms : tp->infer_ms;
    m->token_ms = sc.token_ms >= 0 ? sc.token_ms : tp->token_ms;
    m->path = strdup(spec->model_path);
    if (!m->path) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory loading %s", spec->model_path);
        goto fail;
    }
    m->seed = name_seed(m->path);
    default_input_size(m, &sc);
    if (m->kind == MODEL_CLIP && (rc = sim_clip_init(m, err)) < 0)
        goto fail;
    if (m->kind == MODEL_OCR && (rc = copy_ocr_langs(m, spec, err)) < 0)
        goto fail;

    /* Loading takes its time; it is not interruptible on the chip either. */
    sim_sleep(b, m->load_ms, NULL, NULL);

    atomic_fetch_add(&b->memory_used, fp);
    m->next = b->models;
    b->models = m;
    if (footprint_bytes)
        *footprint_bytes = fp;
    *out = m;
    return 0;

fail:
    model_free(m);
    return rc;
}

/* ---- infer / unload / reset --------------------------------------------------------- */

/* Fault injection for inferences; 0 when no fault fires. */
static int infer_faults(backend *b, const infer_input *in, const infer_hooks *hooks, hdm_err *err)
{
    const sim_faults *f = &b->cfg.faults;
    unsigned long n = atomic_fetch_add(&b->n_infers, 1) + 1;

    if (f->device_lost_nth > 0 && n == (unsigned long)f->device_lost_nth) {
        atomic_store(&b->lost, true);
        return sim_device_lost_error(err);
    }
    if ((f->infer_timeout_nth > 0 && n == (unsigned long)f->infer_timeout_nth) ||
        (f->infer_timeout_every > 0 && n % (unsigned long)f->infer_timeout_every == 0)) {
        int timeout_ms = SIM_DEFAULT_TIMEOUT_MS;
        if (in->kind == MODEL_CLIP && in->u.clip.timeout_ms > 0)
            timeout_ms = in->u.clip.timeout_ms;
        /* Like the chip: the caller waits its whole timeout first. */
        int rc = sim_sleep(b, timeout_ms, hooks, err);
        if (rc < 0)
            return rc;
        return hdm_err_set(err, HDM_E_DEADLINE_EXCEEDED,
                           "HAILO_TIMEOUT: inference did not finish within %d ms (simulated "
                           "fault on inference #%lu)",
                           timeout_ms, n);
    }
    return 0;
}

/* Rewrites the "shape" of every tensor object in node from the tensor it
 * references ({"dtype", "shape", "attachment": i}). */
static void sync_shapes(cJSON *node, const infer_output *out)
{
    const cJSON *att = cJSON_GetObjectItemCaseSensitive(node, "attachment");
    if (cJSON_IsObject(node) && cJSON_IsNumber(att) && att->valuedouble >= 0 &&
        att->valuedouble < out->n_tensors) {
        const hdm_tensor *t = &out->tensors[(uint32_t)att->valuedouble];
        double dims[HDM_MAX_DIMS];
        for (int i = 0; i < t->ndim; i++)
            dims[i] = (double)t->shape[i];
        cJSON *shape = cJSON_CreateDoubleArray(dims, t->ndim);
        if (shape && !cJSON_ReplaceItemInObjectCaseSensitive(node, "shape", shape))
            cJSON_Delete(shape);
        return;
    }
    cJSON *child;
    cJSON_ArrayForEach(child, node)
    {
        sync_shapes(child, out);
    }
}

/*
 * Dense image outputs (depth, pose, OCR detection) are HWC frames: as
 * backend.h asks, their shape is the frame's, [h,w,c], so a [1,h,w,c] from a
 * generator loses its batch 1 here (and so does the "shape" in its result).
 */
static void per_frame_shapes(model_kind kind, const infer_input *in, infer_output *out)
{
    bool dense = kind == MODEL_DEPTH || kind == MODEL_POSE ||
                 (kind == MODEL_OCR && in->u.ocr.mode == OCR_MODE_DETECTION);
    if (!dense)
        return;
    for (uint32_t i = 0; i < out->n_tensors; i++) {
        hdm_tensor *t = &out->tensors[i];
        if (t->ndim != 4 || t->shape[0] != 1)
            continue;
        memmove(t->shape, t->shape + 1, 3 * sizeof(t->shape[0]));
        t->ndim = 3;
    }
    sync_shapes(out->result, out);
}

static int sim_infer(backend *b, backend_model *m, const infer_input *in, const infer_hooks *hooks,
                     infer_output *out, hdm_err *err)
{
    int rc;

    if (atomic_load(&b->lost))
        return sim_device_lost_error(err);
    if (in->kind != m->kind)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "input is for a %s model but %s is a %s model",
                           model_kind_name(in->kind), m->path, model_kind_name(m->kind));
    rc = infer_faults(b, in, hooks, err);
    if (rc < 0)
        return rc;
    memset(out, 0, sizeof(*out));
    switch (m->kind) {
    case MODEL_CLIP:
        rc = sim_infer_clip(b, m, in, hooks, out, err);
        break;
    case MODEL_VLM:
        rc = sim_infer_vlm(b, m, in, hooks, out, err);
        break;
    case MODEL_WHISPER:
        rc = sim_infer_whisper(b, m, in, hooks, out, err);
        break;
    case MODEL_OCR:
        rc = sim_infer_ocr(b, m, in, hooks, out, err);
        break;
    case MODEL_DEPTH:
        rc = sim_infer_depth(b, m, in, hooks, out, err);
        break;
    case MODEL_POSE:
        rc = sim_infer_pose(b, m, in, hooks, out, err);
        break;
    case MODEL_LLM:
        rc = sim_infer_llm(b, m, in, hooks, out, err);
        break;
    default:
        rc = hdm_err_set(err, HDM_E_UNSUPPORTED, "Unsupported model_type: %d", m->kind);
        break;
    }
    if (rc < 0) {
        infer_output_clear(out);
        return rc;
    }
    per_frame_shapes(m->kind, in, out);
    atomic_fetch_add(&b->inferences, 1);
    return 0;
}

static void sim_unload(backend *b, backend_model *m)
{
    if (!m)
        return;
    for (backend_model **p = &b->models; *p; p = &(*p)->next) {
        if (*p == m) {
            *p = m->next;
            atomic_fetch_sub(&b->memory_used, m->footprint);
            break;
        }
    }
    sim_npu_forget(b->npu, m);
    model_free(m);
}

static int sim_reset(backend *b, hdm_err *err)
{
    unsigned long n = atomic_fetch_add(&b->n_resets, 1) + 1;
    if (b->cfg.faults.reset_fail_count > 0 && n <= (unsigned long)b->cfg.faults.reset_fail_count)
        return hdm_err_set(err, HDM_E_DEVICE_ERROR,
                           "HAILO_DRIVER_FAIL: runtime reset failed (simulated fault, reset #%lu)",
                           n);
    atomic_store(&b->lost, false);
    return 0;
}

static int sim_model_info(backend *b, backend_model *m, cJSON *info)
{
    (void)b;
    if (m->kind != MODEL_OCR)
        return 0;
    const double shape[3] = {m->in_h, m->in_w, 3};
    cJSON *arr = cJSON_CreateDoubleArray(shape, 3);
    if (!arr || !cJSON_AddItemToObject(info, "detection_input_shape", arr)) {
        cJSON_Delete(arr);
        return -HDM_E_NOMEM;
    }
    return 0;
}

/* Both lanes share the simulated chip faithfully (sim-npu.c). */
static bool sim_parallel_genai(backend *b)
{
    (void)b;
    return true;
}

static int sim_device_time_json(backend *b, cJSON *out)
{
    return sim_npu_json(b->npu, out);
}

const backend_ops backend_sim_ops = {
    .name = "sim",
    .open = sim_open,
    .close = sim_close,
    .identify = sim_identify,
    .load = sim_load,
    .estimate_footprint = sim_estimate_footprint,
    .infer = sim_infer,
    .unload = sim_unload,
    .reset = sim_reset,
    .model_info = sim_model_info,
    .parallel_genai = sim_parallel_genai,
    .device_time_json = sim_device_time_json,
};
