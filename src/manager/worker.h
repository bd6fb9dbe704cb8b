/*
 * worker.h - the device's worker threads: the only code that calls the
 * backend's load/infer/unload/reset (through the registry).
 *
 * DESIGN (docs/SCHEDULING.md): one thread per lane of a device when its
 * lanes run in parallel (dense: clip, ocr, depth, pose; genai: vlm, whisper,
 * llm), so a dense job runs while a generation streams; one thread taking
 * every lane otherwise (parallel_genai off: one job at a time, the old
 * behaviour).  A second device would get its own worker, registry and
 * backend handle, taking from the same scheduler.
 */
#ifndef HDM_MANAGER_WORKER_H
#define HDM_MANAGER_WORKER_H

#include <stdbool.h>

#include "registry.h"
#include "sched.h"

typedef struct worker worker;

typedef struct worker_hooks {
    /* Completed job (a worker thread): the loop answers it. */
    void (*complete)(void *ctx, job *j);
    /* Streaming text piece for a job (the worker thread running it; every
     * piece of a job comes from that one thread, in order, before its
     * completion). */
    void (*delta)(void *ctx, job *j, const char *text, size_t len);
    void *ctx;
} worker_hooks;

/* Starts the threads: one per lane when `parallel`, else one for all. */
int worker_start(sched *s, registry *r, const worker_hooks *hooks, bool parallel, worker **out);
/* Threads running (2 or 1). */
int worker_lanes(const worker *w);
/* Waits for the threads to finish the jobs in hand and exit (after
 * sched_shutdown), then unloads every model.  Accepts NULL. */
void worker_stop(worker *w);

#endif
