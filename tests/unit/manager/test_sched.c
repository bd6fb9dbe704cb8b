/*
 * test_sched.c - the scheduler on its own: priority order, aging,
 * round-robin between clients, deadlines, busy bounds, cancellation,
 * affinity bounds, FIFO mode, shutdown, per-client default priorities,
 * status and metrics, and the lanes (each taker takes only its lanes' jobs
 * and is woken only for them; running jobs and busy estimates per lane).
 * Residency comes from a fake callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "manager/sched.h"

/* ---- fakes ---- */

#define MAX_DONE 256

static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static job *done[MAX_DONE];
static size_t n_done;
static const char *resident_path; /* the one resident model, or NULL */
static int resident_calls;
static uint64_t next_id;

static void on_complete(void *ctx, job *j)
{
    (void)ctx;
    pthread_mutex_lock(&done_mu);
    assert_true(n_done < MAX_DONE);
    done[n_done++] = j;
    pthread_mutex_unlock(&done_mu);
}

static bool is_resident(void *ctx, model_kind kind, const char *path)
{
    (void)ctx;
    (void)kind;
    resident_calls++;
    return resident_path && strcmp(path, resident_path) == 0;
}

static size_t done_count(void)
{
    pthread_mutex_lock(&done_mu);
    size_t n = n_done;
    pthread_mutex_unlock(&done_mu);
    return n;
}

static int reset(void **state)
{
    (void)state;
    n_done = 0;
    resident_path = NULL;
    resident_calls = 0;
    return 0;
}

static int free_done(void **state)
{
    (void)state;
    for (size_t i = 0; i < n_done; i++)
        job_free(done[i]);
    n_done = 0;
    return 0;
}

static job *mk(uint64_t conn, const char *client, job_priority p, const char *path, const char *rid)
{
    job *j = calloc(1, sizeof *j);
    assert_non_null(j);
    j->id = ++next_id;
    j->conn_id = conn;
    snprintf(j->client_name, sizeof j->client_name, "%s", client);
    j->priority = p;
    j->action = JOB_INFER;
    j->kind = MODEL_CLIP;
    j->model_type = strdup("clip");
    j->model_path = strdup(path);
    j->request_id = rid ? cJSON_CreateString(rid) : NULL;
    atomic_init(&j->cancelled, false);
    return j;
}

static sched *mk_sched(sched_mode mode, int aging_ms)
{
    sched_config cfg;
    sched *s = NULL;
    sched_config_defaults(&cfg);
    cfg.mode = mode;
    cfg.aging_ms = aging_ms;
    assert_int_equal(sched_new(&cfg, on_complete, is_resident, NULL, &s), 0);
    return s;
}

/* Takes the next job (must be there) and returns its request_id. */
static char taken_rid[64];
static const char *take(sched *s)
{
    job *j = sched_next(s, 0);
    assert_non_null(j);
    job_request_id_text(j, taken_rid, sizeof taken_rid);
    job_free(j);
    return taken_rid;
}

/* ---- tests ---- */

static void test_defaults_and_mode_parse(void **state)
{
    (void)state;
    sched_config cfg;
    sched_mode m;
    sched_config_defaults(&cfg);
    assert_int_equal(cfg.mode, SCHED_FAIR);
    assert_int_equal(cfg.max_queue, 256);
    assert_int_equal(cfg.max_queue_per_client, 64);
    assert_int_equal(cfg.aging_ms, 2000);
    assert_int_equal(sched_mode_parse("fifo", &m), 0);
    assert_int_equal(m, SCHED_FIFO);
    assert_int_equal(sched_mode_parse("fair", &m), 0);
    assert_int_equal(m, SCHED_FAIR);
    assert_int_equal(sched_mode_parse("lifo", &m), -1);
    assert_int_equal(sched_mode_parse(NULL, &m), -1);
}

static void test_priority_order(void **state)
{
    (void)state;
    sched *s = mk_sched(SCHED_FAIR, 0);
    assert_int_equal(sched_submit(s, mk(1, "a", PRIO_BATCH, "/m/x", "b")), 0);
    assert_int_equal(sched_submit(s, mk(1, "a", PRIO_NORMAL, "/m/x", "n")), 0);
    assert_int_equal(sched_submit(s, mk(1, "a", PRIO_INTERACTIVE, "/m/x", "i")), 0);
    assert_int_equal(sched_submit(s, mk(1, "a", PRIO_REALTIME, "/m/x", "r")), 0);
    assert_int_equal(sched_depth(s), 4);
    assert_string_equal(take(s), "r");
    assert_string_equal(take(s), "i");
    assert_string_equal(take(s), "n");
    assert_string_equal(take(s), "b");
    assert_null(sched_next(s, 0));
    sched_free(s);
}

static void test_aging_promotes_batch(void **state)
{
    (void)state;
    sched *s = mk_sched(SCHED_FAIR, 50);
    /* A batch job that has waited 4 aging periods counts as realtime. */
    job *old = mk(1, "a", PRIO_BATCH, "/m/x", "old-batch");
    old->received_ms = mono_ms() - 200;
    assert_int_equal(sched_submit(s, mk(2, "b", PRIO_INTERACTIVE, "/m/x", "fresh")), 0);
    assert_int_equal(sched_submit(s, old), 0);
    assert_string_equal(take(s), "old-batch");
    assert_string_equal(take(s), "fresh");

    /* Without the wait, interactive goes first. */
    assert_int_equal(sched_submit(s, mk(1, "a", PRIO_BATCH, "/m/x", "new-batch")), 0);
    assert_int_equal(sched_submit(s, mk(2, "b", PRIO_INTERACTIVE, "/m/x", "fresh2")), 0);
    assert_string_equal(take(s), "fresh2");
    assert_string_equal(take(s), "new-batch");
    sched_free(s);
}

static void test_round_robin_flood_vs_single(void **state)
{
    (void)state;
    char rid[16];
    sched *s = mk_sched(SCHED_FAIR, 0);
    for (int i = 0; i < 10; i++) {
        snprintf(rid, sizeof rid, "flood%d", i);
        assert_int_equal(sched_submit(s, mk(1, "flooder", PRIO_NORMAL, "/m/x", rid)), 0);
    }
    /* The flooder's first job is running when the single request arrives. */
    assert_string_equal(take(s), "flood0");
    assert_int_equal(sched_submit(s, mk(2, "single", PRIO_NORMAL, "/m/x", "one")), 0);
    assert_string_equal(take(s), "one");
    assert_string_equal(take(s), "flood1");

    /* Three clients alternate one job each. */
    for (int i = 0; i < 2; i++) {
        snprintf(rid, sizeof rid, "b%d", i);
        assert_int_equal(sched_submit(s, mk(3, "b", PRIO_NORMAL, "/m/x", rid)), 0);
        snprintf(rid, sizeof rid, "c%d", i);
        assert_int_equal(sched_submit(s, mk(4, "c", PRIO_NORMAL, "/m/x", rid)), 0);
    }
    /* b and c have never been served; flooder was served last. */
    assert_string_equal(take(s), "b0");
    assert_string_equal(take(s), "c0");
    assert_string_equal(take(s), "flood2");
    assert_string_equal(take(s), "b1");
    assert_string_equal(take(s), "c1");
    for (int i = 3; i < 10; i++) {
        snprintf(rid, sizeof rid, "flood%d", i);
        assert_string_equal(take(s), rid);
    }
    sched_free(s);
}

static void test_deadline_expires_in_queue(void **state)
{
    (void)state;
    sched *s = mk_sched(SCHED_FAIR, 0);
    job *j = mk(1, "a", PRIO_NORMAL, "/m/x", "late");
    j->deadline_ms = mono_ms() + 30;
    assert_int_equal(sched_submit(s, j), 0);
    assert_int_equal(sched_submit(s, mk(1, "a", PRIO_NORMAL, "/m/x", "ok")), 0);
    /* Nobody calls sched_next: the reaper must still answer on time. */
    for (int64_t until = mono_ms() + 60000; done_count() == 0 && mono_ms() < until;)
        sleep_ms(5);
    assert_int_equal(done_count(), 1);
    assert_int_equal(done[0]->rc, -HDM_E_DEADLINE_EXCEEDED);
    assert_int_equal(done[0]->err.code, HDM_E_DEADLINE_EXCEEDED);
    assert_non_null(strstr(done[0]->err.msg, "deadline exceeded after"));
    assert_non_null(strstr(done[0]->err.msg, "ms in queue"));
    assert_string_equal(take(s), "ok");

    cJSON *st = cJSON_CreateObject();
    sched_status_json(s, st);
    cJSON *sch = cJSON_GetObjectItem(st, "scheduler");
    assert_int_equal(cJSON_GetObjectItem(sch, "deadline_expired")->valueint, 1);
    cJSON_Delete(st);
    sched_free(s);
}

static void test_class_default_deadline(void **state)
{
    (void)state;
    sched_config cfg;
    sched *s = NULL;
    sched_config_defaults(&cfg);
    cfg.default_deadline_ms[PRIO_BATCH] = 500;
    assert_int_equal(sched_new(&cfg, on_complete, is_resident, NULL, &s), 0);
    job *b = mk(1, "a", PRIO_BATCH, "/m/x", "b");
    job *n = mk(1, "a", PRIO_NORMAL, "/m/x", "n");
    assert_int_equal(sched_submit(s, b), 0);
    assert_int_equal(sched_submit(s, n), 0);
    assert_true(b->deadline_ms >= b->received_ms + 500);
    assert_int_equal(n->deadline_ms, 0);
    sched_free(s); /* completes both as cancelled */
    assert_int_equal(done_count(), 2);
    assert_int_equal(done[0]->rc, -HDM_E_CANCELLED);
    assert_non_null(strstr(done[0]->err.msg, "shutting down"));
}

static void test_busy_bounds(void **state)
{
    (void)state;
    sched_config cfg;
    sched *s = NULL;
    sched_config_defaults(&cfg);
    cfg.max_queue = 3;
    cfg.max_queue_per_client = 2;
    assert_int_equal(sched_new(&cfg, on_complete, is_resident, NULL, &s), 0);

    assert_int_equal(sched_submit(s, mk(1, "a", PRIO_NORMAL, "/m/x", "a1")), 0);
    assert_int_equal(sched_submit(s, mk(1, "a", PRIO_NORMAL, "/m/x", "a2")), 0);
    job *a3 = mk(1, "a", PRIO_NORMAL, "/m/x", "a3");
    assert_int_equal(sched_submit(s, a3), -HDM_E_BUSY);
    assert_int_equal(a3->rc, -HDM_E_BUSY);
    assert_true(a3->retry_after_ms > 0);
    assert_non_null(strstr(a3->err.msg, "Client a"));
    job_free(a3);

    assert_int_equal(sched_submit(s, mk(2, "b", PRIO_NORMAL, "/m/x", "b1")), 0);
    job *c1 = mk(3, "c", PRIO_NORMAL, "/m/x", "c1");
    assert_int_equal(sched_submit(s, c1), -HDM_E_BUSY);
    assert_non_null(strstr(c1->err.msg, "queue is full"));
    /* Three queued, 50 ms guessed each before any service time is known. */
    assert_true(c1->retry_after_ms >= 3 * 50);
    job_free(c1);

    /* The estimate follows measured service times. */
    job *ran = sched_next(s, 0);
    assert_non_null(ran);
    sched_record_service(s, ran, 1000);
    job_free(ran);
    job *c2 = mk(3, "c", PRIO_NORMAL, "/m/x", "c2");
    assert_int_equal(sched_submit(s, c2), 0); /* room again */
    job *c3 = mk(3, "c", PRIO_NORMAL, "/m/x", "c3");
    assert_int_equal(sched_submit(s, c3), -HDM_E_BUSY);
    assert_true(c3->retry_after_ms >= 3000);
    job_free(c3);

    buf m = {0};
    sched_metrics(s, &m);
    assert_int_equal(buf_append(&m, "", 1), 0);
    assert_non_null(strstr((char *)m.data, "hailo_busy_rejections_total 3"));
    assert_non_null(strstr((char *)m.data, "hailo_requests_total{code=\"busy\"} 3"));
    buf_free(&m);
    sched_free(s);
}

static void test_cancel_by_connection(void **state)
{
    (void)state;
    sched *s = mk_sched(SCHED_FAIR, 0);
    assert_int_equal(sched_submit(s, mk(7, "a", PRIO_NORMAL, "/m/x", "a1")), 0);
    assert_int_equal(sched_submit(s, mk(8, "b", PRIO_NORMAL, "/m/x", "b1")), 0);
    assert_int_equal(sched_submit(s, mk(7, "a", PRIO_NORMAL, "/m/x", "a2")), 0);
    assert_int_equal(sched_cancel_conn(s, 7), 2);
    assert_int_equal(done_count(), 2);
    assert_int_equal(done[0]->rc, -HDM_E_CANCELLED);
    assert_string_equal(done[0]->request_id->valuestring, "a1");
    assert_string_equal(done[1]->request_id->valuestring, "a2");
    assert_int_equal(sched_depth(s), 1);
    assert_string_equal(take(s), "b1");
    assert_int_equal(sched_cancel_conn(s, 7), 0);

    /* A running job of a closed connection is told to stop. */
    job *r = mk(9, "c", PRIO_NORMAL, "/m/x", "run");
    assert_int_equal(sched_submit(s, r), 0);
    assert_ptr_equal(sched_next(s, 0), r);
    sched_running_begin(s, r);
    assert_int_equal(sched_cancel_conn(s, 9), 0);
    assert_true(atomic_load(&r->cancelled));
    sched_running_end(s, r);
    job_free(r);
    sched_free(s);
}

/* sched_cancel_request by a string request_id. */
static int cancel(sched *s, uint64_t conn, const char *rid)
{
    cJSON *target = cJSON_CreateString(rid);
    int rc = sched_cancel_request(s, conn, target);
    cJSON_Delete(target);
    return rc;
}

static void test_cancel_by_request_id(void **state)
{
    (void)state;
    sched *s = mk_sched(SCHED_FAIR, 0);
    assert_int_equal(sched_submit(s, mk(1, "a", PRIO_NORMAL, "/m/x", "keep")), 0);
    assert_int_equal(sched_submit(s, mk(1, "a", PRIO_NORMAL, "/m/x", "drop")), 0);
    /* Only the same connection may cancel. */
    assert_int_equal(cancel(s, 2, "drop"), -HDM_E_NOT_FOUND);
    assert_int_equal(cancel(s, 1, "nope"), -HDM_E_NOT_FOUND);
    assert_int_equal(sched_cancel_request(s, 1, NULL), -HDM_E_NOT_FOUND);
    assert_int_equal(cancel(s, 1, "drop"), 0);
    assert_int_equal(done_count(), 1);
    assert_int_equal(done[0]->rc, -HDM_E_CANCELLED);
    assert_string_equal(done[0]->request_id->valuestring, "drop");
    assert_non_null(strstr(done[0]->err.msg, "cancelled"));

    job *r = sched_next(s, 0);
    assert_string_equal(r->request_id->valuestring, "keep");
    sched_running_begin(s, r);
    assert_int_equal(cancel(s, 1, "keep"), 0);
    assert_true(atomic_load(&r->cancelled));
    sched_running_end(s, r);
    assert_int_equal(cancel(s, 1, "keep"), -HDM_E_NOT_FOUND);
    job_free(r);
    sched_free(s);
}

static void test_affinity_bounded_by_count(void **state)
{
    (void)state;
    char rid[16];
    sched_config cfg;
    sched *s = NULL;
    sched_config_defaults(&cfg);
    cfg.affinity_max_jobs = 3;
    cfg.affinity_max_ms = 60000;
    assert_int_equal(sched_new(&cfg, on_complete, is_resident, NULL, &s), 0);
    resident_path = "/m/x";

    assert_int_equal(sched_submit(s, mk(2, "b", PRIO_NORMAL, "/m/y", "y")), 0);
    for (int i = 1; i <= 5; i++) {
        snprintf(rid, sizeof rid, "x%d", i);
        assert_int_equal(sched_submit(s, mk(1, "a", PRIO_NORMAL, "/m/x", rid)), 0);
    }
    /* y needs a swap: three x jobs run first, then y (bound), then the rest. */
    assert_string_equal(take(s), "x1");
    assert_string_equal(take(s), "x2");
    assert_string_equal(take(s), "x3");
    assert_string_equal(take(s), "y");
    assert_true(resident_calls > 0);
    assert_string_equal(take(s), "x4");
    assert_string_equal(take(s), "x5");

    /* Affinity never jumps classes: a realtime job needing a swap goes first. */
    assert_int_equal(sched_submit(s, mk(1, "a", PRIO_NORMAL, "/m/x", "xn")), 0);
    assert_int_equal(sched_submit(s, mk(2, "b", PRIO_REALTIME, "/m/y", "yr")), 0);
    assert_string_equal(take(s), "yr");
    assert_string_equal(take(s), "xn");
    sched_free(s);
}

static void test_affinity_bounded_by_time(void **state)
{
    (void)state;
    char rid[16];
    sched_config cfg;
    sched *s = NULL;
    sched_config_defaults(&cfg);
    cfg.affinity_max_jobs = 100;
    cfg.affinity_max_ms = 40;
    assert_int_equal(sched_new(&cfg, on_complete, is_resident, NULL, &s), 0);
    resident_path = "/m/x";
    assert_int_equal(sched_submit(s, mk(2, "b", PRIO_NORMAL, "/m/y", "y")), 0);
    for (int i = 1; i <= 4; i++) {
        snprintf(rid, sizeof rid, "x%d", i);
        assert_int_equal(sched_submit(s, mk(1, "a", PRIO_NORMAL, "/m/x", rid)), 0);
    }
    assert_string_equal(take(s), "x1");
    assert_string_equal(take(s), "x2");
    sleep_ms(60); /* the affinity window closes */
    assert_string_equal(take(s), "y");
    assert_string_equal(take(s), "x3");
    sched_free(s);
}

static void test_no_affinity_when_head_resident(void **state)
{
    (void)state;
    sched *s = mk_sched(SCHED_FAIR, 0);
    resident_path = "/m/y";
    assert_int_equal(sched_submit(s, mk(2, "b", PRIO_NORMAL, "/m/y", "y")), 0);
    assert_int_equal(sched_submit(s, mk(1, "a", PRIO_NORMAL, "/m/x", "x")), 0);
    assert_string_equal(take(s), "y");
    assert_string_equal(take(s), "x");
    sched_free(s);
}

static void test_fifo_mode(void **state)
{
    (void)state;
    sched_config cfg;
    sched *s = NULL;
    sched_config_defaults(&cfg);
    cfg.mode = SCHED_FIFO;
    cfg.max_queue_per_client = 2;
    assert_int_equal(sched_new(&cfg, on_complete, is_resident, NULL, &s), 0);
    resident_path = "/m/x";
    assert_int_equal(sched_submit(s, mk(1, "a", PRIO_BATCH, "/m/y", "1")), 0);
    assert_int_equal(sched_submit(s, mk(1, "a", PRIO_BATCH, "/m/y", "2")), 0);
    assert_int_equal(sched_submit(s, mk(2, "b", PRIO_REALTIME, "/m/x", "3")), 0);
    job *over = mk(1, "a", PRIO_BATCH, "/m/y", "4");
    assert_int_equal(sched_submit(s, over), -HDM_E_BUSY); /* same bounds */
    job_free(over);
    assert_string_equal(take(s), "1");
    assert_string_equal(take(s), "2");
    assert_string_equal(take(s), "3");
    assert_int_equal(resident_calls, 0);
    sched_free(s);
}

static void *late_submit(void *arg)
{
    sched *s = arg;
    sleep_ms(30);
    sched_submit(s, mk(1, "a", PRIO_NORMAL, "/m/x", "late"));
    return NULL;
}

static void test_next_blocks_and_times_out(void **state)
{
    (void)state;
    sched *s = mk_sched(SCHED_FAIR, 0);
    int64_t t0 = mono_ms();
    assert_null(sched_next(s, 40));
    assert_true(mono_ms() - t0 >= 35);

    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, late_submit, s), 0);
    job *j = sched_next(s, 5000);
    assert_non_null(j);
    assert_string_equal(j->request_id->valuestring, "late");
    job_free(j);
    pthread_join(th, NULL);
    sched_free(s);
}

static void *shutdown_later(void *arg)
{
    sleep_ms(30);
    sched_shutdown(arg);
    return NULL;
}

static void test_shutdown(void **state)
{
    (void)state;
    sched *s = mk_sched(SCHED_FAIR, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, shutdown_later, s), 0);
    assert_null(sched_next(s, -1)); /* woken by shutdown */
    pthread_join(th, NULL);
    assert_true(sched_is_shutdown(s));
    job *j = mk(1, "a", PRIO_NORMAL, "/m/x", "after");
    assert_int_equal(sched_submit(s, j), -HDM_E_UNAVAILABLE);
    assert_non_null(strstr(j->err.msg, "shutting down"));
    job_free(j);
    sched_free(s);
}

static void test_client_default_priority(void **state)
{
    (void)state;
    sched_config cfg;
    sched *s = NULL;
    hdm_err err = {0};
    const char *good[] = {"hailo-clip=interactive", "uid:1000=batch", "odd=name=realtime"};
    sched_config_defaults(&cfg);
    cfg.client_priority = good;
    cfg.n_client_priority = 3;
    assert_int_equal(sched_new_err(&cfg, on_complete, NULL, NULL, &s, &err), 0);
    assert_int_equal(sched_default_priority(s, "hailo-clip", 1000, PRIO_NORMAL), PRIO_INTERACTIVE);
    assert_int_equal(sched_default_priority(s, "other", 1000, PRIO_NORMAL), PRIO_BATCH);
    assert_int_equal(sched_default_priority(s, "other", 1001, PRIO_NORMAL), PRIO_NORMAL);
    assert_int_equal(sched_default_priority(s, "odd=name", 5, PRIO_NORMAL), PRIO_REALTIME);
    assert_int_equal(sched_default_priority(s, NULL, 5, PRIO_BATCH), PRIO_BATCH);
    sched_free(s);

    static const struct {
        const char *entry, *msg;
    } bad[] = {
        {"noequals", "is not NAME=CLASS"}, {"a=fast", "unknown class \"fast\""},
        {"=batch", "empty client name"},   {"uid:abc=batch", "bad uid"},
        {"uid:=batch", "bad uid"},         {"uid:-1=batch", "bad uid"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *one[] = {bad[i].entry};
        s = NULL;
        cfg.client_priority = one;
        cfg.n_client_priority = 1;
        hdm_err_clear(&err);
        assert_int_equal(sched_new_err(&cfg, on_complete, NULL, NULL, &s, &err),
                         -HDM_E_BAD_REQUEST);
        assert_null(s);
        assert_non_null(strstr(err.msg, bad[i].msg));
        assert_non_null(strstr(err.msg, "client_priority[0]"));
    }
}

static void test_bad_config(void **state)
{
    (void)state;
    sched_config cfg;
    sched *s = NULL;
    hdm_err err = {0};
    sched_config_defaults(&cfg);
    cfg.max_queue = 0;
    assert_int_equal(sched_new_err(&cfg, on_complete, NULL, NULL, &s, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "max_queue"));
    sched_config_defaults(&cfg);
    cfg.aging_ms = -1;
    assert_int_equal(sched_new_err(&cfg, on_complete, NULL, NULL, &s, &err), -HDM_E_BAD_REQUEST);
    assert_null(s);
}

static void test_status_and_metrics(void **state)
{
    (void)state;
    sched *s = mk_sched(SCHED_FAIR, 0);
    assert_int_equal(sched_submit(s, mk(1, "alice", PRIO_BATCH, "/m/x", "1")), 0);
    assert_int_equal(sched_submit(s, mk(1, "alice", PRIO_BATCH, "/m/x", "2")), 0);
    assert_int_equal(sched_submit(s, mk(2, "bo\"b", PRIO_INTERACTIVE, "/m/x", "3")), 0);
    job *j = sched_next(s, 0);
    j->rc = 0;
    sched_record_service(s, j, 12);
    job_free(j);
    sched_record_rejected(s, "alice", HDM_E_BAD_REQUEST);

    cJSON *st = cJSON_CreateObject();
    cJSON_AddNumberToObject(st, "queue_depth", 99); /* replaced, not duplicated */
    sched_status_json(s, st);
    assert_int_equal(cJSON_GetObjectItem(st, "queue_depth")->valueint, 2);
    cJSON *byp = cJSON_GetObjectItem(st, "queue_by_priority");
    assert_int_equal(cJSON_GetObjectItem(byp, "batch")->valueint, 2);
    assert_int_equal(cJSON_GetObjectItem(byp, "interactive")->valueint, 0);
    int n_qd = 0;
    for (cJSON *it = st->child; it; it = it->next)
        n_qd += strcmp(it->string, "queue_depth") == 0;
    assert_int_equal(n_qd, 1);
    cJSON *clients = cJSON_GetObjectItem(st, "clients");
    assert_int_equal(cJSON_GetArraySize(clients), 2);
    bool seen_alice = false;
    cJSON *c;
    cJSON_ArrayForEach(c, clients)
    {
        if (strcmp(cJSON_GetObjectItem(c, "name")->valuestring, "alice") == 0) {
            seen_alice = true;
            assert_int_equal(cJSON_GetObjectItem(c, "queued")->valueint, 2);
            assert_int_equal(cJSON_GetObjectItem(c, "requests")->valueint, 1);
            assert_int_equal(cJSON_GetObjectItem(c, "errors")->valueint, 1);
        } else {
            assert_int_equal(cJSON_GetObjectItem(c, "requests")->valueint, 1);
            cJSON *svc = cJSON_GetObjectItem(c, "service_ms");
            assert_true(cJSON_GetObjectItem(svc, "p50")->valuedouble == 12.0);
            assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "wait_ms"), "p99"));
        }
    }
    assert_true(seen_alice);
    cJSON_Delete(st);

    buf m = {0};
    sched_metrics(s, &m);
    buf_append(&m, "", 1);
    const char *t = (const char *)m.data;
    assert_non_null(strstr(t, "# TYPE hailo_queue_depth gauge"));
    assert_non_null(strstr(t, "hailo_queue_depth{priority=\"batch\"} 2"));
    assert_non_null(
        strstr(t, "hailo_queue_wait_seconds_bucket{model_type=\"clip\",le=\"+Inf\"} 1"));
    assert_non_null(strstr(t, "hailo_service_seconds_count{model_type=\"clip\"} 1"));
    assert_non_null(strstr(t, "hailo_requests_total{code=\"ok\"} 1"));
    assert_non_null(strstr(t, "hailo_errors_total{code=\"bad_request\"} 1"));
    assert_non_null(strstr(t, "hailo_client_requests_total{client=\"bo\\\"b\"} 1"));
    buf_free(&m);
    sched_free(s);
}

/* ---- lanes ---- */

static const unsigned DENSE = 1u << SCHED_LANE_DENSE, GENAI = 1u << SCHED_LANE_GENAI;

static job *mk_kind(uint64_t conn, const char *client, model_kind kind, const char *rid)
{
    job *j = mk(conn, client, PRIO_NORMAL, "/m/x", rid);
    j->kind = kind;
    return j;
}

static void test_lanes_take_their_own_jobs(void **state)
{
    (void)state;
    sched *s = mk_sched(SCHED_FAIR, 0);
    job *probe = mk_kind(1, "a", MODEL_WHISPER, "probe");
    assert_int_equal(sched_job_lane(probe), SCHED_LANE_GENAI);
    probe->kind = MODEL_OCR;
    assert_int_equal(sched_job_lane(probe), SCHED_LANE_DENSE);
    job_free(probe);
    assert_int_equal(sched_submit(s, mk_kind(1, "a", MODEL_VLM, "v1")), 0);
    assert_int_equal(sched_submit(s, mk_kind(1, "a", MODEL_CLIP, "c1")), 0);
    assert_int_equal(sched_submit(s, mk_kind(1, "a", MODEL_WHISPER, "w1")), 0);
    assert_int_equal(sched_submit(s, mk_kind(1, "a", MODEL_DEPTH, "d1")), 0);

    job *j = sched_next_lanes(s, DENSE, 0);
    assert_string_equal(j->request_id->valuestring, "c1");
    job_free(j);
    j = sched_next_lanes(s, GENAI, 0);
    assert_string_equal(j->request_id->valuestring, "v1");
    job_free(j);
    j = sched_next_lanes(s, DENSE, 0);
    assert_string_equal(j->request_id->valuestring, "d1");
    job_free(j);
    assert_null(sched_next_lanes(s, DENSE, 0)); /* only the GenAI job is left */
    cJSON *st = cJSON_CreateObject();
    sched_status_json(s, st);
    cJSON *by_lane = cJSON_GetObjectItem(st, "queue_by_lane");
    assert_int_equal(cJSON_GetObjectItem(by_lane, "genai")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(by_lane, "dense")->valueint, 0);
    cJSON_Delete(st);
    j = sched_next(s, 0); /* every lane */
    assert_string_equal(j->request_id->valuestring, "w1");
    job_free(j);
    sched_free(s);
}

typedef struct taker {
    sched *s;
    unsigned lanes;
    job *got;
    atomic_bool returned;
} taker;

static void *taker_main(void *arg)
{
    taker *t = arg;
    t->got = sched_next_lanes(t->s, t->lanes, -1);
    atomic_store(&t->returned, true);
    return NULL;
}

/* A job wakes a taker of its lane; the other lane's taker sleeps on. */
static void test_submit_wakes_the_right_lane(void **state)
{
    (void)state;
    sched *s = mk_sched(SCHED_FAIR, 0);
    taker g = {.s = s, .lanes = GENAI}, d = {.s = s, .lanes = DENSE};
    pthread_t tg, td;
    atomic_init(&g.returned, false);
    atomic_init(&d.returned, false);
    assert_int_equal(pthread_create(&tg, NULL, taker_main, &g), 0);
    assert_int_equal(pthread_create(&td, NULL, taker_main, &d), 0);

    assert_int_equal(sched_submit(s, mk_kind(1, "a", MODEL_POSE, "p1")), 0);
    pthread_join(td, NULL);
    assert_string_equal(d.got->request_id->valuestring, "p1");
    assert_false(atomic_load(&g.returned));
    assert_int_equal(sched_submit(s, mk_kind(1, "a", MODEL_VLM, "v1")), 0);
    pthread_join(tg, NULL);
    assert_string_equal(g.got->request_id->valuestring, "v1");
    job_free(d.got);
    job_free(g.got);

    /* Shutdown wakes every taker. */
    g.got = NULL;
    atomic_store(&g.returned, false);
    assert_int_equal(pthread_create(&tg, NULL, taker_main, &g), 0);
    sched_shutdown(s);
    pthread_join(tg, NULL);
    assert_null(g.got);
    sched_free(s);
}

static void test_running_per_lane(void **state)
{
    (void)state;
    sched *s = mk_sched(SCHED_FAIR, 0);
    job *v = mk_kind(1, "a", MODEL_VLM, "v");
    job *c = mk_kind(2, "b", MODEL_CLIP, "c");
    assert_int_equal(sched_submit(s, v), 0);
    assert_int_equal(sched_submit(s, c), 0);
    assert_ptr_equal(sched_next_lanes(s, GENAI, 0), v);
    assert_ptr_equal(sched_next_lanes(s, DENSE, 0), c);
    sched_running_begin(s, v);
    sched_running_begin(s, c);
    assert_int_equal(sched_running_count(s), 2);
    cJSON *st = cJSON_CreateObject();
    sched_status_json(s, st);
    cJSON *sch = cJSON_GetObjectItem(st, "scheduler");
    assert_int_equal(cJSON_GetObjectItem(sch, "running")->valueint, 2);
    cJSON *rl = cJSON_GetObjectItem(sch, "running_by_lane");
    assert_int_equal(cJSON_GetObjectItem(rl, "genai")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(rl, "dense")->valueint, 1);
    cJSON_Delete(st);

    /* Cancel reaches a running job of either lane. */
    assert_int_equal(sched_cancel_conn(s, 2), 0);
    assert_true(atomic_load(&c->cancelled));
    assert_false(atomic_load(&v->cancelled));
    assert_true(sched_cancel_running(s)); /* stopping: every running job */
    assert_true(atomic_load(&v->cancelled));
    sched_running_end(s, c);
    sched_running_end(s, v);
    assert_int_equal(sched_running_count(s), 0);
    assert_false(sched_cancel_running(s));
    job_free(v);
    job_free(c);
    sched_free(s);
}

/* With parallel lanes, a lane's busy estimate counts only that lane's queue
 * and service times. */
static void test_busy_estimate_per_lane(void **state)
{
    (void)state;
    sched_config cfg;
    sched *s = NULL;
    sched_config_defaults(&cfg);
    cfg.max_queue = 4;
    cfg.parallel_lanes = true;
    assert_int_equal(sched_new(&cfg, on_complete, is_resident, NULL, &s), 0);
    job *g = mk_kind(1, "g", MODEL_VLM, "g0");
    assert_int_equal(sched_submit(s, g), 0);
    assert_ptr_equal(sched_next_lanes(s, GENAI, 0), g);
    sched_record_service(s, g, 10000); /* generations are long */
    job_free(g);
    job *d = mk_kind(2, "d", MODEL_CLIP, "d0");
    assert_int_equal(sched_submit(s, d), 0);
    assert_ptr_equal(sched_next_lanes(s, DENSE, 0), d);
    sched_record_service(s, d, 10); /* dense jobs short */
    job_free(d);
    for (int i = 0; i < 3; i++) {
        char rid[8];
        snprintf(rid, sizeof rid, "g%d", i + 1);
        assert_int_equal(sched_submit(s, mk_kind(1, "g", MODEL_VLM, rid)), 0);
    }
    assert_int_equal(sched_submit(s, mk_kind(2, "d", MODEL_CLIP, "d1")), 0);
    job *gx = mk_kind(3, "x", MODEL_VLM, "gx"), *dx = mk_kind(3, "x", MODEL_CLIP, "dx");
    assert_int_equal(sched_submit(s, gx), -HDM_E_BUSY);
    assert_int_equal(sched_submit(s, dx), -HDM_E_BUSY);
    /* Three generations queued at ~10 s each, one dense job at 10 ms. */
    assert_true(gx->retry_after_ms >= 3 * 9000);
    assert_true(dx->retry_after_ms < 1000);
    job_free(gx);
    job_free(dx);
    sched_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults_and_mode_parse, reset, free_done),
        cmocka_unit_test_setup_teardown(test_priority_order, reset, free_done),
        cmocka_unit_test_setup_teardown(test_aging_promotes_batch, reset, free_done),
        cmocka_unit_test_setup_teardown(test_round_robin_flood_vs_single, reset, free_done),
        cmocka_unit_test_setup_teardown(test_deadline_expires_in_queue, reset, free_done),
        cmocka_unit_test_setup_teardown(test_class_default_deadline, reset, free_done),
        cmocka_unit_test_setup_teardown(test_busy_bounds, reset, free_done),
        cmocka_unit_test_setup_teardown(test_cancel_by_connection, reset, free_done),
        cmocka_unit_test_setup_teardown(test_cancel_by_request_id, reset, free_done),
        cmocka_unit_test_setup_teardown(test_affinity_bounded_by_count, reset, free_done),
        cmocka_unit_test_setup_teardown(test_affinity_bounded_by_time, reset, free_done),
        cmocka_unit_test_setup_teardown(test_no_affinity_when_head_resident, reset, free_done),
        cmocka_unit_test_setup_teardown(test_fifo_mode, reset, free_done),
        cmocka_unit_test_setup_teardown(test_next_blocks_and_times_out, reset, free_done),
        cmocka_unit_test_setup_teardown(test_shutdown, reset, free_done),
        cmocka_unit_test_setup_teardown(test_client_default_priority, reset, free_done),
        cmocka_unit_test_setup_teardown(test_bad_config, reset, free_done),
        cmocka_unit_test_setup_teardown(test_lanes_take_their_own_jobs, reset, free_done),
        cmocka_unit_test_setup_teardown(test_submit_wakes_the_right_lane, reset, free_done),
        cmocka_unit_test_setup_teardown(test_running_per_lane, reset, free_done),
        cmocka_unit_test_setup_teardown(test_busy_estimate_per_lane, reset, free_done),
        cmocka_unit_test_setup_teardown(test_status_and_metrics, reset, free_done),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
