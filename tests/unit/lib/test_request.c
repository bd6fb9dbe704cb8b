/*
 * test_request.c - request encoding (binary and v1), tensor checks, the
 * remembered-models list and error mapping of responses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "lib/internal.h"

/* Joins the iovecs of a wire into one buffer. */
static uint8_t *flatten(const request_wire *w, size_t *len)
{
    uint8_t *out = malloc(w->total);
    size_t at = 0;
    for (int i = 0; i < w->niov; i++) {
        memcpy(out + at, w->iov[i].iov_base, w->iov[i].iov_len);
        at += w->iov[i].iov_len;
    }
    assert_int_equal(at, w->total);
    *len = at;
    return out;
}

static hdm_request *two_tensor_request(uint8_t *a, size_t na, int16_t *b, size_t nb_elems)
{
    hdm_request *req = hdm_request_new("infer");
    cJSON *input = cJSON_AddObjectToObject(hdm_request_json(req), "input_data");
    cJSON *list = cJSON_AddArrayToObject(input, "frames");
    hdm_tensor ta = {
        .dtype = HDM_DT_UINT8, .ndim = 1, .shape = {(int64_t)na}, .data = a, .nbytes = na};
    hdm_tensor tb = {.dtype = HDM_DT_INT16,
                     .ndim = 2,
                     .shape = {1, (int64_t)nb_elems},
                     .data = b,
                     .nbytes = nb_elems * 2};
    assert_int_equal(hdm_request_add_tensor(req, input, "tensor", &ta), 0);
    assert_int_equal(hdm_request_add_tensor(req, list, NULL, &tb), 0);
    return req;
}

static void test_binary_encoding(void **state)
{
    (void)state;
    uint8_t a[5] = {1, 2, 3, 4, 5};
    int16_t b[3] = {-1, 2, 300};
    hdm_request *req = two_tensor_request(a, 5, b, 3);
    request_wire w;
    assert_int_equal(request_encode(req, false, "id-1", "svc", &w, NULL), 0);
    /* The tensor bytes are referenced, not copied. */
    int found = 0;
    for (int i = 0; i < w.niov; i++)
        found += w.iov[i].iov_base == (void *)a || w.iov[i].iov_base == (void *)b;
    assert_int_equal(found, 2);

    size_t len;
    uint8_t *bytes = flatten(&w, &len);
    frame f;
    assert_int_equal(frame_parse(bytes, len, 0, &f, NULL, NULL), 1);
    assert_true(f.binary);
    assert_int_equal(f.total_len, len);
    assert_int_equal(f.n_attachments, 2);
    assert_memory_equal(f.attachments[0].data, a, 5);
    /* The JSON is padded so the first attachment starts 16-byte aligned. */
    assert_int_equal((f.attachments[0].data - bytes) % 16, 0);
    assert_memory_equal(f.attachments[1].data, b, 6);
    cJSON *json = cJSON_ParseWithLength(f.json, f.json_len);
    assert_string_equal(cJSON_GetObjectItem(json, "request_id")->valuestring, "id-1");
    assert_string_equal(cJSON_GetObjectItem(json, "client_name")->valuestring, "svc");
    cJSON *tb = cJSON_GetArrayItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(json, "input_data"), "frames"), 0);
    assert_int_equal(cJSON_GetObjectItem(tb, "attachment")->valueint, 1);
    assert_string_equal(cJSON_GetObjectItem(tb, "dtype")->valuestring, "int16");
    cJSON_Delete(json);
    frame_clear(&f);
    free(bytes);
    request_wire_free(&w);
    hdm_request_free(req);
}

static void test_json_encoding(void **state)
{
    (void)state;
    uint8_t a[5] = {1, 2, 3, 4, 5};
    int16_t b[3] = {-1, 2, 300};
    hdm_request *req = two_tensor_request(a, 5, b, 3);
    request_wire w;
    assert_int_equal(request_encode(req, true, "id-2", NULL, &w, NULL), 0);
    size_t len;
    uint8_t *bytes = flatten(&w, &len);
    frame f;
    assert_int_equal(frame_parse(bytes, len, 0, &f, NULL, NULL), 1);
    assert_false(f.binary);
    cJSON *json = cJSON_ParseWithLength(f.json, f.json_len);
    assert_null(cJSON_GetObjectItem(json, "client_name"));
    cJSON *ta = cJSON_GetObjectItem(cJSON_GetObjectItem(json, "input_data"), "tensor");
    assert_null(cJSON_GetObjectItem(ta, "attachment"));
    const char *b64 = cJSON_GetObjectItem(ta, "data_b64")->valuestring;
    uint8_t dec[8];
    assert_int_equal(base64_decode(b64, strlen(b64), dec, NULL), 5);
    assert_memory_equal(dec, a, 5);
    cJSON_Delete(json);
    free(bytes);
    request_wire_free(&w);
    /* The request's own tree is back to attachments. */
    cJSON *t =
        cJSON_GetObjectItem(cJSON_GetObjectItem(hdm_request_json(req), "input_data"), "tensor");
    assert_non_null(cJSON_GetObjectItem(t, "attachment"));
    assert_null(cJSON_GetObjectItem(t, "data_b64"));
    hdm_request_free(req);
}

static void test_tensor_checks(void **state)
{
    (void)state;
    hdm_request *req = hdm_request_new("infer");
    cJSON *root = hdm_request_json(req);
    uint8_t data[6] = {0};
    hdm_tensor t = {.dtype = HDM_DT_UINT8, .ndim = 2, .shape = {2, 3}, .data = data, .nbytes = 5};
    assert_int_equal(hdm_request_add_tensor(req, root, "t", &t), -HDM_E_BAD_REQUEST);
    t.nbytes = 6;
    t.dtype = (hdm_dtype)99;
    assert_int_equal(hdm_request_add_tensor(req, root, "t", &t), -HDM_E_BAD_REQUEST);
    t.dtype = HDM_DT_UINT8;
    t.shape[0] = -2;
    assert_int_equal(hdm_request_add_tensor(req, root, "t", &t), -HDM_E_BAD_REQUEST);
    t.shape[0] = INT64_MAX;
    assert_int_equal(hdm_request_add_tensor(req, root, "t", &t), -HDM_E_TOO_LARGE);
    t.shape[0] = 2;
    t.ndim = 0;
    assert_int_equal(hdm_request_add_tensor(req, root, "t", &t), -HDM_E_BAD_REQUEST);
    t.ndim = 2;
    /* An object needs a name, an array must not get one. */
    assert_int_equal(hdm_request_add_tensor(req, root, NULL, &t), -HDM_E_BAD_REQUEST);
    assert_int_equal(hdm_request_add_tensor(req, root, "t", &t), 0);
    assert_int_equal(hdm_request_add_tensor(req, root, "t", &t), 0);
    /* The second add under the same name replaced the first. */
    int n = 0;
    cJSON *item;
    cJSON_ArrayForEach(item, root) n += strcmp(item->string, "t") == 0;
    assert_int_equal(n, 1);
    assert_null(hdm_request_new(NULL));
    hdm_request_free(req);
}

static void test_models_list(void **state)
{
    (void)state;
    model_entry *list = NULL;
    cJSON *a = cJSON_Parse("{\"action\":\"load_model\",\"model_type\":\"clip\","
                           "\"model_path\":\"/m/a\",\"request_id\":\"x\"}");
    cJSON *a2 = cJSON_Parse("{\"action\":\"load_model\",\"model_type\":\"clip\","
                            "\"model_path\":\"/m/a\",\"keep_alive\":-1}");
    cJSON *b = cJSON_Parse("{\"action\":\"load_model\",\"model_path\":\"/m/b\"}");
    cJSON *unload_b = cJSON_Parse("{\"action\":\"unload_model\",\"model_type\":\"vlm\","
                                  "\"model_path\":\"/m/b\"}");
    assert_int_equal(models_remember(&list, a), 0);
    assert_int_equal(models_remember(&list, b), 0);
    assert_int_equal(models_remember(&list, a2), 0);
    cJSON *snap = models_snapshot(list);
    assert_int_equal(cJSON_GetArraySize(snap), 2);
    /* Oldest first; the reload of /m/a replaced the first and carries keep_alive. */
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(snap, 0), "model_path")->valuestring,
                        "/m/b");
    cJSON *first_a = cJSON_GetArrayItem(snap, 1);
    assert_non_null(cJSON_GetObjectItem(first_a, "keep_alive"));
    assert_null(cJSON_GetObjectItem(first_a, "request_id"));
    cJSON_Delete(snap);
    /* model_type defaults to vlm on both sides. */
    models_forget(&list, unload_b);
    snap = models_snapshot(list);
    assert_int_equal(cJSON_GetArraySize(snap), 1);
    cJSON_Delete(snap);
    models_free(&list);
    assert_null(list);
    assert_null(models_snapshot(NULL));
    cJSON_Delete(a);
    cJSON_Delete(a2);
    cJSON_Delete(b);
    cJSON_Delete(unload_b);
}

static void test_response_status(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        int code;
    } cases[] = {
        {"{\"status\":\"ok\"}", 0},
        {"{\"error\":\"model_path required\"}", HDM_E_BAD_REQUEST},
        {"{\"error\":\"Unknown action: x\"}", HDM_E_UNSUPPORTED},
        {"{\"error\":\"Message too large: 99 bytes\"}", HDM_E_TOO_LARGE},
        {"{\"error\":\"x\",\"code\":\"not_found\"}", HDM_E_NOT_FOUND},
        {"{\"error\":\"x\",\"code\":\"what\"}", HDM_E_INTERNAL},
        {"{\"result\":1}", HDM_E_PROTOCOL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        hdm_response r = {.json = cJSON_Parse(cases[i].json)};
        assert_int_equal(response_status(&r), -cases[i].code);
        if (cases[i].code == 0)
            assert_null(hdm_response_error(&r));
        else
            assert_non_null(hdm_response_error(&r));
        cJSON_Delete(r.json);
    }
    hdm_response *s = response_synth(HDM_E_UNAVAILABLE, "id", "gone");
    assert_int_equal(response_status(s), -HDM_E_UNAVAILABLE);
    assert_string_equal(hdm_response_error(s), "gone");
    hdm_response_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_encoding), cmocka_unit_test(test_json_encoding),
        cmocka_unit_test(test_tensor_checks),   cmocka_unit_test(test_models_list),
        cmocka_unit_test(test_response_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
