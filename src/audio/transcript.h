/*
 * transcript.h - Whisper's segments stitched over the windows of one
 * recording, and the answers built from them: the original service's
 * `json`, `text`, `srt`, `verbose_json` and `vtt` bodies byte for byte, and
 * the OpenAI stream events.
 *
 * Where OpenAI's API and the original differ, the original wins: segments
 * carry id, start, end, text, tokens ([]), temperature (the configured one)
 * and null avg_logprob, compression_ratio and no_speech_prob, without
 * OpenAI's `seek`; `language` is the code that was asked for ("en"), not
 * OpenAI's name ("english"); SRT ends with one newline, blocks joined by
 * "\n"; timestamps are truncated to the millisecond, not rounded; JSON is
 * Python's json.dumps (", " and ": ", ASCII with \u escapes, floats as
 * Python writes them, "1.0" and not "1").
 */
#ifndef HDM_AUDIO_TRANSCRIPT_H
#define HDM_AUDIO_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/err.h"

typedef struct transcript_segment {
    double start, end; /* seconds from the start of the decoded audio, ms-rounded */
    char *text;        /* as the model gave it (leading space and all), NUL-terminated */
} transcript_segment;

/* The segments of one recording, in time order; a zeroed struct is empty. */
typedef struct transcript {
    transcript_segment *segments;
    size_t n, cap;
} transcript;

void transcript_free(transcript *t);

/*
 * Appends the segments of one window's model result, {"segments": [{"id",
 * "start", "end", "text"}, ...]} as the manager answers for `whisper`, where
 * times count from the window's start.  offset_s is where the window starts
 * in the recording, window_s its length: each time is clamped to
 * [0, window_s] (end >= start), shifted by offset_s and rounded to the
 * millisecond, so segments of successive windows never overlap and stay in
 * order; a window's segments are ordered by start (stable).  A missing
 * start or end counts as 0.0 and a missing text as "" (as the original
 * read them).  Ids are the position in the transcript.
 * Returns 0, -HDM_E_INTERNAL naming what in the result is malformed or an
 * offset or length outside [0, a year] (the transcript is unchanged then),
 * or -HDM_E_NOMEM.
 */
int transcript_add_window(transcript *t, const cJSON *result, double offset_s, double window_s,
                          hdm_err *err);

/*
 * The whole text as the original built it: "".join(segment texts).strip()
 * (Python's whitespace), ill-formed UTF-8 replaced by U+FFFD.  Returns a
 * malloc'd string, or NULL when out of memory.
 */
char *transcript_text(const transcript *t);

/* ---- answers (transcript_format.c) ------------------------------------------------- */

enum transcript_format {
    TRANSCRIPT_JSON,
    TRANSCRIPT_TEXT,
    TRANSCRIPT_SRT,
    TRANSCRIPT_VERBOSE_JSON,
    TRANSCRIPT_VTT,
};

/*
 * The format a response_format value names.  Returns 0, or
 * -HDM_E_BAD_REQUEST when it names none ("response_format 'x' is not one of
 * json, text, srt, verbose_json, vtt"; the original answered JSON then,
 * OpenAI a 400: the caller chooses).
 */
int transcript_format_parse(const char *name, enum transcript_format *out, hdm_err *err);
/* "json", "text", ... */
const char *transcript_format_name(enum transcript_format f);
/* The Content-Type of the answer: "application/json; charset=utf-8",
 * "text/plain; charset=utf-8" (text and srt) or "text/vtt; charset=utf-8". */
const char *transcript_content_type(enum transcript_format f);

/* What verbose_json says besides the segments. */
typedef struct transcript_meta {
    const char *task;     /* "transcribe" or "translate" */
    const char *language; /* the language asked for ("en", "auto") */
    double duration;      /* decoded seconds, before any trimming */
    double temperature;   /* echoed in every segment (the configured one) */
} transcript_meta;

/*
 * Appends the body of format f to out (meta is read by verbose_json only).
 * Returns 0 or -HDM_E_NOMEM.
 */
int transcript_render(const transcript *t, enum transcript_format f, const transcript_meta *meta,
                      buf *out, hdm_err *err);

/*
 * Writes the original's timestamp of `seconds`, "HH:MM:SS,mmm" (srt) or
 * "HH:MM:SS.mmm", every field truncated as Python's int() of its float
 * arithmetic (1.001 s shows as 00:00:01,000); hours may take more digits.
 * A value that is not finite is written as 0.  dst needs 32 bytes.
 * Returns the length written.
 */
size_t transcript_timestamp(double seconds, bool srt, char *dst, size_t len);

/*
 * OpenAI's stream events (the JSON of one `data:` line, json.dumps style;
 * malloc'd, NULL when out of memory):
 *   delta i:   {"type": "transcript.text.delta", "delta": <segment i's text>},
 *              leading whitespace dropped until the first visible text, so
 *              the deltas add up to the final text;
 *   segment i: {"type": "transcript.text.segment", "id": "seg_<i>", "start",
 *              "end", "text"}, for clients that want the times;
 *   done:      {"type": "transcript.text.done", "text": transcript_text()}.
 */
char *transcript_event_delta(const transcript *t, size_t i);
char *transcript_event_segment(const transcript *t, size_t i);
char *transcript_event_done(const transcript *t);

#endif
