/*
 * model.c - keeps hailo-ocr's model registered with the device manager.
 *
 * DESIGN.  One manager model of type "ocr" holds the detection network and
 * a recognition network per language (ORIGINAL-SERVICES.md §1): model_path
 * is the detection HEF, model_params names every recognition HEF and its
 * batch size.  As the original does at start, each load looks the HEF
 * names up (models_root, then the vendor and state directories) and sends
 * the languages whose file exists; when none does, it sends them all, so
 * the manager's "Model file not found: PATH" says what is missing.  The
 * registration thread is the shared svc_keeper (svc/model_keeper.c): it
 * retries with backoff, pings, and reloads after a reported failure, so a
 * manager restart heals by itself.  What a successful load found (the
 * detection input size from model_info, the languages, the params to send
 * with every inference) is published in app->info under app->mu.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "image/imgproc.h"
#include "ocr/ocr.h"

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    return p;
}

char *ocr_model_resolve(const ocr_config *cfg, const char *name, bool *exists)
{
    *exists = false;
    if (name[0] == '/') {
        *exists = is_file(name);
        return strdup(name);
    }
    const char *dirs[] = {cfg->models_root, OCR_VENDOR_MODELS, OCR_STATE_MODELS};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char *p = join(dirs[i], name);
        if (!p)
            return NULL;
        if (is_file(p)) {
            *exists = true;
            return p;
        }
        free(p);
    }
    return join(cfg->models_root, name);
}

void ocr_model_info_free(ocr_model_info *info)
{
    free(info->det_path);
    cJSON_Delete(info->params);
    info->det_path = NULL;
    info->params = NULL;
}

/* model_params for the languages marked in found[] (all when none is). */
static cJSON *build_params(const ocr_config *cfg, const char *det_path, bool found[OCR_MAX_LANGS])
{
    cJSON *p = cJSON_CreateObject();
    cJSON *rec = NULL, *bs = NULL;
    if (!p || !cJSON_AddStringToObject(p, "detection_hef_path", det_path) ||
        !(rec = cJSON_AddObjectToObject(p, "recognition_hefs")) ||
        !(bs = cJSON_AddObjectToObject(p, "batch_sizes")))
        goto fail;
    bool any = false;
    for (size_t i = 0; i < cfg->n_langs; i++)
        any = any || found[i];
    for (size_t i = 0; i < cfg->n_langs; i++) {
        if (any && !found[i])
            continue;
        bool exists;
        char *path = ocr_model_resolve(cfg, cfg->langs[i].hef, &exists);
        bool ok = path && cJSON_AddStringToObject(rec, cfg->langs[i].code, path) &&
                  cJSON_AddNumberToObject(bs, cfg->langs[i].code, cfg->batch_size_rec);
        free(path);
        if (!ok)
            goto fail;
    }
    return p;
fail:
    cJSON_Delete(p);
    return NULL;
}

/* model_info.detection_input_shape [H, W, 3] into *w, *h; the original's
 * 640 x 640 when the answer has none.  0 or -HDM_E_PROTOCOL. */
static int detection_shape(const cJSON *answer, int *w, int *h, char *why, size_t len)
{
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(answer, "model_info");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(info, "detection_input_shape");
    if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) != 3) {
        *w = *h = 640;
        return 0;
    }
    double v[3];
    for (int i = 0; i < 3; i++) {
        const cJSON *e = cJSON_GetArrayItem(shape, i);
        v[i] = cJSON_IsNumber(e) ? e->valuedouble : -1;
    }
    if (!(v[0] >= 1 && v[0] <= IMGPROC_MAX_SIDE && v[1] >= 1 && v[1] <= IMGPROC_MAX_SIDE) ||
        v[2] != 3 || v[0] != (int)v[0] || v[1] != (int)v[1]) {
        snprintf(why, len, "model_info.detection_input_shape [%g, %g, %g] is not [H, W, 3]", v[0],
                 v[1], v[2]);
        return -HDM_E_PROTOCOL;
    }
    *h = (int)v[0];
    *w = (int)v[1];
    return 0;
}

/* svc_keeper_ops.load: one load_model of the ocr model; `user` is the app. */
static int load(void *user, hdm_client *client, hdm_response **resp, bool *timed)
{
    ocr_app *app = user;
    const ocr_config *cfg = app->cfg;
    bool found[OCR_MAX_LANGS] = {false}, det_exists;
    (void)timed;
    char *det = ocr_model_resolve(cfg, cfg->detection_hef, &det_exists);
    if (!det)
        return -HDM_E_NOMEM;
    for (size_t i = 0; i < cfg->n_langs; i++) {
        char *p = ocr_model_resolve(cfg, cfg->langs[i].hef, &found[i]);
        if (!p) {
            free(det);
            return -HDM_E_NOMEM;
        }
        free(p);
    }
    cJSON *params = build_params(cfg, det, found);
    if (!params) {
        free(det);
        return -HDM_E_NOMEM;
    }
    int r = hdm_load_model(client, OCR_MODEL_TYPE, det, params, cfg->keep_alive, resp);
    int w = 0, h = 0;
    char why[160] = "";
    if (r == 0 && (r = detection_shape(hdm_response_json(*resp), &w, &h, why, sizeof(why))) < 0)
        log_warn("%s", why);
    if (r < 0) {
        free(det);
        cJSON_Delete(params);
        return r;
    }
    bool any = false;
    for (size_t i = 0; i < cfg->n_langs; i++)
        any = any || found[i];
    pthread_mutex_lock(&app->mu);
    bool changed = !app->info.have || app->info.det_w != w || app->info.det_h != h;
    for (size_t i = 0; i < cfg->n_langs; i++) {
        /* Sent without being found (none was): the manager has it now. */
        bool now = found[i] || !any;
        changed = changed || app->info.found[i] != now;
        app->info.found[i] = now;
    }
    ocr_model_info_free(&app->info);
    app->info.det_path = det;
    app->info.params = params;
    app->info.det_w = w;
    app->info.det_h = h;
    app->info.have = true;
    app->info.loads++;
    pthread_mutex_unlock(&app->mu);
    if (changed) {
        char langs[256] = "";
        size_t n = 0;
        for (size_t i = 0; i < cfg->n_langs && n < sizeof(langs); i++)
            n += (size_t)snprintf(langs + n, sizeof(langs) - n, "%s%s%s", n ? ", " : "",
                                  cfg->langs[i].code, found[i] || !any ? "" : " (no model file)");
        log_info("detection %s, input %dx%d; recognition: %s", det, w, h, langs);
    }
    return 0;
}

int ocr_model_start(ocr_app *app)
{
    const svc_keeper_ops ops = {
        .model_name = OCR_MODEL_TYPE,
        .ready_log = "registered with the device manager",
        .status_action = "status",
        .ping_before_recheck = true, /* a reported failure pings, then reloads in place */
        .load = load,
        .user = app,
    };
    return svc_keeper_start(&ops, app->client, &app->model);
}
