/*
 * test_http_multipart.c - the multipart/form-data parser on bytes (no
 * server): parts, names, filenames, types, every refusal with its sentence,
 * the limits, and the field helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http_internal.h"

static const http_multipart_limits LIM = {.max_parts = 4, .max_part_header_bytes = 256};

static int parse(const char *body, const char *ct, http_form *f, char *err)
{
    return http_multipart_parse((const uint8_t *)body, strlen(body), ct, &LIM, f, err, 256);
}

#define CT "multipart/form-data; boundary=B"

static void test_parts(void **state)
{
    (void)state;
    http_form f;
    char err[256];
    const char *body = "preamble\r\n--B\r\n"
                       "Content-Disposition: form-data; name=\"file\"; filename=\"a b.wav\"\r\n"
                       "Content-Type: audio/wav\r\n\r\nRIFF\r\n--not-it\r\n"
                       "--B  \r\ncontent-disposition: FORM-DATA; name=model\r\n\r\nwhisper\r\n"
                       "--B\r\nContent-Disposition: form-data; name=\"files[]\"\r\n\r\n\r\n"
                       "--B\r\nContent-Disposition: form-data; name=\"files[]\"; "
                       "filename*=UTF-8''%C3%A9t%C3%A9.png\r\n\r\nx\r\n--B--\r\nepilogue";
    assert_int_equal(parse(body, CT, &f, err), 0);
    assert_int_equal(http_form_count(&f), 4);
    const http_part *p = http_form_at(&f, 0);
    assert_string_equal(p->name, "file");
    assert_string_equal(p->filename, "a b.wav");
    assert_string_equal(p->content_type, "audio/wav");
    assert_int_equal(p->len, 14);
    assert_memory_equal(p->data, "RIFF\r\n--not-it", 14);
    p = http_form_get(&f, "model");
    assert_non_null(p);
    assert_null(p->filename);
    assert_null(p->content_type);
    assert_memory_equal(p->data, "whisper", 7);
    assert_int_equal(http_form_at(&f, 2)->len, 0);
    assert_string_equal(http_form_at(&f, 3)->filename, "\xC3\xA9t\xC3\xA9.png");
    assert_null(http_form_at(&f, 4));
    assert_null(http_form_get(&f, "nope"));
    http_form_free(&f);

    /* A quoted boundary, and one part whose data is empty. */
    assert_int_equal(parse("--a=b\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n--a=b--",
                           "multipart/form-data; charset=utf-8; boundary=\"a=b\"", &f, err),
                     0);
    assert_int_equal(http_form_at(&f, 0)->len, 0);
    http_form_free(&f);
}

static void expect_error(const char *body, const char *ct, const char *want)
{
    http_form f;
    char err[256] = "";
    assert_int_equal(parse(body, ct, &f, err), -1);
    if (strstr(err, want) == NULL)
        fail_msg("error \"%s\" does not contain \"%s\"", err, want);
    assert_null(f.parts);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_error("--B--", "multipart/form-data", "boundary parameter");
    expect_error("--B--", "multipart/form-data; boundary=", "1 to 70");
    expect_error("--B--", "multipart/form-data; boundary=\"unterminated", "boundary");
    expect_error("--B--", "multipart/form-data; boundary=a\x01", "RFC 2046");
    char longb[128] = "multipart/form-data; boundary=";
    memset(longb + strlen(longb), 'x', 71);
    expect_error("--B--", longb, "1 to 70");
    expect_error("", CT, "the body is empty");
    expect_error("no boundary here", CT, "does not contain the boundary");
    expect_error("--B--", CT, "the body has no parts");
    expect_error("--B\r\nContent-Disposition: form-data; name=a\r\n\r\nxx", CT,
                 "part 1 is not followed by a boundary");
    expect_error("--B\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--B", CT,
                 "ends without the closing boundary");
    expect_error("--B\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--Bjunk", CT,
                 "not followed by CRLF");
    expect_error("--B\r\n\r\nx\r\n--B--", CT, "part 1 has no Content-Disposition header");
    expect_error("--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--", CT,
                 "part 1 has no Content-Disposition header");
    expect_error("--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--", CT,
                 "part 1 has no name");
    expect_error("--B\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n--B--", CT,
                 "part 1 has no name");
    expect_error("--B\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--B--", CT,
                 "must be form-data");
    expect_error("--B\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx\r\n--B--", CT,
                 "malformed Content-Disposition");
    expect_error("--B\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--B--", CT,
                 "malformed Content-Disposition");
    expect_error("--B\r\nno colon\r\n\r\nx\r\n--B--", CT, "malformed header line");
    expect_error("--B\r\nContent-Disposition: form-data; name=a\r\n folded\r\n\r\nx\r\n--B--",
                 CT, "malformed header line");
    expect_error("--B\r\nContent-Disposition: form-data; name=a\rX: y\r\n\r\nx\r\n--B--", CT,
                 "bare CR");
    expect_error("--B\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: "
                 "form-data; name=b\r\n\r\nx\r\n--B--",
                 CT, "two Content-Disposition");
    expect_error("--B\r\nContent-Disposition: form-data; name=image\r\n\r\na\r\n"
                 "--B\r\nContent-Disposition: form-data; name=image\r\n\r\nb\r\n--B--",
                 CT, "field 'image' is given more than once");
    expect_error("--B\r\nContent-Disposition: form-data; name=a\r\n", CT, "ends inside its headers");
    /* Limits: 4 parts, 256 bytes of part headers. */
    char many[1024] = "";
    for (int i = 0; i < 5; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many),
                 "--B\r\nContent-Disposition: form-data; name=f%d\r\n\r\nx\r\n", i);
    strcat(many, "--B--");
    expect_error(many, CT, "more than 4 parts");
    char big[1024] = "--B\r\nContent-Disposition: form-data; name=a\r\nX-Pad: ";
    memset(big + strlen(big), 'p', 300);
    strcat(big, "\r\n\r\nx\r\n--B--");
    expect_error(big, CT, "longer than 256 bytes");
}

static void test_field_helpers(void **state)
{
    (void)state;
    http_form f;
    char err[256];
    const char *body = "--B\r\nContent-Disposition: form-data; name=t\r\n\r\n 0.5 \r\n"
                       "--B\r\nContent-Disposition: form-data; name=n\r\n\r\n12\r\n"
                       "--B\r\nContent-Disposition: form-data; name=b\r\n\r\nTrue\r\n"
                       "--B\r\nContent-Disposition: form-data; name=img; filename=x\r\n\r\n\r\n"
                       "--B--";
    assert_int_equal(parse(body, CT, &f, err), 0);
    double d = -1;
    assert_int_equal(http_form_double(&f, "t", 0, 1, &d, err, sizeof(err)), 1);
    assert_true(d == 0.5);
    assert_int_equal(http_form_double(&f, "missing", 0, 1, &d, err, sizeof(err)), 0);
    assert_int_equal(http_form_double(&f, "n", 0, 1, &d, err, sizeof(err)), -1);
    assert_string_equal(err, "field 'n' must be a number between 0 and 1, got '12'");
    long l = 0;
    assert_int_equal(http_form_long(&f, "n", 1, 100, &l, err, sizeof(err)), 1);
    assert_int_equal(l, 12);
    assert_int_equal(http_form_long(&f, "t", 1, 100, &l, err, sizeof(err)), -1);
    assert_string_equal(err, "field 't' must be an integer between 1 and 100, got ' 0.5 '");
    bool b = false;
    assert_int_equal(http_form_bool(&f, "b", &b, err, sizeof(err)), 1);
    assert_true(b);
    assert_int_equal(http_form_bool(&f, "n", &b, err, sizeof(err)), -1);
    assert_string_equal(err, "field 'n' must be true or false, got '12'");
    char *s = NULL;
    assert_int_equal(http_form_string(&f, "t", &s, err, sizeof(err)), 1);
    assert_string_equal(s, " 0.5 ");
    free(s);
    const http_part *p = NULL;
    assert_int_equal(http_form_file(&f, "img", &p, err, sizeof(err)), -1);
    assert_string_equal(err, "field 'img' is empty");
    assert_int_equal(http_form_file(&f, "n", &p, err, sizeof(err)), 1);
    assert_int_equal(p->len, 2);
    http_form_free(&f);

    /* Text fields must be UTF-8 without NUL. */
    static const char bad[] = "--B\r\nContent-Disposition: form-data; name=t\r\n\r\na\0b\r\n--B--";
    assert_int_equal(http_multipart_parse((const uint8_t *)bad, sizeof(bad) - 1, CT, &LIM, &f, err,
                                          sizeof(err)),
                     0);
    assert_int_equal(http_form_string(&f, "t", &s, err, sizeof(err)), -1);
    assert_string_equal(err, "field 't' must be UTF-8 text");
    http_form_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_field_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
