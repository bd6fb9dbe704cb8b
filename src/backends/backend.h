/*
 * backend.h - the interface every device backend implements (sim, hailort),
 * and the typed inference inputs/outputs that cross it.
 *
 * DESIGN: the manager's device workers call a backend (docs/SCHEDULING.md).
 * With parallel lanes two of them do at once, under these rules, which the
 * registry guarantees: load, unload and reset never run at the same time as
 * each other; a model is used by one thread at a time and is never unloaded
 * while in use; infer on one model may run while another thread runs infer
 * on another model, or loads or unloads another model; reset runs only when
 * no model is in use.  So a backend guards what its models share (the model
 * list, counters), not the models.  identify() may be called from any thread
 * at any time (status) and must be safe against all of the above.
 * Inputs are parsed and validated by the manager (infer_input.c) before they
 * reach a backend; backends check only what depends on the model (expected
 * shapes).  Outputs are a JSON result whose tensor objects reference the
 * output tensors by index ({"dtype","shape","attachment": i}); the manager
 * turns them into base64 or binary attachments for the answer.
 *
 * Shapes: an output tensor's shape is one frame's shape as HailoRT reports
 * it, with no batch dimension ([512] for an NC output, [h,w,c] for NHWC,
 * including a height of 1: [1,77,512]) -- what the original manager
 * answered.  Inputs may come with or without a leading batch 1; backends
 * accept both.
 */
#ifndef HDM_BACKENDS_BACKEND_H
#define HDM_BACKENDS_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/paths.h"
#include "hailodm.h"

typedef enum model_kind {
    MODEL_CLIP,
    MODEL_VLM,      /* "vlm_chat" and its alias "vlm" */
    MODEL_WHISPER,
    MODEL_OCR,
    MODEL_DEPTH,
    MODEL_POSE,
    MODEL_LLM,      /* "llm": text chat, HailoRT GenAI LLM */
    MODEL_KIND__COUNT
} model_kind;

/* "vlm_chat"/"vlm" -> MODEL_VLM etc.; returns 0 or -1 for an unknown type. */
int model_kind_parse(const char *model_type, model_kind *out);
/* Canonical name ("clip", "vlm_chat", ...). */
const char *model_kind_name(model_kind kind);
/* GenAI models share the chip's single KV cache: at most one resident
 * (vlm_chat and llm; the registry swaps one for the other). */
bool model_kind_is_genai(model_kind kind);
/* Kinds that generate text token by token: they may stream ("stream": true)
 * and answer usage {prompt_tokens, completion_tokens} and finish_reason. */
bool model_kind_generates_text(model_kind kind);
/* Models that generate in GenAI sessions of the chip, token by token: every
 * GenAI model, and whisper (Speech2Text, which holds no KV-cache slot).
 * They run on the manager's GenAI lane, beside the dense models (clip, ocr,
 * depth, pose). */
bool model_kind_uses_genai_lane(model_kind kind);

/* What to load.  Paths are canonical and inside the allowed directories. */
typedef struct model_spec {
    model_kind kind;
    const char *model_path;
    const cJSON *params;          /* model_params (may be NULL) */
    /* CLIP: the two HEFs and the text layer names (from params, checked). */
    const char *clip_image_hef, *clip_text_hef, *clip_text_input, *clip_text_output;
    /* OCR: detection HEF; recognition HEFs by language and batch sizes. */
    const char *ocr_detection_hef;
    const cJSON *ocr_recognition_hefs; /* {lang: canonical path} */
    const cJSON *ocr_batch_sizes;      /* {lang: n} */
    /* Where these files may be opened: beneath these directories, by the
     * kernel, no symlink followed (common/paths.h path_open_allowed); a
     * backend opens them no other way.  NULL: by name (tests). */
    const path_allowlist *allow;
} model_spec;

typedef struct chat_message {
    char *role;     /* system | user | assistant */
    char *text;     /* text parts joined with "\n" */
    int n_images;   /* image parts, in order, consume frames[] */
} chat_message;

/*
 * The llm contract (docs/PROTOCOL.md, "llm"), shaped after HailoRT 5.2's
 * genai::LLM: a conversation of structured messages that the model's own
 * chat template renders (LLMGenerator::write(vector<json string>, tools)),
 * or a raw prompt written as is (LLMGenerator::write(string)); sampling as
 * LLMGeneratorParams holds it; stop strings and a JSON-only answer on top.
 */
enum llm_role { LLM_ROLE_SYSTEM, LLM_ROLE_USER, LLM_ROLE_ASSISTANT, LLM_ROLE_TOOL };
enum llm_format { LLM_FORMAT_TEXT, LLM_FORMAT_JSON };

/* "system", "user", "assistant", "tool". */
const char *llm_role_name(enum llm_role role);

typedef struct llm_message {
    enum llm_role role;
    char *content;      /* text parts joined with "\n"; "" when none (never NULL) */
    /* assistant: the calls it made, [{"function": {"name": s, "arguments": {..}}}]
     * (arguments always an object), owned; NULL when none. */
    cJSON *tool_calls;
    char *tool_name;    /* tool: the name of the tool that answered, or NULL */
} llm_message;

typedef struct llm_input {
    llm_message *messages; /* the conversation, or NULL with `prompt` */
    size_t n_messages;
    char *prompt;          /* raw prompt, no chat template, or NULL with messages */
    /* Tools the model may call, each {"type": "function", "function": {"name",
     * "description", "parameters"}} as given (owned array), or NULL. */
    cJSON *tools;
    /* Sampling (LLMGeneratorParams); has_* false: the model's default. */
    bool has_temperature;
    double temperature;       /* 0..2; 0 = greedy (do_sample false) */
    bool has_top_p;
    double top_p;             /* 0..1 */
    bool has_top_k;
    int top_k;                /* 1..1000 */
    bool has_frequency_penalty;
    double frequency_penalty; /* -2..2 */
    bool has_seed;
    uint32_t seed;            /* 0..4294967294 (HailoRT's UINT32_MAX means "random") */
    int max_tokens;           /* max_generated_tokens; 0 = the model's default */
    char **stop;              /* stop strings, matched on the text */
    size_t n_stop;
    enum llm_format format;   /* LLM_FORMAT_JSON: the answer is one JSON object */
} llm_input;

enum clip_mode { CLIP_MODE_IMAGE, CLIP_MODE_TEXT };
enum ocr_mode { OCR_MODE_DETECTION, OCR_MODE_RECOGNITION };
enum whisper_task { WHISPER_TRANSCRIBE, WHISPER_TRANSLATE };

typedef struct infer_input {
    model_kind kind;
    union {
        struct {
            enum clip_mode mode;
            hdm_tensor tensor;
            int timeout_ms;
        } clip;
        struct {
            char *prompt;             /* plain string prompt, or NULL when messages given */
            chat_message *messages;
            size_t n_messages;
            hdm_tensor *frames;       /* uint8 images, e.g. [336,336,3] */
            size_t n_frames;
            double temperature;       /* default 0.7 */
            double top_p;             /* default 0.9 */
            bool has_seed;
            uint64_t seed;
            int max_tokens;           /* max_generated_tokens, default 200 */
            char **stop;              /* stop strings */
            size_t n_stop;
        } vlm;
        struct {
            hdm_tensor audio;         /* float32 samples, 16 kHz mono (1-D) */
            char language[16];
            enum whisper_task task;
        } whisper;
        struct {
            enum ocr_mode mode;
            hdm_tensor image;         /* detection */
            char language[32];        /* recognition */
            hdm_tensor *crops;
            size_t n_crops;
            int batch_size;
        } ocr;
        struct {
            hdm_tensor input;         /* depth, pose */
        } dense;
        llm_input llm;
    } u;
} infer_input;

/* Hooks the worker gives a backend for one inference. */
typedef struct infer_hooks {
    /* Streaming: called once per generated text piece (worker thread). NULL when
     * the request does not stream. */
    void (*on_delta)(void *ctx, const char *text, size_t len);
    void *ctx;
    /* Set by the manager when the client went away or cancelled; backends check
     * it between tokens / steps and stop with -HDM_E_CANCELLED. */
    const atomic_bool *cancelled;
    /* Absolute deadline on mono_ms() clock, 0 for none. */
    int64_t deadline_ms;
} infer_hooks;

typedef struct infer_output {
    cJSON *result;            /* the "result" value (owned) */
    hdm_tensor *tensors;      /* output tensors referenced from result (owned data) */
    uint32_t n_tensors;
    /* Text generation (model_kind_generates_text): counts from the model's
     * own tokenizer (prompt_tokens with its chat template), never estimated. */
    int prompt_tokens;
    int completion_tokens;
    const char *finish_reason; /* "stop" or "length" (static string) */
} infer_output;

/* Appends tensor *t (its data is taken over: must be malloc'd) to out and
 * returns the JSON object referencing it, or NULL when out of memory (the
 * data is freed then). */
cJSON *infer_output_add_tensor(infer_output *out, const hdm_tensor *t);
void infer_output_clear(infer_output *out);

typedef struct device_info {
    char device_id[64];
    char architecture[32];
    char fw_version[32];
    double temperature_celsius;   /* NAN when unknown */
    uint64_t memory_total_bytes;  /* 0 when unknown */
    uint64_t memory_used_bytes;
    bool simulated;
    uint64_t model_recreations; /* configured models re-created after the runtime shut
                                   them down (hailort); 0 elsewhere */
} device_info;

typedef struct backend_config {
    const char *sim_config_path;  /* --sim-config, may be NULL */
    const char *group_id;         /* HAILO_DEVICE_GROUP_ID, default "SHARED" */
} backend_config;

typedef struct backend backend;         /* a backend's device state */
typedef struct backend_model backend_model;

typedef struct backend_ops {
    const char *name;
    /* Opens the device.  Fails with a clear sentence when there is none. */
    int (*open)(const backend_config *cfg, backend **out, hdm_err *err);
    /* Releases the device (all models must have been unloaded). Accepts NULL. */
    void (*close)(backend *b);
    /* Identity, temperature, memory. May be called from any thread. */
    int (*identify)(backend *b, device_info *info, hdm_err *err);
    /*
     * Loads a model.  *footprint_bytes gets its device memory when known (0
     * if not).  Device out of memory: -HDM_E_RESOURCE_EXHAUSTED with a message
     * containing "HAILO_RESOURCE_EXHAUSTED" (the registry then evicts and
     * retries); device lost: -HDM_E_DEVICE_ERROR.
     */
    int (*load)(backend *b, const model_spec *spec, backend_model **out,
                uint64_t *footprint_bytes, hdm_err *err);
    /* Estimated footprint before the first load (e.g. from the HEF sizes). */
    uint64_t (*estimate_footprint)(backend *b, const model_spec *spec);
    /* Runs one inference; fills *out on success. */
    int (*infer)(backend *b, backend_model *m, const infer_input *in, const infer_hooks *hooks,
                 infer_output *out, hdm_err *err);
    void (*unload)(backend *b, backend_model *m);
    /* Resets the runtime context after repeated device errors (all models are
     * already unloaded). */
    int (*reset)(backend *b, hdm_err *err);
    /* Optional (NULL when a backend has nothing to say): adds to `info`, an
     * empty object, what a client needs to know about a loaded model; the
     * manager answers it as load_model's "model_info" when not empty (OCR:
     * {"detection_input_shape": [H, W, 3]}).  Returns 0 or a negative code. */
    int (*model_info)(backend *b, backend_model *m, cJSON *info);
    /* Optional: true when this device can run a GenAI inference on one thread
     * while dense inferences run on another (the manager's parallel_genai:
     * auto).  NULL: it cannot. */
    bool (*parallel_genai)(backend *b);
    /* Optional: adds to `out`, an empty object, figures about how the device
     * spent its time (the sim: its NPU's busy time per lane and model
     * switches); status shows them as "device_time".  0 or a negative code. */
    int (*device_time_json)(backend *b, cJSON *out);
} backend_ops;

/* The chip's answer to a second GenAI load: -HDM_E_RESOURCE_EXHAUSTED with a
 * sentence naming the resident GenAI model (the registry swaps instead). */
int backend_genai_taken(const char *resident_path, hdm_err *err);

/* Registered backends, by name ("sim", "hailort"); NULL when not built in. */
const backend_ops *backend_find(const char *name);
/* Names of the built-in backends, NULL-terminated. */
const char *const *backend_names(void);

extern const backend_ops backend_sim_ops;
#ifdef HDM_HAVE_HAILORT
extern const backend_ops backend_hailort_ops;
#endif

#endif
