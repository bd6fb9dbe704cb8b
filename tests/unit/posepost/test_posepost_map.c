/*
 * test_posepost_map.c - default_preprocess's letterbox geometry and the
 * mapping back: truncation towards zero, clipping, width/height from the
 * clipped corners, keypoints clipped before int().
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "posepost/posepost.h"

static void test_geometry(void **state)
{
    (void)state;
    struct {
        int w, h;
        double scale;
        int nw, nh, xo, yo;
    } cases[] = {
        {640, 480, 1.0, 640, 480, 0, 80},
        {1920, 1080, 640.0 / 1920.0, 640, 360, 0, 140},
        {480, 640, 1.0, 480, 640, 80, 0},
        {1, 1, 640.0, 640, 640, 0, 0},
        {333, 777, 640.0 / 777.0, 274, 640, 183, 0}, /* int(333 * 0.8236...) = 274 */
        {10, 5000, 0.128, 1, 640, 319, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        posepost_letterbox lb;
        assert_int_equal(posepost_letterbox_init(&lb, cases[i].w, cases[i].h, 640, 640, NULL), 0);
        assert_true(lb.scale == cases[i].scale);
        assert_int_equal(lb.new_w, cases[i].nw);
        assert_int_equal(lb.new_h, cases[i].nh);
        assert_int_equal(lb.x_off, cases[i].xo);
        assert_int_equal(lb.y_off, cases[i].yo);
    }
    hdm_err err = {0};
    posepost_letterbox lb;
    /* cv2.resize would get a 0-pixel side: the original fails there. */
    assert_int_equal(posepost_letterbox_init(&lb, 7, 5000, 640, 640, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "too thin"));
    assert_int_equal(posepost_letterbox_init(&lb, 5000, 7, 640, 640, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(posepost_letterbox_init(&lb, 0, 7, 640, 640, &err), -HDM_E_BAD_REQUEST);
}

static void test_map(void **state)
{
    (void)state;
    posepost_letterbox lb;
    assert_int_equal(posepost_letterbox_init(&lb, 1920, 1080, 640, 640, NULL), 0);
    posepost_person p = {.box = {100.9, 139.5, 300.2, 500.0}, .score = 0.875f};
    for (int k = 0; k < 17; k++) {
        p.kpt[k][0] = 10.5f * (float)k;
        p.kpt[k][1] = 139.0f + 30.0f * (float)k;
        p.kpt_conf[k] = 0.05 * k;
    }
    p.kpt[16][0] = -INFINITY;
    p.kpt[15][1] = INFINITY;
    posepost_pose o;
    posepost_map(&lb, &p, &o);
    /* x: int(100.9 * 3) = 302; y: int((139.5 - 140) * 3) = int(-1.5) = 0 (towards zero). */
    assert_int_equal(o.x, 302);
    assert_int_equal(o.y, 0);
    /* Python: int(300.2 / (640 / 1920)) = 900; int(360 / (640 / 1920)) = 1080 -> 1079. */
    assert_int_equal(o.width, 900 - 302);
    assert_int_equal(o.height, 1079);
    assert_true(o.score == 0.875);
    /* keypoints: (v - off) * 3, clipped to [0, W-1] x [0, H-1], then int(). */
    assert_true(o.kpt_xf[1] == 10.5 / (640.0 / 1920.0));
    assert_int_equal(o.kpt_x[1], (int)o.kpt_xf[1]);
    assert_true(o.kpt_yf[0] == 0.0); /* (139 - 140) * 3 < 0 */
    assert_true(o.kpt_yf[15] == 1079.0);
    assert_true(o.kpt_xf[16] == 0.0);
    assert_int_equal(o.kpt_y[13], 1079);
    assert_true(o.kpt_conf[3] == 0.05 * 3);

    /* A box entirely outside the image collapses onto its edge. */
    posepost_person q = {.box = {-500, -500, -300, -200}};
    posepost_map(&lb, &q, &o);
    assert_int_equal(o.x, 0);
    assert_int_equal(o.width, 0);
    posepost_person big = {.box = {1e300, 0, 2e300, 1e308}};
    posepost_map(&lb, &big, &o);
    assert_int_equal(o.x, 1919);
    assert_int_equal(o.width, 0);
    assert_int_equal(o.height, 1079);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geometry),
        cmocka_unit_test(test_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
