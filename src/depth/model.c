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

int depth_model_start(depth_app *app)
{
    const svc_keeper_ops ops = {
        .model_name = app->cfg->model_name,
        .ready_log = "registered with the device manager",
        .status_action = "status",
        .ping_before_recheck = true,
        .model_type = DEPTH_MODEL_TYPE,
        .model_path = app->hef_path,
        .keep_alive = app->cfg->keep_alive,
        .user = app,
    };
    return svc_keeper_start(&ops, app->client, &app->model);
}
