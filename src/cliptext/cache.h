/*
 * cache.h - a thread-safe LRU cache of text embeddings.
 *
 * Keys are byte strings (hailo-clip uses the token ids, so texts that
 * tokenize the same share an entry); values are float vectors of the
 * cache's dimension.  At most max_entries are kept; inserting beyond that
 * drops the least recently used.  Library code: never logs.
 */
#ifndef HDM_CLIPTEXT_CACHE_H
#define HDM_CLIPTEXT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct clip_cache clip_cache;

typedef struct clip_cache_stats {
    size_t entries;
    uint64_t hits, misses, evictions;
} clip_cache_stats;

/* Creates a cache of up to max_entries (>= 1) vectors of dim (>= 1) floats.
 * Returns NULL when out of memory or for a zero size. */
clip_cache *clip_cache_new(size_t max_entries, int dim);
/* Frees the cache and its entries.  Accepts NULL. */
void clip_cache_free(clip_cache *c);

/* Copies the vector stored under key into out[dim] and marks it most
 * recently used; returns false (out untouched) when absent. */
bool clip_cache_get(clip_cache *c, const void *key, size_t key_len, float *out);
/* Stores a copy of vec[dim] under key (replacing an existing value).
 * Returns 0 or -HDM_E_NOMEM. */
int clip_cache_put(clip_cache *c, const void *key, size_t key_len, const float *vec);
void clip_cache_stats_get(clip_cache *c, clip_cache_stats *out);

#endif
