/*
 * hash.h - the project's hash functions: FNV-1a for byte strings (the CLIP
 * tokenizer's and cache's tables, the simulator's deterministic numbers)
 * and a 64-bit mixer for integer keys.  Neither is keyed or cryptographic.
 */
#ifndef HDM_COMMON_HASH_H
#define HDM_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Where an FNV-1a hash starts (its offset basis). */
#define HASH_FNV1A_SEED 0xcbf29ce484222325ull

/* 64-bit FNV-1a over data[0..len), continuing from h (start with HASH_FNV1A_SEED). */
static inline uint64_t hash_fnv1a(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* Mixes the bits of an integer key (MurmurHash3's 64-bit finaliser). */
static inline uint64_t hash_mix64(uint64_t key)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    key *= 0xc4ceb9fe1a85ec53ull;
    return key ^ (key >> 33);
}

#endif
