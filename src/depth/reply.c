/*
 * reply.c - the 200 body of POST /v1/depth/estimate, written into one
 * buffer with no copy of the map per format.
 *
 * DESIGN: the fields before the encodings are a small cJSON tree printed as
 * json.dumps prints it (pyjson), so names, spacing and float reprs are the
 * original's.  The PNG (colour or 16-bit; small: a depth map compresses
 * well) is encoded first on the side; then the .npz (depthpost) appends
 * its bytes to the body, the map is freed - the .npz holds its bytes now -
 * and those bytes are turned into base64 where they lie, in the room the
 * map gave back; last the PNG's bytes, turned into base64 the same way.
 * Base64 in place: moved to the end of the region the base64
 * will fill and encoded front to back, each group read before it is
 * written over (the write position 4k/3 never overtakes the read position
 * off + k, as off = 4*ceil(n/3) - n >= ceil(n/3)).  The largest reply thus
 * needs the map and the final body, nothing besides.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pyjson.h"
#include "depth/depth.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int depth_reply_base64_tail(buf *out, size_t start)
{
    size_t n = out->len - start;
    if (n == 0)
        return 0;
    size_t groups = (n + 2) / 3, b = 4 * groups, off = b - n;
    if (buf_reserve(out, off + 1) < 0)
        return -HDM_E_NOMEM;
    uint8_t *dst = out->data + start;
    const uint8_t *src = dst + off;
    memmove(dst + off, dst, n);
    size_t i = 0, o = 0;
    for (; i + 3 <= n; i += 3, o += 4) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
        dst[o] = (uint8_t)b64_alphabet[v >> 18];
        dst[o + 1] = (uint8_t)b64_alphabet[(v >> 12) & 63];
        dst[o + 2] = (uint8_t)b64_alphabet[(v >> 6) & 63];
        dst[o + 3] = (uint8_t)b64_alphabet[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)src[i] << 16 | (i + 1 < n ? (uint32_t)src[i + 1] << 8 : 0);
        dst[o] = (uint8_t)b64_alphabet[v >> 18];
        dst[o + 1] = (uint8_t)b64_alphabet[(v >> 12) & 63];
        dst[o + 2] = i + 1 < n ? (uint8_t)b64_alphabet[(v >> 6) & 63] : '=';
        dst[o + 3] = '=';
    }
    out->len = start + b;
    return 0;
}

/* Worst-case size of deflated data (stored blocks, PNG/zip framing) and of
 * its base64. */
static size_t worst_b64(size_t raw)
{
    size_t z = raw + raw / 256 + 4096;
    return 4 * ((z + 2) / 3);
}

/* The fields before the encodings, as json.dumps prints them, without the
 * closing brace (malloc'd; NULL when out of memory). */
static char *head_text(const depth_config *cfg, const depth_request *rq, const depth_map *m,
                       double inference_ms, const depthpost_stats *st)
{
    cJSON *o = cJSON_CreateObject(), *a, *s;
    bool ok = o && cJSON_AddStringToObject(o, "model", cfg->model_name) &&
              cJSON_AddStringToObject(o, "model_type", cfg->model_type) &&
              (a = cJSON_AddArrayToObject(o, "input_shape")) &&
              cJSON_AddItemToArray(a, cJSON_CreateNumber(m->height)) &&
              cJSON_AddItemToArray(a, cJSON_CreateNumber(m->width)) &&
              cJSON_AddItemToArray(a, cJSON_CreateNumber(3)) &&
              (a = cJSON_AddArrayToObject(o, "depth_shape")) &&
              cJSON_AddItemToArray(a, cJSON_CreateNumber(m->height)) &&
              cJSON_AddItemToArray(a, cJSON_CreateNumber(m->width)) &&
              pyjson_add_float(o, "inference_time_ms", round(inference_ms * 100.0) / 100.0) &&
              cJSON_AddItemToObject(o, "normalized", cJSON_Duplicate(rq->normalized, true));
    if (ok && st)
        ok = (s = cJSON_AddObjectToObject(o, "stats")) && pyjson_add_float(s, "min", st->min) &&
             pyjson_add_float(s, "max", st->max) && pyjson_add_float(s, "mean", st->mean) &&
             pyjson_add_float(s, "p95", st->p95);
    char *text = ok ? pyjson_print(o, PYJSON_DUMPS) : NULL;
    cJSON_Delete(o);
    if (text) {
        size_t len = strlen(text);
        if (len > 0 && text[len - 1] == '}')
            text[len - 1] = '\0';
    }
    return text;
}

size_t depth_reply_bound(const depth_config *cfg, const depth_request *rq, int height, int width)
{
    size_t n = (size_t)height * (size_t)width;
    /* Strings print as \uXXXX at worst; the echoed "normalized" as printed. */
    size_t head = 1024 + 6 * (strlen(cfg->model_name) + strlen(cfg->model_type));
    char *echo = pyjson_print(rq->normalized, PYJSON_DUMPS);
    head += echo ? strlen(echo) : 4096;
    free(echo);
    size_t outs = 0;
    if (rq->format == DEPTH_OUT_NUMPY || rq->format == DEPTH_OUT_BOTH)
        outs += 32 + worst_b64(n * sizeof(float));
    if (depth_format_has_image(rq->format))
        outs += 32 + worst_b64((size_t)height * (1 + 3 * (size_t)width));
    if (rq->format == DEPTH_OUT_PNG16)
        outs += 32 + worst_b64((size_t)height * (1 + 2 * (size_t)width));
    return head + outs;
}

/* Appends `, "name": "` and returns where the field's bytes start. */
static int field_start(buf *out, const char *name, size_t *start, hdm_err *err)
{
    if (buf_printf(out, ", \"%s\": \"", name) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory writing the reply");
    *start = out->len;
    return 0;
}

/* Turns the field's bytes from `start` into base64 and closes the string. */
static int field_end(buf *out, size_t start, hdm_err *err)
{
    if (depth_reply_base64_tail(out, start) < 0 || buf_append(out, "\"", 1) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory writing the reply");
    return 0;
}

int depth_reply_write(const depth_config *cfg, const depth_request *rq, depth_map *m,
                      double inference_ms, buf *out, hdm_err *err)
{
    size_t start = out->len, field = 0;
    depthpost_stats st;
    buf image = {0};
    const char *image_name = rq->format == DEPTH_OUT_PNG16 ? "depth_png_16" : "depth_image";
    int r = 0;
    if (cfg->include_stats)
        r = depthpost_stats_compute(m->data, (size_t)m->height * (size_t)m->width, &st, err);
    /* The PNG first, on the side (it is small), so the map can go as soon
     * as the .npz holds its bytes. */
    if (r == 0 && depth_format_has_image(rq->format))
        r = depthpost_png_color(m->data, m->height, m->width, rq->colormap, cfg->png_level, &image,
                                err);
    else if (r == 0 && rq->format == DEPTH_OUT_PNG16)
        r = depthpost_png16(m->data, m->height, m->width, cfg->png_level, &image, err);
    /* All the room at once: the buffer never moves while it fills. */
    if (r == 0 && buf_reserve(out, depth_reply_bound(cfg, rq, m->height, m->width)) < 0)
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory for the reply");
    char *head =
        r == 0 ? head_text(cfg, rq, m, inference_ms, cfg->include_stats ? &st : NULL) : NULL;
    if (r == 0 && (!head || buf_append(out, head, strlen(head)) < 0))
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory writing the reply");
    free(head);
    if (r == 0 && (rq->format == DEPTH_OUT_NUMPY || rq->format == DEPTH_OUT_BOTH) &&
        (r = field_start(out, "depth_map", &field, err)) == 0 &&
        (r = depthpost_npz(m->data, m->height, m->width, cfg->npz_level, out, err)) == 0) {
        depth_map_free(m); /* the .npz holds it now: its base64 takes the room */
        r = field_end(out, field, err);
    }
    depth_map_free(m);
    if (r == 0 && image.len > 0 && (r = field_start(out, image_name, &field, err)) == 0) {
        if (buf_append(out, image.data, image.len) < 0)
            r = hdm_err_set(err, HDM_E_NOMEM, "out of memory writing the reply");
        else
            r = field_end(out, field, err);
    }
    buf_free(&image);
    if (r == 0 && buf_append(out, "}", 1) < 0)
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory writing the reply");
    if (r < 0)
        out->len = start;
    return r;
}
