/*
 * pose_render.c - draws people onto an RGB image for render=true: boxes,
 * skeleton lines and keypoint dots.
 *
 * DESIGN: plain rasterisation, no anti-aliasing: a thick line is drawn as
 * one span per step along its major axis (span length = thickness scaled by
 * the slope, so diagonal lines are as thick as straight ones), dots are
 * filled discs drawn row by row, boxes four filled bands.  Work is
 * proportional to the pixels painted.  Every write is clipped to the image,
 * so the function is safe with any coordinates.
 */
#include <math.h>
#include <stdlib.h>

#include "posepost/posepost.h"

typedef struct rgb {
    uint8_t r, g, b;
} rgb;

static const rgb BOX_COLOUR = {40, 220, 90};
static const rgb DOT_COLOUR = {255, 60, 60};
/* Skeleton pairs by body part, in posepost_skeleton's order: legs, hips and
 * torso, arms, head. */
static const rgb LIMB_COLOURS[POSEPOST_SKELETON_PAIRS] = {
    {255, 150, 30}, {255, 150, 30}, {255, 150, 30}, {255, 150, 30}, {255, 220, 40},
    {255, 220, 40}, {255, 220, 40}, {255, 220, 40}, {60, 200, 255}, {60, 200, 255},
    {60, 200, 255}, {60, 200, 255}, {230, 80, 255}, {230, 80, 255}, {230, 80, 255},
    {230, 80, 255}, {230, 80, 255}, {230, 80, 255}, {230, 80, 255},
};

/* Paints the pixels x0..x1 (inclusive) of row y, clipped. */
static void hspan(image *img, long y, long x0, long x1, rgb c)
{
    if (y < 0 || y >= img->height)
        return;
    if (x0 < 0)
        x0 = 0;
    if (x1 > img->width - 1)
        x1 = img->width - 1;
    if (x0 > x1)
        return;
    uint8_t *p = img->rgb + ((size_t)y * (size_t)img->width + (size_t)x0) * 3;
    for (long x = x0; x <= x1; x++, p += 3) {
        p[0] = c.r;
        p[1] = c.g;
        p[2] = c.b;
    }
}

static void vspan(image *img, long x, long y0, long y1, rgb c)
{
    if (y0 < 0)
        y0 = 0;
    if (y1 > img->height - 1)
        y1 = img->height - 1;
    for (long y = y0; y <= y1; y++)
        hspan(img, y, x, x, c);
}

static void fill_rect(image *img, long x0, long y0, long x1, long y1, rgb c)
{
    if (y0 < 0)
        y0 = 0;
    if (y1 > img->height - 1)
        y1 = img->height - 1;
    for (long y = y0; y <= y1; y++)
        hspan(img, y, x0, x1, c);
}

static void disc(image *img, long cx, long cy, int radius, rgb c)
{
    for (long dy = -radius; dy <= radius; dy++) {
        long half = (long)sqrt((double)radius * radius - (double)(dy * dy));
        hspan(img, cy + dy, cx - half, cx + half, c);
    }
}

static void line(image *img, long x0, long y0, long x1, long y1, int thickness, rgb c)
{
    long dx = x1 - x0, dy = y1 - y0;
    long adx = labs(dx), ady = labs(dy);
    if (adx >= ady) {
        if (adx == 0) {
            disc(img, x0, y0, thickness / 2, c);
            return;
        }
        double slope = (double)dy / (double)dx;
        double half = thickness * sqrt(1.0 + slope * slope) / 2.0;
        long step = dx > 0 ? 1 : -1;
        for (long i = 0; i <= adx; i++) {
            long x = x0 + i * step;
            double y = (double)y0 + slope * (double)(x - x0);
            vspan(img, x, lround(y - half + 0.5), lround(y + half - 0.5), c);
        }
    } else {
        double slope = (double)dx / (double)dy;
        double half = thickness * sqrt(1.0 + slope * slope) / 2.0;
        long step = dy > 0 ? 1 : -1;
        for (long i = 0; i <= ady; i++) {
            long y = y0 + i * step;
            double x = (double)x0 + slope * (double)(y - y0);
            hspan(img, y, lround(x - half + 0.5), lround(x + half - 0.5), c);
        }
    }
}

/* Keeps any coordinate near the image so the arithmetic above cannot
 * overflow; what lies outside is clipped away anyway. */
static long near(long v, int size)
{
    long margin = (long)size + 64;
    return v < -margin ? -margin : v > margin ? margin : v;
}

void pose_render(image *img, const posepost_pose *poses, size_t n, double kpt_threshold)
{
    if (img == NULL || img->rgb == NULL || img->width < 1 || img->height < 1)
        return;
    int side = img->width < img->height ? img->width : img->height;
    int thick = side / 250 > 1 ? side / 250 : 1;
    int radius = thick + 1;

    for (size_t i = 0; i < n; i++) {
        const posepost_pose *p = &poses[i];
        long x0 = near(p->x, img->width), y0 = near(p->y, img->height);
        long x1 = near((long)p->x + p->width, img->width);
        long y1 = near((long)p->y + p->height, img->height);
        fill_rect(img, x0, y0, x1, y0 + thick - 1, BOX_COLOUR);
        fill_rect(img, x0, y1 - thick + 1, x1, y1, BOX_COLOUR);
        fill_rect(img, x0, y0, x0 + thick - 1, y1, BOX_COLOUR);
        fill_rect(img, x1 - thick + 1, y0, x1, y1, BOX_COLOUR);

        for (int s = 0; s < POSEPOST_SKELETON_PAIRS; s++) {
            int a = posepost_skeleton[s][0], b = posepost_skeleton[s][1];
            if (p->kpt_conf[a] >= kpt_threshold && p->kpt_conf[b] >= kpt_threshold)
                line(img, near(p->kpt_x[a], img->width), near(p->kpt_y[a], img->height),
                     near(p->kpt_x[b], img->width), near(p->kpt_y[b], img->height), thick + 1,
                     LIMB_COLOURS[s]);
        }
        for (int k = 0; k < POSEPOST_KEYPOINTS; k++)
            if (p->kpt_conf[k] >= kpt_threshold)
                disc(img, near(p->kpt_x[k], img->width), near(p->kpt_y[k], img->height), radius,
                     DOT_COLOUR);
    }
}
