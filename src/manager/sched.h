/*
 * sched.h - the queue of device work.
 *
 * DESIGN: the loop thread submits; the device worker takes.  Modes:
 * SCHED_FAIR (default): four priority classes served highest first, with
 * aging (a job waiting longer than aging_ms is promoted one class per
 * aging_ms so batch is never starved); inside a class, round-robin between
 * clients (deficit-free fair share: one job per client per turn); model
 * affinity (when the head job needs a model that is not resident and jobs
 * for resident models wait, those go first, at most affinity_max_jobs times
 * in a row and for at most affinity_max_ms).  SCHED_FIFO: arrival order.
 * Bounded: per client and in total; a full queue answers busy at once with
 * retry_after_ms estimated from the queue depth and the mean service time.
 * Jobs whose deadline passed while queued, and jobs cancelled, are completed
 * with deadline_exceeded / cancelled without running.
 *
 * Lanes (docs/SCHEDULING.md): every job belongs to a lane by its model kind,
 * SCHED_LANE_GENAI for the generative kinds (model_kind_uses_genai_lane: vlm,
 * whisper, llm) and SCHED_LANE_DENSE for the rest (clip, ocr, depth, pose).  Each
 * device worker thread takes from a set of lanes (a mask): two threads, one
 * per lane, when parallel_genai is on; one thread taking every lane when it
 * is off.  The policy above applies among the jobs a taker may take, so a
 * dense job never waits behind a generation and the two lanes' priorities,
 * round-robin turns and affinity streaks are their own.  Cancelling,
 * deadlines, bounds and figures see every lane and every running job.
 */
#ifndef HDM_MANAGER_SCHED_H
#define HDM_MANAGER_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "common/buf.h"
#include "job.h"

/*
 * <sched.h> (pulled in by <pthread.h>) defines SCHED_FIFO as the macro 1, so
 * the enum cannot spell it: the FIFO mode is SCHED_MODE_FIFO, and SCHED_FIFO
 * stays usable because both are 1 (checked below).
 */
#include <sched.h>
typedef enum sched_mode { SCHED_FAIR = 0, SCHED_MODE_FIFO = 1 } sched_mode;
#ifndef SCHED_FIFO
#define SCHED_FIFO SCHED_MODE_FIFO
#endif
_Static_assert(SCHED_FIFO == SCHED_MODE_FIFO, "SCHED_FIFO must equal SCHED_MODE_FIFO");

/* Lanes of device work; see the DESIGN note.  A job's lane is GENAI when
 * model_kind_uses_genai_lane(kind) (vlm, whisper, and llm as it lands), else
 * DENSE. */
typedef enum sched_lane {
    SCHED_LANE_DENSE = 0,
    SCHED_LANE_GENAI = 1,
    SCHED_LANE__COUNT
} sched_lane;
/* A taker's set of lanes: bit (1u << lane) per lane. */
#define SCHED_LANES_ALL ((1u << SCHED_LANE__COUNT) - 1u)
/* Most jobs running at once (one per worker thread; several devices later). */
#define SCHED_MAX_RUNNING 8

/* The lane of a job: by its model kind (an unload or load goes to the lane of
 * the model it is about). */
sched_lane sched_job_lane(const job *j);
/* "dense" / "genai". */
const char *sched_lane_name(sched_lane lane);

typedef struct sched_config {
    sched_mode mode;
    size_t max_queue;             /* total queued jobs, default 256 */
    size_t max_queue_per_client;  /* default 64 */
    int aging_ms;                 /* default 2000 */
    int affinity_max_jobs;        /* default 8 */
    int affinity_max_ms;          /* default 1000 */
    int default_deadline_ms[PRIO__COUNT]; /* 0 = none */
    /* Per-client default priority: entries "NAME=class" (client_name) or
     * "uid:N=class" (peer uid); parsed by sched_new, a bad entry is an error. */
    const char **client_priority;
    size_t n_client_priority;
    /* Lanes run in parallel (one worker thread per lane); false: one worker
     * takes every lane, one job at a time.  Used for busy estimates and
     * status only: the takers' masks decide what runs. */
    bool parallel_lanes;
} sched_config;

void sched_config_defaults(sched_config *cfg);
int sched_mode_parse(const char *name, sched_mode *out);

typedef struct sched sched;

/* Called (from any thread) when a job is finished without or after running. */
typedef void (*sched_complete_fn)(void *ctx, job *j);
/* Asked (worker thread, under no scheduler lock) whether a model is resident. */
typedef bool (*sched_resident_fn)(void *ctx, model_kind kind, const char *model_path);

int sched_new(const sched_config *cfg, sched_complete_fn complete, sched_resident_fn resident,
              void *ctx, sched **out);
/* As sched_new, filling *err (e.g. "client_priority[1]: unknown class \"fast\""). */
int sched_new_err(const sched_config *cfg, sched_complete_fn complete,
                  sched_resident_fn resident, void *ctx, sched **out, hdm_err *err);
void sched_free(sched *s);

/*
 * Queues a job (loop thread).  Applies the class default deadline if the job
 * has none.  Returns 0, or -HDM_E_BUSY (j->retry_after_ms set, job NOT taken:
 * the caller answers and frees it).  After sched_shutdown: -HDM_E_UNAVAILABLE
 * (job not taken).  On failure j->rc and j->err are set to the answer.
 */
int sched_submit(sched *s, job *j);
/* The default class for a client: the client_priority entry matching
 * client_name, else the one matching uid, else fallback. */
job_priority sched_default_priority(sched *s, const char *client_name, uid_t uid,
                                    job_priority fallback);
/* Counts a request the loop answered with an error before it reached the
 * queue (bad_request etc.), so per-client and per-code figures are complete. */
void sched_record_rejected(sched *s, const char *client_name, int code);
/* True once sched_shutdown ran (lets the worker tell shutdown from timeout). */
bool sched_is_shutdown(sched *s);
/*
 * Takes the next job of the lanes in `lanes` (a mask of 1u << sched_lane) to
 * run (worker thread), blocking up to wait_ms (-1 forever).  Returns NULL on
 * timeout or after sched_shutdown.
 */
job *sched_next_lanes(sched *s, unsigned lanes, int wait_ms);
/* sched_next_lanes over every lane (one worker for all work). */
job *sched_next(sched *s, int wait_ms);
/* Records a finished run's service time (for busy estimates and stats);
 * also counts the request and, when j->rc != 0, its error code. */
void sched_record_service(sched *s, const job *j, int64_t service_ms);
/* Drops queued jobs of a closed connection: each is completed as cancelled
 * (the loop discards answers to closed connections).  Returns how many. */
size_t sched_cancel_conn(sched *s, uint64_t conn_id);
/* Cancels one queued or running job of conn whose request_id equals target
 * (the same JSON string, or the same text of another JSON value).  Returns
 * 0, or -HDM_E_NOT_FOUND.  A running job gets its cancelled flag set. */
int sched_cancel_request(sched *s, uint64_t conn_id, const cJSON *target);
/* Sets the cancelled flag of every job running now (stopping the manager);
 * true when there was one. */
bool sched_cancel_running(sched *s);
/* Marks j as running (worker) so cancel can reach it, until
 * sched_running_end(s, j); after that the loop may free j. */
void sched_running_begin(sched *s, job *j);
void sched_running_end(sched *s, job *j);
/* Jobs running now (all lanes). */
size_t sched_running_count(sched *s);
/* Wakes the worker and makes sched_next return NULL from now on; queued jobs
 * are completed as cancelled with "Device manager is shutting down". */
void sched_shutdown(sched *s);
size_t sched_depth(const sched *s);
/* Adds queue figures to a status object: queue_depth, queue_by_priority,
 * queue_by_lane, clients [{name, queued, requests, errors, wait_ms
 * {p50,p90,p99}, ...}], scheduler {mode, running, running_by_lane, ...}. */
void sched_status_json(sched *s, cJSON *status);
/* Appends Prometheus text for the queue (depth per class, wait histograms). */
void sched_metrics(sched *s, buf *out);

#endif
