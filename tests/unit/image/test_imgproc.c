/*
 * test_imgproc.c - the OpenCV shim (image/imgproc.h): each wrapper against
 * what cv2 (python3-opencv 4.6, the same library) gives for the same small
 * inputs, the Python letterbox arithmetic, and argument errors.  The
 * expected arrays below were printed by cv2 from the inputs built here, on
 * x86-64.
 */
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "image/imgproc.h"

/* ---- expected values (cv2 4.6) ------------------------------------------ */

/* On x86-64, where cv2 printed them, the floats must be identical.  OpenCV's
 * arm64 build (NEON kernels, fused multiply-adds) rounds some of them
 * differently in the last bits, so there (make check-arm64, the Pi) they are
 * compared to a relative 1e-5; the 8-bit outputs stay exact everywhere. */
#if defined(__x86_64__)
#define CV2_REL_TOL 0.0
#else
#define CV2_REL_TOL 1e-5
#endif

static bool near_cv2(double got, double want)
{
    return got == want || fabs(got - want) <= CV2_REL_TOL * fmax(1.0, fabs(want));
}

#define assert_cv2(got, want)                                                                \
    do {                                                                                     \
        double g_ = (got), w_ = (want);                                                      \
        if (!near_cv2(g_, w_))                                                               \
            fail_msg("%s is %.17g, cv2 gives %.17g", #got, g_, w_);                          \
    } while (0)

static const uint8_t resize_u8_out[105] = {
    0,   41,  94,  2,   55,  106, 24,  77,  129, 47,  100, 165, 69,  122, 201, 92,  145, 224,
    106, 159, 237, 25,  76,  150, 38,  98,  171, 61,  132, 192, 94,  157, 150, 126, 178, 108,
    149, 201, 129, 162, 215, 150, 87,  140, 193, 101, 154, 223, 124, 177, 242, 146, 200, 124,
    169, 222, 7,   192, 245, 26,  206, 255, 56,  150, 218, 99,  173, 163, 120, 194, 92,  141,
    130, 90,  99,  67,  127, 57,  88,  150, 78,  111, 164, 100, 187, 255, 12,  218, 158, 25,
    237, 12,  48,  106, 0,   84,  0,   41,  120, 0,   64,  143, 25,  78,  155};
static const float resize_f32_down[6] = {-0.846312106f, -0.512175083f, 0.493752509f,
                                         0.115619123f,  0.87136358f,   0.484189808f};
static const float resize_f32_up[63] = {
    -0.125406802f, 0.757656276f,   2.09806609f,   3.16695523f,   3.54209232f,   3.55097318f,
    2.82321095f,   1.6805675f,     0.904597163f,  -0.60344559f,  -0.391909361f, -0.0509229898f,
    0.324631929f,  0.605775654f,   0.824281633f,  0.892569244f,  0.808898926f,  0.736704469f,
    -0.982525706f, -1.58387089f,   -2.45960855f,  -2.96492863f,  -2.86414218f,  -2.46720028f,
    -1.51974607f,  -0.387681663f,  0.352471232f,  0.842338204f,  0.673443437f,  0.388685346f,
    0.0136945248f, -0.331046045f,  -0.641556382f, -0.84863025f,  -0.901320934f, -0.915161967f,
    1.74222159f,   2.19124222f,    2.81015968f,   2.97727966f,   2.5655756f,    1.88858736f,
    0.754375339f,  -0.425210088f,  -1.17784607f,  -0.912460148f, -0.820046782f, -0.648569942f,
    -0.34927702f,  -0.0100114495f, 0.330289423f,  0.634660006f,  0.813154757f,  0.910258174f,
    -3.05346537f,  -3.29914284f,   -3.56491303f,  -3.2186389f,   -2.29277039f,  -1.12982655f,
    0.379404575f,  1.72089696f,    2.54910207f};
static const uint8_t letterbox_out[192] = {
    114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114,
    114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114,
    114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 10,  17,  24,  43,  50,  57,
    72,  79,  86,  103, 110, 117, 137, 144, 155, 175, 182, 189, 176, 183, 190, 193, 200, 207,
    92,  99,  106, 125, 131, 138, 152, 177, 184, 207, 217, 235, 227, 234, 94,  115, 122, 146,
    55,  62,  69,  31,  38,  45,  175, 182, 189, 207, 229, 236, 255, 104, 111, 72,  54,  64,
    78,  85,  52,  67,  74,  86,  105, 112, 119, 139, 146, 153, 114, 114, 114, 114, 114, 114,
    114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114,
    114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114,
    114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114,
    114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114, 114};
static const double persp_m[9] = {0.9191524662127128,     0.2757457398638139,   -2.5736269053955962,
                                  -0.17420759738688602,   1.132349383014759,    -0.6968303895475441,
                                  -0.0022882029656769638, 0.031149977532750298, 1.0};
static const uint8_t warp_out[90] = {
    59, 99,  139, 82, 122, 162, 105, 145, 185, 128, 168, 208, 151, 191, 231, 175, 215, 59,
    61, 101, 141, 85, 125, 165, 109, 149, 189, 132, 172, 212, 156, 196, 236, 180, 220, 60,
    64, 104, 144, 89, 129, 169, 113, 153, 193, 137, 177, 217, 162, 202, 170, 187, 227, 35,
    67, 107, 147, 92, 132, 172, 117, 157, 197, 143, 183, 223, 168, 208, 160, 194, 234, 18,
    71, 111, 151, 96, 136, 176, 122, 162, 202, 148, 188, 228, 174, 214, 214, 200, 240, 24};
static const int32_t contour0[2] = {2, 9};
static const int32_t contour1[8] = {10, 8, 10, 10, 14, 10, 14, 8};
static const int32_t contour2[12] = {2, 3, 3, 2, 4, 2, 5, 3, 4, 4, 3, 4};
static const int32_t contour3[8] = {1, 1, 1, 5, 7, 5, 7, 1};
static const float rect_expect[5] = {23.5, 12.5, 31.320919036865234, 10.440306663513184,
                                     16.699243545532227};
static const float box_expect[8] = {7.0f, 13.0f, 10.0f, 3.0f, 40.0f, 12.0f, 37.0f, 22.0f};
static const uint8_t fill_out[120] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 7, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 7, 7, 7, 7,
    7, 7, 0, 0, 0, 0, 0, 0, 7, 7, 7, 7, 7, 7, 7, 7, 7, 0, 0, 0, 7, 7, 7, 7, 7, 7, 7, 7, 0, 0,
    0, 0, 0, 7, 7, 7, 7, 7, 7, 0, 0, 0, 0, 0, 0, 7, 7, 7, 7, 7, 0, 0, 0, 0, 0, 0, 0, 0, 7, 7,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

static const struct {
    int w, h, tw, th;
    double scale;
    int nw, nh, xo, yo;
} geometry_expect[] = {
    {49, 7, 320, 48, 6.530612244897959, 320, 45, 0, 1},
    {1920, 1080, 960, 544, 0.5, 960, 540, 0, 2},
    {1000, 3, 320, 48, 0.32, 320, 0, 0, 24},
    {333, 777, 960, 544, 0.7001287001287001, 233, 544, 363, 0},
    {7, 3, 640, 640, 91.42857142857143, 640, 274, 0, 183},
    {1, 1, 960, 544, 544.0, 544, 544, 208, 0},
};

/* ---- tests ------------------------------------------------------------------ */

static void test_geometry(void **state)
{
    (void)state;
    hdm_err err = {0};
    for (size_t i = 0; i < sizeof(geometry_expect) / sizeof(geometry_expect[0]); i++) {
        imgproc_letterbox g;
        assert_int_equal(imgproc_letterbox_geometry(geometry_expect[i].w, geometry_expect[i].h,
                                                    geometry_expect[i].tw, geometry_expect[i].th,
                                                    &g, &err),
                         0);
        assert_true(g.scale == geometry_expect[i].scale);
        assert_int_equal(g.new_w, geometry_expect[i].nw);
        assert_int_equal(g.new_h, geometry_expect[i].nh);
        assert_int_equal(g.x_off, geometry_expect[i].xo);
        assert_int_equal(g.y_off, geometry_expect[i].yo);
    }
    imgproc_letterbox g;
    assert_int_equal(imgproc_letterbox_geometry(0, 5, 10, 10, &g, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "0x5"));
    assert_int_equal(imgproc_letterbox_geometry(5, 5, 10, IMGPROC_MAX_SIDE + 1, &g, &err),
                     -HDM_E_BAD_REQUEST);
}

static void test_resize(void **state)
{
    (void)state;
    hdm_err err = {0};
    uint8_t src[3 * 4 * 3], out[5 * 7 * 3];
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++)
            for (int c = 0; c < 3; c++)
                src[(y * 4 + x) * 3 + c] = (uint8_t)((x * 37 + y * 91 + c * 53) % 256);
    assert_int_equal(imgproc_resize_cubic_u8(src, 4, 3, 0, 3, out, 7, 5, 0, &err), 0);
    assert_memory_equal(out, resize_u8_out, sizeof(out));

    /* A row stride: the same pixels inside wider rows. */
    uint8_t wide[3 * 20], out2[5 * 7 * 3];
    for (int y = 0; y < 3; y++)
        memcpy(wide + y * 20, src + y * 12, 12);
    assert_int_equal(imgproc_resize_cubic_u8(wide, 4, 3, 20, 3, out2, 7, 5, 0, &err), 0);
    assert_memory_equal(out2, resize_u8_out, sizeof(out2));

    float srcf[20], down[6], up[63];
    for (int i = 0; i < 20; i++)
        srcf[i] = (float)(sin(i * 0.7) * 3);
    assert_int_equal(imgproc_resize_cubic_f32(srcf, 5, 4, 0, down, 3, 2, 0, &err), 0);
    assert_int_equal(imgproc_resize_cubic_f32(srcf, 5, 4, 0, up, 9, 7, 0, &err), 0);
    for (int i = 0; i < 6; i++)
        assert_cv2(down[i], resize_f32_down[i]);
    for (int i = 0; i < 63; i++)
        assert_cv2(up[i], resize_f32_up[i]);

    assert_int_equal(imgproc_resize_cubic_u8(src, 4, 3, 0, 5, out, 7, 5, 0, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "5 channels"));
    assert_int_equal(imgproc_resize_cubic_u8(src, 4, 3, 5, 3, out, 7, 5, 0, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "stride"));
    assert_int_equal(imgproc_resize_cubic_u8(NULL, 4, 3, 0, 3, out, 7, 5, 0, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(imgproc_resize_cubic_f32(srcf, 5, 0, 0, down, 3, 2, 0, &err),
                     -HDM_E_BAD_REQUEST);
}

static void test_letterbox(void **state)
{
    (void)state;
    hdm_err err = {0};
    uint8_t img[4 * 10 * 3], out[8 * 8 * 3];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 10; x++)
            for (int c = 0; c < 3; c++)
                img[(y * 10 + x) * 3 + c] = (uint8_t)((x * 25 + y * 60 + c * 7) % 256);
    imgproc_letterbox g;
    assert_int_equal(imgproc_letterbox_geometry(10, 4, 8, 8, &g, &err), 0);
    assert_int_equal(imgproc_letterbox_u8(img, 10, 4, 0, 3, &g, 114, out, 8, 8, &err), 0);
    assert_memory_equal(out, letterbox_out, sizeof(out));

    /* A side scaled to 0 pixels, and a geometry that does not fit. */
    assert_int_equal(imgproc_letterbox_geometry(1000, 3, 320, 48, &g, &err), 0);
    assert_int_equal(g.new_h, 0);
    uint8_t *big = calloc(1000 * 3 * 3, 1), *rec = malloc(320 * 48 * 3);
    assert_int_equal(imgproc_letterbox_u8(big, 1000, 3, 0, 3, &g, 128, rec, 320, 48, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "too thin"));
    g = (imgproc_letterbox){1.0, 300, 40, 30, 0};
    assert_int_equal(imgproc_letterbox_u8(big, 1000, 3, 0, 3, &g, 128, rec, 320, 48, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "does not fit"));
    free(big);
    free(rec);
}

static void test_perspective(void **state)
{
    (void)state;
    hdm_err err = {0};
    const float quad[8] = {2.5f, 1.0f, 9.0f, 2.0f, 8.5f, 7.25f, 1.0f, 6.0f};
    const float dst[8] = {0, 0, 6, 0, 6, 5, 0, 5};
    double m[9];
    assert_int_equal(imgproc_perspective_transform(quad, dst, m, &err), 0);
    for (int i = 0; i < 9; i++)
        assert_cv2(m[i], persp_m[i]);

    uint8_t grad[10 * 12 * 3], out[5 * 6 * 3];
    for (int y = 0; y < 10; y++)
        for (int x = 0; x < 12; x++)
            for (int c = 0; c < 3; c++)
                grad[(y * 12 + x) * 3 + c] = (uint8_t)((x * 20 + y * 9 + c * 40) % 256);
    assert_int_equal(imgproc_warp_perspective_u8(grad, 12, 10, 0, 3, m, out, 6, 5, &err), 0);
    assert_memory_equal(out, warp_out, sizeof(out));

    /* Degenerate destination points: OpenCV's zero matrix, no error. */
    const float flat[8] = {0, 0, 0, 0, 0, 4, 0, 4};
    assert_int_equal(imgproc_perspective_transform(quad, flat, m, &err), 0);
    assert_int_equal(imgproc_warp_perspective_u8(grad, 12, 10, 0, 3, m, out, 0, 5, &err),
                     -HDM_E_BAD_REQUEST);
}

static void check_contour(const imgproc_contours *c, size_t i, const int32_t *xy, size_t n)
{
    assert_int_equal(c->start[i + 1] - c->start[i], n / 2);
    assert_memory_equal(c->xy + 2 * c->start[i], xy, n * sizeof(int32_t));
}

static void test_contours(void **state)
{
    (void)state;
    hdm_err err = {0};
    uint8_t mask[12 * 16] = {0};
    for (int y = 1; y < 6; y++)
        for (int x = 1; x < 8; x++)
            mask[y * 16 + x] = 255;
    mask[3 * 16 + 3] = mask[3 * 16 + 4] = 0;
    for (int y = 8; y < 11; y++)
        for (int x = 10; x < 15; x++)
            mask[y * 16 + x] = 1; /* any non-zero value is foreground */
    mask[9 * 16 + 2] = 255;
    uint8_t copy[sizeof(mask)];
    memcpy(copy, mask, sizeof(mask));
    imgproc_contours c;
    assert_int_equal(imgproc_find_contours(mask, 16, 12, 0, &c, &err), 0);
    assert_memory_equal(mask, copy, sizeof(mask)); /* left intact */
    assert_int_equal(c.count, 4);
    check_contour(&c, 0, contour0, sizeof(contour0) / sizeof(contour0[0]));
    check_contour(&c, 1, contour1, sizeof(contour1) / sizeof(contour1[0]));
    check_contour(&c, 2, contour2, sizeof(contour2) / sizeof(contour2[0]));
    check_contour(&c, 3, contour3, sizeof(contour3) / sizeof(contour3[0]));
    imgproc_contours_free(&c);
    assert_int_equal(c.count, 0);
    imgproc_contours_free(&c); /* twice is fine */
    imgproc_contours_free(NULL);

    uint8_t empty[4 * 4] = {0};
    assert_int_equal(imgproc_find_contours(empty, 4, 4, 0, &c, &err), 0);
    assert_int_equal(c.count, 0);
    imgproc_contours_free(&c);
    assert_int_equal(imgproc_find_contours(empty, 4, 4, 2, &c, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(c.count, 0);
}

static void test_min_area_rect(void **state)
{
    (void)state;
    hdm_err err = {0};
    const int32_t pts[10] = {10, 3, 40, 12, 37, 22, 7, 13, 20, 8};
    imgproc_rotated_rect r;
    float box[8];
    assert_int_equal(imgproc_min_area_rect_i32(pts, 5, &r, &err), 0);
    assert_cv2(r.cx, rect_expect[0]);
    assert_cv2(r.cy, rect_expect[1]);
    assert_cv2(r.w, rect_expect[2]);
    assert_cv2(r.h, rect_expect[3]);
    assert_cv2(r.angle, rect_expect[4]);
    assert_int_equal(imgproc_box_points(&r, box, &err), 0);
    for (int i = 0; i < 8; i++)
        assert_cv2(box[i], box_expect[i]);
    assert_int_equal(imgproc_min_area_rect_i32(pts, 0, &r, &err), 0);
    assert_true(r.w == 0.0f && r.h == 0.0f);
    assert_int_equal(imgproc_min_area_rect_i32(NULL, 3, &r, &err), -HDM_E_BAD_REQUEST);
}

static void test_fill_and_mean(void **state)
{
    (void)state;
    hdm_err err = {0};
    uint8_t canvas[10 * 12] = {0};
    const int32_t tri[6] = {1, 1, 10, 3, 4, 8};
    assert_int_equal(imgproc_fill_poly_u8(canvas, 12, 10, 0, tri, 3, 7, &err), 0);
    assert_memory_equal(canvas, fill_out, sizeof(canvas));
    float f[120];
    for (int i = 0; i < 120; i++)
        f[i] = (float)i / 7.0f;
    double mean;
    assert_int_equal(imgproc_mean_masked_f32(f, 12, 10, 0, canvas, 0, &mean, &err), 0);
    assert_true(mean == 7.313588848928126);

    /* A polygon partly outside is clipped; an empty mask means 0. */
    const int32_t outside[8] = {-5, -5, 30, -5, 30, 2, -5, 2};
    uint8_t c2[10 * 12] = {0};
    assert_int_equal(imgproc_fill_poly_u8(c2, 12, 10, 0, outside, 4, 1, &err), 0);
    for (int i = 0; i < 120; i++)
        assert_int_equal(c2[i], i < 36 ? 1 : 0);
    memset(c2, 0, sizeof(c2));
    assert_int_equal(imgproc_mean_masked_f32(f, 12, 10, 0, c2, 0, &mean, &err), 0);
    assert_true(mean == 0.0);
    assert_int_equal(imgproc_fill_poly_u8(c2, 12, 10, 0, tri, 0, 1, &err), -HDM_E_BAD_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geometry),      cmocka_unit_test(test_resize),
        cmocka_unit_test(test_letterbox),     cmocka_unit_test(test_perspective),
        cmocka_unit_test(test_contours),      cmocka_unit_test(test_min_area_rect),
        cmocka_unit_test(test_fill_and_mean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
