/*
 * test_request.c - the body of POST /v1/ocr/extract (JSON and multipart)
 * and the languages a request runs: the original's accepted forms, the
 * sentences for everything else, "Unsupported language" listing the
 * loaded ones, the defaults from ocr.languages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/http_internal.h"
#include "ocr/ocr.h"

static int from_json(const char *text, ocr_request *rq, hdm_err *err)
{
    cJSON *j = cJSON_Parse(text);
    assert_non_null(j);
    int r = ocr_request_from_json(j, rq, err);
    /* ref points into the tree: check it before freeing */
    if (r == 0 && rq->ref)
        assert_int_equal(rq->ref_len, strlen(rq->ref));
    cJSON_Delete(j);
    return r;
}

static void expect_json_bad(const char *text, const char *needle)
{
    ocr_request rq;
    hdm_err err = {0};
    assert_int_equal(from_json(text, &rq, &err), -HDM_E_BAD_REQUEST);
    if (!strstr(err.msg, needle))
        fail_msg("'%s': error '%s' does not name '%s'", text, err.msg, needle);
}

static void test_json(void **state)
{
    (void)state;
    ocr_request rq;
    hdm_err err = {0};
    assert_int_equal(from_json("{\"image\": \"data:image/png;base64,AAAA\"}", &rq, &err), 0);
    assert_int_equal(rq.n_langs, 0);
    assert_null(rq.bytes);
    assert_int_equal(from_json("{\"image\": \"x\", \"languages\": [\"en\", \"zh\", \"en\"]}", &rq,
                               &err),
                     0);
    assert_int_equal(rq.n_langs, 2); /* named twice: once */
    assert_string_equal(rq.langs[0], "en");
    assert_string_equal(rq.langs[1], "zh");
    /* One string is one language (the original took its first letter). */
    assert_int_equal(from_json("{\"image\": \"x\", \"languages\": \"zh\"}", &rq, &err), 0);
    assert_int_equal(rq.n_langs, 1);
    assert_string_equal(rq.langs[0], "zh");
    /* null and [] are the defaults. */
    assert_int_equal(from_json("{\"image\": \"x\", \"languages\": null}", &rq, &err), 0);
    assert_int_equal(rq.n_langs, 0);
    assert_int_equal(from_json("{\"image\": \"x\", \"languages\": []}", &rq, &err), 0);
    assert_int_equal(rq.n_langs, 0);
}

static void test_json_bad(void **state)
{
    (void)state;
    expect_json_bad("{}", "Missing 'image' parameter");
    expect_json_bad("{\"image\": null}", "Missing 'image' parameter");
    expect_json_bad("{\"image\": \"\"}", "Missing 'image' parameter");
    expect_json_bad("{\"image\": 12}", "image must be a string");
    expect_json_bad("{\"image\": [\"x\"]}", "image must be a string");
    expect_json_bad("{\"image\": \"x\", \"languages\": 5}", "languages must be a list");
    expect_json_bad("{\"image\": \"x\", \"languages\": {\"en\": 1}}", "languages must be a list");
    expect_json_bad("{\"image\": \"x\", \"languages\": [\"en\", 3]}",
                    "languages[1] must be a string");
    expect_json_bad("{\"image\": \"x\", \"languages\": [\"\"]}", "languages[0] is not a language");
    expect_json_bad("{\"image\": \"x\", \"languages\": [\"../etc\"]}", "not a language code");
    expect_json_bad("[1, 2]", "must be a JSON object");
    /* 33 distinct languages */
    char big[1024] = "{\"image\": \"x\", \"languages\": [";
    for (int i = 0; i < 33; i++)
        snprintf(big + strlen(big), sizeof(big) - strlen(big), "%s\"l%d\"", i ? ", " : "", i);
    strcat(big, "]}");
    expect_json_bad(big, "more than 32 languages");
}

static const http_multipart_limits LIM = {.max_parts = 8, .max_part_header_bytes = 1024};
#define CT "multipart/form-data; boundary=B"

static int from_form(const char *body, size_t len, ocr_request *rq, hdm_err *err, http_form *f)
{
    char perr[256];
    assert_int_equal(http_multipart_parse((const uint8_t *)body, len, CT, &LIM, f, perr, 256), 0);
    return ocr_request_from_form(f, rq, err);
}

static void test_form(void **state)
{
    (void)state;
    ocr_request rq;
    hdm_err err = {0};
    http_form f;
    static const char upload[] =
        "--B\r\nContent-Disposition: form-data; name=\"image\"; filename=\"p.png\"\r\n"
        "Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\nDATA\r\n"
        "--B\r\nContent-Disposition: form-data; name=\"languages\"\r\n\r\nen, zh\r\n--B--\r\n";
    assert_int_equal(from_form(upload, sizeof(upload) - 1, &rq, &err, &f), 0);
    assert_non_null(rq.bytes);
    assert_null(rq.ref);
    assert_int_equal(rq.bytes_len, 12);
    assert_int_equal(rq.n_langs, 2);
    assert_string_equal(rq.langs[1], "zh");
    http_form_free(&f);

    /* A text field holding a reference, and languages as a JSON list. */
    static const char text[] =
        "--B\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\ndata:image/png;base64,QUJD\r\n"
        "--B\r\nContent-Disposition: form-data; name=\"languages\"\r\n\r\n[\"zh\"]\r\n--B--\r\n";
    assert_int_equal(from_form(text, sizeof(text) - 1, &rq, &err, &f), 0);
    assert_null(rq.bytes);
    assert_int_equal(rq.ref_len, strlen("data:image/png;base64,QUJD"));
    assert_memory_equal(rq.ref, "data:image/png;base64,QUJD", rq.ref_len);
    assert_int_equal(rq.n_langs, 1);
    http_form_free(&f);

    /* A JPEG sent as a text field (curl -F 'image=<file'): still an image. */
    static const char jpeg[] = "--B\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n"
                               "\xFF\xD8\xFF\xE0rest\r\n--B--\r\n";
    assert_int_equal(from_form(jpeg, sizeof(jpeg) - 1, &rq, &err, &f), 0);
    assert_non_null(rq.bytes);
    http_form_free(&f);

    static const char none[] =
        "--B\r\nContent-Disposition: form-data; name=\"languages\"\r\n\r\nen\r\n--B--\r\n";
    assert_int_equal(from_form(none, sizeof(none) - 1, &rq, &err, &f), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "Missing 'image' parameter");
    http_form_free(&f);

    static const char badlang[] =
        "--B\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a\"\r\n\r\nx\r\n"
        "--B\r\nContent-Disposition: form-data; name=\"languages\"\r\n\r\n[1]\r\n--B--\r\n";
    assert_int_equal(from_form(badlang, sizeof(badlang) - 1, &rq, &err, &f), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "languages[0] must be a string"));
    http_form_free(&f);
}

/* A config with en, zh, fr of which en and fr were loaded. */
static void setup_langs(ocr_config *cfg, ocr_model_info *info)
{
    hdm_err err = {0};
    assert_int_equal(ocr_config_defaults(cfg), 0);
    static const char yaml[] = "ocr:\n  languages: [zh, fr]\n";
    assert_int_equal(conf_load_string(yaml, strlen(yaml), "t", ocr_config_keys, cfg, NULL, NULL,
                                      &err),
                     0);
    /* The recognition_hefs mapping as ocr_config_load would set it. */
    for (size_t i = 0; i < cfg->n_langs; i++) {
        free(cfg->langs[i].code);
        free(cfg->langs[i].hef);
    }
    const char *codes[3] = {"en", "zh", "fr"};
    for (int i = 0; i < 3; i++) {
        cfg->langs[i].code = strdup(codes[i]);
        cfg->langs[i].hef = strdup(codes[i]);
    }
    cfg->n_langs = 3;
    memset(info, 0, sizeof(*info));
    info->have = true;
    info->found[0] = info->found[2] = true;
}

static void test_languages(void **state)
{
    (void)state;
    ocr_config cfg;
    ocr_model_info info;
    ocr_request rq;
    hdm_err err = {0};
    int idx[OCR_MAX_LANGS];
    size_t n;
    setup_langs(&cfg, &info);

    memset(&rq, 0, sizeof(rq));
    /* Defaults: ocr.languages [zh, fr] keeping the loaded ones. */
    assert_int_equal(ocr_request_languages(&cfg, &info, &rq, idx, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(idx[0], 2);

    rq.n_langs = 2;
    strcpy(rq.langs[0], "fr");
    strcpy(rq.langs[1], "en");
    assert_int_equal(ocr_request_languages(&cfg, &info, &rq, idx, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(idx[0], 2);
    assert_int_equal(idx[1], 0);

    strcpy(rq.langs[1], "zh"); /* configured, but its model file was missing */
    assert_int_equal(ocr_request_languages(&cfg, &info, &rq, idx, &n, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "Unsupported language: 'zh'. Available: ['en', 'fr']");
    strcpy(rq.langs[1], "xx");
    assert_int_equal(ocr_request_languages(&cfg, &info, &rq, idx, &n, &err), -HDM_E_BAD_REQUEST);
    assert_string_equal(err.msg, "Unsupported language: 'xx'. Available: ['en', 'fr']");

    /* No default loaded: the first loaded language. */
    memset(&rq, 0, sizeof(rq));
    info.found[2] = false;
    assert_int_equal(ocr_request_languages(&cfg, &info, &rq, idx, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(idx[0], 0);
    /* Nothing loaded yet. */
    info.have = false;
    assert_int_equal(ocr_request_languages(&cfg, &info, &rq, idx, &n, &err), -HDM_E_UNAVAILABLE);
    ocr_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_bad),
        cmocka_unit_test(test_form),
        cmocka_unit_test(test_languages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
