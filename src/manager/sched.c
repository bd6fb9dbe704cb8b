/*
 * sched.c - the queue of device work: submit, pick the next job, cancel,
 * expire, shut down.  Figures, status and metrics live in sched-stats.c.
 *
 * DESIGN: all queued jobs sit in one arrival-ordered list of pool entries
 * (at most max_queue, so no allocation on submit and every scan is short).
 * Picking the next job (fair mode) is a scan:
 *   1. the effective class of a job is its class minus one per aging_ms
 *      waited (never above realtime); the best class present wins;
 *   2. inside that class the client served longest ago wins (its earliest
 *      job), so clients alternate one job each whatever their queue length;
 *   3. affinity: if that job needs a model that is not resident while jobs
 *      of the same class for resident models wait, one of those (picked by
 *      the same round-robin) runs first, at most affinity_max_jobs in a row
 *      and for at most affinity_max_ms since the first bypass.
 * Residency is asked through a callback outside our lock: sched_next copies
 * the distinct models of the best class, unlocks, asks, relocks and picks
 * again with the answers.  Residency may change meanwhile on another lane's
 * worker (an eviction for its load): an answer that went stale only makes
 * one affinity choice less good, never wrong, since the registry loads what
 * the job needs whatever the scheduler guessed.
 * Lanes: every scan below looks only at the entries of the taker's lanes
 * (the mask it passed), so two workers pick independently from one list;
 * each taker mask has its own affinity streak.  Submit wakes one taker that
 * may run the job (a condition per mask).
 * Deadlines: a reaper thread sleeps until the earliest queued deadline and
 * completes expired jobs, so a caller hears deadline_exceeded on time even
 * while the worker is busy with a long job.  Completion callbacks always run
 * without our lock held.
 */
#include "manager/sched-internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/timeutil.h"

void sched_config_defaults(sched_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->mode = SCHED_FAIR;
    cfg->max_queue = 256;
    cfg->max_queue_per_client = 64;
    cfg->aging_ms = 2000;
    cfg->affinity_max_jobs = 8;
    cfg->affinity_max_ms = 1000;
}

sched_lane sched_job_lane(const job *j)
{
    return (unsigned)j->kind < MODEL_KIND__COUNT && model_kind_uses_genai_lane(j->kind)
               ? SCHED_LANE_GENAI
               : SCHED_LANE_DENSE;
}

const char *sched_lane_name(sched_lane lane)
{
    return lane == SCHED_LANE_GENAI ? "genai" : "dense";
}

int sched_mode_parse(const char *name, sched_mode *out)
{
    if (name && strcmp(name, "fair") == 0)
        *out = SCHED_FAIR;
    else if (name && strcmp(name, "fifo") == 0)
        *out = SCHED_FIFO;
    else
        return -1;
    return 0;
}

/* ---- small helpers (s->mu held unless noted) ---- */

static void abs_timespec(int64_t mono_deadline_ms, struct timespec *ts)
{
    ts->tv_sec = (time_t)(mono_deadline_ms / 1000);
    ts->tv_nsec = (long)((mono_deadline_ms % 1000) * 1000000L);
}

static void entry_unlink(sched *s, sched_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        s->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        s->tail = e->prev;
    s->depth--;
    s->depth_by_prio[e->j->priority]--;
    s->depth_by_lane[e->lane]--;
    e->c->queued--;
    e->j = NULL;
    e->c = NULL;
    e->prev = NULL;
    e->next = s->free_entries;
    s->free_entries = e;
}

/* Pushes j on a local list of jobs to complete after unlocking. */
static void finish_push(job **list, job *j, int code, const char *fmt_msg)
{
    j->rc = -code;
    hdm_err_set(&j->err, code, "%s", fmt_msg);
    j->finished_ms = mono_ms();
    j->next = *list;
    *list = j;
}

/* Calls the completion callback for each job of a local list (no lock held). */
static void finish_list(sched *s, job *list)
{
    /* The list was built by pushing; complete in the original order. */
    job *rev = NULL;
    while (list) {
        job *n = list->next;
        list->next = rev;
        rev = list;
        list = n;
    }
    while (rev) {
        job *n = rev->next;
        rev->next = NULL;
        s->complete(s->ctx, rev);
        rev = n;
    }
}

/* Removes queued jobs whose deadline has passed; returns them as a list. */
static job *purge_expired(sched *s, int64_t now)
{
    job *list = NULL;
    sched_entry *e = s->head;

    while (e) {
        sched_entry *n = e->next;
        job *j = e->j;
        if (j->deadline_ms > 0 && j->deadline_ms <= now) {
            char msg[96];
            snprintf(msg, sizeof msg, "deadline exceeded after %lld ms in queue",
                     (long long)(now - j->received_ms));
            s->deadline_expired++;
            sched_count_result(s, e->c, -HDM_E_DEADLINE_EXCEEDED);
            entry_unlink(s, e);
            finish_push(&list, j, HDM_E_DEADLINE_EXCEEDED, msg);
        }
        e = n;
    }
    return list;
}

static int64_t earliest_deadline(const sched *s)
{
    int64_t best = 0;
    for (const sched_entry *e = s->head; e; e = e->next)
        if (e->j->deadline_ms > 0 && (best == 0 || e->j->deadline_ms < best))
            best = e->j->deadline_ms;
    return best;
}

static int effective_class(const sched *s, const job *j, int64_t now)
{
    int cls = (int)j->priority;
    if (s->cfg.aging_ms > 0 && now > j->received_ms) {
        int64_t steps = (now - j->received_ms) / s->cfg.aging_ms;
        cls = steps >= cls ? 0 : cls - (int)steps;
    }
    return cls;
}

/* ---- residency answers for affinity ---- */

#define AFFINITY_MODELS 16

typedef struct resident_map {
    struct {
        model_kind kind;
        char *path;
        bool resident;
    } m[AFFINITY_MODELS];
    size_t n;
    bool built;
} resident_map;

/* 1 resident, 0 not, -1 unknown (not asked). */
static int map_lookup(const resident_map *map, const job *j)
{
    for (size_t i = 0; i < map->n; i++)
        if (map->m[i].kind == j->kind && strcmp(map->m[i].path, j->model_path) == 0)
            return map->m[i].resident;
    return -1;
}

static void map_add(resident_map *map, const job *j)
{
    if (map->n >= AFFINITY_MODELS || !j->model_path || map_lookup(map, j) >= 0)
        return;
    char *p = strdup(j->model_path);
    if (!p)
        return; /* unknown residency just disables affinity for it */
    map->m[map->n].kind = j->kind;
    map->m[map->n].path = p;
    map->m[map->n].resident = false;
    map->n++;
}

static void map_free(resident_map *map)
{
    for (size_t i = 0; i < map->n; i++)
        free(map->m[i].path);
    map->n = 0;
}

/* ---- picking ---- */

static bool in_lanes(const sched_entry *e, unsigned lanes)
{
    return (lanes >> e->lane) & 1u;
}

static int best_class(const sched *s, unsigned lanes, int64_t now)
{
    int best = PRIO__COUNT;
    for (const sched_entry *e = s->head; e && best > 0; e = e->next) {
        if (!in_lanes(e, lanes))
            continue;
        int c = effective_class(s, e->j, now);
        if (c < best)
            best = c;
    }
    return best;
}

/* Round-robin inside class cls: the entry whose client was served longest
 * ago, earliest first.  With `map`, only jobs known to be resident. */
static sched_entry *pick_rr(const sched *s, unsigned lanes, int cls, int64_t now,
                            const resident_map *map)
{
    sched_entry *best = NULL;
    for (sched_entry *e = s->head; e; e = e->next) {
        if (!in_lanes(e, lanes) || effective_class(s, e->j, now) != cls)
            continue;
        if (map && map_lookup(map, e->j) != 1)
            continue;
        if (!best || e->c->last_turn[cls] < best->c->last_turn[cls])
            best = e; /* list is in arrival order: ties keep the earlier */
    }
    return best;
}

/* Whether affinity may still bypass a head job that needs a swap (the
 * streak of taker mask `lanes`). */
static bool affinity_budget(const sched *s, unsigned lanes, int64_t now)
{
    int streak = s->affinity_streak[lanes];
    if (s->cfg.affinity_max_jobs <= 0 || streak >= s->cfg.affinity_max_jobs)
        return false;
    if (streak > 0 && now - s->affinity_since_ms[lanes] >= s->cfg.affinity_max_ms)
        return false;
    return true;
}

static bool job_needs_model(const job *j)
{
    return j->action != JOB_UNLOAD && j->model_path;
}

/*
 * Picks the next entry among the lanes of mask `lanes`.  Returns NULL with
 * *need_map set when residency answers are needed first (the caller fills
 * map and calls again); NULL without it when none of those lanes has work.
 */
static sched_entry *pick(sched *s, unsigned lanes, int64_t now, resident_map *map, bool *need_map)
{
    *need_map = false;
    if (s->cfg.mode == SCHED_FIFO) {
        for (sched_entry *e = s->head; e; e = e->next)
            if (in_lanes(e, lanes))
                return e;
        return NULL;
    }

    int cls = best_class(s, lanes, now);
    if (cls >= PRIO__COUNT)
        return NULL;
    sched_entry *head = pick_rr(s, lanes, cls, now, NULL);
    sched_entry *chosen = head;
    bool bypass_possible =
        s->resident && job_needs_model(head->j) && affinity_budget(s, lanes, now);

    if (bypass_possible) {
        /* Is there anything else in this class at all? */
        bool others = false;
        for (sched_entry *e = s->head; e && !others; e = e->next)
            others = e != head && in_lanes(e, lanes) && effective_class(s, e->j, now) == cls;
        if (!others) {
            bypass_possible = false;
        } else if (!map->built) {
            map_add(map, head->j);
            for (sched_entry *e = s->head; e; e = e->next)
                if (in_lanes(e, lanes) && effective_class(s, e->j, now) == cls &&
                    job_needs_model(e->j))
                    map_add(map, e->j);
            *need_map = true;
            return NULL;
        }
    }
    if (bypass_possible && map_lookup(map, head->j) == 0) {
        sched_entry *alt = pick_rr(s, lanes, cls, now, map);
        if (alt) {
            if (s->affinity_streak[lanes] == 0)
                s->affinity_since_ms[lanes] = now;
            s->affinity_streak[lanes]++;
            s->affinity_picks++;
            chosen = alt;
        }
    }
    if (chosen == head)
        s->affinity_streak[lanes] = 0;
    chosen->c->last_turn[cls] = ++s->turn;
    return chosen;
}

/* Wakes one taker that may run a job of `lane`: the one waiting for that
 * lane alone first, then any whose mask holds it. */
static void wake_taker(sched *s, sched_lane lane)
{
    unsigned exact = 1u << lane;
    if (s->takers[exact] > 0) {
        pthread_cond_signal(&s->take_cv[exact]);
        return;
    }
    for (unsigned mask = 1; mask <= SCHED_LANES_ALL; mask++)
        if ((mask & exact) && s->takers[mask] > 0) {
            pthread_cond_signal(&s->take_cv[mask]);
            return;
        }
}

static void wake_all_takers(sched *s)
{
    for (unsigned mask = 1; mask <= SCHED_LANES_ALL; mask++)
        pthread_cond_broadcast(&s->take_cv[mask]);
}

/* ---- reaper ---- */

static void *reaper_main(void *arg)
{
    sched *s = arg;

    pthread_mutex_lock(&s->mu);
    while (!s->stop_reaper) {
        int64_t now = mono_ms();
        job *expired = purge_expired(s, now);
        if (expired) {
            pthread_mutex_unlock(&s->mu);
            finish_list(s, expired);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        int64_t next = earliest_deadline(s);
        if (next == 0) {
            pthread_cond_wait(&s->reaper_cv, &s->mu);
        } else {
            struct timespec ts;
            abs_timespec(next, &ts);
            pthread_cond_timedwait(&s->reaper_cv, &s->mu, &ts);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- lifecycle ---- */

static int cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc)
        return rc;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (!rc)
        rc = pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

int sched_new_err(const sched_config *cfg, sched_complete_fn complete, sched_resident_fn resident,
                  void *ctx, sched **out, hdm_err *err)
{
    sched *s = NULL;
    int rc;

    if (!cfg || !complete || !out)
        return hdm_err_set(err, HDM_E_INTERNAL, "sched_new: missing config or callback");
    if (cfg->max_queue == 0 || cfg->max_queue_per_client == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "scheduler queue limits must be at least 1 (max_queue %zu, "
                           "max_queue_per_client %zu)",
                           cfg->max_queue, cfg->max_queue_per_client);
    if (cfg->max_queue > 1000000)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "max_queue %zu is above 1000000",
                           cfg->max_queue);
    if (cfg->aging_ms < 0 || cfg->affinity_max_jobs < 0 || cfg->affinity_max_ms < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "aging_ms, affinity_max_jobs and affinity_max_ms must not be negative");
    for (int p = 0; p < PRIO__COUNT; p++)
        if (cfg->default_deadline_ms[p] < 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "default deadline for %s must not be negative",
                               job_priority_name((job_priority)p));

    s = calloc(1, sizeof *s);
    if (!s)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory creating the scheduler");
    s->cfg = *cfg;
    s->cfg.client_priority = NULL; /* parsed into s->rules; not kept */
    s->cfg.n_client_priority = 0;
    s->complete = complete;
    s->resident = resident;
    s->ctx = ctx;
    rc = sched_rules_parse(s, cfg, err);
    if (rc)
        goto fail_early;
    s->pool = calloc(cfg->max_queue, sizeof *s->pool);
    if (!s->pool) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory for a queue of %zu", cfg->max_queue);
        goto fail_early;
    }
    for (size_t i = cfg->max_queue; i-- > 0;) {
        s->pool[i].next = s->free_entries;
        s->free_entries = &s->pool[i];
    }
    bool locks_ok = pthread_mutex_init(&s->mu, NULL) == 0 && cond_init_mono(&s->reaper_cv) == 0;
    for (unsigned mask = 0; mask <= SCHED_LANES_ALL; mask++)
        locks_ok = locks_ok && cond_init_mono(&s->take_cv[mask]) == 0;
    if (!locks_ok) {
        rc = hdm_err_set(err, HDM_E_INTERNAL, "cannot initialise scheduler locks");
        goto fail_early;
    }
    if (pthread_create(&s->reaper, NULL, reaper_main, s) != 0) {
        rc = hdm_err_set(err, HDM_E_INTERNAL, "cannot start the deadline thread: %s",
                         strerror(errno));
        pthread_mutex_destroy(&s->mu);
        for (unsigned mask = 0; mask <= SCHED_LANES_ALL; mask++)
            pthread_cond_destroy(&s->take_cv[mask]);
        pthread_cond_destroy(&s->reaper_cv);
        goto fail_early;
    }
    s->reaper_started = true;
    *out = s;
    return 0;

fail_early:
    free(s->pool);
    free(s->rules);
    free(s);
    return rc;
}

int sched_new(const sched_config *cfg, sched_complete_fn complete, sched_resident_fn resident,
              void *ctx, sched **out)
{
    hdm_err err = {0};
    int rc = sched_new_err(cfg, complete, resident, ctx, out, &err);
    if (rc)
        log_error("scheduler: %s", err.msg);
    return rc;
}

void sched_free(sched *s)
{
    if (!s)
        return;
    sched_shutdown(s);
    pthread_mutex_lock(&s->mu);
    s->stop_reaper = true;
    pthread_cond_broadcast(&s->reaper_cv);
    pthread_mutex_unlock(&s->mu);
    if (s->reaper_started)
        pthread_join(s->reaper, NULL);
    pthread_mutex_destroy(&s->mu);
    for (unsigned mask = 0; mask <= SCHED_LANES_ALL; mask++)
        pthread_cond_destroy(&s->take_cv[mask]);
    pthread_cond_destroy(&s->reaper_cv);
    sched_clients_free(s);
    free(s->rules);
    free(s->pool);
    free(s);
}

/* ---- submit / next ---- */

/* Milliseconds until a job of `lane` could get a queue slot.  With parallel
 * lanes a lane's jobs wait only behind that lane's queue and running job. */
static int busy_estimate_ms(const sched *s, sched_lane lane, bool per_client)
{
    bool parallel = s->cfg.parallel_lanes;
    double mean = parallel ? sched_lane_service_ms(s, lane) : sched_mean_service_ms(s);
    double ahead = (double)(parallel ? s->depth_by_lane[lane] : s->depth);

    if (per_client) {
        /* Round-robin: one of this client's jobs leaves per round of active
         * clients, so a slot frees after about one round. */
        size_t active = 0;
        for (const sched_client *k = s->clients; k; k = k->next)
            active += k->queued > 0;
        if ((double)active < ahead)
            ahead = (double)active;
    }
    double est = ahead * mean;
    if (parallel ? s->running_by_lane[lane] > 0 : s->n_running > 0)
        est += mean / 2; /* the job in hand is half done on average */
    if (est < 1)
        est = 1;
    if (est > INT_MAX / 2)
        est = INT_MAX / 2;
    return (int)(est + 0.5);
}

int sched_submit(sched *s, job *j)
{
    int rc = 0;
    bool wake_reaper;

    if (!j->client_name[0])
        snprintf(j->client_name, sizeof j->client_name, "anonymous");
    if ((unsigned)j->priority >= PRIO__COUNT)
        j->priority = PRIO_NORMAL;
    if (j->received_ms == 0)
        j->received_ms = mono_ms();
    if (j->deadline_ms == 0 && s->cfg.default_deadline_ms[j->priority] > 0)
        j->deadline_ms = j->received_ms + s->cfg.default_deadline_ms[j->priority];

    pthread_mutex_lock(&s->mu);
    if (s->shutdown) {
        rc = hdm_err_set(&j->err, HDM_E_UNAVAILABLE, "Device manager is shutting down");
        goto out;
    }
    sched_client *c = sched_client_get(s, j->client_name);
    if (!c) {
        rc = hdm_err_set(&j->err, HDM_E_NOMEM, "out of memory queueing the request");
        goto out;
    }
    c->last_active_ms = mono_ms();
    sched_lane lane = sched_job_lane(j);
    if (s->depth >= s->cfg.max_queue || !s->free_entries) {
        j->retry_after_ms = busy_estimate_ms(s, lane, false);
        rc = hdm_err_set(&j->err, HDM_E_BUSY,
                         "Device queue is full (%zu jobs queued); retry after %d ms", s->depth,
                         j->retry_after_ms);
    } else if (c->queued >= s->cfg.max_queue_per_client) {
        j->retry_after_ms = busy_estimate_ms(s, lane, true);
        rc = hdm_err_set(&j->err, HDM_E_BUSY,
                         "Client %s has %zu jobs queued (limit %zu); retry after %d ms", c->name,
                         c->queued, s->cfg.max_queue_per_client, j->retry_after_ms);
    }
    if (rc) {
        s->busy_rejections++;
        sched_count_result(s, c, rc);
        goto out;
    }
    sched_entry *e = s->free_entries;
    s->free_entries = e->next;
    e->j = j;
    e->c = c;
    e->seq = ++s->seq;
    e->lane = lane;
    e->next = NULL;
    e->prev = s->tail;
    if (s->tail)
        s->tail->next = e;
    else
        s->head = e;
    s->tail = e;
    s->depth++;
    s->depth_by_prio[j->priority]++;
    s->depth_by_lane[lane]++;
    c->queued++;
    j->next = NULL;
    wake_reaper = j->deadline_ms > 0;
    wake_taker(s, lane);
    if (wake_reaper)
        pthread_cond_signal(&s->reaper_cv);
out:
    if (rc)
        j->rc = rc;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

job *sched_next(sched *s, int wait_ms)
{
    return sched_next_lanes(s, SCHED_LANES_ALL, wait_ms);
}

job *sched_next_lanes(sched *s, unsigned lanes, int wait_ms)
{
    int64_t give_up = wait_ms >= 0 ? mono_ms() + wait_ms : 0;
    resident_map map = {.n = 0, .built = false};
    job *j = NULL;

    lanes &= SCHED_LANES_ALL;
    if (lanes == 0)
        return NULL;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        int64_t now = mono_ms();
        job *expired = purge_expired(s, now);
        if (expired) {
            pthread_mutex_unlock(&s->mu);
            finish_list(s, expired);
            pthread_mutex_lock(&s->mu);
            continue;
        }
        if (s->shutdown)
            break;
        bool need_map = false;
        sched_entry *e = s->head ? pick(s, lanes, now, &map, &need_map) : NULL;
        if (e || need_map) {
            if (need_map) {
                /* Ask outside our lock; see the DESIGN note. */
                pthread_mutex_unlock(&s->mu);
                for (size_t i = 0; i < map.n; i++)
                    map.m[i].resident = s->resident(s->ctx, map.m[i].kind, map.m[i].path);
                map.built = true;
                pthread_mutex_lock(&s->mu);
                continue;
            }
            j = e->j;
            double waited = (double)(now - j->received_ms);
            stats_hist_add(&e->c->wait, waited);
            if ((unsigned)j->kind < MODEL_KIND__COUNT)
                stats_hist_add(&s->wait_by_kind[j->kind], waited);
            e->c->last_active_ms = now;
            entry_unlink(s, e);
            break;
        }
        if (wait_ms == 0 || (wait_ms > 0 && now >= give_up))
            break;
        s->takers[lanes]++;
        if (wait_ms < 0) {
            pthread_cond_wait(&s->take_cv[lanes], &s->mu);
        } else {
            struct timespec ts;
            abs_timespec(give_up, &ts);
            pthread_cond_timedwait(&s->take_cv[lanes], &s->mu, &ts);
        }
        s->takers[lanes]--;
        /* New jobs may need models the residency answers do not cover. */
        map_free(&map);
        map.built = false;
    }
    pthread_mutex_unlock(&s->mu);
    map_free(&map);
    return j;
}

void sched_running_begin(sched *s, job *j)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < SCHED_MAX_RUNNING; i++)
        if (!s->running[i]) {
            s->running[i] = j;
            s->n_running++;
            s->running_by_lane[sched_job_lane(j)]++;
            break;
        }
    pthread_mutex_unlock(&s->mu);
}

void sched_running_end(sched *s, job *j)
{
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < SCHED_MAX_RUNNING; i++)
        if (s->running[i] == j) {
            s->running[i] = NULL;
            s->n_running--;
            s->running_by_lane[sched_job_lane(j)]--;
            break;
        }
    pthread_mutex_unlock(&s->mu);
}

size_t sched_running_count(sched *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->n_running;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* ---- cancellation and shutdown ---- */

bool sched_cancel_running(sched *s)
{
    pthread_mutex_lock(&s->mu);
    bool any = false;
    for (size_t i = 0; i < SCHED_MAX_RUNNING; i++)
        if (s->running[i]) {
            atomic_store(&s->running[i]->cancelled, true);
            any = true;
        }
    pthread_mutex_unlock(&s->mu);
    return any;
}

size_t sched_cancel_conn(sched *s, uint64_t conn_id)
{
    job *list = NULL;
    size_t n = 0;

    pthread_mutex_lock(&s->mu);
    for (sched_entry *e = s->head; e;) {
        sched_entry *next = e->next;
        if (e->j->conn_id == conn_id) {
            job *j = e->j;
            sched_count_result(s, e->c, -HDM_E_CANCELLED);
            entry_unlink(s, e);
            finish_push(&list, j, HDM_E_CANCELLED, "cancelled: the client disconnected");
            n++;
        }
        e = next;
    }
    s->cancel_disconnect += n;
    /* A running job of a vanished client stops at its next step (VLM tokens). */
    for (size_t i = 0; i < SCHED_MAX_RUNNING; i++)
        if (s->running[i] && s->running[i]->conn_id == conn_id)
            atomic_store(&s->running[i]->cancelled, true);
    pthread_mutex_unlock(&s->mu);
    if (n)
        log_debug("scheduler: dropped %zu queued job(s) of closed connection %llu", n,
                  (unsigned long long)conn_id);
    finish_list(s, list);
    return n;
}

int sched_cancel_request(sched *s, uint64_t conn_id, const cJSON *target)
{
    job *list = NULL;
    int rc = -HDM_E_NOT_FOUND;

    if (!target)
        return rc;
    pthread_mutex_lock(&s->mu);
    for (sched_entry *e = s->head; e; e = e->next) {
        job *j = e->j;
        if (j->conn_id == conn_id && j->request_id && cJSON_Compare(j->request_id, target, true)) {
            char msg[128], id[72];
            snprintf(msg, sizeof msg, "Request %s cancelled",
                     job_request_id_text(j, id, sizeof id));
            sched_count_result(s, e->c, -HDM_E_CANCELLED);
            entry_unlink(s, e);
            finish_push(&list, j, HDM_E_CANCELLED, msg);
            s->cancel_request++;
            rc = 0;
            break;
        }
    }
    for (size_t i = 0; rc && i < SCHED_MAX_RUNNING; i++) {
        job *r = s->running[i];
        if (r && r->conn_id == conn_id && r->request_id &&
            cJSON_Compare(r->request_id, target, true)) {
            atomic_store(&r->cancelled, true);
            s->cancel_request++;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&s->mu);
    finish_list(s, list);
    return rc;
}

void sched_shutdown(sched *s)
{
    job *list = NULL;
    size_t n = 0;

    pthread_mutex_lock(&s->mu);
    s->shutdown = true;
    while (s->head) {
        sched_entry *e = s->head;
        job *j = e->j;
        sched_count_result(s, e->c, -HDM_E_CANCELLED);
        entry_unlink(s, e);
        finish_push(&list, j, HDM_E_CANCELLED, "Device manager is shutting down");
        n++;
    }
    s->cancel_shutdown += n;
    wake_all_takers(s);
    pthread_cond_broadcast(&s->reaper_cv);
    pthread_mutex_unlock(&s->mu);
    finish_list(s, list);
}

bool sched_is_shutdown(sched *s)
{
    pthread_mutex_lock(&s->mu);
    bool v = s->shutdown;
    pthread_mutex_unlock(&s->mu);
    return v;
}

size_t sched_depth(const sched *s)
{
    sched *m = (sched *)s; /* the lock is not part of the logical state */
    pthread_mutex_lock(&m->mu);
    size_t d = m->depth;
    pthread_mutex_unlock(&m->mu);
    return d;
}
