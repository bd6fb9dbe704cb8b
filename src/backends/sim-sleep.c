/*
 * sim-sleep.c - the simulator's latencies: sleeping a scaled number of
 * milliseconds in short steps that watch the inference's stop conditions
 * (see sim_sleep in backend-sim.h).  A leaf of the sim: the device state it
 * reads is the latency scale, fixed at open.
 */
#include <errno.h>
#include <time.h>

#include "backend-sim.h"
#include "common/timeutil.h"
#include "hooks.h"

/* Longest single sleep step, so cancellation is noticed quickly. */
#define SIM_SLEEP_STEP_NS (5 * 1000 * 1000L)

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int sim_sleep(const backend *b, double ms, const infer_hooks *hooks, hdm_err *err)
{
    double scaled = ms * b->cfg.latency_scale;
    int rc = hooks_check(hooks, err);
    if (rc < 0 || scaled <= 0)
        return rc;
    int64_t end = now_ns() + (int64_t)(scaled * 1e6);

    while (rc == 0) {
        int64_t now = now_ns(), step = end - now;
        if (step <= 0)
            break;
        if (step > SIM_SLEEP_STEP_NS)
            step = SIM_SLEEP_STEP_NS;
        if (hooks && hooks->deadline_ms > 0) {
            /* Wake at the deadline rather than oversleep it. */
            int64_t to_deadline = (hooks->deadline_ms - mono_ms()) * 1000000LL;
            if (to_deadline < step)
                step = to_deadline > 0 ? to_deadline : 0;
        }
        struct timespec ts = {.tv_sec = step / 1000000000LL, .tv_nsec = step % 1000000000LL};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
        rc = hooks_check(hooks, err);
    }
    return rc;
}
