/*
 * bpe.h - byte-pair merging of one word, as HuggingFace tokenizers' BPE
 * model does it (Word::merge_all).  Internal to hdm_cliptext.
 *
 * The merge table maps a pair of symbol ids to (rank, merged id); when a
 * pair is listed twice the later entry wins, as it does in HF's HashMap.
 * bpe_merge_word() keeps a min-heap of candidate merges ordered by rank,
 * then position, and applies the best one whose pair is still in place —
 * HF's algorithm step for step, in O(n log n) for a word of n symbols, so
 * words of any length are encoded whole and exactly.  HF's heap always
 * yields the leftmost pair of lowest rank among the pairs in place, so short
 * words (the usual case) get the same merges, one at a time, from a plain
 * scan without the heap.
 */
#ifndef HDM_CLIPTEXT_BPE_H
#define HDM_CLIPTEXT_BPE_H

#include <stddef.h>
#include <stdint.h>

typedef struct bpe_merge {
    uint64_t key;   /* left << 32 | right, or BPE_EMPTY */
    int32_t rank;
    int32_t merged;
} bpe_merge;
#define BPE_EMPTY UINT64_MAX

typedef struct bpe_table {
    bpe_merge *slots;
    size_t cap; /* power of two */
} bpe_table;

/* Room for n merges.  0, or -1 when out of memory. */
int bpe_table_init(bpe_table *t, size_t n);
void bpe_table_free(bpe_table *t);
/* Adds or replaces the merge (left, right) -> merged at `rank`. */
void bpe_table_put(bpe_table *t, int32_t left, int32_t right, int32_t rank, int32_t merged);
/* The merge of (left, right), or NULL. */
const bpe_merge *bpe_table_find(const bpe_table *t, int32_t left, int32_t right);

/* One symbol of a word being merged: a doubly linked list over an array. */
typedef struct bpe_symbol {
    int32_t id;
    int32_t prev, next; /* indexes, -1 at the ends */
    int32_t alive;      /* 0 once merged into its left neighbour */
} bpe_symbol;

/* Words up to this many symbols use inline storage and a plain scan. */
#define BPE_INLINE 48

/* Scratch space reused across words of one encoding.  Zero-initialise. */
typedef struct bpe_work {
    bpe_symbol *sym;    /* NULL until the first reserve */
    size_t sym_cap;
    struct bpe_cand *heap;
    size_t heap_cap;
    bpe_symbol inline_sym[BPE_INLINE];
} bpe_work;

/* Makes room for words of n symbols.  0, or -1 when out of memory. */
int bpe_work_reserve(bpe_work *w, size_t n);
void bpe_work_free(bpe_work *w);

/*
 * Merges w->sym[0..n) (ids set by the caller, n <= reserved) in place.
 * Afterwards the word's ids are read from index 0 along `next`.
 * Returns 0, or -1 when out of memory.
 */
int bpe_merge_word(const bpe_table *t, bpe_work *w, size_t n);

#endif
