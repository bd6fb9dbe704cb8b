/*
 * model.c - keeps hailo-whisper's model registered with the device manager.
 *
 * DESIGN.  The background thread is the shared svc_keeper
 * (svc/model_keeper.c): load_model (whisper, model.hef_path,
 * model.keep_alive) at start, retried with backoff while the manager is not
 * up, then a ping every 2 s; a manager restart heals by itself.  With
 * model.keep_alive 0 the model is resident only while a request runs (the
 * original unloaded it after each request), so readiness means "the manager
 * answers" and nothing is loaded ahead.  Every window a request sends
 * carries the model path and keep_alive, so the manager loads the model
 * itself when it is not resident (after an idle unload, for instance).
 */
#include "common/log.h"
#include "svc/model_keeper.h"
#include "whisper/whisper.h"

int whisper_model_start(const whisper_config *cfg, hdm_client *client, whisper_model **out)
{
    const svc_keeper_ops ops = {
        .model_name = cfg->model_name,
        .ready_log = "ready",
        .log_each_reason = true,
        .status_action = "device_status",
        .ping_before_recheck = true,
        .model_type = WHISPER_MODEL_TYPE,
        .model_path = cfg->hef_path,
        .keep_alive = cfg->keep_alive,
        .user = (void *)cfg,
    };
    return svc_keeper_start(&ops, client, out);
}
