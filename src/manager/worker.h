/*
 * worker.h - the device worker thread: the only code that calls the backend.
 */
#ifndef HDM_MANAGER_WORKER_H
#define HDM_MANAGER_WORKER_H

#include "registry.h"
#include "sched.h"

typedef struct worker worker;

typedef struct worker_hooks {
    /* Completed job (worker thread): the loop answers it. */
    void (*complete)(void *ctx, job *j);
    /* Streaming text piece for a job (worker thread). */
    void (*delta)(void *ctx, job *j, const char *text, size_t len);
    void *ctx;
} worker_hooks;

/* Starts the thread. */
int worker_start(sched *s, registry *r, const worker_hooks *hooks, worker **out);
/* Waits for the thread to finish the job in hand and exit (after
 * sched_shutdown), then unloads every model. */
void worker_stop(worker *w);

#endif
