/*
 * test_answer.c - the detect answer (answer.c) printed as aiohttp's
 * json.dumps prints the original's: field names, order and types, floats
 * that stay floats (a confidence of 1 prints 1.0), the skeleton pairs
 * filtered by the keypoint threshold in the original's order, and the
 * "rendered" block of render=true.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/pyjson.h"
#include "pose/pose.h"

static posepost_pose sample_pose(void)
{
    posepost_pose p;
    memset(&p, 0, sizeof(p));
    p.x = 120;
    p.y = 50;
    p.width = 180;
    p.height = 380;
    p.score = (double)0.91f;
    for (int k = 0; k < POSEPOST_KEYPOINTS; k++) {
        p.kpt_x[k] = 200 + k;
        p.kpt_y[k] = 60 + 20 * k;
        p.kpt_conf[k] = 0.9;
    }
    p.kpt_conf[0] = 1.0;  /* prints 1.0, not 1 */
    p.kpt_conf[15] = 0.1; /* left_ankle: under 0.3, its pairs go */
    return p;
}

static char *print(const pose_detection *d, double threshold, bool skeleton)
{
    cJSON *j = pose_answer_json(d, threshold, skeleton);
    assert_non_null(j);
    char *text = pyjson_print(j, PYJSON_DUMPS);
    assert_non_null(text);
    cJSON_Delete(j);
    return text;
}

static void test_fields_order_and_types(void **state)
{
    (void)state;
    posepost_pose p = sample_pose();
    pose_detection d = {
        .poses = &p, .count = 1, .image_w = 640, .image_h = 480, .inference_ms = 38};
    char *text = print(&d, 0.3, true);
    const char *head = "{\"poses\": [{\"person_id\": 0, \"bbox\": {\"x\": 120, \"y\": 50, "
                       "\"width\": 180, \"height\": 380}, \"bbox_confidence\": "
                       "0.9100000262260437, \"keypoints\": [{\"name\": \"nose\", \"x\": 200, "
                       "\"y\": 60, \"confidence\": 1.0}, {\"name\": \"left_eye\", \"x\": 201, "
                       "\"y\": 80, \"confidence\": 0.9}, ";
    assert_memory_equal(text, head, strlen(head));
    const char *tail = "], \"count\": 1, \"inference_time_ms\": 38, \"image_size\": "
                       "{\"width\": 640, \"height\": 480}}";
    assert_string_equal(text + strlen(text) - strlen(tail), tail);
    /* the skeleton: 19 pairs less the one at left_ankle (15, 13), in order */
    const char *skel = "\"skeleton\": [{\"from\": \"left_ankle\"";
    assert_null(strstr(text, skel));
    assert_non_null(strstr(text, "\"skeleton\": [{\"from\": \"left_knee\", \"to\": \"left_hip\", "
                                 "\"from_index\": 13, \"to_index\": 11}, {\"from\": "
                                 "\"right_ankle\", \"to\": \"right_knee\", \"from_index\": 16, "
                                 "\"to_index\": 14}"));
    cJSON *back = cJSON_Parse(text);
    const cJSON *pose = cJSON_GetArrayItem(cJSON_GetObjectItem(back, "poses"), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(pose, "keypoints")), 17);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(pose, "skeleton")), 18);
    cJSON_Delete(back);
    free(text);

    /* skeleton_connections false: no "skeleton" key at all */
    text = print(&d, 0.3, false);
    assert_null(strstr(text, "skeleton"));
    free(text);
    /* threshold 1.0: only pairs of two confidences >= 1.0 (none here) */
    text = print(&d, 1.0, true);
    assert_non_null(strstr(text, "\"skeleton\": []"));
    free(text);
}

static void test_no_people(void **state)
{
    (void)state;
    pose_detection d = {.image_w = 1, .image_h = 1, .inference_ms = 0};
    char *text = print(&d, 0.3, true);
    assert_string_equal(text, "{\"poses\": [], \"count\": 0, \"inference_time_ms\": 0, "
                              "\"image_size\": {\"width\": 1, \"height\": 1}}");
    free(text);
}

static void test_people_numbered_in_order(void **state)
{
    (void)state;
    posepost_pose ps[3] = {sample_pose(), sample_pose(), sample_pose()};
    pose_detection d = {.poses = ps, .count = 3, .image_w = 10, .image_h = 10};
    cJSON *j = pose_answer_json(&d, 0.3, true);
    assert_non_null(j);
    const cJSON *poses = cJSON_GetObjectItem(j, "poses");
    for (int i = 0; i < 3; i++)
        assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(poses, i), "person_id")->valueint,
                         i);
    assert_int_equal(cJSON_GetObjectItem(j, "count")->valueint, 3);
    cJSON_Delete(j);
}

static void test_rendered_block(void **state)
{
    (void)state;
    pose_detection d = {.image_w = 2, .image_h = 3, .rendered_format = POSE_RENDER_PNG};
    assert_int_equal(buf_append(&d.rendered, "\x89PNG", 4), 0);
    char *text = print(&d, 0.3, true);
    assert_string_equal(text,
                        "{\"poses\": [], \"count\": 0, \"inference_time_ms\": 0, "
                        "\"image_size\": {\"width\": 2, \"height\": 3}, \"rendered\": "
                        "{\"format\": \"png\", \"content_type\": \"image/png\", \"width\": 2, "
                        "\"height\": 3, \"data\": \"iVBORw==\"}}");
    free(text);
    d.rendered_format = POSE_RENDER_JPEG;
    text = print(&d, 0.3, true);
    assert_non_null(strstr(text, "\"format\": \"jpeg\", \"content_type\": \"image/jpeg\""));
    free(text);
    pose_detection_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_order_and_types),
        cmocka_unit_test(test_no_people),
        cmocka_unit_test(test_people_numbered_in_order),
        cmocka_unit_test(test_rendered_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
