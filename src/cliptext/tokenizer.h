/*
 * tokenizer.h - CLIP's tokenizer, giving exactly the ids HuggingFace
 * `tokenizers` gives for a CLIP tokenizer.json (what the original service
 * runs through hailo-apps' clip_text_utils).
 *
 * Loading reads model.vocab, model.merges ("a b" strings or ["a","b"]
 * pairs), model.end_of_word_suffix, added_tokens, and the truncation and
 * padding settings, and checks that the normalizer and pre_tokenizer are
 * CLIP's (anything else would give other ids, so it is refused):
 *   normalizer    NFC, Replace(\s+ -> " "), Lowercase
 *   pre_tokenizer Split(CLIP's regex, Removed, invert) then ByteLevel
 *                 without a prefix space; the regex may or may not start
 *                 with the two special tokens (both forms exist).
 * Encoding then follows HF: added tokens are cut out of the raw text
 * ("normalized": false) or of the normalized text ("normalized": true),
 * the rest is normalized (unicode.h), split by the regex, mapped to
 * byte-level symbols with the end-of-word suffix on the last one and
 * merged by BPE (bpe.h); the post-processor puts the start and end tokens
 * around it.  Library code: never logs; a loaded tokenizer is read-only and
 * may be shared between threads.
 */
#ifndef HDM_CLIPTEXT_TOKENIZER_H
#define HDM_CLIPTEXT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* CLIP's context length: the text encoder takes this many ids. */
#define CLIP_CONTEXT_LEN 77
/* The id hailo-apps pads with. */
#define CLIP_PAD_ID 0
/*
 * Limits that bound the work of one text (HF has none, and took seconds on
 * a megabyte-long word): longer texts, and words (runs the regex does not
 * cut: letters, or symbols) longer than CLIP_MAX_WORD_BYTES, are refused
 * with -HDM_E_BAD_REQUEST rather than merged for seconds.  A word of 64 KiB
 * takes about 0.1 s; a prompt is 77 tokens.
 */
#define CLIP_MAX_TEXT_BYTES (1024 * 1024)
#define CLIP_MAX_WORD_BYTES (64 * 1024)

typedef struct clip_tokenizer clip_tokenizer;

/*
 * Reads a tokenizer.json file.  Returns 0 and sets *out, or a negative code
 * with err naming the file and what is wrong (missing model.vocab, a merge
 * whose parts or result are not in the vocab, a byte symbol missing, a
 * normalizer that is not CLIP's, ...).
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
 * HF's Tokenizer.encode(text).ids for text[0..len): the start token, the
 * ids of the text, the end token, with the truncation and padding the
 * tokenizer.json asks for (none in CLIP's).  *ids is malloc'd (the caller
 * frees it) and *n is its length.  Text that is not valid UTF-8 is
 * -HDM_E_BAD_REQUEST naming the byte offset (HF takes Unicode strings
 * only), and so is text over the limits above.  The work is
 * O(len log len) whatever the text.
 */
int clip_tokenize_all(const clip_tokenizer *tok, const char *text, size_t len, int32_t **ids,
                      size_t *n, hdm_err *err);

/*
 * hailo-apps' tokenize_text() and the end-token search of its
 * preprocess_for_text_encoder(): ids[0..max_len) are the first max_len ids
 * of clip_tokenize_all(), padded with CLIP_PAD_ID (so a long text loses
 * its end token, as there), and *eot_pos is the index of the first end
 * token in ids[], or max_len - 1 when there is none.  max_len >= 1.
 * Encoding stops once max_len ids are known.  Returns 0 or a negative
 * code (invalid UTF-8 as above).
 */
int clip_tokenize(const clip_tokenizer *tok, const char *text, size_t len, int32_t *ids,
                  int max_len, int *eot_pos, hdm_err *err);

#endif
