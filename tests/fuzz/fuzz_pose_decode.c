/*
 * fuzz_pose_decode.c - the pose decoder on arbitrary model outputs:
 * posepost_heads_find, posepost_decode, posepost_map and pose_render.
 *
 * Input: an 8-byte header, then the bytes the nine float32 outputs are
 * filled from (cycled; raw bits, so NaN, inf and huge logits come up).
 *   [0] model side = 32 * (1 + b % 8)    [1] confidence threshold b / 255
 *   [2] IoU threshold b / 255            [3] max_detections 1 + b % 64
 *   [4..5] image width, [6..7] image height (1 + v % 640 each)
 * The low bit of [3] drops the batch dimension; bit 1 of [1] turns the
 * score bytes into probabilities (k / 255) so that people are common.
 * Seeds: tests/fuzz/corpus/fuzz_pose_decode (a crowd, NaN boxes, huge
 * logits, no data at all).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "posepost/posepost.h"

static const int strides[3] = {32, 16, 8};
static const int channels[3] = {64, 1, 51};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    const int side = 32 * (1 + data[0] % 8);
    posepost_params p = {data[1] / 255.0, data[2] / 255.0, 1 + data[3] % 64};
    const int batch = !(data[3] & 1), probs = (data[1] & 2) != 0;
    const int iw = 1 + ((data[4] << 8 | data[5]) % 640), ih = 1 + ((data[6] << 8 | data[7]) % 640);
    const uint8_t *src = data + 8;
    size_t len = size - 8, pos = 0;

    hdm_tensor t[9];
    for (int i = 0; i < 9; i++) {
        int g = side / strides[i / 3], c = channels[i % 3];
        size_t n = (size_t)g * g * c;
        float *v = malloc(n * sizeof(float));
        for (size_t k = 0; k < n; k++) {
            uint8_t b[4] = {0, 0, 0, 0};
            for (int j = 0; j < 4 && len > 0; j++, pos = (pos + 1) % len)
                b[j] = src[pos];
            if (probs && i % 3 == 1)
                v[k] = b[0] / 255.0f;
            else
                memcpy(&v[k], b, sizeof(float));
        }
        t[i] = (hdm_tensor){.dtype = HDM_DT_FLOAT32, .data = v, .nbytes = n * sizeof(float)};
        int d = 0;
        if (batch)
            t[i].shape[d++] = 1;
        t[i].shape[d++] = g;
        t[i].shape[d++] = g;
        t[i].shape[d++] = c;
        t[i].ndim = d;
    }

    hdm_err err = {0};
    posepost_heads h;
    posepost_result r = {0};
    posepost_letterbox lb;
    int rc = posepost_heads_find(t, 9, side, side, &h, &err);
    if (rc == 0)
        rc = posepost_decode(&h, &p, &r, &err);
    if (rc < 0 && err.msg[0] == '\0')
        abort(); /* every failure names its cause */
    if (rc == 0 && posepost_letterbox_init(&lb, iw, ih, side, side, &err) == 0) {
        if (r.count > (size_t)p.max_detections)
            abort();
        image img = {.width = iw, .height = ih, .rgb = calloc((size_t)iw * ih, 3)};
        posepost_pose *poses = calloc(r.count + 1, sizeof(*poses));
        for (size_t i = 0; i < r.count; i++) {
            const posepost_person *pp = &r.people[i];
            if (!((double)pp->score > p.conf_threshold) || !isfinite(pp->box[0]) ||
                !isfinite(pp->box[3]))
                abort();
            posepost_map(&lb, pp, &poses[i]);
            if (poses[i].x < 0 || poses[i].x >= iw || poses[i].width < 0 ||
                poses[i].x + poses[i].width >= iw || poses[i].y + poses[i].height >= ih)
                abort();
            for (int k = 0; k < POSEPOST_KEYPOINTS; k++)
                if (poses[i].kpt_x[k] < 0 || poses[i].kpt_x[k] >= iw || poses[i].kpt_y[k] < 0 ||
                    poses[i].kpt_y[k] >= ih)
                    abort();
        }
        pose_render(&img, poses, r.count, data[2] / 255.0);
        free(poses);
        image_free(&img);
    }
    posepost_result_free(&r);
    for (int i = 0; i < 9; i++)
        free(t[i].data);
    return 0;
}
