/*
 * fuzz_pose_body.c - the bodies of POST /v1/pose/detect, up to the point
 * where the manager would be asked: the first byte picks the form (even:
 * JSON, odd: multipart/form-data with boundary "fuzzb"), the rest is the
 * body.  JSON goes through pose_request_from_json (the original's field
 * rules, Python-lenient base64, data: URIs), multipart through the HTTP
 * layer's parser and pose_request_from_form; an accepted request's image
 * through pose_prepare (decode as PIL, 640x640 letterbox) with a small
 * pixel budget.  Oracles: an accepted request has parameters inside their
 * ranges and image bytes; every refusal names its reason; a prepared image
 * has a sane letterbox geometry.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_internal.h"
#include "pose/pose.h"

static pose_config cfg;
static uint8_t input[POSE_INPUT_BYTES];

static void check_request(const pose_request *rq)
{
    const posepost_params *p = &rq->params;
    if (!(p->conf_threshold > 0 && p->conf_threshold <= 1) ||
        !(p->iou_threshold >= 0 && p->iou_threshold <= 1) || p->max_detections < 1 ||
        p->max_detections > POSEPOST_MAX_DETECTIONS ||
        !(rq->keypoint_threshold >= 0 && rq->keypoint_threshold <= 1) || rq->image == NULL ||
        rq->image_len == 0 ||
        (rq->render_format != POSE_RENDER_JPEG && rq->render_format != POSE_RENDER_PNG))
        abort();
    posepost_letterbox lb;
    hdm_err err;
    hdm_err_clear(&err);
    int r = pose_prepare(&cfg, rq->image, rq->image_len, input, &lb, NULL, &err);
    if (r == 0) {
        if (lb.new_w < 1 || lb.new_h < 1 || lb.new_w > 640 || lb.new_h > 640 ||
            lb.x_off + lb.new_w > 640 || lb.y_off + lb.new_h > 640)
            abort();
    } else if (err.msg[0] == '\0') {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cfg.host) {
        hdm_err err;
        if (pose_config_defaults(&cfg) < 0 || pose_config_check(&cfg, &err) < 0)
            abort();
        /* Smaller than the service's budget so the fuzzer stays fast. */
        cfg.image_max_pixels = 4 << 20;
    }
    if (size == 0)
        return 0;
    bool multipart = data[0] & 1;
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    pose_request rq;
    hdm_err err;
    hdm_err_clear(&err);
    int r;
    if (!multipart) {
        cJSON *json = cJSON_ParseWithLength((const char *)body, len);
        r = json ? pose_request_from_json(&cfg, json, &rq, &err) : 1;
        cJSON_Delete(json);
    } else {
        /* A copy of exactly len bytes, so ASan sees any read past the body. */
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy)
            return 0;
        memcpy(copy, body, len);
        http_multipart_limits lim = {.max_parts = 16, .max_part_header_bytes = 512};
        http_form form;
        char why[256];
        r = 1;
        if (http_multipart_parse(copy, len, "multipart/form-data; boundary=fuzzb", &lim, &form, why,
                                 sizeof(why)) == 0) {
            r = pose_request_from_form(&cfg, &form, &rq, &err);
            if (r == 0) {
                check_request(&rq);
                pose_request_free(&rq);
                r = 1;
            }
            http_form_free(&form);
        }
        free(copy);
    }
    if (r == 0) {
        check_request(&rq);
        pose_request_free(&rq);
    } else if (r < 0 && err.msg[0] == '\0') {
        abort();
    }
    return 0;
}
