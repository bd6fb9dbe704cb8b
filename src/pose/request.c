/*
 * request.c - a /v1/pose/detect request, JSON or multipart, read into a
 * pose_request over the config's defaults.
 *
 * What the original accepted and what it did wrong (ORIGINAL-SERVICES.md
 * §4.3), field by field:
 *
 *   field                 original                         here
 *   image (JSON)          falsy -> 400 Missing 'image'     the same
 *                         not a string -> 500              400, named
 *                         "data:" cut at the first comma;  the same (common/base64);
 *                         no comma -> 500                  400, named
 *                         b64decode error -> 400           the same sentence
 *                         "Invalid base64: <binascii>"
 *   image (multipart)     absent or empty -> 400           the same
 *                         Missing 'image'
 *   thresholds (JSON)     float(v): numbers, numeric       numbers and numeric strings;
 *                         strings, bools; null = default;  null = default; other
 *                         anything else -> 500             values (bools too) -> 400
 *   thresholds (form)     float(text); bad -> 500          400 naming the field
 *   max_detections        int(v): truncates 5.9; "5.0"     whole numbers (5, 5.0, "5")
 *                         -> 500                           only, else 400
 *   ranges                confidence 0 emits the padding   confidence (0, 1], IoU and
 *                         rows as people; outside [0, 1]   keypoint [0, 1], max
 *                         -> 500 (NMS assertion);          detections 1..1000, else 400
 *                         max_detections <= 0 -> 500;      (posepost_params_check)
 *                         keypoint_threshold unchecked
 *
 * Ours: render (bool) and render_format ("jpeg"/"jpg" or "png").
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base64.h"
#include "pose/pose.h"

#define MISSING_IMAGE "Missing 'image' field"

static void request_defaults(const pose_config *cfg, pose_request *rq)
{
    memset(rq, 0, sizeof(*rq));
    rq->params.conf_threshold = cfg->conf_threshold;
    rq->params.iou_threshold = cfg->iou_threshold;
    rq->params.max_detections = cfg->max_detections;
    rq->keypoint_threshold = cfg->keypoint_threshold;
    rq->render_format = pose_config_render_format(cfg);
}

/* The checks every request gets, whichever way it came. */
static int check_values(pose_request *rq, hdm_err *err)
{
    if (posepost_params_check(&rq->params, err) < 0)
        return -HDM_E_BAD_REQUEST;
    if (!(rq->keypoint_threshold >= 0.0 && rq->keypoint_threshold <= 1.0))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "keypoint_threshold %g is outside [0, 1]",
                           rq->keypoint_threshold);
    return 0;
}

/* Python's float(text) for the texts a sane client sends: a decimal number
 * with optional sign, fraction and exponent, surrounding blanks allowed
 * (hex, inf and nan refused). */
static bool parse_number(const char *s, size_t len, double *out)
{
    char text[64];
    while (len > 0 && isspace((unsigned char)*s))
        s++, len--;
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        len--;
    if (len == 0 || len >= sizeof(text))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!strchr("0123456789+-.eE", s[i]))
            return false;
    memcpy(text, s, len);
    text[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (*end != '\0' || errno != 0 || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* Shows a JSON value in a message (at most ~40 characters). */
static void shown(const cJSON *v, char *out, size_t cap)
{
    char *text = cJSON_PrintUnformatted(v);
    snprintf(out, cap, "%.40s%s", text ? text : "?", text && strlen(text) > 40 ? "..." : "");
    free(text);
}

/* A threshold of the JSON body: 1 set, 0 absent or null, -1 bad. */
static int json_number(const cJSON *body, const char *name, double *out, hdm_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
        *out = v->valuedouble;
        return 1;
    }
    if (cJSON_IsString(v) && parse_number(v->valuestring, strlen(v->valuestring), out))
        return 1;
    char show[64];
    shown(v, show, sizeof(show));
    hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be a number, got %s", name, show);
    return -1;
}

/* max_detections from JSON: a whole number, or its decimal string. */
static int json_count(const cJSON *body, const char *name, int *out, hdm_err *err)
{
    double v = 0;
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(body, name);
    int r = json_number(body, name, &v, err);
    if (r <= 0)
        return r;
    if (v != floor(v) || (cJSON_IsString(item) && strpbrk(item->valuestring, ".eE"))) {
        char show[64];
        shown(item, show, sizeof(show));
        hdm_err_set(err, HDM_E_BAD_REQUEST, "%s must be a whole number, got %s", name, show);
        return -1;
    }
    if (!(v >= 1 && v <= POSEPOST_MAX_DETECTIONS)) {
        hdm_err_set(err, HDM_E_BAD_REQUEST, "%s %.17g is outside 1..%d", name, v,
                    POSEPOST_MAX_DETECTIONS);
        return -1;
    }
    *out = (int)v;
    return 1;
}

/* "jpeg", "jpg" or "png" (any case). */
static int parse_format(const char *s, size_t len, pose_render_format *out, hdm_err *err)
{
    if ((len == 4 && strncasecmp(s, "jpeg", 4) == 0) ||
        (len == 3 && strncasecmp(s, "jpg", 3) == 0)) {
        *out = POSE_RENDER_JPEG;
        return 0;
    }
    if (len == 3 && strncasecmp(s, "png", 3) == 0) {
        *out = POSE_RENDER_PNG;
        return 0;
    }
    char show[48];
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < sizeof(show) && i < 40; i++)
        show[n++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    show[n] = '\0';
    return hdm_err_set(err, HDM_E_BAD_REQUEST, "render_format must be jpeg or png, got '%s'", show);
}

/* Python truthiness of a JSON value (what the original's `if not image` tests). */
static bool truthy(const cJSON *v)
{
    if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
        return false;
    if (cJSON_IsNumber(v))
        return v->valuedouble != 0;
    if (cJSON_IsString(v))
        return v->valuestring[0] != '\0';
    if (cJSON_IsArray(v) || cJSON_IsObject(v))
        return v->child != NULL;
    return true;
}

static int json_image(const cJSON *body, pose_request *rq, hdm_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, "image");
    if (!truthy(v))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, MISSING_IMAGE);
    if (!cJSON_IsString(v))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "'image' must be a string (base64, or a data: URI)");
    const char *s = v->valuestring, *b64;
    size_t len = strlen(s), b64_len;
    hdm_err why = {0};
    if (base64_py_strip_data_uri(s, len, &b64, &b64_len, &why) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "Invalid base64: a data: URI needs a comma before its data");
    rq->image_owned = malloc(base64_decoded_max(b64_len) + 1);
    if (!rq->image_owned)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory decoding the image");
    long n = base64_py_decode(b64, b64_len, rq->image_owned, &why);
    if (n < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "Invalid base64: %s", why.msg);
    if (n == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "Failed to decode image: the base64 data decodes to no bytes");
    rq->image = rq->image_owned;
    rq->image_len = (size_t)n;
    return 0;
}

int pose_request_from_json(const pose_config *cfg, const cJSON *body, pose_request *out,
                           hdm_err *err)
{
    pose_request rq;
    request_defaults(cfg, &rq);
    int r = -HDM_E_BAD_REQUEST;
    if (!cJSON_IsObject(body)) {
        hdm_err_set(err, HDM_E_BAD_REQUEST, "Invalid JSON: expected a JSON object");
        goto fail;
    }
    if ((r = json_image(body, &rq, err)) < 0)
        goto fail;
    r = -HDM_E_BAD_REQUEST;
    if (json_number(body, "confidence_threshold", &rq.params.conf_threshold, err) < 0 ||
        json_number(body, "iou_threshold", &rq.params.iou_threshold, err) < 0 ||
        json_number(body, "keypoint_threshold", &rq.keypoint_threshold, err) < 0 ||
        json_count(body, "max_detections", &rq.params.max_detections, err) < 0)
        goto fail;
    const cJSON *render = cJSON_GetObjectItemCaseSensitive(body, "render");
    if (render && !cJSON_IsNull(render)) {
        if (!cJSON_IsBool(render)) {
            hdm_err_set(err, HDM_E_BAD_REQUEST, "render must be true or false");
            goto fail;
        }
        rq.render = cJSON_IsTrue(render);
    }
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(body, "render_format");
    if (format && !cJSON_IsNull(format)) {
        if (!cJSON_IsString(format)) {
            hdm_err_set(err, HDM_E_BAD_REQUEST, "render_format must be jpeg or png");
            goto fail;
        }
        if (parse_format(format->valuestring, strlen(format->valuestring), &rq.render_format, err) <
            0)
            goto fail;
    }
    if ((r = check_values(&rq, err)) < 0)
        goto fail;
    *out = rq;
    return 0;
fail:
    pose_request_free(&rq);
    return r;
}

int pose_request_from_form(const pose_config *cfg, const http_form *form, pose_request *out,
                           hdm_err *err)
{
    pose_request rq;
    request_defaults(cfg, &rq);
    char why[256] = "";
    long count = 0;
    const http_part *image = http_form_get(form, "image");
    if (!image || image->len == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, MISSING_IMAGE);
    rq.image = image->data;
    rq.image_len = image->len;
    /* 0 for the lower bound: the checks below say why 0 is refused. */
    if (http_form_double(form, "confidence_threshold", 0, 1, &rq.params.conf_threshold, why,
                         sizeof(why)) < 0 ||
        http_form_double(form, "iou_threshold", 0, 1, &rq.params.iou_threshold, why, sizeof(why)) <
            0 ||
        http_form_double(form, "keypoint_threshold", 0, 1, &rq.keypoint_threshold, why,
                         sizeof(why)) < 0 ||
        http_form_bool(form, "render", &rq.render, why, sizeof(why)) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s", why);
    int got = http_form_long(form, "max_detections", 1, POSEPOST_MAX_DETECTIONS, &count, why,
                             sizeof(why));
    if (got < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s", why);
    if (got > 0)
        rq.params.max_detections = (int)count;
    const http_part *format = http_form_get(form, "render_format");
    if (format) {
        const char *s = (const char *)format->data;
        size_t len = format->len;
        while (len > 0 && isspace((unsigned char)*s))
            s++, len--;
        while (len > 0 && isspace((unsigned char)s[len - 1]))
            len--;
        if (parse_format(s, len, &rq.render_format, err) < 0)
            return -HDM_E_BAD_REQUEST;
    }
    int r = check_values(&rq, err);
    if (r < 0)
        return r;
    *out = rq;
    return 0;
}

void pose_request_free(pose_request *rq)
{
    if (!rq)
        return;
    free(rq->image_owned);
    rq->image_owned = NULL;
    rq->image = NULL;
    rq->image_len = 0;
}
