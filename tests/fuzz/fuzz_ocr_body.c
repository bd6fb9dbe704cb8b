/*
 * fuzz_ocr_body.c - the bodies of hailo-ocr's POST /v1/ocr/extract, up to
 * the point where the manager would be asked, then the host steps on a
 * stand-in for the detection map.  An input starting with "M" is a
 * multipart/form-data body (boundary "fuzz") read by the HTTP layer's
 * parser and ocr_request_from_form; anything else is JSON through
 * ocr_request_from_json.  Then: the languages against a fixed config (en
 * and zh, only en loaded), the image reference through ocr_source_load
 * (base64 / data: URI; file:// with no allowed directory), decoding as the
 * service does (ocr_host_decode, a smaller pixel budget), and for an image
 * that decodes: the 96x64 letterbox, a map made from its dark pixels,
 * ocr_host_boxes and ocr_host_crops of the first boxes, and CTC of a
 * recognition output made from the crop.
 * Invariants (abort()): every refusal has a sentence; a request's language
 * indexes are loaded languages; boxes lie inside the image; texts are no
 * longer than the steps.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_internal.h"
#include "ocr/ocr.h"
#include "ocrpost/crop.h"

#define DET_W 96
#define DET_H 64
#define MAX_CROPS 8

static ocr_config cfg;
static ocr_model_info info;
static ocr_workspace ws;
static path_allowlist no_dirs;

static void check(int rc, const hdm_err *err)
{
    if (rc < 0 && (err->msg[0] == '\0' || err->code <= 0))
        abort();
}

static void host_path(const uint8_t *data, size_t len)
{
    hdm_err err = {0};
    image img = {0};
    ocr_boxes boxes = {0};
    int rc = ocr_host_decode(&cfg, data, len, &img, &err);
    check(rc, &err);
    if (rc < 0)
        return;
    rc = ocr_host_letterbox(&ws, &img, DET_W, DET_H, &err);
    check(rc, &err);
    if (rc == 0) {
        /* A map the way a detector would answer: dark pixels are text. */
        static float heat[DET_W * DET_H];
        for (size_t i = 0; i < DET_W * DET_H; i++) {
            const uint8_t *p = ws.bytes + 3 * i;
            heat[i] = (float)(765 - p[0] - p[1] - p[2]) / 765.0f;
        }
        rc = ocr_host_map(&ws, heat, DET_W, DET_H, 1, img.width, img.height, &err);
        if (rc == 0)
            rc = ocr_host_boxes(&ws, img.width, img.height, &boxes, &err);
        check(rc, &err);
    }
    for (size_t i = 0; rc == 0 && i < boxes.count; i++) {
        const ocr_box *b = &boxes.items[i];
        for (int k = 0; k < 4; k++)
            if (b->quad[2 * k] < 0 || b->quad[2 * k] > img.width || b->quad[2 * k + 1] < 0 ||
                b->quad[2 * k + 1] > img.height)
                abort();
    }
    if (rc == 0 && boxes.count > 0) {
        size_t n = boxes.count < MAX_CROPS ? boxes.count : MAX_CROPS;
        static uint8_t crops[MAX_CROPS * OCR_REC_INPUT_BYTES];
        rc = ocr_host_crops(&img, boxes.items, n, crops, 0, &err);
        check(rc, &err);
        if (rc == 0) {
            /* A recognition output from the first crop's bytes. */
            static float probs[OCR_CTC_STEPS * OCR_CTC_CLASSES];
            for (size_t i = 0; i < sizeof(probs) / sizeof(probs[0]); i++)
                probs[i] = (float)crops[(i * 7919) % OCR_REC_INPUT_BYTES] / 255.0f;
            char text[OCR_TEXT_MAX + 1];
            double conf;
            rc = ocr_host_text(probs, OCR_CTC_STEPS, OCR_CTC_CLASSES, text, &conf, &err);
            check(rc, &err);
            if (rc == 0 && (strlen(text) > OCR_CTC_STEPS || conf != conf))
                abort();
        }
    }
    ocr_boxes_free(&boxes);
    image_free(&img);
}

static void request_path(const ocr_request *rq)
{
    hdm_err err = {0};
    int idx[OCR_MAX_LANGS];
    size_t n = 0;
    int rc = ocr_request_languages(&cfg, &info, rq, idx, &n, &err);
    check(rc, &err);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (idx[i] < 0 || (size_t)idx[i] >= cfg.n_langs || !info.found[idx[i]])
            abort();
    if (rq->bytes) {
        host_path(rq->bytes, rq->bytes_len);
        return;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    rc = ocr_source_load(rq->ref, rq->ref_len, &no_dirs, 1 << 20, &data, &len, &err);
    check(rc, &err);
    if (rc == 0) {
        if (len == 0)
            abort();
        host_path(data, len);
    }
    free(data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (cfg.n_langs == 0) {
        if (ocr_config_defaults(&cfg) < 0)
            abort();
        cfg.image_max_pixels = 1 << 20; /* keeps the fuzzer fast */
        info.have = true;
        info.found[0] = true; /* en loaded, zh not */
    }
    ocr_request rq;
    hdm_err err = {0};
    if (size > 0 && data[0] == 'M') {
        static const http_multipart_limits lim = {.max_parts = 8, .max_part_header_bytes = 1024};
        http_form form;
        char perr[256];
        if (http_multipart_parse(data + 1, size - 1, "multipart/form-data; boundary=fuzz", &lim,
                                 &form, perr, sizeof(perr)) < 0)
            return 0;
        int rc = ocr_request_from_form(&form, &rq, &err);
        check(rc, &err);
        if (rc == 0)
            request_path(&rq);
        http_form_free(&form);
        return 0;
    }
    cJSON *body = cJSON_ParseWithLength((const char *)data, size);
    if (body) {
        int rc = ocr_request_from_json(body, &rq, &err);
        check(rc, &err);
        if (rc == 0)
            request_path(&rq);
        cJSON_Delete(body);
    }
    return 0;
}
