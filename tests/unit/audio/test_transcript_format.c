/*
 * test_transcript_format.c - every response format byte for byte against
 * the original service's own output (tests/data/audio/transcript-golden.json,
 * see its README), timestamps, content types, format names, ill-formed
 * UTF-8 and the stream events.
 */
#include <math.h>
#include <string.h>

#include "audio/transcript.h"
#include "audio_test_util.h"

static cJSON *load_json(const char *name)
{
    size_t len;
    char *text = (char *)data_file(name, &len);
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    assert_non_null(j);
    return j;
}

/* A transcript of a case's segments as given (absent start/end 0.0, text ""). */
static void build(const cJSON *segments, transcript *t)
{
    memset(t, 0, sizeof(*t));
    t->cap = (size_t)cJSON_GetArraySize(segments) + 1;
    t->segments = calloc(t->cap, sizeof(*t->segments));
    const cJSON *s;
    cJSON_ArrayForEach(s, segments)
    {
        const cJSON *start = cJSON_GetObjectItem(s, "start"), *end = cJSON_GetObjectItem(s, "end");
        const cJSON *text = cJSON_GetObjectItem(s, "text");
        transcript_segment *seg = &t->segments[t->n++];
        seg->start = start ? start->valuedouble : 0.0;
        seg->end = end ? end->valuedouble : 0.0;
        seg->text = strdup(text ? text->valuestring : "");
    }
}

static char *render(const transcript *t, enum transcript_format f, const transcript_meta *m)
{
    buf out = {0};
    hdm_err err = {0};
    assert_int_equal(transcript_render(t, f, m, &out, &err), 0);
    assert_int_equal(buf_append(&out, "", 1), 0);
    return (char *)out.data;
}

static void test_golden_bodies(void **state)
{
    (void)state;
    cJSON *cases = load_json("audio/transcript-cases.json");
    cJSON *golden = load_json("audio/transcript-golden.json");
    static const struct {
        enum transcript_format f;
        const char *key;
    } formats[] = {
        {TRANSCRIPT_JSON, "json"}, {TRANSCRIPT_VERBOSE_JSON, "verbose_json"},
        {TRANSCRIPT_TEXT, "text"}, {TRANSCRIPT_SRT, "srt"},
        {TRANSCRIPT_VTT, "vtt"},
    };
    int checked = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
        const cJSON *want = cJSON_GetObjectItem(golden, name);
        assert_non_null(want);
        transcript t;
        build(cJSON_GetObjectItem(c, "segments"), &t);
        transcript_meta m = {
            .task = "transcribe",
            .language = cJSON_GetObjectItem(c, "language")->valuestring,
            .duration = cJSON_GetObjectItem(c, "duration")->valuedouble,
            .temperature = cJSON_GetObjectItem(c, "temperature")->valuedouble,
        };
        for (size_t k = 0; k < sizeof(formats) / sizeof(formats[0]); k++) {
            char *got = render(&t, formats[k].f, &m);
            const char *exp = cJSON_GetObjectItem(want, formats[k].key)->valuestring;
            if (strcmp(got, exp) != 0)
                fail_msg("%s, %s:\n got: %s\nwant: %s", name, formats[k].key, got, exp);
            free(got);
            checked++;
        }
        /* Timestamps, each start as SRT and as VTT. */
        const cJSON *ts;
        cJSON_ArrayForEach(ts, cJSON_GetObjectItem(want, "timestamps"))
        {
            double v = strtod(ts->string, NULL);
            char got[32];
            transcript_timestamp(v, true, got, sizeof(got));
            assert_string_equal(got, cJSON_GetArrayItem(ts, 0)->valuestring);
            transcript_timestamp(v, false, got, sizeof(got));
            assert_string_equal(got, cJSON_GetArrayItem(ts, 1)->valuestring);
            checked++;
        }
        transcript_free(&t);
    }
    assert_true(checked > 40);
    cJSON_Delete(cases);
    cJSON_Delete(golden);
}

static void test_timestamp_edges(void **state)
{
    (void)state;
    char s[32];
    assert_int_equal(transcript_timestamp(0.0, true, s, sizeof(s)), 12);
    assert_string_equal(s, "00:00:00,000");
    transcript_timestamp(NAN, false, s, sizeof(s));
    assert_string_equal(s, "00:00:00.000");
    transcript_timestamp(INFINITY, true, s, sizeof(s));
    assert_string_equal(s, "00:00:00,000");
    transcript_timestamp(1e300, true, s, sizeof(s));
    assert_true(strlen(s) < sizeof(s));
    transcript_timestamp(61.5, false, s, sizeof(s));
    assert_string_equal(s, "00:01:01.500");
    /* A short buffer truncates safely. */
    assert_int_equal(transcript_timestamp(61.5, false, s, 6), 5);
    assert_string_equal(s, "00:01");
}

static void test_format_names_and_types(void **state)
{
    (void)state;
    static const struct {
        const char *name, *type;
        enum transcript_format f;
    } cases[] = {
        {"json", "application/json; charset=utf-8", TRANSCRIPT_JSON},
        {"text", "text/plain; charset=utf-8", TRANSCRIPT_TEXT},
        {"srt", "text/plain; charset=utf-8", TRANSCRIPT_SRT},
        {"verbose_json", "application/json; charset=utf-8", TRANSCRIPT_VERBOSE_JSON},
        {"vtt", "text/vtt; charset=utf-8", TRANSCRIPT_VTT},
    };
    hdm_err err = {0};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum transcript_format f = TRANSCRIPT_JSON;
        assert_int_equal(transcript_format_parse(cases[i].name, &f, &err), 0);
        assert_int_equal(f, cases[i].f);
        assert_string_equal(transcript_format_name(f), cases[i].name);
        assert_string_equal(transcript_content_type(f), cases[i].type);
    }
    enum transcript_format f = TRANSCRIPT_SRT;
    assert_int_equal(transcript_format_parse("xml", &f, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg,
                        "response_format 'xml' is not one of json, text, srt, verbose_json, vtt");
    assert_int_equal(f, TRANSCRIPT_SRT);
    assert_int_equal(transcript_format_parse("JSON", &f, &err), -HDM_E_BAD_REQUEST);
    assert_int_equal(transcript_format_parse(NULL, &f, &err), -HDM_E_BAD_REQUEST);
}

static transcript two(const char *a, const char *b)
{
    transcript t = {0};
    t.cap = 2;
    t.segments = calloc(2, sizeof(*t.segments));
    t.segments[0] = (transcript_segment){0.0, 1.5, strdup(a)};
    t.segments[1] = (transcript_segment){1.5, 3.0, strdup(b)};
    t.n = 2;
    return t;
}

static void test_ill_formed_utf8(void **state)
{
    (void)state;
    transcript t = two(" caf\xc3", "\xa9 ok \xff");
    transcript_meta m = {.task = "transcribe", .language = "en", .duration = 3.0};
    /* Each segment decodes on its own, as the Python strings did. */
    char *text = render(&t, TRANSCRIPT_TEXT, &m);
    assert_string_equal(text, "caf\xef\xbf\xbd\xef\xbf\xbd ok \xef\xbf\xbd");
    free(text);
    char *json = render(&t, TRANSCRIPT_JSON, &m);
    assert_string_equal(json, "{\"text\": \"caf\\ufffd\\ufffd ok \\ufffd\"}");
    free(json);
    char *srt = render(&t, TRANSCRIPT_SRT, &m);
    assert_string_equal(srt, "1\n00:00:00,000 --> 00:00:01,500\ncaf\xef\xbf\xbd\n\n"
                             "2\n00:00:01,500 --> 00:00:03,000\n\xef\xbf\xbd ok \xef\xbf\xbd\n");
    free(srt);
    transcript_free(&t);
    transcript_free(&t); /* idempotent */
}

static void test_stream_events(void **state)
{
    (void)state;
    transcript t = two("  \n", " Hello");
    char *e = transcript_event_delta(&t, 0);
    assert_string_equal(e, "{\"type\": \"transcript.text.delta\", \"delta\": \"\"}");
    free(e);
    /* Leading space dropped until the first visible text. */
    e = transcript_event_delta(&t, 1);
    assert_string_equal(e, "{\"type\": \"transcript.text.delta\", \"delta\": \"Hello\"}");
    free(e);
    e = transcript_event_segment(&t, 1);
    assert_string_equal(e, "{\"type\": \"transcript.text.segment\", \"id\": \"seg_1\", "
                           "\"start\": 1.5, \"end\": 3.0, \"text\": \" Hello\"}");
    free(e);
    e = transcript_event_done(&t);
    assert_string_equal(e, "{\"type\": \"transcript.text.done\", \"text\": \"Hello\"}");
    free(e);
    assert_null(transcript_event_delta(&t, 2));
    assert_null(transcript_event_segment(&t, 2));
    transcript_free(&t);

    /* Later segments keep their leading space: the deltas add up to the text. */
    t = two(" One.", " Two.");
    char *d0 = transcript_event_delta(&t, 0), *d1 = transcript_event_delta(&t, 1);
    assert_string_equal(d0, "{\"type\": \"transcript.text.delta\", \"delta\": \"One.\"}");
    assert_string_equal(d1, "{\"type\": \"transcript.text.delta\", \"delta\": \" Two.\"}");
    free(d0);
    free(d1);
    transcript_free(&t);
}

/* verbose_json says translate when asked, and an empty transcript is well-formed. */
static void test_verbose_translate(void **state)
{
    (void)state;
    transcript t = {0};
    transcript_meta m = {.task = "translate", .language = "de", .duration = 1.25};
    char *v = render(&t, TRANSCRIPT_VERBOSE_JSON, &m);
    assert_string_equal(v, "{\"task\": \"translate\", \"language\": \"de\", \"duration\": 1.25, "
                           "\"text\": \"\", \"segments\": []}");
    free(v);
    v = render(&t, TRANSCRIPT_VERBOSE_JSON, NULL);
    assert_string_equal(v, "{\"task\": \"transcribe\", \"language\": \"\", \"duration\": 0.0, "
                           "\"text\": \"\", \"segments\": []}");
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_bodies),          cmocka_unit_test(test_timestamp_edges),
        cmocka_unit_test(test_format_names_and_types), cmocka_unit_test(test_ill_formed_utf8),
        cmocka_unit_test(test_stream_events),          cmocka_unit_test(test_verbose_translate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
