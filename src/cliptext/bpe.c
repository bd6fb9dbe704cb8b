/*
 * bpe.c - the merge table and HF's heap-driven merging of one word.
 */
#include "cliptext/bpe.h"

#include <stdint.h>
#include <stdlib.h>

#include "common/hash.h"

typedef struct bpe_cand {
    int32_t rank;
    int32_t pos;
    int32_t merged;
} bpe_cand;

int bpe_table_init(bpe_table *t, size_t n)
{
    size_t cap = 16;
    while (cap < n * 2 + 1)
        cap <<= 1;
    t->slots = malloc(cap * sizeof(*t->slots));
    if (!t->slots)
        return -1;
    for (size_t i = 0; i < cap; i++)
        t->slots[i].key = BPE_EMPTY;
    t->cap = cap;
    return 0;
}

void bpe_table_free(bpe_table *t)
{
    free(t->slots);
    t->slots = NULL;
    t->cap = 0;
}

static uint64_t pair_key(int32_t left, int32_t right)
{
    return (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
}

void bpe_table_put(bpe_table *t, int32_t left, int32_t right, int32_t rank, int32_t merged)
{
    uint64_t key = pair_key(left, right);
    size_t i = hash_mix64(key) & (t->cap - 1);
    while (t->slots[i].key != BPE_EMPTY && t->slots[i].key != key)
        i = (i + 1) & (t->cap - 1);
    t->slots[i].key = key;
    t->slots[i].rank = rank;
    t->slots[i].merged = merged;
}

const bpe_merge *bpe_table_find(const bpe_table *t, int32_t left, int32_t right)
{
    uint64_t key = pair_key(left, right);
    size_t i = hash_mix64(key) & (t->cap - 1);
    for (;;) {
        const bpe_merge *s = &t->slots[i];
        if (s->key == key)
            return s;
        if (s->key == BPE_EMPTY)
            return NULL;
        i = (i + 1) & (t->cap - 1);
    }
}

int bpe_work_reserve(bpe_work *w, size_t n)
{
    if (!w->sym) {
        w->sym = w->inline_sym;
        w->sym_cap = BPE_INLINE;
    }
    if (n <= w->sym_cap)
        return 0;
    size_t cap = w->sym_cap * 2;
    while (cap < n)
        cap *= 2;
    bpe_symbol *s = malloc(cap * sizeof(*s));
    if (!s)
        return -1;
    if (w->sym != w->inline_sym)
        free(w->sym);
    w->sym = s;
    w->sym_cap = cap;
    return 0;
}

void bpe_work_free(bpe_work *w)
{
    if (w->sym != w->inline_sym)
        free(w->sym);
    free(w->heap);
    w->sym = NULL;
    w->sym_cap = 0;
    w->heap = NULL;
    w->heap_cap = 0;
}

/* Heap order: lower rank first, then lower position (HF's Merge::cmp). */
static int cand_less(const bpe_cand *a, const bpe_cand *b)
{
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}

static int heap_push(bpe_work *w, size_t *len, bpe_cand c)
{
    if (*len == w->heap_cap) {
        size_t cap = w->heap_cap ? w->heap_cap * 2 : 64;
        bpe_cand *h = realloc(w->heap, cap * sizeof(*h));
        if (!h)
            return -1;
        w->heap = h;
        w->heap_cap = cap;
    }
    size_t i = (*len)++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!cand_less(&c, &w->heap[parent]))
            break;
        w->heap[i] = w->heap[parent];
        i = parent;
    }
    w->heap[i] = c;
    return 0;
}

static bpe_cand heap_pop(bpe_work *w, size_t *len)
{
    bpe_cand top = w->heap[0];
    bpe_cand last = w->heap[--*len];
    size_t i = 0, n = *len;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && cand_less(&w->heap[child + 1], &w->heap[child]))
            child++;
        if (!cand_less(&w->heap[child], &last))
            break;
        w->heap[i] = w->heap[child];
        i = child;
    }
    if (n > 0)
        w->heap[i] = last;
    return top;
}

/* Queues the merge of the pair starting at pos, if the table has one. */
static int consider(const bpe_table *t, bpe_work *w, size_t *len, int32_t pos)
{
    int32_t next = w->sym[pos].next;
    if (next < 0)
        return 0;
    const bpe_merge *m = bpe_table_find(t, w->sym[pos].id, w->sym[next].id);
    if (!m)
        return 0;
    return heap_push(w, len, (bpe_cand){m->rank, pos, m->merged});
}

/* Short words: merge the leftmost pair of lowest rank until none is left,
 * which is what the heap below yields, one merge at a time. */
static void merge_by_scan(const bpe_table *t, bpe_work *w, size_t n)
{
    int32_t ids[BPE_INLINE], rank[BPE_INLINE], merged[BPE_INLINE];
    for (size_t i = 0; i < n; i++)
        ids[i] = w->sym[i].id;
    /* rank[i]: the pair (ids[i], ids[i + 1]), INT32_MAX when none */
    for (size_t i = 0; i + 1 < n; i++) {
        const bpe_merge *m = bpe_table_find(t, ids[i], ids[i + 1]);
        rank[i] = m ? m->rank : INT32_MAX;
        merged[i] = m ? m->merged : 0;
    }
    while (n > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (rank[i] < rank[best])
                best = i;
        if (rank[best] == INT32_MAX)
            break;
        ids[best] = merged[best];
        n--;
        for (size_t i = best + 1; i < n; i++) {
            ids[i] = ids[i + 1];
            rank[i] = rank[i + 1];
            merged[i] = merged[i + 1];
        }
        for (size_t i = best > 0 ? best - 1 : 0; i <= best && i + 1 < n; i++) {
            const bpe_merge *m = bpe_table_find(t, ids[i], ids[i + 1]);
            rank[i] = m ? m->rank : INT32_MAX;
            merged[i] = m ? m->merged : 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        w->sym[i].id = ids[i];
        w->sym[i].prev = (int32_t)i - 1;
        w->sym[i].next = i + 1 < n ? (int32_t)i + 1 : -1;
        w->sym[i].alive = 1;
    }
}

int bpe_merge_word(const bpe_table *t, bpe_work *w, size_t n)
{
    size_t len = 0;
    if (n <= BPE_INLINE) {
        merge_by_scan(t, w, n);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        w->sym[i].prev = (int32_t)i - 1;
        w->sym[i].next = i + 1 < n ? (int32_t)i + 1 : -1;
        w->sym[i].alive = 1;
    }
    for (size_t i = 0; i + 1 < n; i++)
        if (consider(t, w, &len, (int32_t)i) < 0)
            return -1;
    while (len > 0) {
        bpe_cand top = heap_pop(w, &len);
        bpe_symbol *cur = &w->sym[top.pos];
        if (!cur->alive || cur->next < 0)
            continue;
        /* Skip entries made stale by an earlier merge: the pair at this
         * position must still merge into the same symbol. */
        const bpe_merge *m = bpe_table_find(t, cur->id, w->sym[cur->next].id);
        if (!m || m->merged != top.merged)
            continue;
        bpe_symbol *right = &w->sym[cur->next];
        cur->id = top.merged;
        right->alive = 0;
        cur->next = right->next;
        if (cur->next >= 0)
            w->sym[cur->next].prev = top.pos;
        if (cur->prev >= 0 && consider(t, w, &len, cur->prev) < 0)
            return -1;
        if (consider(t, w, &len, top.pos) < 0)
            return -1;
    }
    return 0;
}
