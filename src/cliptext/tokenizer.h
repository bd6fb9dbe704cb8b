/*
 * tokenizer.h - CLIP's byte-level BPE tokenizer, read from a HuggingFace
 * tokenizer.json (model.vocab, model.merges as "a b" strings or ["a","b"]
 * pairs, added_tokens for the special tokens).
 *
 * Encoding follows openai/CLIP's SimpleTokenizer: whitespace clean-up,
 * lower-casing, the pre-tokenisation regex
 *     <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
 * (implemented by hand), the byte-to-unicode mapping, "</w>" on the last
 * symbol of each word, BPE merges by rank, then <start> ... <end> with at
 * most `max_len` ids, the end token always kept.  Library code: never logs.
 */
#ifndef HDM_CLIPTEXT_TOKENIZER_H
#define HDM_CLIPTEXT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* CLIP's context length: every text becomes at most this many tokens. */
#define CLIP_CONTEXT_LEN 77
/* Special token ids of the real CLIP vocabulary, used when tokenizer.json
 * names neither in added_tokens nor in its vocab. */
#define CLIP_DEFAULT_SOT_ID 49406
#define CLIP_DEFAULT_EOT_ID 49407

typedef struct clip_tokenizer clip_tokenizer;

/*
 * Reads a tokenizer.json file.  Returns 0 and sets *out, or a negative code
 * with err naming the file and what is wrong (missing model.vocab, a merge
 * whose parts or result are not in the vocab, a byte symbol missing, ...).
 */
int clip_tokenizer_load(const char *path, clip_tokenizer **out, hdm_err *err);
/* Same from a JSON text in memory; `name` is used in messages. */
int clip_tokenizer_load_string(const char *json, size_t len, const char *name,
                               clip_tokenizer **out, hdm_err *err);
/* Frees the tokenizer.  Accepts NULL. */
void clip_tokenizer_free(clip_tokenizer *tok);

/* The start / end-of-text ids. */
int32_t clip_tokenizer_sot(const clip_tokenizer *tok);
int32_t clip_tokenizer_eot(const clip_tokenizer *tok);
/* One more than the largest id the tokenizer can produce (rows an
 * embedding table needs). */
int32_t clip_tokenizer_vocab_size(const clip_tokenizer *tok);

/*
 * Encodes text[0..len) into ids[0..max_len): the start token, the BPE ids
 * of the text, the end token.  When the text is too long the content is cut
 * so that the end token is still the last id.  max_len must be >= 2.
 * Returns the number of ids written (>= 2), so the end token sits at
 * ids[ret - 1], or a negative code.  Thread-safe (the tokenizer is read-only).
 */
int clip_tokenize(const clip_tokenizer *tok, const char *text, size_t len, int32_t *ids,
                  int max_len, hdm_err *err);

#endif
