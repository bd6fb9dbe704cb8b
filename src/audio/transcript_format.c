/*
 * transcript_format.c - the answer bodies of hailo-whisper, as the original
 * service wrote them (its _format_srt, _format_vtt, _format_timestamp and
 * json_response), and OpenAI's stream events.  See transcript.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pyjson.h"
#include "transcript_text.h"

/* Timestamps beyond this many seconds are clamped (Python would print any int). */
#define TIMESTAMP_MAX_S 1e15

static const struct {
    const char *name;
    const char *content_type;
} formats[] = {
    [TRANSCRIPT_JSON] = {"json", "application/json; charset=utf-8"},
    [TRANSCRIPT_TEXT] = {"text", "text/plain; charset=utf-8"},
    [TRANSCRIPT_SRT] = {"srt", "text/plain; charset=utf-8"},
    [TRANSCRIPT_VERBOSE_JSON] = {"verbose_json", "application/json; charset=utf-8"},
    [TRANSCRIPT_VTT] = {"vtt", "text/vtt; charset=utf-8"},
};
#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

int transcript_format_parse(const char *name, enum transcript_format *out, hdm_err *err)
{
    for (size_t i = 0; name && i < N_FORMATS; i++)
        if (strcmp(name, formats[i].name) == 0) {
            *out = (enum transcript_format)i;
            return 0;
        }
    return hdm_err_set(err, HDM_E_BAD_REQUEST,
                       "response_format '%.64s' is not one of json, text, srt, verbose_json, vtt",
                       name ? name : "");
}

const char *transcript_format_name(enum transcript_format f)
{
    return (size_t)f < N_FORMATS ? formats[f].name : "json";
}

const char *transcript_content_type(enum transcript_format f)
{
    return (size_t)f < N_FORMATS ? formats[f].content_type : formats[TRANSCRIPT_JSON].content_type;
}

/* ---- timestamps: Python's float // and % ----------------------------------------------- */

/* CPython's float_divmod(): floor division and modulo with the sign of w. */
static void py_divmod(double v, double w, double *floordiv, double *mod)
{
    double m = fmod(v, w), div = (v - m) / w;
    if (m != 0.0) {
        if ((w < 0) != (m < 0)) {
            m += w;
            div -= 1.0;
        }
    } else {
        m = copysign(0.0, w);
    }
    double fd;
    if (div != 0.0) {
        fd = floor(div);
        if (div - fd > 0.5)
            fd += 1.0;
    } else {
        fd = copysign(0.0, v / w);
    }
    *floordiv = fd;
    *mod = m;
}

static double py_floordiv(double v, double w)
{
    double fd, m;
    py_divmod(v, w, &fd, &m);
    return fd;
}

static double py_mod(double v, double w)
{
    double fd, m;
    py_divmod(v, w, &fd, &m);
    return m;
}

size_t transcript_timestamp(double seconds, bool srt, char *dst, size_t len)
{
    if (!isfinite(seconds))
        seconds = 0.0;
    seconds = seconds > TIMESTAMP_MAX_S    ? TIMESTAMP_MAX_S
              : seconds < -TIMESTAMP_MAX_S ? -TIMESTAMP_MAX_S
                                           : seconds;
    /* hours = int(s // 3600); minutes = int((s % 3600) // 60); secs = int(s % 60);
     * millis = int((s % 1) * 1000): each truncated toward zero, as int() does. */
    long long hours = (long long)py_floordiv(seconds, 3600.0);
    long long minutes = (long long)py_floordiv(py_mod(seconds, 3600.0), 60.0);
    long long secs = (long long)py_mod(seconds, 60.0);
    long long millis = (long long)(py_mod(seconds, 1.0) * 1000.0);
    int n = snprintf(dst, len, "%02lld:%02lld:%02lld%c%03lld", hours, minutes, secs,
                     srt ? ',' : '.', millis);
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len ? len - 1 : 0;
}

/* ---- bodies -------------------------------------------------------------------------- */

/* Appends text.strip() of a segment (ill-formed UTF-8 replaced first). */
static int append_stripped(buf *out, const char *text)
{
    buf clean = {0};
    size_t a, b;
    int rc = transcript_append_clean(&clean, text, strlen(text));
    if (rc == 0) {
        transcript_py_strip((const char *)clean.data, clean.len, &a, &b);
        rc = b > a ? buf_append(out, clean.data + a, b - a) : 0;
    }
    buf_free(&clean);
    return rc;
}

/* One cue: "{start} --> {end}\n{text.strip()}\n". */
static int append_cue(buf *out, const transcript_segment *s, bool srt)
{
    char start[32], end[32];
    transcript_timestamp(s->start, srt, start, sizeof(start));
    transcript_timestamp(s->end, srt, end, sizeof(end));
    int rc = buf_printf(out, "%s --> %s\n", start, end);
    return rc ? rc : append_stripped(out, s->text) ? -HDM_E_NOMEM : buf_append(out, "\n", 1);
}

/* SRT: "{i}\n" + cue per segment (i from 1), joined with "\n". */
static int render_srt(const transcript *t, buf *out)
{
    for (size_t i = 0; i < t->n; i++) {
        int rc = (i ? buf_append(out, "\n", 1) : 0) ?: buf_printf(out, "%zu\n", i + 1);
        if (rc || (rc = append_cue(out, &t->segments[i], true)))
            return rc;
    }
    return 0;
}

/* VTT: ["WEBVTT\n"] + cues, joined with "\n". */
static int render_vtt(const transcript *t, buf *out)
{
    int rc = buf_append(out, "WEBVTT\n", 7);
    for (size_t i = 0; i < t->n && rc == 0; i++)
        rc = buf_append(out, "\n", 1) ?: append_cue(out, &t->segments[i], false);
    return rc;
}

static cJSON *segment_json(const transcript_segment *s, size_t id, double temperature)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddNumberToObject(o, "id", (double)id) ||
        !pyjson_add_float(o, "start", s->start) || !pyjson_add_float(o, "end", s->end) ||
        !cJSON_AddStringToObject(o, "text", s->text) || !cJSON_AddArrayToObject(o, "tokens") ||
        !pyjson_add_float(o, "temperature", temperature) ||
        !cJSON_AddNullToObject(o, "avg_logprob") ||
        !cJSON_AddNullToObject(o, "compression_ratio") ||
        !cJSON_AddNullToObject(o, "no_speech_prob")) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Prints obj as json.dumps does, appends it to out and frees obj. */
static int append_json(buf *out, cJSON *obj)
{
    char *s = obj ? pyjson_print(obj, PYJSON_DUMPS) : NULL;
    int rc = s ? buf_append(out, s, strlen(s)) : -HDM_E_NOMEM;
    free(s);
    cJSON_Delete(obj);
    return rc;
}

static int render_json(const transcript *t, bool verbose, const transcript_meta *m, buf *out)
{
    char *text = transcript_text(t);
    cJSON *o = cJSON_CreateObject();
    bool ok = text && o;

    if (ok && verbose) {
        cJSON *segs;
        ok = cJSON_AddStringToObject(o, "task", m && m->task ? m->task : "transcribe") &&
             cJSON_AddStringToObject(o, "language", m && m->language ? m->language : "") &&
             pyjson_add_float(o, "duration", m ? m->duration : 0.0) &&
             cJSON_AddStringToObject(o, "text", text) &&
             (segs = cJSON_AddArrayToObject(o, "segments"));
        for (size_t i = 0; ok && i < t->n; i++) {
            cJSON *s = segment_json(&t->segments[i], i, m ? m->temperature : 0.0);
            ok = s && cJSON_AddItemToArray(segs, s);
        }
    } else if (ok) {
        ok = cJSON_AddStringToObject(o, "text", text) != NULL;
    }
    free(text);
    if (!ok) {
        cJSON_Delete(o);
        return -HDM_E_NOMEM;
    }
    return append_json(out, o);
}

int transcript_render(const transcript *t, enum transcript_format f, const transcript_meta *meta,
                      buf *out, hdm_err *err)
{
    int rc;
    switch (f) {
    case TRANSCRIPT_TEXT: {
        char *text = transcript_text(t);
        rc = text ? buf_append(out, text, strlen(text)) : -HDM_E_NOMEM;
        free(text);
        break;
    }
    case TRANSCRIPT_SRT:
        rc = render_srt(t, out);
        break;
    case TRANSCRIPT_VTT:
        rc = render_vtt(t, out);
        break;
    case TRANSCRIPT_VERBOSE_JSON:
        rc = render_json(t, true, meta, out);
        break;
    case TRANSCRIPT_JSON:
    default:
        rc = render_json(t, false, meta, out);
        break;
    }
    return rc < 0 ? hdm_err_set(err, HDM_E_NOMEM, "out of memory building the transcript") : 0;
}

/* ---- stream events -------------------------------------------------------------------- */

static char *event(cJSON *o)
{
    char *s = o ? pyjson_print(o, PYJSON_DUMPS) : NULL;
    cJSON_Delete(o);
    return s;
}

/* True when segments before i hold nothing but whitespace. */
static bool only_space_before(const transcript *t, size_t i)
{
    for (size_t k = 0; k < i; k++) {
        buf clean = {0};
        size_t a, b;
        if (transcript_append_clean(&clean, t->segments[k].text, strlen(t->segments[k].text)) < 0) {
            buf_free(&clean);
            return false;
        }
        transcript_py_strip((const char *)clean.data, clean.len, &a, &b);
        buf_free(&clean);
        if (b > a)
            return false;
    }
    return true;
}

char *transcript_event_delta(const transcript *t, size_t i)
{
    buf clean = {0};
    size_t a = 0, b;
    char *delta = NULL, *s = NULL;
    if (i >= t->n)
        return NULL;
    if (transcript_append_clean(&clean, t->segments[i].text, strlen(t->segments[i].text)) < 0)
        goto out;
    if (only_space_before(t, i))
        transcript_py_strip((const char *)clean.data, clean.len, &a, &b);
    if (!(delta = malloc(clean.len - a + 1)))
        goto out;
    if (clean.len > a)
        memcpy(delta, clean.data + a, clean.len - a);
    delta[clean.len - a] = '\0';
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, "type", "transcript.text.delta") ||
              !cJSON_AddStringToObject(o, "delta", delta))) {
        cJSON_Delete(o);
        o = NULL;
    }
    s = event(o);
out:
    free(delta);
    buf_free(&clean);
    return s;
}

char *transcript_event_segment(const transcript *t, size_t i)
{
    char id[32];
    if (i >= t->n)
        return NULL;
    snprintf(id, sizeof(id), "seg_%zu", i);
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, "type", "transcript.text.segment") ||
              !cJSON_AddStringToObject(o, "id", id) ||
              !pyjson_add_float(o, "start", t->segments[i].start) ||
              !pyjson_add_float(o, "end", t->segments[i].end) ||
              !cJSON_AddStringToObject(o, "text", t->segments[i].text))) {
        cJSON_Delete(o);
        o = NULL;
    }
    return event(o);
}

char *transcript_event_done(const transcript *t)
{
    char *text = transcript_text(t);
    cJSON *o = text ? cJSON_CreateObject() : NULL;
    if (o && (!cJSON_AddStringToObject(o, "type", "transcript.text.done") ||
              !cJSON_AddStringToObject(o, "text", text))) {
        cJSON_Delete(o);
        o = NULL;
    }
    free(text);
    return event(o);
}
