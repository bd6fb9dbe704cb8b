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

/* ---- stop strings ----------------------------------------------------------- */

static int terminate(buf *b)
{
    int rc = buf_reserve(b, 1);
    if (rc < 0)
        return rc;
    b->data[b->len] = '\0';
    return 0;
}

/* Length of the longest proper prefix of some stop string that text ends with,
 * looking only at bytes after `from`. */
static size_t held_tail(const hrt_stop *s, size_t from)
{
    size_t avail = s->text.len - from, best = 0;

    for (size_t i = 0; i < s->n_stops; i++) {
        size_t L = s->stops[i] ? strlen(s->stops[i]) : 0;
        for (size_t k = L ? L - 1 : 0; k > best; k--) {
            if (k <= avail && memcmp(s->text.data + s->text.len - k, s->stops[i], k) == 0) {
                best = k;
                break;
            }
        }
    }
    return best;
}

/* Moves end back so that text[..end) does not stop inside a UTF-8 character. */
static size_t utf8_boundary(const uint8_t *p, size_t start, size_t end)
{
    for (size_t back = 1; back <= 4 && back <= end - start; back++) {
        uint8_t c = p[end - back];
        if ((c & 0xC0) == 0x80)
            continue; /* continuation byte: keep looking for the lead */
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return need > back ? end - back : end;
    }
    return end;
}

int hrt_stop_feed(hrt_stop *s, const char *piece, size_t len, const char **delta, size_t *delta_len)
{
    size_t old_len = s->text.len, end;
    int rc;

    *delta = "";
    *delta_len = 0;
    if (s->hit)
        return 0; /* generation should have ended: ignore what still comes */
    rc = buf_append(&s->text, piece, len);
    if (rc == 0)
        rc = terminate(&s->text);
    if (rc < 0)
        return rc;

    size_t cut = SIZE_MAX;
    for (size_t i = 0; i < s->n_stops; i++) {
        size_t L = s->stops[i] ? strlen(s->stops[i]) : 0;
        if (L == 0 || L > s->text.len)
            continue;
        size_t from = old_len >= L - 1 ? old_len - (L - 1) : 0;
        const uint8_t *hit = memmem(s->text.data + from, s->text.len - from, s->stops[i], L);
        if (hit && (size_t)(hit - s->text.data) < cut)
            cut = (size_t)(hit - s->text.data);
    }
    if (cut != SIZE_MAX) {
        s->hit = true;
        s->text.len = cut;
        s->text.data[cut] = '\0';
        if (s->streamed > cut)
            s->streamed = cut;
        end = cut;
    } else {
        end = s->text.len - held_tail(s, s->streamed);
        end = utf8_boundary(s->text.data, s->streamed, end);
    }
    if (end > s->streamed) {
        *delta = (const char *)s->text.data + s->streamed;
        *delta_len = end - s->streamed;
        s->streamed = end;
    }
    return 0;
}

void hrt_stop_flush(hrt_stop *s, const char **delta, size_t *delta_len)
{
    *delta = s->text.data ? (const char *)s->text.data + s->streamed : "";
    *delta_len = s->text.len - s->streamed;
    s->streamed = s->text.len;
}

const char *hrt_stop_text(const hrt_stop *s)
{
    return s->text.data ? (const char *)s->text.data : "";
}

void hrt_stop_free(hrt_stop *s)
{
    if (!s)
        return;
    buf_free(&s->text);
    s->streamed = 0;
    s->hit = false;
}
