/*
 * pipeline.c - one OCR request from encoded bytes to regions (ocr.h), the
 * original's steps (ORIGINAL-SERVICES.md §2.4-2.6) on src/ocrpost:
 *
 *   decode (as cv2.imdecode: EXIF orientation applied) within
 *     images.max_pixels / max_decode_ms, holding a decode-gate slot
 *   ocr_det_prepare: letterbox to the detection input, cubic, pad 128
 *   manager: infer ocr, mode detection -> float32 map [H, W, C]
 *   ocr_host_map + ocr_host_boxes: the map back at the image's size a band
 *     at a time (ocr_det_map_rows) through DB (ocr_db_boxes_rows), then
 *     ocr_order_reading
 *   per language, per batch of batch_size_rec boxes: ocr_batch_fill
 *     (masked, rectified, letterboxed 48 x 320 crops) -> manager: infer
 *     ocr, mode recognition -> one float32 [T, C] per crop -> greedy CTC
 *
 * Every box keeps its own crop and text (the original let them fall out of
 * step; docs/OCR.md).  Every inference carries model_params, so a manager
 * that lost the model loads it again by itself.  The big buffers come from
 * a workspace kept between requests (workspace.c).
 */
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "image/image.h"
#include "image/imgproc.h"
#include "ocr/ocr.h"
#include "ocrpost/crop.h"
#include "ocrpost/det.h"
#include "ocrpost/order.h"

/* A workspace may keep buffers for pages up to about 4 Mpixel (2560 x
 * 1600): 9 bytes a pixel plus the detection input and a batch. */
#define KEEP_BYTES ((size_t)40 * 1024 * 1024)

int ocr_app_init(ocr_app *app, const ocr_config *cfg, hdm_err *err)
{
    app->cfg = cfg;
    pthread_mutex_init(&app->mu, NULL);
    memset(&app->info, 0, sizeof(app->info));
    ocr_workspace_pool_init(&app->pool, KEEP_BYTES);
    memset(&app->allowed_dirs, 0, sizeof(app->allowed_dirs));
    for (size_t i = 0; i < cfg->allowed_dirs.n; i++) {
        path_allowlist one = {0};
        /* One directory per entry: a name may hold a ':' */
        if (path_allowlist_parse(&one, cfg->allowed_dirs.items[i]) < 0)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        char **dirs = realloc(app->allowed_dirs.dirs,
                              (app->allowed_dirs.n + one.n) * sizeof(char *));
        if (!dirs) {
            path_allowlist_free(&one);
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        }
        app->allowed_dirs.dirs = dirs;
        for (size_t k = 0; k < one.n; k++)
            dirs[app->allowed_dirs.n++] = one.dirs[k];
        free(one.dirs);
    }
    return 0;
}

void ocr_app_free(ocr_app *app)
{
    ocr_workspace_pool_free(&app->pool);
    path_allowlist_free(&app->allowed_dirs);
    ocr_model_info_free(&app->info);
    pthread_mutex_destroy(&app->mu);
}

int ocr_app_info(ocr_app *app, ocr_model_info *out)
{
    pthread_mutex_lock(&app->mu);
    *out = app->info;
    out->det_path = app->info.det_path ? strdup(app->info.det_path) : NULL;
    out->params = app->info.params ? cJSON_Duplicate(app->info.params, 1) : NULL;
    bool ok = (!app->info.det_path || out->det_path) && (!app->info.params || out->params);
    pthread_mutex_unlock(&app->mu);
    if (!ok) {
        ocr_model_info_free(out);
        return -HDM_E_NOMEM;
    }
    return 0;
}

void ocr_result_free(ocr_result *r)
{
    if (!r)
        return;
    free(r->regions);
    r->regions = NULL;
    r->n = 0;
}

static bool fd_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* ---- manager calls -------------------------------------------------------- */

/* Maps a failed manager call onto what the service reports. */
static int manager_failure(ocr_app *app, int r, hdm_response *resp, const char *mode,
                           int cancel_fd, hdm_err *err)
{
    if (r == -HDM_E_CANCELLED && fd_readable(cancel_fd))
        return hdm_err_set(err, HDM_E_CANCELLED, "the client went away");
    const char *why = resp ? hdm_response_error(resp) : NULL;
    int code = r < 0 ? -r : HDM_E_INTERNAL;
    svc_keeper_report(app->model, code);
    /* Our request was wrong (or the model does not have what we sent),
     * not the client's. */
    if (code == HDM_E_BAD_REQUEST || code == HDM_E_NOT_FOUND || code == HDM_E_UNSUPPORTED ||
        code == HDM_E_TOO_LARGE)
        code = HDM_E_INTERNAL;
    return hdm_err_set(err, code, "%s inference failed: %s", mode, why ? why : hdm_strerror(r));
}

/* A new infer request of the ocr model with `mode`; *input gets input_data. */
static hdm_request *infer_request(const ocr_app *app, const ocr_model_info *info, const char *mode,
                                  cJSON **input)
{
    hdm_request *req = hdm_request_new("infer");
    cJSON *j = req ? hdm_request_json(req) : NULL;
    cJSON *params = info->params ? cJSON_Duplicate(info->params, 1) : NULL;
    if (!j || !params || !cJSON_AddStringToObject(j, "model_type", OCR_MODEL_TYPE) ||
        !cJSON_AddStringToObject(j, "model_path", info->det_path) ||
        !cJSON_AddItemToObject(j, "model_params", params)) {
        cJSON_Delete(params);
        hdm_request_free(req);
        return NULL;
    }
    if (!cJSON_AddNumberToObject(j, "keep_alive", app->cfg->keep_alive) ||
        !cJSON_AddStringToObject(j, "priority", "interactive") ||
        !(*input = cJSON_AddObjectToObject(j, "input_data")) ||
        !cJSON_AddStringToObject(*input, "mode", mode)) {
        hdm_request_free(req);
        return NULL;
    }
    return req;
}

static int call(ocr_app *app, hdm_request *req, int cancel_fd, hdm_response **resp)
{
    if (cancel_fd >= 0)
        hdm_request_set_cancel_fd(req, cancel_fd);
    return hdm_call(app->client, req, app->cfg->timeout_s * 1000, resp);
}

/* Drops leading 1s of a tensor's shape (the manager's binary answers add
 * one; the original's Python shapes have none). */
static int squeeze(const hdm_tensor *t, int64_t *dims, int max)
{
    int first = 0;
    while (first < t->ndim - 1 && t->shape[first] == 1)
        first++;
    int n = t->ndim - first;
    if (n > max)
        return -1;
    for (int i = 0; i < n; i++)
        dims[i] = t->shape[first + i];
    return n;
}

/* Detection of the letterboxed input in ws->bytes, and the boxes of its
 * map [det_h, det_w, C] (ocr_host_map, ocr_host_boxes: read in place, a
 * band at a time), after which the answer that held the map is freed. */
static int detect(ocr_app *app, const ocr_model_info *info, ocr_workspace *ws, int width,
                  int height, int cancel_fd, ocr_boxes *boxes, hdm_err *err)
{
    cJSON *input = NULL;
    hdm_response *resp = NULL;
    hdm_request *req = infer_request(app, info, "detection", &input);
    hdm_tensor in = {
        .dtype = HDM_DT_UINT8,
        .ndim = 3,
        .shape = {info->det_h, info->det_w, 3},
        .data = ws->bytes,
        .nbytes = (size_t)info->det_w * (size_t)info->det_h * 3,
    };
    int r;
    if (!req || hdm_request_add_tensor(req, input, "image", &in) < 0) {
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the detection request");
        goto out;
    }
    r = call(app, req, cancel_fd, &resp);
    if (r < 0) {
        r = manager_failure(app, r, resp, "detection", cancel_fd, err);
        goto out;
    }
    hdm_tensor t;
    int64_t d[3];
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(hdm_response_json(resp), "result");
    int nd = hdm_response_tensor(resp, result, &t) < 0 || t.dtype != HDM_DT_FLOAT32
                 ? -1
                 : squeeze(&t, d, 3);
    if (nd == 2)
        d[2] = 1;
    if (nd < 2 || d[0] != info->det_h || d[1] != info->det_w || d[2] < 1 || d[2] > 64 ||
        t.nbytes != (size_t)(d[0] * d[1] * d[2]) * sizeof(float)) {
        r = hdm_err_set(err, HDM_E_INTERNAL,
                        "detection inference answered no float32 map of %dx%d for its input",
                        info->det_w, info->det_h);
        goto out;
    }
    /* The detection input is sent: its buffer takes the bitmap. */
    r = ocr_host_map(ws, t.data, info->det_w, info->det_h, (int)d[2], width, height, err);
    if (r == 0)
        r = ocr_host_boxes(ws, width, height, boxes, err);
out:
    hdm_response_free(resp);
    hdm_request_free(req);
    return r;
}

/* Recognition of `count` inputs at `inputs` with language lang; each
 * output decoded into regions[first + i] when it reads more confidently
 * than what is there. */
static int recognize(ocr_app *app, const ocr_model_info *info, uint8_t *inputs, int lang,
                     size_t count, ocr_region *regions, int cancel_fd, hdm_err *err)
{
    const ocr_config *cfg = app->cfg;
    cJSON *input = NULL, *crops = NULL;
    hdm_response *resp = NULL;
    hdm_request *req = infer_request(app, info, "recognition", &input);
    int r = 0;
    if (!req || !cJSON_AddStringToObject(input, "language", cfg->langs[lang].code) ||
        !(crops = cJSON_AddArrayToObject(input, "crops")) ||
        !cJSON_AddNumberToObject(input, "batch_size", cfg->batch_size_rec))
        r = -HDM_E_NOMEM;
    for (size_t i = 0; r == 0 && i < count; i++) {
        hdm_tensor in = {
            .dtype = HDM_DT_UINT8,
            .ndim = 3,
            .shape = {OCR_REC_HEIGHT, OCR_REC_WIDTH, 3},
            .data = inputs + i * OCR_REC_INPUT_BYTES,
            .nbytes = OCR_REC_INPUT_BYTES,
        };
        r = hdm_request_add_tensor(req, crops, NULL, &in);
    }
    if (r < 0) {
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the recognition request");
        goto out;
    }
    r = call(app, req, cancel_fd, &resp);
    if (r < 0) {
        r = manager_failure(app, r, resp, "recognition", cancel_fd, err);
        goto out;
    }
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(hdm_response_json(resp), "result");
    if (!cJSON_IsArray(list) || (size_t)cJSON_GetArraySize(list) != count) {
        r = hdm_err_set(err, HDM_E_INTERNAL,
                        "recognition inference answered %d outputs for %zu crops",
                        cJSON_IsArray(list) ? cJSON_GetArraySize(list) : -1, count);
        goto out;
    }
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        hdm_tensor t;
        int64_t d[2];
        int nd = hdm_response_tensor(resp, item, &t) < 0 || t.dtype != HDM_DT_FLOAT32
                     ? -1
                     : squeeze(&t, d, 2);
        if (nd != 2 || d[0] < 1 || d[0] > OCR_TEXT_MAX || d[1] < 1 || d[1] > (1 << 20) ||
            t.nbytes != (size_t)(d[0] * d[1]) * sizeof(float)) {
            r = hdm_err_set(err, HDM_E_INTERNAL,
                            "recognition output %zu is not a float32 [steps, classes] tensor of "
                            "at most %d steps",
                            i, OCR_TEXT_MAX);
            goto out;
        }
        char text[OCR_TEXT_MAX + 1];
        double conf;
        r = ocr_host_text(t.data, (size_t)d[0], (size_t)d[1], text, &conf, err);
        if (r < 0) {
            hdm_err_prefix(err, "the '%s' recognition model", cfg->langs[lang].code);
            goto out;
        }
        ocr_region *reg = &regions[i];
        if (reg->lang < 0 || conf > reg->confidence) {
            memcpy(reg->text, text, sizeof(text));
            reg->confidence = conf;
            reg->lang = lang;
        }
        i++;
    }
out:
    hdm_response_free(resp);
    hdm_request_free(req);
    return r;
}

/* ---- the request ------------------------------------------------------------ */

int ocr_pipeline_run(ocr_app *app, const ocr_model_info *info, const image *img, const int *idx,
                     size_t n_langs, int cancel_fd, void (*detected)(void *user), void *user,
                     ocr_result *out, hdm_err *err)
{
    const ocr_config *cfg = app->cfg;
    ocr_boxes boxes = {0};
    ocr_workspace *ws = NULL;
    int r;
    memset(out, 0, sizeof(*out));
    if (!info->have || !info->det_path || !info->params)
        return hdm_err_set(err, HDM_E_UNAVAILABLE, "the model is not loaded yet");
    ws = ocr_workspace_get(&app->pool);
    if (!ws) {
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        goto out;
    }

    /* Detection (the original's times start here: decoding is not in them). */
    double t0 = mono_s();
    if ((r = ocr_host_letterbox(ws, img, info->det_w, info->det_h, err)) < 0 ||
        (r = detect(app, info, ws, img->width, img->height, cancel_fd, &boxes, err)) < 0)
        goto out;
    double t1 = mono_s();
    out->detection_ms = (t1 - t0) * 1000.0;
    out->total_ms = out->detection_ms;
    if (detected)
        detected(user);
    if (boxes.count == 0)
        goto out;

    /* Recognition, batch by batch, with each language. */
    out->regions = calloc(boxes.count, sizeof(ocr_region));
    if (!out->regions) {
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory for %zu regions", boxes.count);
        goto out;
    }
    out->n = boxes.count;
    for (size_t i = 0; i < boxes.count; i++) {
        out->regions[i].box = boxes.items[i];
        out->regions[i].lang = -1;
    }
    /* Crops are cut a few batches at a time on every core, then sent to
     * the manager batch by batch. */
    size_t bs = (size_t)cfg->batch_size_rec;
    size_t per_fill = ocr_host_fill_count(bs);
    /* The bitmap is no longer needed: its buffer takes the crops (1.5 MB
     * for 32 of them, within a 1920x1080 page's 2 MB bitmap). */
    if ((r = ocr_workspace_reserve((void **)&ws->bytes, &ws->bytes_cap, per_fill,
                                   OCR_REC_INPUT_BYTES, "recognition inputs", err)) < 0)
        goto out;
    uint8_t *inputs = ws->bytes;
    for (size_t l = 0; l < n_langs; l++)
        for (size_t start = 0; start < boxes.count; start += per_fill) {
            size_t run = boxes.count - start < per_fill ? boxes.count - start : per_fill;
            if ((r = ocr_host_crops(img, boxes.items + start, run, inputs, start, err)) < 0)
                goto out;
            for (size_t b = 0; b < run; b += bs) {
                size_t count = run - b < bs ? run - b : bs;
                if (fd_readable(cancel_fd)) {
                    r = hdm_err_set(err, HDM_E_CANCELLED, "the client went away");
                    goto out;
                }
                r = recognize(app, info, inputs + b * OCR_REC_INPUT_BYTES, idx[l], count,
                              out->regions + start + b, cancel_fd, err);
                if (r < 0)
                    goto out;
            }
        }
    double t2 = mono_s();
    out->recognition_ms = (t2 - t1) * 1000.0;
    out->total_ms = (t2 - t0) * 1000.0;
out:
    ocr_boxes_free(&boxes);
    ocr_workspace_put(&app->pool, ws);
    if (r < 0)
        ocr_result_free(out);
    return r;
}
