/*
 * test_golden.c - src/ocrpost against the original's Python: the fixtures in
 * tests/data/ocr/golden (see the README there) hold generated inputs and
 * what hailo-apps' paddle_ocr_utils / db_postprocess computed from them.
 *
 * Required: the letterboxed detection input, the probability map at the
 * image size and every recognition input byte for byte (CRC-32); the same
 * number of boxes with every corner within 1 px and every rectangle within
 * 1 px; the same reading order; texts equal and confidences within 1e-4.
 * Exact agreement is expected and reported, the tolerances are the brief's.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ocr_fixture.h"
#include "ocrpost/crop.h"
#include "ocrpost/ctc.h"
#include "ocrpost/det.h"
#include "ocrpost/order.h"

static int json_int(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v))
        fail_msg("expected.json: %s missing", key);
    return v->valueint;
}

static const cJSON *json_get(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL)
        fail_msg("expected.json: %s missing", key);
    return v;
}

static int near1(int a, int b)
{
    return abs(a - b) <= 1;
}

static void golden_case(void **state)
{
    const char *name = *state;
    char rel[256], crc[9];
    hdm_err err = {0};
    image img;
    int hw, hh;

    snprintf(rel, sizeof(rel), "golden/%s/expected.json", name);
    cJSON *exp = fixture_json(rel);
    snprintf(rel, sizeof(rel), "golden/%s/image.png", name);
    fixture_image(rel, &img);
    snprintf(rel, sizeof(rel), "golden/%s/heat.png", name);
    float *heat = fixture_gray_float(rel, &hw, &hh);
    const int W = json_int(exp, "width"), H = json_int(exp, "height");
    const int MW = json_int(exp, "model_w"), MH = json_int(exp, "model_h");
    assert_int_equal(img.width, W);
    assert_int_equal(img.height, H);
    assert_int_equal(hw, MW);
    assert_int_equal(hh, MH);

    /* The letterbox geometry and the detection input. */
    const cJSON *lb = json_get(exp, "letterbox");
    imgproc_letterbox g;
    uint8_t *det_in = malloc((size_t)MW * MH * 3);
    assert_non_null(det_in);
    assert_int_equal(ocr_det_prepare(img.rgb, W, H, 0, MW, MH, det_in, &g, &err), 0);
    assert_true(g.scale == json_get(lb, "scale")->valuedouble);
    assert_int_equal(g.new_w, json_int(lb, "new_w"));
    assert_int_equal(g.new_h, json_int(lb, "new_h"));
    assert_int_equal(g.x_off, json_int(lb, "x_off"));
    assert_int_equal(g.y_off, json_int(lb, "y_off"));
    fixture_crc(det_in, (size_t)MW * MH * 3, crc);
    assert_string_equal(crc, json_get(exp, "det_input_crc")->valuestring);
    free(det_in);

    /* The map back at the image's size. */
    float *pred = malloc((size_t)W * H * sizeof(float));
    assert_non_null(pred);
    assert_int_equal(ocr_det_heatmap_to_image(heat, MW, MH, 1, W, H, pred, &err), 0);
    fixture_crc(pred, (size_t)W * H * sizeof(float), crc);
    assert_string_equal(crc, json_get(exp, "pred_crc")->valuestring);

    /* DB boxes, in DB order. */
    ocr_boxes boxes;
    ocr_db_params p;
    ocr_db_params_default(&p);
    assert_int_equal(ocr_db_boxes(pred, W, H, 0, &p, &boxes, &err), 0);
    const cJSON *eb = json_get(exp, "boxes"), *es = json_get(exp, "scores");
    const cJSON *er = json_get(exp, "rects");
    assert_int_equal(boxes.count, (size_t)cJSON_GetArraySize(eb));
    size_t exact = 0;
    double worst_score = 0.0;
    for (size_t i = 0; i < boxes.count; i++) {
        const ocr_box *b = &boxes.items[i];
        const cJSON *q = cJSON_GetArrayItem(eb, (int)i), *r = cJSON_GetArrayItem(er, (int)i);
        int same = 1;
        for (int k = 0; k < 4; k++) {
            const cJSON *pt = cJSON_GetArrayItem(q, k);
            int ex = cJSON_GetArrayItem(pt, 0)->valueint, ey = cJSON_GetArrayItem(pt, 1)->valueint;
            if (!near1(b->quad[2 * k], ex) || !near1(b->quad[2 * k + 1], ey))
                fail_msg("%s box %zu corner %d: (%d,%d), expected (%d,%d)", name, i, k,
                         b->quad[2 * k], b->quad[2 * k + 1], ex, ey);
            same &= b->quad[2 * k] == ex && b->quad[2 * k + 1] == ey;
        }
        const int rx = cJSON_GetArrayItem(r, 0)->valueint, ry = cJSON_GetArrayItem(r, 1)->valueint;
        const int rw = cJSON_GetArrayItem(r, 2)->valueint, rh = cJSON_GetArrayItem(r, 3)->valueint;
        assert_true(near1(b->x, rx) && near1(b->y, ry) && near1(b->w, rw) && near1(b->h, rh));
        double ds = fabs(b->score - cJSON_GetArrayItem(es, (int)i)->valuedouble);
        worst_score = ds > worst_score ? ds : worst_score;
        assert_true(ds < 1e-6);
        exact += same;
    }
    print_message("%-10s %zu boxes, %zu identical, worst score difference %.3g\n", name,
                  boxes.count, exact, worst_score);
    /* The service's entry point (a kept bitmap buffer with stale contents,
     * contours found in it without OpenCV's bordered copy) gives the very
     * same boxes. */
    uint8_t *bitmap = malloc(OCR_DB_BITMAP_BYTES(W, H));
    assert_non_null(bitmap);
    memset(bitmap, 0xA5, OCR_DB_BITMAP_BYTES(W, H));
    ocr_boxes again;
    assert_int_equal(ocr_db_boxes_buf(pred, W, H, 0, &p, bitmap, &again, &err), 0);
    assert_int_equal(again.count, boxes.count);
    if (boxes.count)
        assert_memory_equal(again.items, boxes.items, boxes.count * sizeof(ocr_box));
    ocr_boxes_free(&again);
    free(bitmap);

    /* Crops and recognition inputs.  Where the original raised (crop_ok
     * false: a box on the right or bottom edge) there is no reference, and
     * ours must simply exist. */
    const cJSON *ok = json_get(exp, "crop_ok"), *sizes = json_get(exp, "crop_sizes");
    const cJSON *rec_crc = json_get(exp, "rec_input_crc");
    uint8_t rec[OCR_REC_INPUT_BYTES];
    size_t compared = 0, extra = 0;
    for (size_t i = 0; i < boxes.count; i++) {
        uint8_t *crop = NULL;
        int cw, ch;
        assert_int_equal(ocr_crop_rectify(img.rgb, W, H, 0, &boxes.items[i], &crop, &cw, &ch, &err),
                         0);
        assert_true(cw >= 1 && ch >= 1);
        assert_int_equal(ocr_crop_letterbox(crop, cw, ch, rec, &err), 0);
        if (cJSON_IsTrue(cJSON_GetArrayItem(ok, (int)i))) {
            const cJSON *sz = cJSON_GetArrayItem(sizes, (int)i);
            assert_int_equal(cw, cJSON_GetArrayItem(sz, 0)->valueint);
            assert_int_equal(ch, cJSON_GetArrayItem(sz, 1)->valueint);
            const cJSON *c = cJSON_GetArrayItem(rec_crc, (int)i);
            if (cJSON_IsString(c)) {
                fixture_crc(rec, sizeof(rec), crc);
                if (strcmp(crc, c->valuestring) != 0)
                    fail_msg("%s box %zu: recognition input differs (crc %s, expected %s)", name, i,
                             crc, c->valuestring);
                compared++;
            } else {
                extra++; /* the original's resize raised: ours kept a 1-px side */
            }
        } else {
            extra++;
        }
        free(crop);
    }
    print_message("%-10s %zu recognition inputs identical, %zu crops where the original had none\n",
                  name, compared, extra);

    /* Reading order. */
    const cJSON *order = json_get(exp, "reading_order");
    assert_int_equal((size_t)cJSON_GetArraySize(order), boxes.count);
    ocr_order_reading(boxes.items, boxes.count);
    for (size_t i = 0; i < boxes.count; i++)
        assert_int_equal(boxes.items[i].db_index, cJSON_GetArrayItem(order, (int)i)->valueint);

    /* The one-call path gives the same boxes in the same order. */
    ocr_boxes all;
    assert_int_equal(ocr_det_boxes(heat, MW, MH, 1, W, H, NULL, &all, &err), 0);
    assert_int_equal(all.count, boxes.count);
    assert_memory_equal(all.items, boxes.items, boxes.count * sizeof(ocr_box));

    ocr_boxes_free(&all);
    ocr_boxes_free(&boxes);
    free(pred);
    free(heat);
    image_free(&img);
    cJSON_Delete(exp);
}

static void golden_rec(void **state)
{
    (void)state;
    hdm_err err = {0};
    int w, h;
    cJSON *exp = fixture_json("golden/rec/expected.json");
    float *probs = fixture_gray_float("golden/rec/probs.png", &w, &h);
    const int steps = json_int(exp, "steps"), classes = json_int(exp, "classes");
    const int count = json_int(exp, "count");
    assert_int_equal(w, classes);
    assert_int_equal(h, steps * count);

    /* The character list is the reference's, entry for entry. */
    const cJSON *chars = json_get(exp, "characters");
    assert_int_equal(cJSON_GetArraySize(chars), OCR_CTC_CLASSES);
    for (int i = 1; i < OCR_CTC_CLASSES; i++) {
        const char *c = cJSON_GetArrayItem(chars, i)->valuestring;
        assert_int_equal(strlen(c), 1);
        assert_int_equal(c[0], ocr_ctc_charset[i]);
    }

    const cJSON *texts = json_get(exp, "texts"), *confs = json_get(exp, "confidences");
    int exact = 0;
    for (int i = 0; i < count; i++) {
        char text[OCR_CTC_STEPS + 1];
        double conf;
        assert_int_equal(ocr_ctc_decode(probs + (size_t)i * steps * classes, (size_t)steps,
                                        (size_t)classes, text, sizeof(text), &conf, &err),
                         0);
        assert_string_equal(text, cJSON_GetArrayItem(texts, i)->valuestring);
        double want = cJSON_GetArrayItem(confs, i)->valuedouble;
        assert_true(fabs(conf - want) <= 1e-4);
        exact += conf == want;
    }
    print_message("rec        %d outputs, texts equal, %d confidences identical\n", count, exact);
    assert_int_equal(exact, count);
    free(probs);
    cJSON_Delete(exp);
}

/* Each case under its own name in the report. */
#define CASE(n)                                                                                    \
    {                                                                                              \
        "golden_" n, golden_case, NULL, NULL, (void *)(n)                                          \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        CASE("page150"),    CASE("rotated"), CASE("edges"),    CASE("tiny"),
        CASE("empty"),      CASE("noise"),   CASE("portrait"), CASE("small"),
        CASE("nearthresh"), CASE("strip"),   CASE("blobs"),    cmocka_unit_test(golden_rec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
