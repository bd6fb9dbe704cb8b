/*
 * fuzz_vision_body.c - the JSON bodies of hailo-vision's endpoints up to the
 * manager call: /v1/chat/completions through chat_parse (messages, content
 * parts, images, generation parameters, stop sequences) and
 * /v1/vision/analyze's parameters (chat_parse_params); then every image
 * reference through vision_image_load (data: URIs, bare base64, file://
 * URLs confined to a scratch directory; remote fetches off, as by default)
 * and the SSE chunk of each text part (sse_delta, sse_chunk, sse_event).
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "vision/vision.h"

static vision_config cfg;
static vision_images vi;
static uint8_t frame_rgb[VISION_FRAME_BYTES];

static int setup(void)
{
    static int state;
    if (state)
        return state;
    state = -1;
    if (vision_config_defaults(&cfg) < 0)
        return state;
    cfg.allowed_dirs.items = malloc(sizeof(char *));
    if (!cfg.allowed_dirs.items || !(cfg.allowed_dirs.items[0] = strdup(fuzz_models_dir())))
        return state;
    cfg.allowed_dirs.n = 1;
    cfg.allow_remote = false;
    /* Smaller than the service's limits so the fuzzer stays fast. */
    cfg.image_max_pixels = 4 << 20;
    if (vision_images_init(&vi, &cfg, &(hdm_err){0}) < 0)
        return state;
    state = 1;
    return state;
}

static void sse_text(const cJSON *prompt)
{
    const cJSON *m, *part;
    cJSON_ArrayForEach(m, prompt) {
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        cJSON_ArrayForEach(part, content) {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");
            if (!cJSON_IsString(t))
                continue;
            cJSON *delta = sse_delta("assistant", t->valuestring, strlen(t->valuestring));
            cJSON *chunk = delta ? sse_chunk("chatcmpl-fuzz", 1, "m", delta, NULL, false) : NULL;
            size_t len = 0;
            char *ev = chunk ? sse_event(chunk, &len) : NULL;
            if (ev && (len < 8 || memcmp(ev, "data: ", 6) != 0 || ev[len - 1] != '\n'))
                abort();
            free(ev);
            cJSON_Delete(chunk);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (setup() < 0)
        abort();
    cJSON *body = cJSON_ParseWithLength((const char *)data, size);
    if (!body)
        return 0;
    chat_request req;
    const char *param = NULL;
    hdm_err err;
    hdm_err_clear(&err);
    if (chat_parse(body, &cfg, &req, &param, &err) == 0) {
        for (size_t i = 0; i < req.n_images; i++) {
            hdm_err ierr;
            hdm_err_clear(&ierr);
            if (vision_image_load(&vi, req.images[i].ref, req.images[i].bare_base64,
                                  req.images[i].what, frame_rgb, &ierr) < 0 &&
                ierr.msg[0] == '\0')
                abort();
        }
        sse_text(req.prompt);
        chat_request_free(&req);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    chat_params p;
    memset(&p, 0, sizeof(p));
    hdm_err_clear(&err);
    if (cJSON_IsObject(body) && chat_parse_params(body, &cfg, &p, &param, &err) < 0 &&
        err.msg[0] == '\0')
        abort();
    chat_params_free(&p);
    cJSON_Delete(body);
    return 0;
}
