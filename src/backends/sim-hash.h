/*
 * sim-hash.h - the simulator's deterministic numbers: one hash (FNV-1a) to
 * turn names and input bytes into seeds, and one generator (splitmix64) to
 * draw weights and noise from a seed.  Header-only leaf.
 */
#ifndef HDM_BACKENDS_SIM_HASH_H
#define HDM_BACKENDS_SIM_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"

#define SIM_FNV_OFFSET HASH_FNV1A_SEED

/* FNV-1a over bytes, continuing from h (start with SIM_FNV_OFFSET): common/hash. */
static inline uint64_t sim_hash(uint64_t h, const void *data, size_t len)
{
    return hash_fnv1a(h, data, len);
}

/* splitmix64: a good stream from any seed (also used to mix seeds). */
static inline uint64_t sim_rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform float in [-1, 1). */
static inline float sim_rng_float(uint64_t *state)
{
    return (float)((double)(sim_rng_next(state) >> 11) * (2.0 / 9007199254740992.0) - 1.0);
}

#endif
