/*
 * hailort-prompt.c - vlm_chat requests as HailoRT GenAI structured messages,
 * and stop strings over streamed text (see hailort-prompt.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hailort-prompt.h"

void hrt_strv_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* {"role": role, "content": [{"type":"image"} x n_images, {"type":"text","text": text}]} */
static char *message_json(const char *role, const char *text, int n_images)
{
    cJSON *msg = cJSON_CreateObject(), *content = NULL, *part;
    char *s = NULL;

    if (!msg || !cJSON_AddStringToObject(msg, "role", role))
        goto out;
    content = cJSON_AddArrayToObject(msg, "content");
    if (!content)
        goto out;
    for (int i = 0; i < n_images; i++) {
        part = cJSON_CreateObject();
        if (!part || !cJSON_AddItemToArray(content, part)) {
            cJSON_Delete(part);
            goto out;
        }
        if (!cJSON_AddStringToObject(part, "type", "image"))
            goto out;
    }
    if (text) {
        part = cJSON_CreateObject();
        if (!part || !cJSON_AddItemToArray(content, part)) {
            cJSON_Delete(part);
            goto out;
        }
        if (!cJSON_AddStringToObject(part, "type", "text") ||
            !cJSON_AddStringToObject(part, "text", text))
            goto out;
    }
    s = cJSON_PrintUnformatted(msg);
out:
    cJSON_Delete(msg);
    return s;
}

int hrt_vlm_messages(const infer_input *in, char ***out, size_t *n_out, hdm_err *err)
{
    const typeof(in->u.vlm) *v = &in->u.vlm;
    size_t n = v->n_messages ? v->n_messages : 1, images = 0;
    char **msgs;

    if (in->kind != MODEL_VLM)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "input is not a vlm_chat request");
    if (v->n_messages == 0 && !v->prompt)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data.prompt required");
    for (size_t i = 0; i < v->n_messages; i++) {
        if (v->messages[i].n_images < 0)
            return hdm_err_set(err, HDM_E_BAD_REQUEST,
                               "input_data.prompt[%zu] has a negative "
                               "image count",
                               i);
        if (!v->messages[i].role || !*v->messages[i].role)
            return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data.prompt[%zu].role required", i);
        images += (size_t)v->messages[i].n_images;
    }
    if (v->n_messages && images != v->n_frames)
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "the messages in input_data.prompt hold %zu image part(s) but %zu "
                           "frame(s) were given in input_data.frames; they must match",
                           images, v->n_frames);
    if (v->n_frames > (size_t)INT32_MAX)
        return hdm_err_set(err, HDM_E_TOO_LARGE, "too many frames: %zu", v->n_frames);

    msgs = calloc(n, sizeof(*msgs));
    if (!msgs)
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory building the prompt");
    for (size_t i = 0; i < n; i++) {
        if (v->n_messages)
            msgs[i] =
                message_json(v->messages[i].role, v->messages[i].text ? v->messages[i].text : "",
                             v->messages[i].n_images);
        else
            msgs[i] = message_json("user", v->prompt, (int)v->n_frames);
        if (!msgs[i]) {
            hrt_strv_free(msgs, n);
            return hdm_err_set(err, HDM_E_NOMEM, "out of memory building the prompt");
        }
    }
    *out = msgs;
    *n_out = n;
    return 0;
}

char *hrt_vlm_prompt_text(const infer_input *in)
{
    const typeof(in->u.vlm) *v = &in->u.vlm;
    buf b = {0};

    if (v->n_messages == 0)
        return strdup(v->prompt ? v->prompt : "");
    for (size_t i = 0; i < v->n_messages; i++) {
        const char *t = v->messages[i].text ? v->messages[i].text : "";
        if ((i && buf_append(&b, "\n", 1) < 0) || buf_append(&b, t, strlen(t)) < 0 ||
            buf_append(&b, "", 1) < 0) {
            buf_free(&b);
            return NULL;
        }
        b.len--; /* keep the NUL out of the length, but present */
    }
    if (!b.data)
        return strdup("");
    return (char *)b.data;
}

/* ---- stop strings (common/textstream) ------------------------------------- */

int hrt_stop_feed(hrt_stop *s, const char *piece, size_t len, const char **delta, size_t *delta_len)
{
    return textstream_feed(s, piece, len, delta, delta_len);
}

void hrt_stop_flush(hrt_stop *s, const char **delta, size_t *delta_len)
{
    /* Without TEXTSTREAM_REPLACE a flush allocates nothing and cannot fail. */
    (void)textstream_flush(s, delta, delta_len);
}

const char *hrt_stop_text(const hrt_stop *s)
{
    return textstream_text(s);
}

void hrt_stop_free(hrt_stop *s)
{
    textstream_free(s);
}
