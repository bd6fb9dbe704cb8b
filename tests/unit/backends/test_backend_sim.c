/*
 * test_backend_sim.c - the simulated Hailo-10H as a device: identity,
 * memory accounting, the single GenAI KV cache, sidecars, latencies with
 * cancellation and deadlines, and fault injection.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "sim_test_util.h"

#define FAST "{\"latency_scale\": 0}"
#define MIB (1024ull * 1024ull)

static int setup_fast(void **state)
{
    simt *t = calloc(1, sizeof(*t));
    simt_setup(t, FAST);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    simt_teardown(*state);
    free(*state);
    return 0;
}

/* A depth inference input over a fresh image. */
static infer_input depth_input(uint32_t seed)
{
    infer_input in = {.kind = MODEL_DEPTH};
    in.u.dense.input = simt_image(3, (const int64_t[]){256, 320, 3}, seed);
    return in;
}

static void test_open_defaults(void **state)
{
    (void)state;
    backend *b = NULL;
    device_info info;
    hdm_err err = {0};

    assert_int_equal(backend_sim_ops.open(&(backend_config){0}, &b, &err), 0);
    assert_int_equal(backend_sim_ops.identify(b, &info, &err), 0);
    assert_string_equal(info.device_id, "sim-hailo10h-0");
    assert_string_equal(info.architecture, "HAILO10H");
    assert_non_null(strstr(info.fw_version, "simulated"));
    assert_true(info.simulated);
    assert_int_equal(info.memory_total_bytes, 8192 * MIB);
    assert_int_equal(info.memory_used_bytes, 0);
    assert_true(info.temperature_celsius > 30 && info.temperature_celsius < 60);
    backend_sim_ops.close(b);
    backend_sim_ops.close(NULL);
}

static void test_open_missing_config(void **state)
{
    (void)state;
    backend *b = NULL;
    hdm_err err = {0};
    backend_config cfg = {.sim_config_path = "/nonexistent/sim.yaml"};
    assert_int_equal(backend_sim_ops.open(&cfg, &b, &err), -HDM_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/sim.yaml"));
    assert_null(b);
}

static void test_load_missing_file(void **state)
{
    simt *t = *state;
    hdm_err err = {0};
    char path[256];
    snprintf(path, sizeof(path), "%s/absent.hef", t->dir);
    assert_int_equal(simt_try_load(t, MODEL_DEPTH, path, &err), -HDM_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, path));
}

static void test_clip_needs_both_hefs(void **state)
{
    simt *t = *state;
    char *path = simt_model(t, "clip.hef", NULL);
    model_spec spec = {.kind = MODEL_CLIP, .model_path = path, .clip_image_hef = path};
    backend_model *m = NULL;
    uint64_t fp = 0;
    hdm_err err = {0};

    assert_int_equal(backend_sim_ops.load(t->b, &spec, &m, &fp, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "text_hef_path"));
    spec.clip_text_hef = "/nonexistent/text.hef";
    assert_int_equal(backend_sim_ops.load(t->b, &spec, &m, &fp, &err), -HDM_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/text.hef"));
    assert_null(m);
    free(path);
}

static void test_memory_exhaustion(void **state)
{
    simt *t = *state;
    simt_teardown(t);
    simt_setup(t, "{\"latency_scale\": 0, \"memory_mb\": 1000}");
    char *a = simt_model(t, "a.hef", "{\"footprint_mb\": 600}");
    char *b = simt_model(t, "b.hef", "{\"footprint_mb\": 600}");
    char *c = simt_model(t, "c.hef", "{\"footprint_mb\": 400}");
    device_info info;
    hdm_err err = {0};
    uint64_t fp = 0;

    backend_model *ma = simt_load(t, MODEL_DEPTH, a, &fp);
    assert_int_equal(fp, 600 * MIB);
    assert_int_equal(simt_try_load(t, MODEL_POSE, b, &err), -HDM_E_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(err.msg, "HAILO_RESOURCE_EXHAUSTED"));
    assert_non_null(strstr(err.msg, b));
    /* Exactly filling the device is fine. */
    backend_model *mc = simt_load(t, MODEL_POSE, c, NULL);
    assert_int_equal(backend_sim_ops.identify(t->b, &info, &err), 0);
    assert_int_equal(info.memory_used_bytes, 1000 * MIB);
    backend_sim_ops.unload(t->b, ma);
    backend_sim_ops.unload(t->b, mc);
    assert_int_equal(backend_sim_ops.identify(t->b, &info, &err), 0);
    assert_int_equal(info.memory_used_bytes, 0);
    backend_model *mb = simt_load(t, MODEL_POSE, b, NULL);
    backend_sim_ops.unload(t->b, mb);
    free(a);
    free(b);
    free(c);
}

static void test_genai_exclusive(void **state)
{
    simt *t = *state;
    char *v1 = simt_model(t, "qwen2-vl-a.hef", NULL);
    char *v2 = simt_model(t, "qwen2-vl-b.hef", NULL);
    char *clip = simt_model(t, "clip.hef", NULL);
    hdm_err err = {0};

    backend_model *m1 = simt_load(t, MODEL_VLM, v1, NULL);
    assert_int_equal(simt_try_load(t, MODEL_VLM, v2, &err), -HDM_E_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(err.msg, "HAILO_RESOURCE_EXHAUSTED"));
    assert_non_null(strstr(err.msg, "KV cache"));
    assert_non_null(strstr(err.msg, v1));
    /* Non-GenAI models still fit beside it. */
    backend_model *mc = simt_load(t, MODEL_CLIP, clip, NULL);
    backend_sim_ops.unload(t->b, m1);
    backend_model *m2 = simt_load(t, MODEL_VLM, v2, NULL);
    backend_sim_ops.unload(t->b, m2);
    backend_sim_ops.unload(t->b, mc);
    free(v1);
    free(v2);
    free(clip);
}

static void test_footprints(void **state)
{
    simt *t = *state;
    char *plain = simt_model(t, "clip.hef", NULL);
    char *side = simt_model(t, "small.hef", "{\"footprint_mb\": 123, \"load_ms\": 5}");
    char *bad = simt_model(t, "bad.hef", "{\"footprint_mb\": 1, \"speed\": 3}");
    char *neg = simt_model(t, "neg.hef", "{\"infer_ms\": -1}");
    model_spec spec = {.kind = MODEL_DEPTH, .model_path = side};
    hdm_err err = {0};
    uint64_t fp = 0;

    assert_int_equal(backend_sim_ops.estimate_footprint(t->b, &spec), 123 * MIB);
    backend_model *m = simt_load(t, MODEL_DEPTH, side, &fp);
    assert_int_equal(fp, 123 * MIB);
    backend_sim_ops.unload(t->b, m);

    spec = (model_spec){.kind = MODEL_VLM, .model_path = plain};
    assert_int_equal(backend_sim_ops.estimate_footprint(t->b, &spec), 2800 * MIB);
    m = simt_load(t, MODEL_CLIP, plain, &fp);
    assert_int_equal(fp, 300 * MIB);
    backend_sim_ops.unload(t->b, m);

    assert_int_equal(simt_try_load(t, MODEL_DEPTH, bad, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "speed"));
    assert_non_null(strstr(err.msg, "bad.hef.sim.json"));
    assert_int_equal(simt_try_load(t, MODEL_DEPTH, neg, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "infer_ms"));
    free(plain);
    free(side);
    free(bad);
    free(neg);
}

static void test_config_type_defaults(void **state)
{
    simt *t = *state;
    simt_teardown(t);
    simt_setup(t, "latency_scale: 0\nmodels:\n  pose:\n    footprint_mb: 77\n");
    char *p = simt_model(t, "pose.hef", NULL);
    uint64_t fp = 0;
    backend_model *m = simt_load(t, MODEL_POSE, p, &fp);
    assert_int_equal(fp, 77 * MIB);
    backend_sim_ops.unload(t->b, m);
    free(p);
}

static void test_kind_mismatch(void **state)
{
    simt *t = *state;
    char *p = simt_model(t, "depth.hef", NULL);
    backend_model *m = simt_load(t, MODEL_DEPTH, p, NULL);
    infer_input in = {.kind = MODEL_POSE};
    infer_output out = {0};
    hdm_err err = {0};
    in.u.dense.input = simt_image(3, (const int64_t[]){640, 640, 3}, 1);
    assert_int_equal(backend_sim_ops.infer(t->b, m, &in, NULL, &out, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "depth"));
    free(in.u.dense.input.data);
    backend_sim_ops.unload(t->b, m);
    free(p);
}

/* ---- latencies: cancellation and deadlines --------------------------------- */

typedef struct cancel_ctx {
    atomic_bool cancelled;
    int deltas;
    int cancel_after;
} cancel_ctx;

static void cancel_on_delta(void *ctx, const char *text, size_t len)
{
    cancel_ctx *c = ctx;
    (void)text;
    (void)len;
    if (++c->deltas == c->cancel_after)
        atomic_store(&c->cancelled, true);
}

static void test_cancel_between_tokens(void **state)
{
    simt *t = *state;
    simt_teardown(t);
    simt_setup(t, "{\"latency_scale\": 1}");
    char *p = simt_model(t, "vlm.hef", "{\"load_ms\": 0, \"infer_ms\": 0, \"token_ms\": 20}");
    backend_model *m = simt_load(t, MODEL_VLM, p, NULL);
    cancel_ctx c = {.cancel_after = 3};
    atomic_init(&c.cancelled, false);
    infer_hooks hooks = {.on_delta = cancel_on_delta, .ctx = &c, .cancelled = &c.cancelled};
    infer_input in = {.kind = MODEL_VLM};
    infer_output out = {0};
    hdm_err err = {0};
    in.u.vlm.prompt = "Describe the scene";
    in.u.vlm.max_tokens = 200;

    assert_int_equal(backend_sim_ops.infer(t->b, m, &in, &hooks, &out, &err), -HDM_E_CANCELLED);
    assert_int_equal(c.deltas, 3);
    assert_null(out.result);
    backend_sim_ops.unload(t->b, m);
    free(p);
}

static void test_cancel_before_start(void **state)
{
    simt *t = *state;
    char *p = simt_model(t, "depth.hef", NULL);
    backend_model *m = simt_load(t, MODEL_DEPTH, p, NULL);
    atomic_bool cancelled;
    atomic_init(&cancelled, true);
    infer_hooks hooks = {.cancelled = &cancelled};
    infer_input in = depth_input(1);
    infer_output out = {0};
    hdm_err err = {0};
    /* Even with no latency at all, a cancelled job does not run. */
    assert_int_equal(backend_sim_ops.infer(t->b, m, &in, &hooks, &out, &err), -HDM_E_CANCELLED);
    free(in.u.dense.input.data);
    backend_sim_ops.unload(t->b, m);
    free(p);
}

static void test_deadline(void **state)
{
    simt *t = *state;
    simt_teardown(t);
    simt_setup(t, "{\"latency_scale\": 1}");
    /* An hour-long inference must stop at the deadline, not run on. */
    char *p = simt_model(t, "slow.hef", "{\"load_ms\": 0, \"infer_ms\": 3600000}");
    backend_model *m = simt_load(t, MODEL_DEPTH, p, NULL);
    infer_hooks hooks = {.deadline_ms = mono_ms() + 30};
    infer_input in = depth_input(2);
    infer_output out = {0};
    hdm_err err = {0};

    assert_int_equal(backend_sim_ops.infer(t->b, m, &in, &hooks, &out, &err),
                     -HDM_E_DEADLINE_EXCEEDED);
    assert_true(mono_ms() >= hooks.deadline_ms);
    assert_null(out.result);
    free(in.u.dense.input.data);
    backend_sim_ops.unload(t->b, m);
    free(p);
}

static void test_latency_scale_sleeps(void **state)
{
    simt *t = *state;
    simt_teardown(t);
    simt_setup(t, "{\"latency_scale\": 0.5}");
    char *p = simt_model(t, "d.hef", "{\"load_ms\": 0, \"infer_ms\": 80}");
    backend_model *m = simt_load(t, MODEL_DEPTH, p, NULL);
    infer_input in = depth_input(3);
    infer_output out = {0};
    hdm_err err = {0};
    /* A lower bound only: 80 ms scaled by 0.5 sleeps at least 40 ms. */
    int64_t start = mono_ms();
    assert_int_equal(backend_sim_ops.infer(t->b, m, &in, NULL, &out, &err), 0);
    assert_true(mono_ms() - start >= 39);
    infer_output_clear(&out);
    free(in.u.dense.input.data);
    backend_sim_ops.unload(t->b, m);
    free(p);
}

/* ---- fault injection ---------------------------------------------------------- */

static void test_fault_fail_load_nth(void **state)
{
    simt *t = *state;
    simt_teardown(t);
    simt_setup(t, "latency_scale: 0\nfaults:\n  fail_load_nth: 2\n");
    char *p = simt_model(t, "d.hef", NULL);
    hdm_err err = {0};
    assert_int_equal(simt_try_load(t, MODEL_DEPTH, p, &err), 0);
    assert_int_equal(simt_try_load(t, MODEL_DEPTH, p, &err), -HDM_E_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(err.msg, "HAILO_RESOURCE_EXHAUSTED"));
    assert_int_equal(simt_try_load(t, MODEL_DEPTH, p, &err), 0);
    assert_int_equal(simt_try_load(t, MODEL_DEPTH, p, &err), 0);
    free(p);
}

static void test_fault_load_every(void **state)
{
    simt *t = *state;
    simt_teardown(t);
    simt_setup(t, "{\"latency_scale\": 0, \"faults\": {\"load_resource_exhausted_every\": 3}}");
    char *p = simt_model(t, "d.hef", NULL);
    hdm_err err = {0};
    for (int i = 1; i <= 9; i++)
        assert_int_equal(simt_try_load(t, MODEL_DEPTH, p, &err),
                         i % 3 == 0 ? -HDM_E_RESOURCE_EXHAUSTED : 0);
    free(p);
}

static void test_fault_infer_timeout(void **state)
{
    simt *t = *state;
    simt_teardown(t);
    simt_setup(t, "{\"latency_scale\": 0, \"faults\": {\"infer_timeout_nth\": 2}}");
    char *p = simt_model(t, "d.hef", NULL);
    backend_model *m = simt_load(t, MODEL_DEPTH, p, NULL);
    infer_input in = depth_input(4);
    infer_output out = {0};
    hdm_err err = {0};

    assert_int_equal(backend_sim_ops.infer(t->b, m, &in, NULL, &out, &err), 0);
    infer_output_clear(&out);
    assert_int_equal(backend_sim_ops.infer(t->b, m, &in, NULL, &out, &err),
                     -HDM_E_DEADLINE_EXCEEDED);
    assert_non_null(strstr(err.msg, "HAILO_TIMEOUT"));
    assert_null(out.result);
    assert_int_equal(backend_sim_ops.infer(t->b, m, &in, NULL, &out, &err), 0);
    infer_output_clear(&out);
    free(in.u.dense.input.data);
    backend_sim_ops.unload(t->b, m);
    free(p);
}

static void test_fault_device_lost(void **state)
{
    simt *t = *state;
    simt_teardown(t);
    simt_setup(t, "{\"latency_scale\": 0, \"faults\": {\"device_lost_nth\": 2, "
                  "\"reset_fail_count\": 1}}");
    char *p = simt_model(t, "d.hef", NULL);
    backend_model *m = simt_load(t, MODEL_DEPTH, p, NULL);
    infer_input in = depth_input(5);
    infer_output out = {0};
    device_info info;
    hdm_err err = {0};

    assert_int_equal(backend_sim_ops.infer(t->b, m, &in, NULL, &out, &err), 0);
    infer_output_clear(&out);
    assert_int_equal(backend_sim_ops.infer(t->b, m, &in, NULL, &out, &err), -HDM_E_DEVICE_ERROR);
    /* Lost: everything fails until the runtime is reset. */
    assert_int_equal(backend_sim_ops.infer(t->b, m, &in, NULL, &out, &err), -HDM_E_DEVICE_ERROR);
    assert_int_equal(simt_try_load(t, MODEL_POSE, p, &err), -HDM_E_DEVICE_ERROR);
    assert_int_equal(backend_sim_ops.identify(t->b, &info, &err), -HDM_E_DEVICE_ERROR);
    backend_sim_ops.unload(t->b, m);
    assert_int_equal(backend_sim_ops.reset(t->b, &err), -HDM_E_DEVICE_ERROR); /* reset_fail_count */
    assert_int_equal(simt_try_load(t, MODEL_POSE, p, &err), -HDM_E_DEVICE_ERROR);
    assert_int_equal(backend_sim_ops.reset(t->b, &err), 0);
    assert_int_equal(backend_sim_ops.identify(t->b, &info, &err), 0);
    assert_int_equal(info.memory_used_bytes, 0);
    m = simt_load(t, MODEL_DEPTH, p, NULL);
    assert_int_equal(backend_sim_ops.infer(t->b, m, &in, NULL, &out, &err), 0);
    infer_output_clear(&out);
    free(in.u.dense.input.data);
    backend_sim_ops.unload(t->b, m);
    free(p);
}

static void test_fault_device_lost_on_load(void **state)
{
    simt *t = *state;
    simt_teardown(t);
    simt_setup(t, "{\"latency_scale\": 0, \"faults\": {\"device_lost_load_nth\": 1}}");
    char *p = simt_model(t, "d.hef", NULL);
    hdm_err err = {0};
    assert_int_equal(simt_try_load(t, MODEL_DEPTH, p, &err), -HDM_E_DEVICE_ERROR);
    assert_int_equal(simt_try_load(t, MODEL_DEPTH, p, &err), -HDM_E_DEVICE_ERROR);
    assert_int_equal(backend_sim_ops.reset(t->b, &err), 0);
    assert_int_equal(simt_try_load(t, MODEL_DEPTH, p, &err), 0);
    free(p);
}

static void test_temperature_rises_with_load(void **state)
{
    simt *t = *state;
    char *p = simt_model(t, "vlm.hef", NULL);
    device_info idle, busy;
    hdm_err err = {0};
    assert_int_equal(backend_sim_ops.identify(t->b, &idle, &err), 0);
    backend_model *m = simt_load(t, MODEL_VLM, p, NULL);
    assert_int_equal(backend_sim_ops.identify(t->b, &busy, &err), 0);
    assert_true(busy.temperature_celsius > idle.temperature_celsius);
    assert_int_equal(busy.memory_used_bytes, 2800 * MIB);
    backend_sim_ops.unload(t->b, m);
    free(p);
}

static void test_model_info(void **state)
{
    simt *t = *state;
    char *ocr = simt_model(t, "ocr.hef", "{\"input_height\": 480, \"input_width\": 640}");
    char *depth = simt_model(t, "depth.hef", NULL);
    model_spec spec = {.kind = MODEL_OCR, .model_path = ocr, .ocr_detection_hef = ocr};
    backend_model *m = NULL;
    uint64_t fp;
    hdm_err err = {0};
    cJSON *info = cJSON_CreateObject();

    assert_int_equal(backend_sim_ops.load(t->b, &spec, &m, &fp, &err), 0);
    assert_int_equal(backend_sim_ops.model_info(t->b, m, info), 0);
    const cJSON *shape = cJSON_GetObjectItem(info, "detection_input_shape");
    assert_int_equal(cJSON_GetArraySize(shape), 3);
    assert_int_equal(cJSON_GetArrayItem(shape, 0)->valueint, 480);
    assert_int_equal(cJSON_GetArrayItem(shape, 1)->valueint, 640);
    assert_int_equal(cJSON_GetArrayItem(shape, 2)->valueint, 3);
    backend_sim_ops.unload(t->b, m);
    cJSON_Delete(info);

    info = cJSON_CreateObject();
    m = simt_load(t, MODEL_DEPTH, depth, NULL);
    assert_int_equal(backend_sim_ops.model_info(t->b, m, info), 0);
    assert_null(info->child);
    backend_sim_ops.unload(t->b, m);
    cJSON_Delete(info);
    free(ocr);
    free(depth);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_defaults),
        cmocka_unit_test(test_open_missing_config),
        cmocka_unit_test_setup_teardown(test_load_missing_file, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_clip_needs_both_hefs, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_memory_exhaustion, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_genai_exclusive, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_footprints, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_config_type_defaults, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_kind_mismatch, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_between_tokens, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_before_start, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_deadline, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_latency_scale_sleeps, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_fault_fail_load_nth, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_fault_load_every, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_fault_infer_timeout, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_fault_device_lost, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_fault_device_lost_on_load, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_temperature_rises_with_load, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_model_info, setup_fast, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
