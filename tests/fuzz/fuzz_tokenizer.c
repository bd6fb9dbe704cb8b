/*
 * fuzz_tokenizer.c - tokenizer.json loading (clip_tokenizer_load_string),
 * encoding and the JSON string lines of `hailo-clip --tokenize`.
 * First byte even: the rest is a tokenizer.json; when it loads, a few fixed
 * texts are encoded with it.  Odd: the rest is text (bit 1 set: a JSON
 * string literal, decoded first) encoded by the test tokenizer
 * (tests/data/cliptext/tokenizer.json) with a context length picked from
 * the second byte; the padded ids must agree with the full encoding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cliptext/jsonstr.h"
#include "cliptext/tokenizer.h"

static clip_tokenizer *fixed;

static void encode(const clip_tokenizer *tok, const char *text, size_t len, int max_len)
{
    int32_t ids[CLIP_CONTEXT_LEN];
    int32_t *all = NULL;
    size_t n_all = 0;
    int eot_pos = -1;
    hdm_err err;
    hdm_err_clear(&err);
    int r = clip_tokenize(tok, text, len, ids, max_len, &eot_pos, &err);
    hdm_err_clear(&err);
    int r_all = clip_tokenize_all(tok, text, len, &all, &n_all, &err);
    if (r < 0 || r_all < 0) {
        if ((r < 0) != (r_all < 0) || err.msg[0] == '\0')
            abort();
        return;
    }
    if (n_all < 2 || all[0] != clip_tokenizer_sot(tok) || eot_pos < 0 || eot_pos >= max_len)
        abort();
    for (int i = 0; i < max_len; i++) {
        int32_t want = (size_t)i < n_all ? all[i] : CLIP_PAD_ID;
        if (ids[i] != want || (ids[i] == clip_tokenizer_eot(tok) && i < eot_pos))
            abort();
    }
    for (size_t i = 0; i < n_all; i++)
        if (all[i] < 0 || all[i] >= clip_tokenizer_vocab_size(tok))
            abort();
    free(all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    if (!fixed) {
        hdm_err err;
        if (clip_tokenizer_load(FUZZ_DATA_DIR "/cliptext/tokenizer.json", &fixed, &err) < 0)
            abort();
    }
    if (data[0] & 1) {
        int max_len = 1 + data[1] % CLIP_CONTEXT_LEN;
        if (data[0] & 2) {
            buf text = {0};
            const char *why = NULL;
            if (jsonstr_decode((const char *)data + 2, size - 2, &text, &why) == 0)
                encode(fixed, (const char *)text.data, text.len, max_len);
            else if (!why)
                abort();
            buf_free(&text);
        } else {
            encode(fixed, (const char *)data + 2, size - 2, max_len);
        }
        return 0;
    }
    clip_tokenizer *tok = NULL;
    hdm_err err;
    hdm_err_clear(&err);
    if (clip_tokenizer_load_string((const char *)data + 1, size - 1, "tokenizer.json", &tok,
                                   &err) == 0) {
        static const char *const texts[] = {"a photo of a cat", "", "  Hello,   WORLD's!! 123 ",
                                            "<|startoftext|>x<|endoftext|>", "\xc3\xa9t\xc3\xa9",
                                            "\xc4\xb0stanbul cafe\xcc\x81"};
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
            encode(tok, texts[i], strlen(texts[i]), CLIP_CONTEXT_LEN);
        clip_tokenizer_free(tok);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    return 0;
}
