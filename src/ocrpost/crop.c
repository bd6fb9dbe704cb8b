/*
 * crop.c - recognition crops (crop.h).
 */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "image/imgproc.h"
#include "ocrpost/crop.h"

/* int(np.linalg.norm(a - b)) of float32 points holding integers: numpy
 * squares and sums in float32 (one rounding of the exact sum here, which
 * is what a fused dot product gives and what any order gives while the
 * squares stay below 2^24), takes a float32 square root and truncates. */
static int side_length(const float *a, const float *b)
{
    double dx = (double)a[0] - (double)b[0], dy = (double)a[1] - (double)b[1];
    float sq = (float)(dx * dx + dy * dy);
    return (int)sqrtf(sq);
}

/*
 * An upright rectangle, the usual text line of a page: corners
 * (x0,y0) (x1,y0) (x1,y1) (x0,y1) with x0 < x1 and y0 < y1.  Its bounding
 * rectangle is x1 - x0 + 1 wide, the mask covers all of it, and the target
 * rectangle of warp_to_rectangle is int(|p0 - p1|) = x1 - x0 by y1 - y0:
 * the same four points.  getPerspectiveTransform then returns the identity
 * (to within rounding far below what could move a sample: checked in
 * rectify_upright), and warpPerspective with INTER_LINEAR at whole-pixel
 * positions copies pixels (the bilinear weights are 1, 0, 0, 0).  So the
 * rectified crop is the image's pixels [x0, x1) x [y0, y1), which lie inside
 * the image even for a box clipped to its edge, and can be used in place.
 */
static bool is_upright(const ocr_box *b, int width, int height)
{
    const int32_t *q = b->quad;
    return q[1] == q[3] && q[5] == q[7] && q[0] == q[6] && q[2] == q[4] && q[0] < q[2] &&
           q[1] < q[5] && q[2] <= width && q[5] <= height; /* DB's clip guarantees the last two */
}

/* Largest distance from the identity a transform may have for the upright
 * shortcut: coordinates are below 2^16, OpenCV samples at 1/32 pixel, so
 * even 2^16 * 32 * 3 * 1e-10 stays far below the half step that would
 * change a sample. */
#define IDENTITY_TOLERANCE 1e-10

static int rectify_upright(const ocr_box *box, bool *ok, hdm_err *err)
{
    const int32_t *q = box->quad;
    const float w = (float)(q[2] - q[0]), h = (float)(q[5] - q[1]);
    const float pts[8] = {0.0f, 0.0f, w, 0.0f, w, h, 0.0f, h};
    double m[9];
    *ok = false;
    int rc = imgproc_perspective_transform(pts, pts, m, err);
    if (rc < 0)
        return rc;
    for (int i = 0; i < 9; i++)
        if (fabs(m[i] - (i % 4 == 0 ? 1.0 : 0.0)) > IDENTITY_TOLERANCE)
            return 0;
    *ok = true;
    return 0;
}

/* The general path: crop, mask, warp (get_cropped_text_images). */
static int rectify_warp(const uint8_t *rgb, int width, int height, size_t step, const ocr_box *box,
                        uint8_t **out, int *out_w, int *out_h, hdm_err *err)
{
    uint8_t *crop = NULL, *mask = NULL, *warped = NULL;
    float poly[8];
    int32_t local[8];
    double m[9];
    int rc = 0;
    const int bx = box->x, by = box->y, bw = box->w, bh = box->h;

    /* orig[y:y+h, x:x+w], with black beyond the image instead of numpy's
     * silently narrower slice (see crop.h). */
    crop = calloc((size_t)bw * (size_t)bh, 3);
    mask = calloc((size_t)bw * (size_t)bh, 1);
    if (crop == NULL || mask == NULL) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory for a %dx%d crop", bw, bh);
        goto out;
    }
    int in_w = width - bx < bw ? width - bx : bw;
    int in_h = height - by < bh ? height - by : bh;
    for (int y = 0; y < in_h; y++)
        memcpy(crop + (size_t)y * (size_t)bw * 3, rgb + (size_t)(by + y) * step + (size_t)bx * 3,
               (size_t)in_w * 3);

    /* Black out what lies outside the quadrilateral. */
    for (int i = 0; i < 4; i++) {
        local[2 * i] = box->quad[2 * i] - bx;
        local[2 * i + 1] = box->quad[2 * i + 1] - by;
        poly[2 * i] = (float)local[2 * i];
        poly[2 * i + 1] = (float)local[2 * i + 1];
    }
    rc = imgproc_fill_poly_u8(mask, bw, bh, 0, local, 4, 255, err);
    if (rc < 0)
        goto out;
    for (size_t i = 0; i < (size_t)bw * (size_t)bh; i++)
        if (mask[i] == 0)
            crop[3 * i] = crop[3 * i + 1] = crop[3 * i + 2] = 0;

    /* warp_to_rectangle */
    int ww = side_length(&poly[0], &poly[2]), wh = side_length(&poly[0], &poly[6]);
    const float dst[8] = {0.0f, 0.0f, (float)ww, 0.0f, (float)ww, (float)wh, 0.0f, (float)wh};
    rc = imgproc_perspective_transform(poly, dst, m, err);
    if (rc < 0)
        goto out;
    if (ww < 1 || wh < 1) { /* cv2: an empty dsize means the source size */
        ww = bw;
        wh = bh;
    }
    warped = malloc((size_t)ww * (size_t)wh * 3);
    if (warped == NULL) {
        rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory for a %dx%d crop", ww, wh);
        goto out;
    }
    rc = imgproc_warp_perspective_u8(crop, bw, bh, 0, 3, m, warped, ww, wh, err);
    if (rc < 0)
        goto out;
    *out = warped;
    *out_w = ww;
    *out_h = wh;
    warped = NULL;
out:
    free(crop);
    free(mask);
    free(warped);
    return rc;
}

static int check_box(const uint8_t *rgb, int width, int height, const ocr_box *box, hdm_err *err)
{
    if (rgb == NULL || box == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "crop: missing image or box");
    if (width < 1 || height < 1 || width > IMGPROC_MAX_SIDE || height > IMGPROC_MAX_SIDE)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "crop: image size %dx%d", width, height);
    const int bx = box->x, by = box->y, bw = box->w, bh = box->h;
    if (bw < 1 || bh < 1 || bw > IMGPROC_MAX_SIDE || bh > IMGPROC_MAX_SIDE || bx < 0 || by < 0 ||
        bx > width || by > height)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "crop: box %dx%d at (%d,%d) is not in a %dx%d image", bw, bh, bx, by,
                           width, height);
    for (int i = 0; i < 4; i++)
        if (box->quad[2 * i] < bx || box->quad[2 * i] >= bx + bw || box->quad[2 * i + 1] < by ||
            box->quad[2 * i + 1] >= by + bh)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "crop: corner %d of the box is outside its rectangle", i);
    return 0;
}

int ocr_crop_rectify(const uint8_t *rgb, int width, int height, size_t stride, const ocr_box *box,
                     uint8_t **out, int *out_w, int *out_h, hdm_err *err)
{
    bool upright = false;
    if (out == NULL || out_w == NULL || out_h == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "crop: no output");
    int rc = check_box(rgb, width, height, box, err);
    if (rc < 0)
        return rc;
    const size_t step = stride ? stride : (size_t)width * 3;
    if (is_upright(box, width, height) && (rc = rectify_upright(box, &upright, err)) < 0)
        return rc;
    if (!upright)
        return rectify_warp(rgb, width, height, step, box, out, out_w, out_h, err);
    const int32_t *q = box->quad;
    const int w = q[2] - q[0], h = q[5] - q[1];
    uint8_t *copy = malloc((size_t)w * (size_t)h * 3);
    if (copy == NULL)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory for a %dx%d crop", w, h);
    for (int y = 0; y < h; y++)
        memcpy(copy + (size_t)y * (size_t)w * 3, rgb + (size_t)(q[1] + y) * step + (size_t)q[0] * 3,
               (size_t)w * 3);
    *out = copy;
    *out_w = w;
    *out_h = h;
    return 0;
}

/* resize_with_padding's geometry for a crop, a 0-pixel side kept at 1. */
static int rec_geometry(int crop_w, int crop_h, imgproc_letterbox *g, hdm_err *err)
{
    int rc = imgproc_letterbox_geometry(crop_w, crop_h, OCR_REC_WIDTH, OCR_REC_HEIGHT, g, err);
    if (rc < 0)
        return rc;
    /* The original raises here (a 500 for the whole request); keep a side
     * of one pixel, centred as (target - new) // 2 would centre it. */
    if (g->new_w < 1) {
        g->new_w = 1;
        g->x_off = (OCR_REC_WIDTH - 1) / 2;
    }
    if (g->new_h < 1) {
        g->new_h = 1;
        g->y_off = (OCR_REC_HEIGHT - 1) / 2;
    }
    return 0;
}

int ocr_crop_letterbox(const uint8_t *crop, int crop_w, int crop_h, uint8_t *out, hdm_err *err)
{
    imgproc_letterbox g;
    int rc = rec_geometry(crop_w, crop_h, &g, err);
    if (rc < 0)
        return rc;
    return imgproc_letterbox_u8(crop, crop_w, crop_h, 0, 3, &g, OCR_REC_PAD, out, OCR_REC_WIDTH,
                                OCR_REC_HEIGHT, err);
}

int ocr_crop_rec_input(const uint8_t *rgb, int width, int height, size_t stride, const ocr_box *box,
                       uint8_t *out, hdm_err *err)
{
    uint8_t *crop = NULL;
    int cw = 0, ch = 0;
    bool upright = false;
    if (out == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "crop: no output");
    int rc = check_box(rgb, width, height, box, err);
    if (rc == 0 && is_upright(box, width, height))
        rc = rectify_upright(box, &upright, err);
    if (rc < 0)
        return rc;
    if (upright) { /* straight from the image, no copy */
        const int32_t *q = box->quad;
        const size_t step = stride ? stride : (size_t)width * 3;
        imgproc_letterbox g;
        cw = q[2] - q[0];
        ch = q[5] - q[1];
        rc = rec_geometry(cw, ch, &g, err);
        if (rc == 0)
            rc = imgproc_letterbox_u8(rgb + (size_t)q[1] * step + (size_t)q[0] * 3, cw, ch, step, 3,
                                      &g, OCR_REC_PAD, out, OCR_REC_WIDTH, OCR_REC_HEIGHT, err);
        return rc;
    }
    rc = ocr_crop_rectify(rgb, width, height, stride, box, &crop, &cw, &ch, err);
    if (rc == 0)
        rc = ocr_crop_letterbox(crop, cw, ch, out, err);
    free(crop);
    return rc;
}
