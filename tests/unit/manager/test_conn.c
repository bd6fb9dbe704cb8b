/*
 * test_conn.c - connection buffers of src/manager/conn.c: queued answers,
 * frame detaching, and the UTF-8 carry of streaming deltas.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "manager/conn.h"

static void test_delta_utf8_carry(void **state)
{
    (void)state;
    conn *c = conn_new(-1, 1, NULL, NULL);
    job j1 = {0}, j2 = {0};
    assert_int_equal(conn_track_job(c, &j1), 0);
    assert_int_equal(conn_track_job(c, &j2), 0);
    char *out = NULL;
    /* "é" = c3 a9 split across two pieces of job 1; job 2 is unaffected. */
    assert_int_equal(conn_delta_text(c, &j1, "ab\xc3", 3, &out), 2);
    assert_string_equal(out, "ab");
    free(out);
    assert_int_equal(conn_delta_text(c, &j2, "x", 1, &out), 1);
    assert_string_equal(out, "x");
    free(out);
    assert_int_equal(conn_delta_text(c, &j1, "\xa9!", 2, &out), 3);
    assert_string_equal(out, "\xc3\xa9!");
    free(out);
    /* A 4-byte character in three pieces. */
    assert_int_equal(conn_delta_text(c, &j1, "\xf0\x9f", 2, &out), 0);
    free(out);
    assert_int_equal(conn_delta_text(c, &j1, "\x98", 1, &out), 0);
    free(out);
    assert_int_equal(conn_delta_text(c, &j1, "\x80z", 2, &out), 5);
    assert_string_equal(out, "\xf0\x9f\x98\x80z");
    free(out);
    /* Invalid bytes become U+FFFD. */
    assert_int_equal(conn_delta_text(c, &j2, "a\xffz", 3, &out), 5);
    assert_string_equal(out, "a\xef\xbf\xbdz");
    free(out);
    conn_untrack_job(c, &j1);
    assert_int_equal(c->n_jobs, 1);
    assert_ptr_equal(c->jobs[0], &j2);
    conn_free(c);
}

/* conn_notify_fn counting calls (the loop's flush list in the daemon). */
static void count_notify(void *owner, conn *c)
{
    (void)c;
    (*(int *)owner)++;
}

static void test_queue_and_flush(void **state)
{
    (void)state;
    int sv[2], notified = 0;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    conn *c = conn_new(sv[0], 7, count_notify, &notified);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", "ok");
    assert_int_equal(conn_queue_json(c, o, false, NULL, 0, 0), 0);
    assert_int_equal(notified, 1);
    assert_int_equal(conn_out_pending(c), 4 + strlen("{\"status\":\"ok\"}"));
    assert_int_equal(conn_flush(c), 0);
    assert_int_equal(conn_out_pending(c), 0);
    unsigned char got[64];
    ssize_t n = read(sv[1], got, sizeof(got));
    assert_int_equal(n, 4 + 15);
    assert_int_equal(got[3], 15);
    assert_memory_equal(got + 4, "{\"status\":\"ok\"}", 15);
    /* Binary answer with one attachment: the JSON is padded with a space
     * to 16 bytes, so the attachment starts 16-byte aligned in the frame
     * (4 + 16 + 4 + 8 = 32) and a client can use it in place. */
    frame_attachment att = {(const uint8_t *)"abc", 3};
    assert_int_equal(conn_queue_json(c, o, true, &att, 1, 0), 0);
    assert_int_equal(conn_flush(c), 0);
    n = read(sv[1], got, sizeof(got));
    assert_int_equal(n, 4 + 16 + 4 + 8 + 3);
    assert_int_equal(got[0], 0x80);
    assert_int_equal(got[3], 16);
    assert_memory_equal(got + 4, "{\"status\":\"ok\"} ", 16);
    assert_memory_equal(got + 32, "abc", 3);
    assert_int_equal(notified, 2);
    /* conn_finish: closing once flushed, and the owner hears of it. */
    conn_finish(c);
    assert_true(c->closing);
    assert_int_equal(notified, 3);
    cJSON_Delete(o);
    conn_free(c);
    close(sv[1]);
}

static void test_detach_frame(void **state)
{
    (void)state;
    conn *c = conn_new(-1, 2, NULL, NULL);
    uint8_t bytes[] = {0, 0, 0, 2, '{', '}', 'x'};
    buf_append(&c->in, bytes, sizeof(bytes));
    frame f = {0};
    f.json = (const char *)c->in.data + 4;
    f.json_len = 2;
    f.total_len = 6;
    /* The frame is not the whole buffer: copied. */
    void *block = conn_detach_frame(c, &f);
    assert_non_null(block);
    assert_ptr_not_equal(block, c->in.data);
    assert_memory_equal(f.json, "{}", 2);
    free(block);
    /* The frame fills the buffer: taken over without a copy. */
    c->in.len = 6;
    uint8_t *data = c->in.data;
    f.json = (const char *)data + 4;
    block = conn_detach_frame(c, &f);
    assert_ptr_equal(block, data);
    assert_null(c->in.data);
    free(block);
    conn_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delta_utf8_carry),
        cmocka_unit_test(test_queue_and_flush),
        cmocka_unit_test(test_detach_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
