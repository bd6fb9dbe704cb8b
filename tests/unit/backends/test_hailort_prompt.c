/*
 * test_hailort_prompt.c - vlm_chat requests as HailoRT structured messages
 * and stop strings over streamed text (src/backends/hailort-prompt.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backends/hailort-prompt.h"

static infer_input vlm_prompt(char *prompt, size_t n_frames)
{
    infer_input in;
    memset(&in, 0, sizeof(in));
    in.kind = MODEL_VLM;
    in.u.vlm.prompt = prompt;
    in.u.vlm.n_frames = n_frames;
    return in;
}

/* Parses message i and checks its role and content types ("iit" = image image text). */
static void check_message(const char *json, const char *role, const char *types, const char *text)
{
    cJSON *msg = cJSON_Parse(json);
    assert_non_null(msg);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(msg, "role")), role);
    const cJSON *content = cJSON_GetObjectItem(msg, "content");
    assert_int_equal(cJSON_GetArraySize(content), (int)strlen(types));
    for (int i = 0; types[i]; i++) {
        const cJSON *part = cJSON_GetArrayItem(content, i);
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(part, "type"));
        assert_string_equal(type, types[i] == 'i' ? "image" : "text");
        if (types[i] == 't')
            assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(part, "text")), text);
    }
    cJSON_Delete(msg);
}

static void test_plain_prompt(void **state)
{
    (void)state;
    char **msgs = NULL;
    size_t n = 0;
    infer_input in = vlm_prompt("Describe \"this\"\nplease", 0);

    assert_int_equal(hrt_vlm_messages(&in, &msgs, &n, NULL), 0);
    assert_int_equal(n, 1);
    check_message(msgs[0], "user", "t", "Describe \"this\"\nplease");
    hrt_strv_free(msgs, n);

    in = vlm_prompt("Compare", 2);
    assert_int_equal(hrt_vlm_messages(&in, &msgs, &n, NULL), 0);
    assert_int_equal(n, 1);
    check_message(msgs[0], "user", "iit", "Compare");
    hrt_strv_free(msgs, n);
}

static void test_chat_messages(void **state)
{
    (void)state;
    chat_message m[3] = {
        {.role = "system", .text = "Be brief."},
        {.role = "user", .text = "What is in the picture?", .n_images = 1},
        {.role = "assistant", .text = NULL},
    };
    infer_input in = vlm_prompt(NULL, 1);
    char **msgs = NULL;
    size_t n = 0;

    in.u.vlm.messages = m;
    in.u.vlm.n_messages = 3;
    assert_int_equal(hrt_vlm_messages(&in, &msgs, &n, NULL), 0);
    assert_int_equal(n, 3);
    check_message(msgs[0], "system", "t", "Be brief.");
    check_message(msgs[1], "user", "it", "What is in the picture?");
    check_message(msgs[2], "assistant", "t", "");
    hrt_strv_free(msgs, n);

    char *text = hrt_vlm_prompt_text(&in);
    assert_string_equal(text, "Be brief.\nWhat is in the picture?\n");
    free(text);
}

static void test_message_errors(void **state)
{
    (void)state;
    chat_message m[1] = {{.role = "user", .text = "two?", .n_images = 2}};
    infer_input in = vlm_prompt(NULL, 1);
    char **msgs = NULL;
    size_t n = 0;
    hdm_err err;

    hdm_err_clear(&err);
    in.u.vlm.messages = m;
    in.u.vlm.n_messages = 1;
    assert_int_equal(hrt_vlm_messages(&in, &msgs, &n, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "2 image part(s) but 1 frame(s)"));
    assert_null(msgs);

    m[0].role = "";
    m[0].n_images = 1;
    assert_int_equal(hrt_vlm_messages(&in, &msgs, &n, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "input_data.prompt[0].role"));

    in = vlm_prompt(NULL, 0);
    assert_int_equal(hrt_vlm_messages(&in, &msgs, &n, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "input_data.prompt required"));

    in = vlm_prompt("hi", 0);
    in.kind = MODEL_CLIP;
    assert_int_equal(hrt_vlm_messages(&in, &msgs, &n, &err), -HDM_E_BAD_REQUEST);
}

static void test_prompt_text_plain(void **state)
{
    (void)state;
    infer_input in = vlm_prompt("just this", 0);
    char *text = hrt_vlm_prompt_text(&in);
    assert_string_equal(text, "just this");
    free(text);
}

/* Feeds pieces and collects what would be streamed. */
static void feed_all(hrt_stop *s, const char *const *pieces, char *streamed, size_t size)
{
    const char *d;
    size_t len, used = strlen(streamed);
    for (size_t i = 0; pieces[i]; i++) {
        assert_int_equal(hrt_stop_feed(s, pieces[i], strlen(pieces[i]), &d, &len), 0);
        assert_true(used + len < size);
        memcpy(streamed + used, d, len);
        used += len;
        streamed[used] = '\0';
    }
}

static void test_stop_none(void **state)
{
    (void)state;
    hrt_stop s = {0};
    char out[64] = "";
    feed_all(&s, (const char *[]){"Hello", " world", NULL}, out, sizeof(out));
    assert_string_equal(out, "Hello world");
    assert_false(s.hit);
    assert_string_equal(hrt_stop_text(&s), "Hello world");
    hrt_stop_free(&s);
    hrt_stop_free(NULL);
}

static void test_stop_across_pieces(void **state)
{
    (void)state;
    char *stops[] = {"END"};
    hrt_stop s = {.stops = stops, .n_stops = 1};
    char out[64] = "";
    const char *d;
    size_t len;

    feed_all(&s, (const char *[]){"Hello wor", "ld E", "N", "D and more", NULL}, out, sizeof(out));
    assert_true(s.hit);
    assert_string_equal(out, "Hello world ");
    assert_string_equal(hrt_stop_text(&s), "Hello world ");
    /* Pieces after the stop are ignored, and nothing is left to flush. */
    assert_int_equal(hrt_stop_feed(&s, "x", 1, &d, &len), 0);
    assert_int_equal(len, 0);
    hrt_stop_flush(&s, &d, &len);
    assert_int_equal(len, 0);
    hrt_stop_free(&s);
}

static void test_stop_held_then_released(void **state)
{
    (void)state;
    char *stops[] = {"###"};
    hrt_stop s = {.stops = stops, .n_stops = 1};
    const char *d;
    size_t len;

    assert_int_equal(hrt_stop_feed(&s, "abc#", 4, &d, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(d, "abc", 3);
    assert_int_equal(hrt_stop_feed(&s, "#", 1, &d, &len), 0);
    assert_int_equal(len, 0); /* "##" may still become "###" */
    assert_int_equal(hrt_stop_feed(&s, "x", 1, &d, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(d, "##x", 3);
    /* Held at the end of generation: the flush hands it out. */
    assert_int_equal(hrt_stop_feed(&s, "#", 1, &d, &len), 0);
    assert_int_equal(len, 0);
    hrt_stop_flush(&s, &d, &len);
    assert_int_equal(len, 1);
    assert_memory_equal(d, "#", 1);
    assert_false(s.hit);
    assert_string_equal(hrt_stop_text(&s), "abc##x#");
    hrt_stop_free(&s);
}

static void test_stop_earliest_wins(void **state)
{
    (void)state;
    char *stops[] = {"world", "lo"};
    hrt_stop s = {.stops = stops, .n_stops = 2};
    char out[32] = "";
    feed_all(&s, (const char *[]){"Hello world", NULL}, out, sizeof(out));
    assert_true(s.hit);
    assert_string_equal(out, "Hel");
    hrt_stop_free(&s);

    /* A stop string at the very start leaves nothing. */
    hrt_stop s2 = {.stops = stops, .n_stops = 2};
    char out2[32] = "";
    feed_all(&s2, (const char *[]){"lo and behold", NULL}, out2, sizeof(out2));
    assert_true(s2.hit);
    assert_string_equal(out2, "");
    assert_string_equal(hrt_stop_text(&s2), "");
    hrt_stop_free(&s2);
}

static void test_stop_utf8(void **state)
{
    (void)state;
    hrt_stop s = {0};
    const char *d;
    size_t len;

    /* "café!" with the two bytes of é split over two tokens. */
    assert_int_equal(hrt_stop_feed(&s, "caf\xC3", 4, &d, &len), 0);
    assert_int_equal(len, 3);
    assert_int_equal(hrt_stop_feed(&s, "\xA9!", 2, &d, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(d, "\xC3\xA9!", 3);
    /* A four-byte character in three pieces. */
    assert_int_equal(hrt_stop_feed(&s, "\xF0\x9F", 2, &d, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(hrt_stop_feed(&s, "\x98", 1, &d, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(hrt_stop_feed(&s, "\x80", 1, &d, &len), 0);
    assert_int_equal(len, 4);
    hrt_stop_free(&s);
}

/* Issue 22 item 1: special tokens a model reports are taken only where they
 * look like markup; every occurrence is removed from a piece. */
static void test_specials(void **state)
{
    (void)state;
    hrt_specials sp = {0};
    char out[64];
    size_t n;

    assert_int_equal(hrt_specials_add(&sp, "<|im_end|>"), 0);
    assert_int_equal(hrt_specials_add(&sp, "<|im_end|>"), 0); /* known: once */
    assert_int_equal(sp.n, 1);
    assert_int_equal(hrt_specials_add(&sp, "\n\n"), 0);          /* ordinary text: never */
    assert_int_equal(hrt_specials_add(&sp, "a < b"), 0);         /* no closing bracket */
    assert_int_equal(hrt_specials_add(&sp, "<not special>"), 0); /* blanks inside */
    assert_int_equal(sp.n, 1);
    assert_int_equal(hrt_specials_add(&sp, "</s>\n<end_of_turn>"), 0);
    assert_int_equal(sp.n, 3);
    assert_int_equal(hrt_specials_add_defaults(&sp), 0);
    assert_true(sp.n > 10);

    n = hrt_specials_strip(&sp, "Hi<|im_end|>", 12, out);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "Hi", 2);
    n = hrt_specials_strip(&sp, "<|im_start|>a</s>b<end_of_turn>", 31, out);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "ab", 2);
    /* Markup that is not a special token stays: tool calls, HTML. */
    n = hrt_specials_strip(&sp, "<tool_call>{}<b>x</b>", 21, out);
    assert_int_equal(n, 21);
    assert_memory_equal(out, "<tool_call>{}<b>x</b>", 21);
    /* A token cut at the end of a piece is left as it is. */
    n = hrt_specials_strip(&sp, "x<|im_e", 7, out);
    assert_int_equal(n, 7);
    hrt_specials_free(&sp);
    assert_int_equal(sp.n, 0);
    hrt_specials_free(NULL);
}

/* The llm request as HailoRT LLM's messages and tools; its text for counting. */
static void test_llm_messages(void **state)
{
    (void)state;
    infer_input in;
    char **msgs = NULL, **tools = NULL, *text;
    size_t n = 9, nt = 9;
    hdm_err err;
    llm_message m[2] = {{.role = LLM_ROLE_USER, .content = "a"},
                        {.role = LLM_ROLE_ASSISTANT, .content = "b"}};

    memset(&in, 0, sizeof(in));
    in.kind = MODEL_LLM;
    hdm_err_clear(&err);
    assert_int_equal(hrt_llm_messages(&in, &msgs, &n, &tools, &nt, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "messages or prompt required"));
    in.u.llm.prompt = "raw";
    assert_int_equal(hrt_llm_messages(&in, &msgs, &n, &tools, &nt, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(nt, 0);
    assert_null(msgs);
    text = hrt_llm_prompt_text(&in);
    assert_string_equal(text, "raw");
    free(text);

    in.u.llm.prompt = NULL;
    in.u.llm.messages = m;
    in.u.llm.n_messages = 2;
    in.u.llm.tools = cJSON_Parse("[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]");
    assert_int_equal(hrt_llm_messages(&in, &msgs, &n, &tools, &nt, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(msgs[0], "{\"role\":\"user\",\"content\":\"a\"}");
    assert_string_equal(msgs[1], "{\"role\":\"assistant\",\"content\":\"b\"}");
    assert_int_equal(nt, 1);
    assert_string_equal(tools[0], "{\"type\":\"function\",\"function\":{\"name\":\"f\"}}");
    text = hrt_llm_prompt_text(&in);
    assert_string_equal(text, "a\nb");
    free(text);
    hrt_strv_free(msgs, n);
    hrt_strv_free(tools, nt);
    cJSON_Delete(in.u.llm.tools);

    in.kind = MODEL_VLM;
    assert_int_equal(hrt_llm_messages(&in, &msgs, &n, &tools, &nt, &err), -HDM_E_BAD_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_prompt),
        cmocka_unit_test(test_chat_messages),
        cmocka_unit_test(test_message_errors),
        cmocka_unit_test(test_prompt_text_plain),
        cmocka_unit_test(test_stop_none),
        cmocka_unit_test(test_stop_across_pieces),
        cmocka_unit_test(test_stop_held_then_released),
        cmocka_unit_test(test_stop_earliest_wins),
        cmocka_unit_test(test_stop_utf8),
        cmocka_unit_test(test_specials),
        cmocka_unit_test(test_llm_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
