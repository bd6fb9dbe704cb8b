/*
 * sim-depth.c - the simulator's scdepthv3: a depth map from the image, in
 * the real model's shape (1, H, W, 1) float32 and value domain.
 *
 * DESIGN: scdepthv3's output is a logit x with depth = 1 / (sigmoid(x) * 10
 * + 0.009) metres (hailo-apps' depth_estimation.cpp), so real outputs are
 * negative numbers around -2 .. -6.  The simulated scene is smoothed
 * luminance: bright and low in the frame is near, dark and high is far
 * (1 .. 13 m, plus a small per-model offset), turned into the logit the
 * real network would have produced for that depth.  A box blur (summed-area
 * table) keeps it smooth like a real depth map; the cost is a few passes
 * over the model-size image.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend-sim.h"
#include "common/tensor.h"

#define BLUR_RADIUS 4
#define NEAR_M 1.0
#define FAR_SPAN_M 8.0  /* from the bottom of the frame to the top */
#define DARK_SPAN_M 4.0 /* from white to black */

/* Luminance of pixel (y, x) of a uint8 RGB image in HWC or CHW order. */
static inline unsigned lum_at(const uint8_t *px, int h, int w, bool chw, int y, int x)
{
    size_t plane = (size_t)h * (size_t)w, at = (size_t)y * (size_t)w + (size_t)x;
    unsigned r, g, b;
    if (chw) {
        r = px[at], g = px[plane + at], b = px[2 * plane + at];
    } else {
        r = px[3 * at], g = px[3 * at + 1], b = px[3 * at + 2];
    }
    return (77 * r + 150 * g + 29 * b) >> 8;
}

/* Accepts the model's h x w RGB input as HWC or CHW, with or without a
 * leading 1 (what the manager's dense path allows). */
static int accept_image(const hdm_tensor *t, int h, int w, bool *chw, hdm_err *err)
{
    char got[128];
    const int64_t *s = t->shape;
    int off = (t->ndim == 4 && s[0] == 1) ? 1 : 0;
    if (t->dtype == HDM_DT_UINT8 && t->ndim - off == 3 && t->data != NULL) {
        if (s[off] == h && s[off + 1] == w && s[off + 2] == 3) {
            *chw = false;
            return 0;
        }
        if (s[off] == 3 && s[off + 1] == h && s[off + 2] == w) {
            *chw = true;
            return 0;
        }
    }
    sim_tensor_desc(t, got, sizeof(got));
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       "input_data.input: expected uint8 [%d,%d,3] (HWC), [3,%d,%d] (CHW) or "
                       "either with a leading 1, got %s",
                       h, w, h, w, got);
}

/* The logit scdepthv3 gives for `metres`: the inverse of 1 / (s * 10 + 0.009). */
static float depth_logit(double metres)
{
    double s = (1.0 / metres - 0.009) / 10.0;
    return (float)log(s / (1.0 - s));
}

int sim_infer_depth(const backend *b, backend_model *m, const infer_input *in,
                    const infer_hooks *hooks, infer_output *out, hdm_err *err)
{
    const int h = m->in_h, w = m->in_w;
    bool chw = false;
    int rc = accept_image(&in->u.dense.input, h, w, &chw, err);
    if (rc < 0)
        return rc;
    rc = sim_npu_run(b, m, 0, m->infer_ms, hooks, err);
    if (rc < 0)
        return rc;

    /* Summed-area table of luminance, (h+1) x (w+1). */
    const size_t sw = (size_t)w + 1;
    uint64_t *sat = calloc(((size_t)h + 1) * sw, sizeof(uint64_t));
    float *map = malloc((size_t)h * (size_t)w * sizeof(float));
    if (sat == NULL || map == NULL) {
        free(sat);
        free(map);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for a %dx%d depth map", w, h);
    }
    const uint8_t *px = in->u.dense.input.data;
    for (int y = 0; y < h; y++) {
        uint64_t row = 0;
        for (int x = 0; x < w; x++) {
            row += lum_at(px, h, w, chw, y, x);
            sat[(size_t)(y + 1) * sw + (size_t)x + 1] = sat[(size_t)y * sw + (size_t)x + 1] + row;
        }
    }
    const double offset = (double)(m->seed % 256) / 1024.0; /* 0 .. 0.25 m per model */
    for (int y = 0; y < h; y++) {
        int y0 = y - BLUR_RADIUS < 0 ? 0 : y - BLUR_RADIUS;
        int y1 = y + BLUR_RADIUS + 1 > h ? h : y + BLUR_RADIUS + 1;
        double up = h > 1 ? 1.0 - (double)y / (double)(h - 1) : 0.5;
        for (int x = 0; x < w; x++) {
            int x0 = x - BLUR_RADIUS < 0 ? 0 : x - BLUR_RADIUS;
            int x1 = x + BLUR_RADIUS + 1 > w ? w : x + BLUR_RADIUS + 1;
            uint64_t sum = sat[(size_t)y1 * sw + (size_t)x1] - sat[(size_t)y0 * sw + (size_t)x1] -
                           sat[(size_t)y1 * sw + (size_t)x0] + sat[(size_t)y0 * sw + (size_t)x0];
            double lum = (double)sum / ((double)(y1 - y0) * (double)(x1 - x0) * 255.0);
            double metres = NEAR_M + offset + FAR_SPAN_M * up + DARK_SPAN_M * (1.0 - lum);
            map[(size_t)y * (size_t)w + (size_t)x] = depth_logit(metres);
        }
    }
    free(sat);

    hdm_tensor t = {.dtype = HDM_DT_FLOAT32,
                    .ndim = 4,
                    .shape = {1, h, w, 1},
                    .data = map,
                    .nbytes = (size_t)h * (size_t)w * sizeof(float)};
    out->result = infer_output_add_tensor(out, &t); /* owns map from here, even on failure */
    if (out->result == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory building the result");
    return 0;
}
