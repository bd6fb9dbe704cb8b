/*
 * det.c - detection pre- and post-processing (det.h).
 */
#include <stdint.h>
#include <stdlib.h>

#include "ocrpost/det.h"
#include "ocrpost/order.h"

int ocr_det_prepare(const uint8_t *rgb, int width, int height, size_t stride, int model_w,
                    int model_h, uint8_t *out, imgproc_letterbox *geom, hdm_err *err)
{
    imgproc_letterbox g;
    int rc = imgproc_letterbox_geometry(width, height, model_w, model_h, &g, err);
    if (rc == 0)
        rc = imgproc_letterbox_u8(rgb, width, height, stride, 3, &g, OCR_DET_PAD, out, model_w,
                                  model_h, err);
    if (rc < 0)
        return rc;
    if (geom != NULL)
        *geom = g;
    return 0;
}

int ocr_det_heatmap_to_image(const float *heat, int model_w, int model_h, int channels, int width,
                             int height, float *pred, hdm_err *err)
{
    ocr_det_map m;
    float *plane = NULL;
    if (pred == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "detection map: no data");
    if (channels > 1 && channels <= 64) {
        size_t nf = ocr_det_map_plane_floats(model_w, model_h, width, height);
        plane = malloc((nf > 0 ? nf : 1) * sizeof(float));
        if (plane == NULL)
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory for the detection map");
    }
    int rc = ocr_det_map_init(&m, heat, model_w, model_h, channels, width, height, plane, err);
    if (rc == 0)
        rc = imgproc_resize_cubic_f32(m.src, m.src_w, m.src_h, m.src_stride, pred, width, height, 0,
                                      err);
    free(plane);
    return rc;
}

size_t ocr_det_map_plane_floats(int model_w, int model_h, int width, int height)
{
    imgproc_letterbox g;
    if (imgproc_letterbox_geometry(width, height, model_w, model_h, &g, NULL) < 0 || g.new_w < 1 ||
        g.new_h < 1)
        return 0;
    return (size_t)g.new_w * (size_t)g.new_h;
}

int ocr_det_map_init(ocr_det_map *m, const float *heat, int model_w, int model_h, int channels,
                     int width, int height, float *plane, hdm_err *err)
{
    imgproc_letterbox g;
    if (heat == NULL || m == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "detection map: no data");
    if (channels < 1 || channels > 64)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "detection map: %d channels", channels);
    int rc = imgproc_letterbox_geometry(width, height, model_w, model_h, &g, err);
    if (rc < 0)
        return rc;
    if (g.new_w < 1 || g.new_h < 1)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "a %dx%d image covers %dx%d pixels of the %dx%d detection map: too thin",
                           width, height, g.new_w, g.new_h, model_w, model_h);
    m->src_w = g.new_w;
    m->src_h = g.new_h;
    m->width = width;
    m->height = height;
    if (channels == 1) {
        m->src = heat + (size_t)g.y_off * (size_t)model_w + (size_t)g.x_off;
        m->src_stride = (size_t)model_w * sizeof(float);
        return 0;
    }
    if (plane == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "detection map: no plane for %d channels",
                           channels);
    /* heat[:, :, 0] of the letterboxed part, packed. */
    for (int y = 0; y < g.new_h; y++)
        for (int x = 0; x < g.new_w; x++)
            plane[(size_t)y * (size_t)g.new_w + (size_t)x] =
                heat[(((size_t)(y + g.y_off) * (size_t)model_w) + (size_t)(x + g.x_off)) *
                     (size_t)channels];
    m->src = plane;
    m->src_stride = (size_t)g.new_w * sizeof(float);
    return 0;
}

int ocr_det_map_rows(void *map, int y0, int y1, float *dst, size_t dst_stride, hdm_err *err)
{
    const ocr_det_map *m = map;
    return imgproc_resize_cubic_f32_rows(m->src, m->src_w, m->src_h, m->src_stride, dst, m->width,
                                         m->height, dst_stride, y0, y1, err);
}

int ocr_det_boxes(const float *heat, int model_w, int model_h, int channels, int width, int height,
                  const ocr_db_params *params, ocr_boxes *out, hdm_err *err)
{
    ocr_db_params defaults;
    ocr_det_map m;
    float *plane = NULL, *band = NULL;
    uint8_t *bitmap = NULL;
    if (out == NULL)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "detection: no output");
    out->items = NULL;
    out->count = 0;
    if (width < 1 || height < 1 || width > IMGPROC_MAX_SIDE || height > IMGPROC_MAX_SIDE)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "detection: image size %dx%d is outside 1..%d",
                           width, height, IMGPROC_MAX_SIDE);
    if (params == NULL) {
        ocr_db_params_default(&defaults);
        params = &defaults;
    }
    int rc = 0;
    if (channels > 1 && channels <= 64) {
        size_t nf = ocr_det_map_plane_floats(model_w, model_h, width, height);
        plane = malloc((nf > 0 ? nf : 1) * sizeof(float));
        if (plane == NULL)
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory for the detection map");
    }
    if (rc == 0)
        rc = ocr_det_map_init(&m, heat, model_w, model_h, channels, width, height, plane, err);
    if (rc == 0) {
        bitmap = malloc(OCR_DB_BITMAP_BYTES(width, height));
        band = malloc(OCR_DB_BAND_BYTES(width));
        if (bitmap == NULL || band == NULL)
            rc = hdm_err_set(err, HDM_E_NOMEM, "out of memory for a %dx%d text mask", width,
                             height);
    }
    if (rc == 0)
        rc = ocr_db_boxes_rows(ocr_det_map_rows, &m, width, height, params, bitmap, band, out, err);
    free(plane);
    free(band);
    free(bitmap);
    if (rc == 0)
        ocr_order_reading(out->items, out->count);
    return rc;
}
