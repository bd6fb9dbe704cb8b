/*
 * tok_internal.h - the loaded tokenizer, shared by tokenizer.c (loading)
 * and encode.c (encoding).  Internal to hdm_cliptext.
 */
#ifndef HDM_CLIPTEXT_TOK_INTERNAL_H
#define HDM_CLIPTEXT_TOK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cliptext/bpe.h"
#include "cliptext/tokenizer.h"

/* At most this many added_tokens (CLIP has 2); each is matched by a scan. */
#define CLIP_MAX_ADDED 64

/* Truncation and padding lengths above this are refused (CLIP uses 77). */
#define CLIP_MAX_SETTING 65536

/* One entry of added_tokens: cut out of the text whole, never merged. */
typedef struct clip_added {
    uint8_t *text;   /* its content, UTF-8 */
    size_t len;
    uint32_t *cps;   /* the same as code points */
    size_t n_cps;
    int32_t id;
    bool normalized; /* matched in the normalized text, else in the raw text */
} clip_added;

struct clip_tokenizer {
    int32_t byte_id[256];     /* id of the byte's symbol */
    int32_t byte_eow_id[256]; /* id of the byte's symbol + end-of-word suffix */
    bpe_table merges;
    int32_t sot, eot;
    int32_t vocab_size;
    clip_added added[CLIP_MAX_ADDED];
    size_t n_added;
    bool any_raw_added, any_norm_added;
    bool regex_specials;      /* the Split regex starts with the two special tokens */
    size_t trunc_max;         /* "truncation".max_length, 0 when none */
    bool pad;                 /* "padding" set */
    size_t pad_fixed;         /* Fixed length, 0 for BatchLongest */
    size_t pad_multiple;      /* pad_to_multiple_of, 0 when none */
    int32_t pad_id;
};

#endif
