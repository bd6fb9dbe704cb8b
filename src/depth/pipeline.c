/*
 * pipeline.c - image bytes to the depth map at the image's size, as the
 * original's estimate_depth computes it (ORIGINAL-SERVICES.md §3.4-3.5):
 *
 *   Image.open(bytes).convert("RGB")     image_decode_with (Pillow's modes,
 *                                        no EXIF rotation), within
 *                                        images.max_pixels/max_decode_ms
 *   .resize((320, 256), BILINEAR)        image_resize, Pillow-exact
 *   uint8 [256, 320, 3] -> manager       one infer, model_type depth
 *   _extract_depth_output                depthpost_extract
 *   (ours, off by default)               depthpost_transform: metres
 *   Image.fromarray(F).resize((W0, H0))  image_resize_f32, Pillow-exact
 *   _normalize_depth                     depthpost_normalize
 *
 * Before the map at the image's size exists, the request takes its bytes -
 * the map and the largest reply its outputs can make - from the budget
 * (budget.c), so large requests queue instead of growing the process.
 */
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "depth/depth.h"
#include "image/image.h"

int depth_preprocess(const depth_config *cfg, const uint8_t *data, size_t len, uint8_t *pixels,
                     int *in_w, int *in_h, hdm_err *err)
{
    image_decode_opts o;
    image img = {0};
    image_decode_opts_defaults(&o);
    o.limits.max_pixels = (uint64_t)cfg->image_max_pixels;
    o.limits.max_cpu_ms = cfg->image_max_decode_ms;
    o.limits.max_bytes = depth_config_max_bytes(cfg);
    int r = image_decode_with(data, len, &o, &img, err);
    if (r >= 0) {
        *in_w = img.width;
        *in_h = img.height;
        r = image_resize(&img, cfg->input_width, cfg->input_height, IMAGE_FILTER_BILINEAR, pixels,
                         err);
    }
    image_free(&img);
    if (r < 0) {
        /* A bad image is the client's fault whatever the decoder's code,
         * over a pixel limit too (the original's size limit was a 400);
         * a full decode gate (503) and memory keep theirs. */
        if (err && strncmp(err->msg, "image", 5) != 0)
            hdm_err_prefix(err, "image");
        if (r == -HDM_E_TOO_LARGE && err && strstr(err->msg, "pixels, above the limit")) {
            char why[HDM_ERR_MSG_MAX];
            memcpy(why, err->msg, sizeof(why));
            hdm_err_set(err, HDM_E_BAD_REQUEST, "%s (images.max_pixels)", why);
        }
        if (r != -HDM_E_BUSY && r != -HDM_E_NOMEM) {
            if (err)
                err->code = HDM_E_BAD_REQUEST;
            r = -HDM_E_BAD_REQUEST;
        }
    }
    return r;
}

static bool fd_readable(int fd)
{
    if (fd < 0)
        return false;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

/* A manager failure as the service reports it (depth.h says how). */
static int manager_failure(depth_app *app, int r, hdm_response *resp, int cancel_fd, hdm_err *err)
{
    if (r == -HDM_E_CANCELLED && fd_readable(cancel_fd))
        return hdm_err_set(err, HDM_E_CANCELLED, "the client went away");
    const char *why = resp ? hdm_response_error(resp) : NULL;
    int code = r < 0 ? -r : HDM_E_INTERNAL;
    svc_keeper_report(app->model, code);
    if (code == HDM_E_BAD_REQUEST || code == HDM_E_NOT_FOUND || code == HDM_E_UNSUPPORTED ||
        code == HDM_E_TOO_LARGE)
        code = HDM_E_INTERNAL;
    return hdm_err_set(err, code, "%s", why ? why : hdm_strerror(r));
}

/* One inference of the [H, W, 3] uint8 input; *map gets the 2-D output. */
static int infer(depth_app *app, const uint8_t *pixels, int cancel_fd, float **map, int *mh,
                 int *mw, hdm_err *err)
{
    const depth_config *cfg = app->cfg;
    hdm_request *req = hdm_request_new("infer");
    hdm_response *resp = NULL;
    cJSON *j = req ? hdm_request_json(req) : NULL, *input = NULL;
    /* [H, W, 3] as the original sent it: the HEF's vstream shape, HWC. */
    hdm_tensor t = {
        .dtype = HDM_DT_UINT8,
        .ndim = 3,
        .shape = {cfg->input_height, cfg->input_width, 3},
        .data = (void *)pixels,
        .nbytes = (size_t)cfg->input_height * (size_t)cfg->input_width * 3,
    };
    int r;
    if (!j || !cJSON_AddStringToObject(j, "model_type", DEPTH_MODEL_TYPE) ||
        !cJSON_AddStringToObject(j, "model_path", app->hef_path) ||
        !cJSON_AddNumberToObject(j, "keep_alive", cfg->keep_alive) ||
        !cJSON_AddStringToObject(j, "priority", "interactive") ||
        !cJSON_AddStringToObject(j, "client_name", DEPTH_SERVICE_NAME) ||
        !(input = cJSON_AddObjectToObject(j, "input_data")) ||
        hdm_request_add_tensor(req, input, "input", &t) < 0) {
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the manager request");
        goto out;
    }
    if (cancel_fd >= 0)
        hdm_request_set_cancel_fd(req, cancel_fd);
    r = hdm_call(app->client, req, cfg->request_timeout_s * 1000, &resp);
    if (r < 0) {
        r = manager_failure(app, r, resp, cancel_fd, err);
        goto out;
    }
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(hdm_response_json(resp), "result");
    hdm_tensor out;
    if (hdm_response_tensor(resp, result, &out) < 0) {
        r = hdm_err_set(err, HDM_E_DEVICE_ERROR, "Inference failed: the answer holds no tensor");
        goto out;
    }
    r = depthpost_extract(&out, map, mh, mw, err);
out:
    hdm_response_free(resp);
    hdm_request_free(req);
    return r;
}

/* The budget's answer for a wait that ended without the bytes. */
static int budget_failure(int r, hdm_err *err)
{
    if (r == -HDM_E_CANCELLED)
        return hdm_err_set(err, HDM_E_CANCELLED, "the client went away");
    return hdm_err_set(err, HDM_E_BUSY,
                       "the service is busy with large depth maps "
                       "(performance.memory_budget_mb): retry later");
}

/*
 * The image's bytes (JSON base64 decoded here) and depth_preprocess within
 * the budget: the bytes, the decoded image (its size from the header) and
 * the resize's intermediate rows are held from the budget while they live,
 * and the bytes are given back with them.  A header the probe does not read
 * is decoded without a share: the decoder refuses it at once (or it is
 * small).
 */
static int preprocess_budgeted(depth_app *app, depth_request *rq, int cancel_fd, uint8_t *pixels,
                               int *w0, int *h0, hdm_err *err)
{
    const depth_config *cfg = app->cfg;
    int pw, ph, r;
    size_t share = 0;
    if (depth_request_probe(rq, &pw, &ph) == 0 &&
        (uint64_t)pw * (uint64_t)ph <= (uint64_t)cfg->image_max_pixels) {
        share = (size_t)pw * (size_t)ph * 3 + (size_t)ph * (size_t)cfg->input_width * 3 +
                (rq->b64 ? rq->b64_len / 4 * 3 : 0);
        r = depth_budget_acquire(app->budget, share, cfg->request_timeout_s * 1000, cancel_fd);
        if (r < 0)
            return budget_failure(r, err);
    }
    r = depth_request_load(rq, cfg, err);
    if (r == 0)
        r = depth_preprocess(cfg, rq->image, rq->image_len, pixels, w0, h0, err);
    depth_request_drop_image(rq);
    if (share)
        depth_budget_release(app->budget, share);
    return r;
}

int depth_pipeline_run(depth_app *app, depth_request *rq, int cancel_fd, depth_map *out,
                       hdm_err *err)
{
    const depth_config *cfg = app->cfg;
    size_t in_bytes = (size_t)cfg->input_height * (size_t)cfg->input_width * 3;
    uint8_t *pixels = malloc(in_bytes);
    float *map = NULL;
    int w0 = 0, h0 = 0, mh = 0, mw = 0;
    size_t reserved = 0;
    int r;

    memset(out, 0, sizeof(*out));
    if (!pixels)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    r = preprocess_budgeted(app, rq, cancel_fd, pixels, &w0, &h0, err);
    if (r >= 0)
        r = infer(app, pixels, cancel_fd, &map, &mh, &mw, err);
    free(pixels);
    if (r < 0)
        goto fail;
    size_t n0 = (size_t)w0 * (size_t)h0;
    if (rq->metres)
        depthpost_transform(map, (size_t)mh * (size_t)mw);

    /* The map at the image's size and the largest reply its outputs make. */
    bool resize = mh != h0 || mw != w0;
    reserved = (resize ? n0 * sizeof(float) : 0) + depth_reply_bound(cfg, rq, h0, w0);
    r = depth_budget_acquire(app->budget, reserved, cfg->request_timeout_s * 1000, cancel_fd);
    if (r < 0) {
        reserved = 0;
        r = budget_failure(r, err);
        goto fail;
    }
    if (resize) {
        float *big = malloc(n0 * sizeof(float));
        if (!big) {
            r = hdm_err_set(err, HDM_E_NOMEM, "out of memory for a %dx%d depth map", w0, h0);
            goto fail;
        }
        r = image_resize_f32(map, mw, mh, w0, h0, IMAGE_FILTER_BILINEAR, big, err);
        free(map);
        map = big;
        if (r < 0)
            goto fail;
    }
    if (rq->normalize)
        depthpost_normalize(map, n0);
    out->data = map;
    out->height = h0;
    out->width = w0;
    out->reserved = reserved;
    return 0;
fail:
    free(map);
    if (reserved)
        depth_budget_release(app->budget, reserved);
    return r;
}

void depth_map_free(depth_map *m)
{
    if (!m)
        return;
    free(m->data);
    m->data = NULL;
}
