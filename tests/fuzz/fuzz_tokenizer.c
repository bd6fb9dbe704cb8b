/*
 * fuzz_tokenizer.c - tokenizer.json loading (clip_tokenizer_load_string)
 * and tokenisation.  First byte even: the rest is a tokenizer.json; when it
 * loads, a few fixed texts are encoded with it.  Odd: the rest is text
 * encoded by the real test tokenizer (tests/data/cliptext/tokenizer.json)
 * with a context length picked from the second byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cliptext/tokenizer.h"

static clip_tokenizer *fixed;

static void encode(const clip_tokenizer *tok, const char *text, size_t len, int max_len)
{
    int32_t ids[CLIP_CONTEXT_LEN];
    hdm_err err;
    hdm_err_clear(&err);
    int n = clip_tokenize(tok, text, len, ids, max_len, &err);
    if (n < 0) {
        if (err.msg[0] == '\0')
            abort();
        return;
    }
    if (n < 2 || n > max_len || ids[0] != clip_tokenizer_sot(tok) ||
        ids[n - 1] != clip_tokenizer_eot(tok))
        abort();
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= clip_tokenizer_vocab_size(tok))
            abort();
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
        int max_len = 2 + data[1] % (CLIP_CONTEXT_LEN - 1);
        encode(fixed, (const char *)data + 2, size - 2, max_len);
        return 0;
    }
    clip_tokenizer *tok = NULL;
    hdm_err err;
    hdm_err_clear(&err);
    if (clip_tokenizer_load_string((const char *)data + 1, size - 1, "tokenizer.json", &tok,
                                   &err) == 0) {
        static const char *const texts[] = {"a photo of a cat", "", "  Hello,   WORLD's!! 123 ",
                                            "<|startoftext|>x<|endoftext|>", "\xc3\xa9t\xc3\xa9"};
        for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
            encode(tok, texts[i], strlen(texts[i]), CLIP_CONTEXT_LEN);
        clip_tokenizer_free(tok);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    return 0;
}
