/* test_tensor.c - tensors from and to JSON, every dtype, shape checks, half floats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/base64.h"
#include "common/tensor.h"

/* Parses text and runs tensor_from_json on it; returns the code, err filled. */
static int parse_tensor(const char *text, const frame_attachment *att, uint32_t n_att,
                        hdm_tensor *t, void **owned, hdm_err *err)
{
    cJSON *obj = cJSON_Parse(text);
    assert_non_null(obj);
    hdm_err_clear(err);
    int r = tensor_from_json(obj, "input_data.tensor", att, n_att, t, owned, err);
    cJSON_Delete(obj);
    return r;
}

static void expect_error(const char *text, int code, const char *msg)
{
    hdm_tensor t;
    void *owned = (void *)0x1;
    hdm_err err;
    int r = parse_tensor(text, NULL, 0, &t, &owned, &err);
    if (r != -code)
        fail_msg("%s: returned %d (%s), expected %d", text, r, err.msg, -code);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("%s:\n  got      \"%s\"\n  expected \"%s\"", text, err.msg, msg);
    assert_ptr_equal(owned, (void *)0x1); /* untouched on failure */
}

static void test_every_dtype_base64(void **state)
{
    (void)state;
    static const char *const names[] = {"uint8", "int8",    "uint16", "int16",
                                        "int32", "float16", "float32"};
    for (int d = 0; d < HDM_DT__COUNT; d++) {
        size_t esize = hdm_dtype_size((hdm_dtype)d);
        size_t nbytes = 2 * 3 * esize;
        uint8_t raw[64];
        for (size_t i = 0; i < nbytes; i++)
            raw[i] = (uint8_t)(i * 13 + d);
        char b64[128];
        base64_encode(raw, nbytes, b64);
        char text[256];
        snprintf(text, sizeof(text), "{\"dtype\":\"%s\",\"shape\":[2,3],\"data_b64\":\"%s\"}",
                 names[d], b64);
        hdm_tensor t;
        void *owned = NULL;
        hdm_err err;
        assert_int_equal(parse_tensor(text, NULL, 0, &t, &owned, &err), 0);
        assert_int_equal(t.dtype, d);
        assert_int_equal(t.ndim, 2);
        assert_int_equal(t.shape[0], 2);
        assert_int_equal(t.shape[1], 3);
        assert_int_equal(t.nbytes, nbytes);
        assert_ptr_equal(t.data, owned);
        assert_memory_equal(t.data, raw, nbytes);
        free(owned);
    }
}

static void test_missing_fields_v1_sentence(void **state)
{
    (void)state;
    const char *msg = "tensor must include dtype, shape, and data_b64";
    assert_string_equal(TENSOR_MISSING_FIELDS_MSG, msg);
    expect_error("{\"shape\":[1],\"data_b64\":\"AA==\"}", HDM_E_BAD_REQUEST, msg);
    expect_error("{\"dtype\":\"uint8\",\"data_b64\":\"AA==\"}", HDM_E_BAD_REQUEST, msg);
    expect_error("{\"dtype\":\"uint8\",\"shape\":[1]}", HDM_E_BAD_REQUEST, msg);
    expect_error("{}", HDM_E_BAD_REQUEST, msg);
    expect_error("{\"dtype\":null,\"shape\":[1],\"data_b64\":\"AA==\"}", HDM_E_BAD_REQUEST, msg);
}

static void test_shape_mismatch_message(void **state)
{
    (void)state;
    /* 1000 bytes of data for a [1,224,224,3] uint8 image. */
    uint8_t raw[1000] = {0};
    char b64[1400];
    base64_encode(raw, sizeof(raw), b64);
    char *text = malloc(1600);
    snprintf(text, 1600, "{\"dtype\":\"uint8\",\"shape\":[1,224,224,3],\"data_b64\":\"%s\"}", b64);
    expect_error(text, HDM_E_BAD_REQUEST,
                 "input_data.tensor: shape [1,224,224,3] x uint8 needs 150528 bytes but data has "
                 "1000");
    snprintf(text, 1600, "{\"dtype\":\"float32\",\"shape\":[10,10],\"data_b64\":\"%s\"}", b64);
    expect_error(text, HDM_E_BAD_REQUEST,
                 "input_data.tensor: shape [10,10] x float32 needs 400 bytes but data has 1000");
    free(text);
}

static void test_shape_checks(void **state)
{
    (void)state;
    expect_error("{\"dtype\":\"uint8\",\"shape\":[],\"data_b64\":\"\"}", HDM_E_BAD_REQUEST,
                 "input_data.tensor: shape must have 1 to 8 dimensions (got 0)");
    expect_error("{\"dtype\":\"uint8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_b64\":\"AA==\"}",
                 HDM_E_BAD_REQUEST, "input_data.tensor: shape must have 1 to 8 dimensions (got 9)");
    expect_error("{\"dtype\":\"uint8\",\"shape\":[2,-1],\"data_b64\":\"AA==\"}", HDM_E_BAD_REQUEST,
                 "input_data.tensor: shape[1] is negative (-1)");
    expect_error("{\"dtype\":\"uint8\",\"shape\":[2.5],\"data_b64\":\"AA==\"}", HDM_E_BAD_REQUEST,
                 "input_data.tensor: shape[0] must be a non-negative integer below 2^63");
    expect_error("{\"dtype\":\"uint8\",\"shape\":[\"3\"],\"data_b64\":\"AA==\"}", HDM_E_BAD_REQUEST,
                 "input_data.tensor: shape[0] must be a non-negative integer below 2^63");
    expect_error("{\"dtype\":\"uint8\",\"shape\":[1e300],\"data_b64\":\"AA==\"}", HDM_E_BAD_REQUEST,
                 "input_data.tensor: shape[0] must be a non-negative integer below 2^63");
    expect_error("{\"dtype\":\"uint8\",\"shape\":3,\"data_b64\":\"AA==\"}", HDM_E_BAD_REQUEST,
                 "input_data.tensor: shape must be an array of integers");
    expect_error("{\"dtype\":\"float64\",\"shape\":[1],\"data_b64\":\"AA==\"}", HDM_E_BAD_REQUEST,
                 "input_data.tensor: unknown dtype \"float64\" (expected uint8, int8, uint16, "
                 "int16, int32, float16 or float32)");
    expect_error("{\"dtype\":7,\"shape\":[1],\"data_b64\":\"AA==\"}", HDM_E_BAD_REQUEST,
                 "input_data.tensor: dtype must be a string");
    expect_error("{\"dtype\":\"uint8\",\"shape\":[1],\"data_b64\":5}", HDM_E_BAD_REQUEST,
                 "input_data.tensor: data_b64 must be a string");
    expect_error("[1,2]", HDM_E_BAD_REQUEST, "input_data.tensor: tensor must be an object");
}

static void test_overflow_shapes(void **state)
{
    (void)state;
    /* 2^62 x 4 elements overflows 64 bits even before the element size. */
    expect_error("{\"dtype\":\"uint8\",\"shape\":[4611686018427387904,4],\"data_b64\":\"AA==\"}",
                 HDM_E_TOO_LARGE,
                 "input_data.tensor: shape [4611686018427387904,4] with 1-byte elements is too "
                 "large (size overflows)");
    /* 2^62 float32 elements: the element size is what overflows. */
    expect_error("{\"dtype\":\"float32\",\"shape\":[4611686018427387904],\"data_b64\":\"AA==\"}",
                 HDM_E_TOO_LARGE,
                 "input_data.tensor: shape [4611686018427387904] with 4-byte elements is too "
                 "large (size overflows)");
    expect_error("{\"dtype\":\"uint8\",\"shape\":[65536,65536,65536,65536,2],\"data_b64\":\"\"}",
                 HDM_E_TOO_LARGE,
                 "input_data.tensor: shape [65536,65536,65536,65536,2] with 1-byte elements is "
                 "too large (size overflows)");
    /* A huge but representable size is a plain mismatch. */
    expect_error("{\"dtype\":\"uint8\",\"shape\":[1048576,1048576],\"data_b64\":\"AA==\"}",
                 HDM_E_BAD_REQUEST,
                 "input_data.tensor: shape [1048576,1048576] x uint8 needs 1099511627776 bytes "
                 "but data has 1");
}

static void test_shape_bytes_direct(void **state)
{
    (void)state;
    size_t bytes = 7;
    hdm_err err;
    int64_t s1[] = {1, 224, 224, 3};
    assert_int_equal(tensor_shape_bytes(s1, 4, 4, &bytes, &err), 0);
    assert_int_equal(bytes, 602112);
    /* A zero dimension makes the tensor empty, even next to a huge one. */
    int64_t s2[] = {INT64_MAX, 0, INT64_MAX};
    assert_int_equal(tensor_shape_bytes(s2, 3, 4, &bytes, &err), 0);
    assert_int_equal(bytes, 0);
    int64_t s3[] = {INT64_MAX, 2};
    assert_int_equal(tensor_shape_bytes(s3, 2, 1, &bytes, &err), -HDM_E_TOO_LARGE);
    int64_t s4[] = {3, -2};
    assert_int_equal(tensor_shape_bytes(s4, 2, 1, &bytes, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "shape[1] is negative (-2)");
    assert_int_equal(tensor_shape_bytes(s1, 9, 1, &bytes, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(tensor_shape_bytes(s1, 0, 4, &bytes, &err), 0);
    assert_int_equal(bytes, 4);

    /* Without an hdm_err the code is still the precise one. */
    cJSON *obj = cJSON_Parse("{\"dtype\":\"uint8\",\"shape\":[4611686018427387904,4],"
                             "\"data_b64\":\"\"}");
    hdm_tensor t;
    void *owned = NULL;
    assert_int_equal(tensor_from_json(obj, "x", NULL, 0, &t, &owned, NULL), -HDM_E_TOO_LARGE);
    cJSON_Delete(obj);
}

static void test_empty_tensor(void **state)
{
    (void)state;
    hdm_tensor t;
    void *owned = NULL;
    hdm_err err;
    assert_int_equal(parse_tensor("{\"dtype\":\"float32\",\"shape\":[0,512],\"data_b64\":\"\"}",
                                  NULL, 0, &t, &owned, &err),
                     0);
    assert_int_equal(t.nbytes, 0);
    free(owned);
}

static void test_bad_base64(void **state)
{
    (void)state;
    expect_error("{\"dtype\":\"uint8\",\"shape\":[3],\"data_b64\":\"AB!D\"}", HDM_E_BAD_REQUEST,
                 "input_data.tensor: data_b64 is not valid base64 (bad character at offset 2)");
    expect_error("{\"dtype\":\"uint8\",\"shape\":[3],\"data_b64\":\"ABCDE\"}", HDM_E_BAD_REQUEST,
                 "input_data.tensor: data_b64 is not valid base64 (length 5 is impossible)");
    expect_error("{\"dtype\":\"uint8\",\"shape\":[3],\"data_b64\":\"AB CD\"}", HDM_E_BAD_REQUEST,
                 "input_data.tensor: data_b64 is not valid base64 (length 5 is impossible)");
}

static void test_attachments(void **state)
{
    (void)state;
    _Alignas(8) uint8_t a0[6] = {1, 2, 3, 4, 5, 6};
    _Alignas(8) uint8_t a1[8] = {0};
    frame_attachment att[2] = {{a0, sizeof(a0)}, {a1, sizeof(a1)}};
    hdm_tensor t;
    void *owned = (void *)0x1;
    hdm_err err;
    assert_int_equal(parse_tensor("{\"dtype\":\"int16\",\"shape\":[3],\"attachment\":0}", att, 2,
                                  &t, &owned, &err),
                     0);
    assert_null(owned);
    assert_ptr_equal(t.data, a0);
    assert_int_equal(t.nbytes, 6);
    assert_int_equal(parse_tensor("{\"dtype\":\"float32\",\"shape\":[1,2],\"attachment\":1}", att,
                                  2, &t, &owned, &err),
                     0);
    assert_ptr_equal(t.data, a1);

    assert_int_equal(parse_tensor("{\"dtype\":\"uint8\",\"shape\":[6],\"attachment\":2}", att, 2,
                                  &t, &owned, &err),
                     -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg,
                        "input_data.tensor: attachment 2 is out of range (the frame has 2)");
    assert_int_equal(parse_tensor("{\"dtype\":\"uint8\",\"shape\":[6],\"attachment\":-1}", att, 2,
                                  &t, &owned, &err),
                     -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "input_data.tensor: attachment must be a non-negative integer");
    assert_int_equal(parse_tensor("{\"dtype\":\"uint8\",\"shape\":[6],\"attachment\":0.5}", att, 2,
                                  &t, &owned, &err),
                     -HDM_E_BAD_REQUEST);
    assert_int_equal(parse_tensor("{\"dtype\":\"uint8\",\"shape\":[6],\"attachment\":\"0\"}", att,
                                  2, &t, &owned, &err),
                     -HDM_E_BAD_REQUEST);
    /* A v1 frame has no attachments at all. */
    assert_int_equal(parse_tensor("{\"dtype\":\"uint8\",\"shape\":[6],\"attachment\":0}", NULL, 0,
                                  &t, &owned, &err),
                     -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg,
                        "input_data.tensor: attachment 0 is out of range (the frame has 0)");
    assert_int_equal(parse_tensor("{\"dtype\":\"uint8\",\"shape\":[7],\"attachment\":0}", att, 2,
                                  &t, &owned, &err),
                     -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg,
                        "input_data.tensor: shape [7] x uint8 needs 7 bytes but data has 6");
    assert_int_equal(parse_tensor("{\"dtype\":\"uint8\",\"shape\":[6],\"attachment\":0,"
                                  "\"data_b64\":\"AAAAAAAA\"}",
                                  att, 2, &t, &owned, &err),
                     -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "input_data.tensor: give either data_b64 or attachment, not both");
}

/* A float32 attachment at an odd offset gets an aligned copy with the same bytes. */
static void test_misaligned_attachment_copied(void **state)
{
    (void)state;
    _Alignas(8) uint8_t frame_bytes[1 + 8];
    float values[2] = {1.5f, -2.25f};
    memcpy(frame_bytes + 1, values, sizeof(values));
    frame_attachment att[1] = {{frame_bytes + 1, sizeof(values)}};
    hdm_tensor t;
    void *owned = NULL;
    hdm_err err;
    assert_int_equal(parse_tensor("{\"dtype\":\"float32\",\"shape\":[2],\"attachment\":0}", att, 1,
                                  &t, &owned, &err),
                     0);
    assert_non_null(owned);
    assert_ptr_equal(t.data, owned);
    assert_int_equal((uintptr_t)t.data % sizeof(float), 0);
    assert_memory_equal(t.data, values, sizeof(values));
    free(owned);

    /* uint8 needs no alignment: still zero-copy. */
    assert_int_equal(parse_tensor("{\"dtype\":\"uint8\",\"shape\":[8],\"attachment\":0}", att, 1,
                                  &t, &owned, &err),
                     0);
    assert_null(owned);
    assert_ptr_equal(t.data, frame_bytes + 1);
}

static void test_to_json_round_trip_base64(void **state)
{
    (void)state;
    float values[6] = {0.5f, -1.25f, 3.0f, 1e-3f, 65504.0f, -0.0f};
    hdm_tensor t = {.dtype = HDM_DT_FLOAT32,
                    .ndim = 2,
                    .shape = {2, 3},
                    .data = values,
                    .nbytes = sizeof(values)};
    cJSON *obj = tensor_to_json(&t, NULL, NULL);
    assert_non_null(obj);
    char *text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    assert_non_null(strstr(text, "\"dtype\":\"float32\""));
    assert_non_null(strstr(text, "\"shape\":[2,3]"));

    hdm_tensor back;
    void *owned = NULL;
    hdm_err err;
    assert_int_equal(parse_tensor(text, NULL, 0, &back, &owned, &err), 0);
    assert_int_equal(back.dtype, HDM_DT_FLOAT32);
    assert_int_equal(back.nbytes, sizeof(values));
    assert_memory_equal(back.data, values, sizeof(values));
    free(owned);
    cJSON_free(text);
}

static void test_to_json_attachments(void **state)
{
    (void)state;
    uint8_t img[12] = {9};
    int32_t ids[3] = {1, 2, 3};
    hdm_tensor t1 = {
        .dtype = HDM_DT_UINT8, .ndim = 3, .shape = {2, 2, 3}, .data = img, .nbytes = sizeof(img)};
    hdm_tensor t2 = {
        .dtype = HDM_DT_INT32, .ndim = 1, .shape = {3}, .data = ids, .nbytes = sizeof(ids)};
    frame_attachment *atts = NULL;
    uint32_t n = 0;
    cJSON *o1 = tensor_to_json(&t1, &atts, &n);
    cJSON *o2 = tensor_to_json(&t2, &atts, &n);
    assert_non_null(o1);
    assert_non_null(o2);
    assert_int_equal(n, 2);
    assert_ptr_equal(atts[0].data, img);
    assert_int_equal(atts[1].len, sizeof(ids));
    assert_int_equal(cJSON_GetObjectItem(o2, "attachment")->valueint, 1);
    assert_null(cJSON_GetObjectItem(o2, "data_b64"));

    hdm_tensor back;
    void *owned = NULL;
    hdm_err err = {0};
    assert_int_equal(tensor_from_json(o2, "out", atts, n, &back, &owned, &err), 0);
    assert_ptr_equal(back.data, ids);
    assert_int_equal(back.dtype, HDM_DT_INT32);
    cJSON_Delete(o1);
    cJSON_Delete(o2);
    free(atts);

    hdm_tensor bad = t1;
    bad.dtype = HDM_DT__COUNT;
    assert_null(tensor_to_json(&bad, NULL, NULL));
}

static void test_expect(void **state)
{
    (void)state;
    float v[512];
    hdm_tensor t = {
        .dtype = HDM_DT_FLOAT32, .ndim = 2, .shape = {1, 512}, .data = v, .nbytes = sizeof(v)};
    hdm_err err;
    int64_t want[] = {1, 512};
    assert_int_equal(tensor_expect(&t, "embedding", HDM_DT_FLOAT32, 2, want, &err), 0);
    int64_t other[] = {1, 256};
    assert_int_equal(tensor_expect(&t, "embedding", HDM_DT_FLOAT32, 2, other, &err),
                     -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "embedding: expected shape [1,256] but got [1,512]");
    int64_t three[] = {1, 512, 1};
    assert_int_equal(tensor_expect(&t, "embedding", HDM_DT_FLOAT32, 3, three, &err),
                     -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "embedding: expected shape [1,512,1] but got [1,512]");
    assert_int_equal(tensor_expect(&t, "embedding", HDM_DT_UINT8, 2, want, &err),
                     -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "embedding: expected dtype uint8 but got float32");
    /* A negative expected size accepts any size there. */
    int64_t any_batch[] = {-1, 512};
    assert_int_equal(tensor_expect(&t, "embedding", HDM_DT_FLOAT32, 2, any_batch, &err), 0);
}

static void test_half_float(void **state)
{
    (void)state;
    static const struct {
        uint16_t h;
        float f;
    } exact[] = {
        {0x0000, 0.0f},
        {0x8000, -0.0f},
        {0x3c00, 1.0f},
        {0xbc00, -1.0f},
        {0x4000, 2.0f},
        {0x3800, 0.5f},
        {0x7bff, 65504.0f},
        {0x0400, 6.103515625e-05f},
        {0x0001, 5.9604644775390625e-08f},
        {0x03ff, 6.097555160522461e-05f},
        {0x3555, 0.333251953125f},
        {0xc500, -5.0f},
    };
    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
        assert_true(half_to_float(exact[i].h) == exact[i].f);
        assert_int_equal(float_to_half(exact[i].f), exact[i].h);
    }
    assert_true(signbit(half_to_float(0x8000)));
    assert_true(isinf(half_to_float(0x7c00)) && half_to_float(0x7c00) > 0);
    assert_true(isinf(half_to_float(0xfc00)) && half_to_float(0xfc00) < 0);
    assert_true(isnan(half_to_float(0x7e00)));
    assert_int_equal(float_to_half(INFINITY), 0x7c00);
    assert_int_equal(float_to_half(-INFINITY), 0xfc00);
    assert_true(isnan(half_to_float(float_to_half(NAN))));
    /* Overflow to infinity, underflow to zero, rounding to nearest even. */
    assert_int_equal(float_to_half(65520.0f), 0x7c00);
    assert_int_equal(float_to_half(65519.0f), 0x7bff);
    assert_int_equal(float_to_half(1e-10f), 0x0000);
    assert_int_equal(float_to_half(-1e-10f), 0x8000);
    assert_int_equal(float_to_half(2.98023223876953125e-08f), 0x0000); /* half of 2^-24: tie */
    assert_int_equal(float_to_half(2.99e-08f), 0x0001);
    assert_int_equal(float_to_half(1.0f + 1.0f / 2048), 0x3c00); /* tie, to even */
    assert_int_equal(float_to_half(1.0f + 3.0f / 2048), 0x3c02); /* tie, to even */
    assert_int_equal(float_to_half(1.0f + 1.5f / 2048), 0x3c01);
    /* Every finite half survives half -> float -> half. */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0)
            continue;
        assert_int_equal(float_to_half(half_to_float((uint16_t)h)), h);
    }
}

static void test_check(void **state)
{
    (void)state;
    uint8_t data[6] = {1, 2, 3, 4, 5, 6};
    hdm_tensor t = {.dtype = HDM_DT_UINT8, .ndim = 2, .shape = {2, 3}, .data = data, .nbytes = 6};
    hdm_err err;
    assert_int_equal(tensor_check(&t, "input", &err), 0);
    t.nbytes = 5;
    assert_int_equal(tensor_check(&t, "input", &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "input: shape [2,3] x uint8 needs 6 bytes but data has 5");
    t.nbytes = 6;
    t.shape[1] = -3;
    assert_int_equal(tensor_check(&t, "input", &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "negative"));
    t.shape[1] = INT64_MAX;
    t.shape[0] = 4;
    assert_int_equal(tensor_check(&t, "input", &err), -HDM_E_TOO_LARGE);
    t.shape[0] = 2;
    t.shape[1] = 3;
    t.ndim = 0;
    assert_int_equal(tensor_check(&t, "input", &err), -HDM_E_BAD_REQUEST);
    t.ndim = 2;
    t.dtype = (hdm_dtype)99;
    assert_int_equal(tensor_check(&t, NULL, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "tensor: unknown dtype 99");
    t.dtype = HDM_DT_UINT8;
    t.data = NULL;
    assert_int_equal(tensor_check(&t, "input", NULL), -HDM_E_BAD_REQUEST);
}

static void test_ref_and_b64_items(void **state)
{
    (void)state;
    float v[2] = {1.5f, -2.0f};
    hdm_tensor t = {.dtype = HDM_DT_FLOAT32, .ndim = 2, .shape = {1, 2}, .data = v, .nbytes = 8};
    cJSON *ref = tensor_ref_json(&t, 3);
    char *s = cJSON_PrintUnformatted(ref);
    assert_string_equal(s, "{\"dtype\":\"float32\",\"shape\":[1,2],\"attachment\":3}");
    free(s);
    cJSON_Delete(ref);
    t.ndim = HDM_MAX_DIMS + 1;
    assert_null(tensor_ref_json(&t, 0));

    cJSON *str = tensor_b64_json("foob", 4, false), *raw = tensor_b64_json("foob", 4, true);
    assert_true(cJSON_IsString(str));
    assert_string_equal(str->valuestring, "Zm9vYg==");
    assert_true(cJSON_IsRaw(raw));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "s", str);
    cJSON_AddItemToObject(o, "r", raw);
    s = cJSON_PrintUnformatted(o);
    assert_string_equal(s, "{\"s\":\"Zm9vYg==\",\"r\":\"Zm9vYg==\"}");
    free(s);
    cJSON_Delete(o);
}

/* A binary answer (references) becomes a v1 one (data_b64) at any depth. */
static void test_refs_to_b64(void **state)
{
    (void)state;
    uint8_t a[3] = {'f', 'o', 'o'}, b[1] = {'f'};
    hdm_tensor ts[2] = {
        {.dtype = HDM_DT_UINT8, .ndim = 1, .shape = {3}, .data = a, .nbytes = 3},
        {.dtype = HDM_DT_UINT8, .ndim = 1, .shape = {1}, .data = b, .nbytes = 1},
    };
    cJSON *r = cJSON_Parse("{\"outputs\":{\"x\":{\"dtype\":\"uint8\",\"shape\":[1],"
                           "\"attachment\":1}},\"list\":[{\"dtype\":\"uint8\",\"shape\":[3],"
                           "\"attachment\":0}],\"n\":{\"attachment\":0}}");
    assert_int_equal(tensor_refs_to_b64(r, ts, 2), 8);
    char *s = cJSON_PrintUnformatted(r);
    assert_string_equal(s, "{\"outputs\":{\"x\":{\"dtype\":\"uint8\",\"shape\":[1],"
                           "\"data_b64\":\"Zg==\"}},\"list\":[{\"dtype\":\"uint8\","
                           "\"shape\":[3],\"data_b64\":\"Zm9v\"}],\"n\":{\"attachment\":0}}");
    free(s);
    cJSON_Delete(r);
    r = cJSON_Parse("[{\"dtype\":\"uint8\",\"attachment\":2}]");
    assert_int_equal(tensor_refs_to_b64(r, ts, 2), -1);
    cJSON_Delete(r);
    r = cJSON_Parse("[{\"dtype\":\"uint8\",\"attachment\":0.5}]");
    assert_int_equal(tensor_refs_to_b64(r, ts, 2), -1);
    cJSON_Delete(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_dtype_base64),
        cmocka_unit_test(test_missing_fields_v1_sentence),
        cmocka_unit_test(test_shape_mismatch_message),
        cmocka_unit_test(test_shape_checks),
        cmocka_unit_test(test_overflow_shapes),
        cmocka_unit_test(test_shape_bytes_direct),
        cmocka_unit_test(test_empty_tensor),
        cmocka_unit_test(test_bad_base64),
        cmocka_unit_test(test_attachments),
        cmocka_unit_test(test_misaligned_attachment_copied),
        cmocka_unit_test(test_to_json_round_trip_base64),
        cmocka_unit_test(test_to_json_attachments),
        cmocka_unit_test(test_expect),
        cmocka_unit_test(test_half_float),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_ref_and_b64_items),
        cmocka_unit_test(test_refs_to_b64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
