/*
 * generate.c - hailo-vision's generation: the vlm_chat request (the
 * conversation by reference, the frames as binary attachments, the
 * sampling parameters and stop sequences), run by chatapi's chat_gen_run
 * (streamed from the manager, cancelled when the client hangs up).  A
 * failure the model keeper should know about is reported to it.
 */
#include <stdlib.h>
#include <string.h>

#include "vision/vision.h"

static int build_request(const vision_config *cfg, const cJSON *prompt, const uint8_t *frames,
                         size_t n_frames, const chat_params *p, hdm_request **out)
{
    hdm_request *req = hdm_request_new("infer");
    if (!req)
        return -HDM_E_NOMEM;
    cJSON *j = hdm_request_json(req);
    cJSON *in = NULL, *fr = NULL;
    if (!cJSON_AddStringToObject(j, "model_type", VISION_MODEL_TYPE) ||
        !cJSON_AddStringToObject(j, "model_path", cfg->hef_path) ||
        !cJSON_AddNumberToObject(j, "keep_alive", cfg->keep_alive) ||
        !cJSON_AddStringToObject(j, "priority", "interactive") ||
        !(in = cJSON_AddObjectToObject(j, "input_data")) ||
        /* A reference: the prompt is serialised, never copied. */
        !cJSON_AddItemReferenceToObject(in, "prompt", (cJSON *)prompt) ||
        !(fr = cJSON_AddArrayToObject(in, "frames")) ||
        !cJSON_AddNumberToObject(in, "temperature", p->temperature) ||
        !cJSON_AddNumberToObject(in, "top_p", p->top_p) ||
        !cJSON_AddNumberToObject(in, "max_generated_tokens", p->max_tokens))
        goto fail;
    if (p->seed >= 0 && !cJSON_AddNumberToObject(in, "seed", p->seed))
        goto fail;
    if (p->n_stop > 0) {
        cJSON *st = cJSON_AddArrayToObject(in, "stop");
        if (!st)
            goto fail;
        for (int i = 0; i < p->n_stop; i++) {
            if (!p->stop[i][0])
                continue; /* an empty stop string never matches */
            cJSON *s = cJSON_CreateString(p->stop[i]);
            if (!s)
                goto fail;
            cJSON_AddItemToArray(st, s);
        }
        if (cJSON_GetArraySize(st) == 0)
            cJSON_DeleteItemFromObject(in, "stop");
    }
    for (size_t i = 0; i < n_frames; i++) {
        hdm_tensor t = {.dtype = HDM_DT_UINT8,
                        .ndim = 3,
                        .shape = {VISION_FRAME_SIDE, VISION_FRAME_SIDE, 3},
                        .data = (void *)(frames + i * VISION_FRAME_BYTES),
                        .nbytes = VISION_FRAME_BYTES};
        if (hdm_request_add_tensor(req, fr, NULL, &t) < 0)
            goto fail;
    }
    *out = req;
    return 0;
fail:
    hdm_request_free(req);
    return -HDM_E_NOMEM;
}

int gen_run(hdm_client *client, vision_model *model, const vision_config *cfg, const cJSON *prompt,
            const uint8_t *frames, size_t n_frames, const chat_params *p, stop_emit_fn emit,
            void *user, int cancel_fd, chat_result *out, hdm_err *err)
{
    hdm_request *req = NULL;
    memset(out, 0, sizeof(*out));
    if (build_request(cfg, prompt, frames, n_frames, p, &req) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory building the manager request");
    int r = chat_gen_run(client, req, cfg->timeout_s * 1000, p->stop, p->n_stop, p->max_tokens,
                         emit, user, cancel_fd, out, err);
    hdm_request_free(req);
    if (r < 0)
        svc_keeper_report(model, r);
    return r;
}
