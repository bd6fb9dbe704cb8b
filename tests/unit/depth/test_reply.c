/*
 * test_reply.c - the 200 body: base64 made in place equals the ordinary
 * encoder's, the fields and their order are the original's, each encoding
 * is depthpost's own, and the body fits the bound the budget reserves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/base64.h"
#include "depth/depth.h"

static void test_base64_in_place(void **state)
{
    (void)state;
    uint32_t rng = 12345;
    for (size_t n = 0; n < 300; n++) {
        for (size_t prefix = 0; prefix < 3; prefix++) {
            buf b = {0};
            uint8_t *raw = malloc(n + 1);
            for (size_t i = 0; i < n; i++) {
                rng = rng * 1664525u + 1013904223u;
                raw[i] = (uint8_t)(rng >> 24);
            }
            assert_int_equal(buf_append(&b, "abc", prefix), 0);
            assert_int_equal(buf_append(&b, raw, n), 0);
            assert_int_equal(depth_reply_base64_tail(&b, prefix), 0);
            char *want = malloc(base64_encoded_len(n) + 1);
            base64_encode(raw, n, want);
            assert_int_equal(b.len, prefix + strlen(want));
            assert_memory_equal(b.data, "abc", prefix);
            assert_memory_equal(b.data + prefix, want, strlen(want));
            free(want);
            free(raw);
            buf_free(&b);
        }
    }
}

typedef struct ctx {
    depth_config cfg;
    depth_request rq;
    depth_map map;
} ctx;

/* A copy of the fixture's map: depth_reply_write consumes the one it gets. */
static depth_map copy_map(const depth_map *m)
{
    depth_map c = *m;
    size_t n = (size_t)m->height * (size_t)m->width * sizeof(float);
    c.data = malloc(n);
    memcpy(c.data, m->data, n);
    return c;
}

static int setup(void **state)
{
    ctx *c = calloc(1, sizeof(*c));
    assert_int_equal(depth_config_defaults(&c->cfg), 0);
    c->rq.normalize = true;
    c->rq.normalized = cJSON_CreateBool(true);
    c->rq.format = DEPTH_OUT_BOTH;
    c->rq.colormap = depthpost_colormap_find("magma");
    c->map.height = 5;
    c->map.width = 7;
    c->map.data = malloc(35 * sizeof(float));
    for (int i = 0; i < 35; i++)
        c->map.data[i] = (float)((i * 37) % 35) / 34.0f;
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    ctx *c = *state;
    depth_request_free(&c->rq);
    depth_map_free(&c->map);
    depth_config_free(&c->cfg);
    free(c);
    return 0;
}

/* The base64 field `name` of body j decoded, compared with `want`. */
static void expect_field(const cJSON *j, const char *name, const buf *want)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, name);
    assert_true(cJSON_IsString(f));
    size_t len = strlen(f->valuestring);
    uint8_t *raw = malloc(base64_decoded_max(len) + 1);
    long n = base64_decode(f->valuestring, len, raw, NULL);
    assert_int_equal(n, (long)want->len);
    assert_memory_equal(raw, want->data, want->len);
    free(raw);
}

static void test_both(void **state)
{
    ctx *c = *state;
    buf body = {0};
    hdm_err err = {0};
    depth_map m = copy_map(&c->map);
    assert_int_equal(depth_reply_write(&c->cfg, &c->rq, &m, 12.345, &body, &err), 0);
    assert_null(m.data); /* consumed */
    assert_true(body.len <= depth_reply_bound(&c->cfg, &c->rq, 5, 7));
    /* json.dumps' separators and the original's order. */
    const char *head = "{\"model\": \"scdepthv3\", \"model_type\": \"monocular\", "
                       "\"input_shape\": [5, 7, 3], \"depth_shape\": [5, 7], "
                       "\"inference_time_ms\": 12.35, \"normalized\": true, \"stats\": {\"min\": ";
    assert_memory_equal(body.data, head, strlen(head));
    cJSON *j = cJSON_ParseWithLength((const char *)body.data, body.len);
    assert_non_null(j);
    static const char *const order[] = {"model",       "model_type",        "input_shape",
                                        "depth_shape", "inference_time_ms", "normalized",
                                        "stats",       "depth_map",         "depth_image"};
    const cJSON *it = j->child;
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++, it = it->next) {
        assert_non_null(it);
        assert_string_equal(it->string, order[i]);
    }
    assert_null(it);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "stats");
    depthpost_stats want_st;
    assert_int_equal(depthpost_stats_compute(c->map.data, 35, &want_st, &err), 0);
    assert_true(cJSON_GetObjectItemCaseSensitive(st, "p95")->valuedouble == want_st.p95);
    assert_true(cJSON_GetObjectItemCaseSensitive(st, "mean")->valuedouble == want_st.mean);
    buf want = {0};
    assert_int_equal(depthpost_npz(c->map.data, 5, 7, c->cfg.npz_level, &want, &err), 0);
    expect_field(j, "depth_map", &want);
    want.len = 0;
    assert_int_equal(
        depthpost_png_color(c->map.data, 5, 7, c->rq.colormap, c->cfg.png_level, &want, &err), 0);
    expect_field(j, "depth_image", &want);
    buf_free(&want);
    cJSON_Delete(j);
    buf_free(&body);
}

static void test_formats(void **state)
{
    ctx *c = *state;
    hdm_err err = {0};
    static const struct {
        depth_format f;
        const char *present, *absent;
    } cases[] = {
        {DEPTH_OUT_NUMPY, "depth_map", "depth_image"},
        {DEPTH_OUT_IMAGE, "depth_image", "depth_map"},
        {DEPTH_OUT_PNG16, "depth_png_16", "depth_map"},
        {DEPTH_OUT_NONE, "stats", "depth_png_16"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf body = {0};
        c->rq.format = cases[i].f;
        depth_map m = copy_map(&c->map);
        assert_int_equal(depth_reply_write(&c->cfg, &c->rq, &m, 1, &body, &err), 0);
        assert_true(body.len <= depth_reply_bound(&c->cfg, &c->rq, 5, 7));
        cJSON *j = cJSON_ParseWithLength((const char *)body.data, body.len);
        assert_non_null(j);
        assert_non_null(cJSON_GetObjectItemCaseSensitive(j, cases[i].present));
        assert_null(cJSON_GetObjectItemCaseSensitive(j, cases[i].absent));
        if (cases[i].f == DEPTH_OUT_PNG16) {
            buf want = {0};
            assert_int_equal(depthpost_png16(c->map.data, 5, 7, c->cfg.png_level, &want, &err), 0);
            expect_field(j, "depth_png_16", &want);
            buf_free(&want);
        }
        cJSON_Delete(j);
        buf_free(&body);
    }
    /* No stats without include_stats; the echo of any JSON value. */
    c->cfg.include_stats = false;
    cJSON_Delete(c->rq.normalized);
    c->rq.normalized = cJSON_Parse("{\"a\": [1, 2.5]}");
    buf body = {0};
    depth_map m = copy_map(&c->map);
    assert_int_equal(depth_reply_write(&c->cfg, &c->rq, &m, 0.004, &body, &err), 0);
    const char *want = "{\"model\": \"scdepthv3\", \"model_type\": \"monocular\", "
                       "\"input_shape\": [5, 7, 3], \"depth_shape\": [5, 7], "
                       "\"inference_time_ms\": 0.0, \"normalized\": {\"a\": [1, 2.5]}}";
    assert_int_equal(body.len, strlen(want));
    assert_memory_equal(body.data, want, body.len);
    buf_free(&body);
}

static void test_nan_map(void **state)
{
    ctx *c = *state;
    hdm_err err = {0};
    buf body = {0};
    c->map.data[3] = 0.0f / 0.0f;
    depth_map m = copy_map(&c->map);
    assert_int_equal(depth_reply_write(&c->cfg, &c->rq, &m, 1, &body, &err), -HDM_E_DEVICE_ERROR);
    assert_int_equal(body.len, 0);
    assert_null(m.data); /* consumed on failure too */
    buf_free(&body);
}

/* The bound holds for the worst case: incompressible maps, every size. */
static void test_bound_worst_case(void **state)
{
    ctx *c = *state;
    hdm_err err = {0};
    uint32_t rng = 7;
    depth_format fmts[] = {DEPTH_OUT_BOTH, DEPTH_OUT_PNG16};
    for (int h = 1; h <= 40; h += 13)
        for (int w = 1; w <= 300; w += 37)
            for (size_t k = 0; k < 2; k++) {
                float *m = malloc((size_t)w * h * sizeof(float));
                for (int i = 0; i < w * h; i++) {
                    rng = rng * 1664525u + 1013904223u;
                    m[i] = (float)(rng >> 8) / 16777216.0f;
                }
                depth_map dm = {.data = m, .height = h, .width = w};
                c->rq.format = fmts[k];
                c->cfg.npz_level = k ? 9 : 0;
                buf body = {0};
                assert_int_equal(depth_reply_write(&c->cfg, &c->rq, &dm, 1, &body, &err), 0);
                assert_true(body.len <= depth_reply_bound(&c->cfg, &c->rq, h, w));
                buf_free(&body);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_in_place),
        cmocka_unit_test_setup_teardown(test_both, setup, teardown),
        cmocka_unit_test_setup_teardown(test_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nan_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bound_worst_case, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
