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

#define PING_TIMEOUT_MS 2000

/* svc_keeper_ops.load: load_model, or only a ping when nothing stays
 * resident; `user` is the config. */
static int load(void *user, hdm_client *client, hdm_response **resp, bool *timed)
{
    const vision_config *cfg = user;
    if (cfg->keep_alive == 0) {
        *timed = false;
        return hdm_ping(client, PING_TIMEOUT_MS);
    }
    return hdm_load_model(client, VISION_MODEL_TYPE, cfg->hef_path, NULL, cfg->keep_alive, resp);
}

int vision_model_start(const vision_config *cfg, hdm_client *client, vision_model **out)
{
    const svc_keeper_ops ops = {
        .model_name = cfg->model_name,
        .ready_log = "ready",
        .log_each_reason = true,
        .status_action = "device_status",
        .ping_before_recheck = true,
        .load = load,
        .user = (void *)cfg,
    };
    return svc_keeper_start(&ops, client, out);
}


void vision_model_release(vision_model *m)
{
    const vision_config *cfg = m ? svc_keeper_user(m) : NULL;
    if (!cfg || cfg->keep_alive >= 0)
        return;
    svc_keeper_halt(m); /* so the watcher does not load it again */
    if (!svc_keeper_ready(m, NULL, 0))
        return; /* never loaded, or the manager is gone: nothing to release */
    hdm_response *resp = NULL;
    int r = hdm_unload_model(svc_keeper_client(m), VISION_MODEL_TYPE, cfg->hef_path, &resp);
    if (r < 0)
        log_warn("could not unload %s: %s", cfg->hef_path,
                 resp && hdm_response_error(resp) ? hdm_response_error(resp) : hdm_strerror(r));
    else
        log_info("unloaded %s (it was pinned for this service)", cfg->hef_path);
    hdm_response_free(resp);
}




void vision_model_report(vision_model *m, int code)
{
    if (!m)
        return;
    if (code < 0)
        code = -code;
    if (code != HDM_E_UNAVAILABLE && code != HDM_E_NOT_FOUND && code != HDM_E_DEVICE_ERROR)
        return;
    svc_keeper_recheck(m, code == HDM_E_UNAVAILABLE ? "device manager unavailable" : NULL);
}
