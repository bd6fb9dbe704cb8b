/*
 * test_form.c - the fields of a transcription request (src/whisper/form.c),
 * from real multipart bodies through the HTTP layer's parser: the
 * original's order of checks and sentences, the format hint, language
 * spellings, timestamp_granularities[], stream and the size limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "http/http_internal.h"
#include "whisper/whisper.h"

typedef struct field {
    const char *name, *value, *filename, *type;
    size_t len; /* 0: strlen(value) */
} field;

static whisper_config cfg;
static buf body;
static http_form form;

/* Builds and parses a multipart body of the fields (NULL-name terminated). */
static void make_form(const field *f)
{
    buf_reset(&body);
    for (; f->name; f++) {
        buf_printf(&body, "--B\r\nContent-Disposition: form-data; name=\"%s\"", f->name);
        if (f->filename)
            buf_printf(&body, "; filename=\"%s\"", f->filename);
        buf_printf(&body, "\r\n");
        if (f->type)
            buf_printf(&body, "Content-Type: %s\r\n", f->type);
        buf_printf(&body, "\r\n");
        buf_append(&body, f->value, f->len ? f->len : strlen(f->value));
        buf_printf(&body, "\r\n");
    }
    buf_printf(&body, "--B--\r\n");
    http_multipart_limits lim = {.max_parts = 64, .max_part_header_bytes = 8192};
    char err[256];
    if (http_multipart_parse(body.data, body.len, "multipart/form-data; boundary=B", &lim, &form,
                             err, sizeof(err)) != 0)
        fail_msg("the test's body does not parse: %s", err);
}

/* Parses the form; returns the status and leaves the sentence in err. */
static int parse(const field *f, bool translate, whisper_request *req, hdm_err *err)
{
    make_form(f);
    int status = whisper_request_parse(&form, &cfg, translate, req, err);
    return status;
}

static void done(whisper_request *req)
{
    whisper_request_free(req);
    http_form_free(&form);
}

#define FILE_WAV {"file", "RIFF....WAVE", "a.wav", NULL, 0}
#define MODEL {"model", "Whisper-Base", NULL, NULL, 0}
#define END {NULL, NULL, NULL, NULL, 0}

static void expect(const field *f, int status, const char *words)
{
    whisper_request req;
    hdm_err err = {0};
    int got = parse(f, false, &req, &err);
    if (got != status || !strstr(err.msg, words))
        fail_msg("got %d '%s', want %d with '%s'", got, err.msg, status, words);
    done(&req);
}

static void test_defaults(void **state)
{
    (void)state;
    whisper_request req;
    hdm_err err = {0};
    field f[] = {FILE_WAV, MODEL, END};
    assert_int_equal(parse(f, false, &req, &err), 0);
    assert_int_equal(req.format, TRANSCRIPT_JSON);
    assert_false(req.stream);
    assert_false(req.translate);
    assert_null(req.language);
    assert_string_equal(req.model, "Whisper-Base");
    assert_int_equal(req.file->len, 12);
    assert_string_equal(req.name_hint, "a.wav"); /* no type: the file name */
    done(&req);
}

/* The original's order: file, model, model name, size. */
static void test_order_and_sentences(void **state)
{
    (void)state;
    field nothing[] = {{"prompt", "hi", NULL, NULL, 0}, END};
    expect(nothing, 400, "Missing 'file' field");
    field no_file[] = {MODEL, {"response_format", "xml", NULL, NULL, 0}, END};
    expect(no_file, 400, "Missing 'file' field");
    field empty[] = {{"file", "", "a.wav", NULL, 0}, MODEL, END};
    expect(empty, 400, "Missing 'file' field: the file is empty");
    field no_model[] = {FILE_WAV, {"response_format", "xml", NULL, NULL, 0}, END};
    expect(no_model, 400, "Missing 'model' field");
    field blank_model[] = {FILE_WAV, {"model", "  ", NULL, NULL, 0}, END};
    expect(blank_model, 400, "Missing 'model' field");
    field other[] = {FILE_WAV, {"model", "whisper-1", NULL, NULL, 0}, END};
    expect(other, 400, "Unsupported model 'whisper-1'. Available: Whisper-Base");
    field bad_utf8[] = {FILE_WAV, {"model", "Whisper\xff", NULL, NULL, 0}, END};
    expect(bad_utf8, 400, "field 'model' must be UTF-8 text");
}

static void test_size_limit(void **state)
{
    (void)state;
    static char big[2049];
    memset(big, 'x', sizeof(big));
    cfg.max_file_bytes = 2048;
    field over[] = {{"file", big, "a.wav", NULL, 2049}, MODEL, END};
    expect(over, 413, "Audio file too large (max 2048 bytes)");
    field at[] = {{"file", big, "a.wav", NULL, 2048}, MODEL, END};
    whisper_request req;
    hdm_err err = {0};
    assert_int_equal(parse(at, false, &req, &err), 0);
    done(&req);
    cfg.max_file_bytes = WHISPER_DEFAULT_MAX_FILE_BYTES;
}

static void test_formats(void **state)
{
    (void)state;
    static const char *const names[] = {"json", "text", "srt", "verbose_json", "vtt"};
    for (int i = 0; i < 5; i++) {
        field f[] = {FILE_WAV, MODEL, {"response_format", names[i], NULL, NULL, 0}, END};
        whisper_request req;
        hdm_err err = {0};
        assert_int_equal(parse(f, false, &req, &err), 0);
        assert_string_equal(transcript_format_name(req.format), names[i]);
        done(&req);
    }
    field spaced[] = {FILE_WAV, MODEL, {"response_format", " srt\n", NULL, NULL, 0}, END};
    whisper_request req;
    hdm_err err = {0};
    assert_int_equal(parse(spaced, false, &req, &err), 0);
    assert_int_equal(req.format, TRANSCRIPT_SRT);
    done(&req);
    field xml[] = {FILE_WAV, MODEL, {"response_format", "xml", NULL, NULL, 0}, END};
    expect(xml, 400, "response_format 'xml' is not one of json, text, srt, verbose_json, vtt");
}

static void test_language(void **state)
{
    (void)state;
    whisper_request req;
    hdm_err err = {0};
    field de[] = {FILE_WAV, MODEL, {"language", " de ", NULL, NULL, 0}, END};
    assert_int_equal(parse(de, false, &req, &err), 0);
    assert_string_equal(req.language, "de");
    done(&req);
    static const char *const detect[] = {"", "  ", "auto", "AUTO"};
    for (int i = 0; i < 4; i++) {
        field f[] = {FILE_WAV, MODEL, {"language", detect[i], NULL, NULL, 0}, END};
        assert_int_equal(parse(f, false, &req, &err), 0);
        assert_null(req.language);
        done(&req);
    }
    field bad[] = {FILE_WAV, MODEL, {"language", "en\x01x", NULL, NULL, 0}, END};
    expect(bad, 400, "language 'en?x' is not a language code");
}

static void test_granularities(void **state)
{
    (void)state;
    whisper_request req;
    hdm_err err = {0};
    field seg[] = {FILE_WAV, MODEL, {"timestamp_granularities[]", "segment", NULL, NULL, 0}, END};
    assert_int_equal(parse(seg, false, &req, &err), 0);
    done(&req);
    field word[] = {FILE_WAV,
                    MODEL,
                    {"timestamp_granularities[]", "segment", NULL, NULL, 0},
                    {"timestamp_granularities[]", "word", NULL, NULL, 0},
                    END};
    expect(word, 400, "'word' is not available");
    field plain[] = {FILE_WAV, MODEL, {"timestamp_granularities", "word", NULL, NULL, 0}, END};
    expect(plain, 400, "segment timestamps only");
    field other[] = {FILE_WAV, MODEL,
                     {"timestamp_granularities[]", "a-very-long-granularity", NULL, NULL, 0}, END};
    expect(other, 400, "must be 'segment' or 'word', not 'a-very-long-gra...'");
}

static void test_stream_and_ignored(void **state)
{
    (void)state;
    whisper_request req;
    hdm_err err = {0};
    field f[] = {FILE_WAV,
                 MODEL,
                 {"stream", "true", NULL, NULL, 0},
                 {"temperature", "hot", NULL, NULL, 0},
                 {"prompt", " Names: Ada. ", NULL, NULL, 0},
                 {"include[]", "logprobs", NULL, NULL, 0},
                 END};
    assert_int_equal(parse(f, true, &req, &err), 0);
    assert_true(req.stream);
    assert_true(req.translate);
    assert_string_equal(req.prompt, "Names: Ada.");
    done(&req);
    field bad[] = {FILE_WAV, MODEL, {"stream", "perhaps", NULL, NULL, 0}, END};
    expect(bad, 400, "field 'stream' must be true or false");
}

/* The part's own type names the format as the original's temporary file
 * name did; the file name helps when the type says nothing. */
static void test_hint(void **state)
{
    (void)state;
    whisper_request req;
    hdm_err err = {0};
    field typed[] = {{"file", "ID3...", "upload.bin", "audio/mpeg", 0}, MODEL, END};
    assert_int_equal(parse(typed, false, &req, &err), 0);
    assert_string_equal(req.name_hint, ".mp3");
    done(&req);
    field octets[] = {{"file", "ID3...", "voice.ogg", "application/octet-stream", 0}, MODEL, END};
    assert_int_equal(parse(octets, false, &req, &err), 0);
    assert_string_equal(req.name_hint, "voice.ogg");
    done(&req);
    field bare[] = {{"file", "ID3...", NULL, NULL, 0}, MODEL, END};
    assert_int_equal(parse(bare, false, &req, &err), 0);
    assert_null(req.name_hint);
    done(&req);
}

static int setup(void **state)
{
    (void)state;
    return whisper_config_defaults(&cfg);
}

static int teardown(void **state)
{
    (void)state;
    whisper_config_free(&cfg);
    buf_free(&body);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),      cmocka_unit_test(test_order_and_sentences),
        cmocka_unit_test(test_size_limit),    cmocka_unit_test(test_formats),
        cmocka_unit_test(test_language),      cmocka_unit_test(test_granularities),
        cmocka_unit_test(test_stream_and_ignored), cmocka_unit_test(test_hint),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
