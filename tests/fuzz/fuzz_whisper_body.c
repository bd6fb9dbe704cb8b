/*
 * fuzz_whisper_body.c - hailo-whisper's request bodies up to the point
 * where the manager would be asked.  The input's first line is the
 * Content-Type header value, the rest the body: the HTTP layer's multipart
 * parser, then the service's field checks (whisper_request_parse: file,
 * model, size, response_format, timestamp_granularities[], language,
 * stream), then the file through the audio front end into the windower
 * (the service's limits, smaller so the fuzzer stays fast), each window
 * answered by a stand-in of the model (one segment over the window's
 * voiced part) and stitched, and finally the requested answer rendered,
 * with the stream events; the layer's error replies for the statuses a
 * body can cause go through the service's error hook.
 *
 * Oracles: a refusal is 400 or 413 with a sentence; a decode ends with
 * samples or a sentence; the segments stay in order inside the decoded
 * duration; every answer renders.
 *
 * Seeds (corpus/fuzz_whisper_body/seed-*): multipart bodies around the
 * tiny audio files of corpus/fuzz_audio (each format), with every field
 * and several bad ones.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "audio/audio_window.h"
#include "http/http_internal.h"
#include "whisper/whisper.h"

typedef struct chain {
    transcript tr;
    uint64_t seen;
} chain;

/* The model's stand-in: one segment from the first to the last sample
 * above the original's trimming threshold, relative to the window. */
static int fake_model(void *ctx, const float *s, size_t n, uint64_t offset, hdm_err *err)
{
    chain *c = ctx;
    if (n == 0 || n > AUDIO_WINDOW_SAMPLES || offset < c->seen)
        abort();
    c->seen = offset + n;
    size_t first = n, last = 0;
    for (size_t i = 0; i < n; i++)
        if (fabsf(s[i]) > 0.02f) {
            if (first == n)
                first = i;
            last = i;
        }
    cJSON *result = cJSON_CreateObject();
    cJSON *segs = cJSON_AddArrayToObject(result, "segments");
    if (first < n) {
        cJSON *seg = cJSON_CreateObject();
        cJSON_AddItemToArray(segs, seg);
        cJSON_AddNumberToObject(seg, "id", 0);
        cJSON_AddNumberToObject(seg, "start", round((double)first / AUDIO_RATE * 100) / 100);
        cJSON_AddNumberToObject(seg, "end", round((double)(last + 1) / AUDIO_RATE * 100) / 100);
        cJSON_AddStringToObject(seg, "text", " Voiced \xc3\xa9t\xc3\xa9 \"quoted\".");
    }
    int rc = transcript_add_window(&c->tr, result, (double)offset / AUDIO_RATE,
                                   (double)n / AUDIO_RATE, err);
    cJSON_Delete(result);
    return rc;
}

static void answer(const whisper_config *cfg, const whisper_request *req)
{
    audio_limits lim;
    audio_limits_defaults(&lim);
    lim.max_bytes = (uint64_t)cfg->max_file_bytes;
    lim.max_seconds = 120;
    lim.max_cpu_ms = 2000;
    audio_window_opts wo;
    audio_window_opts_defaults(&wo);
    wo.trim = cfg->vad_filter;
    chain c = {0};
    audio_windower *w = NULL;
    hdm_err err = {0};
    if (audio_windower_new(&wo, fake_model, &c, &w, &err) != 0)
        abort();
    int rc = audio_decode(req->file->data, req->file->len, req->name_hint, &lim,
                          audio_windower_push, w, NULL, &err);
    if (rc == 0)
        rc = audio_windower_finish(w, &err);
    if (rc < 0 && err.msg[0] == '\0')
        abort(); /* every failure says why */
    double duration = (double)audio_windower_samples(w) / AUDIO_RATE;
    for (size_t i = 0; i < c.tr.n; i++)
        if (c.tr.segments[i].start > c.tr.segments[i].end ||
            c.tr.segments[i].end > duration + 0.001 ||
            (i > 0 && c.tr.segments[i].start < c.tr.segments[i - 1].end))
            abort();
    if (rc == 0) {
        transcript_meta meta = {req->translate ? "translate" : "transcribe",
                                req->language ? req->language : "auto", duration,
                                cfg->temperature};
        buf out = {0};
        if (transcript_render(&c.tr, req->format, &meta, &out, &err) != 0)
            abort();
        buf_free(&out);
        for (size_t i = 0; i < c.tr.n; i++) {
            char *ev = transcript_event_delta(&c.tr, i);
            size_t len;
            char *sse = ev ? whisper_sse_event(ev, &len) : NULL;
            if (!ev || !sse)
                abort();
            free(sse);
            free(ev);
        }
        free(transcript_event_done(&c.tr));
    }
    audio_windower_free(w);
    transcript_free(&c.tr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static whisper_config cfg;
    static bool ready;
    if (!ready) {
        if (whisper_config_defaults(&cfg) < 0)
            abort();
        cfg.max_file_bytes = 1 << 20;
        ready = true;
    }
    const uint8_t *nl = memchr(data, '\n', size);
    size_t ctlen = nl ? (size_t)(nl - data) : size;
    char *ct = malloc(ctlen + 1);
    if (!ct)
        return 0;
    memcpy(ct, data, ctlen);
    ct[ctlen] = '\0';
    const uint8_t *body = nl ? nl + 1 : data + size;
    size_t blen = (size_t)(data + size - body);
    uint8_t *copy = malloc(blen ? blen : 1); /* exactly blen bytes for ASan */
    if (!copy) {
        free(ct);
        return 0;
    }
    memcpy(copy, body, blen);

    http_multipart_limits mlim = {.max_parts = 64, .max_part_header_bytes = 8192};
    http_form form;
    char perr[256] = "";
    http_reply reply = {0};
    if (http_multipart_parse(copy, blen, ct, &mlim, &form, perr, sizeof(perr)) == 0) {
        for (int translate = 0; translate < 2; translate++) {
            whisper_request req;
            hdm_err err = {0};
            int status = whisper_request_parse(&form, &cfg, translate, &req, &err);
            if (status != 0 && ((status != 400 && status != 413) || err.msg[0] == '\0'))
                abort();
            if (status == 0 && (!req.file || req.file->len == 0 ||
                                req.file->len > (size_t)cfg.max_file_bytes))
                abort();
            if (status == 0 && !translate)
                answer(&cfg, &req);
            whisper_request_free(&req);
        }
        http_form_free(&form);
    } else {
        if (perr[0] == '\0')
            abort();
        char msg[300];
        snprintf(msg, sizeof(msg), "invalid multipart body: %s", perr);
        whisper_layer_error(400, msg, &reply);
        if (reply.status != 400 || !reply.raw)
            abort();
        free(reply.raw);
    }
    free(copy);
    free(ct);
    return 0;
}
