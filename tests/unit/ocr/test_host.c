/*
 * test_host.c - the CPU steps of a hailo-ocr request (src/ocr/host.c) on
 * the rendered test page and the simulated networks: decoding errors as
 * the service words them, the boxes equal to the library's own
 * ocr_det_boxes, crops cut on OpenCV's threads byte for byte equal to one
 * thread's, CTC's edge cases, and imgproc_parallel_for running every index
 * once.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backends/sim-ocr.h"
#include "image/imgproc.h"
#include "ocr/ocr.h"
#include "ocr_fixture.h"
#include "ocrpost/crop.h"
#include "ocrpost/det.h"

#define MODEL_W 960
#define MODEL_H 544

static uint8_t *read_all(const char *rel, size_t *len)
{
    char path[512];
    fixture_path(path, sizeof(path), rel);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void test_decode(void **state)
{
    (void)state;
    ocr_config cfg;
    hdm_err err = {0};
    image img = {0};
    size_t len;
    assert_int_equal(ocr_config_defaults(&cfg), 0);
    uint8_t *png = read_all("text-page.png", &len);
    assert_int_equal(ocr_host_decode(&cfg, png, len, &img, &err), 0);
    assert_int_equal(img.width, 1280);
    assert_int_equal(img.height, 720);
    image_free(&img);

    assert_int_equal(ocr_host_decode(&cfg, png, len / 2, &img, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "Failed to load image: image"));
    assert_non_null(strstr(err.msg, "truncated"));
    assert_int_equal(ocr_host_decode(&cfg, (const uint8_t *)"not an image", 12, &img, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "Failed to load image: "));

    cfg.image_max_pixels = 1000 * 700; /* below the page's 921600 */
    assert_int_equal(ocr_host_decode(&cfg, png, len, &img, &err), -HDM_E_TOO_LARGE);
    assert_non_null(strstr(err.msg, "(images.max_pixels)"));
    free(png);
    ocr_config_free(&cfg);
}

/* The page, its detection map (the sim's), its boxes through the host
 * steps; the caller frees everything. */
static void page_boxes(image *img, ocr_workspace *ws, float **heat, ocr_boxes *boxes)
{
    hdm_err err = {0};
    fixture_image("text-page.png", img);
    assert_int_equal(ocr_host_letterbox(ws, img, MODEL_W, MODEL_H, &err), 0);
    *heat = malloc((size_t)MODEL_W * MODEL_H * sizeof(float));
    assert_non_null(*heat);
    assert_int_equal(sim_ocr_detect(ws->bytes, MODEL_H, MODEL_W, *heat), 0);
    assert_int_equal(ocr_host_map(ws, *heat, MODEL_W, MODEL_H, 1, img->width, img->height, &err),
                     0);
    assert_int_equal(ocr_host_boxes(ws, img->width, img->height, boxes, &err), 0);
}

static void test_boxes_as_library(void **state)
{
    (void)state;
    ocr_workspace ws = {0};
    image img;
    float *heat;
    ocr_boxes boxes, lib;
    hdm_err err = {0};
    page_boxes(&img, &ws, &heat, &boxes);
    assert_int_equal(boxes.count, 10); /* one per line of text-page.json */
    assert_int_equal(ocr_det_boxes(heat, MODEL_W, MODEL_H, 1, img.width, img.height, NULL, &lib,
                                   &err),
                     0);
    assert_int_equal(lib.count, boxes.count);
    assert_memory_equal(lib.items, boxes.items, lib.count * sizeof(ocr_box));
    /* A second request in the same (now stale) workspace: the same boxes. */
    ocr_boxes again;
    assert_int_equal(ocr_host_map(&ws, heat, MODEL_W, MODEL_H, 1, img.width, img.height, &err), 0);
    assert_int_equal(ocr_host_boxes(&ws, img.width, img.height, &again, &err), 0);
    assert_int_equal(again.count, boxes.count);
    assert_memory_equal(again.items, boxes.items, boxes.count * sizeof(ocr_box));
    /* No channels, or boxes asked of a map smaller than the image: refused,
     * not read past. */
    assert_int_not_equal(ocr_host_map(&ws, heat, MODEL_W, MODEL_H, 0, img.width, img.height, &err),
                         0);
    ocr_boxes none;
    assert_int_equal(ocr_host_boxes(&ws, img.width * 4, img.height * 4, &none, &err),
                     -HDM_E_INTERNAL);
    ocr_boxes_free(&none);
    ocr_boxes_free(&again);
    ocr_boxes_free(&lib);
    ocr_boxes_free(&boxes);
    free(heat);
    free(ws.bytes);
    free(ws.map);
    image_free(&img);
}

static void test_crops_threads(void **state)
{
    (void)state;
    ocr_workspace ws = {0};
    image img;
    float *heat;
    ocr_boxes boxes;
    hdm_err err = {0};
    page_boxes(&img, &ws, &heat, &boxes);
    /* The page's ten boxes repeated: several runs of 32, one short. */
    size_t n = 70;
    ocr_box *many = malloc(n * sizeof(ocr_box));
    assert_non_null(many);
    for (size_t i = 0; i < n; i++)
        many[i] = boxes.items[i % boxes.count];
    uint8_t *seq = malloc(n * OCR_REC_INPUT_BYTES), *par = malloc(n * OCR_REC_INPUT_BYTES);
    assert_non_null(seq);
    assert_non_null(par);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ocr_crop_rec_input(img.rgb, img.width, img.height, 0, &many[i],
                                            seq + i * OCR_REC_INPUT_BYTES, &err),
                         0);
    const int threads[] = {0, 1, 2};
    for (size_t t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
        imgproc_set_threads(threads[t]);
        memset(par, 0x5A, n * OCR_REC_INPUT_BYTES);
        size_t fill = ocr_host_fill_count(8);
        for (size_t start = 0; start < n; start += fill) {
            size_t run = n - start < fill ? n - start : fill;
            assert_int_equal(ocr_host_crops(&img, many + start, run,
                                            par + start * OCR_REC_INPUT_BYTES, start, &err),
                             0);
        }
        assert_memory_equal(seq, par, n * OCR_REC_INPUT_BYTES);
    }
    imgproc_set_threads(0);
    /* A box that cannot be cut names its region. */
    many[3].w = -5;
    assert_int_equal(ocr_host_crops(&img, many, 8, par, 100, &err), -HDM_E_INTERNAL);
    assert_non_null(strstr(err.msg, "text region 103"));
    assert_int_equal(ocr_host_crops(&img, many, OCR_FILL_CROPS + OCR_MAX_BATCH + 1, par, 0, &err),
                     -HDM_E_INTERNAL);
    free(seq);
    free(par);
    free(many);
    ocr_boxes_free(&boxes);
    free(heat);
    free(ws.bytes);
    free(ws.map);
    image_free(&img);
}

static void test_fill_count(void **state)
{
    (void)state;
    assert_int_equal(ocr_host_fill_count(8), 32);
    assert_int_equal(ocr_host_fill_count(5), 35);
    assert_int_equal(ocr_host_fill_count(1), 32);
    assert_int_equal(ocr_host_fill_count(32), 32);
    assert_int_equal(ocr_host_fill_count(200), 200);
}

static void test_text(void **state)
{
    (void)state;
    float probs[3 * 97] = {0};
    char text[OCR_TEXT_MAX + 1];
    double conf;
    hdm_err err = {0};
    probs[0 * 97 + 18] = 0.5f; /* 'A' (blank, 10 digits, 7 signs, A) */
    probs[1 * 97 + 0] = 0.9f;  /* blank */
    probs[2 * 97 + 19] = 0.7f; /* 'B' */
    assert_int_equal(ocr_host_text(probs, 3, 97, text, &conf, &err), 0);
    assert_string_equal(text, "AB");
    assert_float_equal(conf, (double)(float)((0.5f + 0.7f) / 2), 1e-7);
    probs[2 * 97 + 19] = NAN;
    assert_int_equal(ocr_host_text(probs, 3, 97, text, &conf, &err), 0);
    assert_float_equal(conf, 0.0, 0); /* NaN is no JSON number */
    assert_int_equal(ocr_host_text(probs, 1, 98, text, &conf, &err), -HDM_E_INTERNAL);
    float *many = calloc(300 * 97, sizeof(float));
    assert_non_null(many);
    assert_int_equal(ocr_host_text(many, 300, 97, text, &conf, &err), -HDM_E_INTERNAL);
    assert_non_null(strstr(err.msg, "300 steps"));
    free(many);
}

/* The framed contour search (no bordered copy) finds exactly what
 * cv::findContours finds, on random masks of every density and on masks
 * touching the image edge. */
static void test_contours_framed(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    hdm_err err = {0};
    for (int round = 0; round < 60; round++) {
        seed = seed * 1103515245u + 12345u;
        int w = 1 + (int)(seed >> 8) % 120, h = 1 + (int)(seed >> 16) % 90;
        int density = round % 6; /* 0: empty ... 5: full */
        uint8_t *mask = malloc((size_t)w * h), *framed = malloc((size_t)(w + 2) * (h + 2));
        assert_non_null(mask);
        assert_non_null(framed);
        memset(framed, 0x77, (size_t)(w + 2) * (h + 2)); /* stale frame */
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                seed = seed * 1103515245u + 12345u;
                uint8_t v = (int)((seed >> 16) % 5) < density ? 255 : 0;
                mask[y * w + x] = v;
                framed[(size_t)(y + 1) * (w + 2) + x + 1] = v;
            }
        imgproc_contours a, b;
        assert_int_equal(imgproc_find_contours(mask, w, h, 0, &a, &err), 0);
        assert_int_equal(imgproc_find_contours_framed(framed, w, h, &b, &err), 0);
        assert_int_equal(a.count, b.count);
        if (a.count) {
            assert_memory_equal(a.start, b.start, (a.count + 1) * sizeof(size_t));
            assert_memory_equal(a.xy, b.xy, a.start[a.count] * 2 * sizeof(int32_t));
        }
        imgproc_contours_free(&a);
        imgproc_contours_free(&b);
        free(mask);
        free(framed);
    }
}

static atomic_int hits[1000];

static void count_range(void *user, size_t begin, size_t end)
{
    (void)user;
    for (size_t i = begin; i < end; i++)
        atomic_fetch_add(&hits[i], 1);
}

static void test_parallel_for(void **state)
{
    (void)state;
    hdm_err err = {0};
    const int threads[] = {0, 1, 3};
    for (size_t t = 0; t < 3; t++) {
        imgproc_set_threads(threads[t]);
        for (int i = 0; i < 1000; i++)
            atomic_store(&hits[i], 0);
        assert_int_equal(imgproc_parallel_for(1000, count_range, NULL, &err), 0);
        for (int i = 0; i < 1000; i++)
            assert_int_equal(atomic_load(&hits[i]), 1);
    }
    imgproc_set_threads(0);
    assert_int_equal(imgproc_parallel_for(0, count_range, NULL, &err), 0);
    assert_int_equal(imgproc_parallel_for(3, NULL, NULL, &err), -HDM_E_BAD_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),       cmocka_unit_test(test_boxes_as_library),
        cmocka_unit_test(test_crops_threads), cmocka_unit_test(test_fill_count),
        cmocka_unit_test(test_text),         cmocka_unit_test(test_parallel_for),
        cmocka_unit_test(test_contours_framed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
