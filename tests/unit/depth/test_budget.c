/*
 * test_budget.c - the memory budget: what fits is taken at once, waiters
 * are served in arrival order, a request larger than the budget runs
 * alone, waiting ends at the deadline or when the client's fd fires.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/timeutil.h"
#include "depth/depth.h"

static void test_fits(void **state)
{
    (void)state;
    depth_budget *b;
    assert_int_equal(depth_budget_new(100, &b), 0);
    assert_int_equal(depth_budget_acquire(b, 60, 0, -1), 0);
    assert_int_equal(depth_budget_acquire(b, 40, 0, -1), 0);
    /* Full: a wait of 0 ms gives up at once. */
    assert_int_equal(depth_budget_acquire(b, 1, 0, -1), -HDM_E_BUSY);
    size_t held;
    int waiting;
    depth_budget_usage(b, &held, &waiting);
    assert_int_equal(held, 100);
    assert_int_equal(waiting, 0);
    depth_budget_release(b, 100);
    /* Larger than the whole budget: alone, when nothing is held. */
    assert_int_equal(depth_budget_acquire(b, 500, 0, -1), 0);
    assert_int_equal(depth_budget_acquire(b, 1, 0, -1), -HDM_E_BUSY);
    depth_budget_release(b, 500);
    depth_budget_free(b);
}

typedef struct waiter_arg {
    depth_budget *b;
    size_t n;
    int wait_ms, fd;
    int result;
} waiter_arg;

static void *waiter(void *p)
{
    waiter_arg *a = p;
    a->result = depth_budget_acquire(a->b, a->n, a->wait_ms, a->fd);
    return NULL;
}

/* Polls for n waiters for up to 60 s of the clock (under qemu on a busy
 * machine a thread may take seconds to start; never this long). */
static void wait_for_waiters(depth_budget *b, int n)
{
    const int64_t until = mono_ms() + 60000;
    int w;
    do {
        depth_budget_usage(b, NULL, &w);
        if (w == n)
            return;
        sleep_ms(5);
    } while (mono_ms() < until);
    fail_msg("never saw %d waiters (%d after 60 s)", n, w);
}

static void test_fifo(void **state)
{
    (void)state;
    depth_budget *b;
    assert_int_equal(depth_budget_new(100, &b), 0);
    assert_int_equal(depth_budget_acquire(b, 100, 0, -1), 0);
    /* A large request arrives first, then a small one: the small one must
     * not overtake it even though it would fit earlier. */
    waiter_arg big = {b, 80, 10000, -1, -1};
    waiter_arg small = {b, 10, 10000, -1, -1};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, waiter, &big);
    wait_for_waiters(b, 1);
    pthread_create(&t2, NULL, waiter, &small);
    wait_for_waiters(b, 2);
    depth_budget_release(b, 30); /* 70 held: the small one would fit, the big one not */
    usleep(50000);
    int w;
    size_t held;
    depth_budget_usage(b, &held, &w);
    assert_int_equal(w, 2); /* the small one did not overtake */
    assert_int_equal(held, 70);
    depth_budget_release(b, 70);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    assert_int_equal(big.result, 0);
    assert_int_equal(small.result, 0);
    depth_budget_usage(b, &held, NULL);
    assert_int_equal(held, 90);
    depth_budget_release(b, 90);
    depth_budget_free(b);
}

static void test_timeout_and_cancel(void **state)
{
    (void)state;
    depth_budget *b;
    assert_int_equal(depth_budget_new(10, &b), 0);
    assert_int_equal(depth_budget_acquire(b, 10, 0, -1), 0);
    waiter_arg a = {b, 5, 100, -1, 0};
    waiter(&a);
    assert_int_equal(a.result, -HDM_E_BUSY);
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    waiter_arg c = {b, 5, 60000, fd, 0};
    pthread_t t;
    pthread_create(&t, NULL, waiter, &c);
    wait_for_waiters(b, 1);
    uint64_t one = 1;
    assert_int_equal(write(fd, &one, sizeof(one)), sizeof(one));
    pthread_join(t, NULL);
    assert_int_equal(c.result, -HDM_E_CANCELLED);
    int w;
    depth_budget_usage(b, NULL, &w);
    assert_int_equal(w, 0);
    close(fd);
    depth_budget_release(b, 10);
    depth_budget_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fits),
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_timeout_and_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
