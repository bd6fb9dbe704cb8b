/*
 * backend-sim.h - internals shared by the files of the simulated Hailo-10H
 * (backend-sim*.c).  Not a public contract: the manager only sees
 * backend_sim_ops from backends/backend.h.
 *
 * DESIGN: backend-sim.c is the dispatcher and owns the device state (memory
 * accounting, fault injection); its parts never call back into it: they use
 * the leaves sim-sleep.c (latencies), sim-hash.h (deterministic numbers) and
 * hooks.h (stop conditions).  backend-sim-config.c parses --sim-config and
 * the per-model sidecars; backend-sim-models.c computes the tensor outputs of
 * clip/ocr/depth/pose; backend-sim-text.c is the sim tokenizer, the text
 * machinery the VLM and the LLM share and the VLM; sim-whisper.c whisper's
 * segments; sim-llm.c the LLM (chat template, answers, JSON mode, tool
 * calls).  Every output is a pure
 * function of the model file name and the input bytes (plus seed/temperature for the VLM),
 * so tests and clients can rely on determinism.
 */
#ifndef HDM_BACKENDS_BACKEND_SIM_H
#define HDM_BACKENDS_BACKEND_SIM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "common/buf.h"
#include "sim-hash.h"

/* ---- configuration (backend-sim-config.c) --------------------------------- */

/* Per model type cost figures; see the key list atop backend-sim-config.c. */
typedef struct sim_type_params {
    int footprint_mb;
    int load_ms;
    int infer_ms;
    int token_ms;
} sim_type_params;

typedef struct sim_faults {
    int fail_load_nth;                 /* the Nth load fails, resource exhausted (once) */
    int load_resource_exhausted_every; /* every Nth load fails, resource exhausted */
    int infer_timeout_nth;             /* the Nth inference times out (once) */
    int infer_timeout_every;           /* every Nth inference times out */
    int device_lost_nth;               /* the Nth inference loses the device */
    int device_lost_load_nth;          /* the Nth load loses the device */
    int reset_fail_count;              /* the first N reset() calls fail */
} sim_faults;

/* switch_ms -1 (auto): a network switch costs this fraction of the
 * operation that follows it. */
#define SIM_SWITCH_AUTO_FRACTION 0.1

typedef struct sim_config {
    int memory_mb;             /* device memory, default 8192 */
    double latency_scale;      /* multiplies every latency; 0 = no sleeping at all */
    double switch_ms;          /* device time to switch the NPU to another network; -1 auto */
    double temperature_base_c; /* idle chip temperature, default 42.0 */
    sim_type_params types[MODEL_KIND__COUNT];
    sim_faults faults;
} sim_config;

/* Fills the built-in defaults (realistic figures per model type). */
void sim_config_defaults(sim_config *c);
/*
 * Reads a --sim-config file (JSON when it starts with '{', else YAML) over
 * the values already in *c.  Unknown keys and out-of-range values are
 * errors naming the file, key and (YAML) line.  Returns 0 or a negative code.
 */
int sim_config_load(const char *path, sim_config *c, hdm_err *err);
/* Same from a string (`name` is used in messages). */
int sim_config_load_string(const char *text, size_t len, const char *name, sim_config *c,
                           hdm_err *err);

/* A model's sidecar, `<model file>.sim.json`; a field < 0 is absent. */
typedef struct sim_sidecar {
    bool found;
    int footprint_mb;
    int load_ms;
    int infer_ms;
    int token_ms;
    int input_height; /* depth, pose, ocr detection: the model's input size */
    int input_width;
} sim_sidecar;

/*
 * Reads `<model_path>.sim.json` when it exists (found=false otherwise),
 * opened beneath `allow` (the model's directory when NULL): never through a
 * symlink, never a FIFO.  Returns 0, or -HDM_E_BAD_REQUEST naming the
 * sidecar and the bad key.
 */
int sim_sidecar_load(const char *model_path, const path_allowlist *allow, sim_sidecar *out,
                     hdm_err *err);

/* ---- device and models (backend-sim.c) ------------------------------------ */

typedef struct sim_npu sim_npu;

/* The simulated device.  Written by the dispatcher; its parts read cfg.
 * Several manager workers call it at once (backend.h's rules): counters are
 * atomic, the model list is changed only by load/unload/reset (never at the
 * same time as each other) and read by them, the NPU has its own lock. */
struct backend {
    sim_config cfg;
    uint64_t memory_total;
    _Atomic uint64_t memory_used;
    atomic_bool lost;
    _Atomic uint64_t inferences;              /* completed, for the temperature */
    atomic_ulong n_loads, n_infers, n_resets; /* fault counters */
    sim_npu *npu;                             /* the one NPU (sim-npu.c) */
    backend_model *models;
};

/* Sizes the sim models define. */
#define SIM_CLIP_IMAGE_SIZE 224
#define SIM_CLIP_DIM 512
#define SIM_CLIP_TEXT_LEN 77
#define SIM_CLIP_POOL 8 /* image pooled to 8x8x3 features before projection */
#define SIM_CLIP_TAPS 4 /* pooled features each embedding value mixes */
#define SIM_VLM_FRAME_SIZE 336
#define SIM_VLM_IMAGE_TOKENS 64 /* prompt tokens one image counts for */
#define SIM_OCR_REC_HEIGHT 48
#define SIM_OCR_REC_WIDTH 320
#define SIM_OCR_REC_STEPS 40
#define SIM_OCR_REC_CLASSES 97
#define SIM_WHISPER_RATE 16000

struct backend_model {
    model_kind kind;
    char *path;
    uint64_t seed;                   /* from the model file's name: same model, same outputs */
    uint64_t footprint;              /* bytes of device memory */
    int load_ms, infer_ms, token_ms; /* unscaled; sim_sleep applies latency_scale */
    int in_h, in_w;                  /* depth/pose/ocr detection input size */
    /* clip: fixed pseudo-random weights, made at load */
    float *clip_img_w;      /* [SIM_CLIP_DIM][SIM_CLIP_TAPS] weights of the taps */
    uint8_t *clip_img_taps; /* [SIM_CLIP_DIM][SIM_CLIP_TAPS] pooled features they read */
    float *clip_txt_self;   /* [SIM_CLIP_DIM] weight of x[j] */
    float *clip_txt_ctx;    /* [SIM_CLIP_DIM] weight of the causal context mean */
    /* ocr: recognition languages given at load (may be 0) */
    char **ocr_langs;
    size_t n_ocr_langs;
    struct backend_model *next;
};

/* "HAILO_DRIVER_FAIL: the simulated Hailo-10H was lost ..." (device_error). */
int sim_device_lost_error(hdm_err *err);

/* ---- the NPU (sim-npu.c) ---------------------------------------------------- */

int sim_npu_new(sim_npu **out);
void sim_npu_free(sim_npu *n);
/*
 * One device operation of `ms` (unscaled) on network `net` of model m (a
 * model with several networks numbers them: clip image 0 / text 1, ocr
 * detection 0 / recognition 1): waits for the chip in arrival order, pays a
 * network switch when the chip last ran another, holds it for ms.  Stops
 * early, as sim_sleep, on hooks' cancel or deadline; -HDM_E_DEVICE_ERROR
 * when the device is (or gets) lost.
 */
int sim_npu_run(const backend *b, const backend_model *m, int net, double ms,
                const infer_hooks *hooks, hdm_err *err);
/* m is being unloaded: the chip no longer holds its context. */
void sim_npu_forget(sim_npu *n, const backend_model *m);
/* Adds {"busy": chip in use now, "waiting": operations waiting for it now,
 * "dense"|"genai": {busy_ms, switch_ms, wait_ms, operations, switches}}. */
int sim_npu_json(sim_npu *n, cJSON *out);

/*
 * sim-sleep.c: sleeps ms (scaled by latency_scale) in small steps, stopping early with
 * -HDM_E_CANCELLED when hooks->cancelled is set and with
 * -HDM_E_DEADLINE_EXCEEDED at hooks->deadline_ms.  hooks may be NULL.
 * Even with nothing to sleep it checks cancellation and the deadline.
 */
int sim_sleep(const backend *b, double ms, const infer_hooks *hooks, hdm_err *err);

/* ---- outputs (backend-sim-models.c) --------------------------------------- */

/* Builds the weights a clip model needs; 0 or -HDM_E_NOMEM. */
int sim_clip_init(backend_model *m, hdm_err *err);
void sim_model_free_weights(backend_model *m);

int sim_infer_clip(const backend *b, backend_model *m, const infer_input *in,
                   const infer_hooks *hooks, infer_output *out, hdm_err *err);
int sim_infer_ocr(const backend *b, backend_model *m, const infer_input *in,
                  const infer_hooks *hooks, infer_output *out, hdm_err *err);
int sim_infer_depth(const backend *b, backend_model *m, const infer_input *in,
                    const infer_hooks *hooks, infer_output *out, hdm_err *err);
int sim_infer_pose(const backend *b, backend_model *m, const infer_input *in,
                   const infer_hooks *hooks, infer_output *out, hdm_err *err);

/* Writes "float32 [1,224,224,3]" into buf (for messages); returns buf. */
const char *sim_tensor_desc(const hdm_tensor *t, char *buf, size_t size);

/* ---- text (backend-sim-text.c) -------------------------------------------- */

/*
 * The sim tokenizer: returns the end of the token that starts at text[pos]
 * (pos < len).  A token is an optional leading space plus a run of up to 6
 * bytes of letters/digits/UTF-8 (split on character boundaries), one
 * punctuation byte, or a run of whitespace.
 */
size_t sim_token_end(const char *text, size_t len, size_t pos);
/* Number of sim tokens in text[0..len). */
int sim_token_count(const char *text, size_t len);
/* Prompt tokens of a VLM request: the messages (or prompt) with their chat
 * template, plus SIM_VLM_IMAGE_TOKENS per image. */
int sim_vlm_prompt_tokens(const infer_input *in);

/* Word lists the composed answers draw from. */
enum sim_words { SIM_WORDS_ADJECTIVE, SIM_WORDS_NOUN, SIM_WORDS_VERB, SIM_WORDS_PREP };
/* A composer's random stream; low temperatures keep to the head of each list. */
typedef struct sim_composer {
    uint64_t rng;
    double temperature;
} sim_composer;
const char *sim_pick(sim_composer *c, enum sim_words list);
/* Appends " The <adj> <subject> <verb> <prep> the <adj> <noun>."; subject
 * NULL picks a noun.  0 or -HDM_E_NOMEM. */
int sim_compose_sentence(sim_composer *c, const char *subject, buf *text);
/* Longest keyword kept (bytes, with its NUL). */
#define SIM_KEYWORD_MAX 32
/* Up to max distinct lower-cased words of text (3+ bytes, not common words),
 * in order of appearance; returns how many. */
size_t sim_keywords(const char *text, char kw[][SIM_KEYWORD_MAX], size_t max);
/* Mixes v into the hash h (deterministic). */
uint64_t sim_mix(uint64_t h, uint64_t v);

/* How a composed answer is released. */
typedef struct sim_release_opts {
    char *const *stop; /* stop strings (matched on the text, never shown) */
    size_t n_stop;
    int max_tokens;    /* generation ends here with finish_reason "length" */
} sim_release_opts;
/*
 * Releases plan[0..len) one sim token at a time, m->token_ms apart (scaled),
 * through hooks->on_delta (text that could begin a stop string is held back,
 * a stop string ends the generation unseen); stops early on cancellation or
 * the deadline.  Fills out->result (the text), completion_tokens and
 * finish_reason.  Returns 0 or a negative code with err.
 */
int sim_release(const backend *b, const backend_model *m, const char *plan, size_t len,
                const sim_release_opts *opts, const infer_hooks *hooks, infer_output *out,
                hdm_err *err);

int sim_infer_vlm(const backend *b, backend_model *m, const infer_input *in,
                  const infer_hooks *hooks, infer_output *out, hdm_err *err);

/* ---- llm (sim-llm.c) ------------------------------------------------------- */

/* The sim LLM's context, in tokens (Qwen2.5-1.5B-Instruct on the Hailo-10H). */
#define SIM_LLM_CONTEXT 2048
/* Prompt tokens a prefill step takes at once (one step costs infer_ms). */
#define SIM_LLM_PREFILL_CHUNK 128
/*
 * Renders the conversation with the sim LLM's chat template (Qwen2.5's
 * ChatML, tools included) into text, as the model would see it, generation
 * prompt appended; a raw prompt is taken as is.  0 or -HDM_E_NOMEM.
 */
int sim_llm_render(const llm_input *in, buf *text);
/* Tokens of rendered text: each special token (<|im_start|>, <|im_end|>,
 * <|endoftext|>) counts one, the rest as the sim tokenizer splits it. */
int sim_llm_token_count(const char *text, size_t len);
int sim_infer_llm(const backend *b, backend_model *m, const infer_input *in,
                  const infer_hooks *hooks, infer_output *out, hdm_err *err);

/* ---- whisper (sim-whisper.c) ----------------------------------------------- */

int sim_infer_whisper(const backend *b, backend_model *m, const infer_input *in,
                      const infer_hooks *hooks, infer_output *out, hdm_err *err);

#endif
