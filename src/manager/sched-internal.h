/*
 * sched-internal.h - the scheduler's private state, shared by sched.c (the
 * queue itself) and sched-stats.c (clients, figures, status and metrics).
 * Nothing outside those two files includes this.
 */
#ifndef HDM_MANAGER_SCHED_INTERNAL_H
#define HDM_MANAGER_SCHED_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "manager/sched.h"
#include "manager/stats.h"

/* Clients remembered for figures; idle ones beyond this are recycled. */
#define SCHED_MAX_CLIENTS 256
/* Service-time guess for busy estimates before any job has finished. */
#define SCHED_INITIAL_SERVICE_MS 50.0
/* Weight of the newest service time in the moving average. */
#define SCHED_EWMA_ALPHA 0.2

typedef struct sched_client {
    char name[64];
    size_t queued;
    uint64_t requests, errors;
    uint64_t last_turn[PRIO__COUNT]; /* round-robin: turn number when last served */
    int64_t last_active_ms;
    stats_hist wait, service;
    struct sched_client *next;
} sched_client;

/* A queued job: pool-allocated (max_queue of them), in arrival order. */
typedef struct sched_entry {
    job *j;
    sched_client *c;
    uint64_t seq;
    sched_lane lane;
    struct sched_entry *prev, *next;
} sched_entry;

typedef struct sched_prio_rule {
    bool by_uid;
    uid_t uid;
    char name[64];
    job_priority prio;
} sched_prio_rule;

struct sched {
    sched_config cfg;
    sched_complete_fn complete;
    sched_resident_fn resident;
    void *ctx;

    pthread_mutex_t mu;
    /* Takers wait for jobs on the condition of their lane mask; a submit
     * signals one taker whose mask holds the job's lane (takers[] counts
     * those waiting), so a dense job never wakes the GenAI worker. */
    pthread_cond_t take_cv[SCHED_LANES_ALL + 1];
    int takers[SCHED_LANES_ALL + 1];
    pthread_cond_t reaper_cv; /* reaper waits for the next deadline */
    pthread_t reaper;
    bool reaper_started, stop_reaper;
    bool shutdown;

    sched_entry *pool, *free_entries;
    sched_entry *head, *tail;
    size_t depth;
    size_t depth_by_prio[PRIO__COUNT];
    size_t depth_by_lane[SCHED_LANE__COUNT];
    uint64_t seq, turn;
    job *running[SCHED_MAX_RUNNING]; /* jobs in a worker's hands (NULL slots free) */
    size_t n_running;
    size_t running_by_lane[SCHED_LANE__COUNT];

    sched_client *clients;
    size_t n_clients;
    sched_prio_rule *rules;
    size_t n_rules;

    /* Affinity streak per taker mask: jobs run ahead of a head job that
     * needed a swap. */
    int affinity_streak[SCHED_LANES_ALL + 1];
    int64_t affinity_since_ms[SCHED_LANES_ALL + 1];

    double service_ewma_ms; /* every lane */
    uint64_t service_n;
    double lane_ewma_ms[SCHED_LANE__COUNT];
    uint64_t lane_n[SCHED_LANE__COUNT];

    /* Figures. */
    stats_hist wait_by_kind[MODEL_KIND__COUNT];
    stats_hist service_by_kind[MODEL_KIND__COUNT];
    uint64_t requests_by_code[HDM_E__COUNT]; /* [0] = ok */
    uint64_t cancel_disconnect, cancel_request, cancel_shutdown;
    uint64_t deadline_expired, busy_rejections, affinity_picks;
};

/* sched-stats.c; all called with s->mu held. */
sched_client *sched_client_get(sched *s, const char *name);
void sched_clients_free(sched *s);
/* Counts one finished request for the client and its code. */
void sched_count_result(sched *s, sched_client *c, int rc);
int sched_rules_parse(sched *s, const sched_config *cfg, hdm_err *err);
/* Mean service time used for estimates (ms), over every lane. */
double sched_mean_service_ms(const sched *s);
/* Mean service time of one lane's jobs (the overall mean until it has some). */
double sched_lane_service_ms(const sched *s, sched_lane lane);

#endif
