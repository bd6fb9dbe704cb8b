/*
 * depthpost_colormap.c - matplotlib's colormaps as the original applies
 * them: `(cmap(x)[:, :, :3] * 255).astype(np.uint8)`.
 *
 * DESIGN: matplotlib's Colormap.__call__ on a float32 array multiplies by
 * N = 256 in float32 (exact: a power of two), sends x == 1.0 to row 255,
 * anything negative to the "under" row (row 0 by default), anything above
 * to the "over" row (row 255), NaN to the "bad" colour (transparent black),
 * and truncates the rest to a row index.  The rows, already multiplied by
 * 255 and truncated, are data (depthpost_colormap_lut.inc, with how they
 * were made and their licences).
 */
#include <math.h>
#include <string.h>

#include "depthpost/depthpost.h"

#include "depthpost/depthpost_colormap_lut.inc"

struct depthpost_colormap {
    const char *name;
    const uint8_t (*rows)[3];
};

static const depthpost_colormap colormaps[] = {
    {"viridis", lut_viridis}, {"plasma", lut_plasma}, {"magma", lut_magma},
    {"turbo", lut_turbo},     {"jet", lut_jet},
};

const char *const depthpost_colormap_names[] = {"viridis", "plasma", "magma", "turbo", "jet",
                                                NULL};

const depthpost_colormap *depthpost_colormap_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(colormaps) / sizeof(colormaps[0]); i++)
        if (strcmp(colormaps[i].name, name) == 0)
            return &colormaps[i];
    return NULL;
}

void depthpost_colormap_apply(const depthpost_colormap *cm, const float *v, size_t n,
                              uint8_t *rgb)
{
    for (size_t i = 0; i < n; i++) {
        float x = v[i] * 256.0f;
        uint8_t *px = rgb + 3 * i;
        if (isnan(x)) {
            px[0] = px[1] = px[2] = 0;
            continue;
        }
        int row = x < 0.0f ? 0 : x >= 256.0f ? 255 : (int)x;
        memcpy(px, cm->rows[row], 3);
    }
}
