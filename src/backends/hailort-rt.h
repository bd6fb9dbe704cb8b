/*
 * hailort-rt.h - everything the HailoRT backend asks of HailoRT, as plain C:
 * the C API parts in hailort-capi.c, the C++ API (VDevice, InferModel,
 * GenAI VLM, LLM and Speech2Text) in hailort-genai.cpp.
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
 * hrt_vlm, hrt_llm, hrt_s2t) is used by one thread at a time, as HailoRT
 * requires of a configured model: the manager's dense lane runs the
 * hrt_nets, its GenAI lane the GenAI handles and their reads, at the same
 * time, through the one hrt_device; closing a handle may happen on another
 * thread, never while it is in use.  hrt_device_open/close are never called
 * while a handle is in use.  hrt_device_identify/hrt_device_ram may run on
 * any thread: HailoRT serialises them internally.
 *
 * What HailoRT 5.x does that shapes these functions (read in its source:
 * on a Hailo-10H the host library is an RPC client of hailort_server on the
 * chip, one server thread per connection running requests in order):
 * - A run whose wait timed out is still in flight: the reply is written
 *   into the output buffers when it comes, so hrt_net_run keeps buffers it
 *   cannot give back (HRT_RUN_KEPT).
 * - A failed run_async shuts the configured model down for good
 *   (HRT_RUN_NET_DOWN): the caller re-creates it.
 * - A generation is read piece by piece, each with the generation's status
 *   after it; the piece that ends a generation is the model's end token,
 *   or on max-tokens and abort its "recovery sequence" (both special
 *   tokens the server decodes as text), and the host reads ahead of the
 *   caller, so an abort leaves pieces queued (hrt_gen_read after
 *   hrt_gen_abort hands them out).
 * - Speech2Text has no incremental API and 5.2 ignores its timeout: the
 *   caller runs hrt_s2t_segments on a thread of its own.
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
typedef struct hrt_genai hrt_genai;   /* a GenAI VLM or LLM */
typedef struct hrt_gen hrt_gen;       /* one generation of an hrt_genai, being read */
typedef struct hrt_s2t hrt_s2t;       /* a GenAI Speech2Text */

/* What identify reports (control requests only: cheap).  has_temperature
 * says whether the device answered that part. */
typedef struct hrt_identity {
    char device_id[64];
    char architecture[32];
    char fw_version[32];
    bool has_temperature;
    double temperature_celsius;
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
/*
 * Releases it (all models must be closed first), then releases the run
 * buffers closed nets could not give back (HRT_RUN_KEPT): with the VDevice
 * gone nothing writes into them any more.  Accepts NULL.
 */
void hrt_device_close(hrt_device *d);
/* Identity and temperature of the first physical device: control requests,
 * answered quickly. */
int hrt_device_identify(hrt_device *d, hrt_identity *out);
/*
 * Device RAM in use and in total (Hailo-10H Device::query_performance_stats).
 * Slow: the chip samples its CPU for 100 ms and runs `free` and other tools
 * (>= 0.4 s), queued behind inference on the same server thread.  "Used" is
 * total minus free, so it includes the chip's page cache.
 */
int hrt_device_ram(hrt_device *d, uint64_t *used_bytes, uint64_t *total_bytes);

/* ---- InferModel (clip, ocr, depth, pose) ------------------------------------- */

typedef struct hrt_net_options {
    hrt_type input_type;  /* host type of every input */
    hrt_type output_type; /* host type of every output that can have it
                             (hrt_output_type: NMS by score stays uint8) */
    uint16_t batch_size;  /* 0: HailoRT's default */
} hrt_net_options;

/* Creates and configures an InferModel from a HEF file. */
int hrt_net_open(hrt_device *d, const char *hef_path, const hrt_net_options *opt, hrt_net **out);
/*
 * Shuts the configured model down and frees it.  Runs still in flight
 * (HRT_RUN_KEPT) are waited for a bounded time after the shutdown; their
 * buffers are released then, or when the device is closed.  Accepts NULL.
 */
void hrt_net_close(hrt_net *n);
size_t hrt_net_n_inputs(const hrt_net *n);
size_t hrt_net_n_outputs(const hrt_net *n);
/* Stream descriptions, valid while the net is open. */
const hrt_stream_info *hrt_net_inputs(const hrt_net *n);
const hrt_stream_info *hrt_net_outputs(const hrt_net *n);

/* hrt_net_run's *flags. */
#define HRT_RUN_KEPT 0x1u     /* frames still in flight: HailoRT keeps the buffers */
#define HRT_RUN_NET_DOWN 0x2u /* HailoRT shut the configured model down */

/* Called once HailoRT no longer uses the buffers of a run it kept. */
typedef void (*hrt_release_fn)(void *owner);

/*
 * Runs n_frames frames.  inputs[f * n_inputs + i] is frame f's buffer for
 * input i (frame_size bytes), outputs[f * n_outputs + o] likewise.  Waits up
 * to timeout_ms for the whole batch.  *flags gets 0 on success.  On
 * failure: HRT_RUN_KEPT when a frame was sent and has not completed (its
 * wait timed out): HailoRT may still read the inputs and write the outputs
 * later, so the caller must leave every buffer alone; this function then
 * owns `owner` and calls release(owner) once every frame completed, or at
 * the latest from hrt_net_close / hrt_device_close.  HRT_RUN_NET_DOWN when
 * HailoRT shut the configured model down (a failed run_async does): every
 * later run fails until the caller closes it and opens it again.
 */
int hrt_net_run(hrt_net *n, size_t n_frames, void *const *inputs, void *const *outputs,
                int timeout_ms, hrt_release_fn release, void *owner, unsigned *flags);

/* ---- GenAI VLM and LLM ------------------------------------------------------------ */

/*
 * Generation parameters: each set_* false leaves the model's default
 * (create_generator_params()).  Greedy decoding is do_sample false.
 */
typedef struct hrt_gen_params {
    bool set_temperature, set_top_p, set_top_k, set_frequency_penalty, set_do_sample, set_seed;
    float temperature;
    float top_p;
    uint32_t top_k;
    float frequency_penalty;
    bool do_sample;
    uint32_t seed;
    uint32_t max_tokens; /* 0: the model's default */
} hrt_gen_params;

/* The generation's status after a read (LLMGeneratorCompletion::Status). */
enum hrt_gen_state {
    HRT_GEN_GENERATING,
    HRT_GEN_MAX_TOKENS,
    HRT_GEN_LOGICAL_END,
    HRT_GEN_ABORTED,
};

/* Where hrt_genai_start failed: before the device was asked (the model's
 * chat template rendering the messages on the host), or after. */
enum hrt_start_stage { HRT_START_DEVICE, HRT_START_TEMPLATE };

/*
 * Creates the VLM (vlm true) or LLM of HEF hef_path.  optimize_memory asks
 * for HailoRT's client-side tokenizer (less device memory); HailoRT answers
 * HAILO_NOT_IMPLEMENTED unless libhailort was built with it, and
 * HAILO_INVALID_OPERATION when the chip already has the HEF.
 */
int hrt_genai_open(hrt_device *d, const char *hef_path, bool vlm, bool optimize_memory,
                   hrt_genai **out);
void hrt_genai_close(hrt_genai *g);
/* The frame a VLM wants (shape, order, type, size); zeroed for an LLM. */
void hrt_genai_frame_info(const hrt_genai *g, hrt_stream_info *out);
/*
 * Calls on_text for each string the model treats as special and decodes
 * into its output: its stop tokens and its generation recovery sequence.
 * Best effort: returns 0 even when the model cannot say.
 */
int hrt_genai_special_tokens(hrt_genai *g, void (*on_text)(void *ctx, const char *text), void *ctx);
/*
 * Starts a generation: JSON messages (rendered with the model's own chat
 * template), with tools (JSON strings, LLM only), or instead a raw prompt
 * written as is (LLM only, messages NULL), and frames for a VLM
 * (frame_size bytes each; HailoRT has sent them when this returns).  On
 * failure *stage says whether the template refused the messages.  The
 * context is NOT cleared here (hrt_genai_clear_context).
 */
int hrt_genai_start(hrt_genai *g, const char *const *messages, size_t n_messages,
                    const char *const *tools, size_t n_tools, const char *raw_prompt,
                    void *const *frames, size_t n_frames, const hrt_gen_params *p, hrt_gen **out,
                    int *stage);
/*
 * Waits up to timeout_ms for the next piece: 0 with *text / *len (valid
 * until the next call on g) and *state, the generation's status after it
 * (a piece whose state is not HRT_GEN_GENERATING ends the generation; it is
 * the end token or the recovery sequence).  A status on failure; the
 * timeout's (HAILO_TIMEOUT) when no piece came in time.  After
 * hrt_gen_abort, it hands out what the generation left queued.
 */
int hrt_gen_read(hrt_gen *gen, int timeout_ms, const char **text, size_t *len, int *state);
/* Stops the generation (HailoRT queues its recovery sequence); blocks until
 * the device has stopped. */
int hrt_gen_abort(hrt_gen *gen);
/* Ends a generation (aborting it if still running).  Accepts NULL. */
void hrt_gen_free(hrt_gen *gen);
/* Number of tokens the model's tokenizer makes of text. */
int hrt_genai_count_tokens(hrt_genai *g, const char *text, size_t *count);
/* Tokens held in the model's context now: the prompt, images, every token
 * generated (also those read ahead of the caller) and the recovery sequence
 * of a generation cut short. */
int hrt_genai_context_usage(hrt_genai *g, size_t *tokens);
int hrt_genai_clear_context(hrt_genai *g);

/* ---- Speech2Text -------------------------------------------------------------- */

/* Called per segment; a non-zero return stops the walk (out of memory). */
typedef int (*hrt_segment_cb)(void *ctx, double start_sec, double end_sec, const char *text);

/* HAILO_NOT_IMPLEMENTED when this HailoRT has no Speech2Text (5.0). */
int hrt_s2t_open(hrt_device *d, const char *hef_path, hrt_s2t **out);
void hrt_s2t_close(hrt_s2t *s);
/*
 * Transcribes (or translates to English) 16 kHz mono float32 samples.
 * language NULL: the model detects it.  Blocks until done: HailoRT 5.2
 * ignores timeout_ms.
 */
int hrt_s2t_segments(hrt_s2t *s, const float *samples, size_t n_samples, const char *language,
                     bool translate, int timeout_ms, hrt_segment_cb on_segment, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
