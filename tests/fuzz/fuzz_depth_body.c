/*
 * fuzz_depth_body.c - hailo-depth's request bodies, through everything
 * that runs on the host: the JSON branch (depth_request_from_json) or the
 * multipart branch (the HTTP layer's parser, then depth_request_from_form),
 * the image through depth_preprocess (decode, Pillow bilinear to 320x256),
 * then a stand-in model output (the input's luminance at 1/8 of the model's
 * size, as a float map) through the post-processing of the real pipeline -
 * the optional transform, Pillow's float bilinear to the image's size,
 * normalisation - and the 200 body (depth_reply_write: stats, .npz, PNGs,
 * base64 in place).
 *
 * Input: first byte even -> the rest is a JSON body; odd -> the rest is a
 * multipart body whose first line is the Content-Type header value.
 * Oracles: a failure always has a sentence; a success has an image; a
 * decoded JPEG or PNG has the size its header gave the probe (what the
 * budget reserved for); the reply parses as JSON, names the image's shape
 * and fits the bound the memory budget reserves for it.  image_url never reaches the network or
 * the file system here: remote fetching and file:// are off.
 *
 * The seeds (corpus/fuzz_depth_body/seed-*) are small JSON and multipart
 * bodies with PNG, JPEG and WebP images and each parameter.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "depth/depth.h"
#include "http/http_internal.h"
#include "image/image.h"

static depth_config cfg;
static svc_fetch fetch;
static bool ready;

static void init(void)
{
    if (ready)
        return;
    hdm_err err = {0};
    if (depth_config_defaults(&cfg) < 0)
        abort();
    /* Small enough to stay fast; the same code as the service's limits. */
    cfg.image_max_pixels = 1 << 20;
    cfg.image_max_decode_ms = 2000;
    cfg.max_image_mb = 4;
    cfg.allow_local_paths = false;
    const svc_fetch_opts o = {.max_bytes = 1 << 20,
                              .timeout_ms = 100,
                              .dirs_key = "input.allowed_dirs",
                              .remote_key = "input.allow_image_url"};
    if (svc_fetch_init(&fetch, &o, &err) < 0)
        abort();
    ready = true;
}

/* The stand-in model: luminance of every 8th input pixel, as logits. */
static float *model_map(const uint8_t *px, int h, int w)
{
    int mh = h / 8, mw = w / 8;
    float *m = malloc((size_t)mh * (size_t)mw * sizeof(float));
    if (!m)
        return NULL;
    for (int y = 0; y < mh; y++)
        for (int x = 0; x < mw; x++) {
            const uint8_t *p = px + ((size_t)(y * 8) * (size_t)w + (size_t)(x * 8)) * 3;
            m[y * mw + x] = -2.0f - (float)(p[0] + p[1] + p[2]) / 200.0f;
        }
    return m;
}

static void run_request(depth_request *rq)
{
    hdm_err err = {0};
    int ih = cfg.input_height, iw = cfg.input_width, w0 = 0, h0 = 0, pw = 0, ph = 0;
    uint8_t *pixels = malloc((size_t)ih * (size_t)iw * 3);
    if (!pixels)
        return;
    /* As the pipeline: the header's size, then the bytes (base64 decoded now). */
    bool probed = depth_request_probe(rq, &pw, &ph) == 0;
    int r = depth_request_load(rq, &cfg, &err);
    if (r == 0)
        r = depth_preprocess(&cfg, rq->image, rq->image_len, pixels, &w0, &h0, &err);
    /* A decoded image has the size its header declared (JPEG, PNG: the
     * decoders read exactly those fields). */
    if (r == 0 && probed && (rq->image[0] == 0xFF || rq->image[0] == 0x89) &&
        (pw != w0 || ph != h0))
        abort();
    depth_request_drop_image(rq);
    if (r < 0) {
        if (err.msg[0] == '\0')
            abort();
        free(pixels);
        return;
    }
    if (w0 < 1 || h0 < 1 || (uint64_t)w0 * (uint64_t)h0 > (uint64_t)cfg.image_max_pixels)
        abort();
    float *m = model_map(pixels, ih, iw);
    free(pixels);
    if (!m)
        return;
    int mh = ih / 8, mw = iw / 8;
    if (rq->metres)
        depthpost_transform(m, (size_t)mh * (size_t)mw);
    depth_map map = {.height = h0, .width = w0};
    map.data = malloc((size_t)w0 * (size_t)h0 * sizeof(float));
    if (map.data && image_resize_f32(m, mw, mh, w0, h0, IMAGE_FILTER_BILINEAR, map.data, &err) < 0)
        abort();
    free(m);
    if (!map.data)
        return;
    if (rq->normalize)
        depthpost_normalize(map.data, (size_t)w0 * (size_t)h0);
    buf body = {0};
    r = depth_reply_write(&cfg, rq, &map, 1.5, &body, &err);
    if (r == 0) {
        if (body.len > depth_reply_bound(&cfg, rq, h0, w0))
            abort();
        cJSON *j = cJSON_ParseWithLength((const char *)body.data, body.len);
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(j, "depth_shape");
        if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) != 2 ||
            cJSON_GetArrayItem(shape, 0)->valuedouble != h0 ||
            cJSON_GetArrayItem(shape, 1)->valuedouble != w0)
            abort();
        cJSON_Delete(j);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    buf_free(&body);
    depth_map_free(&map);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    if (size < 1)
        return 0;
    depth_request rq;
    hdm_err err = {0};
    int r;
    if ((data[0] & 1) == 0) {
        cJSON *body = cJSON_ParseWithLength((const char *)data + 1, size - 1);
        if (!body)
            return 0;
        r = depth_request_from_json(&cfg, &fetch, body, &rq, &err);
        if (r == 0)
            run_request(&rq);
        else if (err.msg[0] == '\0')
            abort();
        depth_request_free(&rq);
        cJSON_Delete(body);
        return 0;
    }
    const uint8_t *rest = data + 1, *nl = memchr(rest, '\n', size - 1);
    size_t ctlen = nl ? (size_t)(nl - rest) : size - 1;
    char *ct = malloc(ctlen + 1);
    if (!ct)
        return 0;
    memcpy(ct, rest, ctlen);
    ct[ctlen] = '\0';
    const uint8_t *b = nl ? nl + 1 : data + size;
    size_t blen = (size_t)(data + size - b);
    uint8_t *copy = malloc(blen ? blen : 1); /* exactly blen: ASan sees reads past it */
    if (!copy) {
        free(ct);
        return 0;
    }
    memcpy(copy, b, blen);
    http_multipart_limits lim = {.max_parts = 64, .max_part_header_bytes = 8192};
    http_form f;
    char msg[256];
    if (http_multipart_parse(copy, blen, ct, &lim, &f, msg, sizeof(msg)) == 0) {
        r = depth_request_from_form(&cfg, &f, &rq, &err);
        if (r == 0) {
            if (rq.image_len == 0 || rq.image < copy || rq.image + rq.image_len > copy + blen ||
                rq.b64)
                abort();
            run_request(&rq);
        } else if (err.msg[0] == '\0') {
            abort();
        }
        depth_request_free(&rq);
        http_form_free(&f);
    }
    free(copy);
    free(ct);
    return 0;
}
