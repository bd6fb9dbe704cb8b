/*
 * test_request.c - reading /v1/pose/detect requests (request.c): the JSON
 * and multipart forms over the config's defaults, what the original
 * accepted (numeric strings, nulls, data: URIs cut at the first comma,
 * Python's lenient base64), and each mistake refused with a sentence that
 * names it (the original's wording where it had one).
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
#include "pose/pose.h"

static pose_config cfg;

static int setup(void **state)
{
    (void)state;
    hdm_err err = {0};
    if (pose_config_defaults(&cfg) < 0 || pose_config_check(&cfg, &err) < 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pose_config_free(&cfg);
    return 0;
}

/* Parses a JSON text into rq; returns the reader's result. */
static int from_json(const char *text, pose_request *rq, hdm_err *err)
{
    cJSON *body = cJSON_Parse(text);
    assert_non_null(body);
    int r = pose_request_from_json(&cfg, body, rq, err);
    cJSON_Delete(body);
    return r;
}

static void expect_json_error(const char *text, const char *needle)
{
    pose_request rq;
    hdm_err err = {0};
    int r = from_json(text, &rq, &err);
    if (r == 0 || !strstr(err.msg, needle))
        fprintf(stderr, "%s: r=%d message \"%s\" lacks \"%s\"\n", text, r, err.msg, needle);
    assert_int_equal(r, -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, needle));
}

static void test_json_defaults(void **state)
{
    (void)state;
    pose_request rq;
    hdm_err err = {0};
    /* "QUJD" is base64 of "ABC" */
    assert_int_equal(from_json("{\"image\": \"QUJD\"}", &rq, &err), 0);
    assert_int_equal(rq.image_len, 3);
    assert_memory_equal(rq.image, "ABC", 3);
    assert_float_equal(rq.params.conf_threshold, 0.5, 0);
    assert_float_equal(rq.params.iou_threshold, 0.45, 0);
    assert_int_equal(rq.params.max_detections, 10);
    assert_float_equal(rq.keypoint_threshold, 0.3, 0);
    assert_false(rq.render);
    assert_int_equal(rq.render_format, POSE_RENDER_JPEG);
    pose_request_free(&rq);
    assert_null(rq.image_owned);
}

static void test_json_all_fields(void **state)
{
    (void)state;
    pose_request rq;
    hdm_err err = {0};
    assert_int_equal(from_json("{\"image\": \"data:image/png;base64,QU\\nJD\", "
                               "\"confidence_threshold\": 0.7, \"iou_threshold\": \"0.25\", "
                               "\"keypoint_threshold\": \" 1 \", \"max_detections\": \"7\", "
                               "\"render\": true, \"render_format\": \"PNG\"}",
                               &rq, &err),
                     0);
    assert_memory_equal(rq.image, "ABC", 3); /* b64decode skips the newline */
    assert_float_equal(rq.params.conf_threshold, 0.7, 0);
    assert_float_equal(rq.params.iou_threshold, 0.25, 0);
    assert_float_equal(rq.keypoint_threshold, 1.0, 0);
    assert_int_equal(rq.params.max_detections, 7);
    assert_true(rq.render);
    assert_int_equal(rq.render_format, POSE_RENDER_PNG);
    pose_request_free(&rq);
    /* nulls are defaults; 4.0 is a whole number; "jpg" is JPEG; a data:
     * prefix is cut at the first comma whatever its media type */
    assert_int_equal(from_json("{\"image\": \"data:text/plain,QUJD\", \"iou_threshold\": null, "
                               "\"max_detections\": 4.0, \"render\": null, "
                               "\"render_format\": \"jpg\"}",
                               &rq, &err),
                     0);
    assert_float_equal(rq.params.iou_threshold, 0.45, 0);
    assert_int_equal(rq.params.max_detections, 4);
    assert_false(rq.render);
    assert_int_equal(rq.render_format, POSE_RENDER_JPEG);
    pose_request_free(&rq);
}

static void test_json_errors(void **state)
{
    (void)state;
    expect_json_error("[1]", "Invalid JSON: expected a JSON object");
    expect_json_error("{}", "Missing 'image' field");
    expect_json_error("{\"image\": null}", "Missing 'image' field");
    expect_json_error("{\"image\": false}", "Missing 'image' field");
    expect_json_error("{\"image\": 0}", "Missing 'image' field");
    expect_json_error("{\"image\": {}}", "Missing 'image' field");
    expect_json_error("{\"image\": 5}", "'image' must be a string");
    expect_json_error("{\"image\": [1]}", "'image' must be a string");
    expect_json_error("{\"image\": \"data:abc\"}", "Invalid base64: a data: URI needs a comma");
    expect_json_error("{\"image\": \"QUJ\"}", "Invalid base64: Incorrect padding");
    expect_json_error("{\"image\": \"QUJDR\"}", "Invalid base64: Invalid base64-encoded string: "
                                                "number of data characters (5)");
    expect_json_error("{\"image\": \"\\u00e9AAA\"}",
                      "Invalid base64: string argument should contain only ASCII characters");
    expect_json_error("{\"image\": \"!!!!\"}", "decodes to no bytes");
    expect_json_error("{\"image\": \"QUJD\", \"confidence_threshold\": 0}",
                      "confidence_threshold 0 is outside (0, 1]");
    expect_json_error("{\"image\": \"QUJD\", \"confidence_threshold\": \"nan\"}",
                      "confidence_threshold must be a number, got \"nan\"");
    expect_json_error("{\"image\": \"QUJD\", \"confidence_threshold\": \"1e999\"}",
                      "confidence_threshold must be a number");
    expect_json_error("{\"image\": \"QUJD\", \"iou_threshold\": false}",
                      "iou_threshold must be a number, got false");
    expect_json_error("{\"image\": \"QUJD\", \"iou_threshold\": -0.01}",
                      "iou_threshold -0.01 is outside [0, 1]");
    expect_json_error("{\"image\": \"QUJD\", \"keypoint_threshold\": 1.01}",
                      "keypoint_threshold 1.01 is outside [0, 1]");
    expect_json_error("{\"image\": \"QUJD\", \"max_detections\": 0}",
                      "max_detections 0 is outside 1..1000");
    expect_json_error("{\"image\": \"QUJD\", \"max_detections\": 1e9}",
                      "max_detections 1000000000 is outside 1..1000");
    expect_json_error("{\"image\": \"QUJD\", \"max_detections\": 2.5}",
                      "max_detections must be a whole number, got 2.5");
    expect_json_error("{\"image\": \"QUJD\", \"max_detections\": \"1e2\"}",
                      "max_detections must be a whole number");
    expect_json_error("{\"image\": \"QUJD\", \"render\": 1}", "render must be true or false");
    expect_json_error("{\"image\": \"QUJD\", \"render_format\": \"tiff\"}",
                      "render_format must be jpeg or png, got 'tiff'");
    expect_json_error("{\"image\": \"QUJD\", \"render_format\": []}",
                      "render_format must be jpeg or png");
}

/* A form of (name, text) pairs; the data points at the strings. */
static void make_form(http_form *f, http_part *parts, const char *const *pairs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        parts[i] = (http_part){.name = pairs[2 * i],
                               .data = (const uint8_t *)pairs[2 * i + 1],
                               .len = strlen(pairs[2 * i + 1])};
    *f = (http_form){.parts = parts, .n = n};
}

static int from_form(const char *const *pairs, size_t n, pose_request *rq, hdm_err *err)
{
    http_part parts[16];
    http_form f;
    make_form(&f, parts, pairs, n);
    return pose_request_from_form(&cfg, &f, rq, err);
}

static void expect_form_error(const char *const *pairs, size_t n, const char *needle)
{
    pose_request rq;
    hdm_err err = {0};
    int r = from_form(pairs, n, &rq, &err);
    if (r == 0 || !strstr(err.msg, needle))
        fprintf(stderr, "r=%d message \"%s\" lacks \"%s\"\n", r, err.msg, needle);
    assert_int_equal(r, -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, needle));
}

static void test_form(void **state)
{
    (void)state;
    pose_request rq;
    hdm_err err = {0};
    const char *const all[] = {"image",
                               "\x89PNG...",
                               "confidence_threshold",
                               "0.25",
                               "iou_threshold",
                               " 0.6\r\n",
                               "keypoint_threshold",
                               "0",
                               "max_detections",
                               "100",
                               "render",
                               "Yes",
                               "render_format",
                               " png ",
                               "comment",
                               "ignored as the original"};
    assert_int_equal(from_form(all, 8, &rq, &err), 0);
    assert_int_equal(rq.image_len, 7);
    assert_null(rq.image_owned); /* borrowed from the body */
    assert_float_equal(rq.params.conf_threshold, 0.25, 0);
    assert_float_equal(rq.params.iou_threshold, 0.6, 0);
    assert_float_equal(rq.keypoint_threshold, 0, 0);
    assert_int_equal(rq.params.max_detections, 100);
    assert_true(rq.render);
    assert_int_equal(rq.render_format, POSE_RENDER_PNG);
    pose_request_free(&rq);

    const char *const image_only[] = {"image", "x"};
    assert_int_equal(from_form(image_only, 1, &rq, &err), 0);
    assert_int_equal(rq.params.max_detections, 10);
    pose_request_free(&rq);

    const char *const none[] = {"picture", "x"};
    expect_form_error(none, 1, "Missing 'image' field");
    const char *const empty[] = {"image", ""};
    expect_form_error(empty, 1, "Missing 'image' field");
    const char *const conf0[] = {"image", "x", "confidence_threshold", "0"};
    expect_form_error(conf0, 2, "confidence_threshold 0 is outside (0, 1]");
    const char *const conf_text[] = {"image", "x", "confidence_threshold", "high"};
    expect_form_error(conf_text, 2,
                      "field 'confidence_threshold' must be a number between 0 and 1");
    const char *const iou[] = {"image", "x", "iou_threshold", "1.5"};
    expect_form_error(iou, 2, "field 'iou_threshold' must be a number between 0 and 1");
    const char *const kpt[] = {"image", "x", "keypoint_threshold", "-1"};
    expect_form_error(kpt, 2, "field 'keypoint_threshold'");
    const char *const max0[] = {"image", "x", "max_detections", "0"};
    expect_form_error(max0, 2, "field 'max_detections' must be an integer between 1 and 1000");
    const char *const maxbig[] = {"image", "x", "max_detections", "1000000000"};
    expect_form_error(maxbig, 2, "field 'max_detections'");
    const char *const render[] = {"image", "x", "render", "please"};
    expect_form_error(render, 2, "field 'render' must be true or false");
    const char *const fmt[] = {"image", "x", "render_format", "gif\n"};
    expect_form_error(fmt, 2, "render_format must be jpeg or png, got 'gif'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_defaults),
        cmocka_unit_test(test_json_all_fields),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_form),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
