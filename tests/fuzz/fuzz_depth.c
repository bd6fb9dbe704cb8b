/*
 * fuzz_depth.c - hailo-depth's post-processing on arbitrary model outputs:
 * depthpost_extract over any tensor shape, then transform, normalise,
 * statistics, .npz, colormapped PNG, 16-bit PNG, and a JPEG of the colours
 * (image_encode).
 *
 * Input: a 6-byte header, then the bytes the float32 values are cycled
 * from (raw bits: NaN, inf, denormals).
 *   [0] rank 1..4 (1 + b % 4)  [1..3] dimension sizes 0..47 (b % 48; with
 *   the rank's last sizes set to 1 or 3 by bits of [4])
 *   [4] bit 0 normalise, bit 1 transform, bits 2..3 colormap, bits 4..7
 *       zlib level (% 10)
 *   [5] JPEG quality 1 + b % 100
 * Seeds: tests/fuzz/corpus/fuzz_depth.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "depthpost/depthpost.h"
#include "image/image_encode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 6)
        return 0;
    hdm_tensor t = {.dtype = HDM_DT_FLOAT32, .ndim = 1 + data[0] % 4};
    size_t n = 1;
    for (int i = 0; i < t.ndim; i++) {
        t.shape[i] = i < 3 ? data[1 + i] % 48 : ((data[4] & 0x80) ? 3 : 1);
        n *= (size_t)t.shape[i];
    }
    const uint8_t *src = data + 6;
    size_t len = size - 6, pos = 0;
    float *v = malloc((n ? n : 1) * sizeof(float));
    for (size_t k = 0; k < n; k++) {
        uint8_t b[4] = {0, 0, 0, 0};
        for (int j = 0; j < 4 && len > 0; j++, pos = (pos + 1) % len)
            b[j] = src[pos];
        memcpy(&v[k], b, sizeof(float));
    }
    t.data = v;
    t.nbytes = n * sizeof(float);

    hdm_err err = {0};
    float *map = NULL;
    int h = 0, w = 0;
    if (depthpost_extract(&t, &map, &h, &w, &err) == 0) {
        size_t count = (size_t)h * (size_t)w;
        if (data[4] & 2)
            depthpost_transform(map, count);
        if (data[4] & 1)
            depthpost_normalize(map, count);
        depthpost_stats st;
        if (depthpost_stats_compute(map, count, &st, &err) == 0 && !(st.min <= st.max))
            abort();
        int level = (data[4] >> 4) % 10;
        const depthpost_colormap *cm =
            depthpost_colormap_find(depthpost_colormap_names[(data[4] >> 2) & 3]);
        buf out = {0};
        if (depthpost_npz(map, h, w, level, &out, &err) < 0 ||
            depthpost_png_color(map, h, w, cm, level, &out, &err) < 0 ||
            depthpost_png16(map, h, w, level, &out, &err) < 0)
            abort(); /* valid maps always encode */
        buf_free(&out);
        image img = {.width = w, .height = h, .rgb = malloc(count * 3)};
        depthpost_colormap_apply(cm, map, count, img.rgb);
        if (image_encode_jpeg(&img, 1 + data[5] % 100, &out, &err) < 0)
            abort();
        image_free(&img);
        buf_free(&out);
        free(map);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    free(v);
    return 0;
}
