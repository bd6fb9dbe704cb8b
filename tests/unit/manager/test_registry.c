/*
 * test_registry.c - the registry (and the worker that drives it) over a
 * fake backend defined here: loads, LRU eviction on the device's
 * resource-exhausted error with bounded retries, proactive eviction by
 * footprint, pinning, GenAI swap, keep-alive expiry, the runtime reset after
 * repeated device errors, status forms and metrics; and two workers (lanes)
 * sharing it: an eviction that waits for the other lane's model, a wait
 * that gives up on cancel or deadline, no double load, inference during
 * another lane's load, the reset waiting for the other lane, and the
 * worker's two lanes running at once.  Threads meet at gates the fake
 * device stops at; the tests wait for states, never for fixed times.
 *
 * The fake device has `total` bytes; a model's footprint is the number after
 * the last '-' in its path, in MiB ("/m/a-400" takes 400 MiB).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "manager/registry.h"
#include "manager/worker.h"

#define MB (1024ull * 1024ull)

/* ---- gates: the fake device stops a call here while a test holds it ---- */

typedef struct gate {
    bool armed, arrived, open;
    model_kind kind; /* only calls for a model of this kind stop */
} gate;

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static gate load_gate, infer_gate;

static void gate_arm(gate *g, model_kind kind)
{
    pthread_mutex_lock(&gate_mu);
    *g = (gate){.armed = true, .kind = kind};
    pthread_mutex_unlock(&gate_mu);
}

static void gate_pass(gate *g, model_kind kind)
{
    pthread_mutex_lock(&gate_mu);
    if (g->armed && g->kind == kind) {
        g->arrived = true;
        pthread_cond_broadcast(&gate_cv);
        while (!g->open)
            pthread_cond_wait(&gate_cv, &gate_mu);
    }
    pthread_mutex_unlock(&gate_mu);
}

static void gate_open(gate *g)
{
    pthread_mutex_lock(&gate_mu);
    g->open = true;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
}

static void gate_wait_arrived(gate *g)
{
    int64_t until = mono_ms() + 20000;
    pthread_mutex_lock(&gate_mu);
    while (!g->arrived) {
        assert_true(mono_ms() < until);
        pthread_mutex_unlock(&gate_mu);
        sleep_ms(1);
        pthread_mutex_lock(&gate_mu);
    }
    pthread_mutex_unlock(&gate_mu);
}

/* ---- the fake backend ---- */

struct backend {
    uint64_t total, used;
    bool report_total;       /* identify tells the memory size */
    bool report_footprint;   /* load reports the footprint */
    bool estimate;           /* estimate_footprint answers */
    int fail_exhausted;      /* next N loads fail resource-exhausted */
    int fail_device;         /* next N loads fail with a device error */
    int infer_device_errors; /* next N inferences fail with a device error */
    int infer_timeouts;      /* next N inferences time out on the device (HAILO_TIMEOUT) */
    int infer_deadlines;     /* next N inferences stop at the caller's deadline */
    bool reset_fails;
    bool genai_loaded;
    int loads, unloads, resets, exhausted_answers, infers;
};

struct backend_model {
    uint64_t footprint;
    bool genai;
};

static uint64_t path_footprint(const char *path)
{
    const char *dash = strrchr(path, '-');
    return dash ? strtoull(dash + 1, NULL, 10) * MB : 100 * MB;
}

static int fake_identify(backend *b, device_info *info, hdm_err *err)
{
    (void)err;
    memset(info, 0, sizeof *info);
    snprintf(info->device_id, sizeof info->device_id, "fake0");
    info->memory_total_bytes = b->report_total ? b->total : 0;
    info->memory_used_bytes = b->used;
    info->temperature_celsius = 47.5;
    info->simulated = true;
    return 0;
}

static int fake_load(backend *b, const model_spec *spec, backend_model **out, uint64_t *fp,
                     hdm_err *err)
{
    uint64_t need = path_footprint(spec->model_path);
    bool genai = model_kind_is_genai(spec->kind);

    gate_pass(&load_gate, spec->kind);
    if (b->fail_device > 0) {
        b->fail_device--;
        return hdm_err_set(err, HDM_E_DEVICE_ERROR, "fake device lost");
    }
    if (b->fail_exhausted > 0 || b->used + need > b->total || (genai && b->genai_loaded)) {
        if (b->fail_exhausted > 0)
            b->fail_exhausted--;
        b->exhausted_answers++;
        return hdm_err_set(err, HDM_E_RESOURCE_EXHAUSTED,
                           "HAILO_RESOURCE_EXHAUSTED: fake device full loading %s",
                           spec->model_path);
    }
    backend_model *m = calloc(1, sizeof *m);
    if (!m)
        return hdm_err_set(err, HDM_E_NOMEM, "oom");
    m->footprint = need;
    m->genai = genai;
    b->used += need;
    b->genai_loaded |= genai;
    b->loads++;
    *fp = b->report_footprint ? need : 0;
    *out = m;
    return 0;
}

static uint64_t fake_estimate(backend *b, const model_spec *spec)
{
    return b->estimate ? path_footprint(spec->model_path) : 0;
}

static int fake_infer(backend *b, backend_model *m, const infer_input *in, const infer_hooks *hooks,
                      infer_output *out, hdm_err *err)
{
    (void)m;
    gate_pass(&infer_gate, in->kind);
    b->infers++;
    if (b->infer_device_errors > 0) {
        b->infer_device_errors--;
        return hdm_err_set(err, HDM_E_DEVICE_ERROR, "fake inference timeout");
    }
    if (b->infer_timeouts > 0) {
        b->infer_timeouts--;
        return hdm_err_set(err, HDM_E_DEADLINE_EXCEEDED, "HAILO_TIMEOUT: fake device hung");
    }
    if (b->infer_deadlines > 0) {
        b->infer_deadlines--;
        return hdm_err_set(err, HDM_E_DEADLINE_EXCEEDED, "deadline exceeded during inference");
    }
    if (hooks && hooks->on_delta)
        hooks->on_delta(hooks->ctx, "hi", 2);
    out->result = cJSON_CreateString("fake result");
    return 0;
}

static void fake_unload(backend *b, backend_model *m)
{
    b->used -= m->footprint;
    if (m->genai)
        b->genai_loaded = false;
    b->unloads++;
    free(m);
}

static int fake_reset(backend *b, hdm_err *err)
{
    b->resets++;
    if (b->reset_fails)
        return hdm_err_set(err, HDM_E_DEVICE_ERROR, "fake reset refused");
    return 0;
}

static const backend_ops fake_ops = {
    .name = "fake",
    .identify = fake_identify,
    .load = fake_load,
    .estimate_footprint = fake_estimate,
    .infer = fake_infer,
    .unload = fake_unload,
    .reset = fake_reset,
};

/* ---- helpers ---- */

static struct backend dev;
static registry *reg;

static int setup(void **state)
{
    (void)state;
    memset(&dev, 0, sizeof dev);
    dev.total = 1000 * MB;
    dev.report_footprint = true;
    reg = NULL;
    memset(&load_gate, 0, sizeof load_gate);
    memset(&infer_gate, 0, sizeof infer_gate);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    registry_free(reg);
    assert_int_equal(dev.used, 0); /* registry_free unloaded everything */
    return 0;
}

static void mk_registry(uint64_t memory_bytes, int max_evictions, int reset_after)
{
    registry_config cfg;
    registry_config_defaults(&cfg);
    cfg.memory_bytes = memory_bytes;
    cfg.max_evictions = max_evictions;
    cfg.reset_after_errors = reset_after;
    assert_int_equal(registry_new(&fake_ops, &dev, &cfg, &reg), 0);
}

static job *mk_job(job_action action, model_kind kind, const char *path, double keep_alive)
{
    job *j = calloc(1, sizeof *j);
    assert_non_null(j);
    j->action = action;
    j->kind = kind;
    j->model_type = strdup(model_kind_name(kind));
    j->model_path = strdup(path);
    if (!isnan(keep_alive)) {
        j->has_keep_alive = true;
        j->keep_alive = keep_alive;
    }
    snprintf(j->client_name, sizeof j->client_name, "tester");
    atomic_init(&j->cancelled, false);
    return j;
}

/* Acquires (loading if needed) and releases; returns the rc. */
static int use(model_kind kind, const char *path, double keep_alive, bool *loaded_now, hdm_err *err)
{
    job *j = mk_job(JOB_LOAD, kind, path, keep_alive);
    reg_model *m = NULL;
    bool ln = false;
    int rc = registry_acquire(reg, j, &m, &ln, err);
    if (rc == 0)
        registry_release(reg, m, j);
    if (loaded_now)
        *loaded_now = ln;
    job_free(j);
    return rc;
}

static int infer_once(model_kind kind, const char *path, hdm_err *err)
{
    job *j = mk_job(JOB_INFER, kind, path, NAN);
    reg_model *m = NULL;
    bool ln;
    infer_output out = {0};
    int rc = registry_acquire(reg, j, &m, &ln, err);
    if (rc == 0) {
        rc = registry_infer(reg, m, j, NULL, &out, err);
        registry_release(reg, m, j);
    }
    infer_output_clear(&out);
    job_free(j);
    return rc;
}

/* unload_model of (kind, path), as the worker runs it. */
static int unload(model_kind kind, const char *path, bool *was, hdm_err *err)
{
    job *j = mk_job(JOB_UNLOAD, kind, path, NAN);
    int rc = registry_unload(reg, j, was, err);
    job_free(j);
    return rc;
}

static bool resident(model_kind kind, const char *path)
{
    return registry_is_resident(reg, kind, path);
}

static cJSON *status(bool device_form)
{
    cJSON *st = cJSON_CreateObject();
    registry_status_json(reg, st, device_form);
    return st;
}

/* ---- tests ---- */

static void test_load_already_loaded_unload(void **state)
{
    (void)state;
    hdm_err err = {0};
    bool ln, was;
    mk_registry(0, 3, 3);
    assert_int_equal(use(MODEL_CLIP, "/m/clip-300", NAN, &ln, &err), 0);
    assert_true(ln);
    assert_int_equal(use(MODEL_CLIP, "/m/clip-300", NAN, &ln, &err), 0);
    assert_false(ln);
    assert_int_equal(dev.loads, 1);
    /* Same path, other kind: another entry. */
    assert_false(resident(MODEL_DEPTH, "/m/clip-300"));

    cJSON *st = status(false);
    cJSON *lm = cJSON_GetObjectItem(st, "loaded_models");
    assert_int_equal(cJSON_GetArraySize(lm), 1);
    cJSON *m0 = cJSON_GetArrayItem(lm, 0);
    assert_string_equal(cJSON_GetObjectItem(m0, "model_type")->valuestring, "clip");
    assert_string_equal(cJSON_GetObjectItem(m0, "model_path")->valuestring, "/m/clip-300");
    assert_true(cJSON_GetObjectItem(m0, "loaded_at")->valuedouble > 1e9);
    assert_true(cJSON_GetObjectItem(m0, "last_used")->valuedouble >=
                cJSON_GetObjectItem(m0, "loaded_at")->valuedouble);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(m0, "keep_alive"))); /* until evicted */
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(m0, "pinned")));
    assert_true(cJSON_GetObjectItem(m0, "footprint_bytes")->valuedouble == 300.0 * MB);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(st, "runtime_broken_reason")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(st, "last_capacity_event_reason")));
    assert_int_equal(cJSON_GetObjectItem(st, "total_lru_evictions")->valueint, 0);
    cJSON *mem = cJSON_GetObjectItem(st, "memory");
    assert_true(cJSON_GetObjectItem(mem, "used_bytes")->valuedouble == 300.0 * MB);
    cJSON_Delete(st);

    assert_int_equal(unload(MODEL_CLIP, "/m/clip-300", &was, &err), 0);
    assert_true(was);
    assert_int_equal(unload(MODEL_CLIP, "/m/clip-300", &was, &err), 0);
    assert_false(was);
    assert_int_equal(dev.unloads, 1);
}

static void test_lru_eviction_on_exhaustion(void **state)
{
    (void)state;
    hdm_err err = {0};
    mk_registry(0, 3, 3); /* no accounting: only the device's answer counts */
    assert_int_equal(use(MODEL_CLIP, "/m/a-400", NAN, NULL, &err), 0);
    sleep_ms(2);
    assert_int_equal(use(MODEL_DEPTH, "/m/b-400", NAN, NULL, &err), 0);
    sleep_ms(2);
    assert_int_equal(infer_once(MODEL_CLIP, "/m/a-400", &err), 0); /* a is now newer */
    sleep_ms(2);
    assert_int_equal(use(MODEL_POSE, "/m/c-400", NAN, NULL, &err), 0);
    assert_int_equal(dev.exhausted_answers, 1);
    assert_false(resident(MODEL_DEPTH, "/m/b-400"));
    assert_true(resident(MODEL_CLIP, "/m/a-400"));
    assert_true(resident(MODEL_POSE, "/m/c-400"));

    cJSON *st = status(false);
    assert_int_equal(cJSON_GetObjectItem(st, "total_lru_evictions")->valueint, 1);
    assert_string_equal(cJSON_GetObjectItem(st, "last_capacity_event_reason")->valuestring,
                        "lru_eviction");
    assert_string_equal(cJSON_GetObjectItem(st, "last_capacity_event_model")->valuestring,
                        "/m/b-400");
    assert_true(cJSON_GetObjectItem(st, "last_capacity_event_at")->valuedouble > 1e9);
    cJSON_Delete(st);
}

static void test_eviction_retries_are_bounded(void **state)
{
    (void)state;
    hdm_err err = {0};
    mk_registry(0, 2, 3);
    assert_int_equal(use(MODEL_CLIP, "/m/a-100", NAN, NULL, &err), 0);
    assert_int_equal(use(MODEL_DEPTH, "/m/b-100", NAN, NULL, &err), 0);
    assert_int_equal(use(MODEL_POSE, "/m/c-100", NAN, NULL, &err), 0);
    dev.fail_exhausted = 10; /* the device keeps saying no */
    assert_int_equal(use(MODEL_OCR, "/m/d-100", NAN, NULL, &err), -HDM_E_RESOURCE_EXHAUSTED);
    assert_int_equal(err.code, HDM_E_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(err.msg, "HAILO_RESOURCE_EXHAUSTED"));
    assert_non_null(strstr(err.msg, "after 2 evictions"));
    assert_int_equal(dev.exhausted_answers, 3); /* first try + 2 retries */
    assert_int_equal(dev.unloads, 2);
    assert_true(resident(MODEL_POSE, "/m/c-100")); /* the newest survives */
    cJSON *st = status(false);
    assert_int_equal(cJSON_GetObjectItem(st, "total_lru_evictions")->valueint, 2);
    assert_string_equal(cJSON_GetObjectItem(st, "last_capacity_event_reason")->valuestring,
                        "resource_exhausted");
    assert_string_equal(cJSON_GetObjectItem(st, "last_capacity_event_model")->valuestring,
                        "/m/d-100");
    cJSON_Delete(st);
}

static void test_proactive_eviction_by_footprint(void **state)
{
    (void)state;
    hdm_err err = {0};
    dev.estimate = true;
    mk_registry(1000 * MB, 0, 3); /* no retries: eviction must happen before the load */
    assert_int_equal(use(MODEL_CLIP, "/m/a-600", NAN, NULL, &err), 0);
    assert_int_equal(use(MODEL_DEPTH, "/m/b-600", NAN, NULL, &err), 0);
    assert_int_equal(dev.exhausted_answers, 0);
    assert_false(resident(MODEL_CLIP, "/m/a-600"));
    assert_true(resident(MODEL_DEPTH, "/m/b-600"));
    cJSON *st = status(false);
    assert_string_equal(cJSON_GetObjectItem(st, "last_capacity_event_reason")->valuestring,
                        "proactive_eviction");
    assert_int_equal(cJSON_GetObjectItem(st, "total_lru_evictions")->valueint, 1);
    cJSON *mem = cJSON_GetObjectItem(st, "memory");
    assert_true(cJSON_GetObjectItem(mem, "total_bytes")->valuedouble == 1000.0 * MB);
    cJSON_Delete(st);

    /* Too big for the device at all: a clear answer without touching it. */
    int loads = dev.loads;
    assert_int_equal(use(MODEL_POSE, "/m/huge-2000", NAN, NULL, &err), -HDM_E_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(err.msg, "HAILO_RESOURCE_EXHAUSTED"));
    assert_non_null(strstr(err.msg, "needs 2000 MiB"));
    assert_int_equal(dev.loads, loads);
}

static void test_learned_footprint_used_next_time(void **state)
{
    (void)state;
    hdm_err err = {0};
    bool was;
    dev.estimate = false;    /* only learning can tell */
    dev.report_total = true; /* memory size from identify */
    mk_registry(0, 0, 3);
    assert_int_equal(use(MODEL_CLIP, "/m/a-600", NAN, NULL, &err), 0);
    assert_int_equal(unload(MODEL_CLIP, "/m/a-600", &was, &err), 0);
    assert_int_equal(use(MODEL_DEPTH, "/m/b-600", NAN, NULL, &err), 0);
    /* a's footprint was learned: b is evicted first, no device refusal. */
    assert_int_equal(use(MODEL_CLIP, "/m/a-600", NAN, NULL, &err), 0);
    assert_int_equal(dev.exhausted_answers, 0);
    assert_false(resident(MODEL_DEPTH, "/m/b-600"));
}

static void test_pinned_never_evicted(void **state)
{
    (void)state;
    hdm_err err = {0};
    dev.estimate = true;
    mk_registry(1000 * MB, 3, 3);
    assert_int_equal(use(MODEL_CLIP, "/m/pinned-600", -1, NULL, &err), 0);
    assert_int_equal(use(MODEL_DEPTH, "/m/b-600", NAN, NULL, &err), -HDM_E_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(err.msg, "HAILO_RESOURCE_EXHAUSTED"));
    assert_non_null(strstr(err.msg, "/m/pinned-600"));
    assert_non_null(strstr(err.msg, "pinned"));
    assert_true(resident(MODEL_CLIP, "/m/pinned-600"));
    cJSON *st = status(false);
    cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(st, "loaded_models"), 0);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(m0, "pinned")));
    assert_true(cJSON_GetObjectItem(m0, "keep_alive")->valuedouble == -1);
    cJSON_Delete(st);
    /* A pinned model stays past any idle time. */
    assert_int_equal(registry_expire(reg), -1);
    assert_true(resident(MODEL_CLIP, "/m/pinned-600"));
}

static void test_pinned_blocks_device_retry(void **state)
{
    (void)state;
    hdm_err err = {0};
    mk_registry(0, 3, 3); /* no accounting: the device refuses */
    assert_int_equal(use(MODEL_CLIP, "/m/p-800", -1, NULL, &err), 0);
    assert_int_equal(use(MODEL_DEPTH, "/m/b-400", NAN, NULL, &err), -HDM_E_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(err.msg, "HAILO_RESOURCE_EXHAUSTED"));
    assert_non_null(strstr(err.msg, "pinned models /m/p-800"));
    assert_int_equal(dev.unloads, 0);
}

static void test_genai_swap(void **state)
{
    (void)state;
    hdm_err err = {0};
    mk_registry(0, 0, 3); /* no eviction retries: the swap must come first */
    assert_int_equal(use(MODEL_VLM, "/m/vlm1-100", NAN, NULL, &err), 0);
    assert_int_equal(use(MODEL_CLIP, "/m/clip-100", NAN, NULL, &err), 0);
    assert_int_equal(use(MODEL_VLM, "/m/vlm2-100", NAN, NULL, &err), 0);
    assert_false(resident(MODEL_VLM, "/m/vlm1-100"));
    assert_true(resident(MODEL_VLM, "/m/vlm2-100"));
    assert_true(resident(MODEL_CLIP, "/m/clip-100")); /* non-GenAI untouched */
    assert_int_equal(dev.exhausted_answers, 0);
    cJSON *st = status(false);
    assert_string_equal(cJSON_GetObjectItem(st, "last_capacity_event_reason")->valuestring,
                        "genai_swap");
    assert_string_equal(cJSON_GetObjectItem(st, "last_capacity_event_model")->valuestring,
                        "/m/vlm1-100");
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(st, "registry"), "genai_swaps")->valueint, 1);
    cJSON_Delete(st);

    /* A pinned GenAI model is not swapped out. */
    assert_int_equal(use(MODEL_VLM, "/m/vlm2-100", -1, NULL, &err), 0);
    assert_int_equal(use(MODEL_VLM, "/m/vlm3-100", NAN, NULL, &err), -HDM_E_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(err.msg, "HAILO_RESOURCE_EXHAUSTED"));
    assert_non_null(strstr(err.msg, "/m/vlm2-100"));
    assert_true(resident(MODEL_VLM, "/m/vlm2-100"));
}

static void test_keep_alive(void **state)
{
    (void)state;
    hdm_err err = {0};
    mk_registry(0, 3, 3);
    assert_int_equal(use(MODEL_CLIP, "/m/short-100", 0.05, NULL, &err), 0);
    assert_int_equal(use(MODEL_DEPTH, "/m/long-100", 300, NULL, &err), 0);
    assert_int_equal(use(MODEL_OCR, "/m/idle-100", NAN, NULL, &err), 0); /* default: no limit */
    int next = registry_expire(reg);
    assert_true(next > 0 && next <= 50);
    sleep_ms(80);
    next = registry_expire(reg);
    assert_false(resident(MODEL_CLIP, "/m/short-100"));
    assert_true(resident(MODEL_DEPTH, "/m/long-100"));
    assert_true(resident(MODEL_OCR, "/m/idle-100"));
    assert_true(next > 250000 && next <= 300000);

    /* keep_alive 0: gone right after use. */
    assert_int_equal(use(MODEL_POSE, "/m/once-100", 0, NULL, &err), 0);
    assert_false(resident(MODEL_POSE, "/m/once-100"));
    assert_int_equal(dev.loads, 4);

    /* A later request's keep_alive replaces the model's. */
    assert_int_equal(use(MODEL_DEPTH, "/m/long-100", 0.01, NULL, &err), 0);
    sleep_ms(30);
    assert_int_equal(registry_expire(reg), -1);
    assert_false(resident(MODEL_DEPTH, "/m/long-100"));
}

static void test_reset_after_repeated_errors(void **state)
{
    (void)state;
    hdm_err err = {0};
    mk_registry(0, 3, 2);
    assert_int_equal(use(MODEL_CLIP, "/m/a-100", NAN, NULL, &err), 0);
    assert_int_equal(use(MODEL_DEPTH, "/m/b-100", NAN, NULL, &err), 0);
    dev.infer_device_errors = 2;
    assert_int_equal(infer_once(MODEL_CLIP, "/m/a-100", &err), -HDM_E_DEVICE_ERROR);
    assert_int_equal(dev.resets, 0);
    assert_int_equal(infer_once(MODEL_CLIP, "/m/a-100", &err), -HDM_E_DEVICE_ERROR);
    assert_int_equal(dev.resets, 1);
    assert_false(resident(MODEL_CLIP, "/m/a-100"));
    assert_false(resident(MODEL_DEPTH, "/m/b-100"));
    cJSON *st = status(false);
    cJSON *why = cJSON_GetObjectItem(st, "runtime_broken_reason");
    assert_true(cJSON_IsString(why));
    assert_non_null(strstr(why->valuestring, "2 consecutive device errors"));
    assert_non_null(strstr(why->valuestring, "fake inference timeout"));
    cJSON_Delete(st);

    /* A later success clears it (auto-load + infer). */
    assert_int_equal(infer_once(MODEL_CLIP, "/m/a-100", &err), 0);
    st = status(false);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(st, "runtime_broken_reason")));
    cJSON_Delete(st);

    /* A caller's deadline is not the device's fault; a hung device is. */
    dev.infer_deadlines = 3;
    for (int i = 0; i < 3; i++)
        assert_int_equal(infer_once(MODEL_CLIP, "/m/a-100", &err), -HDM_E_DEADLINE_EXCEEDED);
    assert_int_equal(dev.resets, 1);
    dev.infer_timeouts = 2;
    for (int i = 0; i < 2; i++)
        assert_int_equal(infer_once(MODEL_CLIP, "/m/a-100", &err), -HDM_E_DEADLINE_EXCEEDED);
    assert_int_equal(dev.resets, 2);
    assert_false(resident(MODEL_CLIP, "/m/a-100"));

    /* Errors that are not the device's do not count. */
    assert_int_equal(use(MODEL_CLIP, "/m/a-100", NAN, NULL, &err), 0);
    dev.fail_exhausted = 1;
    dev.fail_device = 0;
    assert_int_equal(use(MODEL_POSE, "/m/p-100", NAN, NULL, &err), 0); /* evicts, retries */
    assert_int_equal(dev.resets, 2);
}

static void test_reset_failure_keeps_reason(void **state)
{
    (void)state;
    hdm_err err = {0};
    dev.reset_fails = true;
    mk_registry(0, 3, 1);
    dev.fail_device = 1;
    assert_int_equal(use(MODEL_CLIP, "/m/a-100", NAN, NULL, &err), -HDM_E_DEVICE_ERROR);
    assert_int_equal(dev.resets, 1);
    cJSON *st = status(false);
    cJSON *why = cJSON_GetObjectItem(st, "runtime_broken_reason");
    assert_true(cJSON_IsString(why));
    assert_non_null(strstr(why->valuestring, "reset failed: fake reset refused"));
    cJSON_Delete(st);
}

static void test_device_status_form_and_metrics(void **state)
{
    (void)state;
    hdm_err err = {0};
    mk_registry(0, 3, 3);
    assert_int_equal(use(MODEL_CLIP, "/m/dir/model-100", -1, NULL, &err), 0);
    cJSON *st = status(true);
    assert_null(cJSON_GetObjectItem(st, "loaded_models"));
    cJSON *nets = cJSON_GetObjectItem(st, "networks");
    assert_string_equal(cJSON_GetObjectItem(nets, "source")->valuestring, "device_manager");
    assert_int_equal(cJSON_GetObjectItem(nets, "network_count")->valueint, 1);
    assert_non_null(cJSON_GetObjectItem(nets, "status"));
    cJSON *n0 = cJSON_GetArrayItem(cJSON_GetObjectItem(nets, "networks"), 0);
    assert_string_equal(cJSON_GetObjectItem(n0, "name")->valuestring, "model-100");
    assert_string_equal(cJSON_GetObjectItem(n0, "model_path")->valuestring, "/m/dir/model-100");
    assert_non_null(cJSON_GetObjectItem(st, "total_lru_evictions"));
    cJSON_Delete(st);

    buf m = {0};
    registry_metrics(reg, &m);
    buf_append(&m, "", 1);
    const char *t = (const char *)m.data;
    assert_non_null(strstr(t, "hailo_model_loads_total 1\n"));
    assert_non_null(strstr(t, "hailo_models_resident 1\n"));
    assert_non_null(
        strstr(t, "hailo_model_resident_bytes{model_type=\"clip\",model_path=\"/m/dir/model-100\","
                  "pinned=\"true\"} 104857600\n"));
    assert_non_null(strstr(t, "hailo_device_temperature_celsius 47.50\n"));
    assert_non_null(strstr(t, "# TYPE hailo_model_evictions_total counter"));
    buf_free(&m);
}

/* ---- the worker over the fake backend ---- */

static pthread_mutex_t wmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wcv = PTHREAD_COND_INITIALIZER;
static job *wdone[32];
static int n_wdone, n_deltas;

static void w_complete(void *ctx, job *j)
{
    (void)ctx;
    pthread_mutex_lock(&wmu);
    wdone[n_wdone++] = j;
    pthread_cond_broadcast(&wcv);
    pthread_mutex_unlock(&wmu);
}

static void w_delta(void *ctx, job *j, const char *text, size_t len)
{
    (void)ctx;
    (void)j;
    assert_int_equal(len, 2);
    assert_memory_equal(text, "hi", 2);
    n_deltas++;
}

static bool w_resident(void *ctx, model_kind kind, const char *path)
{
    return registry_is_resident(ctx, kind, path);
}

static void wait_done(int n)
{
    pthread_mutex_lock(&wmu);
    while (n_wdone < n)
        pthread_cond_wait(&wcv, &wmu);
    pthread_mutex_unlock(&wmu);
}

static void test_worker_runs_jobs(void **state)
{
    (void)state;
    sched_config scfg;
    sched *s = NULL;
    worker *w = NULL;
    worker_hooks hooks = {.complete = w_complete, .delta = w_delta, .ctx = NULL};

    n_wdone = n_deltas = 0;
    mk_registry(0, 3, 3);
    sched_config_defaults(&scfg);
    assert_int_equal(sched_new(&scfg, w_complete, w_resident, reg, &s), 0);
    assert_int_equal(worker_start(s, reg, &hooks, false, &w), 0);

    job *l1 = mk_job(JOB_LOAD, MODEL_CLIP, "/m/a-100", NAN);
    job *l2 = mk_job(JOB_LOAD, MODEL_CLIP, "/m/a-100", NAN);
    job *inf = mk_job(JOB_INFER, MODEL_VLM, "/m/v-100", NAN); /* auto-load */
    inf->stream = true;
    job *late = mk_job(JOB_INFER, MODEL_CLIP, "/m/a-100", NAN);
    late->deadline_ms = mono_ms() - 1; /* already expired: never runs */
    job *u1 = mk_job(JOB_UNLOAD, MODEL_CLIP, "/m/a-100", NAN);
    job *u2 = mk_job(JOB_UNLOAD, MODEL_CLIP, "/m/a-100", NAN);
    job *all[] = {l1, l2, inf, late, u1, u2};
    /* FIFO order inside one client and class: submit one at a time. */
    for (int i = 0; i < 6; i++) {
        all[i]->received_ms = mono_ms();
        assert_int_equal(sched_submit(s, all[i]), 0);
        wait_done(i + 1);
    }
    assert_int_equal(l1->rc, 0);
    assert_string_equal(l1->message, "Model loaded");
    assert_string_equal(l2->message, "Model already loaded");
    assert_int_equal(inf->rc, 0);
    assert_string_equal(inf->out.result->valuestring, "fake result");
    assert_true(inf->load_time_ms >= 0);
    assert_true(inf->inference_time_ms >= 0);
    assert_int_equal(n_deltas, 1);
    assert_int_equal(late->rc, -HDM_E_DEADLINE_EXCEEDED);
    assert_non_null(strstr(late->err.msg, "deadline exceeded after"));
    assert_string_equal(u1->message, "Model unloaded");
    assert_string_equal(u2->message, "Model was not loaded");
    assert_int_equal(dev.infers, 1);

    sched_shutdown(s);
    worker_stop(w);
    assert_int_equal(dev.used, 0); /* worker_stop unloaded the VLM */
    sched_free(s);
    for (int i = 0; i < 6; i++)
        job_free(all[i]);
}

/* ---- two workers ---- */

/* A worker of another lane: acquires its model, says so, holds it until
 * told, releases it. */
typedef struct holder {
    pthread_t t;
    job *j;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool held, let_go;
    int rc;
} holder;

static void *holder_main(void *arg)
{
    holder *h = arg;
    reg_model *m = NULL;
    bool ln;
    hdm_err err = {0};
    h->rc = registry_acquire(reg, h->j, &m, &ln, &err);
    pthread_mutex_lock(&h->mu);
    h->held = true;
    pthread_cond_broadcast(&h->cv);
    while (!h->let_go)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
    if (h->rc == 0)
        registry_release(reg, m, h->j);
    return NULL;
}

static void hold(holder *h, model_kind kind, const char *path)
{
    h->j = mk_job(JOB_INFER, kind, path, NAN);
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    h->held = h->let_go = false;
    assert_int_equal(pthread_create(&h->t, NULL, holder_main, h), 0);
    pthread_mutex_lock(&h->mu);
    while (!h->held)
        pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
    assert_int_equal(h->rc, 0);
}

static void let_go(holder *h)
{
    pthread_mutex_lock(&h->mu);
    h->let_go = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->t, NULL);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    job_free(h->j);
}

/* A worker that acquires (perhaps waiting), then releases at once. */
typedef struct acquirer {
    pthread_t t;
    job *j;
    bool infer; /* run one inference between acquire and release */
    int rc;
    bool loaded_now;
    hdm_err err;
    atomic_bool done;
} acquirer;

static void *acquirer_main(void *arg)
{
    acquirer *a = arg;
    reg_model *m = NULL;
    a->rc = registry_acquire(reg, a->j, &m, &a->loaded_now, &a->err);
    if (a->rc == 0 && a->infer) {
        infer_output out = {0};
        a->rc = registry_infer(reg, m, a->j, NULL, &out, &a->err);
        infer_output_clear(&out);
    }
    if (m)
        registry_release(reg, m, a->j);
    atomic_store(&a->done, true);
    return NULL;
}

/* deadline_ms: the job's (0 none), fixed before the thread starts. */
static void acquire_async_until(acquirer *a, job_action action, model_kind kind, const char *path,
                                int64_t deadline_ms)
{
    memset(a, 0, sizeof *a);
    a->j = mk_job(action, kind, path, NAN);
    a->j->received_ms = mono_ms();
    a->j->deadline_ms = deadline_ms;
    a->infer = action == JOB_INFER;
    atomic_init(&a->done, false);
    assert_int_equal(pthread_create(&a->t, NULL, acquirer_main, a), 0);
}

static void acquire_async(acquirer *a, job_action action, model_kind kind, const char *path)
{
    acquire_async_until(a, action, kind, path, 0);
}

static void acquire_join(acquirer *a)
{
    pthread_join(a->t, NULL);
    job_free(a->j);
}

/* The loaded_models entry of path in status, or NULL (caller frees st). */
static const cJSON *status_model(cJSON *st, const char *path)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(st, "loaded_models"))
    {
        if (strcmp(cJSON_GetObjectItem(m, "model_path")->valuestring, path) == 0)
            return m;
    }
    return NULL;
}

static bool is_draining(const char *path)
{
    cJSON *st = status(false);
    const cJSON *m = status_model(st, path);
    bool v = m && cJSON_IsTrue(cJSON_GetObjectItem(m, "draining"));
    cJSON_Delete(st);
    return v;
}

#define WAIT_FOR(cond)                                                                             \
    do {                                                                                           \
        int64_t until_ = mono_ms() + 20000;                                                        \
        while (!(cond)) {                                                                          \
            assert_true(mono_ms() < until_);                                                       \
            sleep_ms(1);                                                                           \
        }                                                                                          \
    } while (0)

/* The dense lane must evict the VLM the GenAI lane is streaming from: it
 * marks it draining (nobody else gets it) and waits for its release. */
static void test_eviction_waits_for_other_lane(void **state)
{
    (void)state;
    holder g;
    acquirer d, late;
    dev.estimate = true;
    mk_registry(1000 * MB, 3, 3);
    hold(&g, MODEL_VLM, "/m/vlm-700");
    acquire_async(&d, JOB_LOAD, MODEL_DEPTH, "/m/depth-500");
    WAIT_FOR(is_draining("/m/vlm-700"));
    assert_false(atomic_load(&d.done));
    /* Another job for the VLM waits too instead of taking the draining model. */
    acquire_async(&late, JOB_INFER, MODEL_VLM, "/m/vlm-700");
    let_go(&g);
    acquire_join(&d);
    assert_int_equal(d.rc, 0);
    assert_true(d.loaded_now);
    acquire_join(&late);
    /* The late VLM job reloaded it, evicting the (idle) depth model. */
    assert_int_equal(late.rc, 0);
    assert_true(resident(MODEL_VLM, "/m/vlm-700"));
    assert_false(resident(MODEL_DEPTH, "/m/depth-500"));
    assert_int_equal(dev.loads, 3);
    assert_int_equal(dev.unloads, 2);
    cJSON *st = status(false);
    assert_int_equal(cJSON_GetObjectItem(st, "total_lru_evictions")->valueint, 2);
    cJSON_Delete(st);
}

/* A waiting load gives up on its job's cancel and deadline, and leaves the
 * other lane's model as it was. */
static void test_waiting_load_cancel_and_deadline(void **state)
{
    (void)state;
    holder g;
    acquirer d;
    dev.estimate = true;
    mk_registry(1000 * MB, 3, 3);
    hold(&g, MODEL_VLM, "/m/vlm-700");

    acquire_async(&d, JOB_LOAD, MODEL_DEPTH, "/m/depth-500");
    WAIT_FOR(is_draining("/m/vlm-700"));
    atomic_store(&d.j->cancelled, true);
    acquire_join(&d);
    assert_int_equal(d.rc, -HDM_E_CANCELLED);
    assert_non_null(strstr(d.err.msg, "cancelled"));
    assert_false(is_draining("/m/vlm-700"));

    /* Its deadline passes while it waits for the VLM (the only thing it can
     * wait for here). */
    acquire_async_until(&d, JOB_LOAD, MODEL_DEPTH, "/m/depth-500", mono_ms() + 100);
    acquire_join(&d);
    assert_int_equal(d.rc, -HDM_E_DEADLINE_EXCEEDED);
    assert_non_null(strstr(d.err.msg, "deadline exceeded"));
    assert_non_null(strstr(d.err.msg, "a model in use by another lane"));
    assert_false(is_draining("/m/vlm-700"));

    /* The VLM was never touched: still resident, still in use, usable. */
    cJSON *st = status(false);
    assert_int_equal(cJSON_GetObjectItem(status_model(st, "/m/vlm-700"), "in_use")->valueint, 1);
    cJSON_Delete(st);
    let_go(&g);
    assert_int_equal(dev.unloads, 0);
    assert_false(resident(MODEL_DEPTH, "/m/depth-500"));
}

/* Two lanes wanting the same model while it loads: loaded once. */
static void test_no_double_load(void **state)
{
    (void)state;
    acquirer a, b;
    mk_registry(0, 3, 3);
    gate_arm(&load_gate, MODEL_CLIP);
    acquire_async(&a, JOB_LOAD, MODEL_CLIP, "/m/clip-100");
    gate_wait_arrived(&load_gate);
    acquire_async(&b, JOB_INFER, MODEL_CLIP, "/m/clip-100");
    gate_open(&load_gate);
    acquire_join(&a);
    acquire_join(&b);
    assert_int_equal(a.rc, 0);
    assert_int_equal(b.rc, 0);
    assert_true(a.loaded_now);
    assert_false(b.loaded_now);
    assert_int_equal(dev.loads, 1);
    assert_int_equal(dev.infers, 1);
}

/* A resident model runs while the other lane loads (a load takes seconds). */
static void test_infer_during_other_lane_load(void **state)
{
    (void)state;
    acquirer loader;
    hdm_err err = {0};
    mk_registry(0, 3, 3);
    assert_int_equal(use(MODEL_DEPTH, "/m/depth-100", NAN, NULL, &err), 0);
    gate_arm(&load_gate, MODEL_VLM);
    acquire_async(&loader, JOB_LOAD, MODEL_VLM, "/m/vlm-300");
    gate_wait_arrived(&load_gate);
    for (int i = 0; i < 3; i++)
        assert_int_equal(infer_once(MODEL_DEPTH, "/m/depth-100", &err), 0);
    assert_false(atomic_load(&loader.done));
    gate_open(&load_gate);
    acquire_join(&loader);
    assert_int_equal(loader.rc, 0);
    assert_int_equal(dev.infers, 3);
}

/* Repeated device errors on one lane: the reset waits until the other
 * lane's model is released, and new work waits for the reset. */
static void test_reset_waits_for_other_lane(void **state)
{
    (void)state;
    holder g;
    acquirer next;
    hdm_err err = {0};
    mk_registry(0, 3, 1);
    assert_int_equal(use(MODEL_DEPTH, "/m/depth-100", NAN, NULL, &err), 0);
    hold(&g, MODEL_VLM, "/m/vlm-300");
    dev.infer_device_errors = 1;
    assert_int_equal(infer_once(MODEL_DEPTH, "/m/depth-100", &err), -HDM_E_DEVICE_ERROR);
    assert_int_equal(dev.resets, 0); /* the VLM is in use: not yet */
    assert_true(resident(MODEL_VLM, "/m/vlm-300"));
    acquire_async(&next, JOB_INFER, MODEL_DEPTH, "/m/depth-100");
    let_go(&g); /* its release runs the reset: nothing is in use any more */
    acquire_join(&next);
    assert_int_equal(dev.resets, 1);
    assert_false(resident(MODEL_VLM, "/m/vlm-300"));
    /* The waiting job ran after the reset, on a freshly loaded model. */
    assert_int_equal(next.rc, 0);
    assert_true(next.loaded_now);
    assert_int_equal(dev.unloads, 2);
}

/* The worker's lanes run at once: a dense job completes while a GenAI job
 * is stopped inside the device. */
static void test_worker_lanes_run_in_parallel(void **state)
{
    (void)state;
    sched_config scfg;
    sched *s = NULL;
    worker *w = NULL;
    worker_hooks hooks = {.complete = w_complete, .delta = w_delta, .ctx = NULL};

    n_wdone = n_deltas = 0;
    mk_registry(0, 3, 3);
    sched_config_defaults(&scfg);
    scfg.parallel_lanes = true;
    assert_int_equal(sched_new(&scfg, w_complete, w_resident, reg, &s), 0);
    assert_int_equal(worker_start(s, reg, &hooks, true, &w), 0);
    assert_int_equal(worker_lanes(w), 2);

    gate_arm(&infer_gate, MODEL_VLM);
    job *gen = mk_job(JOB_INFER, MODEL_VLM, "/m/vlm-300", NAN);
    job *dense = mk_job(JOB_INFER, MODEL_DEPTH, "/m/depth-100", NAN);
    gen->input.kind = MODEL_VLM;
    dense->input.kind = MODEL_DEPTH;
    gen->received_ms = dense->received_ms = mono_ms();
    assert_int_equal(sched_submit(s, gen), 0);
    gate_wait_arrived(&infer_gate);
    assert_int_equal(sched_running_count(s), 1);
    assert_int_equal(sched_submit(s, dense), 0);
    wait_done(1); /* the dense job, while the generation is held */
    assert_ptr_equal(wdone[0], dense);
    assert_int_equal(dense->rc, 0);
    gate_open(&infer_gate);
    wait_done(2);
    assert_string_equal(gen->out.result->valuestring, "fake result");

    sched_shutdown(s);
    worker_stop(w);
    sched_free(s);
    job_free(gen);
    job_free(dense);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_already_loaded_unload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lru_eviction_on_exhaustion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eviction_retries_are_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proactive_eviction_by_footprint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_learned_footprint_used_next_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pinned_never_evicted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pinned_blocks_device_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_genai_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_after_repeated_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_failure_keeps_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_status_form_and_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_worker_runs_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eviction_waits_for_other_lane, setup, teardown),
        cmocka_unit_test_setup_teardown(test_waiting_load_cancel_and_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_double_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_infer_during_other_lane_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_waits_for_other_lane, setup, teardown),
        cmocka_unit_test_setup_teardown(test_worker_lanes_run_in_parallel, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
