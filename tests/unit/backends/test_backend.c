/*
 * test_backend.c - the backend table, model type names and infer_output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backends/backend.h"

static void test_find_sim(void **state)
{
    (void)state;
    assert_ptr_equal(backend_find("sim"), &backend_sim_ops);
    assert_string_equal(backend_find("sim")->name, "sim");
    assert_null(backend_find("nope"));
    assert_null(backend_find(""));
    assert_null(backend_find(NULL));
}

static void test_names(void **state)
{
    (void)state;
    const char *const *names = backend_names();
    int found_sim = 0, n = 0;
    for (; names[n]; n++) {
        assert_non_null(backend_find(names[n]));
        found_sim |= strcmp(names[n], "sim") == 0;
    }
    assert_true(found_sim);
#ifdef HDM_HAVE_HAILORT
    assert_int_equal(n, 2);
#else
    assert_int_equal(n, 1);
    assert_null(backend_find("hailort"));
#endif
}

static void test_model_kinds(void **state)
{
    (void)state;
    model_kind k;
    static const struct {
        const char *name;
        model_kind kind;
        const char *canonical;
    } cases[] = {
        {"clip", MODEL_CLIP, "clip"},        {"vlm", MODEL_VLM, "vlm_chat"},
        {"vlm_chat", MODEL_VLM, "vlm_chat"}, {"whisper", MODEL_WHISPER, "whisper"},
        {"ocr", MODEL_OCR, "ocr"},           {"depth", MODEL_DEPTH, "depth"},
        {"pose", MODEL_POSE, "pose"},        {"llm", MODEL_LLM, "llm"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(model_kind_parse(cases[i].name, &k), 0);
        assert_int_equal(k, cases[i].kind);
        assert_string_equal(model_kind_name(k), cases[i].canonical);
    }
    assert_int_equal(model_kind_parse("CLIP", &k), -1);
    assert_int_equal(model_kind_parse("LLM", &k), -1);
    assert_int_equal(model_kind_parse("", &k), -1);
    assert_int_equal(model_kind_parse(NULL, &k), -1);
    assert_string_equal(model_kind_name(MODEL_KIND__COUNT), "unknown");
    for (int i = 0; i < MODEL_KIND__COUNT; i++) {
        assert_int_equal(model_kind_is_genai((model_kind)i), i == MODEL_VLM || i == MODEL_LLM);
        assert_int_equal(model_kind_generates_text((model_kind)i),
                         i == MODEL_VLM || i == MODEL_LLM);
        /* The GenAI lane: every GenAI model, and whisper. */
        assert_int_equal(model_kind_uses_genai_lane((model_kind)i),
                         i == MODEL_VLM || i == MODEL_LLM || i == MODEL_WHISPER);
    }
    assert_string_equal(llm_role_name(LLM_ROLE_TOOL), "tool");
    assert_string_equal(llm_role_name(LLM_ROLE_SYSTEM), "system");
}

static hdm_tensor make_tensor(hdm_dtype dt, int64_t a, int64_t b)
{
    hdm_tensor t = {.dtype = dt, .ndim = 2, .shape = {a, b}};
    t.nbytes = (size_t)(a * b) * hdm_dtype_size(dt);
    t.data = calloc(1, t.nbytes);
    assert_non_null(t.data);
    return t;
}

static void test_output_tensors(void **state)
{
    (void)state;
    infer_output out = {0};
    hdm_tensor a = make_tensor(HDM_DT_FLOAT32, 1, 512);
    hdm_tensor b = make_tensor(HDM_DT_UINT8, 3, 4);

    cJSON *ja = infer_output_add_tensor(&out, &a);
    cJSON *jb = infer_output_add_tensor(&out, &b);
    assert_non_null(ja);
    assert_non_null(jb);
    assert_int_equal(out.n_tensors, 2);
    assert_ptr_equal(out.tensors[0].data, a.data);
    assert_int_equal(out.tensors[1].nbytes, 12);

    assert_string_equal(cJSON_GetObjectItem(ja, "dtype")->valuestring, "float32");
    assert_int_equal(cJSON_GetObjectItem(ja, "attachment")->valueint, 0);
    assert_int_equal(cJSON_GetObjectItem(jb, "attachment")->valueint, 1);
    const cJSON *shape = cJSON_GetObjectItem(jb, "shape");
    assert_int_equal(cJSON_GetArraySize(shape), 2);
    assert_int_equal(cJSON_GetArrayItem(shape, 0)->valueint, 3);
    assert_int_equal(cJSON_GetArrayItem(shape, 1)->valueint, 4);
    assert_string_equal(cJSON_GetObjectItem(jb, "dtype")->valuestring, "uint8");

    out.result = cJSON_CreateArray();
    cJSON_AddItemToArray(out.result, ja);
    cJSON_AddItemToArray(out.result, jb);
    infer_output_clear(&out); /* frees both tensors' data: ASan checks */
    assert_null(out.result);
    assert_null(out.tensors);
    assert_int_equal(out.n_tensors, 0);
    infer_output_clear(&out);
    infer_output_clear(NULL);
}

static void test_output_bad_tensor(void **state)
{
    (void)state;
    infer_output out = {0};
    hdm_tensor bad = make_tensor(HDM_DT_UINT8, 2, 2);
    bad.dtype = HDM_DT__COUNT;
    /* The data is taken over even when the tensor is refused. */
    assert_null(infer_output_add_tensor(&out, &bad));
    assert_int_equal(out.n_tensors, 0);
    infer_output_clear(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_sim),          cmocka_unit_test(test_names),
        cmocka_unit_test(test_model_kinds),       cmocka_unit_test(test_output_tensors),
        cmocka_unit_test(test_output_bad_tensor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
