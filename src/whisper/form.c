/*
 * form.c - the multipart fields of /v1/audio/transcriptions and
 * /v1/audio/translations, checked before any work is done.
 *
 * The original read file, model, language, response_format, prompt and
 * temperature (text decoded ignoring bad bytes, then stripped) and ignored
 * other fields; OpenAI's API adds timestamp_granularities[] and stream.
 * Where they differ (docs/WHISPER.md has the table):
 *   - an unknown response_format: the original answered JSON, OpenAI 400;
 *     here 400 naming the formats (a client asking for "srt2" gets an
 *     error, not a body it cannot parse);
 *   - a file over the limit: the original's sentence, with the 413 its
 *     API_SPEC promised (its code said 400);
 *   - text fields must be UTF-8 (the original dropped bad bytes silently);
 *   - temperature is accepted and ignored, as the original ignored it
 *     (Speech2Text has no sampling temperature; segments echo the
 *     configured one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audio/audio.h"
#include "whisper/whisper.h"

/* Python's str.strip() for the ASCII whitespace it knows. */
static void strip(char *s)
{
    static const char ws[] = " \t\n\r\v\f\x1c\x1d\x1e\x1f";
    size_t n = strlen(s), b = 0;
    while (b < n && strchr(ws, s[b]))
        b++;
    while (n > b && strchr(ws, s[n - 1]))
        n--;
    memmove(s, s + b, n - b);
    s[n - b] = '\0';
}

/* A text field, stripped; *out NULL when absent.  0, or 400 with err. */
static int text_field(const http_form *f, const char *name, char **out, hdm_err *err)
{
    char msg[256];
    *out = NULL;
    int r = http_form_string(f, name, out, msg, sizeof(msg));
    if (r < 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "%s", msg), 400;
    if (*out)
        strip(*out);
    return 0;
}

/* timestamp_granularities[]: each "segment" or "word"; word is refused. */
static int check_granularities(const http_form *f, hdm_err *err)
{
    for (size_t i = 0; i < http_form_count(f); i++) {
        const http_part *p = http_form_at(f, i);
        if (strcmp(p->name, "timestamp_granularities[]") != 0 &&
            strcmp(p->name, "timestamp_granularities") != 0)
            continue;
        char v[16] = "";
        size_t n = p->len < sizeof(v) - 1 ? p->len : sizeof(v) - 1;
        memcpy(v, p->data, n);
        v[n] = '\0';
        strip(v);
        if (strcmp(v, "segment") == 0 && p->len < sizeof(v))
            continue;
        if (strcmp(v, "word") == 0 && p->len < sizeof(v))
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "timestamp_granularities[] 'word' is not available: the Whisper "
                               "model on the Hailo NPU (Speech2Text) gives segment timestamps "
                               "only; ask for 'segment' (verbose_json has the segments)"),
                   400;
        for (size_t k = 0; v[k]; k++)
            if ((unsigned char)v[k] < 0x20 || (unsigned char)v[k] >= 0x7f)
                v[k] = '?';
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "timestamp_granularities[] must be 'segment' or 'word', not '%s%s'", v,
                           p->len >= sizeof(v) ? "..." : ""),
               400;
    }
    return 0;
}

int whisper_request_parse(const http_form *form, const whisper_config *cfg, bool translate,
                          whisper_request *out, hdm_err *err)
{
    char *rf = NULL;
    char msg[256];
    int status;

    memset(out, 0, sizeof(*out));
    out->translate = translate;
    out->format = TRANSCRIPT_JSON;

    /* 1. the file: present and not empty ("Missing 'file' field" either way,
     *    as the original said). */
    const http_part *file = http_form_get(form, "file");
    if (!file)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "Missing 'file' field"), 400;
    if (file->len == 0)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "Missing 'file' field: the file is empty"),
               400;
    out->file = file;
    /* The original named its temporary file after the part's type; a
     * filename extension helps when the type says nothing. */
    out->name_hint = audio_ext_for_mime(file->content_type);
    if (!out->name_hint)
        out->name_hint = file->filename;

    /* 2. the model: present and the configured one. */
    if ((status = text_field(form, "model", &out->model, err)) != 0)
        goto fail;
    if (!out->model || !out->model[0]) {
        status = 400;
        hdm_err_set(err, HDM_E_BAD_REQUEST, "Missing 'model' field");
        goto fail;
    }
    if (strcmp(out->model, cfg->model_name) != 0) {
        status = 400;
        hdm_err_set(err, HDM_E_BAD_REQUEST, "Unsupported model '%.100s'. Available: %s",
                    out->model, cfg->model_name);
        goto fail;
    }

    /* 3. the size. */
    if (file->len > (size_t)cfg->max_file_bytes) {
        status = 413;
        hdm_err_set(err, HDM_E_TOO_LARGE, "Audio file too large (max %d bytes)",
                    cfg->max_file_bytes);
        goto fail;
    }

    /* 4. the options. */
    if ((status = text_field(form, "response_format", &rf, err)) != 0)
        goto fail;
    if (rf && rf[0] && transcript_format_parse(rf, &out->format, err) < 0) {
        status = 400;
        goto fail;
    }
    if ((status = check_granularities(form, err)) != 0)
        goto fail;
    if ((status = text_field(form, "language", &out->language, err)) != 0)
        goto fail;
    if (out->language && (!out->language[0] || strcasecmp(out->language, "auto") == 0)) {
        free(out->language); /* empty (the original: None) or "auto": detect */
        out->language = NULL;
    }
    if (out->language && !whisper_language_code_ok(out->language)) {
        status = 400;
        for (char *c = out->language; *c; c++)
            if ((unsigned char)*c < 0x20)
                *c = '?';
        hdm_err_set(err, HDM_E_BAD_REQUEST,
                    "language '%.40s' is not a language code (ISO-639-1, such as en or de)",
                    out->language);
        goto fail;
    }
    if ((status = text_field(form, "prompt", &out->prompt, err)) != 0)
        goto fail;
    if (http_form_bool(form, "stream", &out->stream, msg, sizeof(msg)) < 0) {
        status = 400;
        hdm_err_set(err, HDM_E_BAD_REQUEST, "%s", msg);
        goto fail;
    }
    free(rf);
    return 0;
fail:
    free(rf);
    return status;
}

void whisper_request_free(whisper_request *r)
{
    if (!r)
        return;
    free(r->model);
    free(r->language);
    free(r->prompt);
    memset(r, 0, sizeof(*r));
}
