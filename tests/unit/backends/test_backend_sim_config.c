/*
 * test_backend_sim_config.c - --sim-config in JSON and YAML, and its errors.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_test_util.h"

static int load(const char *text, sim_config *c, hdm_err *err)
{
    sim_config_defaults(c);
    return sim_config_load_string(text, strlen(text), "sim.conf", c, err);
}

static void test_defaults(void **state)
{
    (void)state;
    sim_config c;
    sim_config_defaults(&c);
    assert_int_equal(c.memory_mb, 8192);
    assert_true(c.latency_scale == 1.0);
    assert_int_equal(c.types[MODEL_CLIP].footprint_mb, 300);
    assert_int_equal(c.types[MODEL_CLIP].load_ms, 1500);
    assert_int_equal(c.types[MODEL_CLIP].infer_ms, 30);
    assert_true(c.types[MODEL_VLM].footprint_mb >= 2500 && c.types[MODEL_VLM].footprint_mb <= 3000);
    assert_int_equal(c.types[MODEL_VLM].token_ms, 60);
    for (int k = 0; k < MODEL_KIND__COUNT; k++) {
        assert_true(c.types[k].footprint_mb > 0);
        assert_true(c.types[k].load_ms > 0);
        assert_true(c.types[k].infer_ms > 0);
    }
    assert_int_equal(c.faults.fail_load_nth, 0);
}

static void check_example(const sim_config *c)
{
    assert_int_equal(c->memory_mb, 2048);
    assert_true(c->latency_scale == 0.0);
    assert_int_equal(c->types[MODEL_CLIP].footprint_mb, 111);
    assert_int_equal(c->types[MODEL_VLM].token_ms, 7);
    assert_int_equal(c->types[MODEL_WHISPER].load_ms, 9);
    assert_int_equal(c->faults.fail_load_nth, 3);
    assert_int_equal(c->faults.device_lost_nth, 4);
    /* Untouched keys keep their defaults. */
    assert_int_equal(c->types[MODEL_CLIP].load_ms, 1500);
}

static void test_json(void **state)
{
    (void)state;
    sim_config c;
    hdm_err err = {0};
    int rc = load("{\"memory_mb\": 2048, \"latency_scale\": 0,"
                  " \"models\": {\"clip\": {\"footprint_mb\": 111}, \"vlm\": {\"token_ms\": 7},"
                  " \"whisper\": {\"load_ms\": 9}},"
                  " \"faults\": {\"fail_load_nth\": 3, \"device_lost_nth\": 4}}",
                  &c, &err);
    if (rc != 0)
        fail_msg("%s", err.msg);
    check_example(&c);
}

static void test_yaml(void **state)
{
    (void)state;
    sim_config c;
    hdm_err err = {0};
    int rc = load("# fast tests\n"
                  "memory_mb: 2048\n"
                  "latency_scale: 0\n"
                  "models:\n"
                  "  clip:\n"
                  "    footprint_mb: 111\n"
                  "  vlm_chat:\n"
                  "    token_ms: 7\n"
                  "  whisper:\n"
                  "    load_ms: 9\n"
                  "faults:\n"
                  "  fail_load_nth: 3\n"
                  "  device_lost_nth: 4\n",
                  &c, &err);
    if (rc != 0)
        fail_msg("%s", err.msg);
    check_example(&c);
}

static void test_unknown_keys(void **state)
{
    (void)state;
    sim_config c;
    hdm_err err = {0};
    assert_int_equal(load("{\"faults\": {\"fail_load_nht\": 1}}", &c, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "faults.fail_load_nht"));
    assert_non_null(strstr(err.msg, "sim.conf"));
    assert_int_equal(load("latency_scale: 0\nmodels:\n  llama:\n    load_ms: 3\n", &c, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "models.llama.load_ms"));
    assert_non_null(strstr(err.msg, "sim.conf:3") || strstr(err.msg, "sim.conf:4"));
}

static void test_bad_values(void **state)
{
    (void)state;
    sim_config c;
    hdm_err err = {0};
    assert_true(load("{\"memory_mb\": -5}", &c, &err) < 0);
    assert_non_null(strstr(err.msg, "memory_mb"));
    assert_true(load("{\"memory_mb\": \"lots\"}", &c, &err) < 0);
    assert_non_null(strstr(err.msg, "memory_mb"));
    assert_true(load("{\"latency_scale\": [1]}", &c, &err) < 0);
    assert_non_null(strstr(err.msg, "latency_scale"));
    assert_true(load("memory_mb: lots\n", &c, &err) < 0);
    assert_non_null(strstr(err.msg, "memory_mb"));
    assert_int_equal(load("{\"memory_mb\": 1", &c, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "invalid JSON"));
    assert_int_equal(load("  [1, 2]", &c, &err), -HDM_E_BAD_REQUEST);
}

static void test_file(void **state)
{
    (void)state;
    simt t;
    sim_config c;
    hdm_err err = {0};
    simt_setup(&t, NULL);
    char *path = simt_write(&t, "sim.yaml", "memory_mb: 4096\n");
    sim_config_defaults(&c);
    assert_int_equal(sim_config_load(path, &c, &err), 0);
    assert_int_equal(c.memory_mb, 4096);
    free(path);
    path = simt_write(&t, "bad.yaml", "memory_mb: 4096\nbogus: 1\n");
    assert_int_equal(sim_config_load(path, &c, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "bogus"));
    assert_non_null(strstr(err.msg, "bad.yaml"));
    free(path);
    simt_teardown(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),   cmocka_unit_test(test_json),
        cmocka_unit_test(test_yaml),       cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_bad_values), cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
