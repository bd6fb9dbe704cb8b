/*
 * pipeline.c - from an encoded image to people: decode -> letterbox ->
 * manager ("pose") -> src/posepost -> [drawn image].
 *
 * Each step is the original's (ORIGINAL-SERVICES.md §4.4, §4.5):
 *  - decode as PIL's Image.open().convert("RGB"): full size, no EXIF
 *    rotation, alpha dropped, grey and palette expanded (src/image);
 *  - hailo-apps' default_preprocess: cv2.resize INTER_CUBIC into the
 *    640x640 canvas of grey 114, through the same OpenCV
 *    (imgproc_letterbox_u8), so the model sees the original's bytes;
 *  - infer(hef, {"input": uint8 [640, 640, 3]}, model_type="pose");
 *  - the 9 outputs found by shape (the C manager puts a batch of 1 in
 *    front, GM's did not: posepost drops leading 1s), decoded, NMS'd and
 *    mapped back by posepost with the request's parameters.
 *
 * Memory: the decoded image is freed as soon as the letterbox is made
 * (kept only for render=true); the model input is one 1.2 MB buffer; the
 * manager's answer (3.9 MB of float32) lives only while it is decoded.
 *
 * Errors: the image's own problems are -HDM_E_BAD_REQUEST; the manager's
 * are passed on with its sentence, except that its bad_request/not_found
 * answers become -HDM_E_INTERNAL, since they mean our request or setup was
 * wrong, not the client's.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/timeutil.h"
#include "image/image_encode.h"
#include "image/imgproc.h"
#include "pose/pose.h"

/* Pose outputs the manager may answer with: yolov8s_pose has 9. */
#define MAX_OUTPUTS 32

int pose_prepare(const pose_config *cfg, const uint8_t *data, size_t len, uint8_t *input,
                 posepost_letterbox *lb, image *keep, hdm_err *err)
{
    image_decode_opts o;
    image img = {0};
    image_decode_opts_defaults(&o);
    o.limits.max_pixels = (uint64_t)cfg->image_max_pixels;
    o.limits.max_cpu_ms = cfg->image_max_decode_ms;
    o.limits.max_bytes = (size_t)cfg->max_body_bytes;
    o.min_side = 0;             /* full size: PIL's pixels, hence the original's input */
    o.exif_orientation = false; /* PIL's convert("RGB") does not rotate */
    int r = image_decode_with(data, len, &o, &img, err);
    if (r < 0) {
        /* A bad image is the client's fault, whatever the decoder's code;
         * limits (413), a full decode gate (503) and memory keep theirs. */
        if (r == -HDM_E_TOO_LARGE && err && strstr(err->msg, "pixels, above the limit")) {
            char why[HDM_ERR_MSG_MAX];
            snprintf(why, sizeof(why), "%s", err->msg);
            hdm_err_set(err, HDM_E_TOO_LARGE, "%s (images.max_pixels)", why);
        }
        if (r != -HDM_E_TOO_LARGE && r != -HDM_E_BUSY && r != -HDM_E_NOMEM) {
            hdm_err_prefix(err, "Failed to decode image");
            if (err)
                err->code = HDM_E_BAD_REQUEST;
            r = -HDM_E_BAD_REQUEST;
        }
        return r;
    }
    r = posepost_letterbox_init(lb, img.width, img.height, POSE_INPUT_W, POSE_INPUT_H, err);
    if (r == 0) {
        /* posepost's geometry is hailo-apps' formula; imgproc takes it as is. */
        imgproc_letterbox geom = {.scale = lb->scale,
                                  .new_w = lb->new_w,
                                  .new_h = lb->new_h,
                                  .x_off = lb->x_off,
                                  .y_off = lb->y_off};
        r = imgproc_letterbox_u8(img.rgb, img.width, img.height, 0, 3, &geom, POSE_PAD_GREY, input,
                                 POSE_INPUT_W, POSE_INPUT_H, err);
        if (r == -HDM_E_BAD_REQUEST && err)
            err->code = HDM_E_INTERNAL; /* the geometry was ours */
        if (r == -HDM_E_BAD_REQUEST)
            r = -HDM_E_INTERNAL;
    }
    if (r == 0 && keep) {
        *keep = img; /* handed over with its gate slot */
        return 0;
    }
    image_free(&img);
    return r;
}

int pose_decode_outputs(const hdm_tensor *tensors, size_t n, const posepost_letterbox *lb,
                        const posepost_params *p, posepost_pose **poses, size_t *count,
                        hdm_err *err)
{
    posepost_heads heads;
    posepost_result res = {0};
    *poses = NULL;
    *count = 0;
    int r = posepost_heads_find(tensors, n, POSE_INPUT_H, POSE_INPUT_W, &heads, err);
    if (r < 0)
        return r;
    if ((r = posepost_decode(&heads, p, &res, err)) < 0)
        return r;
    if (res.count > 0) {
        posepost_pose *out = malloc(res.count * sizeof(*out));
        if (!out) {
            posepost_result_free(&res);
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory for %zu poses", res.count);
        }
        for (size_t i = 0; i < res.count; i++)
            posepost_map(lb, &res.people[i], &out[i]);
        *poses = out;
        *count = res.count;
    }
    posepost_result_free(&res);
    return 0;
}

/* True when fd (an eventfd, -1: none) has been written. */
static bool fd_fired(int fd)
{
    if (fd < 0)
        return false;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

int pose_slots_init(pose_slots *s, int n)
{
    pthread_condattr_t attr;
    s->free_slots = n;
    if (pthread_mutex_init(&s->lock, NULL) != 0)
        return -HDM_E_INTERNAL;
    if (pthread_condattr_init(&attr) != 0 ||
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&s->freed, &attr) != 0) {
        pthread_mutex_destroy(&s->lock);
        return -HDM_E_INTERNAL;
    }
    pthread_condattr_destroy(&attr);
    return 0;
}

void pose_slots_destroy(pose_slots *s)
{
    pthread_cond_destroy(&s->freed);
    pthread_mutex_destroy(&s->lock);
}

/* Waits for a slot, looking every 100 ms whether the client went away. */
static int slot_acquire(pose_slots *s, int cancel_fd, int timeout_s, hdm_err *err)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long deadline_ns =
        (long long)now.tv_sec * 1000000000LL + now.tv_nsec + (long long)timeout_s * 1000000000LL;
    int r = 0;
    pthread_mutex_lock(&s->lock);
    while (s->free_slots == 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long now_ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
        if (now_ns >= deadline_ns) {
            r = hdm_err_set(err, HDM_E_BUSY,
                            "every detection slot stayed busy for %d s; retry "
                            "later",
                            timeout_s);
            break;
        }
        if (fd_fired(cancel_fd)) {
            r = hdm_err_set(err, HDM_E_CANCELLED, "the client went away");
            break;
        }
        long long wake = now_ns + 100000000LL;
        if (wake > deadline_ns)
            wake = deadline_ns;
        struct timespec until = {.tv_sec = (time_t)(wake / 1000000000LL),
                                 .tv_nsec = (long)(wake % 1000000000LL)};
        pthread_cond_timedwait(&s->freed, &s->lock, &until);
    }
    if (r == 0)
        s->free_slots--;
    pthread_mutex_unlock(&s->lock);
    return r;
}

static void slot_release(pose_slots *s)
{
    pthread_mutex_lock(&s->lock);
    s->free_slots++;
    pthread_cond_signal(&s->freed);
    pthread_mutex_unlock(&s->lock);
}

/* Maps a manager failure onto what the service reports (see the top). */
static int manager_failure(pose_app *app, int r, hdm_response *resp, int cancel_fd, hdm_err *err)
{
    if (r == -HDM_E_CANCELLED && fd_fired(cancel_fd))
        return hdm_err_set(err, HDM_E_CANCELLED, "the client went away");
    const char *why = resp ? hdm_response_error(resp) : NULL;
    int code = r < 0 ? -r : HDM_E_INTERNAL;
    svc_keeper_report(app->model, code);
    if (code == HDM_E_BAD_REQUEST || code == HDM_E_NOT_FOUND || code == HDM_E_UNSUPPORTED ||
        code == HDM_E_TOO_LARGE)
        code = HDM_E_INTERNAL;
    return hdm_err_set(err, code, "Inference failed: %s", why ? why : hdm_strerror(r));
}

/* Collects the tensors of the manager's result: {name: tensor, ...} (or
 * one tensor, which posepost then reports as missing heads). */
static int result_tensors(hdm_response *resp, hdm_tensor *out, size_t *n, hdm_err *err)
{
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(hdm_response_json(resp), "result");
    *n = 0;
    if (!cJSON_IsObject(result))
        return hdm_err_set(err, HDM_E_DEVICE_ERROR, "the pose model answered no outputs");
    if (cJSON_GetObjectItemCaseSensitive(result, "dtype")) {
        if (hdm_response_tensor(resp, result, &out[0]) < 0)
            return hdm_err_set(err, HDM_E_DEVICE_ERROR, "the pose model's output is malformed");
        *n = 1;
        return 0;
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, result)
    {
        if (*n == MAX_OUTPUTS)
            return hdm_err_set(err, HDM_E_DEVICE_ERROR,
                               "the pose model answered more than %d "
                               "outputs",
                               MAX_OUTPUTS);
        if (hdm_response_tensor(resp, t, &out[*n]) < 0)
            return hdm_err_set(err, HDM_E_DEVICE_ERROR,
                               "the pose model's output %.80s is "
                               "malformed",
                               t->string ? t->string : "?");
        (*n)++;
    }
    return 0;
}

/* One inference of the 640x640x3 input; fills out->poses.  The response is
 * decoded and freed here, so its 3.9 MB never outlive the call. */
static int infer(pose_app *app, const pose_request *rq, uint8_t *input,
                 const posepost_letterbox *lb, int cancel_fd, pose_detection *out, hdm_err *err)
{
    const pose_config *cfg = app->cfg;
    hdm_request *req = hdm_request_new("infer");
    hdm_response *resp = NULL;
    hdm_tensor tensors[MAX_OUTPUTS];
    size_t n = 0;
    int r;
    cJSON *j = req ? hdm_request_json(req) : NULL;
    cJSON *input_data = NULL;
    /* The original's tensor: uint8 [640, 640, 3], no batch. */
    hdm_tensor t = {.dtype = HDM_DT_UINT8,
                    .ndim = 3,
                    .shape = {POSE_INPUT_H, POSE_INPUT_W, 3},
                    .data = input,
                    .nbytes = POSE_INPUT_BYTES};
    if (!j || !cJSON_AddStringToObject(j, "model_type", POSE_MODEL_TYPE) ||
        !cJSON_AddStringToObject(j, "model_path", app->hef_path) ||
        !cJSON_AddNumberToObject(j, "keep_alive", cfg->keep_alive) ||
        !cJSON_AddStringToObject(j, "priority", "interactive") ||
        !(input_data = cJSON_AddObjectToObject(j, "input_data")) ||
        hdm_request_add_tensor(req, input_data, "input", &t) < 0) {
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory building the request");
        goto out;
    }
    if (cancel_fd >= 0)
        hdm_request_set_cancel_fd(req, cancel_fd);
    double t0 = mono_s();
    r = hdm_call(app->client, req, cfg->device_timeout_s * 1000, &resp);
    /* The original's int((time.time() - start) * 1000): the round trip. */
    out->inference_ms = (int)((mono_s() - t0) * 1000.0);
    if (r < 0) {
        r = manager_failure(app, r, resp, cancel_fd, err);
        goto out;
    }
    if ((r = result_tensors(resp, tensors, &n, err)) < 0 ||
        (r = pose_decode_outputs(tensors, n, lb, &rq->params, &out->poses, &out->count, err)) < 0)
        goto out;
out:
    hdm_response_free(resp);
    hdm_request_free(req);
    return r;
}

/* Draws the poses onto the decoded image and encodes it. */
static int render(const pose_config *cfg, const pose_request *rq, image *img, pose_detection *d,
                  hdm_err *err)
{
    pose_render(img, d->poses, d->count, rq->keypoint_threshold);
    d->rendered_format = rq->render_format;
    int r = rq->render_format == POSE_RENDER_PNG
                ? image_encode_png(img, 1, &d->rendered, err) /* level 1: fast, still lossless */
                : image_encode_jpeg(img, cfg->render_jpeg_quality, &d->rendered, err);
    if (r < 0)
        hdm_err_prefix(err, "cannot encode the drawn image");
    return r;
}

int pose_pipeline_detect(pose_app *app, pose_request *rq, int cancel_fd, pose_detection *out,
                         hdm_err *err)
{
    memset(out, 0, sizeof(*out));
    int r = slot_acquire(&app->slots, cancel_fd, app->cfg->device_timeout_s, err);
    if (r < 0)
        return r;
    uint8_t *input = malloc(POSE_INPUT_BYTES);
    image img = {0};
    posepost_letterbox lb;
    if (!input) {
        slot_release(&app->slots);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    r = pose_prepare(app->cfg, rq->image, rq->image_len, input, &lb, rq->render ? &img : NULL, err);
    pose_request_free(rq); /* the encoded bytes: decoded now */
    if (r < 0)
        goto out;
    out->image_w = lb.orig_w;
    out->image_h = lb.orig_h;
    if ((r = infer(app, rq, input, &lb, cancel_fd, out, err)) < 0)
        goto out;
    free(input); /* before the drawing, which may take its own memory */
    input = NULL;
    if (rq->render && (r = render(app->cfg, rq, &img, out, err)) < 0)
        goto out;
out:
    free(input);
    image_free(&img);
    slot_release(&app->slots);
    if (r < 0)
        pose_detection_free(out);
    return r;
}

void pose_detection_free(pose_detection *d)
{
    if (!d)
        return;
    free(d->poses);
    d->poses = NULL;
    d->count = 0;
    buf_free(&d->rendered);
}
