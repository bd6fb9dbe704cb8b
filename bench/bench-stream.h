/*
 * bench-stream.h - what the streaming benchmarks share (bench-vision.c,
 * bench-llm.c): timing samples and their report line, and a streamed HTTP
 * request over a plain socket that timestamps each text event.
 *
 * One line is printed per measurement: "ttft_p50_ms=.. ttft_p90_ms=..
 * tok_s=.. tokens=.. n=..".  TTFT is from sending the request (connection
 * already open) to the first text event; tokens/s is over the events after
 * the first.
 */
#ifndef HDM_BENCH_STREAM_H
#define HDM_BENCH_STREAM_H

#include <stdatomic.h>

typedef struct bench_sample {
    double ttft_ms;
    double first_ms, last_ms;
    int tokens;
} bench_sample;

/* What one streamed HTTP request looks like on the wire. */
typedef struct bench_http {
    int port;
    const char *path;  /* "/v1/chat/completions", "/api/chat" */
    const char *body;  /* JSON */
    const char *event; /* bytes that start each text event: '"delta":{"content":' */
    const char *done;  /* bytes that end the stream: "data: [DONE]", '"done":true' */
} bench_http;

double bench_now_ms(void);
/* Notes the arrival of one text event at time t in s. */
void bench_sample_event(bench_sample *s, double t0, double t);
/* Prints the report line for n samples. */
void bench_report(bench_sample *s, int n);
/* One streamed request on a fresh connection; 0 when the done marker came. */
int bench_http_one(const bench_http *h, bench_sample *s);
/* n requests one after another (after two warm-ups), then the report; 0 or 1. */
int bench_http_run(const bench_http *h, int n, const char *name);
/* `clients` threads sending h for `seconds`; prints "requests=N failed=M"; 0 or 1. */
int bench_http_load(const bench_http *h, int clients, double seconds);

#endif
