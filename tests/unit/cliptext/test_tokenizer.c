/*
 * test_tokenizer.c - loading tokenizer.json and encoding with a small
 * vocabulary, against hand-checked ids (test_encode.c compares the real
 * vocabulary with HuggingFace's ids on a large corpus).
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

static void expect_ids(clip_tokenizer *tok, const char *text, size_t len, const int32_t *want,
                       int n_want)
{
    int32_t *ids = NULL;
    size_t n = 0;
    hdm_err err = {0};
    int r = clip_tokenize_all(tok, text, len, &ids, &n, &err);
    if (r < 0)
        fprintf(stderr, "\"%s\": %s\n", text, err.msg);
    assert_int_equal(r, 0);
    if ((int)n != n_want) {
        fprintf(stderr, "\"%s\": got %zu ids:", text, n);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %d", ids[i]);
        fprintf(stderr, "\n");
    }
    assert_int_equal(n, n_want);
    for (size_t i = 0; i < n; i++) {
        if (ids[i] != want[i])
            fprintf(stderr, "\"%s\": id[%zu] = %d, want %d\n", text, i, ids[i], want[i]);
        assert_int_equal(ids[i], want[i]);
    }
    free(ids);
}

#define EXPECT(tok, text, ...)                                                      \
    do {                                                                            \
        static const int32_t want_[] = {__VA_ARGS__};                               \
        expect_ids(tok, text, sizeof(text) - 1, want_,                              \
                   (int)(sizeof(want_) / sizeof(want_[0])));                        \
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
    /* NFC first: e + U+0301 is é, so the same ids as "café" */
    EXPECT(*state, "cafe\xcc\x81", SOT, 588, 69, 127, 358, EOT);
    /* İ lower-cases to i + U+0307 (Rust's char::to_lowercase): the letter run
     * stops before the mark; i</w>=328, U+0307 = CC 87 -> Ì(136) ĩ</w>(485) */
    EXPECT(*state, "\xc4\xb0x", SOT, 328, 136, 485, 343, EOT);
    /* U+001C is no \s for Oniguruma: a word of its own, \x1c</w>=472 */
    EXPECT(*state, "a\x1c" "b", SOT, 320, 472, 321, EOT);
    /* U+00A0 and U+3000 are \s: they separate words */
    EXPECT(*state, "a\xc2\xa0" "b\xe3\x80\x80" "c", SOT, 320, 321, 322, EOT);
    /* U+0000 is a character like any other ("Ā</w>" = 256 + 188 = 444) */
    EXPECT(*state, "a\0b", SOT, 320, 444, 321, EOT);
}

static void test_special_tokens_in_text(void **state)
{
    /* <|endoftext|> in the text is the special token; h=71 i</w>=328 */
    EXPECT(*state, "<|endoftext|>hi", SOT, EOT, 71, 328, EOT);
    /* "normalized": true in this file: matched after lower-casing */
    EXPECT(*state, "<|STARTOFTEXT|>", SOT, SOT, EOT);
    /* cut out before the regex runs: the punctuation around stays apart */
    EXPECT(*state, "!!<|endoftext|>!!", SOT, 0, 256, EOT, 0, 256, EOT);
}

static void test_padded_and_truncated(void **state)
{
    clip_tokenizer *tok = *state;
    char text[400];
    int32_t ids[CLIP_CONTEXT_LEN];
    int eot_pos = -1;
    hdm_err err = {0};
    /* hailo-apps keeps the first 77 ids: 76 "a" and no end token, which
     * is then looked for at the last position */
    text[0] = '\0';
    for (int i = 0; i < 100; i++)
        strcat(text, "a ");
    assert_int_equal(clip_tokenize(tok, text, strlen(text), ids, CLIP_CONTEXT_LEN, &eot_pos,
                                   &err), 0);
    assert_int_equal(ids[0], SOT);
    for (int i = 1; i < CLIP_CONTEXT_LEN; i++)
        assert_int_equal(ids[i], 320);
    assert_int_equal(eot_pos, CLIP_CONTEXT_LEN - 1);

    /* 75 words fill the context exactly */
    text[0] = '\0';
    for (int i = 0; i < 75; i++)
        strcat(text, "a ");
    assert_int_equal(clip_tokenize(tok, text, strlen(text), ids, CLIP_CONTEXT_LEN, &eot_pos,
                                   &err), 0);
    assert_int_equal(ids[75], 320);
    assert_int_equal(ids[76], EOT);
    assert_int_equal(eot_pos, 76);

    /* a short text is padded with id 0 and the end token found where it is */
    assert_int_equal(clip_tokenize(tok, "a cat", 5, ids, CLIP_CONTEXT_LEN, &eot_pos, &err), 0);
    assert_int_equal(ids[0], SOT);
    assert_int_equal(ids[1], 320);
    assert_int_equal(ids[2], 585);
    assert_int_equal(ids[3], EOT);
    for (int i = 4; i < CLIP_CONTEXT_LEN; i++)
        assert_int_equal(ids[i], CLIP_PAD_ID);
    assert_int_equal(eot_pos, 3);

    /* an end token typed in the text comes first, as in hailo-apps */
    assert_int_equal(clip_tokenize(tok, "<|endoftext|> cat", 17, ids, CLIP_CONTEXT_LEN, &eot_pos,
                                   &err), 0);
    assert_int_equal(eot_pos, 1);

    /* tiny limits */
    assert_int_equal(clip_tokenize(tok, "cats", 4, ids, 3, &eot_pos, &err), 0);
    assert_int_equal(ids[0], SOT);
    assert_int_equal(ids[1], 588);
    assert_int_equal(ids[2], 83);
    assert_int_equal(eot_pos, 2);
    assert_int_equal(clip_tokenize(tok, "cats", 4, ids, 1, &eot_pos, &err), 0);
    assert_int_equal(ids[0], SOT);
    assert_int_equal(eot_pos, 0);
    assert_int_equal(clip_tokenize(tok, "cats", 4, ids, 0, &eot_pos, &err), -HDM_E_BAD_REQUEST);
}

static void test_long_and_invalid_input(void **state)
{
    clip_tokenizer *tok = *state;
    int32_t ids[CLIP_CONTEXT_LEN];
    int eot_pos;
    hdm_err err = {0};
    /* a 64 KiB word is merged whole (bpe.c is O(n log n)) */
    size_t len = CLIP_MAX_WORD_BYTES;
    char *big = malloc(len);
    assert_non_null(big);
    memset(big, 'q', len);
    assert_int_equal(clip_tokenize(tok, big, len, ids, CLIP_CONTEXT_LEN, &eot_pos, &err), 0);
    assert_int_equal(eot_pos, CLIP_CONTEXT_LEN - 1);
    int32_t *all = NULL;
    size_t n = 0;
    assert_int_equal(clip_tokenize_all(tok, big, len, &all, &n, &err), 0);
    assert_true(n > CLIP_CONTEXT_LEN);
    assert_int_equal(all[n - 1], EOT);
    for (int i = 0; i < CLIP_CONTEXT_LEN; i++)
        assert_int_equal(ids[i], all[i]);
    free(all);
    /* one byte more is refused, as is text over 1 MiB; 1 MiB of short
     * words is fine (encoding stops after 77 ids) */
    big = realloc(big, CLIP_MAX_TEXT_BYTES + 1);
    memset(big, 'q', CLIP_MAX_WORD_BYTES + 1);
    assert_int_equal(clip_tokenize(tok, big, CLIP_MAX_WORD_BYTES + 1, ids, CLIP_CONTEXT_LEN,
                                   &eot_pos, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "word of 65537 bytes"));
    for (size_t i = 0; i < CLIP_MAX_TEXT_BYTES; i++)
        big[i] = i % 4 == 3 ? ' ' : 'a';
    assert_int_equal(clip_tokenize(tok, big, CLIP_MAX_TEXT_BYTES, ids, CLIP_CONTEXT_LEN,
                                   &eot_pos, &err), 0);
    assert_int_equal(clip_tokenize(tok, big, CLIP_MAX_TEXT_BYTES + 1, ids, CLIP_CONTEXT_LEN,
                                   &eot_pos, &err), -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "at most 1048576"));
    free(big);
    /* HF takes Unicode text only: invalid UTF-8 is refused, naming where */
    assert_int_equal(clip_tokenize(tok, "ab\xff", 3, ids, CLIP_CONTEXT_LEN, &eot_pos, &err),
                     -HDM_E_BAD_REQUEST);
    assert_non_null(strstr(err.msg, "byte 2"));
    assert_int_equal(clip_tokenize_all(tok, "\xed\xa0\x80", 3, &all, &n, &err),
                     -HDM_E_BAD_REQUEST);
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

/* CLIP's normalizer, pre_tokenizer and post_processor (ids 1000/1001),
 * with `extra` JSON members added at the top level. */
static const char CLIP_PIPELINE[] =
    "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"},"
    "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"\\\\s+\"},\"content\":\" \"},"
    "{\"type\":\"Lowercase\"}]},"
    "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\","
    "\"pattern\":{\"Regex\":\"'s|'t|'re|'ve|'m|'ll|'d|[\\\\p{L}]+|[\\\\p{N}]|"
    "[^\\\\s\\\\p{L}\\\\p{N}]+\"},\"behavior\":\"Removed\",\"invert\":true},"
    "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true}]},"
    "\"post_processor\":{\"type\":\"RobertaProcessing\",\"sep\":[\"<|endoftext|>\",1001],"
    "\"cls\":[\"<|startoftext|>\",1000],\"trim_offsets\":false,\"add_prefix_space\":false}";

/* A byte-only vocabulary (symbols in byte order: 'a' = 97, "a</w>" = 353)
 * with the given merges and extra top-level members. */
static char *byte_only_json(const char *merges_json, const char *extra)
{
    cJSON *model = cJSON_CreateObject();
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
    cJSON_AddNumberToObject(vocab, "ab", 600);
    cJSON_AddNumberToObject(vocab, "ab</w>", 601);
    cJSON_AddNumberToObject(vocab, "bc</w>", 602);
    cJSON_AddItemToObject(model, "merges", cJSON_Parse(merges_json));
    char *m = cJSON_PrintUnformatted(model);
    cJSON_Delete(model);
    size_t len = strlen(m) + strlen(CLIP_PIPELINE) + strlen(extra) + 32;
    char *s = malloc(len);
    snprintf(s, len, "{\"model\":%s,%s%s%s}", m, CLIP_PIPELINE, extra[0] ? "," : "", extra);
    free(m);
    return s;
}

static clip_tokenizer *load_ok(const char *json)
{
    clip_tokenizer *tok = NULL;
    hdm_err err = {0};
    int r = clip_tokenizer_load_string(json, strlen(json), "t", &tok, &err);
    if (r < 0)
        fprintf(stderr, "load: %s\n", err.msg);
    assert_int_equal(r, 0);
    return tok;
}

static void test_post_processor_ids(void **state)
{
    (void)state;
    char *json = byte_only_json("[]", "");
    clip_tokenizer *tok = load_ok(json);
    assert_int_equal(clip_tokenizer_sot(tok), 1000);
    assert_int_equal(clip_tokenizer_eot(tok), 1001);
    assert_int_equal(clip_tokenizer_vocab_size(tok), 1002);
    static const int32_t want[] = {1000, 'a', 256 + 'b', 1001};
    expect_ids(tok, "ab", 2, want, 4);
    clip_tokenizer_free(tok);
    free(json);
}

static void test_duplicate_merge_keeps_last_rank(void **state)
{
    (void)state;
    /* "b c</w>" is listed before and after "a b": HF's merge map keeps the
     * last rank (2), so in "abc" the pair "a b" (rank 1) merges first */
    char *json = byte_only_json("[\"b c</w>\", \"a b\", \"b c</w>\"]", "");
    clip_tokenizer *tok = load_ok(json);
    static const int32_t want[] = {1000, 600, 256 + 'c', 1001};
    expect_ids(tok, "abc", 3, want, 4);
    clip_tokenizer_free(tok);
    free(json);
}

static void test_truncation_and_padding_settings(void **state)
{
    (void)state;
    char *json = byte_only_json("[]", "\"truncation\":{\"direction\":\"Right\",\"max_length\":4,"
                                "\"strategy\":\"LongestFirst\",\"stride\":0},"
                                "\"padding\":{\"strategy\":{\"Fixed\":6},\"direction\":\"Right\","
                                "\"pad_to_multiple_of\":null,\"pad_id\":7,\"pad_type_id\":0,"
                                "\"pad_token\":\"x\"}");
    clip_tokenizer *tok = load_ok(json);
    /* HF cuts the content to max_length - 2, then pads to 6 with pad_id */
    static const int32_t want[] = {1000, 'a', 'b', 1001, 7, 7};
    expect_ids(tok, "abcdef", 6, want, 6);
    int32_t ids[4];
    int eot_pos;
    hdm_err err = {0};
    assert_int_equal(clip_tokenize(tok, "abcdef", 6, ids, 4, &eot_pos, &err), 0);
    assert_int_equal(ids[3], 1001);
    assert_int_equal(eot_pos, 3);
    clip_tokenizer_free(tok);
    free(json);
}

static void test_raw_added_tokens(void **state)
{
    (void)state;
    /* "normalized": false: matched in the raw text only */
    char *json = byte_only_json(
        "[]", "\"added_tokens\":[{\"id\":1001,\"content\":\"<|endoftext|>\",\"single_word\":false,"
              "\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}]");
    clip_tokenizer *tok = load_ok(json);
    static const int32_t raw[] = {1000, 256 + 'x', 1001, 256 + 'y', 1001};
    expect_ids(tok, "x<|endoftext|>y", 15, raw, 5);
    /* upper case is not the token: the regex sees "<|" "endoftext" "|>" */
    int32_t *ids = NULL;
    size_t n = 0;
    hdm_err err = {0};
    assert_int_equal(clip_tokenize_all(tok, "<|ENDOFTEXT|>", 13, &ids, &n, &err), 0);
    assert_int_equal(n, 2 + 2 + 9 + 2);
    assert_int_equal(ids[1], '<');
    assert_int_equal(ids[2], 256 + '|');
    free(ids);
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

    char *json = byte_only_json("[\"a c\"]", "");
    expect_load_error(json, "model.merges[0]"); /* "ac" is not in the vocab */
    free(json);
    json = byte_only_json("[\"abc\"]", "");
    expect_load_error(json, "two symbols");
    free(json);
    json = byte_only_json("[[\"a\"]]", "");
    expect_load_error(json, "neither");
    free(json);

    /* pipelines that are not CLIP's, and settings HF would apply differently */
    static const struct {
        const char *find, *replace, *needle;
    } breaks[] = {
        {"{\"type\":\"NFC\"}", "{\"type\":\"NFKC\"}", "normalizer"},
        {"{\"type\":\"Lowercase\"}", "{\"type\":\"Strip\"}", "normalizer"},
        {"'s|'t", "'S|'T", "pre_tokenizer"},
        {"\"add_prefix_space\":false,\"trim", "\"add_prefix_space\":true,\"trim", "pre_tokenizer"},
        {"\"invert\":true", "\"invert\":false", "pre_tokenizer"},
        {"RobertaProcessing", "TemplateProcessing", "post_processor"},
    };
    for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
        json = byte_only_json("[]", "");
        char *at = strstr(json, breaks[i].find);
        assert_non_null(at);
        char *broken = malloc(strlen(json) + strlen(breaks[i].replace) + 1);
        memcpy(broken, json, (size_t)(at - json));
        strcpy(broken + (at - json), breaks[i].replace);
        strcat(broken, at + strlen(breaks[i].find));
        expect_load_error(broken, breaks[i].needle);
        free(broken);
        free(json);
    }
    static const struct {
        const char *extra, *needle;
    } settings[] = {
        {"\"truncation\":{\"max_length\":77,\"direction\":\"Left\"}", "truncation"},
        {"\"truncation\":{\"max_length\":1}", "truncation"},
        {"\"padding\":{\"strategy\":{\"Fixed\":77},\"direction\":\"Left\",\"pad_id\":0}",
         "padding"},
        {"\"padding\":{\"strategy\":{\"Fixed\":77}}", "padding"},
        {"\"added_tokens\":[{\"id\":5,\"content\":\"x\",\"lstrip\":true}]", "lstrip"},
        {"\"added_tokens\":[{\"id\":5,\"content\":\"a b\"}]", "without spaces"},
        {"\"added_tokens\":[{\"id\":-5,\"content\":\"x\"}]", "added_tokens[0]"},
    };
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        json = byte_only_json("[]", settings[i].extra);
        expect_load_error(json, settings[i].needle);
        free(json);
    }
    json = byte_only_json("[]", "");
    char *at = strstr(json, "\"merges\"");
    assert_non_null(at);
    char *with_dropout = malloc(strlen(json) + 32);
    memcpy(with_dropout, json, (size_t)(at - json));
    strcpy(with_dropout + (at - json), "\"dropout\":0.1,");
    strcat(with_dropout, at);
    expect_load_error(with_dropout, "dropout");
    free(with_dropout);
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
        BOTH(test_padded_and_truncated),
        BOTH(test_long_and_invalid_input),
        cmocka_unit_test(test_post_processor_ids),
        cmocka_unit_test(test_duplicate_merge_keeps_last_rank),
        cmocka_unit_test(test_truncation_and_padding_settings),
        cmocka_unit_test(test_raw_added_tokens),
        cmocka_unit_test(test_load_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
