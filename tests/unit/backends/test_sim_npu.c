/*
 * test_sim_npu.c - the simulated chip's one NPU (sim-npu.c): operations of
 * two threads take turns in arrival order, a switch to another network is
 * counted (and costs its time), a waiter leaves on cancel, nothing waits at
 * latency_scale 0, a lost device fails every operation, figures per lane,
 * and a generation that loses the chip to a dense job by one token at a
 * time.  Tests wait for states (the NPU's own "waiting" figure), never for
 * fixed times.
 */
#include "sim_test_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"

static simt T;

static int setup(void **state)
{
    (void)state;
    /* switch_ms fixed so the figures are exact; per-op times are the tests'. */
    simt_setup(&T, "latency_scale: 1\nswitch_ms: 2\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    simt_teardown(&T);
    return 0;
}

static cJSON *figures(void)
{
    cJSON *o = cJSON_CreateObject();
    assert_int_equal(sim_npu_json(T.b->npu, o), 0);
    return o;
}

static double lane_figure(const cJSON *o, const char *lane, const char *name)
{
    return cJSON_GetObjectItem(cJSON_GetObjectItem(o, lane), name)->valuedouble;
}

static bool chip_busy(void)
{
    cJSON *o = figures();
    bool busy = cJSON_IsTrue(cJSON_GetObjectItem(o, "busy"));
    cJSON_Delete(o);
    return busy;
}

static int waiting(void)
{
    cJSON *o = figures();
    int n = cJSON_GetObjectItem(o, "waiting")->valueint;
    cJSON_Delete(o);
    return n;
}

/* Polls cond for up to 20 s (a busy machine may be slow, never this slow). */
#define WAIT_FOR(cond)                                                                             \
    do {                                                                                           \
        int64_t until_ = mono_ms() + 20000;                                                        \
        while (!(cond)) {                                                                          \
            assert_true(mono_ms() < until_);                                                       \
            sleep_ms(1);                                                                           \
        }                                                                                          \
    } while (0)

/* One thread running one operation. */
typedef struct op_run {
    const backend_model *m;
    int net;
    double ms;
    atomic_bool cancel;
    infer_hooks hooks;
    int rc;
    int done_seq; /* order in which operations finished */
} op_run;

static atomic_int done_counter;

static void *run_op(void *arg)
{
    op_run *o = arg;
    hdm_err err = {0};
    o->hooks.cancelled = &o->cancel;
    o->rc = sim_npu_run(T.b, o->m, o->net, o->ms, &o->hooks, &err);
    o->done_seq = atomic_fetch_add(&done_counter, 1);
    return NULL;
}

static void start(pthread_t *t, op_run *o)
{
    atomic_init(&o->cancel, false);
    assert_int_equal(pthread_create(t, NULL, run_op, o), 0);
}

/* While A holds the chip, B queues; A's next operation goes behind B. */
static void test_turns_in_arrival_order(void **state)
{
    (void)state;
    backend_model vlm = {.kind = MODEL_VLM}, clip = {.kind = MODEL_CLIP};
    op_run a1 = {.m = &vlm, .ms = 60000}, b = {.m = &clip, .ms = 1}, a2 = {.m = &vlm, .ms = 1};
    pthread_t ta1, tb, ta2;

    atomic_init(&done_counter, 0);
    start(&ta1, &a1);
    WAIT_FOR(chip_busy());
    start(&tb, &b);
    WAIT_FOR(waiting() == 1);
    /* A's long operation ends (a cancel is the way to end it now); its next
     * one arrives after B's, so B runs first. */
    atomic_store(&a1.cancel, true);
    pthread_join(ta1, NULL);
    assert_int_equal(a1.rc, -HDM_E_CANCELLED);
    start(&ta2, &a2);
    pthread_join(tb, NULL);
    pthread_join(ta2, NULL);
    assert_int_equal(b.rc, 0);
    assert_int_equal(a2.rc, 0);
    assert_true(b.done_seq < a2.done_seq);

    cJSON *f = figures();
    assert_int_equal((int)lane_figure(f, "genai", "operations"), 2);
    assert_int_equal((int)lane_figure(f, "dense", "operations"), 1);
    /* vlm, then clip, then vlm again: every operation switched networks. */
    assert_int_equal((int)lane_figure(f, "genai", "switches"), 2);
    assert_int_equal((int)lane_figure(f, "dense", "switches"), 1);
    assert_true(lane_figure(f, "dense", "wait_ms") > 0);
    assert_true(lane_figure(f, "dense", "switch_ms") >= 2.0);
    cJSON_Delete(f);
}

/* Switches are counted per network: the same network again pays nothing. */
static void test_switches_and_time(void **state)
{
    (void)state;
    backend_model clip = {.kind = MODEL_CLIP}, depth = {.kind = MODEL_DEPTH};
    hdm_err err = {0};
    int64_t t0 = mono_ms();

    assert_int_equal(sim_npu_run(T.b, &clip, 0, 5, NULL, &err), 0); /* first: a switch */
    assert_int_equal(sim_npu_run(T.b, &clip, 0, 5, NULL, &err), 0);
    assert_int_equal(sim_npu_run(T.b, &clip, 1, 5, NULL, &err), 0); /* the text network */
    assert_int_equal(sim_npu_run(T.b, &depth, 0, 5, NULL, &err), 0);
    assert_true(mono_ms() - t0 >= 4 * 5 + 3 * 2); /* device time is spent, not skipped */
    cJSON *f = figures();
    assert_int_equal((int)lane_figure(f, "dense", "operations"), 4);
    assert_int_equal((int)lane_figure(f, "dense", "switches"), 3);
    assert_true(lane_figure(f, "dense", "busy_ms") >= 20);
    assert_true(lane_figure(f, "dense", "switch_ms") >= 6);
    assert_int_equal((int)lane_figure(f, "genai", "operations"), 0);
    cJSON_Delete(f);

    /* A model unloaded and another loaded at the same address pays its switch. */
    sim_npu_forget(T.b->npu, &depth);
    assert_int_equal(sim_npu_run(T.b, &depth, 0, 0, NULL, &err), 0);
    f = figures();
    assert_int_equal((int)lane_figure(f, "dense", "switches"), 4);
    cJSON_Delete(f);
}

/* A waiter whose request is cancelled leaves the queue at once. */
static void test_cancelled_waiter_leaves(void **state)
{
    (void)state;
    backend_model vlm = {.kind = MODEL_VLM}, pose = {.kind = MODEL_POSE};
    op_run hold = {.m = &vlm, .ms = 60000}, w = {.m = &pose, .ms = 60000};
    pthread_t th, tw;

    start(&th, &hold);
    WAIT_FOR(chip_busy());
    start(&tw, &w);
    WAIT_FOR(waiting() == 1);
    atomic_store(&w.cancel, true);
    pthread_join(tw, NULL);
    assert_int_equal(w.rc, -HDM_E_CANCELLED);
    assert_int_equal(waiting(), 0);
    atomic_store(&hold.cancel, true);
    pthread_join(th, NULL);
    /* The chip is free again: an operation runs at once. */
    hdm_err err = {0};
    assert_int_equal(sim_npu_run(T.b, &pose, 0, 0, NULL, &err), 0);
    cJSON *f = figures();
    assert_int_equal((int)lane_figure(f, "dense", "operations"),
                     1); /* the cancelled one never ran */
    cJSON_Delete(f);
}

/* A deadline ends the wait as it ends the operation. */
static void test_deadline_while_waiting(void **state)
{
    (void)state;
    backend_model vlm = {.kind = MODEL_VLM}, clip = {.kind = MODEL_CLIP};
    op_run hold = {.m = &vlm, .ms = 60000};
    pthread_t th;
    hdm_err err = {0};

    start(&th, &hold);
    WAIT_FOR(chip_busy());
    infer_hooks hooks = {.deadline_ms = mono_ms() + 30};
    assert_int_equal(sim_npu_run(T.b, &clip, 0, 1, &hooks, &err), -HDM_E_DEADLINE_EXCEEDED);
    assert_non_null(strstr(err.msg, "deadline"));
    atomic_store(&hold.cancel, true);
    pthread_join(th, NULL);
}

/* latency_scale 0: nothing to share, nothing waits or is counted. */
static void test_zero_latency_skips_the_chip(void **state)
{
    (void)state;
    backend_model clip = {.kind = MODEL_CLIP};
    hdm_err err = {0};
    T.b->cfg.latency_scale = 0;
    for (int i = 0; i < 100; i++)
        assert_int_equal(sim_npu_run(T.b, &clip, 0, 1000, NULL, &err), 0);
    cJSON *f = figures();
    assert_int_equal((int)lane_figure(f, "dense", "operations"), 0);
    cJSON_Delete(f);
    /* Stop conditions are still honoured. */
    atomic_bool cancel;
    atomic_init(&cancel, true);
    infer_hooks hooks = {.cancelled = &cancel};
    assert_int_equal(sim_npu_run(T.b, &clip, 0, 1000, &hooks, &err), -HDM_E_CANCELLED);
}

/* A lost device fails every operation, also one already on the chip. */
static void test_lost_device(void **state)
{
    (void)state;
    backend_model vlm = {.kind = MODEL_VLM};
    hdm_err err = {0};
    atomic_store(&T.b->lost, true);
    assert_int_equal(sim_npu_run(T.b, &vlm, 0, 1, NULL, &err), -HDM_E_DEVICE_ERROR);
    assert_non_null(strstr(err.msg, "HAILO_DRIVER_FAIL"));
    atomic_store(&T.b->lost, false);
    assert_int_equal(sim_npu_run(T.b, &vlm, 0, 1, NULL, &err), 0);
}

/* ---- a generation and a dense job through the backend ---------------------- */

typedef struct gen_run {
    backend_model *m;
    infer_output out;
    int rc;
    atomic_int deltas;
} gen_run;

static void count_delta(void *ctx, const char *text, size_t len)
{
    (void)text;
    (void)len;
    atomic_fetch_add(&((gen_run *)ctx)->deltas, 1);
}

static void *generate(void *arg)
{
    gen_run *g = arg;
    infer_input in = {.kind = MODEL_VLM};
    infer_hooks hooks = {.on_delta = count_delta, .ctx = g};
    hdm_err err = {0};
    in.u.vlm.prompt = "Describe the picture in detail";
    in.u.vlm.temperature = 0;
    in.u.vlm.top_p = 1;
    in.u.vlm.max_tokens = 200;
    g->rc = backend_sim_ops.infer(T.b, g->m, &in, &hooks, &g->out, &err);
    return NULL;
}

/* A dense inference during a generation gets the chip after the token in
 * progress, not after the answer: it finishes while tokens still come. */
static void test_dense_job_between_tokens(void **state)
{
    (void)state;
    char *vp = simt_model(&T, "vlm.hef", "{\"infer_ms\": 1, \"token_ms\": 25}");
    char *dp = simt_model(&T, "depth.hef",
                          "{\"infer_ms\": 5, \"input_height\": 8, "
                          "\"input_width\": 8}");
    gen_run g = {.m = simt_load(&T, MODEL_VLM, vp, NULL)};
    backend_model *depth = simt_load(&T, MODEL_DEPTH, dp, NULL);
    pthread_t t;
    hdm_err err = {0};

    atomic_init(&g.deltas, 0);
    assert_int_equal(pthread_create(&t, NULL, generate, &g), 0);
    WAIT_FOR(atomic_load(&g.deltas) >= 2);
    infer_input in = {.kind = MODEL_DEPTH};
    in.u.dense.input = simt_image(3, (const int64_t[]){8, 8, 3}, 5);
    infer_output out = {0};
    assert_int_equal(backend_sim_ops.infer(T.b, depth, &in, NULL, &out, &err), 0);
    int at = atomic_load(&g.deltas);
    pthread_join(t, NULL);
    assert_int_equal(g.rc, 0);
    /* The answer went on after the dense job was done. */
    assert_true(at < atomic_load(&g.deltas));
    assert_true(at < g.out.completion_tokens);
    cJSON *f = figures();
    assert_true(lane_figure(f, "genai", "wait_ms") > 0 || lane_figure(f, "dense", "wait_ms") > 0);
    assert_int_equal((int)lane_figure(f, "dense", "operations"), 1);
    cJSON_Delete(f);
    infer_output_clear(&out);
    infer_output_clear(&g.out);
    free(in.u.dense.input.data);
    backend_sim_ops.unload(T.b, depth);
    backend_sim_ops.unload(T.b, g.m);
    free(vp);
    free(dp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_turns_in_arrival_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_switches_and_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancelled_waiter_leaves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_while_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_latency_skips_the_chip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dense_job_between_tokens, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
