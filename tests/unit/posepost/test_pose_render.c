/*
 * test_pose_render.c - boxes, skeleton lines and keypoint dots land where
 * the pose says, low-confidence parts are left out, and any coordinates
 * (far outside, huge) are drawn safely.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "posepost/posepost.h"

static image blank(int w, int h)
{
    image img = {.width = w, .height = h, .rgb = calloc((size_t)w * (size_t)h, 3)};
    return img;
}

static int painted(const image *img, int x, int y)
{
    const uint8_t *p = img->rgb + ((size_t)y * (size_t)img->width + (size_t)x) * 3;
    return p[0] | p[1] | p[2];
}

static size_t count_painted(const image *img)
{
    size_t n = 0;
    for (int y = 0; y < img->height; y++)
        for (int x = 0; x < img->width; x++)
            n += painted(img, x, y) != 0;
    return n;
}

static posepost_pose standing(void)
{
    posepost_pose p = {.x = 40, .y = 20, .width = 100, .height = 160, .score = 0.9};
    for (int k = 0; k < 17; k++) {
        p.kpt_x[k] = 60 + (k % 2) * 60;
        p.kpt_y[k] = 30 + k * 8;
        p.kpt_xf[k] = p.kpt_x[k];
        p.kpt_yf[k] = p.kpt_y[k];
        p.kpt_conf[k] = 0.9;
    }
    return p;
}

static void test_draws_where_expected(void **state)
{
    (void)state;
    image img = blank(200, 200);
    posepost_pose p = standing();
    p.kpt_conf[16] = 0.1; /* right_ankle: hidden, and so are its pairs */
    pose_render(&img, &p, 1, 0.3);
    /* The box's corners and edges. */
    assert_true(painted(&img, 40, 20));
    assert_true(painted(&img, 140, 180));
    assert_true(painted(&img, 90, 20));
    assert_false(painted(&img, 90, 100) && painted(&img, 91, 100) && painted(&img, 92, 100) &&
                 painted(&img, 89, 100)); /* the inside is not filled */
    /* Keypoint dots. */
    assert_true(painted(&img, p.kpt_x[0], p.kpt_y[0]));
    assert_true(painted(&img, p.kpt_x[15], p.kpt_y[15]));
    /* The pair (5, 6) (shoulders): a line between (60, 70) and (120, 78). */
    assert_true(painted(&img, 90, 74));
    /* Outside the box and away from everything: untouched. */
    assert_false(painted(&img, 190, 5));
    assert_false(painted(&img, 5, 190));
    image_free(&img);

    /* A threshold above every confidence: only the box remains. */
    img = blank(200, 200);
    pose_render(&img, &p, 1, 0.95);
    size_t box_only = count_painted(&img);
    assert_false(painted(&img, p.kpt_x[0], p.kpt_y[0]));
    image_free(&img);
    img = blank(200, 200);
    pose_render(&img, &p, 1, 0.3);
    assert_true(count_painted(&img) > box_only);
    image_free(&img);
}

static void test_line_thickness_scales(void **state)
{
    (void)state;
    image small = blank(200, 200), large = blank(2000, 2000);
    posepost_pose p = standing();
    pose_render(&small, &p, 1, 0.3);
    posepost_pose q = p;
    q.x *= 10, q.y *= 10, q.width *= 10, q.height *= 10;
    for (int k = 0; k < 17; k++)
        q.kpt_x[k] *= 10, q.kpt_y[k] *= 10;
    pose_render(&large, &q, 1, 0.3);
    /* Ten times the size, more than ten times the painted area: thicker. */
    assert_true(count_painted(&large) > 20 * count_painted(&small));
    image_free(&small);
    image_free(&large);
}

static void test_any_coordinates(void **state)
{
    (void)state;
    image img = blank(50, 30);
    posepost_pose p[3] = {standing(), standing(), standing()};
    p[1].x = -2000000000, p[1].width = 2000000000, p[1].y = 2000000000;
    for (int k = 0; k < 17; k++) {
        p[2].kpt_x[k] = k % 2 ? 2147483647 : -2147483647;
        p[2].kpt_y[k] = k % 3 ? -5 : 100000;
    }
    pose_render(&img, p, 3, 0.0);
    pose_render(&img, p, 0, 0.0);
    pose_render(NULL, p, 3, 0.0);
    image none = {0};
    pose_render(&none, p, 3, 0.0);
    image one = blank(1, 1);
    pose_render(&one, p, 3, 0.0);
    image_free(&one);
    image_free(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_draws_where_expected),
        cmocka_unit_test(test_line_thickness_scales),
        cmocka_unit_test(test_any_coordinates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
