/*
 * hailort_fake_rt.h - a scriptable stand-in for HailoRT behind
 * src/backends/hailort-rt.h, so the HailoRT backend's C code (device
 * lifecycle, memory accounting, error mapping, layouts, batching, VLM
 * streaming, Speech2Text) is tested on machines without HailoRT or a
 * device.  Tests set fields of `fake` and read back what the backend did.
 */
#ifndef HAILORT_FAKE_RT_H
#define HAILORT_FAKE_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/hailort-rt.h"

#define FAKE_MAX_STREAMS 4
#define FAKE_MAX_HEFS 8
#define FAKE_MAX_RUNS 32
#define FAKE_MAX_TOKENS 32
#define FAKE_MAX_SEGMENTS 4

/* Statuses the fake can return, with HailoRT 5.2's numbers. */
enum {
    FAKE_TIMEOUT = 4,
    FAKE_OPEN_FILE_FAILURE = 13,
    FAKE_DRIVER_OPERATION_FAILED = 36,
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

typedef struct fake_rt {
    /* device */
    size_t n_devices;
    int scan_status, open_status;
    char group_id[64];
    int opens, closes, identify_calls;
    bool has_temperature, has_ram;
    const char *architecture; /* identify's answer; NULL: "HAILO10H" */
    double temperature;
    uint64_t ram_total, ram_used;
    /* InferModel */
    fake_hef hefs[FAKE_MAX_HEFS];
    size_t n_hefs;
    int open_nets;
    int run_status;
    size_t run_calls, run_frames[FAKE_MAX_RUNS];
    uint16_t last_batch_size;
    uint8_t *last_input; /* copy of the last run's frame 0, input 0 */
    size_t last_input_size;
    /* VLM */
    int vlm_open_status, open_vlms;
    uint64_t vlm_footprint;
    hrt_stream_info vlm_frame;
    const char *tokens[FAKE_MAX_TOKENS];
    size_t n_tokens;
    int gen_end;    /* how generation ends when all tokens were read */
    int gen_status; /* returned after gen_fail_after tokens when non-zero */
    size_t gen_fail_after;
    size_t prompt_tokens; /* the context usage before generation */
    char messages_seen[4096];
    size_t frames_seen;
    uint8_t first_frame_byte[4]; /* bytes 0..3 of frame 0 as the model got it */
    hrt_gen_params params_seen;
    size_t clear_calls, pieces_generated;
    bool aborted;
    /* Speech2Text */
    int s2t_status, open_s2ts;
    struct {
        double start, end;
        const char *text;
    } segments[FAKE_MAX_SEGMENTS];
    size_t n_segments;
    char language_seen[16];
    bool translate_seen;
    int timeout_seen;
    size_t samples_seen;
} fake_rt;

extern fake_rt fake;

/* Back to a healthy device with one 8 GiB Hailo-10H and no HEFs. */
void fake_reset(void);
/* Registers a HEF the fake knows (the file must also exist for the backend). */
fake_hef *fake_add_hef(const char *path, uint64_t footprint);
/* Fills a stream description (frame_size from the shape and type). */
void fake_stream(hrt_stream_info *s, const char *name, uint32_t h, uint32_t w, uint32_t f,
                 hrt_order order, hrt_type type);

#endif
