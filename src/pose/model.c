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

int pose_model_start(pose_app *app)
{
    const svc_keeper_ops ops = {
        .model_name = app->cfg->model_name,
        .ready_log = "registered with the device manager",
        .log_each_reason = true,
        .status_action = "device_status",
        .ping_before_recheck = true,
        .model_type = POSE_MODEL_TYPE,
        .model_path = app->hef_path,
        .keep_alive = app->cfg->keep_alive,
        .user = app,
    };
    return svc_keeper_start(&ops, app->client, &app->model);
}
