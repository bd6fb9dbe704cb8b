/*
 * chat.c - a /v1/chat/completions body to the manager's vlm_chat input.
 *
 * DESIGN.  Everything is checked here, before any image is fetched or the
 * manager is asked, and every error names the offending field the way OpenAI
 * does ("messages[1].content[0].image_url.url").  The whole conversation is
 * kept: each message becomes {role, content:[{type:"text",text}|{type:"image"}]}
 * in order, and the images are listed in the same order so frame i belongs to
 * the i-th {type:"image"} part.  A system prompt from the config is
 * put first when the request has none.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vision/vision.h"

int chat_prompt_add_text(cJSON *prompt, const char *role, const char *text)
{
    cJSON *msg = cJSON_CreateObject();
    if (!msg || !cJSON_AddStringToObject(msg, "role", role))
        goto fail;
    cJSON *content = cJSON_AddArrayToObject(msg, "content");
    cJSON *part = cJSON_CreateObject();
    if (!content || !part) {
        cJSON_Delete(part);
        goto fail;
    }
    cJSON_AddItemToArray(content, part);
    if (!cJSON_AddStringToObject(part, "type", "text") ||
        !cJSON_AddStringToObject(part, "text", text))
        goto fail;
    cJSON_AddItemToArray(prompt, msg);
    return 0;
fail:
    cJSON_Delete(msg);
    return -HDM_E_NOMEM;
}

static bool is_null(const cJSON *v)
{
    return !v || cJSON_IsNull(v);
}

int chat_parse_params(const cJSON *body, const vision_config *cfg, chat_params *p,
                      const char **param, hdm_err *err)
{
    const chat_defaults d = {.temperature = cfg->temperature,
                             .top_p = cfg->top_p,
                             .max_tokens = cfg->max_tokens,
                             .seed = cfg->seed};
    memset(p, 0, sizeof(*p));
    *param = NULL;

    /* Any name is served by the loaded model, as the original service did:
     * clients written for other servers send their own model names. */
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(body, "model");
    if (!is_null(model) && !cJSON_IsString(model)) {
        *param = "model";
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "model must be a string");
    }
    return openai_parse_params(body, &d, p, param, err);
}

/* ---- messages ---------------------------------------------------------- */

typedef struct parse_ctx {
    chat_request *req;
    const vision_config *cfg;
    const char **param;
    hdm_err *err;
    char where[96];
} parse_ctx;

static int add_image(parse_ctx *c, const char *ref, bool bare, const char *what)
{
    chat_request *req = c->req;
    if (req->n_images >= (size_t)c->cfg->max_images) {
        *c->param = "messages";
        return hdm_err_set(c->err, HDM_E_BAD_REQUEST,
                           "too many images: at most %d are allowed per request",
                           c->cfg->max_images);
    }
    chat_image *n = realloc(req->images, (req->n_images + 1) * sizeof(*n));
    if (!n)
        return hdm_err_set(c->err, HDM_E_NOMEM, "out of memory");
    req->images = n;
    n[req->n_images].ref = ref;
    n[req->n_images].bare_base64 = bare;
    snprintf(n[req->n_images].what, sizeof(n[req->n_images].what), "%s", what);
    req->n_images++;
    return 0;
}

/* The image reference of an image part, or an error naming the field.
 * {type:"image_url", image_url: {url} | url}; {type:"image"} takes the first
 * non-empty of image, data, source (plain base64 or any image URL, as the
 * original service read them) and image_url. */
static int image_ref(parse_ctx *c, const cJSON *part, const char *type, const char **ref,
                     bool *bare)
{
    static const char *const fields[] = {"image", "data", "source", "image_url"};
    const cJSON *v = NULL;
    const char *field = "image_url";
    *bare = false;
    if (strcmp(type, "image_url") == 0) {
        v = cJSON_GetObjectItemCaseSensitive(part, "image_url");
    } else {
        for (size_t i = 0; i < 4 && !v; i++) {
            v = cJSON_GetObjectItemCaseSensitive(part, fields[i]);
            if (cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0]))
                v = NULL;
            field = fields[i];
            *bare = i < 3;
        }
    }
    if (cJSON_IsObject(v) && strcmp(field, "image_url") == 0) {
        const cJSON *url = cJSON_GetObjectItemCaseSensitive(v, "url");
        if (!cJSON_IsString(url) || !url->valuestring[0])
            return hdm_err_set(c->err, HDM_E_BAD_REQUEST, "%s.%s.url must be a non-empty string",
                               c->where, field);
        *ref = url->valuestring;
        *bare = false;
        return 0;
    }
    if (!cJSON_IsString(v) || !v->valuestring[0]) {
        if (strcmp(type, "image_url") == 0)
            return hdm_err_set(c->err, HDM_E_BAD_REQUEST,
                               "%s.image_url must be an object {url} or a URL string", c->where);
        if (v)
            return hdm_err_set(c->err, HDM_E_BAD_REQUEST,
                               "%s.%s must be a string: a data: URI, base64 or an image URL",
                               c->where, field);
        return hdm_err_set(c->err, HDM_E_BAD_REQUEST,
                           "%s needs an image: a non-empty string in image, data, source or "
                           "image_url",
                           c->where);
    }
    *ref = v->valuestring;
    return 0;
}

static int add_part(parse_ctx *c, cJSON *content, const char *type, const char *text)
{
    cJSON *p = cJSON_CreateObject();
    if (!p || !cJSON_AddStringToObject(p, "type", type) ||
        (text && !cJSON_AddStringToObject(p, "text", text))) {
        cJSON_Delete(p);
        return hdm_err_set(c->err, HDM_E_NOMEM, "out of memory");
    }
    cJSON_AddItemToArray(content, p);
    return 0;
}

static int parse_parts(parse_ctx *c, const cJSON *parts, bool user, cJSON *content)
{
    size_t base = strlen(c->where);
    int i = 0, r;
    const cJSON *part;
    cJSON_ArrayForEach(part, parts)
    {
        snprintf(c->where + base, sizeof(c->where) - base, "[%d]", i++);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(part, "type");
        if (!cJSON_IsObject(part) || !cJSON_IsString(type))
            return hdm_err_set(c->err, HDM_E_BAD_REQUEST,
                               "%s must be an object with a string \"type\"", c->where);
        const char *t = type->valuestring;
        if (strcmp(t, "text") == 0) {
            const cJSON *text = cJSON_GetObjectItemCaseSensitive(part, "text");
            if (!cJSON_IsString(text))
                return hdm_err_set(c->err, HDM_E_BAD_REQUEST, "%s.text must be a string", c->where);
            if ((r = add_part(c, content, "text", text->valuestring)) < 0)
                return r;
        } else if (strcmp(t, "image_url") == 0 || strcmp(t, "image") == 0) {
            const char *ref = NULL;
            bool bare = false;
            if (!user)
                return hdm_err_set(c->err, HDM_E_BAD_REQUEST,
                                   "%s: images are only allowed in user messages", c->where);
            if ((r = image_ref(c, part, t, &ref, &bare)) < 0 ||
                (r = add_image(c, ref, bare, c->where)) < 0 ||
                (r = add_part(c, content, "image", NULL)) < 0)
                return r;
        } else {
            return hdm_err_set(
                c->err, HDM_E_BAD_REQUEST,
                "%s.type must be \"text\", \"image_url\" or \"image\", not \"%.40s\"", c->where, t);
        }
    }
    c->where[base] = '\0';
    return 0;
}

static const char *norm_role(const char *role)
{
    if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0)
        return "system";
    if (strcmp(role, "user") == 0)
        return "user";
    if (strcmp(role, "assistant") == 0)
        return "assistant";
    return NULL;
}

static int parse_message(parse_ctx *c, const cJSON *msg, int idx, bool *has_system)
{
    int r;
    snprintf(c->where, sizeof(c->where), "messages[%d]", idx);
    if (!cJSON_IsObject(msg))
        return hdm_err_set(c->err, HDM_E_BAD_REQUEST, "%s must be an object", c->where);
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(msg, "role");
    if (!cJSON_IsString(role))
        return hdm_err_set(c->err, HDM_E_BAD_REQUEST, "%s.role must be a string", c->where);
    const char *nrole = norm_role(role->valuestring);
    if (!nrole)
        return hdm_err_set(c->err, HDM_E_BAD_REQUEST,
                           "%s.role must be \"system\", \"developer\", \"user\" or \"assistant\", "
                           "not \"%.40s\"",
                           c->where, role->valuestring);
    if (strcmp(nrole, "system") == 0)
        *has_system = true;
    cJSON *m = cJSON_CreateObject();
    cJSON *content = cJSON_CreateArray();
    if (!m || !content || !cJSON_AddStringToObject(m, "role", nrole)) {
        cJSON_Delete(m);
        cJSON_Delete(content);
        return hdm_err_set(c->err, HDM_E_NOMEM, "out of memory");
    }
    cJSON_AddItemToObject(m, "content", content);
    cJSON_AddItemToArray(c->req->prompt, m);

    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(msg, "content");
    size_t base = strlen(c->where);
    snprintf(c->where + base, sizeof(c->where) - base, ".content");
    if (cJSON_IsString(cv))
        return add_part(c, content, "text", cv->valuestring);
    if (cJSON_IsArray(cv)) {
        if (cJSON_GetArraySize(cv) == 0)
            return hdm_err_set(c->err, HDM_E_BAD_REQUEST, "%s must not be an empty list", c->where);
        if ((r = parse_parts(c, cv, strcmp(nrole, "user") == 0, content)) < 0)
            return r;
        return 0;
    }
    return hdm_err_set(c->err, HDM_E_BAD_REQUEST, "%s must be a string or a list of content parts",
                       c->where);
}

int chat_parse(const cJSON *body, const vision_config *cfg, chat_request *out, const char **param,
               hdm_err *err)
{
    int r;
    memset(out, 0, sizeof(*out));
    *param = NULL;
    if (!cJSON_IsObject(body))
        return hdm_err_set(err, HDM_E_BAD_REQUEST, "the request body must be a JSON object");
    if ((r = chat_parse_params(body, cfg, &out->params, param, err)) < 0)
        goto fail;
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(body, "messages");
    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0) {
        *param = "messages";
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "messages must be a non-empty list");
        goto fail;
    }
    /* One place is kept for the default system prompt. */
    if (cJSON_GetArraySize(msgs) > VISION_MAX_MESSAGES - 1) {
        *param = "messages";
        r = hdm_err_set(err, HDM_E_BAD_REQUEST, "messages has more than %d entries",
                        VISION_MAX_MESSAGES - 1);
        goto fail;
    }
    if (!(out->prompt = cJSON_CreateArray())) {
        r = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
        goto fail;
    }
    parse_ctx c = {.req = out, .cfg = cfg, .param = param, .err = err};
    bool has_system = false;
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs)
    {
        if ((r = parse_message(&c, m, i++, &has_system)) < 0) {
            if (!*param)
                *param = "messages";
            goto fail;
        }
    }
    if (!has_system && cfg->system_prompt && cfg->system_prompt[0]) {
        cJSON *tmp = cJSON_CreateArray();
        if (!tmp || chat_prompt_add_text(tmp, "system", cfg->system_prompt) < 0) {
            cJSON_Delete(tmp);
            r = hdm_err_set(err, HDM_E_NOMEM, "out of memory");
            goto fail;
        }
        cJSON *sys = cJSON_DetachItemFromArray(tmp, 0);
        cJSON_Delete(tmp);
        cJSON_InsertItemInArray(out->prompt, 0, sys);
    }
    return 0;
fail:
    chat_request_free(out);
    return r;
}

void chat_request_free(chat_request *r)
{
    if (!r)
        return;
    cJSON_Delete(r->prompt);
    free(r->images);
    chat_params_free(&r->params);
    memset(r, 0, sizeof(*r));
}
