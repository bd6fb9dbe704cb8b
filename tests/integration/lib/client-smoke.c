/*
 * client-smoke.c - built by test_pkgconfig.py against an installed
 * libhailodm (pkg-config hailodm) to prove the installed header, library and
 * .pc file work, then run against a real manager:
 *
 *   client-smoke SOCKET CLIP_MODEL IMAGE_HEF TEXT_HEF VLM_MODEL
 *
 * ping; load clip; the same image inference as binary frames and as v1 JSON
 * (json_only) must give identical embeddings; a streamed vlm_chat answer must
 * equal the concatenation of its deltas; an unknown model type must map to
 * HDM_E_UNSUPPORTED with the v1 sentence.  Prints "smoke ok" on success.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hailodm.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "client-smoke: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static unsigned char image[224 * 224 * 3];

/* Runs one clip image inference; returns a malloc'd copy of the embedding. */
static float *embed(hdm_client *c, const char *model, size_t *n)
{
    hdm_tensor t = {.dtype = HDM_DT_UINT8,
                    .ndim = 4,
                    .shape = {1, 224, 224, 3},
                    .data = image,
                    .nbytes = sizeof(image)};
    hdm_request *req = hdm_request_new("infer");
    cJSON *json = hdm_request_json(req);
    cJSON_AddStringToObject(json, "model_type", "clip");
    cJSON_AddStringToObject(json, "model_path", model);
    cJSON *input = cJSON_AddObjectToObject(json, "input_data");
    cJSON_AddStringToObject(input, "mode", "image");
    CHECK(hdm_request_add_tensor(req, input, "tensor", &t) == 0);
    hdm_response *resp = NULL;
    int r = hdm_call(c, req, 0, &resp);
    if (r != 0)
        fprintf(stderr, "infer: %s\n", hdm_response_error(resp));
    CHECK(r == 0);
    hdm_tensor out;
    CHECK(hdm_response_tensor(resp, cJSON_GetObjectItem(hdm_response_json(resp), "result"), &out) ==
          0);
    /* Binary answers say [1,512]; v1 JSON the per-frame [512] (the original manager's). */
    CHECK(out.dtype == HDM_DT_FLOAT32 && out.ndim >= 1 && out.shape[out.ndim - 1] == 512 &&
          out.nbytes == 512 * sizeof(float));
    float *copy = malloc(out.nbytes);
    memcpy(copy, out.data, out.nbytes);
    *n = out.nbytes;
    hdm_response_free(resp);
    hdm_request_free(req);
    return copy;
}

static char streamed[4096];

static int on_delta(void *user, const char *delta, size_t len)
{
    (void)user;
    strncat(streamed, delta, len);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: client-smoke SOCKET CLIP_MODEL IMAGE_HEF TEXT_HEF VLM_MODEL\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof(image); i++)
        image[i] = (unsigned char)(i * 7);
    hdm_client_options o = {.socket_path = argv[1], .client_name = "smoke"};
    hdm_client *bin = NULL, *v1 = NULL;
    CHECK(hdm_client_new(&o, &bin) == 0);
    o.json_only = 1;
    CHECK(hdm_client_new(&o, &v1) == 0);
    CHECK(hdm_ping(bin, 0) == 0);

    cJSON *params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "image_hef_path", argv[3]);
    cJSON_AddStringToObject(params, "text_hef_path", argv[4]);
    cJSON_AddStringToObject(params, "text_input_layer", "clip_text/input_layer1");
    cJSON_AddStringToObject(params, "text_output_layer", "clip_text/normalization25");
    hdm_response *resp = NULL;
    CHECK(hdm_load_model(bin, "clip", argv[2], params, HDM_KEEP_ALIVE_DEFAULT, &resp) == 0);
    CHECK(strcmp(cJSON_GetObjectItem(hdm_response_json(resp), "message")->valuestring,
                 "Model loaded") == 0);
    hdm_response_free(resp);
    cJSON_Delete(params);

    size_t n1, n2;
    float *a = embed(bin, argv[2], &n1);
    float *b = embed(v1, argv[2], &n2);
    CHECK(n1 == n2 && memcmp(a, b, n1) == 0);
    free(a);
    free(b);

    hdm_request *req = hdm_request_new("infer");
    cJSON *json = hdm_request_json(req);
    cJSON_AddStringToObject(json, "model_type", "vlm_chat");
    cJSON_AddStringToObject(json, "model_path", argv[5]);
    cJSON *input = cJSON_AddObjectToObject(json, "input_data");
    cJSON_AddStringToObject(input, "prompt", "Say something.");
    cJSON_AddNumberToObject(input, "max_generated_tokens", 12);
    CHECK(hdm_call_stream(bin, req, 0, on_delta, NULL, &resp) == 0);
    const cJSON *result = cJSON_GetObjectItem(hdm_response_json(resp), "result");
    CHECK(cJSON_IsString(result) && strlen(streamed) > 0);
    CHECK(strcmp(result->valuestring, streamed) == 0);
    hdm_response_free(resp);
    hdm_request_free(req);

    CHECK(hdm_load_model(bin, "nosuchtype", argv[2], NULL, HDM_KEEP_ALIVE_DEFAULT, &resp) ==
          -HDM_E_UNSUPPORTED);
    CHECK(strcmp(hdm_response_error(resp), "Unsupported model_type: nosuchtype") == 0);
    hdm_response_free(resp);

    hdm_client_free(bin);
    hdm_client_free(v1);
    printf("smoke ok\n");
    return 0;
}
