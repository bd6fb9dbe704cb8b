/*
 * test_posepost_golden.c - the pose decoder against hailo-apps'
 * PoseEstPostProcessing and GM's detect_poses run by Python
 * (tests/data/pose, README there).  Every request of every case must give
 * the same people in the same order (ties included): bbox within 1 px,
 * keypoints within 0.5 px (before the int()), scores within 1e-5.  The
 * decoder-level values are also held to 1e-3 px so a drift shows long
 * before it reaches a pixel.  The outputs carry the C manager's batch
 * dimension in one pass and GM's bare (H, W, C) in another.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pose_test_util.h"
#include "posepost/posepost.h"

static const char *const cases[] = {"single", "crowd", "ties", "edges", "dense", "empty"};

/* Worst deviations seen, for the log. */
static double worst_box, worst_kpt, worst_score, worst_raw_box, worst_raw_kpt;
static int off_by_one_boxes, people_checked;

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v))
        fail_msg("no number '%s'", key);
    return v->valuedouble;
}

static double at(const cJSON *arr, int i)
{
    return cJSON_GetArrayItem(arr, i)->valuedouble;
}

static void near(double got, double want, double tol, double *worst, const char *what,
                 const char *where, int person)
{
    double d = fabs(got - want);
    if (d > *worst)
        *worst = d;
    if (!(d <= tol))
        fail_msg("%s person %d: %s is %.9g, Python says %.9g", where, person, what, got, want);
}

static void check_request(const cJSON *exp, pose_outputs *outs, const char *where)
{
    const cJSON *r = cJSON_GetObjectItem(exp, "request");
    int iw = (int)num(r, "image_w"), ih = (int)num(r, "image_h");
    posepost_params p = {num(r, "conf"), num(r, "iou"), (int)num(r, "max_det")};
    posepost_letterbox lb;
    posepost_heads heads;
    posepost_result res;
    hdm_err err = {0};
    if (posepost_letterbox_init(&lb, iw, ih, 640, 640, &err) < 0 ||
        posepost_heads_find(outs->t, POSE_TEST_OUTPUTS, 640, 640, &heads, &err) < 0 ||
        posepost_decode(&heads, &p, &res, &err) < 0)
        fail_msg("%s: %s", where, err.msg);

    const cJSON *decoded = cJSON_GetObjectItem(exp, "decoded");
    const cJSON *poses = cJSON_GetObjectItem(exp, "poses");
    if ((int)res.count != (int)num(exp, "count"))
        fail_msg("%s: %zu people, Python finds %d", where, res.count, (int)num(exp, "count"));
    for (int i = 0; i < (int)res.count; i++) {
        const posepost_person *pp = &res.people[i];
        const cJSON *d = cJSON_GetArrayItem(decoded, i);
        const cJSON *box = cJSON_GetObjectItem(d, "box");
        for (int k = 0; k < 4; k++)
            near(pp->box[k], at(box, k), 1e-3, &worst_raw_box, "model-space box", where, i);
        if ((double)pp->score != num(d, "score"))
            fail_msg("%s person %d: score %.9g, Python %.9g (order differs?)", where, i,
                     (double)pp->score, num(d, "score"));
        const cJSON *kpt = cJSON_GetObjectItem(d, "kpt");
        const cJSON *conf = cJSON_GetObjectItem(d, "kpt_conf");
        const cJSON *mapped = cJSON_GetObjectItem(d, "kpt_mapped");
        for (int k = 0; k < POSEPOST_KEYPOINTS; k++) {
            const cJSON *kk = cJSON_GetArrayItem(kpt, k);
            near(pp->kpt[k][0], at(kk, 0), 1e-3, &worst_raw_kpt, "model-space keypoint x", where, i);
            near(pp->kpt[k][1], at(kk, 1), 1e-3, &worst_raw_kpt, "model-space keypoint y", where, i);
            near(pp->kpt_conf[k], at(conf, k), 1e-5, &worst_score, "keypoint confidence", where, i);
        }

        posepost_pose pose;
        posepost_map(&lb, pp, &pose);
        const cJSON *gm = cJSON_GetArrayItem(poses, i);
        const cJSON *bbox = cJSON_GetObjectItem(gm, "bbox");
        int got[4] = {pose.x, pose.y, pose.width, pose.height};
        static const char *const keys[4] = {"x", "y", "width", "height"};
        for (int k = 0; k < 4; k++) {
            double want = num(bbox, keys[k]);
            if (got[k] != (int)want && off_by_one_boxes++ < 10)
                print_message("%s person %d: %s %d, Python %d (box %.9f %.9f %.9f %.9f)\n",
                              where, i, keys[k], got[k], (int)want, pp->box[0], pp->box[1],
                              pp->box[2], pp->box[3]);
            near(got[k], want, 1.0, &worst_box, keys[k], where, i);
        }
        near(pose.score, num(gm, "bbox_confidence"), 1e-5, &worst_score, "bbox_confidence", where,
             i);
        const cJSON *kps = cJSON_GetObjectItem(gm, "keypoints");
        for (int k = 0; k < POSEPOST_KEYPOINTS; k++) {
            const cJSON *kp = cJSON_GetArrayItem(kps, k);
            assert_string_equal(cJSON_GetObjectItem(kp, "name")->valuestring,
                                posepost_keypoint_names[k]);
            const cJSON *mk = cJSON_GetArrayItem(mapped, k);
            near(pose.kpt_xf[k], at(mk, 0), 0.5, &worst_kpt, "keypoint x", where, i);
            near(pose.kpt_yf[k], at(mk, 1), 0.5, &worst_kpt, "keypoint y", where, i);
            near(pose.kpt_x[k], num(kp, "x"), 1.0, &worst_box, "printed keypoint x", where, i);
            near(pose.kpt_y[k], num(kp, "y"), 1.0, &worst_box, "printed keypoint y", where, i);
            near(pose.kpt_conf[k], num(kp, "confidence"), 1e-5, &worst_score,
                 "keypoint confidence", where, i);
        }
        const cJSON *size = cJSON_GetObjectItem(exp, "image_size");
        assert_int_equal((int)num(size, "width"), iw);
        assert_int_equal((int)num(size, "height"), ih);
        people_checked++;
    }
    posepost_result_free(&res);
}

static void run_case(const char *name, int batch)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "pose/cases/%s.json", name);
    cJSON *desc = pose_load_json(rel);
    snprintf(rel, sizeof(rel), "pose/expected/%s.json", name);
    cJSON *expected = pose_load_json(rel);
    pose_outputs outs;
    pose_outputs_build(desc, batch, &outs);
    int i = 0;
    const cJSON *exp;
    cJSON_ArrayForEach(exp, expected)
    {
        char where[96];
        snprintf(where, sizeof(where), "%s request %d%s", name, i++, batch ? "" : " (no batch)");
        check_request(exp, &outs, where);
    }
    pose_outputs_free(&outs);
    cJSON_Delete(desc);
    cJSON_Delete(expected);
}

static void test_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        run_case(cases[c], 1);
        run_case(cases[c], 0);
    }
    assert_true(people_checked > 800);
    print_message("%d people: worst bbox/printed keypoint %.3g px (%d bbox values off by one), "
                  "keypoint %.3g px, score %.3g; model space: box %.3g px, keypoint %.3g px\n",
                  people_checked, worst_box, off_by_one_boxes, worst_kpt, worst_score,
                  worst_raw_box, worst_raw_kpt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
