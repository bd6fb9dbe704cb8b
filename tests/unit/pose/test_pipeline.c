/*
 * test_pipeline.c - the host-side steps of a detection (pipeline.c), without
 * a manager: pose_prepare (decode as PIL does, letterbox into 640x640 with
 * grey 114 where the image is not) with its errors, and
 * pose_decode_outputs (the 9 heads by shape, decoded, mapped back into the
 * image) on hand-made outputs.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "image/image_encode.h"
#include "pose/pose.h"

static pose_config cfg;

static int setup(void **state)
{
    (void)state;
    hdm_err err = {0};
    if (pose_config_defaults(&cfg) < 0 || pose_config_check(&cfg, &err) < 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pose_config_free(&cfg);
    return 0;
}

/* A w x h PNG of one colour with a white square at its centre. */
static void png_of(int w, int h, buf *out)
{
    image img = {.width = w, .height = h, .rgb = malloc((size_t)w * h * 3)};
    assert_non_null(img.rgb);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            bool centre = abs(x - w / 2) < w / 8 && abs(y - h / 2) < h / 8;
            uint8_t *p = img.rgb + ((size_t)y * w + x) * 3;
            p[0] = centre ? 255 : 10;
            p[1] = centre ? 255 : 20;
            p[2] = centre ? 255 : 30;
        }
    hdm_err err = {0};
    assert_int_equal(image_encode_png(&img, 1, out, &err), 0);
    free(img.rgb);
}

static void test_prepare_letterbox(void **state)
{
    (void)state;
    buf png = {0};
    png_of(1280, 720, &png);
    uint8_t *input = malloc(POSE_INPUT_BYTES);
    posepost_letterbox lb;
    image keep = {0};
    hdm_err err = {0};
    assert_int_equal(pose_prepare(&cfg, png.data, png.len, input, &lb, &keep, &err), 0);
    /* hailo-apps' geometry: 0.5, 640x360 at y 140 */
    assert_int_equal(lb.orig_w, 1280);
    assert_int_equal(lb.orig_h, 720);
    assert_float_equal(lb.scale, 0.5, 0);
    assert_int_equal(lb.new_w, 640);
    assert_int_equal(lb.new_h, 360);
    assert_int_equal(lb.x_off, 0);
    assert_int_equal(lb.y_off, 140);
    /* the handed-over image is the decoded one */
    assert_int_equal(keep.width, 1280);
    assert_int_equal(keep.rgb[0], 10);
    image_free(&keep);
    /* padding above and below is grey 114; the image's colours inside */
    const uint8_t *top = input, *bottom = input + (size_t)639 * 640 * 3;
    for (int c = 0; c < 3; c++) {
        assert_int_equal(top[c], 114);
        assert_int_equal(bottom[c], 114);
    }
    const uint8_t *inside = input + ((size_t)150 * 640 + 5) * 3;
    assert_int_equal(inside[0], 10);
    assert_int_equal(inside[2], 30);
    const uint8_t *centre = input + ((size_t)320 * 640 + 320) * 3;
    assert_int_equal(centre[0], 255);
    free(input);
    buf_free(&png);
}

static void test_prepare_errors(void **state)
{
    (void)state;
    uint8_t *input = malloc(POSE_INPUT_BYTES);
    posepost_letterbox lb;
    hdm_err err = {0};
    static const uint8_t text[] = "hello, this is not an image at all";
    assert_int_equal(pose_prepare(&cfg, text, sizeof(text), input, &lb, NULL, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(err.code, HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "Failed to decode image: "));
    /* 1 x 2000: nothing left across in the letterbox */
    buf png = {0};
    png_of(1, 2000, &png);
    assert_int_equal(pose_prepare(&cfg, png.data, png.len, input, &lb, NULL, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "too thin"));
    buf_free(&png);
    /* over images.max_pixels: 413 naming the key */
    png_of(200, 100, &png);
    int saved = cfg.image_max_pixels;
    cfg.image_max_pixels = 10000;
    assert_int_equal(pose_prepare(&cfg, png.data, png.len, input, &lb, NULL, &err),
                     -HDM_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "images.max_pixels"));
    cfg.image_max_pixels = saved;
    /* a 1x1 image is fine: the original's own test sends one */
    buf_free(&png);
    png_of(1, 1, &png);
    assert_int_equal(pose_prepare(&cfg, png.data, png.len, input, &lb, NULL, &err), 0);
    assert_int_equal(lb.new_w, 640);
    buf_free(&png);
    free(input);
}

/* The nine outputs, (1, g, g, C), all zero: a score of 0 everywhere. */
typedef struct outputs {
    hdm_tensor t[9];
} outputs;

static const int strides[3] = {32, 16, 8};
static const int channels[3] = {64, 1, 51};

static void outputs_init(outputs *o, int batch)
{
    for (int i = 0; i < 9; i++) {
        int g = 640 / strides[i / 3], c = channels[i % 3];
        hdm_tensor *t = &o->t[i];
        memset(t, 0, sizeof(*t));
        t->dtype = HDM_DT_FLOAT32;
        t->ndim = batch ? 4 : 3;
        int64_t shape[4] = {1, g, g, c};
        memcpy(t->shape, batch ? shape : shape + 1, sizeof(int64_t) * (size_t)t->ndim);
        t->nbytes = (size_t)g * g * c * sizeof(float);
        t->data = calloc(1, t->nbytes);
        assert_non_null(t->data);
    }
}

static void outputs_free(outputs *o)
{
    for (int i = 0; i < 9; i++)
        free(o->t[i].data);
}

static float *cell(outputs *o, int lv, int hd, int gy, int gx)
{
    int g = 640 / strides[lv];
    return (float *)o->t[lv * 3 + hd].data + ((size_t)gy * g + gx) * channels[hd];
}

/* A person at stride-16 cell (gy, gx): each side exactly 2 strides away
 * (one-hot DFL: the other bins' probabilities underflow to 0), keypoints at
 * the cell centre ((2 * 0.25 + g) * 16), visible. */
static void person(outputs *o, int gy, int gx, float score)
{
    *cell(o, 1, 1, gy, gx) = score;
    float *box = cell(o, 1, 0, gy, gx);
    for (int i = 0; i < 64; i++)
        box[i] = i % 16 == 2 ? 30.0f : -100.0f;
    float *kp = cell(o, 1, 2, gy, gx);
    for (int k = 0; k < 17; k++) {
        kp[k * 3] = 0.25f;
        kp[k * 3 + 1] = 0.25f;
        kp[k * 3 + 2] = 4.0f;
    }
}

static void test_decode_outputs(void **state)
{
    (void)state;
    for (int batch = 0; batch < 2; batch++) { /* GM's manager: no batch; ours: a 1 */
        outputs o;
        outputs_init(&o, batch);
        person(&o, 20, 20, 0.9f); /* centre (328, 328) in the model */
        person(&o, 10, 30, 0.7f); /* centre (488, 168) */
        posepost_letterbox lb;
        assert_int_equal(posepost_letterbox_init(&lb, 1280, 720, 640, 640, NULL), 0);
        posepost_params p = {0.5, 0.45, 10};
        posepost_pose *poses = NULL;
        size_t n = 0;
        hdm_err err = {0};
        assert_int_equal(pose_decode_outputs(o.t, 9, &lb, &p, &poses, &n, &err), 0);
        assert_int_equal(n, 2);
        /* best first; box 328 -/+ 32 -> image x (296 - 0) / 0.5 = 592 */
        assert_float_equal(poses[0].score, 0.9, 1e-6);
        assert_int_equal(poses[0].x, 592);
        assert_int_equal(poses[0].y, (int)((296 - 140) / 0.5));
        assert_int_equal(poses[0].width, 128);
        assert_int_equal(poses[0].height, 128);
        assert_int_equal(poses[0].kpt_x[0], 656);
        assert_float_equal(poses[0].kpt_conf[0], 1.0 / (1.0 + exp(-4.0)), 1e-12);
        assert_float_equal(poses[1].score, 0.7, 1e-6);
        assert_int_equal(poses[1].x, (int)((488 - 32) / 0.5));
        free(poses);
        /* the threshold and max_detections */
        p.conf_threshold = 0.8;
        assert_int_equal(pose_decode_outputs(o.t, 9, &lb, &p, &poses, &n, &err), 0);
        assert_int_equal(n, 1);
        free(poses);
        p = (posepost_params){0.5, 0.45, 1};
        assert_int_equal(pose_decode_outputs(o.t, 9, &lb, &p, &poses, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_float_equal(poses[0].score, 0.9, 1e-6);
        free(poses);
        /* nobody */
        p.conf_threshold = 0.95;
        assert_int_equal(pose_decode_outputs(o.t, 9, &lb, &p, &poses, &n, &err), 0);
        assert_int_equal(n, 0);
        assert_null(poses);
        outputs_free(&o);
    }
}

static void test_outputs_not_the_models(void **state)
{
    (void)state;
    outputs o;
    outputs_init(&o, 1);
    posepost_letterbox lb;
    assert_int_equal(posepost_letterbox_init(&lb, 640, 640, 640, 640, NULL), 0);
    posepost_params p = {0.5, 0.45, 10};
    posepost_pose *poses = NULL;
    size_t n = 0;
    hdm_err err = {0};
    /* eight of nine heads */
    assert_int_equal(pose_decode_outputs(o.t, 8, &lb, &p, &poses, &n, &err), -HDM_E_DEVICE_ERROR);
    assert_true(err.msg[0] != '\0');
    /* a float16 head */
    o.t[4].dtype = HDM_DT_FLOAT16;
    assert_int_equal(pose_decode_outputs(o.t, 9, &lb, &p, &poses, &n, &err), -HDM_E_DEVICE_ERROR);
    o.t[4].dtype = HDM_DT_FLOAT32;
    /* a NaN box on a person the original would print */
    person(&o, 5, 5, 0.9f);
    cell(&o, 1, 0, 5, 5)[0] = NAN;
    assert_int_equal(pose_decode_outputs(o.t, 9, &lb, &p, &poses, &n, &err), -HDM_E_DEVICE_ERROR);
    assert_null(poses);
    outputs_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepare_letterbox),
        cmocka_unit_test(test_prepare_errors),
        cmocka_unit_test(test_decode_outputs),
        cmocka_unit_test(test_outputs_not_the_models),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
