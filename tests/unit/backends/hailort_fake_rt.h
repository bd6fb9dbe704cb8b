/*
 * hailort_fake_rt.h - a scriptable stand-in for HailoRT behind
 * src/backends/hailort-rt.h, so the HailoRT backend's C code (device
 * lifecycle, memory accounting, error mapping, layouts, batching, VLM
 * streaming, Speech2Text) is tested on machines without HailoRT or a
 * device.  Tests set fields of `fake` and read back what the backend did.
 *
 * It models what HailoRT 5.2 does (read in its source) where the backend
 * depends on it:
 * - a run whose wait times out stays in flight and its late reply is
 *   written into the output buffers (run_keep, fake_complete_late());
 * - a failed run_async shuts the configured model down: every later run on
 *   it fails with HAILO_STREAM_ABORT until it is configured again;
 * - a generation's pieces carry its status; it ends with the model's end
 *   token (<|im_end|>), or on max tokens and abort with the recovery
 *   sequence, and the host reads ahead: an abort leaves pieces queued,
 *   all of them in the context (context usage);
 * - reads wait (prefill_timeouts: HAILO_TIMEOUT answers before the first
 *   piece);
 * - Speech2Text blocks until done whatever its timeout (s2t_block);
 * - query_performance_stats is slow and queued (ram_block), and answers
 *   what it sampled when asked (ram_hold);
 * - optimize_memory_on_device answers HAILO_NOT_IMPLEMENTED (optimize_status).
 * Device status calls may come from the backend's refresher thread: the
 * fake guards its counters with a mutex.
 */
#ifndef HAILORT_FAKE_RT_H
#define HAILORT_FAKE_RT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/hailort-rt.h"

#define FAKE_MAX_STREAMS 4
#define FAKE_MAX_HEFS 10
#define FAKE_MAX_RUNS 32
#define FAKE_MAX_TOKENS 32
#define FAKE_MAX_SEGMENTS 4
#define FAKE_MAX_KEPT 32

/* Statuses the fake can return, with HailoRT 5.2's numbers. */
enum {
    FAKE_INVALID_ARGUMENT = 2,
    FAKE_TIMEOUT = 4,
    FAKE_INVALID_OPERATION = 6,
    FAKE_NOT_IMPLEMENTED = 7,
    FAKE_INTERNAL_FAILURE = 8,
    FAKE_OPEN_FILE_FAILURE = 13,
    FAKE_DRIVER_OPERATION_FAILED = 36,
    FAKE_SHUTDOWN_EVENT_SIGNALED = 57,
    FAKE_COMMUNICATION_CLOSED = 62,
    FAKE_STREAM_ABORT = 63,
    FAKE_NOT_AVAILABLE = 65,
    FAKE_OUT_OF_FW_MEMORY = 71,
    FAKE_DEVICE_IN_USE = 73,
};

typedef struct fake_hef {
    char path[512];
    hrt_stream_info in[FAKE_MAX_STREAMS];
    size_t n_in;
    hrt_stream_info out[FAKE_MAX_STREAMS];
    size_t n_out;
    uint64_t footprint; /* device RAM it takes while open */
    int open_status;    /* hrt_net_open fails with it when non-zero */
} fake_hef;

/* A run HailoRT kept after its wait timed out. */
typedef struct fake_kept {
    void *const *outputs;
    size_t n_outputs;
    size_t sizes[FAKE_MAX_STREAMS * 16];
    hrt_release_fn release;
    void *owner;
    const hrt_net *net;
} fake_kept;

typedef struct fake_rt {
    pthread_mutex_t mu; /* counters touched by the status thread */
    /* device */
    size_t n_devices;
    int scan_status, open_status, identify_status;
    char group_id[64];
    int opens, closes, identify_calls, ram_calls;
    bool has_temperature, has_ram;
    const char *architecture; /* identify's answer; NULL: "HAILO10H" */
    double temperature;
    uint64_t ram_total, ram_used;
    bool ram_block; /* hrt_device_ram waits until fake_unblock_ram() */
    bool ram_waiting;
    pthread_cond_t ram_cv;
    /* The next ram_hold calls sample the RAM when asked, then wait, in turn,
     * for fake_release_ram_one() (a query queued behind inference). */
    int ram_hold, ram_held_now, ram_held_total, ram_released;
    bool closed_during_query; /* hrt_device_close while a held query ran */
    /* InferModel */
    fake_hef hefs[FAKE_MAX_HEFS];
    size_t n_hefs;
    int open_nets, net_opens;
    int run_status;     /* runs fail with it while non-zero ... */
    int run_failures;   /* ... this many times (0: until cleared) */
    unsigned run_flags; /* HRT_RUN_* a failed run reports */
    size_t run_calls, run_frames[FAKE_MAX_RUNS];
    int last_timeout_ms;
    uint16_t last_batch_size;
    uint8_t *last_input; /* copy of the last run's frame 0, input 0 */
    size_t last_input_size;
    fake_kept kept[FAKE_MAX_KEPT];
    size_t n_kept, late_writes, releases;
    /* GenAI (VLM and LLM) */
    int genai_open_status;   /* opens fail with it ... */
    int genai_open_failures; /* ... this many times (0: until cleared) */
    int optimize_status;     /* an open with optimize_memory fails with it */
    int genai_opens, open_genai;
    bool optimize_seen, vlm_seen;
    uint64_t vlm_footprint;
    hrt_stream_info vlm_frame;
    const char *stop_tokens[4]; /* what the model reports as its stop tokens */
    const char *recovery;       /* its recovery sequence */
    const char *eos;            /* its end token, the last piece of a logical end */
    const char *tokens[FAKE_MAX_TOKENS];
    size_t n_tokens;
    int gen_end;    /* HRT_GEN_LOGICAL_END or HRT_GEN_MAX_TOKENS after all tokens */
    int gen_status; /* a read fails with it after gen_fail_after pieces */
    size_t gen_fail_after;
    int start_status, start_stage; /* hrt_genai_start fails so */
    size_t runahead;               /* tokens the device generated past the reader at an abort */
    size_t prefill_timeouts;       /* HAILO_TIMEOUT answers before the first piece */
    size_t prompt_tokens;          /* what the prompt and images take in the context */
    size_t device_generated, recovery_in_context;
    char messages_seen[4096];
    char tools_seen[2048];
    char raw_seen[512];
    size_t frames_seen;
    uint8_t first_frame_byte[4]; /* bytes 0..3 of frame 0 as the model got it */
    hrt_gen_params params_seen;
    size_t clear_calls, reads, pieces_read, abort_calls;
    int max_read_timeout;
    bool aborted;
    void (*on_read)(size_t reads); /* called before each read (tests cancel there) */
    /* Speech2Text */
    int s2t_open_status, s2t_status, open_s2ts;
    struct {
        double start, end;
        const char *text;
    } segments[FAKE_MAX_SEGMENTS];
    size_t n_segments;
    char language_seen[16]; /* "(none)" when no language was passed */
    bool translate_seen;
    int timeout_seen;
    size_t samples_seen;
    bool s2t_block; /* the call blocks until fake_s2t_release() */
    bool s2t_running;
    int s2t_calls;
    atomic_bool *s2t_cancel_on_start; /* set true when a call starts */
    pthread_cond_t s2t_cv;
} fake_rt;

extern fake_rt fake;

/* Back to a healthy device with one 8 GiB Hailo-10H and no HEFs. */
void fake_reset(void);
/* Registers a HEF the fake knows (the file must also exist for the backend). */
fake_hef *fake_add_hef(const char *path, uint64_t footprint);
/* Fills a stream description (frame_size from the shape and type). */
void fake_stream(hrt_stream_info *s, const char *name, uint32_t h, uint32_t w, uint32_t f,
                 hrt_order order, hrt_type type);
/* HailoRT's late replies to kept runs: writes 0xA5 into their outputs,
 * then hands the buffers back.  Returns how many runs completed. */
size_t fake_complete_late(void);
/* Lets a blocked hrt_device_ram / hrt_s2t_segments go on. */
void fake_unblock_ram(void);
/* Holds the next n hrt_device_ram calls (ram_hold), under the fake's lock. */
void fake_hold_ram(int n);
/* Lets the oldest held hrt_device_ram answer. */
void fake_release_ram_one(void);
/* Waits up to 10 s until the n-th held call (ram_hold) since fake_reset()
 * is waiting; false if it never came. */
bool fake_wait_ram_held(int n);
void fake_s2t_release(void);
/* The device RAM in use now (models open), read under the fake's lock. */
uint64_t fake_ram_used(void);
/* Counters read under the fake's lock (the status thread writes them). */
int fake_count(const int *counter);
bool fake_flag(const bool *flag);

#endif
