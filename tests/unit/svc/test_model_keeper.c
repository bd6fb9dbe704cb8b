/*
 * test_model_keeper.c - the shared registration thread against a scripted
 * fake manager: the one model the ops name (load_model with its type, path
 * and keep_alive; only pings with keep_alive 0), what a request's failure
 * does to the registration (svc_keeper_report), and the unload of a pinned
 * model at exit (svc_keeper_release).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/timeutil.h"
#include "fake_server.h"
#include "svc/model_keeper.h"

#define WAIT_MS 30000

/* What the fake manager saw of the last load_model. */
typedef struct seen {
    char type[32], path[128];
    double keep_alive;
    int loads;
} seen;

static int handler(fake_server *fs, int fd, const frame *f, cJSON *req)
{
    (void)f;
    const char *action = cJSON_GetObjectItemCaseSensitive(req, "action")->valuestring;
    cJSON *extra = NULL;
    if (strcmp(action, "load_model") == 0) {
        seen *s = fs->user;
        pthread_mutex_lock(&fs->mu);
        snprintf(s->type, sizeof(s->type), "%s",
                 cJSON_GetObjectItemCaseSensitive(req, "model_type")->valuestring);
        snprintf(s->path, sizeof(s->path), "%s",
                 cJSON_GetObjectItemCaseSensitive(req, "model_path")->valuestring);
        const cJSON *ka = cJSON_GetObjectItemCaseSensitive(req, "keep_alive");
        s->keep_alive = cJSON_IsNumber(ka) ? ka->valuedouble : -99;
        s->loads++;
        pthread_mutex_unlock(&fs->mu);
    } else if (strcmp(action, "device_status") == 0) {
        extra = cJSON_CreateObject();
        cJSON_AddStringToObject(extra, "backend", "sim");
    }
    fake_reply_ok(fd, req, extra);
    return 0;
}

static int loads(fake_server *fs)
{
    pthread_mutex_lock(&fs->mu);
    int n = ((seen *)fs->user)->loads;
    pthread_mutex_unlock(&fs->mu);
    return n;
}

static int count_action(fake_server *fs, const char *action)
{
    int n = 0;
    for (int i = 0; i < fake_log_count(fs); i++)
        n += strcmp(fake_log_at(fs, i), action) == 0;
    return n;
}

static bool wait_ready(svc_keeper *k, bool want)
{
    int64_t end = mono_ms() + WAIT_MS;
    while (svc_keeper_ready(k, NULL, 0) != want && mono_ms() < end)
        sleep_ms(5);
    return svc_keeper_ready(k, NULL, 0) == want;
}

typedef struct fixture {
    fake_server fs;
    seen seen;
    hdm_client *client;
    svc_keeper *k;
} fixture;

static void start(fixture *t, double keep_alive)
{
    memset(t, 0, sizeof(*t));
    fake_start(&t->fs, handler, &t->seen, 1);
    hdm_client_options o = {
        .socket_path = t->fs.path, .connect_timeout_ms = 2000, .request_timeout_ms = 5000};
    assert_int_equal(hdm_client_new(&o, &t->client), 0);
    const svc_keeper_ops ops = {
        .model_name = "test-model",
        .ready_log = "ready",
        .status_action = "device_status",
        .ping_before_recheck = true,
        .model_type = "pose",
        .model_path = "/models/pose.hef",
        .keep_alive = keep_alive,
    };
    assert_int_equal(svc_keeper_start(&ops, t->client, &t->k), 0);
    assert_true(wait_ready(t->k, true));
}

static void stop(fixture *t)
{
    svc_keeper_free(t->k);
    hdm_client_free(t->client);
    fake_stop(&t->fs);
}

static void test_named_model_is_loaded(void **state)
{
    (void)state;
    fixture t;
    start(&t, -1);
    assert_int_equal(loads(&t.fs), 1);
    assert_string_equal(t.seen.type, "pose");
    assert_string_equal(t.seen.path, "/models/pose.hef");
    assert_true(t.seen.keep_alive == -1);
    char backend[16];
    svc_keeper_backend(t.k, backend, sizeof(backend));
    assert_string_equal(backend, "sim");
    stop(&t);
}

static void test_keep_alive_zero_only_pings(void **state)
{
    (void)state;
    fixture t;
    start(&t, 0);
    assert_int_equal(loads(&t.fs), 0);
    assert_true(count_action(&t.fs, "ping") >= 1);
    svc_keeper_release(t.k); /* not pinned: nothing to unload */
    assert_int_equal(count_action(&t.fs, "unload_model"), 0);
    stop(&t);
}

static void test_report(void **state)
{
    (void)state;
    fixture t;
    start(&t, 300);
    /* A bad input or a busy queue says nothing about the registration. */
    svc_keeper_report(t.k, -HDM_E_BAD_REQUEST);
    svc_keeper_report(t.k, HDM_E_BUSY);
    svc_keeper_report(NULL, -HDM_E_NOT_FOUND);
    assert_true(svc_keeper_ready(t.k, NULL, 0));
    /* The model gone: the thread checks and loads it again. */
    svc_keeper_report(t.k, -HDM_E_NOT_FOUND);
    int64_t end = mono_ms() + WAIT_MS;
    while (loads(&t.fs) < 2 && mono_ms() < end)
        sleep_ms(5);
    assert_int_equal(loads(&t.fs), 2);
    assert_true(t.seen.keep_alive == 300);
    /* The manager gone: not ready at once, with the reason; it heals once
     * the manager answers (the fake does). */
    svc_keeper_halt(t.k); /* so the thread cannot heal it before we look */
    svc_keeper_report(t.k, -HDM_E_UNAVAILABLE);
    char reason[128];
    assert_false(svc_keeper_ready(t.k, reason, sizeof(reason)));
    assert_string_equal(reason, "device manager unavailable");
    stop(&t);
}

static void test_release_unloads_a_pinned_model(void **state)
{
    (void)state;
    fixture t;
    start(&t, -1);
    svc_keeper_release(t.k);
    assert_int_equal(count_action(&t.fs, "unload_model"), 1);
    int before = loads(&t.fs);
    svc_keeper_release(t.k); /* halted: the model is not loaded again, nor unloaded twice */
    assert_int_equal(loads(&t.fs), before);
    assert_int_equal(count_action(&t.fs, "unload_model"), 1);
    assert_false(svc_keeper_ready(t.k, NULL, 0));
    stop(&t);

    start(&t, 60); /* a finite keep_alive expires by itself */
    svc_keeper_release(t.k);
    assert_int_equal(count_action(&t.fs, "unload_model"), 0);
    stop(&t);
    svc_keeper_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_model_is_loaded),
        cmocka_unit_test(test_keep_alive_zero_only_pings),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_release_unloads_a_pinned_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
