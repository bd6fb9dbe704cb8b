/*
 * model.c - keeps yolov8s_pose registered with the device manager.
 *
 * DESIGN.  The background thread is the shared svc_keeper
 * (svc/model_keeper.c); this file says what hailo-pose loads: load_model
 * (pose, the HEF, model.keep_alive) and how a failed request is taken.  The
 * original loaded the model before binding and failed to start without a
 * manager; here the service serves from the start and /health/ready answers
 * 503 ("model_loading") until the load went through, and a manager restart
 * heals by itself.  Every inference also names the model, so the manager
 * loads it on its own when a request arrives first.  With
 * model.keep_alive 0 the model is resident only during a request, so
 * readiness means "the manager answers".
 */
#include "common/log.h"
#include "pose/pose.h"

#define PING_TIMEOUT_MS 2000

/* svc_keeper_ops.load: load_model, or only a ping when nothing stays
 * resident; `user` is the app. */
static int load(void *user, hdm_client *client, hdm_response **resp, bool *timed)
{
    const pose_app *app = user;
    if (app->cfg->keep_alive == 0) {
        *timed = false;
        return hdm_ping(client, PING_TIMEOUT_MS);
    }
    return hdm_load_model(client, POSE_MODEL_TYPE, app->hef_path, NULL, app->cfg->keep_alive, resp);
}

int pose_model_start(pose_app *app)
{
    const svc_keeper_ops ops = {
        .model_name = app->cfg->model_name,
        .ready_log = "registered with the device manager",
        .log_each_reason = true,
        .status_action = "device_status",
        .ping_before_recheck = true,
        .load = load,
        .user = app,
    };
    return svc_keeper_start(&ops, app->client, &app->model);
}

void pose_model_report(pose_app *app, int code)
{
    /* Only failures that say the manager or the model went away matter
     * here; a bad input or a busy queue says nothing about registration. */
    int c = code < 0 ? -code : code;
    if (!app->model || (c != HDM_E_UNAVAILABLE && c != HDM_E_NOT_FOUND && c != HDM_E_DEVICE_ERROR &&
                        c != HDM_E_PROTOCOL))
        return;
    svc_keeper_recheck(app->model, c == HDM_E_UNAVAILABLE ? "device manager unavailable" : NULL);
}

void pose_model_release(pose_app *app)
{
    if (!app->model || app->cfg->keep_alive >= 0)
        return;
    svc_keeper_halt(app->model); /* so the keeper does not load it again */
    if (!svc_keeper_ready(app->model, NULL, 0))
        return; /* never loaded, or the manager is gone: nothing to release */
    hdm_response *resp = NULL;
    int r = hdm_unload_model(app->client, POSE_MODEL_TYPE, app->hef_path, &resp);
    if (r < 0)
        log_warn("could not unload %s: %s", app->hef_path,
                 resp && hdm_response_error(resp) ? hdm_response_error(resp) : hdm_strerror(r));
    else
        log_info("unloaded %s (it was pinned for this service)", app->hef_path);
    hdm_response_free(resp);
}
