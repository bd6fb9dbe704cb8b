/*
 * stream.c - stream=true: the transcription as server-sent events, in the
 * shapes of OpenAI's transcription streams (the openai package's
 * TranscriptionTextDeltaEvent and TranscriptionTextDoneEvent):
 *
 *   data: {"type": "transcript.text.delta", "delta": " Hello there."}   one per segment
 *   data: {"type": "transcript.text.done", "text": "Hello there. ..."}
 *
 * A window's segments go out as soon as the model answered that window,
 * so a long recording shows its first sentences while the rest is still
 * being decoded.  The deltas add up to the final text (leading whitespace
 * is dropped until the first visible text, as transcript_text() strips
 * it).  A failure after the stream started is one {"error": {"message",
 * "type"}} event, which the OpenAI SDKs raise as an APIError.  When the
 * client hangs up, the next event cannot be written and the transcription
 * stops; while it waits on the manager, the hang-up hook cancels the call.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "whisper/whisper.h"

typedef struct stream_ctx {
    whisper_app *app;
    whisper_request req;
    const char *language; /* sent to the model (NULL: detect) */
    http_stream *s;
    bool gone;            /* an event could not be written: the client left */
} stream_ctx;

char *whisper_sse_event(const char *json, size_t *len)
{
    size_t jl = strlen(json);
    char *ev = malloc(jl + 9);
    if (!ev)
        return NULL;
    memcpy(ev, "data: ", 6);
    memcpy(ev + 6, json, jl);
    memcpy(ev + 6 + jl, "\n\n", 3);
    *len = jl + 8;
    return ev;
}

/* Sends one event whose JSON is `json` (consumed).  0, or -1 once the client is gone. */
static int send_json(stream_ctx *c, char *json)
{
    size_t len;
    char *ev = json ? whisper_sse_event(json, &len) : NULL;
    free(json);
    if (!ev)
        return -1;
    int r = http_stream_send(c->s, ev, len);
    free(ev);
    if (r < 0)
        c->gone = true;
    return r;
}

static int on_segments(void *user, const transcript *tr, size_t first, hdm_err *err)
{
    stream_ctx *c = user;
    for (size_t i = first; i < tr->n; i++)
        if (send_json(c, transcript_event_delta(tr, i)) < 0)
            return c->gone && http_stream_closed(c->s)
                       ? hdm_err_set(err, HDM_E_CANCELLED, "the client went away")
                       : hdm_err_set(err, HDM_E_NOMEM, "out of memory writing an event");
    return 0;
}

static void produce(http_stream *s, void *user)
{
    stream_ctx *c = user;
    whisper_request *req = &c->req;
    whisper_job job = {
        .data = req->file->data,
        .len = req->file->len,
        .name_hint = req->name_hint,
        .language = c->language,
        .translate = req->translate,
        .on_segments = on_segments,
        .user = c,
    };
    hdm_err err = {0};
    c->s = s;
    /* A client that hangs up while a window waits on the manager (nothing
     * is being written then) cancels the call through the hang-up hook. */
    whisper_cancel cancel;
    whisper_cancel_begin(&cancel, http_stream_request(s));
    job.cancel_fd = cancel.fd;
    int r = whisper_transcribe(c->app, &job, &err);
    whisper_cancel_end(&cancel);
    if (r < 0) {
        if (r == -HDM_E_CANCELLED && (c->gone || http_stream_closed(s))) {
            log_info("stream: client went away after %u window(s); transcription cancelled",
                     job.windows);
        } else {
            int status = whisper_failure_status(r);
            if (status >= 500)
                log_warn("stream: transcription failed: %s", err.msg);
            send_json(c, whisper_error_json(status, err.msg));
        }
    } else {
        send_json(c, transcript_event_done(&job.tr));
    }
    whisper_job_free(&job);
}

static void free_ctx(void *user)
{
    stream_ctx *c = user;
    if (!c)
        return;
    whisper_request_free(&c->req);
    free(c);
}

int whisper_stream_start(http_request *hr, whisper_app *app, whisper_request *req,
                         const char *language)
{
    stream_ctx *c = calloc(1, sizeof(*c));
    if (!c) {
        whisper_request_free(req);
        return -HDM_E_NOMEM;
    }
    /* The language points into the config or into the request taken over. */
    bool own = language != NULL && language == req->language;
    c->app = app;
    c->req = *req;
    memset(req, 0, sizeof(*req));
    c->language = own ? c->req.language : language;
    http_request_stream(hr, produce, c, free_ctx);
    return 0;
}
