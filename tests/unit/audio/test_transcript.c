/*
 * test_transcript.c - stitching the model's segments of successive windows:
 * absolute times (offset, clamp to the window, millisecond rounding),
 * order, positions as ids, the original's defaults for missing fields,
 * malformed results, and the joined text.
 */
#include <math.h>
#include <string.h>

#include "audio/transcript.h"
#include "audio_test_util.h"

static int add(transcript *t, const char *json, double offset, double window, hdm_err *err)
{
    cJSON *r = cJSON_Parse(json);
    assert_non_null(r);
    hdm_err_clear(err);
    int rc = transcript_add_window(t, r, offset, window, err);
    cJSON_Delete(r);
    return rc;
}

static void expect_segment(const transcript *t, size_t i, double start, double end,
                           const char *text)
{
    assert_true(i < t->n);
    if (t->segments[i].start != start || t->segments[i].end != end)
        fail_msg("segment %zu: [%.17g, %.17g], want [%.17g, %.17g]", i, t->segments[i].start,
                 t->segments[i].end, start, end);
    assert_string_equal(t->segments[i].text, text);
}

static void test_windows_stitched(void **state)
{
    (void)state;
    transcript t = {0};
    hdm_err err;

    /* The first window, 28.95 s long, as the model answers it. */
    assert_int_equal(add(&t,
                         "{\"segments\": [{\"id\": 0, \"start\": 0.0, \"end\": 2.34, \"text\": \" "
                         "One.\"}, {\"id\": 1, \"start\": 27.1, \"end\": 28.95, \"text\": \" "
                         "Two.\"}]}",
                         0.0, 28.95, &err),
                     0);
    /* The second starts at 28.95 s + 1.57 s of trimmed silence. */
    assert_int_equal(add(&t,
                         "{\"segments\": [{\"id\": 0, \"start\": 0.1, \"end\": 3.0, \"text\": \" "
                         "Three.\"}, {\"id\": 1, \"start\": 20.02, \"end\": 30.0, \"text\": \" "
                         "Four.\"}]}",
                         30.52, 25.0, &err),
                     0);
    assert_int_equal(t.n, 4);
    expect_segment(&t, 0, 0.0, 2.34, " One.");
    expect_segment(&t, 1, 27.1, 28.95, " Two.");
    expect_segment(&t, 2, 30.62, 33.52, " Three.");
    /* Past the window's end: clamped to it. */
    expect_segment(&t, 3, 50.54, 55.52, " Four.");
    char *text = transcript_text(&t);
    assert_string_equal(text, "One. Two. Three. Four.");
    free(text);

    /* A window without speech adds nothing; so does one without "segments". */
    assert_int_equal(add(&t, "{\"segments\": []}", 60.0, 30.0, &err), 0);
    assert_int_equal(add(&t, "{}", 90.0, 30.0, &err), 0);
    assert_int_equal(t.n, 4);
    transcript_free(&t);
    assert_int_equal(t.n, 0);
}

static void test_order_clamp_defaults(void **state)
{
    (void)state;
    transcript t = {0};
    hdm_err err;

    assert_int_equal(
        add(&t, "{\"segments\": [{\"start\": 5, \"end\": 6, \"text\": \"c\"}]}", 0.0, 30.0, &err),
        0);
    /* Out of order within a window: sorted by start, equal starts keep their order. */
    assert_int_equal(add(&t,
                         "{\"segments\": [{\"start\": 4, \"end\": 5, \"text\": \"z\"}, "
                         "{\"start\": 1, \"end\": 2, \"text\": \"x\"}, {\"start\": 1, \"end\": "
                         "1.5, \"text\": \"y\"}]}",
                         10.0, 30.0, &err),
                     0);
    expect_segment(&t, 0, 5.0, 6.0, "c");
    expect_segment(&t, 1, 11.0, 12.0, "x");
    expect_segment(&t, 2, 11.0, 11.5, "y");
    expect_segment(&t, 3, 14.0, 15.0, "z");

    /* Negative and reversed times, missing fields (the original's 0.0 and ""). */
    assert_int_equal(add(&t,
                         "{\"segments\": [{\"start\": -3, \"end\": 1}, {\"start\": 2, \"end\": 1, "
                         "\"text\": \"r\"}, {}, {\"start\": 99, \"end\": 120, \"text\": \"p\"}]}",
                         40.0, 10.0, &err),
                     0);
    expect_segment(&t, 4, 40.0, 41.0, "");
    expect_segment(&t, 5, 40.0, 40.0, "");
    expect_segment(&t, 6, 42.0, 42.0, "r");
    expect_segment(&t, 7, 50.0, 50.0, "p");

    /* Sums that are not exact in binary come out as the millisecond. */
    assert_int_equal(add(&t, "{\"segments\": [{\"start\": 0.2, \"end\": 0.30000000000000004}]}",
                         0.1, 30.0, &err),
                     0);
    expect_segment(&t, 8, 0.3, 0.4, "");
    transcript_free(&t);
}

static void test_malformed_results(void **state)
{
    (void)state;
    transcript t = {0};
    hdm_err err;
    assert_int_equal(add(&t, "{\"segments\": [{\"start\": 1, \"end\": 2, \"text\": \"keep\"}]}",
                         0.0, 30.0, &err),
                     0);
    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"[1, 2]", "the model's result is not an object"},
        {"{\"segments\": {}}", "the model's result.segments is not a list"},
        {"{\"segments\": [{\"start\": 1}, 7]}", "the model's result.segments[1] is not an object"},
        {"{\"segments\": [{\"start\": \"1.5\"}]}",
         "the model's result.segments[0].start is not a number"},
        {"{\"segments\": [{\"end\": null}]}", "the model's result.segments[0].end is not a number"},
        {"{\"segments\": [{\"text\": 5}]}", "the model's result.segments[0].text is not a string"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(add(&t, bad[i].json, 30.0, 30.0, &err), -HDM_E_INTERNAL);
        assert_string_equal(err.msg, bad[i].msg);
        /* Nothing of a bad window stays. */
        assert_int_equal(t.n, 1);
    }
    assert_int_equal(transcript_add_window(&t, NULL, 0.0, 1.0, &err), -HDM_E_INTERNAL);
    cJSON *r = cJSON_Parse("{\"segments\": []}");
    assert_int_equal(transcript_add_window(&t, r, -1.0, 1.0, &err), -HDM_E_INTERNAL);
    assert_int_equal(transcript_add_window(&t, r, 0.0, NAN, &err), -HDM_E_INTERNAL);
    cJSON_Delete(r);
    /* A start that is not finite (cJSON can hold one) is refused too. */
    r = cJSON_CreateObject();
    cJSON *seg = cJSON_CreateObject();
    cJSON_AddNumberToObject(seg, "start", INFINITY);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "segments"), seg);
    assert_int_equal(transcript_add_window(&t, r, 0.0, 1.0, &err), -HDM_E_INTERNAL);
    cJSON_Delete(r);
    expect_segment(&t, 0, 1.0, 2.0, "keep");
    transcript_free(&t);
}

static void test_text(void **state)
{
    (void)state;
    transcript t = {0};
    hdm_err err;
    char *text = transcript_text(&t);
    assert_string_equal(text, "");
    free(text);
    /* Python's whitespace: U+3000 and U+00A0 are stripped, U+200B is not. */
    assert_int_equal(add(&t,
                         "{\"segments\": [{\"text\": \"\\u3000\\u00a0 Hi\"}, {\"text\": \" "
                         "there\\u200b\"}, {\"text\": \"\\t\\n\\u001c\"}]}",
                         0.0, 30.0, &err),
                     0);
    text = transcript_text(&t);
    assert_string_equal(text, "Hi there\xe2\x80\x8b");
    free(text);
    transcript_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_stitched),
        cmocka_unit_test(test_order_clamp_defaults),
        cmocka_unit_test(test_malformed_results),
        cmocka_unit_test(test_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
