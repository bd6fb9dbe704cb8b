/*
 * test_sim_pipeline.c - OCR end to end on the simulated NPU: a rendered
 * text page (tests/data/ocr/text-page.png, make-text-page.py) through
 * ocr_det_prepare -> the sim's detection network -> ocr_det_boxes ->
 * ocr_batch_fill -> the sim's recognition network -> ocr_ctc_decode, the
 * calls hailo-ocr's pipeline makes.  Also the sim networks' contracts:
 * shapes, value domains (probabilities, not logits), determinism.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backends/sim-ocr.h"
#include "ocr_fixture.h"
#include "ocrpost/batch.h"
#include "ocrpost/crop.h"
#include "ocrpost/ctc.h"
#include "ocrpost/det.h"
#include "sim_test_util.h"

#define MODEL_W 960
#define MODEL_H 544
#define BATCH 8

typedef struct fixture {
    simt sim;
    backend_model *model;
    cJSON *langs;
    char *det_path, *rec_path;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    hdm_err err = {0};
    simt_setup(&f->sim, "{\"latency_scale\": 0}");
    f->det_path = simt_model(&f->sim, "ocr_det.hef", NULL);
    f->rec_path = simt_model(&f->sim, "ocr.hef", NULL);
    f->langs = cJSON_CreateObject();
    cJSON_AddStringToObject(f->langs, "en", f->rec_path);
    model_spec spec = {.kind = MODEL_OCR,
                       .model_path = f->det_path,
                       .ocr_detection_hef = f->det_path,
                       .ocr_recognition_hefs = f->langs};
    uint64_t fp;
    if (backend_sim_ops.load(f->sim.b, &spec, &f->model, &fp, &err) != 0)
        fail_msg("load: %s", err.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    backend_sim_ops.unload(f->sim.b, f->model);
    simt_teardown(&f->sim);
    cJSON_Delete(f->langs);
    free(f->det_path);
    free(f->rec_path);
    free(f);
    return 0;
}

static hdm_tensor uint8_tensor(uint8_t *data, int ndim, const int64_t *shape)
{
    hdm_tensor t = {.dtype = HDM_DT_UINT8, .ndim = ndim, .data = data, .nbytes = 1};
    for (int i = 0; i < ndim; i++) {
        t.shape[i] = shape[i];
        t.nbytes *= (size_t)shape[i];
    }
    return t;
}

/* The detection network on an image: returns the malloc'd map copy. */
static float *detect(fixture *f, const image *img)
{
    hdm_err err = {0};
    uint8_t *in = malloc((size_t)MODEL_W * MODEL_H * 3);
    assert_non_null(in);
    assert_int_equal(
        ocr_det_prepare(img->rgb, img->width, img->height, 0, MODEL_W, MODEL_H, in, NULL, &err), 0);
    infer_input q = {.kind = MODEL_OCR};
    q.u.ocr.mode = OCR_MODE_DETECTION;
    q.u.ocr.image = uint8_tensor(in, 3, (const int64_t[]){MODEL_H, MODEL_W, 3});
    infer_output out = {0};
    if (backend_sim_ops.infer(f->sim.b, f->model, &q, NULL, &out, &err) != 0)
        fail_msg("detection: %s", err.msg);
    assert_int_equal(out.n_tensors, 1);
    const hdm_tensor *t = &out.tensors[0];
    assert_int_equal(t->dtype, HDM_DT_FLOAT32);
    /* Backends give HailoRT's per-frame shape (backend.h). */
    assert_int_equal(t->ndim, 3);
    assert_true(t->shape[0] == MODEL_H && t->shape[1] == MODEL_W && t->shape[2] == 1);
    float *map = malloc(t->nbytes);
    assert_non_null(map);
    memcpy(map, t->data, t->nbytes);
    infer_output_clear(&out);
    free(in);
    return map;
}

/* Recognition of n inputs (48x320x3 each, packed): decodes every output. */
static void recognize(fixture *f, uint8_t *inputs, size_t n, char texts[][OCR_CTC_STEPS + 1],
                      double *confs)
{
    hdm_err err = {0};
    hdm_tensor *crops = calloc(n, sizeof(*crops));
    for (size_t i = 0; i < n; i++)
        crops[i] = uint8_tensor(inputs + i * OCR_REC_INPUT_BYTES, 3,
                                (const int64_t[]){OCR_REC_HEIGHT, OCR_REC_WIDTH, 3});
    infer_input q = {.kind = MODEL_OCR};
    q.u.ocr.mode = OCR_MODE_RECOGNITION;
    snprintf(q.u.ocr.language, sizeof(q.u.ocr.language), "en");
    q.u.ocr.crops = crops;
    q.u.ocr.n_crops = n;
    q.u.ocr.batch_size = BATCH;
    infer_output out = {0};
    if (backend_sim_ops.infer(f->sim.b, f->model, &q, NULL, &out, &err) != 0)
        fail_msg("recognition: %s", err.msg);
    assert_int_equal(out.n_tensors, n);
    for (size_t i = 0; i < n; i++) {
        const hdm_tensor *t = &out.tensors[i];
        assert_true(t->dtype == HDM_DT_FLOAT32 && t->ndim == 3 && t->shape[0] == 1 &&
                    t->shape[1] == OCR_CTC_STEPS && t->shape[2] == OCR_CTC_CLASSES);
        const float *p = t->data;
        /* Probabilities: every step a distribution. */
        for (int s = 0; s < OCR_CTC_STEPS; s++) {
            double sum = 0.0;
            for (int c = 0; c < OCR_CTC_CLASSES; c++) {
                float v = p[s * OCR_CTC_CLASSES + c];
                assert_true(v >= 0.0f && v <= 1.0f);
                sum += v;
            }
            assert_true(fabs(sum - 1.0) < 1e-3);
        }
        assert_int_equal(ocr_ctc_decode(p, OCR_CTC_STEPS, OCR_CTC_CLASSES, texts[i],
                                        OCR_CTC_STEPS + 1, &confs[i], &err),
                         0);
    }
    infer_output_clear(&out);
    free(crops);
}

static int overlaps(const ocr_box *b, const cJSON *rect)
{
    int x = cJSON_GetArrayItem(rect, 0)->valueint, y = cJSON_GetArrayItem(rect, 1)->valueint;
    int w = cJSON_GetArrayItem(rect, 2)->valueint, h = cJSON_GetArrayItem(rect, 3)->valueint;
    int cx = b->x + b->w / 2, cy = b->y + b->h / 2;
    return cx >= x && cx < x + w && cy >= y && cy < y + h;
}

static void test_text_page(void **state)
{
    fixture *f = *state;
    hdm_err err = {0};
    image img;
    fixture_image("text-page.png", &img);
    cJSON *meta = fixture_json("text-page.json");
    const cJSON *lines = cJSON_GetObjectItemCaseSensitive(meta, "lines");
    const int n_lines = cJSON_GetArraySize(lines);

    float *map = detect(f, &img);
    for (size_t i = 0; i < (size_t)MODEL_W * MODEL_H; i++)
        assert_true(map[i] >= 0.0f && map[i] <= 1.0f);
    ocr_boxes boxes;
    assert_int_equal(
        ocr_det_boxes(map, MODEL_W, MODEL_H, 1, img.width, img.height, NULL, &boxes, &err), 0);
    /* One box per rendered line, each centred inside its line. */
    if (boxes.count != (size_t)n_lines)
        for (size_t i = 0; i < boxes.count; i++)
            print_message("box %zu: (%d,%d) %dx%d\n", i, boxes.items[i].x, boxes.items[i].y,
                          boxes.items[i].w, boxes.items[i].h);
    assert_int_equal(boxes.count, (size_t)n_lines);
    int seen[64] = {0};
    for (size_t i = 0; i < boxes.count; i++) {
        int hit = -1;
        for (int l = 0; l < n_lines; l++)
            if (overlaps(&boxes.items[i],
                         cJSON_GetObjectItem(cJSON_GetArrayItem(lines, l), "rect")))
                hit = l;
        if (hit < 0)
            fail_msg("box %zu at (%d,%d) %dx%d is on no line", i, boxes.items[i].x,
                     boxes.items[i].y, boxes.items[i].w, boxes.items[i].h);
        assert_int_equal(seen[hit]++, 0);
    }

    /* Recognition in batches of 8, the last one short. */
    size_t n = boxes.count, batches = ocr_batch_count(n, BATCH);
    char(*texts)[OCR_CTC_STEPS + 1] = calloc(n, sizeof(*texts));
    double *confs = calloc(n, sizeof(double));
    uint8_t *batch = malloc(BATCH * OCR_REC_INPUT_BYTES);
    assert_true(texts && confs && batch);
    for (size_t b = 0; b < batches; b++) {
        size_t count;
        assert_int_equal(ocr_batch_fill(img.rgb, img.width, img.height, 0, boxes.items, n, b, BATCH,
                                        false, batch, &count, &err),
                         0);
        recognize(f, batch, count, texts + b * BATCH, confs + b * BATCH);
    }
    for (size_t i = 0; i < n; i++) {
        const cJSON *line = NULL;
        for (int l = 0; l < n_lines; l++)
            if (overlaps(&boxes.items[i],
                         cJSON_GetObjectItem(cJSON_GetArrayItem(lines, l), "rect")))
                line = cJSON_GetArrayItem(lines, l);
        int words = cJSON_GetObjectItem(line, "words")->valueint;
        int spaces = 0;
        for (const char *c = texts[i]; *c; c++)
            spaces += *c == ' ';
        print_message("line %-36s -> \"%s\" (%.4f)\n",
                      cJSON_GetObjectItem(line, "text")->valuestring, texts[i], confs[i]);
        /* One character per glyph and a space per word gap, roughly (the
         * gaps around punctuation can look like word gaps). */
        assert_true(strlen(texts[i]) >= (size_t)words);
        assert_true(abs(spaces - (words - 1)) <= 1);
        assert_true(texts[i][0] != ' ' && texts[i][strlen(texts[i]) - 1] != ' ');
        assert_true(confs[i] >= 0.82 && confs[i] <= 0.98);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(texts[i], texts[j]);
    }

    /* Deterministic: the same image reads the same. */
    float *again = detect(f, &img);
    assert_memory_equal(map, again, (size_t)MODEL_W * MODEL_H * sizeof(float));
    char text2[1][OCR_CTC_STEPS + 1];
    double conf2;
    size_t count;
    assert_int_equal(ocr_batch_fill(img.rgb, img.width, img.height, 0, boxes.items, n, 0, 1, false,
                                    batch, &count, &err),
                     0);
    recognize(f, batch, 1, text2, &conf2);
    assert_string_equal(text2[0], texts[0]);
    assert_true(conf2 == confs[0]);

    free(again);
    free(batch);
    free(texts);
    free(confs);
    ocr_boxes_free(&boxes);
    free(map);
    image_free(&img);
    cJSON_Delete(meta);
}

/* Blank, white, black and pad-only inputs: no text, nothing read. */
static void test_no_text(void **state)
{
    fixture *f = *state;
    hdm_err err = {0};
    const uint8_t fills[3] = {255, 0, 128};
    for (int k = 0; k < 3; k++) {
        image img = {.width = 640, .height = 480};
        img.rgb = malloc(640 * 480 * 3);
        memset(img.rgb, fills[k], 640 * 480 * 3);
        float *map = detect(f, &img);
        ocr_boxes boxes;
        assert_int_equal(ocr_det_boxes(map, MODEL_W, MODEL_H, 1, 640, 480, NULL, &boxes, &err), 0);
        assert_int_equal(boxes.count, 0);
        free(map);
        free(img.rgb);

        uint8_t *crop = malloc(OCR_REC_INPUT_BYTES);
        memset(crop, fills[k], OCR_REC_INPUT_BYTES);
        char text[1][OCR_CTC_STEPS + 1];
        double conf;
        recognize(f, crop, 1, text, &conf);
        assert_string_equal(text[0], "");
        assert_true(conf == 0.0);
        free(crop);
    }
}

/* The networks directly: the same glyphs read the same wherever they sit;
 * a different glyph reads differently. */
static void test_recognizer_stable(void **state)
{
    (void)state;
    static uint8_t crop[OCR_REC_INPUT_BYTES];
    static float probs[SIM_OCR_STEPS * SIM_OCR_CLASSES];
    char a[OCR_CTC_STEPS + 1], b[OCR_CTC_STEPS + 1], c[OCR_CTC_STEPS + 1];
    double conf;
    hdm_err err = {0};

    /* Three bars, then the same three bars shifted right by 5 px. */
    for (int shift = 0; shift <= 5; shift += 5) {
        memset(crop, 240, sizeof(crop));
        for (int g = 0; g < 3; g++)
            for (int y = 10; y < 38; y++)
                for (int x = 40 + g * 18 + shift; x < 52 + g * 18 + shift; x++)
                    memset(crop + ((size_t)y * OCR_REC_WIDTH + (size_t)x) * 3, 30, 3);
        sim_ocr_recognize(crop, OCR_REC_HEIGHT, OCR_REC_WIDTH, 1, "en", probs);
        assert_int_equal(ocr_ctc_decode(probs, SIM_OCR_STEPS, SIM_OCR_CLASSES, shift ? b : a,
                                        sizeof(a), &conf, &err),
                         0);
    }
    assert_int_equal(strlen(a), 3);
    assert_string_equal(a, b);
    /* The first glyph becomes a hollow box: another character. */
    for (int y = 14; y < 34; y++)
        for (int x = 44; x < 48; x++)
            memset(crop + ((size_t)y * OCR_REC_WIDTH + (size_t)x + 5) * 3, 240, 3);
    sim_ocr_recognize(crop, OCR_REC_HEIGHT, OCR_REC_WIDTH, 1, "en", probs);
    assert_int_equal(
        ocr_ctc_decode(probs, SIM_OCR_STEPS, SIM_OCR_CLASSES, c, sizeof(c), &conf, &err), 0);
    assert_int_equal(strlen(c), 3);
    assert_string_not_equal(a, c);
    assert_memory_equal(a + 1, c + 1, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_text_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_text, setup, teardown),
        cmocka_unit_test(test_recognizer_stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
