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

#define PING_TIMEOUT_MS 2000

/* svc_keeper_ops.load: load_model, or only a ping when nothing stays resident. */
static int load(void *user, hdm_client *client, hdm_response **resp, bool *timed)
{
    const whisper_config *cfg = user;
    if (cfg->keep_alive == 0) {
        *timed = false;
        return hdm_ping(client, PING_TIMEOUT_MS);
    }
    return hdm_load_model(client, WHISPER_MODEL_TYPE, cfg->hef_path, NULL, cfg->keep_alive, resp);
}

int whisper_model_start(const whisper_config *cfg, hdm_client *client, whisper_model **out)
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

void whisper_model_release(whisper_model *m)
{
    const whisper_config *cfg = m ? svc_keeper_user(m) : NULL;
    if (!cfg || cfg->keep_alive >= 0)
        return;
    svc_keeper_halt(m); /* so the thread does not load it again */
    if (!svc_keeper_ready(m, NULL, 0))
        return; /* never loaded, or the manager is gone */
    /* The original unloaded its model on exit; a pinned model would
     * otherwise hold NPU memory for a service that is gone. */
    hdm_response *resp = NULL;
    int r = hdm_unload_model(svc_keeper_client(m), WHISPER_MODEL_TYPE, cfg->hef_path, &resp);
    if (r < 0)
        log_warn("could not unload %s: %s", cfg->hef_path,
                 resp && hdm_response_error(resp) ? hdm_response_error(resp) : hdm_strerror(r));
    else
        log_info("unloaded %s", cfg->hef_path);
    hdm_response_free(resp);
}

void whisper_model_report(whisper_model *m, int code)
{
    if (!m)
        return;
    if (code < 0)
        code = -code;
    if (code != HDM_E_UNAVAILABLE && code != HDM_E_NOT_FOUND && code != HDM_E_DEVICE_ERROR &&
        code != HDM_E_PROTOCOL)
        return;
    svc_keeper_recheck(m, code == HDM_E_UNAVAILABLE ? "device manager unavailable" : NULL);
}
