/*
 * cache.c - LRU cache: a chained hash table for lookup plus a doubly linked
 * list in recency order, both under one mutex (hits copy a few KB, so a
 * reader-writer lock would not buy anything: every hit also moves the entry).
 */
#include "cliptext/cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "hailodm.h"

typedef struct cache_entry {
    struct cache_entry *prev, *next; /* recency list, head = most recent */
    struct cache_entry *chain;       /* hash bucket chain */
    uint64_t hash;
    size_t key_len;
    float *vec;
    uint8_t key[];
} cache_entry;

struct clip_cache {
    pthread_mutex_t lock;
    cache_entry **buckets;
    size_t n_buckets; /* power of two */
    cache_entry *head, *tail;
    size_t count, max_entries;
    int dim;
    uint64_t hits, misses, evictions;
};

clip_cache *clip_cache_new(size_t max_entries, int dim)
{
    if (max_entries == 0 || dim < 1)
        return NULL;
    clip_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->n_buckets = 16;
    while (c->n_buckets < max_entries && c->n_buckets < ((size_t)1 << 24))
        c->n_buckets <<= 1;
    c->buckets = calloc(c->n_buckets, sizeof(*c->buckets));
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    c->max_entries = max_entries;
    c->dim = dim;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

static void entry_free(cache_entry *e)
{
    if (e) {
        free(e->vec);
        free(e);
    }
}

void clip_cache_free(clip_cache *c)
{
    if (!c)
        return;
    for (cache_entry *e = c->head; e;) {
        cache_entry *next = e->next;
        entry_free(e);
        e = next;
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static cache_entry *find(clip_cache *c, uint64_t h, const void *key, size_t key_len)
{
    for (cache_entry *e = c->buckets[h & (c->n_buckets - 1)]; e; e = e->chain)
        if (e->hash == h && e->key_len == key_len && memcmp(e->key, key, key_len) == 0)
            return e;
    return NULL;
}

static void list_unlink(clip_cache *c, cache_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void list_push_front(clip_cache *c, cache_entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static void bucket_remove(clip_cache *c, cache_entry *e)
{
    cache_entry **pp = &c->buckets[e->hash & (c->n_buckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->chain;
    if (*pp)
        *pp = e->chain;
}

bool clip_cache_get(clip_cache *c, const void *key, size_t key_len, float *out)
{
    uint64_t h = hash_fnv1a(HASH_FNV1A_SEED, key, key_len);
    bool found = false;

    pthread_mutex_lock(&c->lock);
    cache_entry *e = find(c, h, key, key_len);
    if (e) {
        memcpy(out, e->vec, (size_t)c->dim * sizeof(float));
        list_unlink(c, e);
        list_push_front(c, e);
        c->hits++;
        found = true;
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

int clip_cache_put(clip_cache *c, const void *key, size_t key_len, const float *vec)
{
    uint64_t h = hash_fnv1a(HASH_FNV1A_SEED, key, key_len);
    size_t vec_bytes = (size_t)c->dim * sizeof(float);
    /* Allocate outside the lock; dropped again if another thread won. */
    cache_entry *fresh = malloc(sizeof(*fresh) + key_len);
    float *fresh_vec = malloc(vec_bytes);
    if (!fresh || !fresh_vec) {
        free(fresh);
        free(fresh_vec);
        return -HDM_E_NOMEM;
    }
    memcpy(fresh->key, key, key_len);
    memcpy(fresh_vec, vec, vec_bytes);
    fresh->key_len = key_len;
    fresh->hash = h;
    fresh->vec = fresh_vec;
    fresh->prev = fresh->next = fresh->chain = NULL;

    cache_entry *victim = NULL;
    pthread_mutex_lock(&c->lock);
    cache_entry *e = find(c, h, key, key_len);
    if (e) {
        memcpy(e->vec, vec, vec_bytes);
        list_unlink(c, e);
        list_push_front(c, e);
    } else {
        if (c->count >= c->max_entries) {
            victim = c->tail;
            list_unlink(c, victim);
            bucket_remove(c, victim);
            c->count--;
            c->evictions++;
        }
        size_t b = h & (c->n_buckets - 1);
        fresh->chain = c->buckets[b];
        c->buckets[b] = fresh;
        list_push_front(c, fresh);
        c->count++;
        fresh = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    entry_free(fresh);
    entry_free(victim);
    return 0;
}

void clip_cache_stats_get(clip_cache *c, clip_cache_stats *out)
{
    pthread_mutex_lock(&c->lock);
    out->entries = c->count;
    out->hits = c->hits;
    out->misses = c->misses;
    out->evictions = c->evictions;
    pthread_mutex_unlock(&c->lock);
}
