/*
 * job.h - one unit of device work (load_model, infer, unload_model) as it
 * travels loop thread -> scheduler -> device worker -> loop thread.
 *
 * Ownership: the loop thread creates a job (proto.c) and hands it to
 * sched_submit(); from then the scheduler/worker own it until they pass it to
 * the completion callback, after which the loop thread answers and frees it.
 * Fields marked [in] are set before submission and never change; [out] are
 * written by the worker before completion.  `cancelled` is the only field
 * both threads touch while the job is in flight.
 */
#ifndef HDM_MANAGER_JOB_H
#define HDM_MANAGER_JOB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "common/err.h"
#include "modelpath.h"

typedef enum job_action { JOB_LOAD, JOB_INFER, JOB_UNLOAD } job_action;

/* Where a job failed: its answer is worded as the original manager's was
 * ("Failed to load model: ...", "Inference failed: ..."). */
typedef enum job_phase { JOB_PHASE_NONE, JOB_PHASE_LOAD, JOB_PHASE_INFER } job_phase;

typedef enum job_priority {
    PRIO_REALTIME = 0,
    PRIO_INTERACTIVE,
    PRIO_NORMAL,
    PRIO_BATCH,
    PRIO__COUNT
} job_priority;

/* "realtime" ... "batch"; returns 0 or -1. */
int job_priority_parse(const char *name, job_priority *out);
const char *job_priority_name(job_priority p);

typedef struct job {
    /* [in] identity and routing */
    uint64_t id;                 /* unique per manager run */
    uint64_t conn_id;            /* connection that sent it */
    cJSON *request_id;           /* echoed as given: a string item, or a raw item holding
                                    any other JSON value's text; NULL when none */
    bool binary;                 /* answer with a binary frame */
    job_action action;

    /* [in] model */
    model_kind kind;
    char *model_type;            /* as the client spelled it ("vlm" or "vlm_chat") */
    char *model_path;            /* canonical */
    cJSON *model_params;         /* copy, may be NULL */
    char *clip_image_hef, *clip_text_hef, *clip_text_input, *clip_text_output;
    char *ocr_detection_hef;
    cJSON *ocr_recognition_hefs; /* canonical paths */
    cJSON *ocr_batch_sizes;
    bool has_keep_alive;
    double keep_alive;           /* seconds; -1 pinned, 0 unload after use */
    modelpath_dirs *dirs;        /* allowed directories its paths were checked against (a
                                    reference); the backend opens files beneath them */
    struct job_alias {           /* paths as the client wrote them, and where they led */
        char *requested, *canonical;
    } * aliases;                 /* the registry remembers them for the loaded model */
    size_t n_aliases;

    /* [in] inference input (JOB_INFER); tensors point into request_frame or owned buffers */
    infer_input input;
    bool stream;
    void *request_frame;         /* the received bytes tensors point into (freed with the job) */
    void **owned;                /* malloc'd blocks freed with the job */
    size_t n_owned;

    /* [in] scheduling */
    job_priority priority;
    char client_name[64];        /* client_name field, or "uid:<uid>/pid:<pid>" */
    uid_t peer_uid;
    pid_t peer_pid;
    int64_t received_ms;         /* mono_ms() at receipt */
    int64_t deadline_ms;         /* absolute mono_ms(), 0 = none */

    /* shared */
    atomic_bool cancelled;

    /* [out] */
    int rc;                      /* 0 or -HDM_E_* */
    hdm_err err;
    job_phase failed_in;         /* with rc < 0: the step that failed */
    const char *message;         /* load/unload: "Model loaded", "Model already loaded", ... */
    infer_output out;
    int64_t started_ms, finished_ms;
    double load_time_ms;         /* time spent loading for this job (0 when resident) */
    int64_t inference_time_ms;   /* time inside the backend's infer (JOB_INFER) */
    int retry_after_ms;          /* with -HDM_E_BUSY */

    struct job *next;            /* scheduler-private link */
} job;

/* The request_id as text for messages and logs ("r1", or the JSON of a
 * non-string id), truncated to size; "" when none.  Returns buf. */
const char *job_request_id_text(const job *j, char *buf, size_t size);
/* Remembers that `requested` resolved to `canonical` (copies both).
 * 0 or -HDM_E_NOMEM. */
int job_add_alias(job *j, const char *requested, const char *canonical);
/* Builds the canonical model_spec view of a job. */
void job_model_spec(const job *j, model_spec *spec);
/* Frees everything a job owns, then the job.  Accepts NULL. */
void job_free(job *j);

#endif
