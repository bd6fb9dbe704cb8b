/*
 * test_tokenizer.c - CLIP BPE against hand-checked ids.
 *
 * tests/data/cliptext/tokenizer.json is the small vocabulary that
 * tools/make-sim-assets writes: ids 0..255 are the byte symbols in CLIP's
 * bytes_to_unicode order ('!' = 0, 'a' = 64), 256..511 the same with "</w>"
 * ("a</w>" = 320, as in the real CLIP vocabulary), then one id per merge,
 * then <|startoftext|> = 965 and <|endoftext|> = 966.  Whole words of its
 * word list are single tokens ("photo</w>" = 542, "cat</w>" = 585).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "cliptext/tokenizer.h"

#define SOT 965
#define EOT 966

static char data_path[1024];

static const char *data_file(const char *name)
{
    const char *dir = getenv("HDM_TEST_DATA");
    snprintf(data_path, sizeof(data_path), "%s/cliptext/%s", dir ? dir : "tests/data", name);
    return data_path;
}

static int setup_strings(void **state)
{
    clip_tokenizer *tok = NULL;
    hdm_err err = {0};
    int r = clip_tokenizer_load(data_file("tokenizer.json"), &tok, &err);
    if (r != 0)
        fprintf(stderr, "load: %s\n", err.msg);
    *state = tok;
    return r;
}

static int setup_pairs(void **state)
{
    clip_tokenizer *tok = NULL;
    hdm_err err = {0};
    int r = clip_tokenizer_load(data_file("tokenizer-pairs.json"), &tok, &err);
    if (r != 0)
        fprintf(stderr, "load: %s\n", err.msg);
    *state = tok;
    return r;
}

static int teardown(void **state)
{
    clip_tokenizer_free(*state);
    return 0;
}

static void expect_ids(clip_tokenizer *tok, const char *text, const int32_t *want, int n_want)
{
    int32_t ids[CLIP_CONTEXT_LEN];
    hdm_err err = {0};
    int n = clip_tokenize(tok, text, strlen(text), ids, CLIP_CONTEXT_LEN, &err);
    if (n != n_want) {
        fprintf(stderr, "\"%s\": got %d ids:", text, n);
        for (int i = 0; i < n; i++)
            fprintf(stderr, " %d", ids[i]);
        fprintf(stderr, "\n");
    }
    assert_int_equal(n, n_want);
    for (int i = 0; i < n; i++) {
        if (ids[i] != want[i])
            fprintf(stderr, "\"%s\": id[%d] = %d, want %d\n", text, i, ids[i], want[i]);
        assert_int_equal(ids[i], want[i]);
    }
}

#define EXPECT(tok, text, ...)                                                      \
    do {                                                                            \
        static const int32_t want_[] = {__VA_ARGS__};                               \
        expect_ids(tok, text, want_, (int)(sizeof(want_) / sizeof(want_[0])));      \
    } while (0)

static void test_special_ids(void **state)
{
    clip_tokenizer *tok = *state;
    assert_int_equal(clip_tokenizer_sot(tok), SOT);
    assert_int_equal(clip_tokenizer_eot(tok), EOT);
    assert_int_equal(clip_tokenizer_vocab_size(tok), 967);
}

static void test_simple_prompt(void **state)
{
    /* a</w>=320 photo</w>=542 of</w>=515 cat</w>=585 */
    EXPECT(*state, "a photo of a cat", SOT, 320, 542, 515, 320, 585, EOT);
    EXPECT(*state, "", SOT, EOT);
    EXPECT(*state, "   \t\n ", SOT, EOT);
}

static void test_lowercase_and_punctuation(void **state)
{
    /* '!' = 0, '!</w>' = 256: a run of punctuation is one pre-token */
    EXPECT(*state, "A Photo of a CAT!!", SOT, 320, 542, 515, 320, 585, 0, 256, EOT);
    /* whitespace runs collapse; "\\t" is a backslash (315 = '\\</w>') then t</w> (339) */
    EXPECT(*state, "  hello \t\n world  ", SOT, 903, 906, EOT);
    EXPECT(*state, "  hello \\t world", SOT, 903, 315, 339, 906, EOT);
    /* '_' is not a letter: user_name -> u se r</w> _</w> n a m e</w> */
    EXPECT(*state, "user_name", SOT, 84, 669, 337, 318, 77, 64, 76, 324, EOT);
}

static void test_contractions(void **state)
{
    /* it</w>=532 's</w>=955 dog</w>=587 l i f e</w> ,</w>=267 don</w>=935 't</w>=956
     * you</w>=944 th=513 in=893 k</w>=330 ?</w>=286 */
    EXPECT(*state, "it's a dog's life, don't you think?", SOT, 532, 955, 320, 587, 955, 75, 72,
           69, 324, 267, 935, 956, 944, 513, 893, 330, 286, EOT);
}

static void test_partial_words_and_digits(void **state)
{
    /* "cats" is not in the word list: ca=588 t=83 s</w>=338 */
    EXPECT(*state, "cats", SOT, 588, 83, 338, EOT);
    /* digits are single pre-tokens: x</w>=343 2</w>=273 0</w>=271 4</w>=275 y</w>=344 */
    EXPECT(*state, "x2024y", SOT, 343, 273, 271, 273, 275, 344, EOT);
}

static void test_unicode(void **state)
{
    /* é = C3 A9 -> 'Ã'(127) '©</w>'(358); 🐱 = F0 9F 90 B1 -> ð(172) Ł(253) Ĳ(238)
     * ±</w>(365); ï = C3 AF -> Ã(127) ¯(107) */
    EXPECT(*state, "café 🐱 naïve", SOT, 588, 69, 127, 358, 172, 253, 238, 365, 77, 64, 127,
           107, 85, 324, EOT);
    /* É lower-cases to é (C3 A9): Ã(127) ©(102) co=597 l e</w> */
    EXPECT(*state, "ÉCOLE", SOT, 127, 102, 597, 75, 324, EOT);
}

static void test_special_tokens_in_text(void **state)
{
    /* <|endoftext|> in the text is the special token; h=71 i</w>=328 */
    EXPECT(*state, "<|endoftext|>hi", SOT, EOT, 71, 328, EOT);
    EXPECT(*state, "<|STARTOFTEXT|>", SOT, SOT, EOT);
}

static void test_truncation(void **state)
{
    clip_tokenizer *tok = *state;
    char text[400];
    int32_t ids[CLIP_CONTEXT_LEN];
    hdm_err err = {0};
    /* 100 words of "a": 75 fit between start and end */
    text[0] = '\0';
    for (int i = 0; i < 100; i++)
        strcat(text, "a ");
    int n = clip_tokenize(tok, text, strlen(text), ids, CLIP_CONTEXT_LEN, &err);
    assert_int_equal(n, CLIP_CONTEXT_LEN);
    assert_int_equal(ids[0], SOT);
    for (int i = 1; i < 76; i++)
        assert_int_equal(ids[i], 320);
    assert_int_equal(ids[76], EOT);

    /* exactly 75 content tokens: no cut */
    text[0] = '\0';
    for (int i = 0; i < 75; i++)
        strcat(text, "a ");
    n = clip_tokenize(tok, text, strlen(text), ids, CLIP_CONTEXT_LEN, &err);
    assert_int_equal(n, 77);
    assert_int_equal(ids[75], 320);
    assert_int_equal(ids[76], EOT);

    /* a tiny limit still ends with the end token; a word cut in the middle */
    n = clip_tokenize(tok, "cats", 4, ids, 3, &err);
    assert_int_equal(n, 3);
    assert_int_equal(ids[0], SOT);
    assert_int_equal(ids[1], 588);
    assert_int_equal(ids[2], EOT);
    assert_true(clip_tokenize(tok, "cats", 4, ids, 1, &err) < 0);
}

static void test_long_and_invalid_input(void **state)
{
    clip_tokenizer *tok = *state;
    int32_t ids[CLIP_CONTEXT_LEN];
    hdm_err err = {0};
    /* one 200 KB word: bounded work, full context */
    size_t len = 200000;
    char *big = malloc(len);
    assert_non_null(big);
    memset(big, 'q', len);
    int n = clip_tokenize(tok, big, len, ids, CLIP_CONTEXT_LEN, &err);
    assert_int_equal(n, CLIP_CONTEXT_LEN);
    assert_int_equal(ids[76], EOT);
    free(big);
    /* invalid UTF-8 passes through byte by byte: FF -> 'ÿ</w>' (some id < 512) */
    n = clip_tokenize(tok, "\xff", 1, ids, CLIP_CONTEXT_LEN, &err);
    assert_int_equal(n, 3);
    assert_true(ids[1] >= 256 && ids[1] < 512);
}

static int byte_to_unicode(int b)
{
    if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))
        return b;
    int n = 0;
    for (int i = 0; i < b; i++)
        if (!((i >= '!' && i <= '~') || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF)))
            n++;
    return 256 + n;
}

/* A byte-only vocabulary without special tokens: CLIP's default ids apply. */
static char *byte_only_json(const char *merges_json)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON *vocab = cJSON_AddObjectToObject(model, "vocab");
    for (int pass = 0; pass < 2; pass++)
        for (int b = 0; b < 256; b++) {
            char key[16];
            int cp = byte_to_unicode(b);
            int n;
            if (cp < 0x80) {
                key[0] = (char)cp;
                n = 1;
            } else {
                key[0] = (char)(0xC0 | (cp >> 6));
                key[1] = (char)(0x80 | (cp & 0x3F));
                n = 2;
            }
            strcpy(key + n, pass ? "</w>" : "");
            cJSON_AddNumberToObject(vocab, key, pass * 256 + b);
        }
    cJSON_AddItemToObject(model, "merges", cJSON_Parse(merges_json));
    char *s = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return s;
}

static void test_default_special_ids(void **state)
{
    (void)state;
    clip_tokenizer *tok = NULL;
    hdm_err err = {0};
    char *json = byte_only_json("[]");
    assert_int_equal(clip_tokenizer_load_string(json, strlen(json), "t", &tok, &err), 0);
    assert_int_equal(clip_tokenizer_sot(tok), CLIP_DEFAULT_SOT_ID);
    assert_int_equal(clip_tokenizer_eot(tok), CLIP_DEFAULT_EOT_ID);
    assert_int_equal(clip_tokenizer_vocab_size(tok), 49408);
    int32_t ids[8];
    int n = clip_tokenize(tok, "ab", 2, ids, 8, &err);
    assert_int_equal(n, 4);
    /* this vocabulary numbers the symbols in byte order: 'a' = 97, "b</w>" = 256 + 98 */
    assert_int_equal(ids[1], 'a');
    assert_int_equal(ids[2], 256 + 'b');
    clip_tokenizer_free(tok);
    free(json);
}

static void expect_load_error(const char *json, const char *needle)
{
    clip_tokenizer *tok = NULL;
    hdm_err err = {0};
    int r = clip_tokenizer_load_string(json, strlen(json), "bad.json", &tok, &err);
    assert_true(r < 0);
    assert_null(tok);
    if (!strstr(err.msg, needle))
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", err.msg, needle);
    assert_non_null(strstr(err.msg, needle));
}

static void test_load_errors(void **state)
{
    (void)state;
    clip_tokenizer *tok = NULL;
    hdm_err err = {0};
    expect_load_error("not json", "not a JSON object");
    expect_load_error("{}", "no \"model\" object");
    expect_load_error("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}, \"merges\": []}}",
                      "model.type");
    expect_load_error("{\"model\": {\"vocab\": {}, \"merges\": []}}", "model.vocab");
    expect_load_error("{\"model\": {\"vocab\": {\"a\": 0}}}", "model.merges");
    expect_load_error("{\"model\": {\"vocab\": {\"a\": -1}, \"merges\": []}}",
                      "model.vocab[\"a\"]");
    expect_load_error("{\"model\": {\"vocab\": {\"a\": 0}, \"merges\": []}}",
                      "lacks the symbol");

    char *json = byte_only_json("[\"a b\", \"ab\"]");
    expect_load_error(json, "model.merges[0]"); /* "ab" is not in the vocab */
    free(json);
    json = byte_only_json("[\"abc\"]");
    expect_load_error(json, "two symbols");
    free(json);
    json = byte_only_json("[[\"a\"]]");
    expect_load_error(json, "neither");
    free(json);

    assert_int_equal(clip_tokenizer_load("/nonexistent/tokenizer.json", &tok, &err),
                     -HDM_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/tokenizer.json"));
    clip_tokenizer_free(NULL);
}

#define BOTH(fn) cmocka_unit_test_setup_teardown(fn, setup_strings, teardown), \
                 cmocka_unit_test_setup_teardown(fn, setup_pairs, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_special_ids),
        BOTH(test_simple_prompt),
        BOTH(test_lowercase_and_punctuation),
        BOTH(test_contractions),
        BOTH(test_partial_words_and_digits),
        BOTH(test_unicode),
        BOTH(test_special_tokens_in_text),
        BOTH(test_truncation),
        BOTH(test_long_and_invalid_input),
        cmocka_unit_test(test_default_special_ids),
        cmocka_unit_test(test_load_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
