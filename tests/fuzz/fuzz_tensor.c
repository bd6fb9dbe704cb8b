/*
 * fuzz_tensor.c - tensor objects: tensor_from_json on any JSON value (with
 * three fixed attachments for {"attachment": i}), then the checks a model
 * applies (tensor_expect) and the way back (tensor_to_json, v1 and binary).
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/tensor.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *obj = cJSON_ParseWithLength((const char *)data, size);
    if (!obj)
        return 0;
    uint32_t n_att;
    const frame_attachment *att = fuzz_attachments(&n_att);
    hdm_tensor t;
    void *owned = NULL;
    hdm_err err;
    hdm_err_clear(&err);
    if (tensor_from_json(obj, "input_data.tensor", att, n_att, &t, &owned, &err) == 0) {
        static const int64_t shape[] = {1, 224, 224, 3};
        tensor_expect(&t, "input_data.tensor", HDM_DT_UINT8, 4, shape, &err);
        cJSON *v1 = tensor_to_json(&t, NULL, NULL);
        cJSON_Delete(v1);
        frame_attachment *out = NULL;
        uint32_t n_out = 0;
        cJSON *bin = tensor_to_json(&t, &out, &n_out);
        cJSON_Delete(bin);
        free(out);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    free(owned);
    cJSON_Delete(obj);
    return 0;
}
