/*
 * bench-vision.c - time to first token and tokens/s of streamed generations,
 * through hailo-vision (HTTP + SSE) and straight to the manager (libhailodm),
 * for the "hailo-vision" section of docs/BENCHMARKS.md (bench/bench-vision.sh).
 *
 *   bench-vision direct SOCKET HEF N [image]   N streamed infers via hdm_call_stream
 *   bench-vision http PORT N [image]           N streamed chat completions over HTTP
 *   bench-vision load PORT CLIENTS SECONDS     CLIENTS threads streaming for SECONDS
 *
 * Both paths ask for the same generation: the same system + user messages,
 * temperature 0, seed 1, max 32 tokens, and with "image" one 336x336 frame
 * (direct) or a 64x64 PNG data URI (http; the service decodes and resizes
 * it).  TTFT is from sending the request (connection already open) to the
 * first text delta; tokens/s is over the deltas after the first.  Prints one
 * line: "ttft_p50_ms=.. ttft_p90_ms=.. tok_s=.. tokens=.. n=..".
 * Uses only the public client API and plain sockets (bench-stream.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-stream.h"
#include "hailodm.h"

#define MAX_TOKENS 32
#define SIDE 336

/* A 64x64 PNG (one colour), base64; the service decodes and resizes it. */
static const char PNG64[] = "iVBORw0KGgoAAAANSUhEUgAAAEAAAABACAIAAAAlC+"
                            "aJAAAAeklEQVR4nO3PUQkAIBTAwBfHiEY0liH8OITBAtzm7PV1wwUNaEEDWtCAFjSgBQ1o"
                            "QQNa0IAWNKAFDWhBA1rQgBY0oAUNaEEDWtCAFjSgBQ1oQQNa0IAWNKAFDWhBA1rQgBY0oA"
                            "UNaEEDWtCAFjSgBQ1oQQNa0IAWPHYBAOaBS/AeSBkAAAAASUVORK5CYII=";

/* ---- direct: libhailodm ------------------------------------------------------ */

typedef struct direct_ctx {
    double t0;
    bench_sample *s;
} direct_ctx;

static int on_delta(void *user, const char *delta, size_t len)
{
    direct_ctx *c = user;
    (void)delta;
    (void)len;
    bench_sample_event(c->s, c->t0, bench_now_ms());
    return 0;
}

static cJSON *prompt_json(int with_image)
{
    char text[512];
    snprintf(text, sizeof(text),
             "[{\"role\":\"system\",\"content\":[{\"type\":\"text\",\"text\":\"You are a helpful "
             "assistant.\"}]},{\"role\":\"user\",\"content\":[%s{\"type\":\"text\",\"text\":"
             "\"Describe the picture.\"}]}]",
             with_image ? "{\"type\":\"image\"}," : "");
    return cJSON_Parse(text);
}

static int run_direct(const char *sock, const char *hef, int n, int with_image)
{
    hdm_client_options o = {.socket_path = sock, .client_name = "bench-vision"};
    hdm_client *cl = NULL;
    uint8_t *frame = calloc(1, SIDE * SIDE * 3);
    bench_sample *s = calloc((size_t)n, sizeof(*s));
    if (!frame || !s || hdm_client_new(&o, &cl) < 0)
        return 1;
    memset(frame, 0x80, SIDE * SIDE * 3);
    for (int i = -2; i < n; i++) { /* two warm-up runs */
        bench_sample tmp = {0};
        direct_ctx c = {.s = i >= 0 ? &s[i] : &tmp};
        hdm_request *req = hdm_request_new("infer");
        cJSON *j = hdm_request_json(req);
        cJSON_AddStringToObject(j, "model_type", "vlm_chat");
        cJSON_AddStringToObject(j, "model_path", hef);
        cJSON *in = cJSON_AddObjectToObject(j, "input_data");
        cJSON_AddItemToObject(in, "prompt", prompt_json(with_image));
        cJSON *fr = cJSON_AddArrayToObject(in, "frames");
        cJSON_AddNumberToObject(in, "temperature", 0);
        cJSON_AddNumberToObject(in, "seed", 1);
        cJSON_AddNumberToObject(in, "max_generated_tokens", MAX_TOKENS);
        if (with_image) {
            hdm_tensor t = {.dtype = HDM_DT_UINT8,
                            .ndim = 3,
                            .shape = {SIDE, SIDE, 3},
                            .data = frame,
                            .nbytes = SIDE * SIDE * 3};
            hdm_request_add_tensor(req, fr, NULL, &t);
        }
        hdm_response *resp = NULL;
        c.t0 = bench_now_ms();
        int r = hdm_call_stream(cl, req, 60000, on_delta, &c, &resp);
        if (r < 0) {
            fprintf(stderr, "bench-vision: infer failed: %s\n",
                    resp && hdm_response_error(resp) ? hdm_response_error(resp) : hdm_strerror(r));
            return 1;
        }
        hdm_response_free(resp);
        hdm_request_free(req);
    }
    bench_report(s, n);
    hdm_client_free(cl);
    free(frame);
    free(s);
    return 0;
}

/* ---- http: hailo-vision's SSE (bench-stream.c) ---------------------------------- */

static char *chat_body(int with_image)
{
    size_t cap = sizeof(PNG64) + 1024;
    char *b = malloc(cap);
    char img[sizeof(PNG64) + 128] = "";
    if (with_image)
        snprintf(img, sizeof(img),
                 "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:image/png;base64,%s\"}},",
                 PNG64);
    snprintf(b, cap,
             "{\"model\":\"qwen2-vl-2b-instruct\",\"stream\":true,\"temperature\":0,\"seed\":1,"
             "\"max_tokens\":%d,\"messages\":[{\"role\":\"system\",\"content\":\"You are a "
             "helpful assistant.\"},{\"role\":\"user\",\"content\":[%s{\"type\":\"text\","
             "\"text\":\"Describe the picture.\"}]}]}",
             MAX_TOKENS, img);
    return b;
}

static bench_http vision_http(int port, const char *body)
{
    return (bench_http){.port = port,
                        .path = "/v1/chat/completions",
                        .body = body,
                        .event = "\"delta\":{\"content\":",
                        .done = "data: [DONE]"};
}

static int run_http(int port, int n, int with_image)
{
    char *body = chat_body(with_image);
    bench_http h = vision_http(port, body);
    int r = bench_http_run(&h, n, "bench-vision");
    free(body);
    return r;
}

static int run_load(int port, int clients, double seconds)
{
    char *body = chat_body(1);
    bench_http h = vision_http(port, body);
    int r = bench_http_load(&h, clients, seconds);
    free(body);
    return r;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "direct") == 0)
        return run_direct(argv[2], argv[3], atoi(argv[4]), argc > 5);
    if (argc >= 4 && strcmp(argv[1], "http") == 0)
        return run_http(atoi(argv[2]), atoi(argv[3]), argc > 4);
    if (argc >= 5 && strcmp(argv[1], "load") == 0)
        return run_load(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
    fprintf(stderr, "usage: bench-vision direct SOCKET HEF N [image] | http PORT N [image] | "
                    "load PORT CLIENTS SECONDS\n");
    return 2;
}
