/*
 * bench-llm.c - time to first token and tokens/s of streamed generations,
 * through hailo-llm (Ollama's /api/chat with NDJSON, OpenAI's
 * /v1/chat/completions with SSE) and straight to the manager (libhailodm),
 * for the "hailo-llm" section of docs/BENCHMARKS.md (bench/bench-llm.sh).
 *
 *   bench-llm direct SOCKET HEF N             N streamed llm infers via hdm_call_stream
 *   bench-llm ollama PORT N                   N streamed /api/chat requests
 *   bench-llm openai PORT N                   N streamed /v1/chat/completions requests
 *   bench-llm load PORT CLIENTS SECONDS       CLIENTS threads streaming /api/chat for SECONDS
 *
 * Every path asks for the same generation: the same system and user
 * messages, temperature 0, seed 1, at most 32 tokens.  Samples and the
 * HTTP side are bench-stream.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-stream.h"
#include "hailodm.h"

#define MAX_TOKENS 32
#define MODEL "qwen2.5-1.5b-instruct"
#define MESSAGES                                                                                   \
    "[{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},"                         \
    "{\"role\":\"user\",\"content\":\"Tell me about lighthouses.\"}]"

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

static int run_direct(const char *sock, const char *hef, int n)
{
    hdm_client_options o = {.socket_path = sock, .client_name = "bench-llm"};
    hdm_client *cl = NULL;
    bench_sample *s = calloc((size_t)n, sizeof(*s));
    if (!s || hdm_client_new(&o, &cl) < 0)
        return 1;
    for (int i = -2; i < n; i++) { /* two warm-up runs (the first loads the model) */
        bench_sample tmp = {0};
        direct_ctx c = {.s = i >= 0 ? &s[i] : &tmp};
        hdm_request *req = hdm_request_new("infer");
        cJSON *j = hdm_request_json(req);
        cJSON_AddStringToObject(j, "model_type", "llm");
        cJSON_AddStringToObject(j, "model_path", hef);
        cJSON_AddStringToObject(j, "priority", "interactive");
        cJSON *in = cJSON_AddObjectToObject(j, "input_data");
        cJSON_AddItemToObject(in, "messages", cJSON_Parse(MESSAGES));
        cJSON_AddNumberToObject(in, "temperature", 0);
        cJSON_AddNumberToObject(in, "seed", 1);
        cJSON_AddNumberToObject(in, "max_generated_tokens", MAX_TOKENS);
        hdm_response *resp = NULL;
        c.t0 = bench_now_ms();
        int r = hdm_call_stream(cl, req, 60000, on_delta, &c, &resp);
        if (r < 0) {
            fprintf(stderr, "bench-llm: infer failed: %s\n",
                    resp && hdm_response_error(resp) ? hdm_response_error(resp) : hdm_strerror(r));
            return 1;
        }
        hdm_response_free(resp);
        hdm_request_free(req);
    }
    bench_report(s, n);
    hdm_client_free(cl);
    free(s);
    return 0;
}

static const char OLLAMA_BODY[] =
    "{\"model\":\"" MODEL "\",\"messages\":" MESSAGES ",\"options\":{\"temperature\":0,"
    "\"seed\":1,\"num_predict\":32}}";
static const char OPENAI_BODY[] =
    "{\"model\":\"" MODEL "\",\"stream\":true,\"messages\":" MESSAGES ",\"temperature\":0,"
    "\"seed\":1,\"max_tokens\":32}";

static bench_http ollama_http(int port)
{
    return (bench_http){.port = port,
                        .path = "/api/chat",
                        .body = OLLAMA_BODY,
                        .event = "\"done\":false",
                        .done = "\"done\":true"};
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "direct") == 0)
        return run_direct(argv[2], argv[3], atoi(argv[4]));
    if (argc >= 4 && strcmp(argv[1], "ollama") == 0) {
        bench_http h = ollama_http(atoi(argv[2]));
        return bench_http_run(&h, atoi(argv[3]), "bench-llm");
    }
    if (argc >= 4 && strcmp(argv[1], "openai") == 0) {
        bench_http h = {.port = atoi(argv[2]),
                        .path = "/v1/chat/completions",
                        .body = OPENAI_BODY,
                        .event = "\"delta\":{\"content\":",
                        .done = "data: [DONE]"};
        return bench_http_run(&h, atoi(argv[3]), "bench-llm");
    }
    if (argc >= 5 && strcmp(argv[1], "load") == 0) {
        bench_http h = ollama_http(atoi(argv[2]));
        return bench_http_load(&h, atoi(argv[3]), atof(argv[4]));
    }
    fprintf(stderr, "usage: bench-llm direct SOCKET HEF N | ollama PORT N | openai PORT N | "
                    "load PORT CLIENTS SECONDS\n");
    return 2;
}
