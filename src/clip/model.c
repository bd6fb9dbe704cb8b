/*
 * model.c - keeps hailo-clip's model registered with the device manager.
 *
 * DESIGN.  The registration thread itself is the shared svc_keeper
 * (svc/model_keeper.c); this file says what hailo-clip loads: load_model
 * (clip, the image HEF as model_path, the four model_params, keep_alive -1),
 * and that the warm-up runs after each load.  A request that saw the manager
 * unavailable or the model missing makes the keeper load it again at once.
 * Inference requests also carry model_params, so even a request that
 * arrives between a manager restart and our reload makes the manager load
 * the model itself.
 */
#include "clip/clip.h"
#include "svc/model_keeper.h"

#define CLIP_MODEL_TYPE "clip"

cJSON *clip_model_params(const clip_config *cfg)
{
    cJSON *p = cJSON_CreateObject();
    if (!p || !cJSON_AddStringToObject(p, "image_hef_path", cfg->image_hef_path) ||
        !cJSON_AddStringToObject(p, "text_hef_path", cfg->text_hef_path) ||
        !cJSON_AddStringToObject(p, "text_input_layer", cfg->text_input_layer) ||
        !cJSON_AddStringToObject(p, "text_output_layer", cfg->text_output_layer)) {
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}

/* svc_keeper_ops.load: one load_model of the CLIP pair; `user` is the config. */
static int load(void *user, hdm_client *client, hdm_response **resp, bool *timed)
{
    const clip_config *cfg = user;
    (void)timed;
    cJSON *params = clip_model_params(cfg);
    if (!params)
        return -HDM_E_NOMEM;
    int r = hdm_load_model(client, CLIP_MODEL_TYPE, cfg->image_hef_path, params, -1.0, resp);
    cJSON_Delete(params);
    return r;
}

int clip_model_start(const clip_config *cfg, hdm_client *client, void (*warmup)(void *user),
                     void *user, clip_model **out)
{
    const svc_keeper_ops ops = {
        .model_name = cfg->model_name,
        .ready_log = "registered with the device manager",
        .status_action = "status",
        .ping_before_recheck = false, /* a reported failure reloads (and warms up) at once */
        .load = load,
        .user = (void *)cfg,
        .warmup = warmup,
        .warmup_user = user,
    };
    /* The keeper publishes *out before its thread runs: the warm-up reaches it. */
    return svc_keeper_start(&ops, client, out);
}
