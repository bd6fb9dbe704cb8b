/*
 * hailort-backend.h - internals shared by the files of the HailoRT backend
 * (backend-hailort.c: device and model lifecycle; hailort-dense.c: clip,
 * ocr, depth and pose through InferModel; hailort-genai-glue.c: VLM and
 * Speech2Text).  Not a public contract: the manager only sees
 * backend_hailort_ops from backends/backend.h.  Built only with HailoRT.
 */
#ifndef HDM_BACKENDS_HAILORT_BACKEND_H
#define HDM_BACKENDS_HAILORT_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hailort-rt.h"
#include "backend.h"
#include "hooks.h"

/* One OCR recognition model: a language and its batch size. */
typedef struct hrt_ocr_rec {
    char *lang;
    hrt_net *net;
    int batch_size;
} hrt_ocr_rec;

struct backend_model {
    model_kind kind;
    char *path;
    uint64_t footprint; /* bytes of device RAM measured around the load */
    hrt_net *net;       /* depth, pose, clip image, ocr detection */
    hrt_net *text_net;  /* clip text encoder */
    int text_input;     /* clip: index of text_input_layer among text_net's inputs */
    int text_output;    /* clip: index of text_output_layer among its outputs */
    hrt_ocr_rec *rec;   /* ocr recognition, one per language */
    size_t n_rec;
    hrt_vlm *vlm;
    hrt_s2t *s2t;
    path_file *files; /* the HEFs HailoRT was given as /proc/self/fd/N, open until unload */
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

/* True when a HailoRT call said the device is gone (until reset()). */
bool hrt_backend_lost(const backend *b);

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

/* ---- hailort-genai-glue.c ------------------------------------------------------- */

int hrt_genai_load(backend *b, hrt_device *dev, const model_spec *spec, backend_model *m,
                   hdm_err *err);
int hrt_genai_infer(backend *b, backend_model *m, const infer_input *in, const infer_hooks *hooks,
                    infer_output *out, hdm_err *err);

#endif
