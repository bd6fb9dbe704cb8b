/*
 * image_gate.c - how many decodes run at once in this process.
 *
 * DESIGN: a decode takes a slot once its header is read (so the gate knows
 * the size) and the decoded image keeps it until image_free, which bounds
 * both the CPU the decoders use and the memory of the pixels they hold.
 * Large decodes (more than heavy_pixels source pixels) also need one of
 * heavy_slots, so a few huge or hostile images queue behind each other and
 * ordinary images keep the remaining slots: under a flood of large images
 * a normal request still finds a slot.  Each class is served first come,
 * first served (tickets).  A large decode that finds max_heavy_waiting
 * others already waiting is refused at once (BUSY): waiting holds one of
 * the service's request threads, and those must stay free for ordinary
 * requests.  Nobody waits longer than wait_ms.
 */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "image/image_internal.h"

enum { SLOT_NONE, SLOT_NORMAL, SLOT_HEAVY };

/* A thread waiting for a slot (on its own stack), in its class's queue. */
typedef struct gate_waiter {
    struct gate_waiter *next;
} gate_waiter;

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond;
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;
static image_gate_config gate_cfg;
static int active, heavy_active, waiting, heavy_waiting;
static gate_waiter *queue[2]; /* per class (0 normal, 1 heavy), first come first */

void image_gate_config_defaults(image_gate_config *c)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    c->slots = cpus < 2 ? 2 : cpus > 8 ? 8 : (int)cpus;
    c->heavy_pixels = 4000000;
    c->heavy_slots = 1;
    c->max_heavy_waiting = 2;
    c->wait_ms = 10000;
}

static void gate_init(void)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&gate_cond, &attr);
    pthread_condattr_destroy(&attr);
    image_gate_config_defaults(&gate_cfg);
}

int image_gate_configure(const image_gate_config *c, hdm_err *err)
{
    if (c->slots < 1 || c->slots > 1024)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "image gate: slots %d is out of range (1-1024)",
                           c->slots);
    if (c->heavy_slots < 1 || c->heavy_slots > c->slots)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "image gate: heavy_slots %d must be between 1 and slots (%d)",
                           c->heavy_slots, c->slots);
    if (c->max_heavy_waiting < 0 || c->wait_ms < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "image gate: max_heavy_waiting and wait_ms must not be negative");
    pthread_once(&gate_once, gate_init);
    pthread_mutex_lock(&gate_lock);
    gate_cfg = *c;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    return 0;
}

void image_gate_usage(int *active_out, int *waiting_out)
{
    pthread_once(&gate_once, gate_init);
    pthread_mutex_lock(&gate_lock);
    if (active_out)
        *active_out = active;
    if (waiting_out)
        *waiting_out = waiting;
    pthread_mutex_unlock(&gate_lock);
}

/* Whether `w` (NULL: a newcomer) may take a slot of its class now. */
static bool may_enter(int heavy, const gate_waiter *w)
{
    if (queue[heavy] != w || active >= gate_cfg.slots)
        return false;
    return !heavy || heavy_active < gate_cfg.heavy_slots;
}

static void queue_remove(int heavy, gate_waiter *w)
{
    for (gate_waiter **p = &queue[heavy]; *p != NULL; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            return;
        }
}

static void deadline_in(int ms, struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

int image_gate_enter(uint64_t pixels, int *slot, hdm_err *err)
{
    pthread_once(&gate_once, gate_init);
    int r = 0;
    pthread_mutex_lock(&gate_lock);
    int heavy = pixels > gate_cfg.heavy_pixels;
    if (!may_enter(heavy, NULL)) {
        if (heavy && heavy_waiting >= gate_cfg.max_heavy_waiting) {
            r = hdm_err_set(err, HDM_E_BUSY,
                            "too many large images are being decoded; try again shortly");
            goto out;
        }
        gate_waiter self = {NULL};
        gate_waiter **tail = &queue[heavy];
        while (*tail != NULL)
            tail = &(*tail)->next;
        *tail = &self;
        waiting++;
        heavy_waiting += heavy;
        struct timespec deadline;
        deadline_in(gate_cfg.wait_ms, &deadline);
        bool ok;
        while (!(ok = may_enter(heavy, &self)))
            if (pthread_cond_timedwait(&gate_cond, &gate_lock, &deadline) != 0) {
                ok = may_enter(heavy, &self);
                break;
            }
        waiting--;
        heavy_waiting -= heavy;
        queue_remove(heavy, &self);
        /* Whoever is now first in line may be able to go. */
        pthread_cond_broadcast(&gate_cond);
        if (!ok) {
            r = hdm_err_set(err, HDM_E_BUSY,
                            "no image decoding slot became free within %d ms; try again",
                            gate_cfg.wait_ms);
            goto out;
        }
    }
    active++;
    heavy_active += heavy;
    *slot = heavy ? SLOT_HEAVY : SLOT_NORMAL;
out:
    pthread_mutex_unlock(&gate_lock);
    return r;
}

void image_gate_leave(int slot)
{
    if (slot == SLOT_NONE)
        return;
    pthread_mutex_lock(&gate_lock);
    active--;
    if (slot == SLOT_HEAVY)
        heavy_active--;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
}
