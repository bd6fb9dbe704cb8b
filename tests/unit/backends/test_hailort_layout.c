/*
 * test_hailort_layout.c - image layouts, output shapes and stream names of
 * the HailoRT backend (src/backends/hailort-layout.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "backends/hailort-layout.h"

static hdm_tensor image(int ndim, const int64_t *shape)
{
    hdm_tensor t = {.dtype = HDM_DT_UINT8, .ndim = ndim};
    for (int i = 0; i < ndim; i++)
        t.shape[i] = shape[i];
    return t;
}

static void test_layout_detect(void **state)
{
    (void)state;
    hrt_layout l;
    hdm_tensor t;

    t = image(3, (int64_t[]){256, 320, 3});
    assert_int_equal(hrt_image_layout(&t, "input", 256, 320, 3, &l, NULL), 0);
    assert_int_equal(l, HRT_LAYOUT_HWC);
    t = image(4, (int64_t[]){1, 256, 320, 3});
    assert_int_equal(hrt_image_layout(&t, "input", 256, 320, 3, &l, NULL), 0);
    assert_int_equal(l, HRT_LAYOUT_HWC);
    t = image(3, (int64_t[]){3, 256, 320});
    assert_int_equal(hrt_image_layout(&t, "input", 256, 320, 3, &l, NULL), 0);
    assert_int_equal(l, HRT_LAYOUT_CHW);
    t = image(4, (int64_t[]){1, 3, 256, 320});
    assert_int_equal(hrt_image_layout(&t, "input", 256, 320, 3, &l, NULL), 0);
    assert_int_equal(l, HRT_LAYOUT_CHW);
    /* Both readings fit: HWC, the protocol's default. */
    t = image(3, (int64_t[]){3, 3, 3});
    assert_int_equal(hrt_image_layout(&t, "input", 3, 3, 3, &l, NULL), 0);
    assert_int_equal(l, HRT_LAYOUT_HWC);
}

static void test_layout_rejects(void **state)
{
    (void)state;
    hrt_layout l;
    hdm_err err;
    hdm_tensor t;

    hdm_err_clear(&err);
    t = image(3, (int64_t[]){320, 256, 3}); /* swapped */
    assert_int_equal(hrt_image_layout(&t, "input_data.input", 256, 320, 3, &l, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "input_data.input"));
    assert_non_null(strstr(err.msg, "[256,320,3] (HWC)"));
    assert_non_null(strstr(err.msg, "[3,256,320] (CHW)"));
    t = image(4, (int64_t[]){2, 256, 320, 3}); /* a batch of two */
    assert_int_equal(hrt_image_layout(&t, "x", 256, 320, 3, &l, NULL), -HDM_E_BAD_REQUEST);
    t = image(2, (int64_t[]){256, 960});
    assert_int_equal(hrt_image_layout(&t, "x", 256, 320, 3, &l, NULL), -HDM_E_BAD_REQUEST);
    t = image(5, (int64_t[]){1, 1, 256, 320, 3});
    assert_int_equal(hrt_image_layout(&t, "x", 256, 320, 3, &l, NULL), -HDM_E_BAD_REQUEST);
}

static void test_convert(void **state)
{
    (void)state;
    enum { H = 2, W = 3, C = 3 };
    uint8_t hwc[H * W * C], chw[H * W * C], back[H * W * C];
    for (int i = 0; i < H * W * C; i++)
        hwc[i] = (uint8_t)i;

    hrt_image_convert(hwc, HRT_LAYOUT_HWC, chw, HRT_LAYOUT_CHW, H, W, C, 1);
    /* chw[c][y][x] == hwc[y][x][c] */
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                assert_int_equal(chw[(c * H + y) * W + x], hwc[(y * W + x) * C + c]);
    hrt_image_convert(chw, HRT_LAYOUT_CHW, back, HRT_LAYOUT_HWC, H, W, C, 1);
    assert_memory_equal(back, hwc, sizeof(hwc));
    memset(back, 0, sizeof(back));
    hrt_image_convert(hwc, HRT_LAYOUT_HWC, back, HRT_LAYOUT_HWC, H, W, C, 1);
    assert_memory_equal(back, hwc, sizeof(hwc));

    /* Wider elements move whole. */
    float f_hwc[4] = {1.0f, 2.0f, 3.0f, 4.0f}, f_chw[4];
    hrt_image_convert(f_hwc, HRT_LAYOUT_HWC, f_chw, HRT_LAYOUT_CHW, 1, 2, 2, sizeof(float));
    assert_true(f_chw[0] == 1.0f && f_chw[1] == 3.0f && f_chw[2] == 2.0f && f_chw[3] == 4.0f);

    assert_int_equal(hrt_order_layout(HRT_ORDER_NCHW), HRT_LAYOUT_CHW);
    assert_int_equal(hrt_order_layout(HRT_ORDER_NHWC), HRT_LAYOUT_HWC);
    /* FCR and F8CR are NHWC on the host side. */
    assert_int_equal(hrt_order_layout(HRT_ORDER_FCR), HRT_LAYOUT_HWC);
    assert_int_equal(hrt_order_layout(HRT_ORDER_F8CR), HRT_LAYOUT_HWC);
    /* Not images this backend converts to. */
    assert_int_equal(hrt_order_layout(HRT_ORDER_NC), -1);
    assert_int_equal(hrt_order_layout(HRT_ORDER_YUY2), -1);
    assert_int_equal(hrt_order_layout(HRT_ORDER_RGB4), -1);
    assert_int_equal(hrt_order_layout(HRT_ORDER_NMS_BY_CLASS), -1);
}

static void test_stream_shape(void **state)
{
    (void)state;
    int64_t s[HDM_MAX_DIMS];
    hrt_stream_info emb = {.order = HRT_ORDER_NC,
                           .height = 1,
                           .width = 1,
                           .features = 512,
                           .type = HRT_TYPE_FLOAT32,
                           .frame_size = 2048};
    hrt_stream_info text = {.order = HRT_ORDER_NHWC,
                            .height = 1,
                            .width = 77,
                            .features = 512,
                            .type = HRT_TYPE_FLOAT32,
                            .frame_size = 77 * 512 * 4};
    hrt_stream_info depth = {.order = HRT_ORDER_NHWC,
                             .height = 256,
                             .width = 320,
                             .features = 1,
                             .type = HRT_TYPE_FLOAT32,
                             .frame_size = 256 * 320 * 4};
    hrt_stream_info chw = {.order = HRT_ORDER_NCHW,
                           .height = 20,
                           .width = 30,
                           .features = 56,
                           .type = HRT_TYPE_FLOAT32,
                           .frame_size = 56 * 20 * 30 * 4};
    hrt_stream_info other = {.order = HRT_ORDER_OTHER, .type = HRT_TYPE_FLOAT32, .frame_size = 400};

    /* Per-frame shapes, as HailoRT's Python API (and the original manager) reports them. */
    assert_int_equal(hrt_stream_shape(&emb, s), 1);
    assert_true(s[0] == 512);
    assert_int_equal(hrt_stream_shape(&text, s), 3);
    assert_true(s[0] == 1 && s[1] == 77 && s[2] == 512);
    assert_int_equal(hrt_stream_shape(&depth, s), 3);
    assert_true(s[0] == 256 && s[1] == 320 && s[2] == 1);
    assert_int_equal(hrt_stream_shape(&chw, s), 3);
    assert_true(s[0] == 56 && s[1] == 20 && s[2] == 30);
    assert_int_equal(hrt_stream_shape(&other, s), 1);
    assert_true(s[0] == 100);
}

/* Issue 22 item 10: every host order HailoRT 5.x gives a model's outputs. */
static void test_every_order(void **state)
{
    (void)state;
    int64_t s[HDM_MAX_DIMS];
    const struct {
        hrt_order order;
        hrt_type type;
        uint32_t h, w, f;
        size_t frame_size;
        int ndim;
        int64_t shape[3];
    } cases[] = {
        /* FCR/F8CR (yolo heads, most conv outputs): [h,w,c] on the host */
        {HRT_ORDER_FCR, HRT_TYPE_FLOAT32, 80, 80, 64, 80 * 80 * 64 * 4, 3, {80, 80, 64}},
        {HRT_ORDER_F8CR, HRT_TYPE_UINT8, 20, 20, 51, 20 * 20 * 51, 3, {20, 20, 51}},
        /* argmax: [h,w] */
        {HRT_ORDER_NHW, HRT_TYPE_UINT8, 256, 320, 1, 256 * 320, 2, {256, 320}},
        {HRT_ORDER_BAYER_RGB, HRT_TYPE_UINT16, 8, 8, 1, 8 * 8 * 2, 3, {8, 8, 1}},
        {HRT_ORDER_BAYER_RGB12, HRT_TYPE_UINT16, 8, 8, 1, 8 * 8 * 2, 3, {8, 8, 1}},
        /* NMS lists: flat, floats by class, bytes by score */
        {HRT_ORDER_NMS_BY_CLASS, HRT_TYPE_FLOAT32, 1, 1, 1, 80 * 501 * 4, 1, {80 * 501}},
        {HRT_ORDER_NMS_BY_SCORE, HRT_TYPE_UINT8, 1, 1, 1, 2 + 100 * 12, 1, {2 + 100 * 12}},
        {HRT_ORDER_NMS_BYTE_MASK, HRT_TYPE_UINT8, 1, 1, 1, 4096, 1, {4096}},
        /* padded rows and YUV planes: flat */
        {HRT_ORDER_RGB4, HRT_TYPE_UINT8, 3, 5, 3, 3 * 16, 1, {48}},
        {HRT_ORDER_NV12, HRT_TYPE_UINT8, 4, 4, 3, 4 * 4 * 3 / 2, 1, {24}},
        /* a packed YUV frame whose bytes the shape holds */
        {HRT_ORDER_YUY2, HRT_TYPE_UINT8, 4, 4, 2, 32, 3, {4, 4, 2}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        hrt_stream_info st = {.order = cases[i].order,
                              .type = cases[i].type,
                              .height = cases[i].h,
                              .width = cases[i].w,
                              .features = cases[i].f,
                              .frame_size = cases[i].frame_size};
        assert_int_equal(hrt_stream_shape(&st, s), cases[i].ndim);
        for (int d = 0; d < cases[i].ndim; d++)
            assert_int_equal(s[d], cases[i].shape[d]);
    }
    /* A shape that does not hold the frame (HailoRT changed its layout): flat. */
    hrt_stream_info odd = {.order = HRT_ORDER_NHWC,
                           .type = HRT_TYPE_FLOAT32,
                           .height = 2,
                           .width = 2,
                           .features = 2,
                           .frame_size = 40};
    assert_int_equal(hrt_stream_shape(&odd, s), 1);
    assert_int_equal(s[0], 10);
    /* Types: the NMS lists only come as bytes. */
    assert_int_equal(hrt_output_type(HRT_ORDER_NMS_BY_SCORE, HRT_TYPE_FLOAT32), HRT_TYPE_UINT8);
    assert_int_equal(hrt_output_type(HRT_ORDER_NMS_BYTE_MASK, HRT_TYPE_FLOAT32), HRT_TYPE_UINT8);
    assert_int_equal(hrt_output_type(HRT_ORDER_NMS_BY_CLASS, HRT_TYPE_FLOAT32), HRT_TYPE_FLOAT32);
    assert_int_equal(hrt_output_type(HRT_ORDER_FCR, HRT_TYPE_FLOAT32), HRT_TYPE_FLOAT32);
    /* Names for messages. */
    assert_string_equal(hrt_order_name(HRT_ORDER_F8CR), "F8CR");
    assert_string_equal(hrt_order_name(HRT_ORDER_NMS_BY_CLASS), "HAILO_NMS_BY_CLASS");
    assert_string_equal(hrt_order_name((hrt_order)99), "an order unknown to this backend");
}

static void test_types(void **state)
{
    (void)state;
    assert_int_equal(hrt_type_size(HRT_TYPE_UINT8), 1);
    assert_int_equal(hrt_type_size(HRT_TYPE_UINT16), 2);
    assert_int_equal(hrt_type_size(HRT_TYPE_FLOAT32), 4);
    assert_int_equal(hrt_type_size(HRT_TYPE_AUTO), 0);
    assert_int_equal(hrt_type_dtype(HRT_TYPE_FLOAT32), HDM_DT_FLOAT32);
    assert_int_equal(hrt_type_dtype(HRT_TYPE_UINT8), HDM_DT_UINT8);
    assert_int_equal(hrt_type_dtype(HRT_TYPE_AUTO), -1);
}

static void test_stream_find(void **state)
{
    (void)state;
    hrt_stream_info s[3] = {0};
    strcpy(s[0].name, "clip_text/input_layer1");
    strcpy(s[1].name, "clip_text/output_layer1");
    strcpy(s[2].name, "other_net/output_layer1");

    assert_int_equal(hrt_stream_find(s, 3, "clip_text/input_layer1"), 0);
    assert_int_equal(hrt_stream_find(s, 3, "input_layer1"), 0);
    assert_int_equal(hrt_stream_find(s, 3, "renamed/input_layer1"), 0);
    assert_int_equal(hrt_stream_find(s, 3, "other_net/output_layer1"), 2);
    assert_int_equal(hrt_stream_find(s, 3, "output_layer1"), -2); /* two nets have one */
    assert_int_equal(hrt_stream_find(s, 2, "output_layer1"), 1);
    assert_int_equal(hrt_stream_find(s, 3, "conv70"), -1);
    assert_int_equal(hrt_stream_find(s, 3, ""), -1);
    assert_int_equal(hrt_stream_find(s, 3, NULL), -1);
}

static void test_stream_names(void **state)
{
    (void)state;
    hrt_stream_info s[2] = {0};
    char buf[64], small[12];
    strcpy(s[0].name, "net/a");
    strcpy(s[1].name, "net/b");
    assert_string_equal(hrt_stream_names(s, 2, buf, sizeof(buf)), "net/a, net/b");
    assert_string_equal(hrt_stream_names(s, 0, buf, sizeof(buf)), "");
    /* Truncated, still terminated. */
    hrt_stream_names(s, 2, small, sizeof(small));
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, "net/a, net/", sizeof(small) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_detect), cmocka_unit_test(test_layout_rejects),
        cmocka_unit_test(test_convert),       cmocka_unit_test(test_stream_shape),
        cmocka_unit_test(test_every_order),   cmocka_unit_test(test_types),
        cmocka_unit_test(test_stream_find),   cmocka_unit_test(test_stream_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
