/*
 * test_image_gate.c - the process-wide decode gate: slots, the one large
 * decode at a time, refusing large decodes beyond the waiting bound, first
 * come first served, the wait limit, decoded images holding their slot
 * until image_free, and configuration checks.  Threads wait for states
 * (polled with a generous timeout), never for fixed times.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "image/image.h"
#include "image/image_internal.h"
#include "testutil.h"

#define BIG 5000   /* pixels of a "large" decode under test_config() */
#define SMALL 100

static void test_config(int slots, int heavy_waiting, int wait_ms)
{
    image_gate_config c;
    image_gate_config_defaults(&c);
    c.slots = slots;
    c.heavy_pixels = 1000;
    c.heavy_slots = 1;
    c.max_heavy_waiting = heavy_waiting;
    c.wait_ms = wait_ms;
    assert_int_equal(image_gate_configure(&c, NULL), 0);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Polls until `waiting` threads wait at the gate (30 s at most). */
static void wait_for_waiting(int want)
{
    double end = now_s() + 30;
    int active, waiting;
    do {
        image_gate_usage(&active, &waiting);
        if (waiting == want)
            return;
        struct timespec d = {0, 1000000};
        nanosleep(&d, NULL);
    } while (now_s() < end);
    fail_msg("expected %d waiting decodes, have %d", want, waiting);
}

typedef struct entrant {
    pthread_t thread;
    uint64_t pixels;
    int slot, rc;
    atomic_int done;
    atomic_int *order; /* where each finished entrant writes its turn */
    int turn;
} entrant;

static void *enter_thread(void *arg)
{
    entrant *e = arg;
    hdm_err err = {0};
    e->rc = image_gate_enter(e->pixels, &e->slot, &err);
    if (e->order)
        e->turn = atomic_fetch_add(e->order, 1);
    atomic_store(&e->done, 1);
    return NULL;
}

static void start(entrant *e, uint64_t pixels, atomic_int *order)
{
    e->pixels = pixels;
    e->order = order;
    atomic_store(&e->done, 0);
    assert_int_equal(pthread_create(&e->thread, NULL, enter_thread, e), 0);
}

static void test_one_large_decode_at_a_time(void **state)
{
    (void)state;
    test_config(3, 1, 60000);
    int big = 0, small = 0, small2 = 0;
    hdm_err err = {0};
    assert_int_equal(image_gate_enter(BIG, &big, &err), 0);
    /* Ordinary decodes still get the other slots. */
    assert_int_equal(image_gate_enter(SMALL, &small, &err), 0);
    assert_int_equal(image_gate_enter(SMALL, &small2, &err), 0);
    assert_true(small != big);
    image_gate_leave(small2);
    /* A second large decode waits... */
    entrant e = {0};
    start(&e, BIG, NULL);
    wait_for_waiting(1);
    assert_int_equal(atomic_load(&e.done), 0);
    /* ...a third is refused at once (one may wait)... */
    int third = 0;
    assert_int_equal(image_gate_enter(BIG, &third, &err), -HDM_E_BUSY);
    assert_non_null(strstr(err.msg, "too many large images"));
    /* ...and the waiter goes in when the first leaves. */
    image_gate_leave(big);
    pthread_join(e.thread, NULL);
    assert_int_equal(e.rc, 0);
    image_gate_leave(e.slot);
    image_gate_leave(small);
    int active, waiting;
    image_gate_usage(&active, &waiting);
    assert_int_equal(active, 0);
    assert_int_equal(waiting, 0);
}

/* Waiters of one class go in the order they came. */
static void test_first_come_first_served(void **state)
{
    (void)state;
    test_config(1, 0, 60000);
    int held = 0;
    assert_int_equal(image_gate_enter(SMALL, &held, NULL), 0);
    atomic_int order = 0;
    entrant e[4] = {0};
    for (int i = 0; i < 4; i++) {
        start(&e[i], SMALL, &order);
        wait_for_waiting(i + 1);
    }
    image_gate_leave(held);
    for (int i = 0; i < 4; i++) {
        double end = now_s() + 30;
        while (!atomic_load(&e[i].done) && now_s() < end) {
            struct timespec d = {0, 1000000};
            nanosleep(&d, NULL);
        }
        assert_int_equal(atomic_load(&e[i].done), 1);
        assert_int_equal(e[i].rc, 0);
        assert_int_equal(e[i].turn, i);
        image_gate_leave(e[i].slot);
        pthread_join(e[i].thread, NULL);
    }
}

/* Nobody waits longer than wait_ms; the next in line is not stuck behind
 * one that gave up. */
static void test_wait_limit(void **state)
{
    (void)state;
    test_config(1, 4, 50);
    int held = 0;
    assert_int_equal(image_gate_enter(SMALL, &held, NULL), 0);
    hdm_err err = {0};
    int slot = 0;
    assert_int_equal(image_gate_enter(SMALL, &slot, &err), -HDM_E_BUSY);
    assert_non_null(strstr(err.msg, "within 50 ms"));
    image_gate_leave(held);
    assert_int_equal(image_gate_enter(SMALL, &slot, &err), 0);
    image_gate_leave(slot);
}

/* A decoded image holds its slot until image_free; a failed decode holds
 * none. */
static void test_image_holds_its_slot(void **state)
{
    (void)state;
    test_config(2, 2, 60000);
    const uint8_t grey = 100;
    uint8_t *px = solid(40, 30, 1, &grey);
    blob b = encode_png(40, 30, 8, PNG_COLOR_TYPE_GRAY, px, 40);
    image img = {0};
    int active, waiting;
    assert_int_equal(image_decode(b.data, b.len, NULL, 0, &img, NULL), 0);
    image_gate_usage(&active, &waiting);
    assert_int_equal(active, 1);
    assert_true(img.gate_slot != 0);
    image_free(&img);
    image_gate_usage(&active, &waiting);
    assert_int_equal(active, 0);
    hdm_err err = {0};
    assert_true(image_decode(b.data, b.len - 20, NULL, 0, &img, &err) < 0);
    image_gate_usage(&active, &waiting);
    assert_int_equal(active, 0);
    /* When the gate is full, a decode says so (503 in the services). */
    test_config(1, 0, 10);
    int held = 0;
    assert_int_equal(image_gate_enter(SMALL, &held, NULL), 0);
    assert_int_equal(image_decode(b.data, b.len, NULL, 0, &img, &err), -HDM_E_BUSY);
    image_gate_leave(held);
    free(px);
    free(b.data);
}

static void test_configure_errors(void **state)
{
    (void)state;
    image_gate_config c;
    image_gate_config_defaults(&c);
    assert_true(c.slots >= 2 && c.slots <= 8);
    assert_int_equal(c.heavy_slots, 1);
    hdm_err err = {0};
    c.slots = 0;
    assert_int_equal(image_gate_configure(&c, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "slots 0"));
    image_gate_config_defaults(&c);
    c.heavy_slots = c.slots + 1;
    assert_int_equal(image_gate_configure(&c, &err), -HDM_E_BAD_REQUEST);
    image_gate_config_defaults(&c);
    c.wait_ms = -1;
    assert_int_equal(image_gate_configure(&c, &err), -HDM_E_BAD_REQUEST);
    image_gate_config_defaults(&c);
    assert_int_equal(image_gate_configure(&c, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_large_decode_at_a_time),
        cmocka_unit_test(test_first_come_first_served),
        cmocka_unit_test(test_wait_limit),
        cmocka_unit_test(test_image_holds_its_slot),
        cmocka_unit_test(test_configure_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
