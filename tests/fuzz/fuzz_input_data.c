/*
 * fuzz_input_data.c - input_data of each model type (infer_input_parse):
 * the first byte picks the model type (clip, vlm_chat, whisper, ocr, depth,
 * pose), the rest is the input_data JSON.  Three fixed attachments stand in
 * for a binary frame's tensors.  Also runs the model_params checks on the
 * same object, since clients send both.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/paths.h"
#include "fuzz_util.h"
#include "manager/infer_input.h"
#include "manager/job.h"

static path_allowlist allow;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!allow.n && path_allowlist_parse(&allow, fuzz_models_dir()) < 0)
        return 0;
    model_kind kind = (model_kind)(data[0] % MODEL_KIND__COUNT);
    cJSON *input = cJSON_ParseWithLength((const char *)data + 1, size - 1);
    if (!input)
        return 0;
    uint32_t n_att;
    const frame_attachment *att = fuzz_attachments(&n_att);
    job *j = calloc(1, sizeof(*j));
    if (j) {
        j->kind = kind;
        j->input.kind = kind;
        j->action = JOB_INFER;
        hdm_err err;
        hdm_err_clear(&err);
        if (infer_input_parse(j, input, att, n_att, &err) < 0 && err.msg[0] == '\0')
            abort();
        job_free(j);
    }
    if ((j = calloc(1, sizeof(*j)))) {
        j->kind = kind;
        j->input.kind = kind;
        j->action = JOB_LOAD;
        hdm_err err;
        hdm_err_clear(&err);
        if (infer_model_params_check(j, input, &(modelpath_resolver){.allow = &allow},
                                     data[0] & 0x80, &err) < 0 &&
            err.msg[0] == '\0')
            abort();
        job_free(j);
    }
    cJSON_Delete(input);
    return 0;
}
