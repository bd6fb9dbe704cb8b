/*
 * manager.c - building and tearing down the manager's state, submitting
 * device work, preload and stop (see manager.h).
 */
#include "manager.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "infer_input.h"

/* The scheduler asks whether a model is resident (worker thread). */
static bool resident_cb(void *ctx, model_kind kind, const char *model_path)
{
    manager *m = ctx;
    return registry_is_resident(m->reg, kind, model_path);
}

/* Jobs the scheduler finishes without running (expired, cancelled,
 * shutdown) go where the worker's go. */
static void complete_cb(void *ctx, job *j)
{
    manager *m = ctx;
    m->answers.complete(m->answers.ctx, j);
}

/* One file about to be loaded, opened confined again; refused with the
 * request-time sentences (one answer for missing and forbidden). */
static int check_one(const model_spec *spec, const char *path, const char *what, hdm_err *err)
{
    char missing[128];
    path_file f;
    if (!path)
        return 0;
    if (strcmp(what, "model_path") == 0)
        snprintf(missing, sizeof(missing), "Model file not found");
    else
        snprintf(missing, sizeof(missing), "%s not found", what);
    int rc = modelpath_open(spec->allow, path, what, missing, &f, err, NULL);
    if (rc == 0)
        path_file_close(&f);
    return rc;
}

/* registry_check_fn: every file of spec is still a regular file beneath the
 * allowed directories the request was checked against (worker thread),
 * before anything (the footprint estimate included) looks at it. */
static int check_model_files(void *ctx, const model_spec *spec, hdm_err *err)
{
    (void)ctx;
    if (!spec->allow)
        return 0;
    int rc = check_one(spec, spec->model_path, "model_path", err);
    if (rc == 0)
        rc = check_one(spec, spec->clip_image_hef, "model_params.image_hef_path", err);
    if (rc == 0)
        rc = check_one(spec, spec->clip_text_hef, "model_params.text_hef_path", err);
    if (rc == 0)
        rc = check_one(spec, spec->ocr_detection_hef, "model_params.detection_hef_path", err);
    const cJSON *lang;
    cJSON_ArrayForEach(lang, spec->ocr_recognition_hefs)
    {
        if (rc < 0 || !cJSON_IsString(lang))
            break;
        char what[96];
        snprintf(what, sizeof(what), "model_params.recognition_hefs.%s", lang->string);
        rc = check_one(spec, lang->valuestring, what, err);
    }
    return rc;
}

/* Picks and opens the backend cfg names; never falls back from hardware to
 * the simulator on its own. */
static int open_backend(manager *m, hdm_err *err)
{
    const manager_config *cfg = m->cfg;
    backend_config bcfg = {.sim_config_path = cfg->sim_config, .group_id = cfg->group_id};
    hdm_err sub;
    hdm_err_clear(&sub);
    if (strcmp(cfg->backend, "sim") == 0) {
        m->ops = backend_find("sim");
        if (!m->ops)
            return hdm_err_set(err, HDM_E_UNAVAILABLE, "the sim backend is not built in");
        if (m->ops->open(&bcfg, &m->dev, &sub) < 0)
            return hdm_err_set(err, HDM_E_UNAVAILABLE, "cannot start the simulated device: %s",
                               sub.msg);
        return 0;
    }
    m->ops = backend_find("hailort");
    if (!m->ops) {
        if (strcmp(cfg->backend, "hailort") == 0)
            return hdm_err_set(err, HDM_E_UNAVAILABLE,
                               "this build has no HailoRT backend (HailoRT was not found when it "
                               "was built); use --backend sim to run on the simulated Hailo-10H");
        return hdm_err_set(err, HDM_E_UNAVAILABLE,
                           "no Hailo device: this build has no HailoRT backend. Refusing to "
                           "start rather than fall back silently; use --backend sim to run on "
                           "the simulated Hailo-10H");
    }
    if (m->ops->open(&bcfg, &m->dev, &sub) < 0) {
        m->dev = NULL;
        if (strcmp(cfg->backend, "hailort") == 0)
            return hdm_err_set(err, HDM_E_UNAVAILABLE, "cannot open the Hailo device: %s", sub.msg);
        return hdm_err_set(err, HDM_E_UNAVAILABLE,
                           "no Hailo device could be opened (%s). Refusing to start rather than "
                           "fall back silently; use --backend sim to run on the simulated "
                           "Hailo-10H",
                           sub.msg);
    }
    return 0;
}

/* parallel_genai: whether dense jobs get a worker of their own beside the
 * GenAI one (docs/SCHEDULING.md); auto asks the backend.  Logged, since it
 * decides how the device's work interleaves. */
static bool decide_parallel(manager *m)
{
    bool can = m->ops->parallel_genai && m->ops->parallel_genai(m->dev);
    const char *setting = m->cfg->parallel_genai == CONFIG_PARALLEL_ON    ? "on"
                          : m->cfg->parallel_genai == CONFIG_PARALLEL_OFF ? "off"
                                                                          : "auto";
    bool parallel = m->cfg->parallel_genai == CONFIG_PARALLEL_ON ||
                    (m->cfg->parallel_genai == CONFIG_PARALLEL_AUTO && can);
    if (parallel && !can)
        log_warn("parallel_genai: on, although the %s backend does not say this device can run "
                 "GenAI beside dense inference",
                 m->ops->name);
    if (parallel)
        log_info("device lanes: dense jobs (clip, ocr, depth, pose) run beside GenAI ones "
                 "(vlm, whisper, llm) (parallel_genai %s)",
                 setting);
    else
        log_info("device lanes: one worker runs every job in turn (parallel_genai %s%s)", setting,
                 m->cfg->parallel_genai == CONFIG_PARALLEL_AUTO ? ": the backend cannot" : "");
    return parallel;
}

int manager_new(const manager_config *cfg, const worker_hooks *answers, manager **out, hdm_err *err)
{
    if (!answers || !answers->complete)
        return hdm_err_set(err, HDM_E_INTERNAL, "manager_new: no completion hook");
    manager *m = calloc(1, sizeof(*m));
    if (!m)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    m->cfg = cfg;
    m->answers = *answers;
    m->started_ms = mono_ms();
    m->started_wall = wall_s();
    int rc;
    if (!(m->dirs = modelpath_dirs_new(cfg->model_dirs))) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        goto fail;
    }
    if ((rc = open_backend(m, err)) < 0)
        goto fail;
    hdm_err sub;
    hdm_err_clear(&sub);
    if (m->ops->identify(m->dev, &m->info, &sub) < 0) {
        log_warn("device identify failed: %s", sub.msg);
        snprintf(m->info.device_id, sizeof(m->info.device_id), "unknown");
    }
    if (registry_new(m->ops, m->dev, &cfg->reg, &m->reg) < 0) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "cannot create the model registry (out of memory)");
        goto fail;
    }
    registry_set_load_check(m->reg, check_model_files, m);
    m->parallel = decide_parallel(m);
    sched_config scfg = cfg->sched;
    scfg.parallel_lanes = m->parallel;
    hdm_err_clear(&sub);
    if ((rc = sched_new_err(&scfg, complete_cb, resident_cb, m, &m->sched, &sub)) < 0) {
        rc = hdm_err_set(err, rc, "cannot create the scheduler: %s", sub.msg);
        goto fail;
    }
    worker_hooks hooks = *answers;
    if ((rc = worker_start(m->sched, m->reg, &hooks, m->parallel, &m->worker)) < 0) {
        rc = hdm_err_set(err, rc, "cannot start the device worker threads");
        goto fail;
    }
    *out = m;
    return 0;
fail:
    manager_free(m);
    return rc;
}

void manager_free(manager *m)
{
    if (!m)
        return;
    worker_stop(m->worker);
    registry_free(m->reg);
    sched_free(m->sched);
    if (m->ops && m->dev)
        m->ops->close(m->dev);
    modelpath_dirs_unref(m->dirs);
    free(m);
}

job *manager_job_new(manager *m)
{
    job *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->id = ++m->next_job_id;
    j->received_ms = mono_ms();
    j->priority = PRIO_NORMAL;
    atomic_init(&j->cancelled, false);
    j->dirs = modelpath_dirs_ref(m->dirs);
    return j;
}

int manager_submit(manager *m, conn *c, job *j)
{
    if (c && conn_track_job(c, j) < 0)
        return hdm_err_set(&j->err, HDM_E_NOMEM, "out of memory");
    int rc = sched_submit(m->sched, j);
    if (rc < 0) {
        if (c)
            conn_untrack_job(c, j);
        return rc;
    }
    m->jobs_in_flight++;
    return 0;
}

void manager_job_finished(manager *m, const job *j)
{
    m->jobs_in_flight--;
    if (j->conn_id != 0)
        return;
    if (j->rc < 0)
        log_warn("preload %s %s failed: %s", j->model_type, j->model_path,
                 j->err.msg[0] ? j->err.msg : hdm_strerror(-j->rc));
    else
        log_info("preloaded %s %s", j->model_type, j->model_path);
    m->preload_pending--;
}

void manager_preload(manager *m)
{
    const manager_config *cfg = m->cfg;
    for (size_t i = 0; i < cfg->n_preload; i++) {
        const preload_entry *p = &cfg->preload[i];
        hdm_err err;
        hdm_err_clear(&err);
        job *j = manager_job_new(m);
        if (!j)
            fatal("out of memory");
        j->action = JOB_LOAD;
        j->priority = PRIO_REALTIME;
        snprintf(j->client_name, sizeof(j->client_name), "preload");
        int rc = -HDM_E_NOMEM;
        if (!(j->model_type = strdup(p->model_type)) ||
            model_kind_parse(p->model_type, &j->kind) < 0)
            goto fail;
        j->input.kind = j->kind;
        modelpath_resolver resolver = {.allow = modelpath_dirs_list(j->dirs)};
        if ((rc = infer_resolve_path(&resolver, j, p->model_path, "model_path",
                                     "model_path not found", &j->model_path, &err)) < 0)
            goto fail;
        j->has_keep_alive = p->has_keep_alive;
        j->keep_alive = p->keep_alive;
        if ((rc = infer_model_params_check(j, p->model_params, &resolver, true, &err)) < 0)
            goto fail;
        if ((rc = manager_submit(m, NULL, j)) < 0) {
            err = j->err;
            goto fail;
        }
        m->preload_pending++;
        continue;
    fail:
        log_warn("preload %s %s: %s", p->model_type, p->model_path,
                 err.msg[0] ? err.msg : hdm_strerror(-rc));
        job_free(j);
    }
}

/* The settings manager_reload cannot apply to a running manager, by name. */
static void note_restart_needed(const manager_config *old, const manager_config *fresh)
{
    char changed[256] = "";
    size_t n = 0;
#define DIFF_STR(name, a, b)                                                                       \
    if (((a) == NULL) != ((b) == NULL) || ((a) && strcmp((a), (b)) != 0))                          \
        n += (size_t)snprintf(changed + n, n < sizeof(changed) ? sizeof(changed) - n : 0, "%s%s",  \
                              n ? ", " : "", name);
#define DIFF_NUM(name, a, b)                                                                       \
    if ((a) != (b))                                                                                \
        n += (size_t)snprintf(changed + n, n < sizeof(changed) ? sizeof(changed) - n : 0, "%s%s",  \
                              n ? ", " : "", name);
    DIFF_STR("socket", old->socket_path, fresh->socket_path)
    DIFF_STR("http_bind", old->http_bind, fresh->http_bind)
    DIFF_STR("http_bearer_token", old->http_token, fresh->http_token)
    DIFF_STR("dashboard.dir", old->dashboard.dir, fresh->dashboard.dir)
    DIFF_NUM("dashboard.services", old->dashboard.n_services, fresh->dashboard.n_services)
    DIFF_NUM("dashboard.interval_ms", old->dashboard.interval_ms, fresh->dashboard.interval_ms)
    DIFF_STR("backend", old->backend, fresh->backend)
    DIFF_STR("sim_config", old->sim_config, fresh->sim_config)
    DIFF_NUM("max_message_bytes", old->max_message_bytes, fresh->max_message_bytes)
    DIFF_NUM("limits.frame_timeout_ms", old->frame_timeout_ms, fresh->frame_timeout_ms)
    DIFF_NUM("limits.max_buffered_bytes", old->max_buffered_bytes, fresh->max_buffered_bytes)
    DIFF_NUM("parallel_genai", old->parallel_genai, fresh->parallel_genai)
    DIFF_NUM("scheduler.mode", old->sched.mode, fresh->sched.mode)
    DIFF_NUM("scheduler.max_queue", old->sched.max_queue, fresh->sched.max_queue)
    DIFF_NUM("scheduler.client_priority", old->n_client_priority, fresh->n_client_priority)
    DIFF_NUM("registry.max_evictions", old->reg.max_evictions, fresh->reg.max_evictions)
    DIFF_NUM("registry.default_keep_alive", old->reg.default_keep_alive,
             fresh->reg.default_keep_alive)
    DIFF_NUM("preload", old->n_preload, fresh->n_preload)
#undef DIFF_STR
#undef DIFF_NUM
    if (n)
        log_info("reload: changed settings that take effect at the next start: %s", changed);
}

void manager_reload(manager *m)
{
    manager_config fresh;
    hdm_err err;
    hdm_err_clear(&err);
    log_info("SIGHUP: reloading %s", m->cfg->config_path ? m->cfg->config_path : "the settings");
    int rc = config_load(&fresh, m->cfg->argc, m->cfg->argv, &err);
    if (rc != 0) {
        log_error("reload: configuration not applied, the running settings stay: %s",
                  rc < 0 ? err.msg : "nothing to load");
        config_free(&fresh);
        return;
    }
    if (fresh.log_level != log_get_level()) {
        log_set_level(fresh.log_level);
        log_info("reload: log_level is now %s",
                 (const char *[]){"error", "warn", "info", "debug"}[fresh.log_level]);
    }
    if (strcmp(fresh.model_dirs, modelpath_dirs_text(m->dirs)) != 0) {
        modelpath_dirs *dirs = modelpath_dirs_new(fresh.model_dirs);
        if (!dirs) {
            log_error("reload: out of memory; model_dirs not changed");
        } else {
            /* Queued jobs keep the list they were checked against. */
            modelpath_dirs_unref(m->dirs);
            m->dirs = dirs;
            registry_forget_paths(m->reg); /* spellings are checked against the new list */
            log_info("reload: model_dirs is now %s", modelpath_dirs_text(dirs));
        }
    }
    note_restart_needed(m->cfg, &fresh);
    config_free(&fresh);
}

bool manager_cancel_running(manager *m)
{
    return sched_cancel_running(m->sched);
}

void manager_begin_stop(manager *m)
{
    if (m->stopping)
        return;
    m->stopping = true;
    sched_shutdown(m->sched);
}
