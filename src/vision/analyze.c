/*
 * analyze.c - POST /v1/vision/analyze, the service's own simple endpoint.
 *
 * {images: [...], prompt, temperature, max_tokens, return_individual_results}
 * -> {results: [{index, image_url, analysis, finish_reason}], total_inference_time_ms,
 *     model, usage}.
 * By default each image is analysed on its own (one result per image), as
 * the original service did; with return_individual_results: false all
 * images go to the model in one message and the single result's image_url
 * is "combined".  Each result echoes its image reference as the original
 * did: the first 100 characters, followed by "..." when it was longer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "http/http.h"
#include "vision/vision.h"

#define DEFAULT_PROMPT "Describe this image in detail."

/* One image entry: a string, or {url} / {image_url: string|{url}}. */
static int image_entry(const cJSON *v, int i, chat_image *out, hdm_err *err)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->what, sizeof(out->what), "images[%d]", i);
    if (cJSON_IsObject(v)) {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(v, "url");
        if (!u)
            u = cJSON_GetObjectItemCaseSensitive(v, "image_url");
        if (cJSON_IsObject(u))
            u = cJSON_GetObjectItemCaseSensitive(u, "url");
        v = u;
    } else {
        out->bare_base64 = true;
    }
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return hdm_err_set(err, HDM_E_BAD_REQUEST,
                           "images[%d] must be an image URL, data URI or base64 string", i);
    out->ref = v->valuestring;
    return 0;
}

/* What to echo as a result's image_url: the original's
 * `ref[:100] + "..." if len(ref) > 100 else ref`, counted in characters. */
static cJSON *echo_ref(const chat_image *img)
{
    const char *s = img->ref;
    size_t i = 0, chars = 0;
    for (; s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && ++chars > 100)
            break;
    if (!s[i])
        return cJSON_CreateString(s);
    char *cut = malloc(i + 4);
    if (!cut)
        return NULL;
    memcpy(cut, s, i);
    memcpy(cut + i, "...", 4);
    cJSON *out = cJSON_CreateString(cut);
    free(cut);
    return out;
}

/* [system, user: [image x n, text]] */
static cJSON *build_prompt(const vision_config *cfg, size_t n_images, const char *text)
{
    cJSON *p = cJSON_CreateArray();
    cJSON *msg = NULL, *content;
    if (!p || (cfg->system_prompt[0] && chat_prompt_add_text(p, "system", cfg->system_prompt) < 0))
        goto fail;
    if (!(msg = cJSON_CreateObject()) || !cJSON_AddStringToObject(msg, "role", "user") ||
        !(content = cJSON_AddArrayToObject(msg, "content")))
        goto fail;
    for (size_t i = 0; i <= n_images; i++) {
        cJSON *part = cJSON_CreateObject();
        if (!part)
            goto fail;
        cJSON_AddItemToArray(content, part);
        if (!cJSON_AddStringToObject(part, "type", i < n_images ? "image" : "text") ||
            (i == n_images && !cJSON_AddStringToObject(part, "text", text)))
            goto fail;
    }
    cJSON_AddItemToArray(p, msg);
    return p;
fail:
    cJSON_Delete(msg);
    cJSON_Delete(p);
    return NULL;
}

static int run_one(vision_app *app, const chat_params *params, const char *text,
                   const uint8_t *frames, size_t n, cJSON *echo, int index, cJSON *results,
                   double *total_ms, int *ptok, int *ctok, int cancel_fd, hdm_err *err)
{
    chat_result res = {0};
    cJSON *prompt = build_prompt(app->cfg, n, text);
    int r;
    if (!prompt) {
        cJSON_Delete(echo);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    r = gen_run(app->client, app->model, app->cfg, prompt, frames, n, params, NULL, NULL, cancel_fd,
                &res, err);
    cJSON_Delete(prompt);
    if (r < 0) {
        cJSON_Delete(echo);
        return r;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        cJSON_Delete(echo);
        chat_result_free(&res);
        return hdm_err_set(err, HDM_E_NOMEM, "out of memory");
    }
    cJSON_AddItemToArray(results, o);
    cJSON_AddNumberToObject(o, "index", index);
    cJSON_AddItemToObject(o, "image_url", echo);
    cJSON_AddStringToObject(o, "analysis", res.text);
    cJSON_AddStringToObject(o, "finish_reason", res.finish_reason);
    cJSON_AddNumberToObject(o, "inference_time_ms", res.inference_ms);
    *total_ms += res.inference_ms;
    *ptok += res.prompt_tokens;
    *ctok += res.completion_tokens;
    chat_result_free(&res);
    return 0;
}

void analyze_handle(http_request *hr, http_reply *reply, void *user)
{
    vision_app *app = user;
    const cJSON *body = http_request_json(hr);
    chat_params params;
    chat_image *images = NULL;
    uint8_t *frames = NULL;
    cJSON *out = NULL;
    hdm_err err = {0};
    const char *param = NULL;
    int r, n = 0;

    if ((r = chat_parse_params(body, app->cfg, &params, &param, &err)) < 0) {
        openai_reply_error(reply, completion_status_for(r), err.msg, param, "invalid_request");
        return;
    }
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(body, "images");
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(body, "image");
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(body, "prompt");
    const cJSON *indiv = cJSON_GetObjectItemCaseSensitive(body, "return_individual_results");
    if (!imgs && single) {
        n = 1;
    } else if (!cJSON_IsArray(imgs) || (n = cJSON_GetArraySize(imgs)) == 0) {
        openai_reply_error(reply, 400, "images must be a non-empty list of images", "images",
                           "invalid_request");
        goto out;
    }
    if (n > app->cfg->max_images) {
        char msg[128];
        snprintf(msg, sizeof(msg), "too many images: at most %d are allowed per request",
                 app->cfg->max_images);
        openai_reply_error(reply, 400, msg, "images", "invalid_request");
        goto out;
    }
    if (prompt && !cJSON_IsNull(prompt) && (!cJSON_IsString(prompt) || !prompt->valuestring[0])) {
        openai_reply_error(reply, 400, "prompt must be a non-empty string", "prompt",
                           "invalid_request");
        goto out;
    }
    if (indiv && !cJSON_IsNull(indiv) && !cJSON_IsBool(indiv)) {
        openai_reply_error(reply, 400, "return_individual_results must be a boolean",
                           "return_individual_results", "invalid_request");
        goto out;
    }
    if (!(images = calloc((size_t)n, sizeof(*images)))) {
        openai_reply_error(reply, 500, "out of memory", NULL, NULL);
        goto out;
    }
    for (int i = 0; i < n; i++)
        if ((r = image_entry(single && !imgs ? single : cJSON_GetArrayItem(imgs, i), i, &images[i],
                             &err)) < 0) {
            openai_reply_error(reply, 400, err.msg, "images", "invalid_request");
            goto out;
        }
    if (!vision_check_ready(app, reply))
        goto out;
    if ((r = vision_load_frames(app, images, (size_t)n, &frames, &err)) < 0) {
        openai_reply_error(reply, completion_status_for(r), err.msg, "images",
                           r == -HDM_E_TOO_LARGE ? "image_too_large" : "invalid_image");
        goto out;
    }
    const char *text = cJSON_IsString(prompt) ? prompt->valuestring : DEFAULT_PROMPT;
    double total = 0;
    int ptok = 0, ctok = 0;
    cJSON *results;
    if (!(out = cJSON_CreateObject()) || !(results = cJSON_AddArrayToObject(out, "results"))) {
        openai_reply_error(reply, 500, "out of memory", NULL, NULL);
        goto out;
    }
    chat_cancel vc;
    chat_cancel_begin(&vc, hr);
    if (!cJSON_IsFalse(indiv)) {
        for (int i = 0; i < n && r >= 0; i++)
            r = run_one(app, &params, text, frames + (size_t)i * VISION_FRAME_BYTES, 1,
                        echo_ref(&images[i]), i, results, &total, &ptok, &ctok, vc.fd, &err);
    } else {
        r = run_one(app, &params, text, frames, (size_t)n, cJSON_CreateString("combined"), 0,
                    results, &total, &ptok, &ctok, vc.fd, &err);
    }
    chat_cancel_end(&vc);
    if (r < 0) {
        int status = -r == HDM_E_NOT_FOUND ? 503 : completion_status_for(r);
        log_warn("analyze failed (%s): %s", hdm_error_code_name(r), err.msg);
        openai_reply_error(reply, status, err.msg, NULL, hdm_error_code_name(r));
        goto out;
    }
    cJSON_AddNumberToObject(out, "total_inference_time_ms", total);
    cJSON_AddStringToObject(out, "model", app->cfg->model_name);
    cJSON *u = cJSON_AddObjectToObject(out, "usage");
    if (u) {
        cJSON_AddNumberToObject(u, "prompt_tokens", ptok);
        cJSON_AddNumberToObject(u, "completion_tokens", ctok);
        cJSON_AddNumberToObject(u, "total_tokens", ptok + ctok);
    }
    http_reply_json(reply, 200, out);
    out = NULL;
out:
    cJSON_Delete(out);
    free(frames);
    free(images);
    chat_params_free(&params);
}
