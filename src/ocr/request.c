/*
 * request.c - the body of POST /v1/ocr/extract, checked field by field
 * before any work (ocr.h), and the languages a request runs.
 *
 * Where the original crashed or did something odd, the request is refused
 * with a sentence naming the field instead: a non-string image (the
 * original answered "Failed to load image"), languages of another type than
 * a list of strings (a string gave its first character), a language with no
 * model (the original fell back to English but reported the code asked
 * for).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocr/ocr.h"

#define MISSING_IMAGE "Missing 'image' parameter"

static int add_lang(ocr_request *out, const char *code, size_t len, const char *what, size_t i,
                    hdm_err *err)
{
    char tmp[OCR_LANG_MAX + 1];
    if (len == 0 || len > OCR_LANG_MAX)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s[%zu] is not a language code (1 to %d letters, digits, _ or -)", what,
                           i, OCR_LANG_MAX);
    memcpy(tmp, code, len);
    tmp[len] = '\0';
    if (!ocr_lang_code_ok(tmp))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "%s[%zu] is not a language code (1 to %d letters, digits, _ or -)", what,
                           i, OCR_LANG_MAX);
    for (size_t k = 0; k < out->n_langs; k++)
        if (strcmp(out->langs[k], tmp) == 0)
            return 0; /* named twice: once is enough */
    if (out->n_langs == OCR_MAX_LANGS)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s names more than %d languages", what,
                           OCR_MAX_LANGS);
    memcpy(out->langs[out->n_langs++], tmp, len + 1);
    return 0;
}

/* languages as JSON: absent, null, a list of strings, or one string. */
static int langs_from_json(const cJSON *v, ocr_request *out, hdm_err *err)
{
    if (v == NULL || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsString(v))
        return add_lang(out, v->valuestring, strlen(v->valuestring), "languages", 0, err);
    if (!cJSON_IsArray(v))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "languages must be a list of language codes, e.g. [\"en\"]");
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (!cJSON_IsString(e))
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "languages[%zu] must be a string", i);
        int r = add_lang(out, e->valuestring, strlen(e->valuestring), "languages", i, err);
        if (r < 0)
            return r;
        i++;
    }
    return 0;
}

int ocr_request_from_json(const cJSON *body, ocr_request *out, hdm_err *err)
{
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(body))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "the request body must be a JSON object");
    const cJSON *image = cJSON_GetObjectItemCaseSensitive(body, "image");
    if (image == NULL || cJSON_IsNull(image) || (cJSON_IsString(image) && !image->valuestring[0]))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, MISSING_IMAGE);
    if (!cJSON_IsString(image))
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "image must be a string: a data: URI, base64 or a file:// path");
    out->ref = image->valuestring;
    out->ref_len = strlen(image->valuestring);
    return langs_from_json(cJSON_GetObjectItemCaseSensitive(body, "languages"), out, err);
}

/* True when the bytes start like an image file (JPEG, PNG, WebP, GIF, BMP,
 * TIFF): an upload, not a reference. */
static bool looks_like_image(const uint8_t *p, size_t n)
{
    return (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) ||
           (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) ||
           (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0) ||
           (n >= 4 && (memcmp(p, "GIF8", 4) == 0 || memcmp(p, "II*\0", 4) == 0 ||
                       memcmp(p, "MM\0*", 4) == 0)) ||
           (n >= 2 && p[0] == 'B' && p[1] == 'M');
}

/* languages as a form field: "en", "en,zh", "en zh" or a JSON list. */
static int langs_from_text(const char *s, ocr_request *out, hdm_err *err)
{
    const char *p = s;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p == '[') {
        cJSON *j = cJSON_Parse(p);
        if (!j)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "field 'languages' is not a JSON list of language codes");
        int r = langs_from_json(j, out, err);
        cJSON_Delete(j);
        return r;
    }
    size_t i = 0;
    while (*p) {
        size_t n = strcspn(p, ", \t\r\n");
        if (n > 0) {
            int r = add_lang(out, p, n, "languages", i++, err);
            if (r < 0)
                return r;
        }
        p += n;
        if (*p)
            p++;
    }
    return 0;
}

int ocr_request_from_form(const http_form *form, ocr_request *out, hdm_err *err)
{
    char msg[256];
    memset(out, 0, sizeof(*out));
    const http_part *img = http_form_get(form, "image");
    if (img == NULL || img->len == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, MISSING_IMAGE);
    if (img->filename == NULL && !looks_like_image(img->data, img->len)) {
        /* A text field holding a reference, as the JSON "image" would. */
        if (memchr(img->data, '\0', img->len) != NULL)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "field 'image' is neither an image file nor a reference");
        out->ref = (const char *)img->data;
        out->ref_len = img->len;
    } else {
        out->bytes = img->data;
        out->bytes_len = img->len;
    }
    char *langs = NULL;
    int r = http_form_string(form, "languages", &langs, msg, sizeof(msg));
    if (r < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s", msg);
    if (r > 0) {
        r = langs_from_text(langs, out, err);
        free(langs);
        if (r < 0)
            return r;
    }
    return 0;
}

/* "['en', 'zh']": the loaded languages as Python prints a list. */
static void available(const ocr_config *cfg, const ocr_model_info *info, char *buf, size_t len)
{
    size_t n = (size_t)snprintf(buf, len, "[");
    bool first = true;
    for (size_t i = 0; i < cfg->n_langs && n < len; i++) {
        if (!info->have || !info->found[i])
            continue;
        n += (size_t)snprintf(buf + n, len - n, "%s'%s'", first ? "" : ", ", cfg->langs[i].code);
        first = false;
    }
    if (n < len)
        snprintf(buf + n, len - n, "]");
}

int ocr_request_languages(const ocr_config *cfg, const ocr_model_info *info,
                          const ocr_request *req, int idx[OCR_MAX_LANGS], size_t *n,
                          hdm_err *err)
{
    char avail[512];
    *n = 0;
    if (req->n_langs > 0) {
        for (size_t i = 0; i < req->n_langs; i++) {
            int k = ocr_config_lang_index(cfg, req->langs[i]);
            if (k < 0 || !info->have || !info->found[k]) {
                available(cfg, info, avail, sizeof(avail));
                return hdm_err_set(err, HDM_E_BAD_REQUEST,
                                   "Unsupported language: '%s'. Available: %s", req->langs[i],
                                   avail);
            }
            idx[(*n)++] = k;
        }
        return 0;
    }
    /* The defaults (ocr.languages) that have a model, else the first that does. */
    for (size_t i = 0; i < cfg->languages.n && *n < OCR_MAX_LANGS; i++) {
        int k = ocr_config_lang_index(cfg, cfg->languages.items[i]);
        bool dup = false;
        for (size_t j = 0; j < *n; j++)
            dup = dup || idx[j] == k;
        if (k >= 0 && info->have && info->found[k] && !dup)
            idx[(*n)++] = k;
    }
    for (size_t i = 0; *n == 0 && info->have && i < cfg->n_langs; i++)
        if (info->found[i])
            idx[(*n)++] = (int)i;
    if (*n == 0)
        return hdm_err_set(err, HDM_E_UNAVAILABLE, "no recognition model is loaded");
    return 0;
}
