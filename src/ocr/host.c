/*
 * host.c - the CPU side of one request (ocr.h, "host steps"): everything
 * pipeline.c does around its two kinds of manager call, on src/ocrpost
 * and src/image, so bench/bench-ocr-service times exactly the service's
 * code.
 *
 * DESIGN.  The maths is the library's and gives the original's numbers;
 * what is decided here is where it runs and in which memory: the big
 * buffers are a kept workspace (no fresh pages per request), OpenCV's
 * resizes use its worker threads (imgproc_set_threads at start-up), and
 * the crops of a run of boxes are cut on those same threads
 * (imgproc_parallel_for), each with ocr_crop_rec_input, so the bytes do not
 * depend on how many threads ran.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "image/imgproc.h"
#include "ocr/ocr.h"
#include "ocrpost/crop.h"
#include "ocrpost/ctc.h"
#include "ocrpost/det.h"
#include "ocrpost/order.h"

int ocr_host_decode(const ocr_config *cfg, const uint8_t *data, size_t len, image *img,
                    hdm_err *err)
{
    image_decode_opts o;
    image_decode_opts_defaults(&o);
    o.limits.max_pixels = (uint64_t)cfg->image_max_pixels;
    o.limits.max_cpu_ms = cfg->image_max_decode_ms;
    o.limits.max_bytes = (size_t)cfg->max_body_bytes;
    o.exif_orientation = true; /* as cv2.imdecode(..., IMREAD_COLOR) */
    int r = image_decode_with(data, len, &o, img, err);
    if (r >= 0)
        return r;
    if (r == -HDM_E_BUSY) {
        return hdm_err_set(err, HDM_E_BUSY, OCR_BUSY_FMT, cfg->image_max_concurrent,
                           cfg->image_max_wait_ms);
    }
    if (r == -HDM_E_NOMEM)
        return r;
    if (err && strstr(err->msg, "pixels, above the limit")) {
        char why[HDM_ERR_MSG_MAX];
        snprintf(why, sizeof(why), "%s", err->msg);
        hdm_err_set(err, HDM_E_TOO_LARGE, "%.400s (images.max_pixels)", why);
    }
    /* The image's own problems are the client's (400); limits keep 413. */
    if (r != -HDM_E_TOO_LARGE) {
        if (err)
            err->code = HDM_E_BAD_REQUEST;
        r = -HDM_E_BAD_REQUEST;
    }
    if (err && strncmp(err->msg, "image", 5) != 0)
        hdm_err_prefix(err, "image");
    hdm_err_prefix(err, "Failed to load image");
    return r;
}

int ocr_host_letterbox(ocr_workspace *ws, const image *img, int det_w, int det_h, hdm_err *err)
{
    int r = ocr_workspace_reserve((void **)&ws->bytes, &ws->bytes_cap,
                                  (size_t)det_w * (size_t)det_h, 3, "detection input", err);
    if (r < 0)
        return r;
    return ocr_det_prepare(img->rgb, img->width, img->height, 0, det_w, det_h, ws->bytes, NULL,
                           err);
}

int ocr_host_map(ocr_workspace *ws, const float *heat, int det_w, int det_h, int channels,
                 int width, int height, hdm_err *err)
{
    memset(&ws->det, 0, sizeof(ws->det));
    if (width < 1 || height < 1 || width > IMGPROC_MAX_SIDE || height > IMGPROC_MAX_SIDE)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "detection: image size %dx%d", width, height);
    if (channels < 1 || channels > 64)
        return hdm_err_set(err, HDM_E_INTERNAL, "detection map: %d channels", channels);
    ocr_det_map m;
    size_t plane = channels > 1 ? ocr_det_map_plane_floats(det_w, det_h, width, height) : 0;
    if (channels > 1 && plane == 0) /* the sentence of a too-thin image */
        return ocr_det_map_init(&m, heat, det_w, det_h, channels, width, height, NULL, err);
    /* A band of the image-size map, after the plane when there is one. */
    size_t band = OCR_DB_BAND_BYTES(width) / sizeof(float);
    int r = ocr_workspace_reserve((void **)&ws->map, &ws->map_cap, plane + band, sizeof(float),
                                  "probability map band", err);
    if (r == 0)
        r = ocr_det_map_init(&m, heat, det_w, det_h, channels, width, height, ws->map, err);
    if (r == 0)
        ws->det = m;
    return r;
}

int ocr_host_boxes(ocr_workspace *ws, int width, int height, ocr_boxes *boxes, hdm_err *err)
{
    ocr_db_params p;
    ocr_db_params_default(&p); /* the original's fixed values */
    boxes->items = NULL;
    boxes->count = 0;
    const ocr_det_map *m = &ws->det;
    if (width < 1 || height < 1 || !m->src || !ws->map || m->width != width ||
        m->height != height)
        return hdm_err_set(err, HDM_E_INTERNAL, "detection: no %dx%d map to read", width, height);
    /* The band follows the plane when channel 0 was copied into ws->map. */
    float *band = ws->map;
    if (m->src == ws->map)
        band += (size_t)m->src_w * (size_t)m->src_h;
    /* The detection input in this buffer is no longer needed. */
    int r = ocr_workspace_reserve((void **)&ws->bytes, &ws->bytes_cap,
                                  OCR_DB_BITMAP_BYTES(width, height), 1, "text bitmap", err);
    if (r == 0)
        r = ocr_db_boxes_rows(ocr_det_map_rows, &ws->det, width, height, &p, ws->bytes, band,
                              boxes, err);
    if (r == 0)
        ocr_order_reading(boxes->items, boxes->count);
    memset(&ws->det, 0, sizeof(ws->det)); /* heat may go now */
    return r;
}

size_t ocr_host_fill_count(size_t batch_size)
{
    if (batch_size == 0 || batch_size >= OCR_FILL_CROPS)
        return batch_size;
    return batch_size * ((OCR_FILL_CROPS + batch_size - 1) / batch_size);
}

typedef struct crop_job {
    const image *img;
    const ocr_box *boxes; /* the first box of the run */
    uint8_t *out;         /* its recognition input; the next ones follow */
    int rc[OCR_FILL_CROPS + OCR_MAX_BATCH];
} crop_job;

static void crop_range(void *user, size_t begin, size_t end)
{
    crop_job *j = user;
    for (size_t i = begin; i < end; i++)
        j->rc[i] = ocr_crop_rec_input(j->img->rgb, j->img->width, j->img->height, 0, &j->boxes[i],
                                      j->out + i * OCR_REC_INPUT_BYTES, NULL);
}

int ocr_host_crops(const image *img, const ocr_box *boxes, size_t n, uint8_t *out,
                   size_t first_index, hdm_err *err)
{
    crop_job j = {.img = img, .boxes = boxes, .out = out};
    if (n > OCR_FILL_CROPS + OCR_MAX_BATCH)
        return hdm_err_set(err, HDM_E_INTERNAL, "%zu crops at once is too many", n);
    if (imgproc_parallel_for(n, crop_range, &j, NULL) < 0)
        crop_range(&j, 0, n); /* OpenCV could not run it: every crop again, here */
    for (size_t i = 0; i < n; i++)
        if (j.rc[i] < 0) {
            /* Again on this thread for the sentence. */
            ocr_crop_rec_input(img->rgb, img->width, img->height, 0, &boxes[i],
                               out + i * OCR_REC_INPUT_BYTES, err);
            hdm_err_prefix(err, "text region %zu", first_index + i);
            if (err)
                err->code = HDM_E_INTERNAL;
            return -HDM_E_INTERNAL;
        }
    return 0;
}

int ocr_host_text(const float *probs, size_t steps, size_t classes, char *text, double *conf,
                  hdm_err *err)
{
    if (steps < 1 || steps > OCR_TEXT_MAX)
        return hdm_err_set(err, HDM_E_INTERNAL, "recognition output of %zu steps (at most %d)",
                           steps, OCR_TEXT_MAX);
    int r = ocr_ctc_decode(probs, steps, classes, text, OCR_TEXT_MAX + 1, conf, err);
    if (r < 0) {
        /* e.g. more classes than the 97-entry character list */
        if (err)
            err->code = HDM_E_INTERNAL;
        return -HDM_E_INTERNAL;
    }
    if (isnan(*conf))
        *conf = 0.0; /* NaN outputs: not every JSON client reads NaN */
    return 0;
}
