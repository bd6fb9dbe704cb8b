/*
 * sim-npu.c - the simulated Hailo-10H's one NPU, which the manager's lanes
 * share: every inference of the sim is a series of device operations
 * (sim_npu_run), and the operations of all threads take turns on the chip.
 *
 * DESIGN: the chip runs one operation at a time.  An operation waits for
 * the chip in arrival order (a FIFO of waiters, so two lanes alternate op by
 * op when both want it), then, when the chip last ran another network, pays
 * device time to bring this one's context in (switch_ms; by default a tenth
 * of the operation's own time, so zero-latency configurations stay
 * instant), then holds the chip for its own time.  A generation is one operation per token (and its
 * prefill a few), a dense inference one operation (OCR recognition one per
 * crop), so a CLIP request arriving during a VLM answer waits at most for
 * the token in progress, and the VLM loses exactly the time the CLIP request
 * and its two switches took: its tokens/s drops by the share of device time
 * the short jobs used.  Loads do not take the chip (weights are copied
 * while it computes).  All times are scaled by latency_scale; at 0 the chip
 * is never waited for (it has nothing to share) and only the stop
 * conditions and the device-lost flag are checked.  The figures (busy time
 * per lane, switches, waits) are what the benchmark compares the lanes'
 * throughput with (status "device_time").
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend-sim.h"
#include "hooks.h"

/* How often a waiter looks at its stop conditions (cancel, deadline). */
#define NPU_WAIT_SLICE_NS (5 * 1000 * 1000L)

typedef struct npu_waiter {
    struct npu_waiter *next;
} npu_waiter;

/* Figures per lane: 0 dense, 1 genai. */
typedef struct npu_lane_figures {
    int64_t busy_ns;   /* holding the chip for its own work */
    int64_t switch_ns; /* switching the chip to its networks */
    int64_t wait_ns;   /* waiting for the chip */
    uint64_t ops, switches;
} npu_lane_figures;

struct sim_npu {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* the chip was released or a waiter left */
    bool busy;
    npu_waiter *head, *tail; /* waiting, in arrival order */
    int n_waiting;
    const backend_model *ctx_model; /* whose network the chip last ran */
    int ctx_net;
    npu_lane_figures lane[2];
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int sim_npu_new(sim_npu **out)
{
    sim_npu *n = calloc(1, sizeof(*n));
    if (!n)
        return -HDM_E_NOMEM;
    pthread_condattr_t attr;
    bool ok = pthread_condattr_init(&attr) == 0;
    ok = ok && pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0;
    ok = ok && pthread_cond_init(&n->cv, &attr) == 0;
    pthread_condattr_destroy(&attr);
    if (!ok || pthread_mutex_init(&n->mu, NULL) != 0) {
        free(n);
        return -HDM_E_INTERNAL;
    }
    *out = n;
    return 0;
}

void sim_npu_free(sim_npu *n)
{
    if (!n)
        return;
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->mu);
    free(n);
}

static void unlink_waiter(sim_npu *n, npu_waiter *w)
{
    npu_waiter **pp = &n->head, *prev = NULL;
    while (*pp && *pp != w) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = w->next;
    if (n->tail == w)
        n->tail = prev;
}

/* Waits for the chip in arrival order (n->mu held); 0 when it is ours, or a
 * stop condition of hooks (we left the queue). */
static int take_chip(sim_npu *n, const infer_hooks *hooks, hdm_err *err)
{
    npu_waiter w = {.next = NULL};
    if (n->tail)
        n->tail->next = &w;
    else
        n->head = &w;
    n->tail = &w;
    n->n_waiting++;
    while (n->busy || n->head != &w) {
        int rc = hooks_check(hooks, err);
        if (rc < 0) {
            unlink_waiter(n, &w);
            n->n_waiting--;
            pthread_cond_broadcast(&n->cv); /* the next in line may be first now */
            return rc;
        }
        int64_t until = now_ns() + NPU_WAIT_SLICE_NS;
        struct timespec ts = {.tv_sec = until / 1000000000LL, .tv_nsec = until % 1000000000LL};
        pthread_cond_timedwait(&n->cv, &n->mu, &ts);
    }
    unlink_waiter(n, &w);
    n->n_waiting--;
    n->busy = true;
    return 0;
}

int sim_npu_run(const backend *b, const backend_model *m, int net, double ms,
                const infer_hooks *hooks, hdm_err *err)
{
    sim_npu *n = b->npu;
    if (atomic_load(&b->lost))
        return sim_device_lost_error(err);
    if (b->cfg.latency_scale <= 0 || !n)
        return hooks_check(hooks, err);

    int lane = model_kind_uses_genai_lane(m->kind) ? 1 : 0;
    int64_t t0 = now_ns();
    pthread_mutex_lock(&n->mu);
    int rc = take_chip(n, hooks, err);
    if (rc < 0) {
        pthread_mutex_unlock(&n->mu);
        return rc;
    }
    bool switching = n->ctx_model != m || n->ctx_net != net;
    n->ctx_model = m;
    n->ctx_net = net;
    pthread_mutex_unlock(&n->mu);

    int64_t t1 = now_ns(), t2 = t1;
    if (switching) {
        /* Bringing this network's context onto the chip takes device time. */
        double sw = b->cfg.switch_ms >= 0 ? b->cfg.switch_ms : ms * SIM_SWITCH_AUTO_FRACTION;
        rc = sim_sleep(b, sw, hooks, err);
        t2 = now_ns();
    }
    if (rc == 0)
        rc = sim_sleep(b, ms, hooks, err);
    int64_t t3 = now_ns();

    pthread_mutex_lock(&n->mu);
    npu_lane_figures *f = &n->lane[lane];
    f->wait_ns += t1 - t0;
    f->switch_ns += t2 - t1;
    f->busy_ns += t3 - t2;
    f->ops++;
    f->switches += switching;
    n->busy = false;
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
    if (rc == 0 && atomic_load(&b->lost))
        rc = sim_device_lost_error(err); /* lost while it ran */
    return rc;
}

void sim_npu_forget(sim_npu *n, const backend_model *m)
{
    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    if (n->ctx_model == m)
        n->ctx_model = NULL; /* a model loaded later at this address pays its switch */
    pthread_mutex_unlock(&n->mu);
}

int sim_npu_json(sim_npu *n, cJSON *out)
{
    static const char *const names[2] = {"dense", "genai"};
    npu_lane_figures f[2];

    pthread_mutex_lock(&n->mu);
    memcpy(f, n->lane, sizeof(f));
    int waiting = n->n_waiting;
    bool busy = n->busy;
    pthread_mutex_unlock(&n->mu);
    if (!cJSON_AddBoolToObject(out, "busy", busy) ||
        !cJSON_AddNumberToObject(out, "waiting", waiting))
        return -HDM_E_NOMEM;
    for (int l = 0; l < 2; l++) {
        cJSON *o = cJSON_AddObjectToObject(out, names[l]);
        if (!o || !cJSON_AddNumberToObject(o, "busy_ms", (double)f[l].busy_ns / 1e6) ||
            !cJSON_AddNumberToObject(o, "switch_ms", (double)f[l].switch_ns / 1e6) ||
            !cJSON_AddNumberToObject(o, "wait_ms", (double)f[l].wait_ns / 1e6) ||
            !cJSON_AddNumberToObject(o, "operations", (double)f[l].ops) ||
            !cJSON_AddNumberToObject(o, "switches", (double)f[l].switches))
            return -HDM_E_NOMEM;
    }
    return 0;
}
