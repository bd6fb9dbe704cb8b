/*
 * model.c - keeps scdepthv3 registered with the device manager.
 *
 * DESIGN.  The thread is the shared svc_keeper (svc/model_keeper.c): it
 * loads the model (model_type depth, no model_params, as the original's
 * load_model(hef, "depth")) with backoff while the manager is not up, then
 * pings it every 2 s, so a manager restart heals without restarting the
 * service.  model.keep_alive is honoured (the original ignored it): -1
 * keeps the model resident, 0 leaves it loaded only during a request (then
 * readiness means "the manager answers"), N seconds after the last use.
 * Every inference also names the model, so the manager loads it by itself
 * when it lost it.
 */
#include "depth/depth.h"

#define PING_TIMEOUT_MS 2000

/* svc_keeper_ops.load: `user` is the app. */
static int load(void *user, hdm_client *client, hdm_response **resp, bool *timed)
{
    const depth_app *app = user;
    if (app->cfg->keep_alive == 0) {
        *timed = false;
        return hdm_ping(client, PING_TIMEOUT_MS);
    }
    return hdm_load_model(client, DEPTH_MODEL_TYPE, app->hef_path, NULL, app->cfg->keep_alive,
                          resp);
}

int depth_model_start(depth_app *app)
{
    const svc_keeper_ops ops = {
        .model_name = app->cfg->model_name,
        .ready_log = "registered with the device manager",
        .status_action = "status",
        .ping_before_recheck = true,
        .load = load,
        .user = app,
    };
    return svc_keeper_start(&ops, app->client, &app->model);
}

void depth_model_report_failure(depth_app *app, int code)
{
    /* Only failures that say the manager or the model went away matter
     * here; a bad input or a busy queue says nothing about registration. */
    int c = code < 0 ? -code : code;
    if (c != HDM_E_UNAVAILABLE && c != HDM_E_NOT_FOUND && c != HDM_E_DEVICE_ERROR &&
        c != HDM_E_PROTOCOL)
        return;
    svc_keeper_recheck(app->model, c == HDM_E_UNAVAILABLE ? "device manager unavailable" : NULL);
}
