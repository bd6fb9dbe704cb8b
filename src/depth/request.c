/*
 * request.c - a POST /v1/depth/estimate body to a depth_request, with the
 * original's rules (ORIGINAL-SERVICES.md §3.3):
 *
 *   JSON       "image" (a string: a data: URI cut after its first comma, or
 *              plain base64, decoded leniently as Python's b64decode - when
 *              the pipeline has the memory for it, depth_request_load); else
 *              "image_url" when input.allow_image_url; else 400 "Missing
 *              'image' or 'image_url' field".
 *   multipart  part "image" (bytes; missing or empty: 400 "Missing 'image'
 *              field"), "image_right" ignored, text parts for the
 *              parameters.  The HTTP layer already refused a part without a
 *              name and a name given twice.
 *   both       len(image) > input.max_image_mb MiB: 400 "Image exceeds 50MB
 *              limit".  normalize: a string means lower() == "true"; null or
 *              absent the config's; any other JSON value counts as Python's
 *              truth of it and is echoed as given.  colormap and
 *              output_format: `value or config`.  An unknown output_format
 *              gives the base fields and stats only.
 *
 * Where the original raised (a 500) on what is the client's mistake - a
 * non-string image, bad base64, an unknown colormap - we answer 400 naming
 * it.  The colormap is checked only when the output draws an image, as the
 * original only looked it up then.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base64.h"
#include "common/pyjson.h"
#include "depth/depth.h"

/* Python's bool() of a JSON value. */
static bool py_truth(const cJSON *v)
{
    if (v == NULL || cJSON_IsNull(v) || cJSON_IsFalse(v))
        return false;
    if (cJSON_IsTrue(v))
        return true;
    if (cJSON_IsNumber(v))
        return v->valuedouble != 0.0; /* NaN is true, as in Python */
    if (cJSON_IsString(v))
        return v->valuestring[0] != '\0';
    if (cJSON_IsArray(v) || cJSON_IsObject(v))
        return v->child != NULL;
    return true;
}

/* "Image exceeds 50MB limit": the limit as Python's f-string prints it. */
static int too_large(const depth_config *cfg, hdm_err *err)
{
    char mb[PYFLOAT_REPR_MAX];
    if (cfg->max_image_mb == (double)(long long)cfg->max_image_mb)
        snprintf(mb, sizeof(mb), "%lld", (long long)cfg->max_image_mb);
    else
        pyfloat_repr(cfg->max_image_mb, mb, sizeof(mb));
    return hdm_err_set(err, HDM_E_BAD_REQUEST, "Image exceeds %sMB limit", mb);
}

/* A data: URI cut after its first comma (Python's split(",", 1)[1]). */
static int strip_data_uri(const char *s, const char *what, const char **b64, size_t *len,
                          hdm_err *err)
{
    if (base64_py_strip_data_uri(s, strlen(s), b64, len, err) < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "Invalid %s: a data: URI must have a ',' before its data", what);
    return 0;
}

/* Lenient base64 of b64[0..len) into rq->owned. */
static int decode_b64_bytes(const char *b64, size_t len, const char *what, depth_request *rq,
                            hdm_err *err)
{
    if (buf_reserve(&rq->owned, base64_decoded_max(len) + 1) < 0)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory decoding %s", what);
    long n = base64_py_decode(b64, len, rq->owned.data, err);
    if (n < 0)
        return hdm_err_prefix(err, "Invalid base64 in %s", what);
    rq->owned.len = (size_t)n;
    rq->image = rq->owned.data;
    rq->image_len = rq->owned.len;
    return 0;
}

/* image_url: data: (base64), file:// (input.allow_local_paths and
 * input.allowed_dirs), http(s):// (public addresses, or the networks
 * allowed).  Every failure is the original's "Failed to fetch image URL:
 * ..." (400), except a body over the limit ("Image exceeds ...") and out of
 * memory. */
static int fetch_url(const depth_config *cfg, const svc_fetch *fetch, const cJSON *item,
                     depth_request *rq, hdm_err *err)
{
    int r;
    if (!cJSON_IsString(item)) {
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "image_url must be a string");
    } else if (strncasecmp(item->valuestring, "data:", 5) == 0) {
        const char *comma = strchr(item->valuestring, ',');
        if (!comma || comma - item->valuestring < 7 || strncasecmp(comma - 7, ";base64", 7) != 0)
            r = hdm_err_set(err, HDM_E_BAD_REQUEST,
                            "only base64 data: URIs are read (data:image/...;base64,...)");
        else {
            const char *b64;
            size_t len;
            r = strip_data_uri(item->valuestring, "image_url", &b64, &len, err);
            if (r == 0)
                r = decode_b64_bytes(b64, len, "image_url", rq, err);
        }
    } else if (svc_fetch_is_file_url(item->valuestring)) {
        r = cfg->allow_local_paths
                ? svc_fetch_file(fetch, item->valuestring, NULL, &rq->owned, err)
                : hdm_err_set(err, HDM_E_BAD_REQUEST,
                              "file:// URLs are disabled (input.allow_local_paths is false)");
    } else if (svc_fetch_is_remote_url(item->valuestring)) {
        r = svc_fetch_remote(fetch, item->valuestring, NULL, &rq->owned, err);
    } else {
        r = hdm_err_set(err, HDM_E_BAD_REQUEST,
                        "unsupported URL (use http://, https://, file:// or a data: URI)");
    }
    if (r == -HDM_E_TOO_LARGE)
        return too_large(cfg, err);
    if (r < 0 && r != -HDM_E_NOMEM && r != -HDM_E_INTERNAL)
        return hdm_err_prefix(err, "Failed to fetch image URL");
    if (r < 0)
        return r;
    rq->image = rq->owned.data;
    rq->image_len = rq->owned.len;
    return 0;
}

/* The parameters from `p` (a JSON object, or the form's text parts made
 * into one), the config's where absent. */
static int read_params(const depth_config *cfg, const cJSON *p, depth_request *rq, hdm_err *err)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(p, "normalize");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(p, "colormap");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(p, "output_format");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "transform");

    if (n == NULL || cJSON_IsNull(n)) {
        rq->normalize = cfg->normalize;
        rq->normalized = cJSON_CreateBool(rq->normalize);
    } else if (cJSON_IsString(n)) {
        rq->normalize = strcasecmp(n->valuestring, "true") == 0;
        rq->normalized = cJSON_CreateBool(rq->normalize);
    } else {
        rq->normalize = py_truth(n);
        rq->normalized = cJSON_Duplicate(n, true);
    }
    if (!rq->normalized)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");

    const char *format = cfg->output_format;
    if (py_truth(f))
        format = cJSON_IsString(f) ? f->valuestring : NULL; /* not a name: no outputs */
    rq->format = depth_format_parse(format);

    const char *cmap = cfg->colormap;
    if (py_truth(c)) {
        if (!cJSON_IsString(c))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "colormap must be a string: viridis, plasma, magma, turbo or jet");
        cmap = c->valuestring;
    }
    if (depth_format_has_image(rq->format) && !(rq->colormap = depthpost_colormap_find(cmap)))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "'%.60s' is not a valid value for cmap; supported values are "
                           "'viridis', 'plasma', 'magma', 'turbo', 'jet'",
                           cmap);

    rq->metres = strcmp(cfg->transform, "metres") == 0;
    if (cJSON_IsBool(t)) {
        rq->metres = cJSON_IsTrue(t);
    } else if (cJSON_IsString(t)) {
        if (strcmp(t->valuestring, "metres") == 0)
            rq->metres = true;
        else if (strcmp(t->valuestring, "none") == 0)
            rq->metres = false;
        else
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "transform must be \"none\" (the model's raw output) or "
                               "\"metres\", not \"%.40s\"",
                               t->valuestring);
    } else if (t != NULL && !cJSON_IsNull(t)) {
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "transform must be \"none\" or \"metres\" (or true/false)");
    }
    return 0;
}

int depth_request_from_json(const depth_config *cfg, const svc_fetch *fetch, const cJSON *body,
                            depth_request *rq, hdm_err *err)
{
    memset(rq, 0, sizeof(*rq));
    if (!cJSON_IsObject(body))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "request body must be a JSON object");
    const cJSON *image = cJSON_GetObjectItemCaseSensitive(body, "image");
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(body, "image_url");
    int r;
    if (image) {
        if (!cJSON_IsString(image))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "'image' must be a string: base64, or a data: URI");
        /* Decoded later, when its memory is granted (depth_request_load);
         * a string that cannot fit the limit even decoded is refused now. */
        r = strip_data_uri(image->valuestring, "'image'", &rq->b64, &rq->b64_len, err);
        if (r == 0 && rq->b64_len / 4 * 3 > depth_config_max_bytes(cfg) + 3)
            return too_large(cfg, err);
    } else if (url && cfg->allow_image_url) {
        r = fetch_url(cfg, fetch, url, rq, err);
    } else {
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "Missing 'image' or 'image_url' field%s",
                        url ? " (image_url is off: input.allow_image_url is false)" : "");
    }
    if (r < 0)
        return r;
    if ((r = read_params(cfg, body, rq, err)) < 0)
        return r;
    if (rq->image_len > depth_config_max_bytes(cfg))
        return too_large(cfg, err);
    return 0;
}

int depth_request_from_form(const depth_config *cfg, const http_form *form, depth_request *rq,
                            hdm_err *err)
{
    static const char *const text_parts[] = {"normalize", "colormap", "output_format", "transform"};
    memset(rq, 0, sizeof(*rq));
    const http_part *img = http_form_get(form, "image");
    if (!img || img->len == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "Missing 'image' field");
    rq->image = img->data;
    rq->image_len = img->len;

    /* The text parts as a JSON object of strings: the JSON rules apply. */
    cJSON *p = cJSON_CreateObject();
    int r = p ? 0 : hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    for (size_t i = 0; r == 0 && i < sizeof(text_parts) / sizeof(text_parts[0]); i++) {
        char *text = NULL;
        char msg[256];
        int got = http_form_string(form, text_parts[i], &text, msg, sizeof(msg));
        if (got < 0)
            r = hdm_err_set(err, HDM_E_BAD_REQUEST, "%s", msg);
        else if (got > 0 && !cJSON_AddStringToObject(p, text_parts[i], text))
            r = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        free(text);
    }
    if (r == 0)
        r = read_params(cfg, p, rq, err);
    cJSON_Delete(p);
    if (r < 0)
        return r;
    if (rq->image_len > depth_config_max_bytes(cfg))
        return too_large(cfg, err);
    return 0;
}

/* Base64 characters of the prefix decoded to read the header: 256 KiB give
 * 192 KiB, past any JPEG's APP segments up to the frame header but the
 * largest EXIF thumbnails. */
#define PROBE_B64_CHARS ((size_t)256 * 1024)

int depth_request_probe(const depth_request *rq, int *width, int *height)
{
    if (!rq->b64)
        return depth_probe_size(rq->image, rq->image_len, width, height);
    /* A prefix holding a whole number of base64 quanta (characters outside
     * the alphabet are skipped by the decoder, so they are not counted). */
    size_t cut = rq->b64_len, n = 0;
    for (size_t i = 0; i < rq->b64_len; i++) {
        unsigned char ch = (unsigned char)rq->b64[i];
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '+' || ch == '/') {
            if (n == PROBE_B64_CHARS) {
                cut = i;
                break;
            }
            n++;
        }
    }
    uint8_t *head = malloc(base64_decoded_max(cut) + 1);
    if (!head)
        return -1;
    hdm_err err = {0};
    long len = base64_py_decode(rq->b64, cut, head, &err);
    int r = len > 0 ? depth_probe_size(head, (size_t)len, width, height) : -1;
    free(head);
    return r;
}

int depth_request_load(depth_request *rq, const depth_config *cfg, hdm_err *err)
{
    if (!rq->b64)
        return 0;
    int r = decode_b64_bytes(rq->b64, rq->b64_len, "'image'", rq, err);
    rq->b64 = NULL;
    if (r == 0 && rq->image_len > depth_config_max_bytes(cfg))
        r = too_large(cfg, err);
    return r;
}

void depth_request_drop_image(depth_request *rq)
{
    if (rq->image == rq->owned.data) {
        rq->image = NULL;
        rq->image_len = 0;
    }
    buf_free(&rq->owned);
}

void depth_request_free(depth_request *rq)
{
    if (!rq)
        return;
    buf_free(&rq->owned);
    cJSON_Delete(rq->normalized);
    memset(rq, 0, sizeof(*rq));
}
