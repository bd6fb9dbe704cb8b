/*
 * backend.c - the table of built-in backends, model type names, and the
 * infer_output helpers every backend uses (see backends/backend.h).
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "common/tensor.h"

static const backend_ops *const backends[] = {
#ifdef HDM_HAVE_HAILORT
    &backend_hailort_ops,
#endif
    &backend_sim_ops,
};

#define N_BACKENDS (sizeof(backends) / sizeof(backends[0]))

static const char *const backend_name_list[] = {
#ifdef HDM_HAVE_HAILORT
    "hailort",
#endif
    "sim",
    NULL,
};

const backend_ops *backend_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < N_BACKENDS; i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}

const char *const *backend_names(void)
{
    return backend_name_list;
}

/* Canonical names, indexed by model_kind. */
static const char *const kind_names[MODEL_KIND__COUNT] = {
    [MODEL_CLIP] = "clip", [MODEL_VLM] = "vlm_chat", [MODEL_WHISPER] = "whisper",
    [MODEL_OCR] = "ocr",   [MODEL_DEPTH] = "depth",  [MODEL_POSE] = "pose",
    [MODEL_LLM] = "llm",
};

int model_kind_parse(const char *model_type, model_kind *out)
{
    if (!model_type)
        return -1;
    /* "vlm" is the name old clients still send for vlm_chat. */
    if (strcmp(model_type, "vlm") == 0) {
        *out = MODEL_VLM;
        return 0;
    }
    for (int k = 0; k < MODEL_KIND__COUNT; k++) {
        if (strcmp(kind_names[k], model_type) == 0) {
            *out = (model_kind)k;
            return 0;
        }
    }
    return -1;
}

const char *model_kind_name(model_kind kind)
{
    if ((int)kind < 0 || kind >= MODEL_KIND__COUNT)
        return "unknown";
    return kind_names[kind];
}

bool model_kind_is_genai(model_kind kind)
{
    return kind == MODEL_VLM || kind == MODEL_LLM;
}

bool model_kind_generates_text(model_kind kind)
{
    return kind == MODEL_VLM || kind == MODEL_LLM;
}

const char *llm_role_name(enum llm_role role)
{
    switch (role) {
    case LLM_ROLE_SYSTEM:
        return "system";
    case LLM_ROLE_USER:
        return "user";
    case LLM_ROLE_ASSISTANT:
        return "assistant";
    case LLM_ROLE_TOOL:
        return "tool";
    }
    return "user";
}

bool model_kind_uses_genai_lane(model_kind kind)
{
    return model_kind_is_genai(kind) || kind == MODEL_WHISPER;
}

cJSON *infer_output_add_tensor(infer_output *out, const hdm_tensor *t)
{
    hdm_tensor *grown = realloc(out->tensors, (out->n_tensors + 1) * sizeof(*grown));
    cJSON *obj = grown ? tensor_ref_json(t, out->n_tensors) : NULL;
    if (grown)
        out->tensors = grown;
    if (!obj) {
        free(t->data);
        return NULL;
    }
    out->tensors[out->n_tensors++] = *t;
    return obj;
}

void infer_output_clear(infer_output *out)
{
    if (!out)
        return;
    cJSON_Delete(out->result);
    for (uint32_t i = 0; i < out->n_tensors; i++)
        free(out->tensors[i].data);
    free(out->tensors);
    memset(out, 0, sizeof(*out));
}

int backend_genai_taken(const char *resident_path, hdm_err *err)
{
    return hdm_err_set(err, HDM_E_RESOURCE_EXHAUSTED,
                       "HAILO_RESOURCE_EXHAUSTED: the KV cache is taken by GenAI model %s; the "
                       "Hailo-10H holds one GenAI model at a time",
                       resident_path);
}
