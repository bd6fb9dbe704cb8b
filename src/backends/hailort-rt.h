/*
 * hailort-rt.h - everything the HailoRT backend asks of HailoRT, as plain C:
 * the C API parts in hailort-capi.c, the C++ API (VDevice, InferModel,
 * GenAI VLM and Speech2Text) in hailort-genai.cpp.
 *
 * DESIGN: this header is the backend's only seam to HailoRT and includes
 * no HailoRT header, so backend-hailort.c, hailort-dense.c and
 * hailort-genai-glue.c build without HailoRT and are unit-tested on every
 * machine against a fake of these functions (tests/unit/backends/
 * hailort_fake_rt.c).  GenAI models need the std::shared_ptr<VDevice> the
 * process opened, so the VDevice is created on the C++ side.  Every
 * function returns a hailo_status number (0 = HAILO_SUCCESS) that the
 * caller names with hrt_status_name() and maps with hailort-status.h.  No
 * C++ exception crosses this boundary.  Threads: a model handle (hrt_net,
 * hrt_vlm, hrt_s2t) is used by one thread at a time, as HailoRT requires of
 * a configured model: the manager's dense lane runs the hrt_nets, its GenAI
 * lane the hrt_vlm/hrt_s2t and their reads, at the same time, through the
 * one hrt_device; closing a handle may happen on another thread, never
 * while it is in use.  hrt_device_open/close are never called while a
 * handle is in use.  hrt_device_identify/hrt_device_ram may run on any
 * thread: HailoRT serialises them internally.
 */
#ifndef HDM_BACKENDS_HAILORT_RT_H
#define HDM_BACKENDS_HAILORT_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hailort-layout.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hrt_device hrt_device; /* the process's VDevice */
typedef struct hrt_net hrt_net;       /* an InferModel, configured */
typedef struct hrt_vlm hrt_vlm;       /* a GenAI VLM */
typedef struct hrt_s2t hrt_s2t;       /* a GenAI Speech2Text */

/* What identify reports; the has_* flags say whether the device answered. */
typedef struct hrt_identity {
    char device_id[64];
    char architecture[32];
    char fw_version[32];
    bool has_temperature;
    double temperature_celsius;
    bool has_ram;
    uint64_t ram_total_bytes;
    uint64_t ram_used_bytes;
} hrt_identity;

/* ---- C API (hailort-capi.c) ------------------------------------------------- */

/* The status's name ("HAILO_TIMEOUT") from the installed library; NULL when
 * it does not know the number. */
const char *hrt_status_name(int status);
/* Scans for devices: *count gets how many, first_id the first one's id. */
int hrt_scan_devices(size_t *count, char *first_id, size_t id_size);
/* "5.2.0": the installed library's version. */
int hrt_library_version(char *buf, size_t size);

/* ---- device ---------------------------------------------------------------- */

/* Opens the VDevice over every Hailo device present, in group `group_id`. */
int hrt_device_open(const char *group_id, hrt_device **out);
/* Releases it (all models must be closed first).  Accepts NULL. */
void hrt_device_close(hrt_device *d);
/* Identity, temperature and RAM of the first physical device. */
int hrt_device_identify(hrt_device *d, hrt_identity *out);
/* Device RAM in use and in total (Hailo-10H query_performance_stats). */
int hrt_device_ram(hrt_device *d, uint64_t *used_bytes, uint64_t *total_bytes);

/* ---- InferModel (clip, ocr, depth, pose) ------------------------------------- */

typedef struct hrt_net_options {
    hrt_type input_type;  /* host type of every input */
    hrt_type output_type; /* host type of every output */
    uint16_t batch_size;  /* 0: HailoRT's default */
} hrt_net_options;

/* Creates and configures an InferModel from a HEF file. */
int hrt_net_open(hrt_device *d, const char *hef_path, const hrt_net_options *opt, hrt_net **out);
void hrt_net_close(hrt_net *n);
size_t hrt_net_n_inputs(const hrt_net *n);
size_t hrt_net_n_outputs(const hrt_net *n);
/* Stream descriptions, valid while the net is open. */
const hrt_stream_info *hrt_net_inputs(const hrt_net *n);
const hrt_stream_info *hrt_net_outputs(const hrt_net *n);
/*
 * Runs n_frames frames.  inputs[f * n_inputs + i] is frame f's buffer for
 * input i (frame_size bytes), outputs[f * n_outputs + o] likewise.  Waits up
 * to timeout_ms for the whole batch.
 */
int hrt_net_run(hrt_net *n, size_t n_frames, void *const *inputs, void *const *outputs,
                int timeout_ms);

/* ---- VLM ----------------------------------------------------------------------- */

typedef struct hrt_gen_params {
    float temperature;
    float top_p;
    bool has_seed;
    uint32_t seed;
    uint32_t max_tokens;
    int read_timeout_ms; /* per token */
} hrt_gen_params;

/* Called per generated piece; a non-zero return aborts the generation. */
typedef int (*hrt_token_cb)(void *ctx, const char *text, size_t len);

/* How a generation ended. */
enum hrt_gen_end { HRT_END_LOGICAL, HRT_END_MAX_TOKENS, HRT_END_ABORTED };

int hrt_vlm_open(hrt_device *d, const char *hef_path, hrt_vlm **out);
void hrt_vlm_close(hrt_vlm *v);
/* The frame the model wants (shape, order, type, size). */
void hrt_vlm_frame_info(const hrt_vlm *v, hrt_stream_info *out);
/*
 * Generates from JSON messages (see hailort-prompt.h) and frames
 * (frame_size bytes each), calling on_token per piece.  *end tells why it
 * stopped.  The context is NOT cleared here (hrt_vlm_clear_context).
 */
int hrt_vlm_generate(hrt_vlm *v, const char *const *messages, size_t n_messages,
                     void *const *frames, size_t n_frames, const hrt_gen_params *p,
                     hrt_token_cb on_token, void *ctx, int *end);
/* Number of tokens the model's tokenizer makes of text. */
int hrt_vlm_count_tokens(hrt_vlm *v, const char *text, size_t *count);
/* Tokens held in the model's context now (prompt, images and generated). */
int hrt_vlm_context_usage(hrt_vlm *v, size_t *tokens);
int hrt_vlm_clear_context(hrt_vlm *v);

/* ---- Speech2Text -------------------------------------------------------------- */

/* Called per segment; a non-zero return stops the walk (out of memory). */
typedef int (*hrt_segment_cb)(void *ctx, double start_sec, double end_sec, const char *text);

int hrt_s2t_open(hrt_device *d, const char *hef_path, hrt_s2t **out);
void hrt_s2t_close(hrt_s2t *s);
/* Transcribes (or translates to English) 16 kHz mono float32 samples. */
int hrt_s2t_segments(hrt_s2t *s, const float *samples, size_t n_samples, const char *language,
                     bool translate, int timeout_ms, hrt_segment_cb on_segment, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
