/*
 * test_sim_depth.c - the sim's scdepthv3 through the depth library:
 * logits that depthpost turns into plausible metres (1 .. 13.3 m), nearer
 * where the image is bright and low, smooth, the same for HWC and CHW.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "depthpost/depthpost.h"
#include "sim_test_util.h"

static int setup(void **state)
{
    simt *t = calloc(1, sizeof(*t));
    simt_setup(t, "{\"latency_scale\": 0}");
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    simt_teardown(*state);
    free(*state);
    return 0;
}

/* 320x256: dark left half, bright right half. */
static hdm_tensor halves(void)
{
    hdm_tensor t = {.dtype = HDM_DT_UINT8, .ndim = 3, .shape = {256, 320, 3},
                    .nbytes = 256 * 320 * 3};
    uint8_t *px = malloc(t.nbytes);
    for (int y = 0; y < 256; y++)
        for (int x = 0; x < 320; x++)
            memset(px + ((size_t)y * 320 + (size_t)x) * 3, x < 160 ? 10 : 240, 3);
    t.data = px;
    return t;
}

static float *metres(simt *t, backend_model *m, const hdm_tensor *img)
{
    infer_input in = {.kind = MODEL_DEPTH};
    infer_output out = {0};
    hdm_err err = {0};
    in.u.dense.input = *img;
    assert_int_equal(backend_sim_ops.infer(t->b, m, &in, NULL, &out, &err), 0);
    float *map;
    int h, w;
    if (depthpost_extract(&out.tensors[0], &map, &h, &w, &err) < 0)
        fail_msg("%s", err.msg);
    assert_int_equal(h, 256);
    assert_int_equal(w, 320);
    infer_output_clear(&out);
    depthpost_transform(map, (size_t)h * w);
    return map;
}

static void test_depth_from_image(void **state)
{
    simt *t = *state;
    char *path = simt_model(t, "scdepthv3.hef", NULL);
    backend_model *m = simt_load(t, MODEL_DEPTH, path, NULL);
    hdm_tensor img = halves();
    float *d = metres(t, m, &img);
    for (size_t i = 0; i < 256 * 320; i++)
        assert_true(d[i] > 0.99f && d[i] < 13.3f);
    /* Bright is nearer than dark at the same height; low nearer than high. */
    assert_true(d[128 * 320 + 300] < d[128 * 320 + 20] - 3.0f);
    assert_true(d[250 * 320 + 20] < d[5 * 320 + 20] - 7.0f);
    /* Smooth: neighbours differ by little, even across the edge. */
    for (int x = 1; x < 320; x++)
        assert_true(fabsf(d[100 * 320 + x] - d[100 * 320 + x - 1]) < 0.5f);

    /* The same image as CHW: the same map. */
    hdm_tensor chw = {.dtype = HDM_DT_UINT8, .ndim = 4, .shape = {1, 3, 256, 320},
                      .nbytes = img.nbytes, .data = malloc(img.nbytes)};
    for (size_t i = 0; i < 256 * 320; i++)
        for (int c = 0; c < 3; c++)
            ((uint8_t *)chw.data)[(size_t)c * 256 * 320 + i] = ((uint8_t *)img.data)[i * 3 + c];
    float *d2 = metres(t, m, &chw);
    assert_memory_equal(d, d2, 256 * 320 * sizeof(float));

    /* Through the original's post-processing: stats of the raw logits work. */
    infer_input in = {.kind = MODEL_DEPTH};
    infer_output out = {0};
    in.u.dense.input = img;
    assert_int_equal(backend_sim_ops.infer(t->b, m, &in, NULL, &out, NULL), 0);
    float *logits;
    int h, w;
    assert_int_equal(depthpost_extract(&out.tensors[0], &logits, &h, &w, NULL), 0);
    depthpost_stats st;
    assert_int_equal(depthpost_stats_compute(logits, (size_t)h * w, &st, NULL), 0);
    assert_true(st.min < st.mean && st.mean < st.p95 && st.p95 < -2.0);
    infer_output_clear(&out);
    free(logits);
    free(d);
    free(d2);
    free(img.data);
    free(chw.data);
    backend_sim_ops.unload(t->b, m);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_depth_from_image, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
