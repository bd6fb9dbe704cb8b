/*
 * hailort-backend.h - internals shared by the files of the HailoRT backend
 * (backend-hailort.c: device and model lifecycle; hailort-dense.c: clip,
 * ocr, depth and pose through InferModel; hailort-genai-glue.c: VLM, LLM
 * and Speech2Text).  Not a public contract: the manager only sees
 * backend_hailort_ops from backends/backend.h.  Built only with HailoRT.
 */
#ifndef HDM_BACKENDS_HAILORT_BACKEND_H
#define HDM_BACKENDS_HAILORT_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hailort-rt.h"
#include "hailort-prompt.h"
#include "backend.h"
#include "hooks.h"

/*
 * One configured InferModel and what it takes to configure it again:
 * HailoRT shuts a configured model down for good after one failed run, so
 * the backend re-creates it from the same HEF (the name HailoRT was given,
 * /proc/self/fd/N of the file kept open until unload) and options.
 */
typedef struct hrt_netref {
    hrt_net *net;   /* NULL after a re-creation that failed (tried again next run) */
    char *hef_name; /* what HailoRT opens */
    char *path;     /* the HEF's path, for messages */
    hrt_net_options opt;
} hrt_netref;

/* One OCR recognition model: a language and its batch size. */
typedef struct hrt_ocr_rec {
    char *lang;
    hrt_netref net;
    int batch_size;
} hrt_ocr_rec;

/* A Speech2Text call running on a thread of its own (hailort-genai-glue.c). */
typedef struct hrt_s2t_job hrt_s2t_job;

struct backend_model {
    model_kind kind;
    char *path;
    uint64_t footprint;  /* bytes of device RAM measured around the load */
    hrt_netref net;      /* depth, pose, clip image, ocr detection */
    hrt_netref text_net; /* clip text encoder */
    int text_input;      /* clip: index of text_input_layer among text_net's inputs */
    int text_output;     /* clip: index of text_output_layer among its outputs */
    hrt_ocr_rec *rec;    /* ocr recognition, one per language */
    size_t n_rec;
    hrt_genai *gen;        /* vlm_chat, llm */
    hrt_specials specials; /* the GenAI model's special tokens, stripped from its text */
    hrt_s2t *s2t;
    hrt_s2t_job *s2t_job; /* a transcription still running after its request gave up */
    path_file *files;     /* the HEFs HailoRT was given as /proc/self/fd/N, open until unload */
    size_t n_files;
    struct backend_model *next;
};

/*
 * Fills err for a failed HailoRT call: the status is named by the library
 * (hailo_get_status_message) and mapped by name (hailort-status.h).  When
 * it means the device is lost, the backend remembers that until reset().
 * Returns the negative code.
 */
int hrt_fail(backend *b, hdm_err *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Like hrt_fail, but the caller knows the cause better than the status's
 * name: the answer has `code` and `why` (a sentence for the client) after
 * the context, still naming the status; the device is never marked lost.
 */
int hrt_fail_as(hdm_err *err, int code, int status, const char *why, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* True when a HailoRT call said the device is gone (until reset()). */
bool hrt_backend_lost(const backend *b);

/* The VDevice (NULL after a failed reset). */
hrt_device *hrt_backend_device(backend *b);

/*
 * True when the device still answers a control request (identify): tells a
 * GenAI session the chip's server dropped (another process holds the KV
 * cache) from a device that is gone.
 */
bool hrt_backend_device_answers(backend *b);

/* Counts a configured model re-created after HailoRT shut it down
 * (device_status / metrics: model_recreations). */
void hrt_backend_count_recreation(backend *b);

/* For tests: how long a device status answer is served from the cache
 * before a background refresh (default 20 s), and the first back-off
 * between runtime resets that did not help (default 5 s). */
void hrt_backend_set_status_ttl_ms(backend *b, int ms);
void hrt_backend_set_reset_backoff_ms(backend *b, int ms);

/*
 * The name to give HailoRT for HEF `path` (request field `what`): with
 * spec->allow, the file is opened beneath the allowed directories by the
 * kernel (common/paths) and the name is /proc/self/fd/N of that very file,
 * kept open on m until it is unloaded, so HailoRT reads what was checked;
 * without, path itself.  Writes the name into name (len bytes).  Returns 0
 * or a negative code with err.
 */
int hrt_model_file(const model_spec *spec, backend_model *m, const char *path, const char *what,
                   char *name, size_t len, hdm_err *err);

/* ---- hailort-dense.c ---------------------------------------------------------- */

/* Opens the InferModels of a clip/ocr/depth/pose model into m. */
int hrt_dense_load(backend *b, hrt_device *dev, const model_spec *spec, backend_model *m,
                   hdm_err *err);
int hrt_dense_infer(backend *b, backend_model *m, const infer_input *in, const infer_hooks *hooks,
                    infer_output *out, hdm_err *err);
/* OCR: {"detection_input_shape": [H, W, C]}. */
int hrt_dense_model_info(backend_model *m, cJSON *info);
/* Closes a net and frees what re-creating it needed.  Accepts a zeroed one. */
void hrt_netref_close(hrt_netref *r);

/* ---- hailort-genai-glue.c ------------------------------------------------------- */

int hrt_genai_load(backend *b, hrt_device *dev, const model_spec *spec, backend_model *m,
                   hdm_err *err);
int hrt_genai_infer(backend *b, backend_model *m, const infer_input *in, const infer_hooks *hooks,
                    infer_output *out, hdm_err *err);
/* Waits for a transcription left running and frees it (at unload). */
void hrt_s2t_job_finish(backend_model *m);

#endif
