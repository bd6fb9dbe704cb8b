/*
 * test_posepost_nms.c - greedy NMS with the "+1 pixel" IoU, the >=
 * threshold, the visiting order of ties, and survivors in input order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "posepost/posepost_internal.h"

static size_t nms(const double (*boxes)[4], const double *scores, size_t n, double iou,
                  unsigned char *keep)
{
    size_t order[16];
    return posepost_nms(boxes, scores, n, iou, order, keep);
}

static void test_plus_one_iou(void **state)
{
    (void)state;
    /* [0,0,9,9] has area 10*10 = 100; [5,0,14,9] overlaps 5x10 = 50:
     * IoU = 50 / 150 = 1/3. */
    const double boxes[2][4] = {{0, 0, 9, 9}, {5, 0, 14, 9}};
    const double scores[2] = {0.9, 0.8};
    unsigned char keep[2];
    assert_int_equal(nms(boxes, scores, 2, 0.34, keep), 2);
    assert_int_equal(nms(boxes, scores, 2, 1.0 / 3.0, keep), 1);
    assert_true(keep[0] && !keep[1]);
    /* Touching edges still overlap by one pixel column in this convention. */
    const double touching[2][4] = {{0, 0, 9, 9}, {9, 0, 18, 9}};
    /* 10 / 190 = 0.0526 */
    assert_int_equal(nms(touching, scores, 2, 0.053, keep), 2);
    assert_int_equal(nms(touching, scores, 2, 0.052, keep), 1);
    /* iou 0 suppresses everything after the best, overlapping or not. */
    const double apart[3][4] = {{0, 0, 9, 9}, {100, 100, 120, 130}, {300, 0, 310, 5}};
    const double s3[3] = {0.5, 0.9, 0.7};
    unsigned char k3[3];
    assert_int_equal(nms(apart, s3, 3, 0.0, k3), 1);
    assert_true(!k3[0] && k3[1] && !k3[2]);
    assert_int_equal(nms(apart, s3, 3, 1.0, k3), 3);
}

static void test_identical_boxes(void **state)
{
    (void)state;
    const double boxes[3][4] = {{10, 10, 50, 90}, {10, 10, 50, 90}, {10, 10, 50, 90}};
    const double scores[3] = {0.9, 0.7, 0.8};
    unsigned char keep[3];
    /* IoU 1 >= 1.0: the best suppresses the others even at threshold 1. */
    assert_int_equal(nms(boxes, scores, 3, 1.0, keep), 1);
    assert_true(keep[0] && !keep[1] && !keep[2]);
}

static void test_tie_order(void **state)
{
    (void)state;
    /* Equal scores: argsort gives [0, 1], reversed [1, 0], so box 1 is
     * visited first and suppresses box 0, as the original does. */
    const double boxes[2][4] = {{0, 0, 20, 20}, {1, 1, 21, 21}};
    const double scores[2] = {0.8, 0.8};
    unsigned char keep[2];
    assert_int_equal(nms(boxes, scores, 2, 0.5, keep), 1);
    assert_true(!keep[0] && keep[1]);
    /* Behind a better box, the tie is visited later-index first: 2 beats 1. */
    const double chain[3][4] = {{100, 100, 110, 110}, {0, 0, 10, 10}, {1, 0, 11, 10}};
    const double s[3] = {0.9, 0.8, 0.8};
    unsigned char k3[3];
    assert_int_equal(nms(chain, s, 3, 0.5, k3), 2);
    assert_true(k3[0] && !k3[1] && k3[2]);
}

static void test_empty(void **state)
{
    (void)state;
    unsigned char keep[1];
    assert_int_equal(nms(NULL, NULL, 0, 0.5, keep), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plus_one_iou),
        cmocka_unit_test(test_identical_boxes),
        cmocka_unit_test(test_tie_order),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
