/*
 * test_backend_sim_models.c - the sim's tensor outputs: dtypes, shapes,
 * determinism, dependence on the input, and shape errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_test_util.h"

#define FAST "{\"latency_scale\": 0}"

static int setup(void **state)
{
    simt *t = calloc(1, sizeof(*t));
    simt_setup(t, FAST);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    simt_teardown(*state);
    free(*state);
    return 0;
}

static void assert_shape(const hdm_tensor *t, hdm_dtype dt, int ndim, const int64_t *shape)
{
    assert_int_equal(t->dtype, dt);
    assert_int_equal(t->ndim, ndim);
    size_t n = hdm_dtype_size(dt);
    for (int i = 0; i < ndim; i++) {
        assert_int_equal(t->shape[i], shape[i]);
        n *= (size_t)shape[i];
    }
    assert_int_equal(t->nbytes, n);
}

static int run(simt *t, backend_model *m, const infer_input *in, infer_output *out, hdm_err *err)
{
    memset(out, 0, sizeof(*out));
    return backend_sim_ops.infer(t->b, m, in, NULL, out, err);
}

/* ---- clip -------------------------------------------------------------------- */

static void test_clip_image(void **state)
{
    simt *t = *state;
    char *p = simt_model(t, "clip_vit_b_32.hef", NULL);
    backend_model *m = simt_load(t, MODEL_CLIP, p, NULL);
    infer_input in = {.kind = MODEL_CLIP};
    infer_output o1, o2, o3;
    hdm_err err = {0};

    in.u.clip.mode = CLIP_MODE_IMAGE;
    in.u.clip.tensor = simt_image(4, (const int64_t[]){1, 224, 224, 3}, 7);
    assert_int_equal(run(t, m, &in, &o1, &err), 0);
    assert_int_equal(o1.n_tensors, 1);
    assert_shape(&o1.tensors[0], HDM_DT_FLOAT32, 1, (const int64_t[]){512});
    assert_int_equal(cJSON_GetObjectItem(o1.result, "attachment")->valueint, 0);
    /* Same input, same output; [224,224,3] is the same image. */
    in.u.clip.tensor.ndim = 3;
    memmove(in.u.clip.tensor.shape, in.u.clip.tensor.shape + 1, 3 * sizeof(int64_t));
    assert_int_equal(run(t, m, &in, &o2, &err), 0);
    assert_memory_equal(o1.tensors[0].data, o2.tensors[0].data, 512 * sizeof(float));
    /* A different image gives a different embedding. */
    free(in.u.clip.tensor.data);
    in.u.clip.tensor = simt_image(3, (const int64_t[]){224, 224, 3}, 8);
    assert_int_equal(run(t, m, &in, &o3, &err), 0);
    assert_memory_not_equal(o1.tensors[0].data, o3.tensors[0].data, 512 * sizeof(float));
    const float *e = o1.tensors[0].data;
    double norm = 0;
    for (int i = 0; i < 512; i++) {
        assert_true(isfinite(e[i]));
        norm += e[i] * e[i];
    }
    assert_true(norm > 0);
    infer_output_clear(&o1);
    infer_output_clear(&o2);
    infer_output_clear(&o3);

    /* Wrong dtype and wrong size name what was expected and what came. */
    in.u.clip.tensor.dtype = HDM_DT_FLOAT32;
    in.u.clip.tensor.shape[2] = 1;
    in.u.clip.tensor.nbytes /= 4;
    assert_int_equal(run(t, m, &in, &o1, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "[1,224,224,3]"));
    assert_non_null(strstr(err.msg, "float32 [224,224,1]"));
    assert_null(o1.result);
    free(in.u.clip.tensor.data);
    backend_sim_ops.unload(t->b, m);
    free(p);
}

static hdm_tensor text_input(const float *row2)
{
    hdm_tensor x = {.dtype = HDM_DT_FLOAT32, .ndim = 3, .shape = {1, 77, 512}};
    x.nbytes = 77 * 512 * sizeof(float);
    float *v = malloc(x.nbytes);
    assert_non_null(v);
    for (int r = 0; r < 77; r++)
        for (int j = 0; j < 512; j++)
            v[r * 512 + j] = (r == 2 && row2) ? row2[j] : sinf((float)(r * 512 + j) * 0.01f);
    x.data = v;
    return x;
}

static void test_clip_text(void **state)
{
    simt *t = *state;
    char *p = simt_model(t, "clip.hef", NULL);
    backend_model *m = simt_load(t, MODEL_CLIP, p, NULL);
    infer_input in = {.kind = MODEL_CLIP};
    infer_output o1, o2, o3;
    hdm_err err = {0};
    float row2[512];

    in.u.clip.mode = CLIP_MODE_TEXT;
    in.u.clip.tensor = text_input(NULL);
    assert_int_equal(run(t, m, &in, &o1, &err), 0);
    assert_shape(&o1.tensors[0], HDM_DT_FLOAT32, 3, (const int64_t[]){1, 77, 512});
    assert_int_equal(run(t, m, &in, &o2, &err), 0);
    assert_memory_equal(o1.tensors[0].data, o2.tensors[0].data, o1.tensors[0].nbytes);

    /* Another prompt differs in row 2 only: the rows before are untouched,
     * every later row (the end-of-text row the service reads) changes. */
    for (int j = 0; j < 512; j++)
        row2[j] = cosf((float)j);
    free(in.u.clip.tensor.data);
    in.u.clip.tensor = text_input(row2);
    assert_int_equal(run(t, m, &in, &o3, &err), 0);
    const float *a = o1.tensors[0].data, *b = o3.tensors[0].data;
    assert_memory_equal(a, b, 2 * 512 * sizeof(float));
    assert_memory_not_equal(a + 76 * 512, b + 76 * 512, 512 * sizeof(float));
    infer_output_clear(&o1);
    infer_output_clear(&o2);
    infer_output_clear(&o3);

    in.u.clip.tensor.shape[1] = 76;
    in.u.clip.tensor.nbytes = 76 * 512 * sizeof(float);
    assert_int_equal(run(t, m, &in, &o1, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "input_data.tensor"));
    free(in.u.clip.tensor.data);
    backend_sim_ops.unload(t->b, m);
    free(p);
}

static void test_clip_models_differ(void **state)
{
    simt *t = *state;
    char *p1 = simt_model(t, "clip_a.hef", NULL), *p2 = simt_model(t, "clip_b.hef", NULL);
    backend_model *m1 = simt_load(t, MODEL_CLIP, p1, NULL);
    backend_model *m2 = simt_load(t, MODEL_CLIP, p2, NULL);
    infer_input in = {.kind = MODEL_CLIP};
    infer_output o1, o2;
    hdm_err err = {0};
    in.u.clip.mode = CLIP_MODE_IMAGE;
    in.u.clip.tensor = simt_image(4, (const int64_t[]){1, 224, 224, 3}, 1);
    assert_int_equal(run(t, m1, &in, &o1, &err), 0);
    assert_int_equal(run(t, m2, &in, &o2, &err), 0);
    assert_memory_not_equal(o1.tensors[0].data, o2.tensors[0].data, 512 * sizeof(float));
    infer_output_clear(&o1);
    infer_output_clear(&o2);
    free(in.u.clip.tensor.data);
    backend_sim_ops.unload(t->b, m1);
    backend_sim_ops.unload(t->b, m2);
    free(p1);
    free(p2);
}

/* ---- depth and pose --------------------------------------------------------------- */

static hdm_tensor to_chw(const hdm_tensor *hwc)
{
    int64_t h = hwc->shape[0], w = hwc->shape[1];
    hdm_tensor t = {.dtype = HDM_DT_UINT8, .ndim = 4, .shape = {1, 3, h, w}, .nbytes = hwc->nbytes};
    uint8_t *dst = malloc(t.nbytes);
    const uint8_t *src = hwc->data;
    assert_non_null(dst);
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                dst[(c * h + y) * w + x] = src[(y * w + x) * 3 + c];
    t.data = dst;
    return t;
}

static void test_depth(void **state)
{
    simt *t = *state;
    char *p = simt_model(t, "scdepthv3.hef", NULL);
    backend_model *m = simt_load(t, MODEL_DEPTH, p, NULL);
    infer_input in = {.kind = MODEL_DEPTH};
    infer_output o1, o2;
    hdm_err err = {0};

    in.u.dense.input = simt_image(3, (const int64_t[]){256, 320, 3}, 3);
    hdm_tensor chw = to_chw(&in.u.dense.input);
    assert_int_equal(run(t, m, &in, &o1, &err), 0);
    assert_shape(&o1.tensors[0], HDM_DT_FLOAT32, 3, (const int64_t[]){256, 320, 1});
    const float *d = o1.tensors[0].data;
    for (size_t i = 0; i < 256 * 320; i++)
        assert_true(isfinite(d[i]) && d[i] < 0); /* scdepthv3 logits: depth beyond 0.2 m */
    /* NCHW is the same image: the same depth. */
    free(in.u.dense.input.data);
    in.u.dense.input = chw;
    assert_int_equal(run(t, m, &in, &o2, &err), 0);
    assert_memory_equal(o1.tensors[0].data, o2.tensors[0].data, o1.tensors[0].nbytes);
    infer_output_clear(&o1);
    infer_output_clear(&o2);

    in.u.dense.input.shape[3] = 100;
    in.u.dense.input.nbytes = 3 * 256 * 100;
    assert_int_equal(run(t, m, &in, &o1, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "[256,320,3]"));
    assert_non_null(strstr(err.msg, "uint8 [1,3,256,100]"));
    free(in.u.dense.input.data);
    backend_sim_ops.unload(t->b, m);
    free(p);
}

static void test_pose(void **state)
{
    simt *t = *state;
    char *p = simt_model(t, "yolov8s_pose.hef", NULL);
    backend_model *m = simt_load(t, MODEL_POSE, p, NULL);
    infer_input in = {.kind = MODEL_POSE};
    infer_output o1, o2;
    hdm_err err = {0};

    in.u.dense.input = simt_image(4, (const int64_t[]){1, 640, 640, 3}, 9);
    assert_int_equal(run(t, m, &in, &o1, &err), 0);
    assert_true(cJSON_IsObject(o1.result));
    assert_int_equal(cJSON_GetArraySize(o1.result), 9);
    assert_int_equal(o1.n_tensors, 9);
    const cJSON *kpts = cJSON_GetObjectItem(o1.result, "yolov8s_pose/kpts_s8");
    assert_non_null(kpts);
    const hdm_tensor *k = &o1.tensors[cJSON_GetObjectItem(kpts, "attachment")->valueint];
    assert_shape(k, HDM_DT_FLOAT32, 3, (const int64_t[]){80, 80, 51});
    const cJSON *cls = cJSON_GetObjectItem(o1.result, "yolov8s_pose/cls_s32");
    assert_non_null(cls);
    assert_shape(&o1.tensors[cJSON_GetObjectItem(cls, "attachment")->valueint], HDM_DT_FLOAT32, 3,
                 (const int64_t[]){20, 20, 1});
    /* The result's "shape" says the same (per frame, no batch). */
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cls, "shape")), 3);
    assert_int_equal(run(t, m, &in, &o2, &err), 0);
    for (uint32_t i = 0; i < 9; i++)
        assert_memory_equal(o1.tensors[i].data, o2.tensors[i].data, o1.tensors[i].nbytes);
    infer_output_clear(&o2);

    /* The same image in NCHW: the same outputs. */
    in.u.dense.input.ndim = 3;
    memmove(in.u.dense.input.shape, in.u.dense.input.shape + 1, 3 * sizeof(int64_t));
    hdm_tensor chw = to_chw(&in.u.dense.input);
    free(in.u.dense.input.data);
    in.u.dense.input = chw;
    assert_int_equal(run(t, m, &in, &o2, &err), 0);
    for (uint32_t i = 0; i < 9; i++)
        assert_memory_equal(o1.tensors[i].data, o2.tensors[i].data, o1.tensors[i].nbytes);
    infer_output_clear(&o1);
    infer_output_clear(&o2);

    in.u.dense.input.dtype = HDM_DT_INT8;
    assert_int_equal(run(t, m, &in, &o1, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "int8 [1,3,640,640]"));
    free(in.u.dense.input.data);
    backend_sim_ops.unload(t->b, m);
    free(p);
}

/* ---- ocr ----------------------------------------------------------------------------- */

static backend_model *load_ocr(simt *t, const char *p, cJSON *langs)
{
    model_spec spec = {
        .kind = MODEL_OCR, .model_path = p, .ocr_detection_hef = p, .ocr_recognition_hefs = langs};
    backend_model *m = NULL;
    uint64_t fp;
    hdm_err err = {0};
    if (backend_sim_ops.load(t->b, &spec, &m, &fp, &err) != 0)
        fail_msg("ocr load: %s", err.msg);
    return m;
}

static void test_ocr(void **state)
{
    simt *t = *state;
    char *p = simt_model(t, "ocr_det.hef", NULL);
    char *rec = simt_model(t, "ocr_rec_en.hef", NULL);
    cJSON *langs = cJSON_CreateObject();
    cJSON_AddStringToObject(langs, "en", rec);
    backend_model *m = load_ocr(t, p, langs);
    infer_input in = {.kind = MODEL_OCR};
    infer_output o1, o2;
    hdm_err err = {0};

    in.u.ocr.mode = OCR_MODE_DETECTION;
    in.u.ocr.image = simt_image(3, (const int64_t[]){544, 960, 3}, 11);
    assert_int_equal(run(t, m, &in, &o1, &err), 0);
    assert_shape(&o1.tensors[0], HDM_DT_FLOAT32, 3, (const int64_t[]){544, 960, 1});
    const float *prob = o1.tensors[0].data;
    for (size_t i = 0; i < 544 * 960; i++)
        assert_true(prob[i] >= 0 && prob[i] <= 1);
    infer_output_clear(&o1);
    free(in.u.ocr.image.data);

    hdm_tensor crops[2] = {simt_image(3, (const int64_t[]){48, 320, 3}, 1),
                           simt_image(4, (const int64_t[]){1, 48, 320, 3}, 2)};
    in.u.ocr.mode = OCR_MODE_RECOGNITION;
    snprintf(in.u.ocr.language, sizeof(in.u.ocr.language), "en");
    in.u.ocr.crops = crops;
    in.u.ocr.n_crops = 2;
    in.u.ocr.batch_size = 8;
    assert_int_equal(run(t, m, &in, &o1, &err), 0);
    assert_true(cJSON_IsArray(o1.result));
    assert_int_equal(cJSON_GetArraySize(o1.result), 2);
    assert_int_equal(o1.n_tensors, 2);
    assert_shape(&o1.tensors[1], HDM_DT_FLOAT32, 3, (const int64_t[]){1, 40, 97});
    assert_int_equal(run(t, m, &in, &o2, &err), 0);
    assert_memory_equal(o1.tensors[0].data, o2.tensors[0].data, o1.tensors[0].nbytes);
    assert_memory_not_equal(o1.tensors[0].data, o1.tensors[1].data, o1.tensors[0].nbytes);
    infer_output_clear(&o1);
    infer_output_clear(&o2);

    snprintf(in.u.ocr.language, sizeof(in.u.ocr.language), "ch");
    assert_int_equal(run(t, m, &in, &o1, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "'ch'"));
    assert_non_null(strstr(err.msg, "en"));

    snprintf(in.u.ocr.language, sizeof(in.u.ocr.language), "en");
    crops[1].shape[2] = 100;
    crops[1].nbytes = 48 * 100 * 3;
    assert_int_equal(run(t, m, &in, &o1, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "crops[1]"));
    assert_null(o1.result);

    free(crops[0].data);
    free(crops[1].data);
    backend_sim_ops.unload(t->b, m);
    cJSON_Delete(langs);
    free(p);
    free(rec);
}

static void test_ocr_missing_recognition_hef(void **state)
{
    simt *t = *state;
    char *p = simt_model(t, "ocr_det.hef", NULL);
    cJSON *langs = cJSON_CreateObject();
    cJSON_AddStringToObject(langs, "en", "/nonexistent/rec.hef");
    model_spec spec = {
        .kind = MODEL_OCR, .model_path = p, .ocr_detection_hef = p, .ocr_recognition_hefs = langs};
    backend_model *m = NULL;
    uint64_t fp;
    hdm_err err = {0};
    assert_int_equal(backend_sim_ops.load(t->b, &spec, &m, &fp, &err), -HDM_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "recognition_hefs.en"));
    assert_non_null(strstr(err.msg, "/nonexistent/rec.hef"));
    cJSON_Delete(langs);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clip_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clip_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clip_models_differ, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pose, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ocr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ocr_missing_recognition_hef, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
