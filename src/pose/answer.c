/*
 * answer.c - the JSON answer of a detection, field for field the
 * original's (ORIGINAL-SERVICES.md §4.3): the same names, types and order;
 * bbox_confidence and keypoint confidences are floats printed as Python
 * prints them (pyjson), coordinates and times are ints.
 */
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/pyjson.h"
#include "pose/pose.h"

/* A new object appended to array `list`, or NULL when out of memory. */
static cJSON *append_object(cJSON *list)
{
    cJSON *o = cJSON_CreateObject();
    if (o && !cJSON_AddItemToArray(list, o)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static bool add_keypoints(cJSON *pose, const posepost_pose *p)
{
    cJSON *list = cJSON_AddArrayToObject(pose, "keypoints");
    for (int k = 0; list && k < POSEPOST_KEYPOINTS; k++) {
        cJSON *kp = append_object(list);
        if (!kp || !cJSON_AddStringToObject(kp, "name", posepost_keypoint_names[k]) ||
            !cJSON_AddNumberToObject(kp, "x", p->kpt_x[k]) ||
            !cJSON_AddNumberToObject(kp, "y", p->kpt_y[k]) ||
            !pyjson_add_float(kp, "confidence", p->kpt_conf[k]))
            return false;
    }
    return list != NULL;
}

/* The skeleton pairs whose two keypoints pass the threshold, in the
 * original's order. */
static bool add_skeleton(cJSON *pose, const posepost_pose *p, double threshold)
{
    cJSON *list = cJSON_AddArrayToObject(pose, "skeleton");
    for (int s = 0; list && s < POSEPOST_SKELETON_PAIRS; s++) {
        int a = posepost_skeleton[s][0], b = posepost_skeleton[s][1];
        if (!(p->kpt_conf[a] >= threshold && p->kpt_conf[b] >= threshold))
            continue;
        cJSON *pair = append_object(list);
        if (!pair || !cJSON_AddStringToObject(pair, "from", posepost_keypoint_names[a]) ||
            !cJSON_AddStringToObject(pair, "to", posepost_keypoint_names[b]) ||
            !cJSON_AddNumberToObject(pair, "from_index", a) ||
            !cJSON_AddNumberToObject(pair, "to_index", b))
            return false;
    }
    return list != NULL;
}

static bool add_pose(cJSON *poses, const posepost_pose *p, int person_id, double threshold,
                     bool skeleton)
{
    cJSON *o = append_object(poses), *bbox;
    return o && cJSON_AddNumberToObject(o, "person_id", person_id) &&
           (bbox = cJSON_AddObjectToObject(o, "bbox")) &&
           cJSON_AddNumberToObject(bbox, "x", p->x) && cJSON_AddNumberToObject(bbox, "y", p->y) &&
           cJSON_AddNumberToObject(bbox, "width", p->width) &&
           cJSON_AddNumberToObject(bbox, "height", p->height) &&
           pyjson_add_float(o, "bbox_confidence", p->score) && add_keypoints(o, p) &&
           (!skeleton || add_skeleton(o, p, threshold));
}

/* A string item that owns `text` (malloc'd): the base64 of a drawn image
 * is hundreds of KB, so it is not copied a second time.  NULL when out of
 * memory (text is freed then). */
static cJSON *owned_string(char *text)
{
    cJSON *s = cJSON_CreateString("");
    if (!s) {
        free(text);
        return NULL;
    }
    /* cJSON frees valuestring with its hooks, the default free(). */
    cJSON_free(s->valuestring);
    s->valuestring = text;
    return s;
}

static bool add_rendered(cJSON *o, const pose_detection *d)
{
    bool png = d->rendered_format == POSE_RENDER_PNG;
    char *b64 = malloc(base64_encoded_len(d->rendered.len) + 1);
    if (!b64)
        return false;
    base64_encode(d->rendered.data, d->rendered.len, b64);
    cJSON *data = owned_string(b64);
    cJSON *r = data ? cJSON_AddObjectToObject(o, "rendered") : NULL;
    if (!r || !cJSON_AddStringToObject(r, "format", png ? "png" : "jpeg") ||
        !cJSON_AddStringToObject(r, "content_type", png ? "image/png" : "image/jpeg") ||
        !cJSON_AddNumberToObject(r, "width", d->image_w) ||
        !cJSON_AddNumberToObject(r, "height", d->image_h) ||
        !cJSON_AddItemToObject(r, "data", data)) {
        cJSON_Delete(data);
        return false;
    }
    return true;
}

cJSON *pose_answer_json(const pose_detection *d, double keypoint_threshold, bool skeleton)
{
    cJSON *o = cJSON_CreateObject(), *poses, *size;
    if (!o || !(poses = cJSON_AddArrayToObject(o, "poses")))
        goto fail;
    for (size_t i = 0; i < d->count; i++)
        if (!add_pose(poses, &d->poses[i], (int)i, keypoint_threshold, skeleton))
            goto fail;
    if (!cJSON_AddNumberToObject(o, "count", (double)d->count) ||
        !cJSON_AddNumberToObject(o, "inference_time_ms", d->inference_ms) ||
        !(size = cJSON_AddObjectToObject(o, "image_size")) ||
        !cJSON_AddNumberToObject(size, "width", d->image_w) ||
        !cJSON_AddNumberToObject(size, "height", d->image_h))
        goto fail;
    if (d->rendered.len > 0 && !add_rendered(o, d))
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}
