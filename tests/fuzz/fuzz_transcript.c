/*
 * fuzz_transcript.c - the model's answers stitched and every response
 * format built from them.  The input is a window offset and length (the
 * first 16 bytes, as doubles) and a JSON result as the manager would send
 * it; it is added as two successive windows, then rendered in every format
 * and as stream events.  Whatever the result, stitching either refuses it
 * with a sentence or keeps the transcript ordered inside the windows, text
 * bodies are valid UTF-8 and JSON bodies parse back.  The same 16 bytes go
 * through the timestamp formatter too.
 *
 * Seeds (corpus/fuzz_transcript/seed-*): results as the sim and the real
 * model give them, with odd times, texts and types.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audio/transcript.h"
#include "common/utf8.h"

static void render_all(const transcript *t)
{
    static const enum transcript_format formats[] = {
        TRANSCRIPT_JSON, TRANSCRIPT_TEXT, TRANSCRIPT_SRT, TRANSCRIPT_VERBOSE_JSON, TRANSCRIPT_VTT};
    transcript_meta meta = {.task = "transcribe", .language = "en", .duration = 1.5};
    for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
        buf out = {0};
        hdm_err err = {0};
        if (transcript_render(t, formats[f], &meta, &out, &err) != 0)
            abort();
        if (out.len && !utf8_valid((const char *)out.data, out.len))
            abort();
        if (formats[f] == TRANSCRIPT_JSON || formats[f] == TRANSCRIPT_VERBOSE_JSON) {
            cJSON *back = cJSON_ParseWithLength((const char *)out.data, out.len);
            if (!back)
                abort();
            cJSON_Delete(back);
        }
        buf_free(&out);
    }
    for (size_t i = 0; i < t->n; i++) {
        char *d = transcript_event_delta(t, i), *s = transcript_event_segment(t, i);
        if (!d || !s || !utf8_valid(d, strlen(d)) || !utf8_valid(s, strlen(s)))
            abort();
        free(d);
        free(s);
    }
    free(transcript_event_done(t));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    double offset, window;
    if (size < 2 * sizeof(double))
        return 0;
    memcpy(&offset, data, sizeof(offset));
    memcpy(&window, data + sizeof(offset), sizeof(window));
    char ts[32];
    transcript_timestamp(offset, true, ts, sizeof(ts));
    transcript_timestamp(window, false, ts, sizeof(ts));
    if (!utf8_valid(ts, strlen(ts)))
        abort();

    cJSON *result = cJSON_ParseWithLength((const char *)data + 16, size - 16);
    if (!result)
        return 0;
    transcript t = {0};
    hdm_err err = {0};
    /* Two windows, the second right after the first. */
    for (int w = 0; w < 2; w++) {
        size_t before = t.n;
        double at = isfinite(offset) && isfinite(window) ? offset + w * window : offset;
        int rc = transcript_add_window(&t, result, at, window, &err);
        if (rc != 0 && (err.msg[0] == '\0' || t.n != before))
            abort();
        for (size_t i = before + 1; rc == 0 && i < t.n; i++)
            if (t.segments[i].start < t.segments[i - 1].start)
                abort();
        for (size_t i = before; rc == 0 && i < t.n; i++)
            if (!(t.segments[i].end >= t.segments[i].start))
                abort();
    }
    render_all(&t);
    transcript_free(&t);
    cJSON_Delete(result);
    return 0;
}
