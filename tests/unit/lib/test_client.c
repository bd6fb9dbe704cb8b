/*
 * test_client.c - libhailodm calls against a scripted fake manager.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/timeutil.h"
#include "fake_server.h"
#include "hailodm.h"

static hdm_client *new_client(const fake_server *fs, int json_only, int request_timeout_ms)
{
    hdm_client_options o = {.socket_path = fs->path,
                            .client_name = "unit",
                            .connect_timeout_ms = 2000,
                            .request_timeout_ms = request_timeout_ms,
                            .json_only = json_only};
    hdm_client *c = NULL;
    assert_int_equal(hdm_client_new(&o, &c), 0);
    return c;
}

/* ---- handlers ---------------------------------------------------------- */

static int h_ping(fake_server *fs, int fd, const frame *f, cJSON *req)
{
    (void)fs;
    (void)f;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(req, "client_name");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "request_id");
    cJSON *extra = cJSON_CreateObject();
    cJSON_AddBoolToObject(extra, "named",
                          cJSON_IsString(name) && strcmp(name->valuestring, "unit") == 0);
    cJSON_AddBoolToObject(extra, "has_id", cJSON_IsString(id));
    fake_reply_ok(fd, req, extra);
    return 0;
}

/* Answers infer with the input tensor sent back, in the same form it came. */
static int h_echo_tensor(fake_server *fs, int fd, const frame *f, cJSON *req)
{
    (void)fs;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(req, "input_data"), "tensor");
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddStringToObject(resp, "status", "ok");
    cJSON_AddStringToObject(resp, "request_id",
                            cJSON_GetObjectItemCaseSensitive(req, "request_id")->valuestring);
    cJSON_AddBoolToObject(resp, "was_binary", f->binary);
    cJSON *result = cJSON_Duplicate(t, 1);
    cJSON_AddItemToObject(resp, "result", result);
    if (!f->binary) {
        fake_send(fd, resp, NULL, 0);
        return 0;
    }
    /* Two attachments: a 1-byte one first, so the tensor starts misaligned. */
    static const uint8_t pad = 7;
    frame_attachment atts[2] = {{&pad, 1}, f->attachments[0]};
    cJSON_ReplaceItemInObject(result, "attachment", cJSON_CreateNumber(1));
    fake_send(fd, resp, atts, 2);
    return 0;
}

static int h_errors(fake_server *fs, int fd, const frame *f, cJSON *req)
{
    (void)fs;
    (void)f;
    const char *a = cJSON_GetObjectItemCaseSensitive(req, "action")->valuestring;
    cJSON *resp = cJSON_CreateObject();
    cJSON_AddItemToObject(resp, "request_id",
                          cJSON_Duplicate(cJSON_GetObjectItem(req, "request_id"), 1));
    if (strcmp(a, "v1") == 0) {
        cJSON_AddStringToObject(resp, "error", "Unsupported model_type: x");
    } else if (strcmp(a, "oom") == 0) {
        cJSON_AddStringToObject(resp, "error", "load failed: HAILO_RESOURCE_EXHAUSTED(status=6)");
    } else {
        cJSON_AddStringToObject(resp, "error", "queue is full");
        cJSON_AddStringToObject(resp, "code", "busy");
    }
    fake_send(fd, resp, NULL, 0);
    return 0;
}

static int h_silent(fake_server *fs, int fd, const frame *f, cJSON *req)
{
    (void)fs;
    (void)fd;
    (void)f;
    (void)req;
    return 0;
}

/* Loads and pings answered; the first ping after a load closes the connection. */
static int h_dies_once(fake_server *fs, int fd, const frame *f, cJSON *req)
{
    (void)f;
    const char *a = cJSON_GetObjectItemCaseSensitive(req, "action")->valuestring;
    if (strcmp(a, "ping") == 0) {
        pthread_mutex_lock(&fs->mu);
        int first = fs->counter++ == 0;
        pthread_mutex_unlock(&fs->mu);
        if (first)
            return 1;
    }
    fake_reply_ok(fd, req, NULL);
    return 0;
}

/* infer stream: three deltas then the final frame; "die" in the prompt closes after one. */
static int h_stream(fake_server *fs, int fd, const frame *f, cJSON *req)
{
    (void)fs;
    (void)f;
    const char *id = cJSON_GetObjectItemCaseSensitive(req, "request_id")->valuestring;
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(req, "input_data"), "prompt");
    int die = cJSON_IsString(prompt) && strcmp(prompt->valuestring, "die") == 0;
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "stream"))) {
        fake_reply_ok(fd, req, NULL);
        return 0;
    }
    static const char *const words[] = {"one ", "two ", "three"};
    for (int i = 0; i < 3; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "request_id", id);
        cJSON_AddStringToObject(d, "status", "ok");
        cJSON_AddStringToObject(d, "delta", words[i]);
        cJSON_AddFalseToObject(d, "done");
        fake_send(fd, d, NULL, 0);
        if (die)
            return 1;
    }
    cJSON *fin = cJSON_CreateObject();
    cJSON_AddTrueToObject(fin, "done");
    cJSON_AddStringToObject(fin, "result", "one two three");
    fake_reply_ok(fd, req, fin);
    return 0;
}

static int h_garbage(fake_server *fs, int fd, const frame *f, cJSON *req)
{
    (void)fs;
    (void)f;
    const char *a = cJSON_GetObjectItemCaseSensitive(req, "action")->valuestring;
    if (strcmp(a, "wrong_id") == 0) {
        cJSON *resp = cJSON_CreateObject();
        cJSON_AddStringToObject(resp, "request_id", "someone-else");
        cJSON_AddStringToObject(resp, "status", "ok");
        fake_send(fd, resp, NULL, 0);
    } else {
        static const uint8_t bad[] = {0, 0, 0, 5, '[', '1', ']', ' ', ' '};
        fake_send_raw(fd, bad, sizeof(bad));
    }
    return 0;
}

/* ---- tests ------------------------------------------------------------- */

static void test_ping_adds_id_and_name(void **state)
{
    (void)state;
    fake_server fs;
    fake_start(&fs, h_ping, NULL, 1);
    hdm_client *c = new_client(&fs, 0, 0);
    for (int i = 0; i < 3; i++) {
        hdm_request *req = hdm_request_new("ping");
        hdm_response *resp = NULL;
        assert_int_equal(hdm_call(c, req, 0, &resp), 0);
        assert_null(hdm_response_error(resp));
        assert_true(cJSON_IsTrue(cJSON_GetObjectItem(hdm_response_json(resp), "named")));
        assert_true(cJSON_IsTrue(cJSON_GetObjectItem(hdm_response_json(resp), "has_id")));
        hdm_response_free(resp);
        hdm_request_free(req);
    }
    /* Connections are reused: three calls, one connection. */
    assert_int_equal(fs.n_conns, 1);
    assert_int_equal(hdm_ping(c, 0), 0);
    hdm_client_free(c);
    fake_stop(&fs);
}

static void tensor_round_trip(int json_only)
{
    fake_server fs;
    fake_start(&fs, h_echo_tensor, NULL, 1);
    hdm_client *c = new_client(&fs, json_only, 0);
    float data[6] = {1.5f, -2, 3, 4, 5, 6.25f};
    hdm_tensor t = {
        .dtype = HDM_DT_FLOAT32, .ndim = 2, .shape = {2, 3}, .data = data, .nbytes = sizeof(data)};
    hdm_request *req = hdm_request_new("infer");
    cJSON *input = cJSON_AddObjectToObject(hdm_request_json(req), "input_data");
    assert_int_equal(hdm_request_add_tensor(req, input, "tensor", &t), 0);
    hdm_response *resp = NULL;
    assert_int_equal(hdm_call(c, req, 0, &resp), 0);
    const cJSON *json = hdm_response_json(resp);
    assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(json, "was_binary")), !json_only);
    hdm_tensor out;
    assert_int_equal(hdm_response_tensor(resp, cJSON_GetObjectItem(json, "result"), &out), 0);
    assert_int_equal(out.dtype, HDM_DT_FLOAT32);
    assert_int_equal(out.ndim, 2);
    assert_int_equal(out.shape[1], 3);
    assert_int_equal(out.nbytes, sizeof(data));
    assert_int_equal((uintptr_t)out.data % 4, 0);
    assert_memory_equal(out.data, data, sizeof(data));
    hdm_response_free(resp);
    /* The request can be sent again: encoding restored its tree. */
    assert_int_equal(hdm_call(c, req, 0, &resp), 0);
    hdm_response_free(resp);
    hdm_request_free(req);
    hdm_client_free(c);
    fake_stop(&fs);
}

static void test_binary_tensor(void **state)
{
    (void)state;
    tensor_round_trip(0);
}

static void test_json_tensor(void **state)
{
    (void)state;
    tensor_round_trip(1);
}

static void test_error_mapping(void **state)
{
    (void)state;
    fake_server fs;
    fake_start(&fs, h_errors, NULL, 1);
    hdm_client *c = new_client(&fs, 0, 0);
    static const struct {
        const char *action;
        int code;
        const char *sentence;
    } cases[] = {
        {"v1", HDM_E_UNSUPPORTED, "Unsupported model_type: x"},
        {"oom", HDM_E_RESOURCE_EXHAUSTED, "load failed: HAILO_RESOURCE_EXHAUSTED(status=6)"},
        {"coded", HDM_E_BUSY, "queue is full"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        hdm_request *req = hdm_request_new(cases[i].action);
        hdm_response *resp = NULL;
        assert_int_equal(hdm_call(c, req, 0, &resp), -cases[i].code);
        assert_string_equal(hdm_response_error(resp), cases[i].sentence);
        hdm_response_free(resp);
        hdm_request_free(req);
    }
    hdm_client_free(c);
    fake_stop(&fs);
}

static void test_timeout(void **state)
{
    (void)state;
    fake_server fs;
    fake_start(&fs, h_silent, NULL, 1);
    hdm_client *c = new_client(&fs, 0, 0);
    hdm_request *req = hdm_request_new("status");
    hdm_response *resp = NULL;
    int64_t t0 = mono_ms();
    assert_int_equal(hdm_call(c, req, 100, &resp), -HDM_E_DEADLINE_EXCEEDED);
    assert_true(mono_ms() - t0 >= 100);
    assert_non_null(strstr(hdm_response_error(resp), "within 100 ms (status)"));
    assert_string_equal(cJSON_GetObjectItem(hdm_response_json(resp), "code")->valuestring,
                        "deadline_exceeded");
    hdm_response_free(resp);
    hdm_request_free(req);
    hdm_client_free(c);
    fake_stop(&fs);
}

/* Writes the eventfd after 100 ms, from another thread (a hang-up hook). */
static void *cancel_later(void *arg)
{
    int fd = *(int *)arg;
    usleep(100 * 1000);
    uint64_t one = 1;
    assert_int_equal(write(fd, &one, sizeof(one)), (ssize_t)sizeof(one));
    return NULL;
}

/* A call waiting on a silent manager returns at once when its cancel
 * descriptor fires, and its connection is closed (the manager then cancels
 * the work); a later call on the same client still works. */
static void test_cancel_fd(void **state)
{
    (void)state;
    fake_server fs;
    fake_start(&fs, h_silent, NULL, 1);
    hdm_client *c = new_client(&fs, 0, 0);
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    assert_true(efd >= 0);
    hdm_request *req = hdm_request_new("status");
    assert_int_equal(hdm_request_set_cancel_fd(req, efd), 0);
    assert_int_equal(hdm_request_set_cancel_fd(NULL, efd), -HDM_E_BAD_REQUEST);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cancel_later, &efd), 0);
    hdm_response *resp = NULL;
    assert_int_equal(hdm_call(c, req, 20000, &resp), -HDM_E_CANCELLED);
    assert_non_null(strstr(hdm_response_error(resp), "cancelled"));
    pthread_join(t, NULL);
    hdm_response_free(resp);
    /* The server side sees the connection end. */
    int closed = 0;
    for (int64_t until = mono_ms() + 60000; !closed && mono_ms() < until;) {
        pthread_mutex_lock(&fs.mu);
        char b;
        closed = fs.n_conns > 0 && recv(fs.conn_fds[0], &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
        pthread_mutex_unlock(&fs.mu);
        if (!closed)
            usleep(10 * 1000);
    }
    assert_true(closed);
    /* Cancelling is per request: without the descriptor the call just times out. */
    assert_int_equal(hdm_request_set_cancel_fd(req, -1), 0);
    assert_int_equal(hdm_call(c, req, 50, &resp), -HDM_E_DEADLINE_EXCEEDED);
    hdm_response_free(resp);
    hdm_request_free(req);
    close(efd);
    hdm_client_free(c);
    fake_stop(&fs);
}

static void test_not_reachable(void **state)
{
    (void)state;
    hdm_client_options o = {.socket_path = "/tmp/hdm-no-such-dir/device.sock",
                            .connect_timeout_ms = 50};
    hdm_client *c = NULL;
    assert_int_equal(hdm_client_new(&o, &c), 0);
    hdm_request *req = hdm_request_new("ping");
    hdm_response *resp = NULL;
    assert_int_equal(hdm_call(c, req, 0, &resp), -HDM_E_UNAVAILABLE);
    assert_string_equal(hdm_response_error(resp), "device manager not reachable at "
                                                  "/tmp/hdm-no-such-dir/device.sock: No such "
                                                  "file or directory");
    hdm_response_free(resp);
    hdm_request_free(req);
    hdm_client_free(c);
}

static void *listen_later(void *arg)
{
    sleep_ms(150);
    fake_listen(arg);
    return NULL;
}

static void test_waits_for_manager(void **state)
{
    (void)state;
    fake_server fs;
    fake_start(&fs, h_ping, NULL, 0);
    hdm_client *c = new_client(&fs, 0, 0);
    pthread_t t;
    pthread_create(&t, NULL, listen_later, &fs);
    assert_int_equal(hdm_ping(c, 0), 0);
    pthread_join(t, NULL);
    hdm_client_free(c);
    fake_stop(&fs);
}

static void test_reconnect_replays_loads(void **state)
{
    (void)state;
    fake_server fs;
    fake_start(&fs, h_dies_once, NULL, 1);
    hdm_client *c = new_client(&fs, 0, 0);
    cJSON *params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "image_hef_path", "/m/i.hef");
    assert_int_equal(hdm_load_model(c, "clip", "/m/clip", params, -1, NULL), 0);
    assert_int_equal(hdm_load_model(c, "depth", "/m/depth", NULL, HDM_KEEP_ALIVE_DEFAULT, NULL), 0);
    assert_int_equal(hdm_unload_model(c, "depth", "/m/depth", NULL), 0);
    assert_int_equal(hdm_ping(c, 0), 0); /* first ping dies; replay + retry answer it */
    const char *expect[] = {"load_model", "load_model", "unload_model",
                            "ping",       "load_model", "ping"};
    assert_int_equal(fake_log_count(&fs), 6);
    for (int i = 0; i < 6; i++)
        assert_string_equal(fake_log_at(&fs, i), expect[i]);
    assert_int_equal(fs.n_conns, 2);
    cJSON_Delete(params);
    hdm_client_free(c);
    fake_stop(&fs);
}

typedef struct collected {
    char text[64];
    int stop_after;
    int calls;
} collected;

static int on_delta(void *user, const char *delta, size_t len)
{
    collected *col = user;
    strncat(col->text, delta, len);
    return ++col->calls == col->stop_after;
}

static hdm_request *stream_request(const char *prompt)
{
    hdm_request *req = hdm_request_new("infer");
    cJSON *input = cJSON_AddObjectToObject(hdm_request_json(req), "input_data");
    cJSON_AddStringToObject(input, "prompt", prompt);
    return req;
}

static void test_stream(void **state)
{
    (void)state;
    fake_server fs;
    fake_start(&fs, h_stream, NULL, 1);
    hdm_client *c = new_client(&fs, 0, 0);

    collected col = {0};
    hdm_request *req = stream_request("hi");
    hdm_response *resp = NULL;
    assert_int_equal(hdm_call_stream(c, req, 0, on_delta, &col, &resp), 0);
    assert_string_equal(col.text, "one two three");
    assert_string_equal(cJSON_GetObjectItem(hdm_response_json(resp), "result")->valuestring,
                        "one two three");
    hdm_response_free(resp);
    hdm_request_free(req);

    collected stop = {.stop_after = 1};
    req = stream_request("hi");
    assert_int_equal(hdm_call_stream(c, req, 0, on_delta, &stop, &resp), -HDM_E_CANCELLED);
    assert_string_equal(stop.text, "one ");
    hdm_response_free(resp);
    hdm_request_free(req);

    /* The peer dies after a delta was delivered: no retry, the call fails. */
    collected died = {0};
    req = stream_request("die");
    int before = fake_log_count(&fs);
    assert_int_equal(hdm_call_stream(c, req, 0, on_delta, &died, &resp), -HDM_E_UNAVAILABLE);
    assert_string_equal(died.text, "one ");
    assert_int_equal(fake_log_count(&fs), before + 1);
    hdm_response_free(resp);
    hdm_request_free(req);

    hdm_client_free(c);
    fake_stop(&fs);
}

static void test_malformed_answers(void **state)
{
    (void)state;
    fake_server fs;
    fake_start(&fs, h_garbage, NULL, 1);
    hdm_client *c = new_client(&fs, 0, 0);
    const char *actions[] = {"wrong_id", "not_object"};
    for (int i = 0; i < 2; i++) {
        hdm_request *req = hdm_request_new(actions[i]);
        hdm_response *resp = NULL;
        assert_int_equal(hdm_call(c, req, 0, &resp), -HDM_E_PROTOCOL);
        assert_non_null(hdm_response_error(resp));
        hdm_response_free(resp);
        hdm_request_free(req);
    }
    hdm_client_free(c);
    fake_stop(&fs);
}

static void *ping_many(void *arg)
{
    long failures = 0;
    for (int i = 0; i < 200; i++)
        failures += hdm_ping(arg, 0) != 0;
    return (void *)failures;
}

static void test_threads_share_client(void **state)
{
    (void)state;
    fake_server fs;
    fake_start(&fs, h_ping, NULL, 1);
    hdm_client *c = new_client(&fs, 0, 0);
    pthread_t t[6];
    for (int i = 0; i < 6; i++)
        pthread_create(&t[i], NULL, ping_many, c);
    long failures = 0;
    for (int i = 0; i < 6; i++) {
        void *f;
        pthread_join(t[i], &f);
        failures += (long)f;
    }
    assert_int_equal(failures, 0);
    assert_int_equal(fake_log_count(&fs), FAKE_MAX_LOG); /* the log saturates at its size */
    assert_true(fs.n_conns >= 1 && fs.n_conns <= 6);
    hdm_client_free(c);
    fake_stop(&fs);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    hdm_client *c = NULL;
    hdm_client_options o = {.request_timeout_ms = -5};
    assert_int_equal(hdm_client_new(&o, &c), -HDM_E_BAD_REQUEST);
    assert_null(c);
    assert_int_equal(hdm_client_new(NULL, NULL), -HDM_E_BAD_REQUEST);
    assert_int_equal(hdm_call(NULL, NULL, 0, NULL), -HDM_E_BAD_REQUEST);
    hdm_client_free(NULL);
    hdm_request_free(NULL);
    hdm_response_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping_adds_id_and_name),
        cmocka_unit_test(test_binary_tensor),
        cmocka_unit_test(test_json_tensor),
        cmocka_unit_test(test_error_mapping),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_cancel_fd),
        cmocka_unit_test(test_not_reachable),
        cmocka_unit_test(test_waits_for_manager),
        cmocka_unit_test(test_reconnect_replays_loads),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_malformed_answers),
        cmocka_unit_test(test_threads_share_client),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
