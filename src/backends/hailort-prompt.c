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

/* ---- llm ------------------------------------------------------------------ */

/* One llm_message as the JSON string HailoRT's LLM takes; NULL: no memory. */
static char *llm_message_json(const llm_message *msg)
{
    cJSON *m = cJSON_CreateObject(), *calls = NULL, *call;
    char *s = NULL;

    if (!m || !cJSON_AddStringToObject(m, "role", llm_role_name(msg->role)) ||
        !cJSON_AddStringToObject(m, "content", msg->content ? msg->content : ""))
        goto out;
    if (msg->tool_calls) {
        calls = cJSON_Duplicate(msg->tool_calls, true);
        if (!calls || !cJSON_AddItemToObject(m, "tool_calls", calls)) {
            cJSON_Delete(calls);
            goto out;
        }
        /* Chat templates (and OpenAI's shape) expect a type on each call. */
        cJSON_ArrayForEach(call, calls)
        {
            if (cJSON_IsObject(call) && !cJSON_HasObjectItem(call, "type") &&
                !cJSON_AddStringToObject(call, "type", "function"))
                goto out;
        }
    }
    if (msg->tool_name && !cJSON_AddStringToObject(m, "name", msg->tool_name))
        goto out;
    s = cJSON_PrintUnformatted(m);
out:
    cJSON_Delete(m);
    return s;
}

int hrt_llm_messages(const infer_input *in, char ***out, size_t *n_out, char ***tools,
                     size_t *n_tools, hdm_err *err)
{
    const llm_input *l = &in->u.llm;
    char **msgs = NULL, **tl = NULL;
    const cJSON *t;
    size_t i = 0, n, nt;

    *out = NULL;
    *n_out = 0;
    *tools = NULL;
    *n_tools = 0;
    if (in->kind != MODEL_LLM)
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "input is not an llm request");
    n = l->n_messages;
    nt = (size_t)cJSON_GetArraySize(l->tools);
    if (n == 0 && (!l->prompt || !*l->prompt))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "input_data.messages or prompt required");
    if (n && !(msgs = calloc(n, sizeof(*msgs))))
        goto nomem;
    for (i = 0; i < n; i++)
        if (!(msgs[i] = llm_message_json(&l->messages[i])))
            goto nomem;
    if (nt && !(tl = calloc(nt, sizeof(*tl))))
        goto nomem;
    i = 0;
    cJSON_ArrayForEach(t, l->tools)
    {
        if (!(tl[i++] = cJSON_PrintUnformatted(t)))
            goto nomem;
    }
    *out = msgs;
    *n_out = n;
    *tools = tl;
    *n_tools = nt;
    return 0;
nomem:
    hrt_strv_free(msgs, n);
    hrt_strv_free(tl, nt);
    return hdm_err_set(err, HDM_E_NOMEM, "out of memory building the prompt");
}

char *hrt_llm_prompt_text(const infer_input *in)
{
    const llm_input *l = &in->u.llm;
    buf b = {0};

    if (l->n_messages == 0)
        return strdup(l->prompt ? l->prompt : "");
    for (size_t i = 0; i < l->n_messages; i++) {
        const char *t = l->messages[i].content ? l->messages[i].content : "";
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

/* ---- special tokens ------------------------------------------------------------ */

static int specials_add_one(hrt_specials *s, const char *tok, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (strlen(s->items[i]) == len && memcmp(s->items[i], tok, len) == 0)
            return 0;
    char **grown = realloc(s->items, (s->n + 1) * sizeof(*grown));
    if (!grown)
        return -HDM_E_NOMEM;
    s->items = grown;
    s->items[s->n] = strndup(tok, len);
    if (!s->items[s->n])
        return -HDM_E_NOMEM;
    s->n++;
    return 0;
}

int hrt_specials_add(hrt_specials *s, const char *text)
{
    for (const char *p = text ? strchr(text, '<') : NULL; p; p = strchr(p + 1, '<')) {
        size_t len = 1;
        while (p[len] && p[len] != '>' && p[len] != '<' && p[len] != ' ' && p[len] != '\n' &&
               p[len] != '\t' && p[len] != '\r')
            len++;
        if (p[len] != '>' || len < 2)
            continue;
        int rc = specials_add_one(s, p, len + 1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int hrt_specials_add_defaults(hrt_specials *s)
{
    static const char *const markup[] = {
        /* ChatML (Qwen, Qwen2-VL) and its vision markers */
        "<|im_start|>",
        "<|im_end|>",
        "<|endoftext|>",
        "<|vision_start|>",
        "<|vision_end|>",
        "<|image_pad|>",
        "<|video_pad|>",
        /* Llama 3 */
        "<|begin_of_text|>",
        "<|end_of_text|>",
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|eot_id|>",
        "<|eom_id|>",
        /* Phi */
        "<|end|>",
        "<|user|>",
        "<|assistant|>",
        "<|system|>",
    };
    for (size_t i = 0; i < sizeof(markup) / sizeof(markup[0]); i++) {
        int rc = specials_add_one(s, markup[i], strlen(markup[i]));
        if (rc < 0)
            return rc;
    }
    return 0;
}

size_t hrt_specials_strip(const hrt_specials *s, const char *piece, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t skip = 0;
        if (piece[i] == '<') {
            for (size_t k = 0; k < s->n && !skip; k++) {
                size_t tl = strlen(s->items[k]);
                if (tl <= len - i && memcmp(piece + i, s->items[k], tl) == 0)
                    skip = tl;
            }
        }
        if (skip) {
            i += skip;
        } else {
            out[o++] = piece[i++];
        }
    }
    return o;
}

void hrt_specials_free(hrt_specials *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i]);
    free(s->items);
    s->items = NULL;
    s->n = 0;
}
