/*
 * fuzz_clip_body.c - the JSON bodies of hailo-clip's endpoints, up to the
 * point where the manager would be asked: the body must be an object;
 * /v1/classify options (clip_classify_options: prompts, top_k, threshold)
 * and scoring of the kept prompts (clip_softmax, clip_rank); "image" through
 * the image path (image_decode_base64_with, a data: prefix or bare base64,
 * then squashed to 224x224 as hailo-clip does); "text" and every prompt
 * through the CLIP tokenizer (tests/data/cliptext/tokenizer.json).
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clip/clip.h"
#include "cliptext/tokenizer.h"
#include "image/image.h"

static clip_tokenizer *tok;

static void image_path(const char *b64)
{
    image_decode_opts o;
    image_decode_opts_defaults(&o);
    /* Smaller pixel budget than the service's so the fuzzer stays fast;
     * scaled JPEG decoding and the squash as hailo-clip's defaults. */
    o.limits.max_pixels = 4u << 20;
    o.min_side = 2 * 224;
    image img = {0};
    hdm_err err;
    hdm_err_clear(&err);
    if (image_decode_base64_with(b64, strlen(b64), &o, &img, &err) == 0) {
        static uint8_t out[224 * 224 * 3];
        if (image_resize(&img, 224, 224, IMAGE_FILTER_BICUBIC, out, &err) != 0)
            abort();
    } else if (err.msg[0] == '\0') {
        abort();
    }
    image_free(&img);
}

static void text_path(const char *text)
{
    int32_t ids[CLIP_CONTEXT_LEN];
    int eot_pos = -1;
    hdm_err err;
    hdm_err_clear(&err);
    int r = clip_tokenize(tok, text, strlen(text), ids, CLIP_CONTEXT_LEN, &eot_pos, &err);
    if (r == 0 && (ids[0] != clip_tokenizer_sot(tok) || eot_pos < 1 ||
                   eot_pos >= CLIP_CONTEXT_LEN))
        abort(); /* the start token first, the end-token position inside */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!tok) {
        hdm_err err;
        if (clip_tokenizer_load(FUZZ_DATA_DIR "/cliptext/tokenizer.json", &tok, &err) < 0)
            abort();
    }
    cJSON *body = cJSON_ParseWithLength((const char *)data, size);
    if (!cJSON_IsObject(body))
        goto out;
    const cJSON *image = cJSON_GetObjectItemCaseSensitive(body, "image");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(body, "text");
    const cJSON *prompts;
    int n_prompts = 0, top_k = 0;
    double threshold = 0;
    hdm_err err;
    hdm_err_clear(&err);
    if (clip_classify_options(body, &prompts, &n_prompts, &top_k, &threshold, &err) == 0) {
        if (n_prompts < 1 || n_prompts > CLIP_MAX_PROMPTS || top_k < 0 || top_k > n_prompts ||
            threshold != threshold)
            abort();
        double *scores = malloc((size_t)n_prompts * sizeof(double));
        clip_score *ranked = malloc((size_t)n_prompts * sizeof(clip_score));
        if (scores && ranked) {
            int i = 0;
            const cJSON *p;
            cJSON_ArrayForEach(p, prompts) {
                if (!cJSON_IsString(p))
                    abort();
                text_path(p->valuestring);
                scores[i] = (double)(i % 7) / 7.0 - 0.5;
                i++;
            }
            if (i != n_prompts)
                abort();
            clip_scores_finish(scores, n_prompts, true, 100.0);
            int kept = clip_rank(scores, n_prompts, top_k, threshold, ranked);
            if (kept < 0 || kept > n_prompts || kept > top_k)
                abort();
        }
        free(scores);
        free(ranked);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    if (cJSON_IsString(image) && image->valuestring[0])
        image_path(image->valuestring);
    if (cJSON_IsString(text))
        text_path(text->valuestring);
out:
    cJSON_Delete(body);
    return 0;
}
