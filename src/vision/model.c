/*
 * model.c - keeps the VLM loaded on the device manager.
 *
 * DESIGN.  The background thread is the shared svc_keeper
 * (svc/model_keeper.c): it loads the model at start (retrying with backoff
 * while the manager is not up), then pings the manager every 2 s, and a
 * manager restart heals by itself.  This file says what hailo-vision loads
 * (vlm_chat, the HEF, model.keep_alive) and how a failed request is taken:
 * "unavailable" marks the model not ready at once (/health/ready answers 503
 * with the reason); a missing model or a device error makes the keeper ping
 * and then load again.  libhailodm also replays the load on reconnect, so a
 * request that arrives first is not lost either.  With model.keep_alive 0
 * the model is only resident during a request, so readiness means "the
 * manager answers".
 */
#include "common/log.h"
#include "svc/model_keeper.h"
#include "vision/vision.h"

int vision_model_start(const vision_config *cfg, hdm_client *client, vision_model **out)
{
    const svc_keeper_ops ops = {
        .model_name = cfg->model_name,
        .ready_log = "ready",
        .log_each_reason = true,
        .status_action = "device_status",
        .ping_before_recheck = true,
        .model_type = VISION_MODEL_TYPE,
        .model_path = cfg->hef_path,
        .keep_alive = cfg->keep_alive,
        .user = (void *)cfg,
    };
    return svc_keeper_start(&ops, client, out);
}
