/*
 * test_routes.c - hailo-whisper's error replies (src/whisper/routes.c):
 * the original's {"error": {"message", "type"}} printed as json.dumps,
 * aiohttp's own text answers for unknown paths and methods, the original's
 * 415 sentence, the layer's multipart and size refusals reworded as the
 * original's, the status of each failure, and the event framing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "whisper/whisper.h"

static void layer(int status, const char *msg, int want_status, const char *want_type,
                  const char *want_body)
{
    http_reply r = {0};
    whisper_layer_error(status, msg, &r);
    assert_int_equal(r.status, want_status);
    assert_string_equal(r.content_type, want_type);
    assert_non_null(r.raw);
    char *text = strndup(r.raw, r.raw_len);
    if (strcmp(text, want_body) != 0)
        fail_msg("got %s\nwant %s", text, want_body);
    free(text);
    free(r.raw);
}

#define JSON "application/json; charset=utf-8"
#define TEXT "text/plain; charset=utf-8"

static void test_layer_errors(void **state)
{
    (void)state;
    layer(404, "no route for GET /x", 404, TEXT, "404: Not Found");
    layer(405, "method DELETE is not allowed", 405, TEXT, "405: Method Not Allowed");
    layer(415, "Content-Type must be multipart/form-data, not \"application/json\"", 415, JSON,
          "{\"error\": {\"message\": \"Content-Type must be multipart/form-data. This endpoint "
          "follows the OpenAI Whisper API specification and requires audio files to be uploaded "
          "as multipart form data with a 'file' field. Raw audio payloads are not supported.\", "
          "\"type\": \"invalid_request_error\"}}");
    layer(400, "invalid multipart body: field 'file' is given more than once", 400, JSON,
          "{\"error\": {\"message\": \"Invalid multipart request: field 'file' is given more "
          "than once\", \"type\": \"invalid_request_error\"}}");
    layer(400, "multipart/form-data needs a boundary parameter in its Content-Type", 400, JSON,
          "{\"error\": {\"message\": \"Invalid multipart request: multipart/form-data needs a "
          "boundary parameter in its Content-Type\", \"type\": \"invalid_request_error\"}}");
    layer(400, "the request target contains a NUL byte", 400, JSON,
          "{\"error\": {\"message\": \"the request target contains a NUL byte\", \"type\": "
          "\"invalid_request_error\"}}");
    layer(413, "request body exceeds the limit of 27262976 bytes", 413, JSON,
          "{\"error\": {\"message\": \"Audio file too large: request body exceeds the limit of "
          "27262976 bytes\", \"type\": \"invalid_request_error\"}}");
    layer(401, "missing or invalid bearer token", 401, JSON,
          "{\"error\": {\"message\": \"missing or invalid bearer token\", \"type\": "
          "\"invalid_request_error\"}}");
    layer(503, "too many requests queued", 503, JSON,
          "{\"error\": {\"message\": \"too many requests queued\", \"type\": "
          "\"internal_error\"}}");
}

static void test_error_json(void **state)
{
    (void)state;
    char *j = whisper_error_json(400, "caf\xc3\xa9 \"x\"");
    assert_string_equal(j, "{\"error\": {\"message\": \"caf\\u00e9 \\\"x\\\"\", \"type\": "
                           "\"invalid_request_error\"}}");
    free(j);
    j = whisper_error_json(500, "Device manager error: Inference failed: x");
    assert_non_null(strstr(j, "\"type\": \"internal_error\""));
    free(j);
}

static void test_failure_status(void **state)
{
    (void)state;
    assert_int_equal(whisper_failure_status(-HDM_E_BAD_REQUEST), 400);
    assert_int_equal(whisper_failure_status(-HDM_E_TOO_LARGE), 413);
    assert_int_equal(whisper_failure_status(-HDM_E_BUSY), 503);
    assert_int_equal(whisper_failure_status(-HDM_E_UNAVAILABLE), 503);
    assert_int_equal(whisper_failure_status(-HDM_E_CANCELLED), 503);
    assert_int_equal(whisper_failure_status(-HDM_E_DEADLINE_EXCEEDED), 504);
    assert_int_equal(whisper_failure_status(-HDM_E_INTERNAL), 500);
    assert_int_equal(whisper_failure_status(-HDM_E_DEVICE_ERROR), 500);
}

static void test_sse_event(void **state)
{
    (void)state;
    size_t len;
    char *ev = whisper_sse_event("{\"type\": \"transcript.text.done\", \"text\": \"\"}", &len);
    assert_string_equal(ev, "data: {\"type\": \"transcript.text.done\", \"text\": \"\"}\n\n");
    assert_int_equal(len, strlen(ev));
    free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layer_errors),
        cmocka_unit_test(test_error_json),
        cmocka_unit_test(test_failure_status),
        cmocka_unit_test(test_sse_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
